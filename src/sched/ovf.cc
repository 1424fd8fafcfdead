// Overflow, as IPVS ip_vs_ovf.c: the server of highest weight, passing over those whose active
// connections exceed their weight ("overflow to the next node"), overloaded ones and weight 0.
// Ties go to the first in list order. Only active connections count (IPVS warns the scheduler
// may not suit UDP, whose connections are never active).
//
// Highest weight is least 1 / weight; a server leaves the tree while active > weight.
#include "sched/factories.h"
#include "sched/least_sched.h"

namespace lvs::sched {

namespace {

struct Ovf {
  static constexpr std::string_view kName = "ovf";
  static Load load(const Dest& d) {
    if (d.weight <= 0) return Load::none(0);
    if (d.overloaded() || int64_t(d.active_conns) > d.weight) {
      return Load::none(uint32_t(d.weight));
    }
    return {1, uint32_t(d.weight)};
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_ovf(const SchedParams&) { return make_least_scheduler<Ovf>(); }

}  // namespace lvs::sched
