// The ordered set behind the schedulers that pick "the least" server (lc, wlc, sed, nq, fo, ovf),
// in the manner of HAProxy's lb_fwlc: the scheduler repositions a server whenever its counts,
// weight or flags change, and a pick reads the minimum instead of scanning the list as IPVS does.
//
// Shape: a tournament tree over slots, 4 children per node. Each leaf holds the key of one
// server, or "none" for a server that cannot be picked (weight 0, overloaded, ...) and for a free
// slot; each inner node holds the least key among its children. The root is the pick (O(1)); a
// change rewalks one leaf-to-root path (O(log n)) and stops at the first node that comes out
// unchanged, since nothing above it can change either.
//
// Order: loads num/den compare as IPVS compares them, h1/w1 against h2/w2 by cross-multiplying;
// equal loads go to the server nearer the head of IPVS's list (larger Dest::list_seq), which is
// where IPVS's "first strictly smaller" scan leaves ties. Keys of distinct servers all differ and
// every "none" key is the same value, so a node's value does not depend on the order its
// children are looked at, and the root is the scan's answer.
//
// Speed: on a busy service almost every event sends a server to the top (the server that lost a
// connection becomes the least loaded) or away from it (the one just picked), so most walks reach
// the root and their cost is the pick's cost. Three things keep a level cheap:
//   - Scaled keys. While the least common multiple S of the servers' denominators (their
//     weights) stays below 2^22, every load is stored as the integer num * (S / den): the same
//     order, compared without multiplying. A weight that would push S past that switches the
//     tree to cross-multiplied keys in 128 bits (exact, slower) until the weights allow scaling
//     again; either switch rewrites the leaves (O(n)), on weight changes only.
//   - No branches on key order: a comparison is one borrow chain and the winner is taken with
//     conditional moves, as ties are frequent and a mispredicted branch costs more than the
//     comparison.
//   - Four children per node: half the levels of a binary tree. The least of a node's siblings
//     does not depend on the candidate coming up, so it is computed off the dependency chain.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "sched/dest.h"

namespace lvs::sched {

// A server's load as its scheduler defines it.
struct Load {
  static constexpr uint64_t kNoneNum = ~uint64_t{0};
  // Loads stay below 2^41 (the largest is IPVS's overhead, 257 * (2^32 - 1)); kNoneNum: the
  // server cannot be picked.
  uint64_t num = kNoneNum;
  // > 0, and the same for a server as long as its weight does not change (connection counts and
  // the overload flag never change it), so the scale is recomputed on weight changes only; 0 only
  // for a server that cannot be picked until its weight changes (weight 0).
  uint32_t den = 0;

  static constexpr Load none(uint32_t den) { return {kNoneNum, den}; }
};

class LeastTree {
 public:
  LeastTree() { clear(); }

  // Forgets every server.
  void clear();
  // Starts tracking `d` (again) with `load`. Tracking an already tracked server only updates it.
  void add(const Dest& d, Load load);
  // Stops tracking `d`; unknown servers are ignored.
  void remove(const Dest& d);
  // Repositions `d` after its load changed; unknown servers are ignored, so a server deleted from
  // the service may keep reporting its connections.
  void update(const Dest& d, Load load) {
    // The server just picked takes its connection next: it is found at the root, unhashed.
    const Key& root = groups_[kRoot / kArity].keys[kRoot % kArity];
    const uint32_t slot = slots_[root.slot].dest == &d ? root.slot : slot_of_.find(&d);
    if (slot == kNoSlot) return;
    Slot& s = slots_[slot];
    s.num = load.num;
    if (load.den != s.den) {
      change_den(slot, load.den);  // rewrites the leaf, and maybe all leaves
      return;
    }
    set_leaf(slot, d.list_seq);
  }
  // The server with the least key, nullptr when none can be picked.
  Dest* least() const {
    const Key& root = groups_[kRoot / kArity].keys[kRoot % kArity];
    return root.num == Load::kNoneNum ? nullptr : slots_[root.slot].dest;
  }
  size_t size() const { return slot_of_.size(); }
  // For tests: whether keys are scaled integers (true) or cross-multiplied (false).
  bool scaled() const { return scale_ != 0; }

 private:
  static constexpr uint32_t kNoSlot = ~uint32_t{0};
  static constexpr size_t kArity = 4;
  // Node n (root 0, children of n at kArity * n + 1 ...) is stored at n + kRoot, so that every
  // sibling group starts on a multiple of kArity.
  static constexpr size_t kRoot = kArity - 1;
  // Scaled loads stay below 2^41 * 2^22 = 2^63, under kNoneNum.
  static constexpr uint64_t kMaxScale = (uint64_t{1} << 22) - 1;

  struct Key {
    uint64_t num = Load::kNoneNum;  // scaled load, or the numerator when not scaled
    uint64_t seq = 0;               // Dest::list_seq: larger = nearer the list head
    uint32_t den = 1;               // 1 when scaled
    uint32_t slot = 0;
  };
  struct alignas(32) Group {
    Key keys[kArity];
  };
  // What a slot's leaf is made from.
  struct Slot {
    Dest* dest = nullptr;  // nullptr: free
    uint64_t num = Load::kNoneNum;
    uint32_t den = 0;
    uint32_t factor = 0;  // scale_ / den when scaled
  };

  // a < b: (a_num, ~a_seq) < (b_num, ~b_seq), with the numerators cross-multiplied unless the
  // keys are scaled. One lexicographic comparison as a single borrow chain.
  template <bool kScaled>
  static bool less(uint64_t a_num, uint32_t a_den, uint64_t a_seq, uint64_t b_num, uint32_t b_den,
                   uint64_t b_seq) {
    if constexpr (kScaled) {
#if defined(__x86_64__)
      unsigned long long t;
      const unsigned char c = _subborrow_u64(0, ~a_seq, ~b_seq, &t);
      return _subborrow_u64(c, a_num, b_num, &t) != 0;
#else
      return a_num < b_num || (a_num == b_num && a_seq > b_seq);
#endif
    } else {
      using U128 = unsigned __int128;
      const U128 l = U128(a_num) * b_den;
      const U128 r = U128(b_num) * a_den;
#if defined(__x86_64__)
      unsigned long long t;
      unsigned char c = _subborrow_u64(0, ~a_seq, ~b_seq, &t);
      c = _subborrow_u64(c, uint64_t(l), uint64_t(r), &t);
      return _subborrow_u64(c, uint64_t(l >> 64), uint64_t(r >> 64), &t) != 0;
#else
      return l < r || (l == r && a_seq > b_seq);
#endif
    }
  }
  template <bool kScaled>
  static const Key& least_of(const Key& a, const Key& b) {
    return less<kScaled>(b.num, b.den, b.seq, a.num, a.den, a.seq) ? b : a;
  }

  Key& node(size_t n) { return groups_[(n + kRoot) / kArity].keys[(n + kRoot) % kArity]; }

  // Writes the leaf of `slot` from slots_ and walks up; `seq` is its server's list_seq.
  void set_leaf(uint32_t slot, uint64_t seq) {
    const Slot& s = slots_[slot];
    const bool none = s.num == Load::kNoneNum || s.den == 0;
    if (scale_ != 0) {
      if (none) return walk<true>(slot, Load::kNoneNum, 0, 1, 0);
      walk<true>(slot, s.num * s.factor, seq, 1, slot);
    } else {
      if (none) return walk<false>(slot, Load::kNoneNum, 0, 1, 0);
      walk<false>(slot, s.num, seq, s.den, slot);
    }
  }
  // The same key, without walking (rebuild, grow).
  Key leaf_key(uint32_t slot) const;
  // The walk works on scalars, not on Key values: a 24-byte struct copied by value goes through
  // the stack, and reading it back stalls store forwarding.
  template <bool kScaled>
  void walk(uint32_t slot, uint64_t num, uint64_t seq, uint32_t den, uint32_t at) {
    // Scaled keys all have den 1: it is neither compared, selected nor stored.
    auto same = [&](const Key* k) {
      return k->num == num && k->seq == seq && k->slot == at && (kScaled || k->den == den);
    };
    size_t n = first_leaf_ + slot;
    Key* k = &node(n);
    if (same(k)) return;
    *k = Key{num, seq, den, at};
    while (n != 0) {
      const size_t q = (n - 1) % kArity;  // position among its siblings
      const Key* g = groups_[(n + kRoot) / kArity].keys;
      static_assert(kArity == 4);
      const Key* m = &least_of<kScaled>(g[(q + 1) % kArity], g[(q + 2) % kArity]);
      m = &least_of<kScaled>(*m, g[(q + 3) % kArity]);
      const bool sib = less<kScaled>(m->num, m->den, m->seq, num, den, seq);
      // A coin toss for the compiler, which then selects with conditional moves.
      if (__builtin_expect_with_probability(sib, 1, 0.5)) {
        num = m->num;
        seq = m->seq;
        at = m->slot;
        if constexpr (!kScaled) den = m->den;
      }
      n = (n - 1) / kArity;
      k = &node(n);
      if (same(k)) break;
      k->num = num;
      k->seq = seq;
      k->slot = at;
      if constexpr (!kScaled) k->den = den;
    }
  }

  void grow();
  // Recomputes every leaf from slots_ and every inner node from the leaves: O(n).
  void rebuild();
  template <bool kScaled>
  void recompute_inner();
  void change_den(uint32_t slot, uint32_t den);
  // Counts a denominator in or out; true when the scale changed (the caller rebuilds).
  bool count_den(uint32_t den, bool in);

  // Dest -> slot. Schedulers see only `Dest&` in their hooks, so the slot is found by address:
  // open addressing with linear probing, at most half full.
  class SlotMap {
   public:
    void clear();
    uint32_t find(const Dest* d) const {
      for (size_t i = home(d);; i = (i + 1) & mask_) {
        const Entry& e = table_[i];
        if (e.dest == d) return e.slot;
        if (e.dest == nullptr) return kNoSlot;
      }
    }
    void insert(const Dest* d, uint32_t slot);  // d must be absent
    void erase(const Dest* d);
    size_t size() const { return size_; }

   private:
    struct Entry {
      const Dest* dest = nullptr;
      uint32_t slot = kNoSlot;
    };
    size_t home(const Dest* d) const {
      return size_t((uint64_t(reinterpret_cast<uintptr_t>(d)) * 0x9e3779b97f4a7c15ull) >> shift_);
    }
    std::vector<Entry> table_;
    size_t mask_ = 0;
    unsigned shift_ = 64;
    size_t size_ = 0;
  };

  size_t cap_ = 1;             // leaves: a power of kArity
  size_t first_leaf_ = 0;      // node number of slot 0's leaf
  std::vector<Group> groups_;  // every node, see node()
  std::vector<Slot> slots_;    // by slot
  std::vector<uint32_t> free_;
  SlotMap slot_of_;
  // Denominators of the tracked servers (den > 0) and how many servers have each.
  std::unordered_map<uint32_t, uint32_t> dens_;
  uint64_t scale_ = 1;  // a common multiple of dens_, <= kMaxScale; 0: keys are not scaled
};

}  // namespace lvs::sched
