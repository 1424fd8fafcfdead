// The machinery lblc and lblcr share (ip_vs_lblc.c, ip_vs_lblcr.c): a table keyed by destination
// address, its garbage collection, and references to servers that may leave the service.
//
// Table. IPVS chains entries in 1024 buckets (hash_32(addr_fold(daddr), 10)), new entries at a
// bucket's head, and its garbage passes walk those buckets from a rover. The same bucket lists
// are kept here so passes visit entries in IPVS's order; lookups go through a separate index
// (linear hashing, keyed SipHash), so a table far larger than 1024 * 16 entries still finds an
// address in O(1), and it grows one bucket split at a time, never rehashing all at once.
// Entries live in a deque: growth never moves them.
//
// Garbage collection. IPVS runs a timer every 60 s: every 30th run is a full check dropping
// entries unused for the expiration time (24 h); otherwise, if the table holds more than
// max_size entries, it drops entries idle for 6 min until (entries - max_size) * 4 / 3 (at most
// max_size / 2) are gone, finishing the bucket it is in. Here the timer is driven by the `now`
// of schedule calls: a due run starts a pass at that time and the pass advances a bounded number
// of buckets and entries per call. Runs missed while no connection arrived are caught up
// arithmetically (the counter moves on; if a full check fell due, one runs; over max_size, one
// goal pass stands for all of them). Independently of
// the timer phase, an entry found expired at lookup is dropped, as if the full check had just
// run, so expiry is exact in time.
//
// Servers. Entries name servers through slots. A server leaving the service only detaches its
// slot: entries keep it, unusable (IPVS keeps the dest in its trash while entries hold it), and
// it becomes usable again if a server with the same address and port rejoins, as IPVS revives
// a trashed dest. A detached slot never hands out a Dest pointer, which may be gone.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <unordered_map>
#include <vector>

#include "sched/ipvs_hash.h"
#include "sched/locality.h"
#include "sched/scheduler.h"
#include "sched/siphash.h"

namespace lvs::sched::locality {

inline constexpr uint32_t kNil = std::numeric_limits<uint32_t>::max();

inline uint64_t add_sat(uint64_t a, uint64_t b) {
  return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max()
                                                      : a + b;
}

// The weighted least-connection pick both schedulers fall back to (__ip_vs_lblc_schedule):
// first server not overloaded with weight > 0, then any with a strictly smaller
// overhead / weight (h1 * w2 > h2 * w1); overloaded servers are skipped.
inline Dest* least_conn(DestList dests) {
  size_t i = 0;
  Dest* least = nullptr;
  for (; i < dests.size(); ++i) {
    if (!dests[i]->overloaded() && dests[i]->weight > 0) {
      least = dests[i];
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

// lblc's own overload rule (is_overloaded in both files), not the upper-threshold flag: more
// active connections than its weight while some server has fewer than half its weight.
inline bool overloaded_by_locality(const Dest& dest, DestList dests) {
  if (int64_t(dest.active_conns) <= int64_t(dest.weight)) return false;
  for (const Dest* d : dests) {
    if (int64_t(d->active_conns) * 2 < int64_t(d->weight)) return true;
  }
  return false;
}

class DestSlots {
 public:
  // A slot for a server in the service, counted as one more reference.
  uint32_t acquire(Dest& d) {
    auto it = by_dest_.find(&d);
    uint32_t s;
    if (it != by_dest_.end()) {
      s = it->second;
    } else {
      if (free_.empty()) {
        s = uint32_t(slots_.size());
        slots_.emplace_back();
      } else {
        s = free_.back();
        free_.pop_back();
      }
      slots_[s] = Slot{&d, d.addr, d.port, 0, 0, 0};
      by_dest_.emplace(&d, s);
    }
    ++slots_[s].refs;
    return s;
  }
  void release(uint32_t s) {
    if (--slots_[s].refs == 0 && slots_[s].dest == nullptr) free_.push_back(s);
  }
  // The server, or nullptr once it has left the service.
  Dest* dest(uint32_t s) const { return slots_[s].dest; }
  // What IPVS reads of a trashed dest: its weight and (here, frozen at removal) its load.
  int32_t weight(uint32_t s) const {
    return slots_[s].dest ? slots_[s].dest->weight : slots_[s].weight;
  }
  int64_t overhead(uint32_t s) const {
    return slots_[s].dest ? conn_overhead(*slots_[s].dest) : slots_[s].overhead;
  }

  void on_del(const Dest& d) {
    auto it = by_dest_.find(&d);
    if (it == by_dest_.end()) return;
    Slot& s = slots_[it->second];
    s.weight = d.weight;
    s.overhead = conn_overhead(d);
    s.dest = nullptr;
    if (s.refs == 0) free_.push_back(it->second);
    by_dest_.erase(it);
  }
  void on_add(Dest& d) {
    for (size_t i = 0; i < slots_.size(); ++i) {
      Slot& s = slots_[i];
      if (s.dest == nullptr && s.refs > 0 && s.port == d.port && s.addr == d.addr) {
        s.dest = &d;
        by_dest_.emplace(&d, uint32_t(i));
        return;
      }
    }
  }
  void clear() {
    slots_.clear();
    free_.clear();
    by_dest_.clear();
  }

 private:
  struct Slot {
    Dest* dest;
    net::IpAddr addr;
    uint16_t port;
    uint32_t refs;
    int32_t weight;
    int64_t overhead;
  };
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  std::unordered_map<const Dest*, uint32_t> by_dest_;
};

template <class Payload>
class Table {
 public:
  static constexpr unsigned kTabBits = 10;  // CONFIG_IP_VS_LBLC(R)_TAB_BITS default
  static constexpr uint32_t kTabSize = 1u << kTabBits;
  static constexpr uint32_t kTabMask = kTabSize - 1;

  struct Entry {
    net::IpAddr addr;
    uint64_t lastuse = 0;
    uint64_t hash = 0;      // index hash of addr
    uint32_t chain = kNil;  // next in the index bucket (or in the free list)
    uint32_t prev = kNil;   // IPVS bucket list
    uint32_t next = kNil;
    uint32_t bucket = 0;  // IPVS bucket
    bool live = false;
    Payload payload{};
  };

  Table(const LocalityConfig& config, const SipKey& index_key) : cfg_(config), key_(index_key) {
    reset_index();
  }

  size_t size() const { return size_; }
  Entry& at(uint32_t i) { return entries_[i]; }
  const Entry& at(uint32_t i) const { return entries_[i]; }

  uint32_t find(const net::IpAddr& addr) const {
    const uint64_t h = index_hash(addr);
    for (uint32_t e = heads_[index_bucket(h)]; e != kNil; e = entries_[e].chain) {
      if (entries_[e].hash == h && entries_[e].addr == addr) return e;
    }
    return kNil;
  }

  // A new entry at the head of its IPVS bucket; kNil at the hard limit.
  uint32_t insert(const net::IpAddr& addr, uint64_t now) {
    if (size_ >= cfg_.hard_limit) return kNil;
    uint32_t e = free_;
    if (e != kNil) {
      free_ = entries_[e].chain;
    } else {
      e = uint32_t(entries_.size());
      entries_.emplace_back();
    }
    Entry& en = entries_[e];
    en.addr = addr;
    en.lastuse = now;
    en.hash = index_hash(addr);
    en.bucket = hash_32(addr_fold(addr), kTabBits);
    en.live = true;
    const uint32_t b = index_bucket(en.hash);
    en.chain = heads_[b];
    heads_[b] = e;
    link_front(e);
    ++size_;
    if (size_ > bucket_count()) split();
    return e;
  }

  // `release` frees what the payload holds.
  template <class Release>
  void erase(uint32_t e, Release&& release) {
    Entry& en = entries_[e];
    release(en.payload);
    unlink(e);
    uint32_t* p = &heads_[index_bucket(en.hash)];
    while (*p != e) p = &entries_[*p].chain;
    *p = en.chain;
    en.live = false;
    en.chain = free_;
    free_ = e;
    --size_;
  }

  // Back to the head of its bucket, as a re-created IPVS entry would be.
  void move_to_front(uint32_t e) {
    unlink(e);
    link_front(e);
  }

  template <class Release>
  void clear(Release&& release) {
    for (Entry& en : entries_) {
      if (en.live) release(en.payload);
    }
    entries_.clear();
    free_ = kNil;
    size_ = 0;
    ipvs_heads_.fill(kNil);
    reset_index();
    started_ = false;
    counter_ = 1;
    rover_ = 0;
    pass_ = Pass::kNone;
    cursor_ = kNil;
    in_bucket_ = false;
  }

  // The periodic timer, run from schedule calls (see the file comment).
  template <class Release>
  void maintain(uint64_t now, Release&& release) {
    if (!started_) {
      started_ = true;
      next_tick_ = add_sat(now, cfg_.check_interval_ns);
    }
    if (pass_ == Pass::kNone && now >= next_tick_) start_tick(now);
    if (pass_ != Pass::kNone) step(release);
  }

  bool pass_running() const { return pass_ != Pass::kNone; }

 private:
  enum class Pass { kNone, kFull, kGoal };
  static constexpr uint32_t kIndexBase = 1024;  // initial index buckets

  void link_front(uint32_t e) {
    Entry& en = entries_[e];
    en.prev = kNil;
    en.next = ipvs_heads_[en.bucket];
    if (en.next != kNil) entries_[en.next].prev = e;
    ipvs_heads_[en.bucket] = e;
  }
  void unlink(uint32_t e) {
    Entry& en = entries_[e];
    if (cursor_ == e) cursor_ = en.next;  // a pass is about to look at this entry
    if (en.prev != kNil) {
      entries_[en.prev].next = en.next;
    } else {
      ipvs_heads_[en.bucket] = en.next;
    }
    if (en.next != kNil) entries_[en.next].prev = en.prev;
  }

  uint64_t index_hash(const net::IpAddr& a) const {
    uint64_t w[2];
    static_assert(sizeof(w) == sizeof(a.bytes));
    std::memcpy(w, a.bytes.data(), sizeof(w));
    return siphash13_words(w[0], w[1], uint64_t(a.family), key_);
  }
  size_t bucket_count() const { return (size_t(kIndexBase) << level_) + split_; }
  uint32_t index_bucket(uint64_t h) const {
    const uint64_t low = (uint64_t(kIndexBase) << level_) - 1;
    uint64_t b = h & low;
    if (b < split_) b = h & ((low << 1) | 1);
    return uint32_t(b);
  }
  void reset_index() {
    heads_.assign(kIndexBase, kNil);
    level_ = 0;
    split_ = 0;
  }
  // Linear hashing: one bucket splits per insert past load factor 1.
  void split() {
    const uint32_t old = split_;
    const uint64_t mask = (uint64_t(kIndexBase) << (level_ + 1)) - 1;
    heads_.push_back(kNil);
    const uint32_t fresh = uint32_t(heads_.size() - 1);
    uint32_t e = heads_[old];
    heads_[old] = kNil;
    while (e != kNil) {
      const uint32_t next = entries_[e].chain;
      const uint32_t b = (entries_[e].hash & mask) == old ? old : fresh;
      entries_[e].chain = heads_[b];
      heads_[b] = e;
      e = next;
    }
    if (++split_ == (kIndexBase << level_)) {
      ++level_;
      split_ = 0;
    }
  }

  // ip_vs_lblc_check_expire's decision, for this run and any missed since the last one.
  void start_tick(uint64_t now) {
    const uint64_t interval = cfg_.check_interval_ns ? cfg_.check_interval_ns : 1;
    const uint64_t missed = (now - next_tick_) / interval;
    next_tick_ = add_sat(now, interval);
    const uint64_t every = cfg_.full_check_every ? cfg_.full_check_every : 1;
    bool full_missed = false;
    if (missed > 0 && size_ <= cfg_.max_size) {
      // Runs while the table was not over max_size only moved the counter, through 1..every;
      // the one at `every` was a full check.
      const uint64_t c = (counter_ - 1) % every + 1;
      full_missed = missed > every - c;
      counter_ = uint32_t((c - 1 + missed) % every + 1);
    }
    pass_now_ = now;
    if (counter_ % every == 0 || full_missed) {
      counter_ = 1;
      begin(Pass::kFull, 0);
    } else if (size_ <= cfg_.max_size) {
      ++counter_;
    } else {
      const int64_t over = int64_t(size_) - int64_t(cfg_.max_size);
      begin(Pass::kGoal, std::min<int64_t>(over * 4 / 3, cfg_.max_size / 2));
    }
  }
  void begin(Pass kind, int64_t goal) {
    pass_ = kind;
    goal_ = goal;
    pass_left_ = kTabSize;
    gc_bucket_ = rover_;
    cursor_ = kNil;
    in_bucket_ = false;
  }
  bool collectable(const Entry& en) const {
    const uint64_t timeout = pass_ == Pass::kFull ? cfg_.expiration_ns : cfg_.entry_timeout_ns;
    return pass_now_ >= add_sat(en.lastuse, timeout);
  }
  // Work per call: gc_budget entries looked at, where opening a bucket costs an eighth of an
  // entry (a sparse table's pass is mostly empty buckets).
  template <class Release>
  void step(Release&& release) {
    uint64_t budget = uint64_t(cfg_.gc_budget ? cfg_.gc_budget : 1) * 8;
    while (budget > 0) {
      if (!in_bucket_) {
        // IPVS checks the goal once a bucket is done.
        if (pass_left_ == 0 || (pass_ == Pass::kGoal && goal_ <= 0)) {
          rover_ = gc_bucket_;
          pass_ = Pass::kNone;
          return;
        }
        gc_bucket_ = (gc_bucket_ + 1) & kTabMask;
        --pass_left_;
        cursor_ = ipvs_heads_[gc_bucket_];
        in_bucket_ = true;
        --budget;
        continue;
      }
      if (cursor_ == kNil) {
        in_bucket_ = false;
        continue;
      }
      const uint32_t e = cursor_;
      cursor_ = entries_[e].next;
      budget = budget > 8 ? budget - 8 : 0;
      if (collectable(entries_[e])) {
        erase(e, release);
        --goal_;
      }
    }
  }

  LocalityConfig cfg_;
  SipKey key_;
  std::deque<Entry> entries_;
  uint32_t free_ = kNil;
  size_t size_ = 0;
  std::array<uint32_t, kTabSize> ipvs_heads_ = make_nil_heads();
  // Index: heads of chains; bucket count kIndexBase * 2^level_ + split_.
  std::deque<uint32_t> heads_;
  uint32_t level_ = 0;
  uint32_t split_ = 0;

  // Timer and pass state.
  bool started_ = false;
  uint64_t next_tick_ = 0;
  uint32_t counter_ = 1;  // tbl->counter
  uint32_t rover_ = 0;    // tbl->rover
  Pass pass_ = Pass::kNone;
  uint64_t pass_now_ = 0;
  int64_t goal_ = 0;
  uint32_t pass_left_ = 0;  // buckets not yet opened
  uint32_t gc_bucket_ = 0;
  uint32_t cursor_ = kNil;  // next entry of gc_bucket_ to look at
  bool in_bucket_ = false;

  static std::array<uint32_t, kTabSize> make_nil_heads() {
    std::array<uint32_t, kTabSize> a;
    a.fill(kNil);
    return a;
  }
};

// Index keys differ per scheduler instance when the engine's random source is there (hash
// flooding), and are fixed otherwise.
inline SipKey index_key(RandomSource* random) {
  if (random == nullptr) return SipKey{0x6c626c635f6b6579ull, 0x6c76735f73636864ull};
  const uint64_t k0 = random->next();
  return SipKey{k0, random->next()};
}

}  // namespace lvs::sched::locality
