#include "daemon/stats_book.h"

#include <boost/container_hash/hash.hpp>

namespace lvs::daemon {

namespace {

void add_dest(core::DestSnapshot& into, const core::DestSnapshot& d) {
  into.stats += d.stats;
  into.active_conns += d.active_conns;
  into.inactive_conns += d.inactive_conns;
  into.persist_conns += d.persist_conns;
}

void add_service(core::ServiceSnapshot& into, const core::ServiceSnapshot& s) {
  into.stats += s.stats;
  for (size_t i = 0; i < s.dests.size(); ++i) {
    const core::DestSnapshot& d = s.dests[i];
    if (i < into.dests.size() && into.dests[i].addr == d.addr && into.dests[i].port == d.port) {
      add_dest(into.dests[i], d);
      continue;
    }
    for (auto& md : into.dests) {
      if (md.addr == d.addr && md.port == d.port) {
        add_dest(md, d);
        break;
      }
    }
  }
}

size_t hash_addr(const net::IpAddr& a) {
  size_t h = boost::hash_range(a.bytes.begin(), a.bytes.end());
  boost::hash_combine(h, uint8_t(a.family));
  return h;
}

}  // namespace

void merge_snapshot(std::vector<core::ServiceSnapshot>& into,
                    std::vector<core::ServiceSnapshot>&& add) {
  if (into.empty()) {
    into = std::move(add);
    return;
  }
  boost::unordered_flat_map<core::ServiceKey, size_t, StatsBook::Hash> index;  // built on the first service out of place
  for (size_t i = 0; i < add.size(); ++i) {
    const core::ServiceSnapshot& s = add[i];
    if (i < into.size() && into[i].key == s.key) {
      add_service(into[i], s);
      continue;
    }
    if (index.empty()) {
      for (size_t j = 0; j < into.size(); ++j) index.emplace(into[j].key, j);
    }
    if (const auto it = index.find(s.key); it != index.end()) add_service(into[it->second], s);
  }
}

size_t StatsBook::Hash::operator()(const DestKey& k) const {
  size_t h = (*this)(k.svc);
  boost::hash_combine(h, hash_addr(k.addr));
  boost::hash_combine(h, k.port);
  return h;
}

void StatsBook::sample(const std::vector<core::ServiceSnapshot>& merged) {
  ++generation_;
  const auto step = [this](Entry& e, const core::Counters& c, bool fresh) {
    if (fresh) {
      // Created since the last sample, with counters from 0: as ip_vs_start_estimator, the
      // estimator starts from zero, so its first seconds count.
      e.est.reset({});
      e.est.sample(c);
    } else if (e.restart) {
      e.est.reset(c);
      e.restart = false;
    } else {
      e.est.sample(c);
    }
    e.generation = generation_;
  };
  for (const auto& s : merged) {
    auto [it, fresh] = services_.try_emplace(s.key);
    step(it->second, s.stats, fresh);
    for (const auto& d : s.dests) {
      auto [dit, dfresh] = dests_.try_emplace(DestKey{s.key, d.addr, d.port});
      step(dit->second, d.stats, dfresh);
    }
  }
  // A service or server that left starts from nothing if it comes back, as in IPVS.
  boost::unordered::erase_if(services_, [this](const auto& kv) {
    return kv.second.generation != generation_;
  });
  boost::unordered::erase_if(dests_, [this](const auto& kv) {
    return kv.second.generation != generation_;
  });
}

void StatsBook::zeroed(const core::ServiceKey* key) {
  for (auto& [k, e] : services_) e.restart |= key == nullptr || k == *key;
  for (auto& [k, e] : dests_) e.restart |= key == nullptr || k.svc == *key;
}

core::Rates StatsBook::service(const core::ServiceKey& key) const {
  const auto it = services_.find(key);
  return it == services_.end() || it->second.restart ? core::Rates{} : it->second.est.rates();
}

core::Rates StatsBook::dest(const core::ServiceKey& key, const net::IpAddr& addr,
                            uint16_t port) const {
  const auto it = dests_.find(DestKey{key, addr, port});
  return it == dests_.end() || it->second.restart ? core::Rates{} : it->second.est.rates();
}

}  // namespace lvs::daemon
