// A scheduler that picks the server of least load from a LeastTree. Each algorithm (lc.cc,
// wlc.cc, sed.cc, nq.cc, fo.cc, ovf.cc) supplies a policy:
//
//   struct Policy {
//     static constexpr std::string_view kName = "wlc";
//     // The server's load num/den, or Load::none(den) when IPVS's scan would not choose it now;
//     // den is the server's weight (1 where weights do not scale the load), 0 for weight 0.
//     static Load load(const Dest& d);
//   };
//
// The policy may read only what the engine announces through the hooks: weight, flags and
// list_seq (add_dest/upd_dest), active and inactive counts and the overload flag
// (on_conn_counts). The list itself is never scanned: a pick is the tree's root.
//
// Weights are never negative (IPVS answers -ERANGE, the engine refuses them too), so IPVS's
// "weight == 0" skips (lc, nq, ovf) and "weight > 0" tests (wlc, sed, fo) are the same rule;
// policies write it as weight <= 0.
#pragma once

#include <memory>
#include <string_view>

#include "sched/least_tree.h"
#include "sched/scheduler.h"

namespace lvs::sched {

template <class Policy>
class LeastScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return Policy::kName; }

  void init_service(DestList dests) override {
    tree_.clear();
    for (Dest* d : dests) tree_.add(*d, Policy::load(*d));
  }
  void done_service() override { tree_.clear(); }
  void add_dest(DestList, Dest& dest, size_t) override { tree_.add(dest, Policy::load(dest)); }
  void del_dest(DestList, Dest& dest, size_t) override { tree_.remove(dest); }
  void upd_dest(DestList, Dest& dest) override { tree_.update(dest, Policy::load(dest)); }
  void on_conn_counts(Dest& dest) override { tree_.update(dest, Policy::load(dest)); }

  Dest* schedule(DestList, const SchedPacket&) override { return tree_.least(); }

 private:
  LeastTree tree_;
};

template <class Policy>
std::unique_ptr<Scheduler> make_least_scheduler() {
  return std::make_unique<LeastScheduler<Policy>>();
}

}  // namespace lvs::sched
