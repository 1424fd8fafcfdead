// CRC32c for SCTP: throughput (bytes/s) of the SSE4.2 instruction path and of the portable
// slicing-by-8 table over 64, 512 and 1500 bytes, in one run, plus what NAT of an SCTP packet
// costs: the incremental port rewrite (sctp_set_ports) beside a full recomputation
// (sctp_csum_set), which is what IPVS does.
//   build/bench/crc32c_bench
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "net/bytes.h"
#include "net/crc32c.h"

namespace {

using lvs::net::crc32c_hw;
using lvs::net::crc32c_hw_available;
using lvs::net::crc32c_table;

std::vector<uint8_t> buffer(size_t n) {
  std::vector<uint8_t> b(n);
  uint32_t x = 0x12345678;
  for (auto& v : b) {
    x = x * 1103515245 + 12345;
    v = uint8_t(x >> 16);
  }
  return b;
}

void BM_Crc32cTable(benchmark::State& state) {
  const auto b = buffer(size_t(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(crc32c_table(b.data(), b.size()));
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32cTable)->Arg(64)->Arg(512)->Arg(1500);

void BM_Crc32cHw(benchmark::State& state) {
  if (!crc32c_hw_available()) {
    state.SkipWithError("no SSE4.2 on this CPU");
    return;
  }
  const auto b = buffer(size_t(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(crc32c_hw(b.data(), b.size()));
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32cHw)->Arg(64)->Arg(512)->Arg(1500);

// NAT of one SCTP packet of N bytes: change the destination port and fix the checksum, either
// incrementally or by recomputing it over the packet (crc32c(), the build's choice).
void BM_SctpNatIncremental(benchmark::State& state) {
  auto b = buffer(size_t(state.range(0)));
  lvs::net::sctp_csum_set(b.data(), b.size());
  uint16_t port = 1;
  for (auto _ : state) {
    lvs::net::sctp_set_ports(b.data(), b.size(), 40000, port++);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_SctpNatIncremental)->Arg(64)->Arg(512)->Arg(1500);

void BM_SctpNatRecompute(benchmark::State& state) {
  auto b = buffer(size_t(state.range(0)));
  uint16_t port = 1;
  for (auto _ : state) {
    lvs::net::store_be16(b.data() + 2, port++);
    lvs::net::sctp_csum_set(b.data(), b.size());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_SctpNatRecompute)->Arg(64)->Arg(512)->Arg(1500);

}  // namespace

BENCHMARK_MAIN();
