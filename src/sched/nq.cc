// Never queue, as IPVS ip_vs_nq.c: the first idle server (no active connection) in list order;
// when none is idle, shortest expected delay, the least (active + 1) / weight with ties to the
// first in list order. IPVS skips overloaded servers and weight 0.
//
// Both rules are one order: an idle server's load is 0 / weight (ties among idle ones then go to
// the list order), any other's is (active + 1) / weight > 0.
#include "sched/factories.h"
#include "sched/least_sched.h"

namespace lvs::sched {

namespace {

struct Nq {
  static constexpr std::string_view kName = "nq";
  static Load load(const Dest& d) {
    if (d.weight <= 0) return Load::none(0);
    if (d.overloaded()) return Load::none(uint32_t(d.weight));
    if (d.active_conns == 0) return {0, uint32_t(d.weight)};
    return {uint64_t(d.active_conns) + 1, uint32_t(d.weight)};
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_nq(const SchedParams&) { return make_least_scheduler<Nq>(); }

}  // namespace lvs::sched
