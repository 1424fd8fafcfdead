// Weighted failover, as IPVS ip_vs_fo.c: the server of highest weight that is not overloaded;
// weight 0 never wins (IPVS starts from hw = 0 and takes weight > hw). Ties go to the first in
// list order.
//
// Highest weight is least 1 / weight, so fo shares the least-load tree: a pick is O(1) and only
// weight or overload changes move a server (connection counts leave its key unchanged, so
// on_conn_counts stops at the leaf).
#include "sched/factories.h"
#include "sched/least_sched.h"

namespace lvs::sched {

namespace {

struct Fo {
  static constexpr std::string_view kName = "fo";
  static Load load(const Dest& d) {
    if (d.weight <= 0) return Load::none(0);
    if (d.overloaded()) return Load::none(uint32_t(d.weight));
    return {1, uint32_t(d.weight)};
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_fo(const SchedParams&) { return make_least_scheduler<Fo>(); }

}  // namespace lvs::sched
