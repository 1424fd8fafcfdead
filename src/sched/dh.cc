// Destination hashing, as IPVS ip_vs_dh.c: 256 buckets filled round robin from the destination
// list (bucket i holds server i mod n, in list order, weights ignored); the packet's destination
// address picks a bucket with hash_32(addr_fold(daddr), 8). There is no second choice: a bucket
// whose server has weight 0 or is overloaded yields no server (IPVS leaves such packets to the
// cache_bypass path). The table is refilled when a server joins or leaves; dh has no upd_dest,
// so weight changes leave it as it is.
#include <array>

#include "sched/factories_hash.h"
#include "sched/ipvs_hash.h"

namespace lvs::sched {

namespace {

constexpr unsigned kDhTabBits = 8;  // CONFIG_IP_VS_DH_TAB_BITS default
constexpr size_t kDhTabSize = size_t(1) << kDhTabBits;

class DestinationHashing final : public Scheduler {
 public:
  std::string_view name() const override { return "dh"; }

  void init_service(DestList dests) override { assign(dests); }
  void done_service() override { buckets_.fill(nullptr); }
  void add_dest(DestList dests, Dest&, size_t) override { assign(dests); }
  void del_dest(DestList dests, Dest&, size_t) override { assign(dests); }

  Dest* schedule(DestList, const SchedPacket& pkt) override {
    Dest* d = buckets_[hash_32(addr_fold(addr_or_zero(pkt.daddr)), kDhTabBits)];
    if (d == nullptr || !(d->flags & kDestAvailable) || d->weight <= 0 || d->overloaded()) {
      return nullptr;
    }
    return d;
  }

 private:
  // ip_vs_dh_reassign.
  void assign(DestList dests) {
    for (size_t i = 0; i < kDhTabSize; ++i) {
      buckets_[i] = dests.empty() ? nullptr : dests[i % dests.size()];
    }
  }

  std::array<Dest*, kDhTabSize> buckets_{};
};

}  // namespace

std::unique_ptr<Scheduler> make_dh(const SchedParams&) {
  return std::make_unique<DestinationHashing>();
}

}  // namespace lvs::sched
