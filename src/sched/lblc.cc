// Locality-based least-connection, as IPVS ip_vs_lblc.c: each destination address remembers a
// server. A new connection to that address goes to it (and refreshes the entry's last use) while
// it is in the service, has a weight and is not overloaded by lblc's own rule (more active
// connections than its weight while another server is under half of its weight; the upper
// threshold flag is not consulted here). Otherwise the weighted least-connection server is picked
// and remembered. Table, expiry and garbage collection: locality_table.h.
#include "sched/factories_hash.h"
#include "sched/locality_table.h"

namespace lvs::sched {

namespace {

using locality::kNil;

struct Remembered {
  uint32_t slot = kNil;
};

// Frees what an entry holds when the table drops it.
struct ReleaseRemembered {
  locality::DestSlots* slots;
  void operator()(Remembered& r) const {
    if (r.slot != kNil) slots->release(r.slot);
    r.slot = kNil;
  }
};

class LocalityLeastConn final : public LocalityScheduler {
 public:
  LocalityLeastConn(const LocalityConfig& config, const SipKey& key)
      : cfg_(config), table_(config, key) {}
  ~LocalityLeastConn() override { reset(); }

  std::string_view name() const override { return "lblc"; }

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
    if (e != kNil) {
      auto& en = table_.at(e);
      en.lastuse = now;
      Dest* d = slots_.dest(en.payload.slot);
      if (d != nullptr && (d->flags & kDestAvailable) && d->weight > 0 &&
          !locality::overloaded_by_locality(*d, dests)) {
        return d;
      }
    }
    Dest* least = locality::least_conn(dests);
    if (least == nullptr) return nullptr;
    if (e == kNil) {
      e = table_.insert(daddr, now);
      if (e != kNil) table_.at(e).payload.slot = slots_.acquire(*least);
    } else if (slots_.dest(table_.at(e).payload.slot) != least) {
      // ip_vs_lblc_new replaces the entry: new server, fresh last use, bucket head.
      auto& en = table_.at(e);
      const uint32_t slot = slots_.acquire(*least);
      slots_.release(en.payload.slot);
      en.payload.slot = slot;
      en.lastuse = now;
      table_.move_to_front(e);
    }
    return least;
  }

  size_t entries() const override { return table_.size(); }
  std::vector<const Dest*> cached(const net::IpAddr& daddr) const override {
    const uint32_t e = table_.find(daddr);
    if (e == kNil) return {};
    return {slots_.dest(table_.at(e).payload.slot)};
  }

 private:
  ReleaseRemembered release() { return ReleaseRemembered{&slots_}; }
  void reset() {
    table_.clear(release());
    slots_.clear();
  }

  LocalityConfig cfg_;
  locality::DestSlots slots_;
  locality::Table<Remembered> table_;
};

}  // namespace

std::unique_ptr<LocalityScheduler> make_lblc_with(const SchedParams& params,
                                                  const LocalityConfig& config) {
  return std::make_unique<LocalityLeastConn>(config, locality::index_key(params.random));
}

std::unique_ptr<Scheduler> make_lblc(const SchedParams& params) {
  return make_lblc_with(params, LocalityConfig{});
}

}  // namespace lvs::sched
