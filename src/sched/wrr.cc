// Weighted round robin, as IPVS ip_vs_wrr.c. With mw the maximum weight and di the gcd of all
// positive weights, passes run with a current weight cw = mw - (di - 1), then cw - di, ... down
// to 1, and each pass picks the servers whose weight >= cw. Weights 4,3,2 thus give
// A A B A B C A B C per 9 picks. The "- (di - 1)" makes the last pass cw = 1, so a server whose
// weight dropped below di is still reachable.
#include <numeric>

#include "sched/factories.h"

namespace lvs::sched {

namespace {

class WeightedRoundRobin final : public Scheduler {
 public:
  std::string_view name() const override { return "wrr"; }

  void init_service(DestList dests) override {
    cl_ = -1;
    di_ = gcd_weight(dests);
    mw_ = max_weight(dests) - (di_ - 1);
    cw_ = mw_;
  }
  void add_dest(DestList dests, Dest&, size_t) override { changed(dests); }
  void del_dest(DestList dests, Dest&, size_t) override { changed(dests); }
  void upd_dest(DestList dests, Dest&) override { changed(dests); }

  Dest* schedule(DestList dests, const SchedPacket&) override {
    const auto n = static_cast<ptrdiff_t>(dests.size());
    ptrdiff_t cur = cl_;
    if (mw_ == 0) return nullptr;  // no server with a positive weight
    const ptrdiff_t last = cur;
    ptrdiff_t stop = -2;  // none yet
    bool last_pass = false;
    bool restarted = false;
    for (;;) {
      for (ptrdiff_t i = cur + 1; i < n; ++i) {
        Dest* d = dests[size_t(i)];
        if (!d->overloaded() && d->weight >= cw_) {
          cl_ = i;
          return d;
        }
        if (i == stop) {
          cl_ = i;
          return nullptr;  // all overloaded
        }
      }
      cur = -1;  // wrapped to the head
      cw_ -= di_;
      if (cw_ <= 0) {
        cw_ = mw_;
        // Stop if the last pass (cw = 1) already ran over every server.
        if (last_pass || last == -1) {
          cl_ = -1;
          return nullptr;
        }
        restarted = true;
      }
      last_pass = cw_ <= di_;
      // The first traversal with cw <= di covered only the servers after `last`; now do the
      // same for those up to `last`.
      if (last_pass && restarted && last != -1) stop = last;
    }
  }

 private:
  static int32_t gcd_weight(DestList dests) {
    int32_t g = 0;
    for (const Dest* d : dests) {
      if (d->weight > 0) g = g > 0 ? std::gcd(d->weight, g) : d->weight;
    }
    return g ? g : 1;
  }
  static int32_t max_weight(DestList dests) {
    int32_t w = 0;
    for (const Dest* d : dests) w = std::max(w, d->weight);
    return w;
  }
  // ip_vs_wrr_dest_changed: restart from the head, keep cw where the new weights allow.
  void changed(DestList dests) {
    cl_ = -1;
    di_ = gcd_weight(dests);
    mw_ = max_weight(dests) - (di_ - 1);
    if (cw_ > mw_ || cw_ == 0) {
      cw_ = mw_;
    } else if (di_ > 1) {
      cw_ = (cw_ / di_) * di_ + 1;
    }
  }

  ptrdiff_t cl_ = -1;  // current position, -1 = list head
  int32_t cw_ = 0;     // current weight
  int32_t mw_ = 0;     // maximum weight, reduced by di - 1
  int32_t di_ = 1;     // decreasing interval: gcd of the weights
};

}  // namespace

std::unique_ptr<Scheduler> make_wrr(const SchedParams&) {
  return std::make_unique<WeightedRoundRobin>();
}

}  // namespace lvs::sched
