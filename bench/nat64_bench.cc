// Google Benchmark of the NAT64 translation (core::nat64_in / nat64_out) beside the FULLNAT
// rewrite of the same direction (core::fnat_in / fnat_out) in the same run, so the ratio is what
// to read.
//
//   BM_FnatIn/proto:P/frame:N        IPv6 client frame, fnat_in to an IPv6 real server: both
//                                    addresses and ports rewritten in place, one checksum delta
//   BM_Nat64In/proto:P/frame:N       the same IPv6 frame, nat64_in to an IPv4 real server: IPv4
//                                    header written, L2 moved forward 20 bytes
//   BM_FnatOut/proto:P/frame:N       IPv4 reply, fnat_out (IPv4 on both sides, TTL - 1)
//   BM_Nat64Out/proto:P/frame:N/csum0:Z  the same IPv4 reply, nat64_out: IPv6 header written,
//                                    L2 moved back 20 bytes; Z=1 is a UDP datagram without
//                                    checksum, which gets a full one (cost grows with the frame)
//   BM_Restore/frame:N               the per-iteration reset alone (see below): subtract it
//
// P is 6 (TCP) or 17 (UDP), N the frame length in bytes (64 or 1514; IPv6 frames are at least
// 74 with TCP). A transform changes its frame (the NAT64 ones change its family), so before each
// call the header bytes (L2 + IP + transport header; no transform writes the payload) are copied
// back from a pristine copy and the Packet reset: every call does the same work on a cache-hot
// frame, as the engine's would right after parsing it.
// BM_Restore measures that copy alone. ns_per_pkt is the figure to read.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/conn.h"
#include "core/types.h"
#include "core/xmit_fnat.h"
#include "core/xmit_nat64.h"
#include "net/addr.h"
#include "net/headers.h"
#include "net/packet_builder.h"
#include "net/parse.h"

namespace {

using namespace lvs;

constexpr uint32_t kHeadroom = 256;
const net::IpAddr kClient6 = net::ip("2001:2::1");
const net::IpAddr kVip6 = net::ip("2001:2:2::100");
const net::IpAddr kRs4 = net::ip("198.18.1.11");
const net::IpAddr kLocal4 = net::ip("198.18.1.50");
const net::IpAddr kRs6 = net::ip("2001:2:1::11");
const net::IpAddr kLocal6 = net::ip("2001:2:1::50");
const net::IpAddr kClient4 = net::ip("198.18.0.1");
const net::IpAddr kVip4 = net::ip("198.18.2.100");

// A client -> VIP (in) or real server -> local address (out) frame of about `frame_len` bytes.
std::vector<uint8_t> make_frame(bool in, int proto, size_t frame_len, bool udp_csum0) {
  net::PacketBuilder b;
  b.eth(net::mac(1), net::mac(2));
  size_t hdrs = net::kEthHdrLen + (proto == net::kProtoTcp ? net::kTcpMinHdrLen : net::kUdpHdrLen);
  if (in) {
    b.ipv6(kClient6, kVip6);
    hdrs += net::kIpv6HdrLen;
  } else {
    b.ipv4(kRs4, kLocal4);
    hdrs += net::kIpv4MinHdrLen;
  }
  if (proto == net::kProtoTcp) {
    b.tcp(in ? 40000 : 8080, in ? 80 : 1024, net::kTcpAck, 1000, 2000);
  } else {
    b.udp(in ? 40000 : 8080, in ? 80 : 1024);
  }
  if (udp_csum0) b.no_udp_checksum();
  b.payload(std::vector<uint8_t>(frame_len > hdrs ? frame_len - hdrs : 0, 0x42));
  return b.build();
}

core::Conn make_conn(int proto, bool nat64, bool out_v4_fnat) {
  core::Conn c{};
  c.proto = uint8_t(proto);
  c.fwd = uint8_t(core::Fwd::kFullNat);
  c.cport = 40000;
  c.vport = 80;
  c.dport = 8080;
  c.lport = 1024;
  if (out_v4_fnat) {  // FULLNAT IPv4 on both sides, for fnat_out on an IPv4 reply
    c.af = 4;
    std::memcpy(c.caddr, kClient4.data(), 4);
    std::memcpy(c.vaddr, kVip4.data(), 4);
    std::memcpy(c.daddr, kRs4.data(), 4);
    return c;
  }
  c.af = 6;
  c.flags = nat64 ? core::kConnNat64 : 0;
  std::memcpy(c.caddr, kClient6.data(), 16);
  std::memcpy(c.vaddr, kVip6.data(), 16);
  const net::IpAddr& rs = nat64 ? kRs4 : kRs6;
  std::memcpy(c.daddr, rs.data(), rs.size());
  return c;
}

// A UMEM-like 2 KiB chunk holding one frame after kHeadroom bytes, with the pristine header
// bytes kept aside for reset().
struct Slot {
  explicit Slot(const std::vector<uint8_t>& frame) {
    len = uint32_t(std::min(frame.size(), sizeof(mem) - kHeadroom));
    std::memcpy(mem + kHeadroom, frame.data(), len);
    p = net::parse_packet(mem + kHeadroom, len);
    const uint8_t* l4 = mem + kHeadroom + p.l4_offset;
    head = p.l4_offset + (p.is_tcp() ? size_t(l4[12] >> 4) * 4 : net::kUdpHdrLen);
    std::memcpy(pristine, mem + kHeadroom, head);
    reset();
  }
  void reset() {
    std::memcpy(mem + kHeadroom, pristine, head);
    pkt.data = mem + kHeadroom;
    pkt.len = len;
    pkt.headroom = kHeadroom;
    pkt.tailroom = uint32_t(sizeof(mem) - kHeadroom - len);
  }
  alignas(64) uint8_t mem[2048] = {};
  uint8_t pristine[128] = {};
  size_t head = 0;
  uint32_t len = 0;
  net::ParsedPacket p;
  core::Packet pkt;
};

void report(benchmark::State& state) {
  state.counters["ns_per_pkt"] = benchmark::Counter(
      double(state.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Restore(benchmark::State& state) {
  Slot s(make_frame(true, net::kProtoTcp, size_t(state.range(0)), false));
  for (auto _ : state) {
    s.reset();
    benchmark::ClobberMemory();
  }
  report(state);
}

void BM_FnatIn(benchmark::State& state) {
  const int proto = int(state.range(0));
  Slot s(make_frame(true, proto, size_t(state.range(1)), false));
  if (!s.p.ok()) state.SkipWithError("frame does not parse");
  const core::Conn c = make_conn(proto, false, false);
  for (auto _ : state) {
    s.reset();
    core::fnat_in(s.pkt.data, s.p, c, kLocal6.data());
    benchmark::ClobberMemory();
  }
  report(state);
}

void BM_Nat64In(benchmark::State& state) {
  const int proto = int(state.range(0));
  Slot s(make_frame(true, proto, size_t(state.range(1)), false));
  if (!s.p.ok()) state.SkipWithError("frame does not parse");
  const core::Conn c = make_conn(proto, true, false);
  size_t n = 0;
  for (auto _ : state) {
    s.reset();
    n = core::nat64_in(s.pkt, s.p, c, kLocal4.data());
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
  if (n == 0) state.SkipWithError("nat64_in refused the frame");
  report(state);
}

void BM_FnatOut(benchmark::State& state) {
  const int proto = int(state.range(0));
  Slot s(make_frame(false, proto, size_t(state.range(1)), false));
  if (!s.p.ok()) state.SkipWithError("frame does not parse");
  const core::Conn c = make_conn(proto, false, true);
  bool ok = true;
  for (auto _ : state) {
    s.reset();
    ok = core::fnat_out(s.pkt.data, s.p, c);
    benchmark::DoNotOptimize(ok);
    benchmark::ClobberMemory();
  }
  if (!ok) state.SkipWithError("fnat_out refused the frame");
  report(state);
}

void BM_Nat64Out(benchmark::State& state) {
  const int proto = int(state.range(0));
  const bool csum0 = state.range(2) != 0;
  Slot s(make_frame(false, proto, size_t(state.range(1)), csum0));
  if (!s.p.ok()) state.SkipWithError("frame does not parse");
  const core::Conn c = make_conn(proto, true, false);
  size_t n = 0;
  for (auto _ : state) {
    s.reset();
    n = core::nat64_out(s.pkt, s.p, c);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
  if (n == 0) state.SkipWithError("nat64_out refused the frame");
  report(state);
}

BENCHMARK(BM_Restore)->ArgNames({"frame"})->Arg(64)->Arg(1514);
BENCHMARK(BM_FnatIn)->ArgNames({"proto", "frame"})->ArgsProduct({{6, 17}, {64, 1514}});
BENCHMARK(BM_Nat64In)->ArgNames({"proto", "frame"})->ArgsProduct({{6, 17}, {64, 1514}});
BENCHMARK(BM_FnatOut)->ArgNames({"proto", "frame"})->ArgsProduct({{6, 17}, {64, 1514}});
BENCHMARK(BM_Nat64Out)
    ->ArgNames({"proto", "frame", "csum0"})
    ->Args({6, 64, 0})
    ->Args({6, 1514, 0})
    ->Args({17, 64, 0})
    ->Args({17, 1514, 0})
    ->Args({17, 64, 1})
    ->Args({17, 1514, 1});

}  // namespace

BENCHMARK_MAIN();
