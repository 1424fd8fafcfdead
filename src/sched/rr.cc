// Round robin, as IPVS ip_vs_rr.c: a cursor walks the destination list, skipping servers that are
// overloaded or have weight 0. The list is circular with a head sentinel; cursor -1 is the head.
#include "sched/factories.h"

namespace lvs::sched {

namespace {

class RoundRobin final : public Scheduler {
 public:
  std::string_view name() const override { return "rr"; }

  void init_service(DestList) override { pos_ = -1; }

  // New servers enter at the head of the list: the cursor keeps pointing at the same server.
  void add_dest(DestList, Dest&, size_t index) override {
    if (pos_ >= static_cast<ptrdiff_t>(index)) ++pos_;
  }

  // If the cursor's server leaves, the cursor steps back to its predecessor (maybe the head),
  // as ip_vs_rr_del_dest does.
  void del_dest(DestList, Dest&, size_t index) override {
    if (pos_ >= static_cast<ptrdiff_t>(index)) --pos_;
  }

  Dest* schedule(DestList dests, const SchedPacket&) override {
    const auto n = static_cast<ptrdiff_t>(dests.size());
    const ptrdiff_t last = pos_;
    ptrdiff_t from = pos_;
    // Two passes at most: from after the cursor to the end, then from the head up to and
    // including the cursor. A cursor on the head needs only the first.
    for (int pass = 0; pass < 2; ++pass) {
      for (ptrdiff_t i = from + 1; i < n; ++i) {
        Dest* d = dests[size_t(i)];
        if (!d->overloaded() && d->weight > 0) {
          pos_ = i;
          return d;
        }
        if (i == last) return nullptr;
      }
      if (last == -1) break;
      from = -1;
    }
    return nullptr;
  }

 private:
  ptrdiff_t pos_ = -1;
};

}  // namespace

std::unique_ptr<Scheduler> make_rr(const SchedParams&) { return std::make_unique<RoundRobin>(); }

}  // namespace lvs::sched
