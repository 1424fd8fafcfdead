// Factories of the schedulers that choose from weights and connection counts (registry.cc).
#pragma once
#include <memory>

#include "sched/registry.h"

namespace lvs::sched {
std::unique_ptr<Scheduler> make_rr(const SchedParams&);
std::unique_ptr<Scheduler> make_wrr(const SchedParams&);
std::unique_ptr<Scheduler> make_lc(const SchedParams&);
std::unique_ptr<Scheduler> make_wlc(const SchedParams&);
std::unique_ptr<Scheduler> make_sed(const SchedParams&);
std::unique_ptr<Scheduler> make_nq(const SchedParams&);
std::unique_ptr<Scheduler> make_fo(const SchedParams&);
std::unique_ptr<Scheduler> make_ovf(const SchedParams&);
}  // namespace lvs::sched
