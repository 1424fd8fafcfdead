// Least-connection, as IPVS ip_vs_lc.c: the server with the least overhead, active * 256 +
// inactive, whatever its weight; ties go to the first in list order. IPVS skips overloaded
// servers and weight 0 (quiesced: live connections continue, no new ones).
#include "sched/factories.h"
#include "sched/least_sched.h"

namespace lvs::sched {

namespace {

struct Lc {
  static constexpr std::string_view kName = "lc";
  static Load load(const Dest& d) {
    if (d.weight <= 0) return Load::none(0);
    if (d.overloaded()) return Load::none(1);
    return {uint64_t(conn_overhead(d)), 1};
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_lc(const SchedParams&) { return make_least_scheduler<Lc>(); }

}  // namespace lvs::sched
