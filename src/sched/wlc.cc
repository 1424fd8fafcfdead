// Weighted least-connection, as IPVS ip_vs_wlc.c: the server with the least
// overhead/weight, overhead = active * 256 + inactive. h1/w1 > h2/w2 is compared as
// h1*w2 > h2*w1 (no division; every candidate weight is > 0). Ties go to the first in list
// order; weight 0 (quiesced) and overloaded servers are skipped.
// This is IPVS's O(n) scan; the event-driven O(log n) form arrives with the full scheduler set.
#include "sched/factories.h"

namespace lvs::sched {

namespace {

class WeightedLeastConn final : public Scheduler {
 public:
  std::string_view name() const override { return "wlc"; }

  Dest* schedule(DestList dests, const SchedPacket&) override {
    size_t i = 0;
    Dest* least = nullptr;
    for (; i < dests.size(); ++i) {
      Dest* d = dests[i];
      if (!d->overloaded() && d->weight > 0) {
        least = d;
        break;
      }
    }
    if (least == nullptr) return nullptr;
    int64_t loh = conn_overhead(*least);
    for (++i; i < dests.size(); ++i) {
      Dest* d = dests[i];
      if (d->overloaded()) continue;
      const int64_t doh = conn_overhead(*d);
      if (loh * d->weight > doh * least->weight) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_wlc(const SchedParams&) {
  return std::make_unique<WeightedLeastConn>();
}

}  // namespace lvs::sched
