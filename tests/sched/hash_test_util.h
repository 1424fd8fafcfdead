// A service for the hash and locality scheduler tests: servers with real addresses and ports,
// kept in IPVS list order (new servers at the head) and announced through the scheduler's hooks
// as the engine does. A removed server's memory is freed at once (the engine may free it any
// time after del_dest), so a scheduler that keeps a stale pointer trips AddressSanitizer.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/addr.h"
#include "sched/flags.h"
#include "sched/scheduler.h"

namespace lvs::sched::testing {

inline net::IpAddr ip(std::string_view text) {
  auto a = net::IpAddr::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(net::IpAddr{});
}

struct ServerSpec {
  std::string addr;
  uint16_t port;
  int32_t weight;
};

class HashService {
 public:
  explicit HashService(std::unique_ptr<Scheduler> sched) : sched_(std::move(sched)) {
    EXPECT_NE(sched_, nullptr);
    sched_->init_service(list_);
  }
  // Servers added one by one, last to first, so the list ends up in the order given.
  HashService(std::unique_ptr<Scheduler> sched, const std::vector<ServerSpec>& servers)
      : HashService(std::move(sched)) {
    for (auto it = servers.rbegin(); it != servers.rend(); ++it) {
      add(it->addr, it->port, it->weight);
    }
  }
  // ipvsadm -E switching the scheduler: init_service sees the whole list at once (one table
  // build instead of one per server).
  struct Bind {};
  HashService(std::unique_ptr<Scheduler> sched, const std::vector<ServerSpec>& servers, Bind)
      : sched_(std::move(sched)) {
    EXPECT_NE(sched_, nullptr);
    for (const ServerSpec& spec : servers)
      list_.push_back(&make(spec.addr, spec.port, spec.weight));
    sched_->init_service(list_);
  }
  ~HashService() {
    if (sched_) sched_->done_service();
  }

  // ip_vs_add_dest: at the head of the list.
  Dest& add(std::string_view addr, uint16_t port, int32_t weight) {
    Dest& ref = make(addr, port, weight);
    list_.insert(list_.begin(), &ref);
    sched_->add_dest(list_, ref, 0);
    return ref;
  }
  // Unlinks, tells the scheduler, then frees the server.
  void del(Dest& d) {
    for (size_t i = 0; i < list_.size(); ++i) {
      if (list_[i] == &d) {
        list_.erase(list_.begin() + ptrdiff_t(i));
        d.flags &= ~kDestAvailable;
        sched_->del_dest(list_, d, i);
        for (auto& o : owned_) {
          if (o.get() == &d) o.reset();
        }
        return;
      }
    }
    ADD_FAILURE() << "not in the service";
  }
  void set_weight(Dest& d, int32_t weight) {
    d.weight = weight;
    sched_->upd_dest(list_, d);
  }
  void set_overloaded(Dest& d, bool on) {
    if (on) {
      d.flags |= kDestOverload;
    } else {
      d.flags &= ~kDestOverload;
    }
    sched_->on_conn_counts(d);
  }
  void set_active(Dest& d, uint32_t active, uint32_t inactive = 0) {
    d.active_conns = active;
    d.inactive_conns = inactive;
    sched_->on_conn_counts(d);
  }

  Dest* schedule(const SchedPacket& pkt) { return sched_->schedule(list_, pkt); }
  // A connection from `saddr` (sh, mh).
  Dest* from(std::string_view saddr, uint16_t sport = 0, uint8_t proto = 6) {
    const net::IpAddr s = ip(saddr);
    const net::IpAddr d = ip("198.18.255.1");
    return schedule(SchedPacket{&s, &d, sport, 80, proto, 0});
  }
  Dest* from(const net::IpAddr& s, uint16_t sport = 0, uint8_t proto = 6) {
    const net::IpAddr d = ip("198.18.255.1");
    return schedule(SchedPacket{&s, &d, sport, 80, proto, 0});
  }
  // A connection to `daddr` at time `now_ns` (dh, lblc, lblcr).
  Dest* to(std::string_view daddr, uint64_t now_ns = 0) { return to(ip(daddr), now_ns); }
  Dest* to(const net::IpAddr& d, uint64_t now_ns = 0) {
    const net::IpAddr s = ip("198.18.254.1");
    return schedule(SchedPacket{&s, &d, 40000, 80, 6, now_ns});
  }

  // Position of a server in the list, -1 for none or a server not in the service.
  int index(const Dest* d) const {
    for (size_t i = 0; i < list_.size(); ++i) {
      if (list_[i] == d) return int(i);
    }
    return -1;
  }
  Dest& at(size_t i) { return *list_.at(i); }
  size_t size() const { return list_.size(); }
  Scheduler& sched() { return *sched_; }
  DestList list() const { return list_; }

 private:
  Dest& make(std::string_view addr, uint16_t port, int32_t weight) {
    auto d = std::make_unique<Dest>();
    d->addr = ip(addr);
    d->port = port;
    d->weight = weight;
    d->flags = kDestAvailable;
    d->list_seq = ++seq_;
    Dest& ref = *d;
    owned_.push_back(std::move(d));
    return ref;
  }

  std::unique_ptr<Scheduler> sched_;
  std::vector<std::unique_ptr<Dest>> owned_;
  std::vector<Dest*> list_;
  uint64_t seq_ = 0;
};

// `n` servers 198.18.<i / 250>.<i % 250 + 1>:port, weight 1, list order = i.
inline std::vector<ServerSpec> numbered_servers(size_t n, uint16_t port = 80, int32_t weight = 1) {
  std::vector<ServerSpec> v;
  for (size_t i = 0; i < n; ++i) {
    v.push_back(
        {"198.18." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1), port, weight});
  }
  return v;
}

// A RandomSource that replays values, then repeats the last one.
class ScriptedRandom final : public RandomSource {
 public:
  explicit ScriptedRandom(std::vector<uint64_t> values) : values_(std::move(values)) {}
  uint64_t next() override {
    const uint64_t v = values_.at(pos_ < values_.size() ? pos_ : values_.size() - 1);
    ++pos_;
    return v;
  }
  size_t used() const { return pos_; }

 private:
  std::vector<uint64_t> values_;
  size_t pos_ = 0;
};

// A fixed-seed generator (splitmix64).
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}
  uint64_t next() override {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// Random IPv4 client addresses, reproducible.
inline std::vector<net::IpAddr> random_clients(size_t n, uint64_t seed) {
  SeededRandom r(seed);
  std::vector<net::IpAddr> v;
  v.reserve(n);
  for (size_t i = 0; i < n; ++i) v.push_back(net::IpAddr::v4(uint32_t(r.next() >> 32)));
  return v;
}

}  // namespace lvs::sched::testing
