#include "sched/registry.h"

#include <array>

#include "sched/factories.h"

namespace lvs::sched {

namespace {
constexpr std::array kSchedulers = {
    SchedInfo{"rr", "round robin", &make_rr},
    SchedInfo{"wrr", "weighted round robin", &make_wrr},
    SchedInfo{"wlc", "weighted least-connection", &make_wlc},
};
}  // namespace

std::span<const SchedInfo> all_schedulers() { return kSchedulers; }

const SchedInfo* find_scheduler(std::string_view name) {
  for (const auto& s : kSchedulers) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::unique_ptr<Scheduler> make_scheduler(std::string_view name, const SchedParams& params) {
  const SchedInfo* info = find_scheduler(name);
  return info ? info->make(params) : nullptr;
}

std::string scheduler_names() {
  std::string out;
  for (const auto& s : kSchedulers) {
    if (!out.empty()) out += ", ";
    out += s.name;
  }
  return out;
}

}  // namespace lvs::sched
