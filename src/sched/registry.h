// Schedulers by name, as ipvsadm -s and keepalived lb_algo spell them. A plain table in
// registry.cc: no self-registration, so nothing can be dropped by the linker.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "sched/scheduler.h"

namespace lvs::sched {

struct SchedParams {
  uint32_t flags = 0;  // scheduler flags (sh-fallback, sh-port, ...), per algorithm
};

struct SchedInfo {
  std::string_view name;
  std::string_view description;
  std::unique_ptr<Scheduler> (*make)(const SchedParams&);
};

std::span<const SchedInfo> all_schedulers();
const SchedInfo* find_scheduler(std::string_view name);
// nullptr for an unknown name.
std::unique_ptr<Scheduler> make_scheduler(std::string_view name, const SchedParams& params = {});
// "rr, wrr, wlc": for error messages that list what is known.
std::string scheduler_names();

}  // namespace lvs::sched
