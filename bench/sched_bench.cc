// Google Benchmark: the cost of one scheduling decision, for every scheduler in
// sched::all_schedulers() with 1, 10, 100, 1,000 and 10,000 real servers.
//
//   pick/<scheduler>/<servers>  one iteration = what the engine does per new connection: schedule
//                               (source address, port and time vary per pick, for the hash and
//                               locality schedulers), a connection opens on the chosen server and
//                               the oldest open one ends, each reported through on_conn_counts.
//                               About 8 connections per server stay open, so least-connection
//                               schedulers keep reordering servers as a busy director would.
//   pick/ipvs-scan-wlc|lc/...   the same loop with IPVS's O(n) scan (ip_vs_wlc.c, ip_vs_lc.c),
//                               for comparison in the same run.
//
// Counter ns_per_pick: this thread's CPU time per iteration, in ns; no_server: the share of picks
// that found no server. At the end the run prints, per server count, how many times faster lvs's
// wlc and lc are than the scans (medians when run with --benchmark_repetitions).
#include <benchmark/benchmark.h>
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/addr.h"
#include "sched/registry.h"
#include "sched/scheduler.h"

namespace {

using namespace lvs;
using sched::Dest;
using sched::DestList;

constexpr int kServerCounts[] = {1, 10, 100, 1000, 10000};
constexpr size_t kConnsPerServer = 8;
constexpr size_t kClients = 4096;  // distinct source addresses cycled through

// IPVS's scans, as the kernel runs them on every new connection.
class IpvsScanWlc final : public sched::Scheduler {
 public:
  std::string_view name() const override { return "ipvs-scan-wlc"; }
  Dest* schedule(DestList dests, const sched::SchedPacket&) override {
    size_t i = 0;
    Dest* least = nullptr;
    for (; i < dests.size(); ++i) {
      if (!dests[i]->overloaded() && dests[i]->weight > 0) {
        least = dests[i];
        break;
      }
    }
    if (least == nullptr) return nullptr;
    int64_t loh = sched::conn_overhead(*least);
    for (++i; i < dests.size(); ++i) {
      Dest* d = dests[i];
      if (d->overloaded()) continue;
      const int64_t doh = sched::conn_overhead(*d);
      if (loh * d->weight > doh * least->weight) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }
};

class IpvsScanLc final : public sched::Scheduler {
 public:
  std::string_view name() const override { return "ipvs-scan-lc"; }
  Dest* schedule(DestList dests, const sched::SchedPacket&) override {
    Dest* least = nullptr;
    int64_t loh = 0;
    for (Dest* d : dests) {
      if (d->overloaded() || d->weight == 0) continue;
      const int64_t doh = sched::conn_overhead(*d);
      if (least == nullptr || doh < loh) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }
};

class XorShift final : public sched::RandomSource {
 public:
  uint64_t next() override {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    return s_;
  }

 private:
  uint64_t s_ = 0x9e3779b97f4a7c15ull;
};

using MakeFn = std::unique_ptr<sched::Scheduler> (*)(const sched::SchedParams&);

// This thread's CPU time: on a shared machine, time spent descheduled is not the scheduler's.
uint64_t thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}

void BM_Pick(benchmark::State& state, MakeFn make) {
  const size_t n = size_t(state.range(0));
  XorShift rng;
  auto s = make(sched::SchedParams{0, &rng});

  // Real servers 198.19.x.y:80, weights 1..4 (so weighted schedulers have real work), announced
  // one by one as ipvsadm -a does: each at the head of the list, with a growing list_seq.
  std::vector<std::unique_ptr<Dest>> storage;
  std::vector<Dest*> list;
  s->init_service(list);
  for (size_t i = 0; i < n; ++i) {
    auto d = std::make_unique<Dest>();
    d->addr = net::IpAddr::v4(0xc6130000u + uint32_t(i) + 1);
    d->port = 80;
    d->weight = int32_t(1 + i % 4);
    d->flags = sched::kDestAvailable;
    d->list_seq = i + 1;
    list.insert(list.begin(), d.get());
    s->add_dest(list, *d, 0);
    storage.push_back(std::move(d));
  }

  std::vector<net::IpAddr> clients(kClients);
  for (size_t i = 0; i < kClients; ++i) clients[i] = net::IpAddr::v4(0xc6120000u + uint32_t(i));
  const net::IpAddr vip = net::IpAddr::v4(0xc612ff01u);  // 198.18.255.1
  sched::SchedPacket pkt{nullptr, &vip, 0, 80, 6, 0};

  // Open connections in a ring: slot k holds the server of the connection opened C picks ago,
  // which ends when the slot is reused.
  std::vector<Dest*> ring(kConnsPerServer * n, nullptr);
  size_t slot = 0;
  uint64_t seq = 0;
  uint64_t failed = 0;
  auto one = [&] {
    pkt.saddr = &clients[seq % kClients];
    pkt.sport = uint16_t(1024 + seq % 60000);
    pkt.now_ns += 1000;  // a new connection every microsecond
    ++seq;
    Dest* d = s->schedule(list, pkt);
    if (d != nullptr) {
      ++d->active_conns;
      s->on_conn_counts(*d);
    } else {
      ++failed;
    }
    Dest* old = ring[slot];
    ring[slot] = d;
    if (++slot == ring.size()) slot = 0;
    if (old != nullptr) {
      --old->active_conns;
      s->on_conn_counts(*old);
    }
  };
  for (size_t i = 0; i < ring.size(); ++i) one();  // fill: steady state from the first timed pick
  failed = 0;

  const uint64_t t0 = thread_cpu_ns();
  for (auto _ : state) {
    one();
    benchmark::ClobberMemory();
  }
  const uint64_t t1 = thread_cpu_ns();
  state.counters["ns_per_pick"] = double(t1 - t0) / double(state.iterations());
  // Picks that found no server (ovf once every server has more active connections than its
  // weight): reported so a fast "none" is not mistaken for a fast pick.
  state.counters["no_server"] = double(failed) / double(state.iterations());
  s->done_service();
}

std::unique_ptr<sched::Scheduler> make_scan_wlc(const sched::SchedParams&) {
  return std::make_unique<IpvsScanWlc>();
}
std::unique_ptr<sched::Scheduler> make_scan_lc(const sched::SchedParams&) {
  return std::make_unique<IpvsScanLc>();
}

// The console output, plus the speed-up over IPVS's scan per server count at the end.
class RatioReporter final : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      auto it = r.counters.find("ns_per_pick");
      if (it == r.counters.end()) continue;
      // With --benchmark_repetitions, the median stands for the benchmark.
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      ns_[r.run_name.str()] = it->second.value;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nspeed-up over IPVS's O(n) scan (same loop, same run):\n");
    for (const char* algo : {"wlc", "lc"}) {
      for (int n : kServerCounts) {
        const std::string suffix = "/" + std::to_string(n);
        auto ours = ns_.find(std::string("pick/") + algo + suffix);
        auto scan = ns_.find(std::string("pick/ipvs-scan-") + algo + suffix);
        if (ours == ns_.end() || scan == ns_.end() || ours->second <= 0) continue;
        std::printf("  %-3s %6d servers: %9.1f ns vs %9.1f ns  %7.1fx\n", algo, n, ours->second,
                    scan->second, scan->second / ours->second);
      }
    }
  }

 private:
  std::map<std::string, double> ns_;  // CPU ns per pick, by benchmark name
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::vector<std::pair<std::string, MakeFn>> all;
  for (const sched::SchedInfo& info : sched::all_schedulers()) {
    all.emplace_back(std::string(info.name), info.make);
  }
  all.emplace_back("ipvs-scan-wlc", &make_scan_wlc);
  all.emplace_back("ipvs-scan-lc", &make_scan_lc);
  for (const auto& [name, make] : all) {
    benchmark::RegisterBenchmark(("pick/" + name).c_str(), BM_Pick, make)
        ->Apply([](benchmark::internal::Benchmark* b) {
          for (int n : kServerCounts) b->Arg(n);
        });
  }
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
