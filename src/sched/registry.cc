#include "sched/registry.h"

#include <array>
#include <vector>

#include "sched/factories.h"

namespace lvs::sched {

namespace {
// Schedulers that choose from weights and connection counts.
constexpr std::array kCountSchedulers = {
    SchedInfo{"rr", "round robin", &make_rr},
    SchedInfo{"wrr", "weighted round robin", &make_wrr},
    SchedInfo{"lc", "least-connection", &make_lc},
    SchedInfo{"wlc", "weighted least-connection", &make_wlc},
    SchedInfo{"sed", "shortest expected delay", &make_sed},
    SchedInfo{"nq", "never queue", &make_nq},
    SchedInfo{"fo", "weighted failover", &make_fo},
    SchedInfo{"ovf", "weighted overflow", &make_ovf},
};
}  // namespace

std::span<const SchedInfo> count_schedulers() { return kCountSchedulers; }

std::span<const SchedInfo> all_schedulers() {
  static const std::vector<SchedInfo> all = [] {
    std::vector<SchedInfo> v(kCountSchedulers.begin(), kCountSchedulers.end());
    for (const SchedInfo& s : hash_schedulers()) v.push_back(s);
    return v;
  }();
  return all;
}

const SchedInfo* find_scheduler(std::string_view name) {
  for (const auto& s : all_schedulers()) {
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
  for (const auto& s : all_schedulers()) {
    if (!out.empty()) out += ", ";
    out += s.name;
  }
  return out;
}

}  // namespace lvs::sched
