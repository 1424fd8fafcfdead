// The scale targets for the control plane: a configuration of 10,000 services x 10 real
// servers. Google Benchmark, one engine (one worker's share of the work):
//
//   BM_Parse            keepalived.conf text -> Config (the file is generated: 10,000
//                       virtual_server blocks, 110,000 lines)
//   BM_Reparse1pct      the same with 1% of the services changed, read as a reload does: with
//                       the running Config, whose unchanged blocks are copied, not parsed
//   BM_Load             diff(empty, config) applied to a fresh engine: lvsd's start
//   BM_Reload1pct       diff(config, config') applied, where 1% of the services changed (half of
//                       them weights, a quarter added, a quarter removed): a SIGHUP
//   BM_MemoryPerService engine heap and config heap per service (malloc's in-use bytes)
//
// lvsd itself (start, reload through the API, lvsadm -Ln on 10,000 services) is measured by
// bench/scale.sh on the real binaries.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <malloc.h>

#include <string>

#include "core/engine.h"
#include "ctl/config.h"
#include "ctl/source.h"
#include "daemon/reload_memory.h"

namespace {

constexpr int kServices = 10000;
constexpr int kServers = 10;

// The services' VIPs from 198.18.0.0/16 (40 per /24), real servers from 198.19.0.0/16.
std::string config_text(int services, int changed_every) {
  std::string out;
  out.reserve(size_t(services) * 400);
  for (int s = 0; s < services; ++s) {
    const bool changed = changed_every > 0 && s % changed_every == 0;
    // A changed service: even ones get new weights, a quarter of them leave and as many arrive
    // (a different port).
    const int kind = changed ? (s / changed_every) % 4 : -1;
    const int port = kind == 3 ? 8080 : 80;
    if (kind == 2) continue;
    out += fmt::format(
        "virtual_server 198.18.{}.{} {} {{\n  protocol TCP\n  lb_algo wrr\n"
        "  lb_kind NAT\n",
        s / 250, s % 250 + 1, port);
    for (int r = 0; r < kServers; ++r) {
      // 100,000 servers do not fit in a /16: addresses repeat after 60,000, as real servers
      // that serve several VIPs do.
      const int a = (s * kServers + r) % 60000;
      out += fmt::format("  real_server 198.19.{}.{} 8080 {{ weight {} }}\n", a / 250, a % 250 + 1,
                         kind == 0 || kind == 1 ? 2 + r : 1);
    }
    out += "}\n";
  }
  return out;
}

lvs::ctl::Config parse(const std::string& text) {
  auto r = lvs::ctl::parse_config_text(text, "bench.conf");
  if (!r.ok()) {
    for (const auto& d : r.diagnostics) fmt::print(stderr, "{}\n", d.to_string());
    std::abort();
  }
  return std::move(*r.config);
}

lvs::core::EngineConfig engine_config() {
  lvs::core::EngineConfig ec;
  ec.conn_capacity = 1 << 16;
  ec.hash_seed = 42;
  return ec;
}

void BM_Parse(benchmark::State& state) {
  const std::string text = config_text(kServices, 0);
  for (auto _ : state) benchmark::DoNotOptimize(parse(text));
  state.counters["lines"] = double(std::count(text.begin(), text.end(), '\n'));
  state.counters["MB"] = double(text.size()) / 1e6;
}

void BM_Reparse1pct(benchmark::State& state) {
  const std::string a_text = config_text(kServices, 0);
  const std::string b_text = config_text(kServices, 100);
  lvs::ctl::Config running = parse(a_text);
  bool at_a = true;
  size_t reused = 0;
  for (auto _ : state) {
    // Alternate a -> b -> a, each read against the one before, as successive SIGHUPs.
    auto r = lvs::ctl::parse_config_text(at_a ? b_text : a_text, "bench.conf", &running);
    if (!r.ok()) std::abort();
    reused = r.reused;
    state.PauseTiming();
    running = std::move(*r.config);  // the old one freed outside the timing, as lvsd does
    state.ResumeTiming();
    at_a = !at_a;
  }
  state.counters["reused"] = double(reused);
}

// The lexing part of BM_Parse: the whole text into tokens.
void BM_Lex(benchmark::State& state) {
  const std::string text = config_text(kServices, 0);
  size_t tokens = 0;
  for (auto _ : state) {
    std::vector<lvs::ctl::Diagnostic> diags;
    const lvs::ctl::TokenList t = lvs::ctl::tokens_of_text(text, "bench.conf", diags);
    tokens = t.tokens.size();
    benchmark::DoNotOptimize(t.tokens.data());
  }
  state.counters["tokens"] = double(tokens);
}

void BM_Load(benchmark::State& state) {
  const lvs::ctl::Config cfg = parse(config_text(kServices, 0));
  size_t ops = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto engine = std::make_unique<lvs::core::Engine>(engine_config());
    state.ResumeTiming();
    const auto plan = lvs::ctl::diff(lvs::ctl::Config{}, cfg);
    const lvs::core::Status st = lvs::ctl::apply(*engine, plan);
    if (!st.ok()) state.SkipWithError(st.message().c_str());
    ops = plan.size();
    state.PauseTiming();
    engine.reset();
    state.ResumeTiming();
  }
  state.counters["ops"] = double(ops);
}

void BM_Reload1pct(benchmark::State& state) {
  const lvs::ctl::Config a = parse(config_text(kServices, 0));
  const lvs::ctl::Config b = parse(config_text(kServices, 100));
  lvs::core::Engine engine(engine_config());
  if (!lvs::ctl::apply(engine, lvs::ctl::diff(lvs::ctl::Config{}, a)).ok()) std::abort();
  bool at_a = true;
  size_t ops = 0;
  for (auto _ : state) {
    // Alternate a -> b -> a: every iteration is a 1% reload of the same size.
    const auto plan = at_a ? lvs::ctl::diff(a, b) : lvs::ctl::diff(b, a);
    const lvs::core::Status st = lvs::ctl::apply(engine, plan);
    if (!st.ok()) state.SkipWithError(st.message().c_str());
    ops = plan.size();
    at_a = !at_a;
  }
  state.counters["ops"] = double(ops);
}

void BM_MemoryPerService(benchmark::State& state) {
  const std::string text = config_text(kServices, 0);
  for (auto _ : state) {
    const size_t base = mallinfo2().uordblks;
    const lvs::ctl::Config cfg = parse(text);
    const size_t with_config = mallinfo2().uordblks;
    lvs::core::Engine engine(engine_config());
    const size_t empty_engine = mallinfo2().uordblks;
    if (!lvs::ctl::apply(engine, lvs::ctl::diff(lvs::ctl::Config{}, cfg)).ok()) std::abort();
    const size_t loaded = mallinfo2().uordblks;
    state.counters["config_B_per_svc"] = double(with_config - base) / kServices;
    state.counters["engine_B_per_svc"] = double(loaded - empty_engine) / kServices;
    state.counters["engine_MB_total"] = double(loaded - empty_engine) / 1e6;
  }
}

}  // namespace

BENCHMARK(BM_Parse)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_Reparse1pct)->Unit(benchmark::kMillisecond)->Iterations(20);
BENCHMARK(BM_Lex)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_Load)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_Reload1pct)->Unit(benchmark::kMillisecond)->Iterations(10);
BENCHMARK(BM_MemoryPerService)->Unit(benchmark::kMillisecond)->Iterations(1);
// As lvsd: reloads reuse the heap's pages (daemon/reload_memory.h).
int main(int argc, char** argv) {
  lvs::daemon::keep_reload_memory();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
