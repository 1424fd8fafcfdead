// Locality-based least-connection with replication, as IPVS ip_vs_lblcr.c: each destination
// address remembers a set of servers. A new connection goes to the least loaded member
// (overhead / weight, skipping members overloaded, without weight or gone from the service).
// If there is none, or it is overloaded by lblc's rule (more active connections than its weight
// while another server is under half of its weight), the weighted least-connection server of the
// whole service is picked and added to the set: the set grows under load. A set with more than
// one member that has not changed for the expiration time (lblcr_expiration, 24 h) loses its
// most loaded member (weight > 0) at the next lookup; the set's change time is refreshed by every
// addition and removal. Table, expiry and garbage collection: locality_table.h.
#include <algorithm>

#include "sched/factories_hash.h"
#include "sched/locality_table.h"

namespace lvs::sched {

namespace {

using locality::kNil;

struct Replicas {
  std::vector<uint32_t> set;  // slots; IPVS adds at the list head, here at the back
  uint64_t lastmod = 0;
};

// Frees what an entry holds when the table drops it.
struct ReleaseReplicas {
  locality::DestSlots* slots;
  void operator()(Replicas& r) const {
    for (uint32_t s : r.set) slots->release(s);
    r.set.clear();
  }
};

class LocalityLeastConnReplicated final : public LocalityScheduler {
 public:
  LocalityLeastConnReplicated(const LocalityConfig& config, const SipKey& key)
      : cfg_(config), table_(config, key) {}
  ~LocalityLeastConnReplicated() override { reset(); }

  std::string_view name() const override { return "lblcr"; }

  void init_service(DestList) override { reset(); }
  void done_service() override { reset(); }
  void add_dest(DestList, Dest& dest, size_t) override { slots_.on_add(dest); }
  void del_dest(DestList, Dest& dest, size_t) override { slots_.on_del(dest); }

  Dest* schedule(DestList dests, const SchedPacket& pkt) override {
    const uint64_t now = pkt.now_ns;
    table_.maintain(now, release());
    const net::IpAddr& daddr = addr_or_zero(pkt.daddr);
    uint32_t e = table_.find(daddr);
    if (e != kNil && now >= locality::add_sat(table_.at(e).lastuse, cfg_.expiration_ns)) {
      table_.erase(e, release());
      e = kNil;
    }
    if (e == kNil) {
      Dest* least = locality::least_conn(dests);
      if (least == nullptr) return nullptr;
      e = table_.insert(daddr, now);
      if (e != kNil) {
        Replicas& r = table_.at(e).payload;
        r.set.push_back(slots_.acquire(*least));
        r.lastmod = now;
      }
      return least;
    }

    auto& en = table_.at(e);
    en.lastuse = now;
    Replicas& r = en.payload;
    Dest* d = set_min(r);
    // More than one member and unchanged long enough: drop the busiest. IPVS chose `d` before
    // this, and still returns it below even if it was the one dropped.
    if (r.set.size() > 1 && now > locality::add_sat(r.lastmod, cfg_.expiration_ns)) {
      const auto m = set_max(r);
      if (m != r.set.end()) {
        slots_.release(*m);
        r.set.erase(m);
        r.lastmod = now;
      }
    }
    if (d != nullptr && !locality::overloaded_by_locality(*d, dests)) return d;

    d = locality::least_conn(dests);
    if (d == nullptr) return nullptr;
    const uint32_t slot = slots_.acquire(*d);
    if (std::find(r.set.begin(), r.set.end(), slot) != r.set.end()) {
      slots_.release(slot);  // already a member
    } else {
      r.set.push_back(slot);
      r.lastmod = now;
    }
    return d;
  }

  size_t entries() const override { return table_.size(); }
  std::vector<const Dest*> cached(const net::IpAddr& daddr) const override {
    const uint32_t e = table_.find(daddr);
    if (e == kNil) return {};
    const Replicas& r = table_.at(e).payload;
    std::vector<const Dest*> out;
    for (auto it = r.set.rbegin(); it != r.set.rend(); ++it) out.push_back(slots_.dest(*it));
    return out;
  }

 private:
  // ip_vs_dest_set_min, in list order (newest first): the first usable member, then any with a
  // strictly smaller overhead / weight.
  Dest* set_min(const Replicas& r) const {
    Dest* least = nullptr;
    int64_t loh = 0;
    for (auto it = r.set.rbegin(); it != r.set.rend(); ++it) {
      Dest* d = slots_.dest(*it);
      if (d == nullptr || d->overloaded() || !(d->flags & kDestAvailable)) continue;
      if (least == nullptr) {
        if (d->weight <= 0) continue;
        least = d;
        loh = conn_overhead(*d);
        continue;
      }
      const int64_t doh = conn_overhead(*d);
      if (loh * d->weight > doh * least->weight) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }

  // ip_vs_dest_set_max: the first member with weight > 0, then any with a strictly larger
  // overhead / weight. Members that left the service count too, with their weight and the load
  // they had when they left.
  std::vector<uint32_t>::iterator set_max(Replicas& r) const {
    auto most = r.set.end();
    int64_t moh = 0;
    int64_t mw = 0;
    for (auto it = r.set.rbegin(); it != r.set.rend(); ++it) {
      const int64_t w = slots_.weight(*it);
      const int64_t doh = slots_.overhead(*it);
      if (w <= 0) continue;
      if (most == r.set.end() || moh * w < doh * mw) {
        most = std::next(it).base();
        moh = doh;
        mw = w;
      }
    }
    return most;
  }

  ReleaseReplicas release() { return ReleaseReplicas{&slots_}; }
  void reset() {
    table_.clear(release());
    slots_.clear();
  }

  LocalityConfig cfg_;
  locality::DestSlots slots_;
  locality::Table<Replicas> table_;
};

}  // namespace

std::unique_ptr<LocalityScheduler> make_lblcr_with(const SchedParams& params,
                                                   const LocalityConfig& config) {
  return std::make_unique<LocalityLeastConnReplicated>(config, locality::index_key(params.random));
}

std::unique_ptr<Scheduler> make_lblcr(const SchedParams& params) {
  return make_lblcr_with(params, LocalityConfig{});
}

}  // namespace lvs::sched
