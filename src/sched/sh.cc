// Source hashing, as IPVS ip_vs_sh.c. 256 buckets are filled walking the destination list
// cyclically, each server taking `weight` consecutive buckets (one if its weight is 0), so shares
// follow the weights. The bucket of a packet is
//   (offset + hash_32(sport + addr_fold(saddr), 8)) & 255,   offset 0 for the first choice,
// with sport 0 unless sh-port is set (and only for TCP, UDP and SCTP). A server with weight 0 or
// overloaded is unavailable: without sh-fallback that means no server; with it IPVS probes
// offsets 0..255 from roffset = (offset + ihash) % 256, which puts the k-th probe at bucket
// (k + 2 * ihash) & 255 (the hash is added twice), and stops at an empty bucket. The table is
// refilled on every add, delete and update.
#include <array>

#include "sched/factories_hash.h"
#include "sched/flags.h"
#include "sched/ipvs_hash.h"

namespace lvs::sched {

namespace {

constexpr unsigned kShTabBits = 8;  // CONFIG_IP_VS_SH_TAB_BITS default
constexpr uint32_t kShTabSize = uint32_t(1) << kShTabBits;
constexpr uint32_t kShTabMask = kShTabSize - 1;

bool unavailable(const Dest& d) { return d.weight <= 0 || d.overloaded(); }

class SourceHashing final : public Scheduler {
 public:
  explicit SourceHashing(uint32_t flags) : flags_(flags) {}
  std::string_view name() const override { return "sh"; }

  void init_service(DestList dests) override { reassign(dests); }
  void done_service() override { buckets_.fill(nullptr); }
  void add_dest(DestList dests, Dest&, size_t) override { reassign(dests); }
  void del_dest(DestList dests, Dest&, size_t) override { reassign(dests); }
  void upd_dest(DestList dests, Dest&) override { reassign(dests); }

  Dest* schedule(DestList, const SchedPacket& pkt) override {
    const uint16_t port = (flags_ & kShPort) && has_ports(pkt.proto) ? pkt.sport : 0;
    const uint32_t ihash = hashkey(addr_or_zero(pkt.saddr), port, 0);
    Dest* d = buckets_[ihash];
    if (d == nullptr) return nullptr;
    if (!unavailable(*d)) return d;
    if (!(flags_ & kShFallback)) return nullptr;
    // ip_vs_sh_get_fallback.
    for (uint32_t offset = 0; offset < kShTabSize; ++offset) {
      const uint32_t roffset = (offset + ihash) % kShTabSize;
      d = buckets_[hashkey(addr_or_zero(pkt.saddr), port, roffset)];
      if (d == nullptr) break;
      if (!unavailable(*d)) return d;
    }
    return nullptr;
  }

 private:
  // ip_vs_sh_hashkey; the sum wraps in 32 bits as the kernel's unsigned int does.
  static uint32_t hashkey(const net::IpAddr& addr, uint16_t port, uint32_t offset) {
    return (offset + hash_32(uint32_t(port) + addr_fold(addr), kShTabBits)) & kShTabMask;
  }

  // ip_vs_sh_reassign: "Don't move to next dest until filling weight".
  void reassign(DestList dests) {
    if (dests.empty()) {
      buckets_.fill(nullptr);
      return;
    }
    size_t p = 0;
    int32_t count = 0;
    for (Dest*& b : buckets_) {
      b = dests[p];
      if (++count >= dests[p]->weight) {
        p = p + 1 == dests.size() ? 0 : p + 1;
        count = 0;
      }
    }
  }

  uint32_t flags_;
  std::array<Dest*, kShTabSize> buckets_{};
};

}  // namespace

std::unique_ptr<Scheduler> make_sh(const SchedParams& params) {
  return std::make_unique<SourceHashing>(params.flags);
}

}  // namespace lvs::sched
