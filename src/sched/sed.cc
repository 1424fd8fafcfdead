// Shortest expected delay, as IPVS ip_vs_sed.c: the server with the least (active + 1) / weight,
// the delay a new connection would see there; inactive connections do not count. IPVS skips
// overloaded servers; weight 0 never wins (0 * h > h2 * w1 is never true). Ties go to the first
// in list order.
#include "sched/factories.h"
#include "sched/least_sched.h"

namespace lvs::sched {

namespace {

struct Sed {
  static constexpr std::string_view kName = "sed";
  static Load load(const Dest& d) {
    if (d.weight <= 0) return Load::none(0);
    if (d.overloaded()) return Load::none(uint32_t(d.weight));
    return {uint64_t(d.active_conns) + 1, uint32_t(d.weight)};
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_sed(const SchedParams&) { return make_least_scheduler<Sed>(); }

}  // namespace lvs::sched
