// Weighted least-connection, as IPVS ip_vs_wlc.c: the server with the least overhead / weight,
// overhead = active * 256 + inactive, compared as h1 * w2 > h2 * w1 (no division). IPVS skips
// overloaded servers; weight 0 (quiesced) never wins, since 0 * h > h2 * w1 is never true. Ties go
// to the first in list order.
#include "sched/factories.h"
#include "sched/least_sched.h"

namespace lvs::sched {

namespace {

struct Wlc {
  static constexpr std::string_view kName = "wlc";
  static Load load(const Dest& d) {
    if (d.weight <= 0) return Load::none(0);
    if (d.overloaded()) return Load::none(uint32_t(d.weight));
    return {uint64_t(conn_overhead(d)), uint32_t(d.weight)};
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_wlc(const SchedParams&) { return make_least_scheduler<Wlc>(); }

}  // namespace lvs::sched
