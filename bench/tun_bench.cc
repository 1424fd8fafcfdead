// Google Benchmark of the VS/TUN transform (core::tun_encap) for every tunnel type, beside the
// VS/NAT rewrite (core::nat_in) on the same frames in the same run, so the ratio is what to read.
//
//   BM_NatIn/inner:F/frame:N                       nat_in: daddr + dport + checksums, in place
//   BM_TunEncap/type:T/csum:C/outer:O/inner:F/frame:N  tun_encap: L2 moved, outer headers written
//
// T is 0 ipip, 1 gue, 2 gre (core::TunType); C is 1 for kTunFlagCsum (a full checksum over the
// tunnelled packet for GUE's UDP and for GRE); O and F are the outer and inner IP versions; N is
// the frame length in bytes (64 or 1514). A frame is encapsulated in place again and again: the
// inner packet is never modified, so every call does the same work on a cache-hot frame, as the
// engine's would right after parsing it. ns_per_pkt is the figure to read.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/conn.h"
#include "core/xmit.h"
#include "core/xmit_tun.h"
#include "net/addr.h"
#include "net/packet_builder.h"
#include "net/parse.h"

namespace {

using namespace lvs;

constexpr size_t kHeadroom = 256;

// A UDP frame of `frame_len` bytes (Ethernet included) from a client to the VIP.
std::vector<uint8_t> make_frame(int inner, size_t frame_len) {
  net::PacketBuilder b;
  b.eth(net::mac(1), net::mac(2));
  size_t hdrs = net::kEthHdrLen + net::kUdpHdrLen;
  if (inner == 4) {
    b.ipv4(net::ip("198.18.0.1"), net::ip("198.18.1.10"));
    hdrs += net::kIpv4MinHdrLen;
  } else {
    b.ipv6(net::ip("2001:2::1"), net::ip("2001:2::a"));
    hdrs += net::kIpv6HdrLen;
  }
  b.udp(40000, 53).payload(std::vector<uint8_t>(frame_len > hdrs ? frame_len - hdrs : 0, 0x42));
  return b.build();
}

// A UMEM-like 2 KiB chunk holding one frame after kHeadroom bytes.
struct Slot {
  explicit Slot(const std::vector<uint8_t>& frame) {
    len = std::min(frame.size(), sizeof(mem) - kHeadroom);
    data = mem + kHeadroom;
    std::memcpy(data, frame.data(), len);
    p = net::parse_packet(data, len);
  }
  alignas(64) uint8_t mem[2048] = {};
  uint8_t* data;
  size_t len;
  net::ParsedPacket p;
};

void report(benchmark::State& state) {
  state.counters["ns_per_pkt"] = benchmark::Counter(
      double(state.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_NatIn(benchmark::State& state) {
  const int inner = int(state.range(0));
  Slot s(make_frame(inner, size_t(state.range(1))));
  if (!s.p.ok()) state.SkipWithError("frame does not parse");
  core::Conn c{};
  c.af = uint8_t(inner);
  c.dport = 8080;
  const net::IpAddr rs = net::ip(inner == 4 ? "198.18.2.20" : "2001:2:0:2::14");
  std::memcpy(c.daddr, rs.data(), rs.size());
  for (auto _ : state) {
    core::nat_in(s.data, s.p, c);
    benchmark::ClobberMemory();
  }
  report(state);
}

void BM_TunEncap(benchmark::State& state) {
  core::TunParams t;
  t.type = core::TunType(state.range(0));
  t.flags = state.range(1) ? core::kTunFlagCsum : 0;
  const int outer = int(state.range(2));
  const int inner = int(state.range(3));
  t.port = 6080;
  t.outer_src = net::ip(outer == 4 ? "198.18.2.1" : "2001:2:0:2::1");
  t.outer_dst = net::ip(outer == 4 ? "198.18.2.20" : "2001:2:0:2::14");
  Slot s(make_frame(inner, size_t(state.range(4))));
  if (!s.p.ok()) state.SkipWithError("frame does not parse");
  size_t n = 0;
  for (auto _ : state) {
    uint8_t* f = s.data;
    n = core::tun_encap(f, s.len, kHeadroom, s.p, t);
    benchmark::DoNotOptimize(f);
    benchmark::ClobberMemory();
  }
  if (n == 0) state.SkipWithError("tun_encap refused the frame");
  report(state);
}

BENCHMARK(BM_NatIn)->ArgNames({"inner", "frame"})->ArgsProduct({{4, 6}, {64, 1514}});

void tun_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"type", "csum", "outer", "inner", "frame"});
  for (int frame : {64, 1514}) {
    for (int fam : {4, 6}) {
      b->Args({0, 0, fam, fam, frame});
      b->Args({1, 0, fam, fam, frame});
      b->Args({1, 1, fam, fam, frame});
      b->Args({2, 0, fam, fam, frame});
      b->Args({2, 1, fam, fam, frame});
    }
    b->Args({0, 0, 6, 4, frame});  // 4in6
    b->Args({0, 0, 4, 6, frame});  // 6in4
  }
}
BENCHMARK(BM_TunEncap)->Apply(tun_args);

}  // namespace

BENCHMARK_MAIN();
