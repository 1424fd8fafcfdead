// Factories of the hash and locality-based schedulers (registry_hash.cc). mh.h and locality.h
// add variants with settings beyond SchedParams (table size, timers).
#pragma once
#include <memory>

#include "sched/registry.h"

namespace lvs::sched {
std::unique_ptr<Scheduler> make_dh(const SchedParams&);
std::unique_ptr<Scheduler> make_sh(const SchedParams&);
std::unique_ptr<Scheduler> make_mh(const SchedParams&);
std::unique_ptr<Scheduler> make_lblc(const SchedParams&);
std::unique_ptr<Scheduler> make_lblcr(const SchedParams&);
std::unique_ptr<Scheduler> make_twos(const SchedParams&);
}  // namespace lvs::sched
