// Maglev hashing, as IPVS ip_vs_mh.c (Eisenbud et al., NSDI 2016, section 3.4).
//
// Each server gets a permutation of the M table slots (M prime) from two keyed hashes of its
// address and port: offset = h1 % M, skip = h2 % (M - 1) + 1, slots offset, offset + skip, ...
// (mod M). Rounds walk the destination list in order and each server claims its next free
// preferred slot `turns` times, until all M slots are taken. turns is the server's last non-zero
// weight divided by the gcd of those weights, shifted right so the largest fits in
// CONFIG_IP_VS_MH_TAB_INDEX / 2 bits (a result of 0 becomes 1); weight 0 servers never joined
// take no slot. A flow goes to slot hsiphash(sport + addr_fold(saddr), hash1) % M, with sport 0
// unless mh-port is set (TCP, UDP and SCTP only).
//
// The table is rebuilt from scratch on add, delete and update (and when bound to a service); the
// permutations depend only on each server's address and port, so a change moves few flows.
// Connection counts never touch it. A server whose weight dropped to 0 keeps its slots (IPVS's
// last_weight), so its flows come back when the weight does; meanwhile it, like an overloaded
// server, is unavailable: no server, or with mh-fallback the next candidates
// hsiphash(roffset + sport + addr_fold) % M for roffset = ihash, ihash + 1, ... (mod M).
#include "sched/mh.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <numeric>
#include <unordered_map>
#include <vector>

#include "sched/factories_hash.h"
#include "sched/flags.h"
#include "sched/ipvs_hash.h"

namespace lvs::sched {

namespace {

bool unavailable(const Dest& d) { return d.weight <= 0 || d.overloaded(); }

// Position of the most significant set bit, 1-based; 0 for 0 (the kernel's fls()).
int fls(uint32_t x) { return x == 0 ? 0 : 32 - std::countl_zero(x); }

class MaglevHashing final : public MhScheduler {
 public:
  MaglevHashing(uint32_t flags, const MhConfig& config)
      : flags_(flags),
        size_(kMhPrimes[config.tab_index - kMhMinTabIndex]),
        tab_bits_(int(config.tab_index / 2)),
        hash1_(config.hash1),
        hash2_(config.hash2),
        barrett_(~uint64_t(0) / size_),
        table_(size_, nullptr) {}

  std::string_view name() const override { return "mh"; }

  void init_service(DestList dests) override {
    last_weight_.clear();
    for (const Dest* d : dests) last_weight_[d] = d->weight;
    reassign(dests);
  }
  void done_service() override {
    std::fill(table_.begin(), table_.end(), nullptr);
    table_dests_.clear();
    last_weight_.clear();
  }
  void add_dest(DestList dests, Dest& dest, size_t) override {
    last_weight_[&dest] = dest.weight;
    reassign(dests);
  }
  void del_dest(DestList dests, Dest& dest, size_t) override {
    last_weight_.erase(&dest);
    reassign(dests);
  }
  // "keep the last_weight with latest non-0 weight" (__ip_vs_update_dest).
  void upd_dest(DestList dests, Dest& dest) override {
    if (dest.weight != 0) last_weight_[&dest] = dest.weight;
    reassign(dests);
  }

  Dest* schedule(DestList, const SchedPacket& pkt) override {
    const uint16_t port = (flags_ & kMhPort) && has_ports(pkt.proto) ? pkt.sport : 0;
    const uint32_t fold = addr_fold(addr_or_zero(pkt.saddr));
    const uint32_t ihash = hashkey(fold, port, 0);
    Dest* d = table_[ihash];
    if (d == nullptr) return nullptr;
    if (!unavailable(*d)) return d;
    if (!(flags_ & kMhFallback)) return nullptr;
    // ip_vs_mh_get_fallback visits up to M entries; when no server in the table can take the flow
    // the answer is known without hashing M times.
    if (std::all_of(table_dests_.begin(), table_dests_.end(),
                    [](const Dest* t) { return unavailable(*t); })) {
      return nullptr;
    }
    for (uint32_t offset = 0; offset < size_; ++offset) {
      const uint32_t roffset = uint32_t((uint64_t(offset) + ihash) % size_);
      d = table_[hashkey(fold, port, roffset)];
      if (d == nullptr) break;
      if (!unavailable(*d)) return d;
    }
    return nullptr;
  }

  std::span<Dest* const> lookup_table() const override { return table_; }
  uint32_t lookup_index(const net::IpAddr& saddr, uint16_t port) const override {
    return hashkey(addr_fold(saddr), port, 0);
  }

 private:
  struct Setup {
    uint32_t offset;
    uint32_t skip;
    uint32_t perm;      // next preferred slot
    int32_t turns;      // slots per round
    uint32_t inv_skip;  // skip^-1 mod M, computed when first needed
  };

  // ip_vs_mh_hashkey: v = offset + ntohs(port) + ntohl(addr_fold), summed in 32 bits.
  uint32_t hashkey(uint32_t fold, uint16_t port, uint32_t offset) const {
    return hsiphash_u32(offset + port + fold, hash1_) % size_;
  }

  int32_t last_weight(const Dest* d) const {
    auto it = last_weight_.find(d);
    return it != last_weight_.end() ? it->second : d->weight;
  }

  // ip_vs_mh_gcd_weight, ip_vs_mh_shift_weight, ip_vs_mh_permutate, ip_vs_mh_populate.
  void reassign(DestList dests) {
    int32_t g = 0;
    int32_t max_weight = 0;
    for (const Dest* d : dests) {
      const int32_t w = last_weight(d);
      if (w > 0) g = g > 0 ? std::gcd(w, g) : w;
      max_weight = std::max(max_weight, w);
    }
    table_dests_.clear();
    if (g < 1) {
      // No server with a weight: every flow finds no server.
      std::fill(table_.begin(), table_.end(), nullptr);
      return;
    }
    const int rshift = std::max(0, fls(uint32_t(max_weight / g)) - tab_bits_);

    setup_.resize(dests.size());
    for (size_t i = 0; i < dests.size(); ++i) {
      const Dest* d = dests[i];
      const uint32_t fold = addr_fold(d->addr);
      Setup& s = setup_[i];
      s.offset = hsiphash_u32(d->port + fold, hash1_) % size_;
      s.skip = hsiphash_u32(d->port + fold, hash2_) % (size_ - 1) + 1;
      s.perm = s.offset;
      s.inv_skip = 0;
      const int32_t lw = last_weight(d);
      const int32_t turns = (lw / g) >> rshift;
      s.turns = turns != 0 ? turns : (lw != 0);
      if (s.turns >= 1) table_dests_.push_back(dests[i]);
    }

    // More servers than slots (IPVS refuses with -EINVAL and keeps a table that may name a
    // removed server): fill anyway, the servers late in the rounds get no slot.
    populate(dests);
  }

  // ip_vs_mh_populate. A bitmap of claimed slots (8 KB at 65521) stays in L1 while probing.
  // Walking a permutation to its next free slot takes M / free probes on average, so the last
  // few slots would cost most of the fill; once few are left, the walk is replaced by a scan of
  // the free slots that finds the same slot: slot c comes (c - perm) * skip^-1 (mod M) steps
  // after perm in the server's permutation (M is prime), and the nearest free one is next.
  void populate(DestList dests) {
    taken_.assign((size_ + 63) / 64, 0);
    free_.clear();
    const uint32_t tail = std::min<uint32_t>(kTailSlots, size_ / 4);
    uint32_t n = 0;
    for (;;) {
      for (size_t i = 0; i < dests.size(); ++i) {
        Setup& s = setup_[i];
        for (int32_t t = 0; t < s.turns; ++t) {
          const uint32_t c = free_.empty() ? walk(s) : scan(s);
          s.perm = c;
          taken_[c >> 6] |= uint64_t(1) << (c & 63);
          table_[c] = dests[i];
          if (++n == size_) return;
          if (size_ - n == tail) collect_free();
        }
      }
    }
  }
  bool taken(uint32_t c) const { return (taken_[c >> 6] >> (c & 63)) & 1; }
  uint32_t walk(const Setup& s) const {
    uint32_t c = s.perm;
    while (taken(c)) {
      c += s.skip;
      c = c >= size_ ? c - size_ : c;
    }
    return c;
  }
  void collect_free() {
    for (uint32_t c = 0; c < size_; ++c) {
      if (!taken(c)) free_.push_back(c);
    }
  }
  // The free slot fewest steps after s.perm (s.perm itself if free), taken out of free_.
  uint32_t scan(Setup& s) {
    if (s.inv_skip == 0) s.inv_skip = pow_mod(s.skip, size_ - 2);  // Fermat: skip^(M-2)
    size_t best = 0;
    uint64_t best_steps = UINT64_MAX;
    for (size_t k = 0; k < free_.size(); ++k) {
      const uint32_t d = free_[k] >= s.perm ? free_[k] - s.perm : free_[k] + size_ - s.perm;
      const uint64_t steps = mod(uint64_t(d) * s.inv_skip);
      if (steps < best_steps) {
        best_steps = steps;
        best = k;
      }
    }
    const uint32_t c = free_[best];
    free_[best] = free_.back();
    free_.pop_back();
    return c;
  }
  // x mod M for x < 2^34 by Barrett reduction (a division per free slot would cost more than
  // the walk it replaces).
  uint64_t mod(uint64_t x) const {
    const uint64_t q = uint64_t((unsigned __int128)x * barrett_ >> 64);
    const uint64_t r = x - q * size_;
    return r >= size_ ? r - size_ : r;
  }
  uint32_t pow_mod(uint64_t b, uint32_t e) const {
    uint64_t r = 1;
    for (; e != 0; e >>= 1) {
      if (e & 1) r = r * b % size_;
      b = b * b % size_;
    }
    return uint32_t(r);
  }

  // Free slots left when the scan takes over; at 65521 slots 128 beat 64 and 256.
  static constexpr uint32_t kTailSlots = 128;

  uint32_t flags_;
  uint32_t size_;  // M, prime
  int tab_bits_;   // IP_VS_MH_TAB_BITS
  SipKey hash1_;
  SipKey hash2_;
  uint64_t barrett_;  // floor((2^64 - 1) / M)
  std::vector<Dest*> table_;
  std::vector<Dest*> table_dests_;  // servers holding slots
  // IPVS keeps last_weight in the dest; here it is per scheduler, keyed by server.
  std::unordered_map<const Dest*, int32_t> last_weight_;
  // Rebuild scratch.
  std::vector<Setup> setup_;
  std::vector<uint64_t> taken_;  // slots claimed
  std::vector<uint32_t> free_;   // slots still free, once few are left
};

}  // namespace

std::unique_ptr<MhScheduler> make_mh_with(const SchedParams& params, const MhConfig& config) {
  if (config.tab_index < kMhMinTabIndex || config.tab_index > kMhMaxTabIndex) return nullptr;
  return std::make_unique<MaglevHashing>(params.flags, config);
}

std::unique_ptr<Scheduler> make_mh(const SchedParams& params) {
  return make_mh_with(params, MhConfig{});
}

}  // namespace lvs::sched
