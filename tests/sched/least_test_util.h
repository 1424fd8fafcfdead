// Test kit for the least-load schedulers (lc, wlc, sed, nq, fo, ovf):
//   - IPVS's own O(n) scans, written from net/netfilter/ipvs/ip_vs_{lc,wlc,sed,nq,fo,ovf}.c, as the
//     reference every O(log n) pick is compared with;
//   - ConnService, a service that numbers its servers (Dest::list_seq) and announces every change
//     through the hooks exactly as core::Engine does: add_dest/del_dest/upd_dest for the control
//     path, on_conn_counts after counts or the overload flag change;
//   - run_differential, random event sequences checking pick == reference after every event.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sched/registry.h"
#include "sched/scheduler.h"

namespace lvs::sched::testing {

// ---------------------------------------------------------------------------------------------
// IPVS's scans. The kernel multiplies 32-bit overheads into 64 bits; 128 bits here keep the
// comparison exact for every count a Dest can hold.

using I128 = __int128;

// ip_vs_lc_schedule: skip overloaded and weight 0; the first strictly smaller overhead wins.
inline Dest* ipvs_lc(DestList dests) {
  Dest* least = nullptr;
  int64_t loh = 0;
  for (Dest* d : dests) {
    if (d->overloaded() || d->weight == 0) continue;
    const int64_t doh = conn_overhead(*d);
    if (least == nullptr || doh < loh) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

// ip_vs_wlc_schedule and ip_vs_sed_schedule share their shape: the first server not overloaded
// with weight > 0 starts, then every later server not overloaded (of any weight) replaces it when
// loh * w > doh * w_least.
template <class Overhead>
Dest* ipvs_two_stage(DestList dests, Overhead overhead) {
  size_t i = 0;
  Dest* least = nullptr;
  for (; i < dests.size(); ++i) {
    if (!dests[i]->overloaded() && dests[i]->weight > 0) {
      least = dests[i];
      break;
    }
  }
  if (least == nullptr) return nullptr;
  int64_t loh = overhead(*least);
  for (++i; i < dests.size(); ++i) {
    Dest* d = dests[i];
    if (d->overloaded()) continue;
    const int64_t doh = overhead(*d);
    if (I128(loh) * d->weight > I128(doh) * least->weight) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

inline Dest* ipvs_wlc(DestList dests) {
  return ipvs_two_stage(dests, [](const Dest& d) { return conn_overhead(d); });
}

inline Dest* ipvs_sed(DestList dests) {
  return ipvs_two_stage(dests, [](const Dest& d) { return int64_t(d.active_conns) + 1; });
}

// ip_vs_nq_schedule: skip overloaded and weight 0; return the first idle server at once;
// otherwise the least (active + 1) / weight, first wins ties.
inline Dest* ipvs_nq(DestList dests) {
  Dest* least = nullptr;
  int64_t loh = 0;
  for (Dest* d : dests) {
    if (d->overloaded() || d->weight == 0) continue;
    const int64_t doh = int64_t(d->active_conns) + 1;
    if (d->active_conns == 0) return d;
    if (least == nullptr || I128(loh) * d->weight > I128(doh) * least->weight) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

// ip_vs_fo_schedule: the first server not overloaded whose weight beats hw, from hw = 0.
inline Dest* ipvs_fo(DestList dests) {
  Dest* hweight = nullptr;
  int32_t hw = 0;
  for (Dest* d : dests) {
    if (!d->overloaded() && d->weight > hw) {
      hweight = d;
      hw = d->weight;
    }
  }
  return hweight;
}

// ip_vs_ovf_schedule: skip overloaded, active > weight and weight 0; the highest weight, first
// wins ties.
inline Dest* ipvs_ovf(DestList dests) {
  Dest* h = nullptr;
  int32_t hw = 0;
  for (Dest* d : dests) {
    const int32_t w = d->weight;
    if (d->overloaded() || int64_t(d->active_conns) > w || w == 0) continue;
    if (h == nullptr || w > hw) {
      h = d;
      hw = w;
    }
  }
  return h;
}

using Reference = Dest* (*)(DestList);

inline Reference reference_for(std::string_view name) {
  if (name == "lc") return &ipvs_lc;
  if (name == "wlc") return &ipvs_wlc;
  if (name == "sed") return &ipvs_sed;
  if (name == "nq") return &ipvs_nq;
  if (name == "fo") return &ipvs_fo;
  if (name == "ovf") return &ipvs_ovf;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// A service whose servers are letters, in IPVS list order (newest first).

struct ServerSpec {
  char name;
  int32_t weight;
  uint32_t active = 0;
  uint32_t inactive = 0;
  bool overloaded = false;
};

enum class Bind {
  // ipvsadm -A, then -a per server (servers given last to first, each added at the head); the
  // counts arrive afterwards through on_conn_counts.
  kAddThenCount,
  // A server re-added from the trash carries its counts into add_dest.
  kAddWithCounts,
  // ipvsadm -E switching to this scheduler: init_service sees the complete list.
  kInitService,
};

class ConnService {
 public:
  ConnService(std::string_view sched, const std::vector<ServerSpec>& servers,
              Bind bind = Bind::kAddThenCount)
      : sched_(make_scheduler(sched)) {
    EXPECT_NE(sched_, nullptr) << sched;
    if (bind == Bind::kInitService) {
      // Numbered as if added last to first.
      for (size_t i = servers.size(); i-- > 0;) {
        Dest& d = make(servers[i]);
        d.list_seq = next_seq_++;
        list_.insert(list_.begin(), &d);
      }
      sched_->init_service(list_);
      return;
    }
    sched_->init_service(list_);
    for (auto it = servers.rbegin(); it != servers.rend(); ++it) {
      if (bind == Bind::kAddWithCounts) {
        add(*it);
      } else {
        add({it->name, it->weight});
        set_conns(it->name, it->active, it->inactive);
        if (it->overloaded) set_overloaded(it->name, true);
      }
    }
  }
  ~ConnService() { sched_->done_service(); }

  // Adds at the head, as ip_vs_add_dest does.
  Dest& add(const ServerSpec& spec) {
    Dest& d = make(spec);
    d.list_seq = next_seq_++;
    list_.insert(list_.begin(), &d);
    sched_->add_dest(list_, d, 0);
    return d;
  }
  void del(char name) {
    for (size_t i = 0; i < list_.size(); ++i) {
      if (list_[i]->port == uint16_t(name)) {
        Dest& d = *list_[i];
        list_.erase(list_.begin() + ptrdiff_t(i));
        d.flags &= ~kDestAvailable;
        sched_->del_dest(list_, d, i);
        return;
      }
    }
    ADD_FAILURE() << "no server " << name;
  }
  void set_weight(char name, int32_t weight) {
    Dest& d = (*this)[name];
    d.weight = weight;
    sched_->upd_dest(list_, d);
  }
  // As the engine's bind/unbind and state changes do.
  void set_conns(char name, uint32_t active, uint32_t inactive) {
    Dest& d = (*this)[name];
    d.active_conns = active;
    d.inactive_conns = inactive;
    sched_->on_conn_counts(d);
  }
  void set_overloaded(char name, bool on) {
    Dest& d = (*this)[name];
    d.flags = on ? (d.flags | kDestOverload) : (d.flags & ~kDestOverload);
    sched_->on_conn_counts(d);
  }
  // A new connection on the chosen server, counted active (as once it is ESTABLISHED).
  char pick_and_open() {
    Dest* d = schedule();
    if (d == nullptr) return '-';
    ++d->active_conns;
    sched_->on_conn_counts(*d);
    return char(d->port);
  }
  std::string picks_and_opens(size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += pick_and_open();
    return s;
  }
  void close(char name) {
    Dest& d = (*this)[name];
    ASSERT_GT(d.active_conns, 0u);
    --d.active_conns;
    sched_->on_conn_counts(d);
  }

  Dest& operator[](char name) {
    for (Dest* d : list_) {
      if (d->port == uint16_t(name)) return *d;
    }
    ADD_FAILURE() << "no server " << name;
    return storage_.front();
  }
  Dest* schedule() { return sched_->schedule(list_, SchedPacket{}); }
  char pick() {
    Dest* d = schedule();
    return d ? char(d->port) : '-';
  }
  // What IPVS's scan picks from the same list.
  char reference_pick() {
    Dest* d = reference_for(sched_->name())(list_);
    return d ? char(d->port) : '-';
  }
  std::string order() const {
    std::string s;
    for (const Dest* d : list_) s += char(d->port);
    return s;
  }
  DestList list() const { return list_; }
  Scheduler& sched() { return *sched_; }

 private:
  Dest& make(const ServerSpec& spec) {
    Dest& d = storage_.emplace_back();
    d.port = uint16_t(spec.name);
    d.weight = spec.weight;
    d.flags = kDestAvailable | (spec.overloaded ? kDestOverload : 0);
    d.active_conns = spec.active;
    d.inactive_conns = spec.inactive;
    return d;
  }

  std::unique_ptr<Scheduler> sched_;
  std::deque<Dest> storage_;  // stable addresses
  std::vector<Dest*> list_;
  uint64_t next_seq_ = 1;
};

// A table case: servers in list order A, B, C, ...
struct PickCase {
  const char* name;
  std::vector<ServerSpec> servers;  // the `name` field is filled in by run_pick_table
  char want;                        // '-' for none
};

// Every case under every way of binding, against the hand-worked answer and IPVS's scan.
inline void run_pick_table(std::string_view sched, std::vector<PickCase> cases) {
  for (PickCase& c : cases) {
    for (size_t i = 0; i < c.servers.size(); ++i) c.servers[i].name = char('A' + i);
    for (Bind bind : {Bind::kAddThenCount, Bind::kAddWithCounts, Bind::kInitService}) {
      ConnService s(sched, c.servers, bind);
      EXPECT_EQ(s.pick(), c.want) << c.name << " (bind " << int(bind) << ")";
      EXPECT_EQ(s.reference_pick(), c.want) << c.name << ": the IPVS scan disagrees";
      // Scheduling has no side effects.
      EXPECT_EQ(s.pick(), c.want) << c.name;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Differential test: random sequences of what an engine does to a service, comparing the pick
// with IPVS's scan after every event.

struct DiffStats {
  uint64_t checks = 0;
  uint64_t picked = 0;  // checks where some server was chosen
  uint64_t ties = 0;    // ... and another server had the same load (list order decided)
  uint64_t big = 0;     // ... with counts or weights beyond 32-bit products
  uint64_t sequences = 0;
};

class DiffWorld {
 public:
  DiffWorld(std::string_view sched, uint64_t seed) : name_(sched), rng_(seed) {
    ref_ = reference_for(sched);
    sched_ = make_scheduler(sched);
    sched_->init_service(list_);
    // Each sequence draws its own scale, so small lists with many ties and large lists both come.
    static constexpr size_t kMaxSizes[] = {1, 2, 3, 4, 6, 10, 24, 80};
    max_servers_ = kMaxSizes[below(std::size(kMaxSizes))];
    big_numbers_ = below(8) == 0;
    static constexpr uint32_t kCountRanges[] = {3, 8, 40, 300};
    count_range_ = kCountRanges[below(std::size(kCountRanges))];
  }
  ~DiffWorld() { sched_->done_service(); }

  // One random event, then a check. False (with a test failure) on the first mismatch.
  bool step(DiffStats& stats) {
    const unsigned roll = unsigned(below(100));
    std::string what;
    if (roll < 14) {
      what = add_new();
    } else if (roll < 17) {
      what = readd_trashed();
    } else if (roll < 22) {
      what = del_random();
    } else if (roll < 30) {
      what = reweight();
    } else if (roll < 36) {
      what = toggle_overload();
    } else if (roll < 62) {
      what = change_counts();
    } else if (roll < 66) {
      what = change_trashed_counts();
    } else if (roll < 68) {
      what = rebind();
    } else {
      what = pick_and_take();
    }
    log_.push_back(what);
    return check(stats);
  }

 private:
  uint64_t below(uint64_t n) { return n ? rng_() % n : 0; }
  int32_t random_weight() {
    if (big_numbers_ && below(3) == 0) return int32_t(below(uint64_t(INT32_MAX)) + 1);
    static constexpr int32_t kWeights[] = {0, 1, 1, 2, 2, 3, 4, 5, 6, 10, 100};
    return kWeights[below(std::size(kWeights))];
  }
  uint32_t random_count() {
    if (big_numbers_ && below(3) == 0) return uint32_t(~uint32_t{0} - below(1000));
    return uint32_t(below(count_range_));
  }
  Dest* random_listed() { return list_.empty() ? nullptr : list_[below(list_.size())]; }
  std::string label(const Dest& d) const { return "#" + std::to_string(d.port); }

  std::string add_new() {
    if (list_.size() >= max_servers_) return pick_and_take();
    Dest& d = storage_.emplace_back();
    d.port = uint16_t(next_id_++);
    d.weight = random_weight();
    d.flags = kDestAvailable;
    if (below(4) == 0) {  // comes with counts, as a server taken back from the trash
      d.active_conns = random_count();
      d.inactive_conns = random_count();
    }
    if (below(10) == 0) d.flags |= kDestOverload;
    link(d);
    return "add " + label(d) + " w" + std::to_string(d.weight);
  }
  std::string readd_trashed() {
    if (trash_.empty() || list_.size() >= max_servers_) return add_new();
    const size_t i = below(trash_.size());
    Dest& d = *trash_[i];
    trash_.erase(trash_.begin() + ptrdiff_t(i));
    d.flags |= kDestAvailable;
    if (below(2) == 0) d.flags &= ~kDestOverload;  // as ip_vs_add_dest with a new threshold
    d.weight = random_weight();
    link(d);
    return "re-add " + label(d);
  }
  void link(Dest& d) {
    d.list_seq = next_seq_++;
    list_.insert(list_.begin(), &d);
    sched_->add_dest(list_, d, 0);
  }
  std::string del_random() {
    if (list_.empty()) return add_new();
    const size_t i = below(list_.size());
    Dest& d = *list_[i];
    list_.erase(list_.begin() + ptrdiff_t(i));
    d.flags &= ~kDestAvailable;
    sched_->del_dest(list_, d, i);
    trash_.push_back(&d);
    return "del " + label(d);
  }
  std::string reweight() {
    Dest* d = random_listed();
    if (d == nullptr) return add_new();
    d->weight = random_weight();
    sched_->upd_dest(list_, *d);
    return "weight " + label(*d) + " " + std::to_string(d->weight);
  }
  std::string toggle_overload() {
    Dest* d = random_listed();
    if (d == nullptr) return add_new();
    d->flags ^= kDestOverload;
    // The flag moves with the counts (bind/unbind) or with an edit (edit_dest clears it).
    if (below(2) == 0) {
      sched_->on_conn_counts(*d);
    } else {
      sched_->upd_dest(list_, *d);
    }
    return "overload " + label(*d) + (d->overloaded() ? " on" : " off");
  }
  void mutate_counts(Dest& d) {
    switch (below(8)) {
      case 0:
        ++d.active_conns;
        break;
      case 1:
        if (d.active_conns > 0) --d.active_conns;
        break;
      case 2:
        ++d.inactive_conns;
        break;
      case 3:
        if (d.inactive_conns > 0) --d.inactive_conns;
        break;
      case 4:  // ESTABLISHED -> FIN_WAIT and the like
        if (d.active_conns > 0) {
          --d.active_conns;
          ++d.inactive_conns;
        }
        break;
      case 5:  // SYN_RECV -> ESTABLISHED
        if (d.inactive_conns > 0) {
          --d.inactive_conns;
          ++d.active_conns;
        }
        break;
      case 6:
        d.active_conns = 0;
        d.inactive_conns = 0;
        break;
      default:
        d.active_conns = random_count();
        d.inactive_conns = random_count();
        break;
    }
  }
  std::string change_counts() {
    Dest* d = random_listed();
    if (d == nullptr) return add_new();
    mutate_counts(*d);
    sched_->on_conn_counts(*d);
    return "counts " + label(*d) + " " + std::to_string(d->active_conns) + "/" +
           std::to_string(d->inactive_conns);
  }
  // A deleted server whose connections still end: the engine keeps calling on_conn_counts.
  std::string change_trashed_counts() {
    if (trash_.empty()) return change_counts();
    Dest& d = *trash_[below(trash_.size())];
    mutate_counts(d);
    if (below(3) == 0) d.flags ^= kDestOverload;
    sched_->on_conn_counts(d);
    return "trashed counts " + label(d);
  }
  std::string rebind() {
    if (below(2) == 0) {  // ipvsadm -E to the same scheduler name: a fresh instance
      sched_->done_service();
      sched_ = make_scheduler(name_);
      sched_->init_service(list_);
      return "new instance";
    }
    sched_->done_service();
    sched_->init_service(list_);
    return "re-init";
  }
  std::string pick_and_take() {
    Dest* d = sched_->schedule(list_, SchedPacket{});
    if (d == nullptr) return "pick none";
    ++d->inactive_conns;  // a new connection starts inactive (SYN_RECV)
    sched_->on_conn_counts(*d);
    if (below(2) == 0) {
      --d->inactive_conns;
      ++d->active_conns;
      sched_->on_conn_counts(*d);
    }
    return "pick " + label(*d);
  }

  bool check(DiffStats& stats) {
    ++stats.checks;
    Dest* got = sched_->schedule(list_, SchedPacket{});
    Dest* want = ref_(list_);
    if (got != want) {
      std::string dump;
      for (const Dest* d : list_) {
        dump += "  " + label(*d) + " seq " + std::to_string(d->list_seq) + " w " +
                std::to_string(d->weight) + " a " + std::to_string(d->active_conns) + " i " +
                std::to_string(d->inactive_conns) + (d->overloaded() ? " OVERLOAD" : "") + "\n";
      }
      std::string events;
      const size_t from = log_.size() > 12 ? log_.size() - 12 : 0;
      for (size_t i = from; i < log_.size(); ++i) events += "  " + log_[i] + "\n";
      ADD_FAILURE() << name_ << ": picked " << (got ? label(*got) : "none") << ", IPVS picks "
                    << (want ? label(*want) : "none") << " after " << log_.size()
                    << " events; list:\n"
                    << dump << "last events:\n"
                    << events;
      return false;
    }
    if (want != nullptr) {
      ++stats.picked;
      // Would the scan pick another server of the same load if `want` were not there? Then
      // list order decided.
      if (list_.size() > 1) {
        const uint32_t saved = want->flags;
        want->flags |= kDestOverload;
        Dest* second = ref_(list_);
        want->flags = saved;
        if (second != nullptr && same_load(*second, *want)) ++stats.ties;
      }
      if (want->weight > 65535 || want->active_conns > (1u << 23)) ++stats.big;
    }
    return true;
  }
  // Equal keys as the scheduler sees them (two servers IPVS can only separate by list order).
  bool same_load(const Dest& a, const Dest& b) const {
    auto num = [&](const Dest& d) -> I128 {
      if (name_ == "lc" || name_ == "wlc") return conn_overhead(d);
      if (name_ == "fo" || name_ == "ovf") return 1;
      if (name_ == "nq" && d.active_conns == 0) return 0;
      return I128(d.active_conns) + 1;
    };
    auto den = [&](const Dest& d) -> I128 { return name_ == "lc" ? 1 : d.weight; };
    return num(a) * den(b) == num(b) * den(a);
  }

  std::string name_;
  std::mt19937_64 rng_;
  Reference ref_ = nullptr;
  std::unique_ptr<Scheduler> sched_;
  std::deque<Dest> storage_;
  std::vector<Dest*> list_;
  std::vector<Dest*> trash_;
  std::vector<std::string> log_;
  size_t max_servers_ = 0;
  bool big_numbers_ = false;
  uint32_t count_range_ = 0;
  uint64_t next_seq_ = 1;
  uint32_t next_id_ = 1;
};

// `sequences` random sequences of `steps` events each; seeds are fixed, so a failure replays.
inline DiffStats run_differential(std::string_view sched, int sequences, int steps,
                                  uint64_t seed = 0x1f5eed) {
  DiffStats stats;
  for (int s = 0; s < sequences; ++s) {
    DiffWorld world(sched, seed + uint64_t(s) * 0x9e3779b97f4a7c15ull);
    ++stats.sequences;
    for (int i = 0; i < steps; ++i) {
      if (!world.step(stats)) {
        ADD_FAILURE() << sched << ": sequence " << s << " (seed " << seed << ") step " << i;
        return stats;
      }
    }
  }
  return stats;
}

}  // namespace lvs::sched::testing
