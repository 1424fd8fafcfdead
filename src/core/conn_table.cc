#include "core/conn_table.h"

#include <bit>
#include <cstdlib>
#include <new>

#include <sys/mman.h>

namespace lvs::core {

namespace {

// wyhash's "mum": one 64x64->128 multiply folded, a strong and cheap mixer.
inline uint64_t mum(uint64_t a, uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return uint64_t(r) ^ uint64_t(r >> 64);
}
inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline bool addr_eq(const uint8_t* x, const uint8_t* y, uint8_t af) {
  if (af == 4) return load32(x) == load32(y);
  return load64(x) == load64(y) && load64(x + 8) == load64(y + 8);
}

constexpr size_t kHuge = 2u << 20;
size_t round_huge(size_t n) { return (n + kHuge - 1) & ~(kHuge - 1); }
// Zeroed memory backed by transparent huge pages where the system allows (madvise mode): a
// table of a million entries otherwise takes a TLB miss on nearly every lookup.
void* huge_alloc(size_t n) {
  void* p = mmap(nullptr, round_huge(n), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  if (n >= kHuge) madvise(p, round_huge(n), MADV_HUGEPAGE);
  return p;
}
// The entry pool, faulted in up front on huge pages: lookups at a million connections are
// bound by TLB misses on 4 KiB pages, and faulting 2 MiB pages on first use would land on new
// connections instead. The configured capacity is committed memory, as in DPDK-style
// directors (100 bytes per entry).
void* huge_alloc_populated(size_t n) {
  void* p = huge_alloc(n);
  if (p == nullptr) return nullptr;
  if (madvise(p, round_huge(n), MADV_POPULATE_WRITE) != 0) {
    std::memset(p, 0, n);  // kernels before 5.14: touch every page ourselves
  }
  return p;
}
void huge_free(void* p, size_t n) {
  if (p) munmap(p, round_huge(n));
}

}  // namespace

ConnTable::ConnTable(uint32_t capacity, uint64_t seed)
    : capacity_(capacity < 16 ? 16 : capacity),
      seed0_(seed ^ 0xa0761d6478bd642full),
      seed1_(mum(seed, 0xe7037ed1a0b428dbull) | 1) {
  // Two buckets per entry: chains average 1.25 entries on a hit instead of 1.5, for 8 bytes.
  const uint32_t buckets = std::bit_ceil(capacity_) * 2;
  mask_ = buckets - 1;
  pool_ = static_cast<Conn*>(huge_alloc_populated(sizeof(Conn) * capacity_));
  in_heads_ = static_cast<uint32_t*>(huge_alloc(sizeof(uint32_t) * buckets));
  out_heads_ = static_cast<uint32_t*>(huge_alloc(sizeof(uint32_t) * buckets));
  if (!pool_ || !in_heads_ || !out_heads_) throw std::bad_alloc();
  std::memset(in_heads_, 0xff, sizeof(uint32_t) * buckets);
  std::memset(out_heads_, 0xff, sizeof(uint32_t) * buckets);
}

ConnTable::~ConnTable() {
  const uint32_t buckets = mask_ + 1;
  huge_free(pool_, sizeof(Conn) * capacity_);
  huge_free(in_heads_, sizeof(uint32_t) * buckets);
  huge_free(out_heads_, sizeof(uint32_t) * buckets);
}

uint32_t ConnTable::alloc() {
  uint32_t i;
  if (free_head_ != kNil) {
    i = free_head_;
    free_head_ = pool_[i].in_next;
  } else if (high_water_ < capacity_) {
    i = high_water_++;
  } else {
    return kNil;
  }
  Conn& c = pool_[i];
  std::memset(&c, 0, sizeof(Conn));
  c.in_next = c.out_next = c.t_prev = c.t_next = c.control = kNil;
  c.flags = kConnInUse;
  ++size_;
  return i;
}

void ConnTable::free(uint32_t i) {
  Conn& c = pool_[i];
  c.flags = 0;
  c.in_next = free_head_;
  free_head_ = i;
  --size_;
}

uint64_t ConnTable::hash(const ConnKey& k) const {
  const uint64_t ports = (uint64_t(k.a_port) << 24) | (uint64_t(k.b_port) << 8) | k.proto;
  if (k.af == 4) {
    const uint64_t addrs = (uint64_t(load32(k.a_addr)) << 32) | load32(k.b_addr);
    return mum(addrs ^ seed0_, ports ^ seed1_);
  }
  uint64_t h = mum(load64(k.a_addr) ^ seed0_, load64(k.a_addr + 8) ^ seed1_);
  h = mum(h ^ load64(k.b_addr), load64(k.b_addr + 8) ^ seed1_);
  return mum(h ^ ports, seed0_);
}

uint32_t ConnTable::find_in_kind(uint64_t h, const ConnKey& k, uint16_t template_flag) const {
  for (uint32_t i = in_heads_[h & mask_]; i != kNil; i = pool_[i].in_next) {
    const Conn& c = pool_[i];
    if (c.cport == k.a_port && c.vport == k.b_port && c.proto == k.proto && c.af == k.af &&
        (c.flags & kConnTemplate) == template_flag &&
        addr_eq(c.caddr, k.a_addr, k.af) && addr_eq(c.vaddr, k.b_addr, k.af)) {
      return i;
    }
  }
  return kNil;
}

bool ConnTable::out_matches(const Conn& c, const ConnKey& k) const {
  if (c.flags & kConnFullNat) {
    return c.dport == k.a_port && c.lport == k.b_port && c.proto == k.proto && out_af(c) == k.af &&
           addr_eq(c.daddr, k.a_addr, k.af) && addr_eq(laddrs_[c.laddr], k.b_addr, k.af);
  }
  return c.dport == k.a_port && c.cport == k.b_port && c.proto == k.proto && c.af == k.af &&
         addr_eq(c.daddr, k.a_addr, k.af) && addr_eq(c.caddr, k.b_addr, k.af);
}

uint32_t ConnTable::find_out(uint64_t h, const ConnKey& k) const {
  for (uint32_t i = out_heads_[h & mask_]; i != kNil; i = pool_[i].out_next) {
    if (out_matches(pool_[i], k)) return i;
  }
  return kNil;
}

uint32_t ConnTable::find_out_after(uint32_t i, const ConnKey& k) const {
  for (i = pool_[i].out_next; i != kNil; i = pool_[i].out_next) {
    if (out_matches(pool_[i], k)) return i;
  }
  return kNil;
}

void ConnTable::link(uint32_t i) {
  Conn& c = pool_[i];
  const uint64_t hi = hash(in_key(c)) & mask_;
  c.in_next = in_heads_[hi];
  in_heads_[hi] = i;
  const uint64_t ho = hash(out_key(c)) & mask_;
  c.out_next = out_heads_[ho];
  out_heads_[ho] = i;
}

void ConnTable::link_in(uint32_t i) {
  Conn& c = pool_[i];
  const uint64_t hi = hash(in_key(c)) & mask_;
  c.in_next = in_heads_[hi];
  in_heads_[hi] = i;
}

void ConnTable::link_out(uint32_t i, uint64_t h) {
  Conn& c = pool_[i];
  c.out_next = out_heads_[h & mask_];
  out_heads_[h & mask_] = i;
}

void ConnTable::unlink_chain(uint32_t* heads, uint64_t h, uint32_t i, bool in) {
  uint32_t* link = &heads[h & mask_];
  while (*link != kNil) {
    if (*link == i) {
      *link = in ? pool_[i].in_next : pool_[i].out_next;
      return;
    }
    link = in ? &pool_[*link].in_next : &pool_[*link].out_next;
  }
}

void ConnTable::unlink(uint32_t i) {
  const Conn& c = pool_[i];
  if (!(c.flags & kConnUnhashed)) unlink_chain(in_heads_, hash(in_key(c)), i, true);
  if (!(c.flags & kConnTemplate)) unlink_chain(out_heads_, hash(out_key(c)), i, false);
}

void ConnTable::unlink_in(uint32_t i) {
  unlink_chain(in_heads_, hash(in_key(pool_[i])), i, true);
  pool_[i].flags |= kConnUnhashed;
}

}  // namespace lvs::core
