// Maglev hashing (mh): lookup-table rebuild time at each IPVS table size with 10, 100 and 1000
// servers, plus what a rebuild does to flows, reported as counters of each run:
//   imbalance   max entries of a server / (M / N) - 1, equal weights
//   moved_del   share of table entries whose server changes when one server of N leaves
//   moved_add   the same when one server joins (at the head of the list, as IPVS adds)
//   flows_del / flows_add   the same over 100,000 random client addresses
//   ideal       1 / N, what a perfectly consistent hash would move
// The rebuild target is <= 2 ms for a 65,537-entry table; IPVS's sizes nearest to it are
// 65521 (CONFIG_IP_VS_MH_TAB_INDEX 16) and 131071 (17).
//   build/bench/mh_bench --benchmark_filter=rebuild/16
#include <benchmark/benchmark.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "net/addr.h"
#include "sched/mh.h"

namespace {

using lvs::net::IpAddr;
using lvs::sched::Dest;
using lvs::sched::MhConfig;
using lvs::sched::MhScheduler;
using lvs::sched::SchedPacket;
using lvs::sched::SchedParams;

struct Service {
  std::deque<Dest> storage;
  std::vector<Dest*> list;

  explicit Service(size_t n) {
    for (size_t i = 0; i < n; ++i) list.push_back(&make(i));
  }
  Dest& make(size_t i) {
    Dest& d = storage.emplace_back();
    d.addr = IpAddr::v4(0xc6120000u + uint32_t(i / 250) * 256 + uint32_t(i % 250) + 1);
    d.port = 80;
    d.weight = 1;
    d.flags = lvs::sched::kDestAvailable;
    return d;
  }
};

std::unique_ptr<MhScheduler> make(unsigned index) {
  MhConfig c;
  c.tab_index = index;
  return lvs::sched::make_mh_with(SchedParams{}, c);
}

std::vector<IpAddr> clients(size_t n) {
  std::vector<IpAddr> v;
  uint64_t x = 42;
  for (size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    v.push_back(IpAddr::v4(uint32_t(x >> 32)));
  }
  return v;
}

std::vector<IpAddr> snapshot(const MhScheduler& m) {
  std::vector<IpAddr> v;
  for (const Dest* d : m.lookup_table()) v.push_back(d ? d->addr : IpAddr{});
  return v;
}

std::vector<IpAddr> route(MhScheduler& m, Service& s, const std::vector<IpAddr>& cs) {
  std::vector<IpAddr> v;
  const IpAddr vip = IpAddr::v4(0xc612ff01u);
  for (const IpAddr& c : cs) {
    const Dest* d = m.schedule(s.list, SchedPacket{&c, &vip, 1234, 80, 6, 0});
    v.push_back(d ? d->addr : IpAddr{});
  }
  return v;
}

double changed(const std::vector<IpAddr>& a, const std::vector<IpAddr>& b) {
  size_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += !(a[i] == b[i]);
  return double(n) / double(a.size());
}

void rebuild(benchmark::State& state) {
  const unsigned index = unsigned(state.range(0));
  const size_t n = size_t(state.range(1));
  const uint32_t m = lvs::sched::kMhPrimes[index - lvs::sched::kMhMinTabIndex];
  if (n > m) {
    state.SkipWithError("more servers than table entries");
    return;
  }
  Service svc(n);
  auto sched = make(index);
  sched->init_service(svc.list);

  // Flow figures, outside the timed loop.
  {
    std::vector<const Dest*> t(sched->lookup_table().begin(), sched->lookup_table().end());
    std::sort(t.begin(), t.end());
    size_t run = 0, most = 0;
    for (size_t i = 0; i < t.size(); ++i) {
      run = (i > 0 && t[i] == t[i - 1]) ? run + 1 : 1;
      most = std::max(most, run);
    }
    state.counters["imbalance"] = double(most) / (double(m) / double(n)) - 1.0;
  }
  const auto cs = clients(100000);
  {
    Service other(n);
    auto s2 = make(index);
    s2->init_service(other.list);
    const auto t0 = snapshot(*s2);
    const auto f0 = route(*s2, other, cs);
    Dest* gone = other.list[n / 2];
    other.list.erase(other.list.begin() + ptrdiff_t(n / 2));
    s2->del_dest(other.list, *gone, n / 2);
    state.counters["moved_del"] = changed(t0, snapshot(*s2));
    state.counters["flows_del"] = changed(f0, route(*s2, other, cs));
    const auto t1 = snapshot(*s2);
    const auto f1 = route(*s2, other, cs);
    Dest& fresh = other.make(100000);
    other.list.insert(other.list.begin(), &fresh);
    s2->add_dest(other.list, fresh, 0);
    state.counters["moved_add"] = changed(t1, snapshot(*s2));
    state.counters["flows_add"] = changed(f1, route(*s2, other, cs));
  }
  state.counters["ideal"] = 1.0 / double(n);
  state.counters["entries"] = double(m);

  // Timed: the full rebuild an upd_dest triggers.
  Dest& d = *svc.list[0];
  int32_t w = 1;
  for (auto _ : state) {
    w = 3 - w;  // 1, 2, 1, ...
    d.weight = w;
    sched->upd_dest(svc.list, d);
    benchmark::DoNotOptimize(sched->lookup_table().data());
  }
}

void rebuild_args(benchmark::internal::Benchmark* b) {
  for (int index = 8; index <= 17; ++index) {
    for (int n : {10, 100, 1000}) {
      if (n <= int(lvs::sched::kMhPrimes[size_t(index - 8)])) b->Args({index, n});
    }
  }
  b->ArgNames({"index", "servers"})->Unit(benchmark::kMicrosecond);
}
BENCHMARK(rebuild)->Apply(rebuild_args);

// One pick: hash the source and read the table.
void pick(benchmark::State& state) {
  Service svc(size_t(state.range(0)));
  auto sched = make(16);
  sched->init_service(svc.list);
  const auto cs = clients(4096);
  const IpAddr vip = IpAddr::v4(0xc612ff01u);
  size_t i = 0;
  for (auto _ : state) {
    const IpAddr& c = cs[i++ & 4095];
    benchmark::DoNotOptimize(sched->schedule(svc.list, SchedPacket{&c, &vip, 1234, 80, 6, 0}));
  }
}
BENCHMARK(pick)->Arg(10)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
