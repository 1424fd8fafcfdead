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
  uint32_t flags = 0;               // kSchedFlag1..3 (sched/flags.h): sh-fallback, sh-port, ...
  RandomSource* random = nullptr;   // for randomized schedulers; outlives the scheduler
};

struct SchedInfo {
  std::string_view name;
  std::string_view description;
  std::unique_ptr<Scheduler> (*make)(const SchedParams&);
};

std::span<const SchedInfo> all_schedulers();
// The two halves registry.cc joins: least-connection and weight-based schedulers
// (registry.cc), hash and locality-based ones (registry_hash.cc).
std::span<const SchedInfo> count_schedulers();
std::span<const SchedInfo> hash_schedulers();
const SchedInfo* find_scheduler(std::string_view name);
// nullptr for an unknown name.
std::unique_ptr<Scheduler> make_scheduler(std::string_view name, const SchedParams& params = {});
// "rr, wrr, wlc": for error messages that list what is known.
std::string scheduler_names();

}  // namespace lvs::sched
