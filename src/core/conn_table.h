// The connection table: a bounded pool of Conn plus two chained hash indexes (client side and
// real-server side) whose chains are links inside the entries. Buckets are 4-byte indexes, so a
// connection costs its 88 bytes plus 8 to 16 bytes of buckets. Pool and buckets sit on
// transparent huge pages where the system allows (madvise mode), faulted in when the table is
// made.
//
// Lookups split into hash / prefetch / find so that Engine::process can overlap the cache misses
// of a whole burst.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/conn.h"

namespace lvs::core {

// The fields a lookup compares. `a` is the side the hash is keyed on.
struct ConnKey {
  const uint8_t* a_addr;
  const uint8_t* b_addr;
  uint16_t a_port;
  uint16_t b_port;
  uint8_t proto;
  uint8_t af;
};

class ConnTable {
 public:
  ConnTable(uint32_t capacity, uint64_t seed);
  ~ConnTable();
  ConnTable(const ConnTable&) = delete;
  ConnTable& operator=(const ConnTable&) = delete;

  uint32_t capacity() const { return capacity_; }
  uint32_t bucket_count() const { return mask_ + 1; }  // per index
  uint32_t size() const { return size_; }
  Conn& at(uint32_t i) { return pool_[i]; }
  const Conn& at(uint32_t i) const { return pool_[i]; }
  uint32_t index(const Conn& c) const { return uint32_t(&c - pool_); }
  Conn* pool() { return pool_; }

  // A zeroed entry marked in use, or kNil when the table is full.
  uint32_t alloc();
  void free(uint32_t i);

  // Keys: in = (caddr, cport, vaddr, vport); out = (daddr, dport, caddr, cport), or for
  // FULLNAT (daddr, dport, local address, lport) in the real server's family.
  // FULLNAT entries name their local address by index into this table of 16-byte addresses,
  // owned by the engine, which must outlive its use.
  void set_local_addrs(const uint8_t (*addrs)[16]) { laddrs_ = addrs; }
  uint64_t hash(const ConnKey& k) const;
  void prefetch_in(uint64_t h) const { __builtin_prefetch(&in_heads_[h & mask_]); }
  void prefetch_out(uint64_t h) const { __builtin_prefetch(&out_heads_[h & mask_]); }
  uint32_t head_in(uint64_t h) const { return in_heads_[h & mask_]; }
  uint32_t head_out(uint64_t h) const { return out_heads_[h & mask_]; }
  // Connections only; find_template() finds templates, which packets never match.
  uint32_t find_in(uint64_t h, const ConnKey& k) const { return find_in_kind(h, k, 0); }
  uint32_t find_template(uint64_t h, const ConnKey& k) const {
    return find_in_kind(h, k, kConnTemplate);
  }
  // The newest entry of that real-server-side key (entries are linked at the head, so the
  // newest of two sharing a key answers, as in IPVS); find_out_after gives the older ones.
  uint32_t find_out(uint64_t h, const ConnKey& k) const;
  uint32_t find_out_after(uint32_t i, const ConnKey& k) const;
  bool out_matches(const Conn& c, const ConnKey& k) const;

  // Links an entry whose key fields are set into both indexes; unlink undoes it (templates and
  // unhashed entries: only what they are linked in).
  void link(uint32_t i);
  // link() in two halves, so the real-server-side bucket of a new entry can be prefetched and
  // linked later in the burst: link_in now, link_out(i, out_hash) afterwards.
  void link_in(uint32_t i);
  uint64_t out_hash(uint32_t i) const { return hash(out_key(pool_[i])); }
  void link_out(uint32_t i, uint64_t h);
  void unlink(uint32_t i);
  void unlink_in(uint32_t i);

  // Calls f(index) for every entry in use (control path: listing, flush).
  template <typename F>
  void for_each(F&& f) {
    for (uint32_t i = 0; i < high_water_; ++i) {
      if (pool_[i].flags & kConnInUse) f(i);
    }
  }

  static ConnKey in_key(const Conn& c) {
    return {c.caddr, c.vaddr, c.cport, c.vport, c.proto, c.af};
  }
  ConnKey out_key(const Conn& c) const {
    if (c.flags & kConnFullNat) {
      return {c.daddr, laddrs_[c.laddr], c.dport, c.lport, c.proto, out_af(c)};
    }
    return {c.daddr, c.caddr, c.dport, c.cport, c.proto, c.af};
  }
  static uint8_t out_af(const Conn& c) { return (c.flags & kConnNat64) ? 4 : c.af; }

 private:
  void unlink_chain(uint32_t* heads, uint64_t h, uint32_t i, bool in);
  uint32_t find_in_kind(uint64_t h, const ConnKey& k, uint16_t template_flag) const;

  Conn* pool_ = nullptr;
  uint32_t* in_heads_ = nullptr;
  uint32_t* out_heads_ = nullptr;
  uint32_t capacity_;
  uint32_t mask_ = 0;
  uint32_t size_ = 0;
  uint32_t high_water_ = 0;  // entries [0, high_water_) have been handed out at least once
  uint32_t free_head_ = kNil;
  uint64_t seed0_, seed1_;
  const uint8_t (*laddrs_)[16] = nullptr;
};

}  // namespace lvs::core
