// NAT64 for FULLNAT (core::nat64_in / nat64_out), byte for byte. Every expected frame is built
// from scratch by net::PacketBuilder in the other family (full checksums computed by the builder
// itself, never patched), so it is an independent derivation of what the incremental translation
// must produce. Two of them are also given as bytes computed by a separate Python script (struct
// packing and its own RFC 1071 sum), which pins the header choices (ID 0, DF, TTL) independently
// of PacketBuilder's defaults. Addresses from the fixture topology: client 2001:2::1, VIP
// 2001:2:2::100, real server 198.18.1.11, local address 198.18.1.50.
#include "core/xmit_nat64.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "fixtures/topology.h"
#include "net/bytes.h"
#include "net/checksum.h"
#include "net/crc32c.h"
#include "net/packet_builder.h"
#include "net/parse.h"

namespace lvs::core {
namespace {

using fixtures::kClient6;
using fixtures::kExtMac;
using fixtures::kIntMac;
using fixtures::kRouterMac;
using fixtures::kRs1;
using fixtures::kRs1Mac;
using fixtures::kVip6;
using net::PacketBuilder;

const net::IpAddr kLocal = net::ip("198.18.1.50");
constexpr uint16_t kCport = 40000;
constexpr uint16_t kVport = 80;
constexpr uint16_t kDport = 8080;
constexpr uint16_t kLport = 1024;
constexpr uint32_t kHeadroom = 128;

// clang-format off
// TcpSynByteExact's output: 198.18.1.50:1024 -> 198.18.1.11:8080, TOS 0, ID 0, DF, TTL 60, SYN
// seq 1000, window 64240.
const std::vector<uint8_t> kWantInTcpSyn = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe, 0x08, 0x00, 0x45, 0x00,
    0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x3c, 0x06, 0xb0, 0x6e, 0xc6, 0x12, 0x01, 0x32, 0xc6, 0x12,
    0x01, 0x0b, 0x04, 0x00, 0x1f, 0x90, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x50, 0x02,
    0xfa, 0xf0, 0xff, 0x17, 0x00, 0x00,
};
// UdpZeroChecksumGetsARealOne's output: [2001:2:2::100]:80 -> [2001:2::1]:40000, hop limit 63,
// "no checksum over IPv4".
const std::vector<uint8_t> kWantOutUdpZeroCsum = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x11, 0x86, 0xdd, 0x60, 0x00,
    0x00, 0x00, 0x00, 0x1d, 0x11, 0x3f, 0x20, 0x01, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x50, 0x9c, 0x40, 0x00, 0x1d, 0x6d, 0x39, 0x6e, 0x6f,
    0x20, 0x63, 0x68, 0x65, 0x63, 0x6b, 0x73, 0x75, 0x6d, 0x20, 0x6f, 0x76, 0x65, 0x72, 0x20, 0x49,
    0x50, 0x76, 0x34,
};
// clang-format on

Conn make_conn(uint8_t proto) {
  Conn c{};
  c.proto = proto;
  c.af = 6;
  c.fwd = uint8_t(Fwd::kFullNat);
  c.flags = kConnInUse | kConnFullNat | kConnNat64;
  c.cport = kCport;
  c.vport = kVport;
  c.dport = kDport;
  c.lport = kLport;
  std::memcpy(c.caddr, kClient6.data(), 16);
  std::memcpy(c.vaddr, kVip6.data(), 16);
  std::memcpy(c.daddr, kRs1.data(), 4);
  return c;
}

// A frame in a buffer with `headroom` bytes in front of it, as a backend hands it over.
struct Frame {
  explicit Frame(const std::vector<uint8_t>& bytes, uint32_t headroom = kHeadroom)
      : buf(4096, 0xee) {
    std::memcpy(buf.data() + headroom, bytes.data(), bytes.size());
    pkt.data = buf.data() + headroom;
    pkt.len = uint32_t(bytes.size());
    pkt.headroom = headroom;
    pkt.tailroom = uint32_t(buf.size() - headroom - bytes.size());
    p = net::parse_packet(pkt.data, pkt.len);
  }
  std::vector<uint8_t> out() const { return {pkt.data, pkt.data + pkt.len}; }
  std::vector<uint8_t> buf;
  Packet pkt;
  net::ParsedPacket p;
};

// An SCTP packet with one DATA-less chunk of `type`; its CRC32c computed over the whole packet.
std::vector<uint8_t> sctp(PacketBuilder b, uint16_t sport, uint16_t dport, uint8_t type) {
  const std::vector<uint8_t> l4 = {uint8_t(sport >> 8), uint8_t(sport), uint8_t(dport >> 8),
                                   uint8_t(dport), 0, 0, 0, 7, 0, 0, 0, 0,
                                   type, 0, 0, 8, 0, 0, 0, 1};
  auto f = b.raw_l4(net::kProtoSctp).payload(l4).build();
  const auto p = net::parse_packet(f.data(), f.size());
  net::sctp_csum_set(f.data() + p.l4_offset, p.l4_len());
  return f;
}

// Inserts IPv4 options after the 20-byte header of a frame built by PacketBuilder (untagged),
// fixing IHL, total length and the header checksum. The transport checksum does not cover them.
std::vector<uint8_t> with_ipv4_options(std::vector<uint8_t> f, const std::vector<uint8_t>& opts) {
  const size_t ip = net::kEthHdrLen;
  f.insert(f.begin() + ptrdiff_t(ip + 20), opts.begin(), opts.end());
  f[ip] = uint8_t(0x40 | (20 + opts.size()) / 4);
  net::store_be16(&f[ip + 2], uint16_t(net::load_be16(&f[ip + 2]) + opts.size()));
  net::store_be16(&f[ip + 10], 0);
  net::store_be16(&f[ip + 10], net::checksum(&f[ip], 20 + opts.size()));
  return f;
}

// ---- client -> real server ----

TEST(Nat64In, TcpSynByteExact) {
  const Conn c = make_conn(net::kProtoTcp);
  Frame fr(PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6).ttl(60)
               .tcp(kCport, kVport, net::kTcpSyn, 1000).build());
  ASSERT_TRUE(fr.p.ok());
  const uint32_t len0 = fr.pkt.len, tail0 = fr.pkt.tailroom;
  Nat64Status st = Nat64Status::kUntranslatable;
  const size_t n = nat64_in(fr.pkt, fr.p, c, kLocal.data(), &st);
  EXPECT_EQ(st, Nat64Status::kOk);
  // TTL kept (as fnat_in), ID 0, DF set, TOS 0.
  const auto want = PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kLocal, kRs1).ttl(60)
                        .tcp(kLport, kDport, net::kTcpSyn, 1000).build();
  EXPECT_EQ(n, want.size());
  EXPECT_EQ(fr.out(), want);
  EXPECT_EQ(fr.out(), kWantInTcpSyn);
  // The frame shrank at the front: data and headroom moved by 20, the tail stayed put.
  EXPECT_EQ(fr.pkt.len, len0 - 20);
  EXPECT_EQ(fr.pkt.data, fr.buf.data() + kHeadroom + 20);
  EXPECT_EQ(fr.pkt.headroom, kHeadroom + 20);
  EXPECT_EQ(fr.pkt.tailroom, tail0);
  EXPECT_TRUE(net::parse_packet(fr.pkt.data, fr.pkt.len).ok());
}

TEST(Nat64In, UdpPayloadTrafficClassToTos) {
  const Conn c = make_conn(net::kProtoUdp);
  Frame fr(PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6).tos(0xb9).ttl(17)
               .udp(kCport, kVport).payload("a NAT64 query, odd length").build());
  ASSERT_TRUE(fr.p.ok());
  ASSERT_NE(nat64_in(fr.pkt, fr.p, c, kLocal.data()), 0u);
  EXPECT_EQ(fr.out(), PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kLocal, kRs1).tos(0xb9)
                          .ttl(17).udp(kLport, kDport).payload("a NAT64 query, odd length")
                          .build());
}

TEST(Nat64In, ExtensionHeadersDropped) {
  const Conn c = make_conn(net::kProtoTcp);
  // Hop-by-hop (8), destination options (16), routing with no segments left (24): 48 bytes go.
  Frame fr(PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6).ttl(64)
               .ipv6_ext(net::kProtoHopByHop, 8).ipv6_ext(net::kProtoDstOpts, 16)
               .ipv6_ext(net::kProtoRouting, 24).tcp(kCport, kVport, net::kTcpAck, 7, 9)
               .payload("GET / HTTP/1.0\r\n\r\n").build());
  ASSERT_TRUE(fr.p.ok());
  ASSERT_EQ(fr.p.l4_offset, 14 + 40 + 48);
  const uint32_t len0 = fr.pkt.len;
  ASSERT_NE(nat64_in(fr.pkt, fr.p, c, kLocal.data()), 0u);
  EXPECT_EQ(fr.out(), PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kLocal, kRs1).ttl(64)
                          .tcp(kLport, kDport, net::kTcpAck, 7, 9)
                          .payload("GET / HTTP/1.0\r\n\r\n").build());
  EXPECT_EQ(fr.pkt.len, len0 - 68);
  EXPECT_EQ(fr.pkt.headroom, kHeadroom + 68);
}

TEST(Nat64In, VlanTagMovesWithTheHeader) {
  const Conn c = make_conn(net::kProtoUdp);
  // 22 bytes of L2 moving forward by 20: source and destination overlap.
  Frame fr(PacketBuilder().eth(kRouterMac, kExtMac).vlan(100).ipv6(kClient6, kVip6)
               .udp(kCport, kVport).payload("x").build());
  ASSERT_TRUE(fr.p.ok());
  ASSERT_NE(nat64_in(fr.pkt, fr.p, c, kLocal.data()), 0u);
  EXPECT_EQ(fr.out(), PacketBuilder().eth(kRouterMac, kExtMac).vlan(100).ipv4(kLocal, kRs1)
                          .udp(kLport, kDport).payload("x").build());
}

TEST(Nat64In, TrailingBytesCutOff) {
  const Conn c = make_conn(net::kProtoTcp);
  auto bytes = PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6)
                   .tcp(kCport, kVport, net::kTcpAck, 5, 6).build();
  bytes.insert(bytes.end(), 6, 0);  // link-layer padding past the IP length
  Frame fr(bytes);
  ASSERT_TRUE(fr.p.ok());
  const uint32_t tail0 = fr.pkt.tailroom;
  ASSERT_NE(nat64_in(fr.pkt, fr.p, c, kLocal.data()), 0u);
  EXPECT_EQ(fr.out(), PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kLocal, kRs1)
                          .tcp(kLport, kDport, net::kTcpAck, 5, 6).build());
  EXPECT_EQ(fr.pkt.tailroom, tail0 + 6);
}

TEST(Nat64In, Sctp) {
  const Conn c = make_conn(net::kProtoSctp);
  Frame fr(sctp(PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6).ttl(50), kCport,
                kVport, 1));
  ASSERT_TRUE(fr.p.ok());
  ASSERT_NE(nat64_in(fr.pkt, fr.p, c, kLocal.data()), 0u);
  EXPECT_EQ(fr.out(),
            sctp(PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kLocal, kRs1).ttl(50), kLport,
                 kDport, 1));
}

// Refused packets: 0, kUntranslatable, and not a byte of the buffer changed.
void expect_refused_in(const std::vector<uint8_t>& bytes, uint8_t proto) {
  const Conn c = make_conn(proto);
  Frame fr(bytes);
  const auto buf0 = fr.buf;
  const Packet pkt0 = fr.pkt;
  Nat64Status st = Nat64Status::kOk;
  EXPECT_EQ(nat64_in(fr.pkt, fr.p, c, kLocal.data(), &st), 0u);
  EXPECT_EQ(st, Nat64Status::kUntranslatable);
  EXPECT_EQ(fr.buf, buf0);
  EXPECT_EQ(fr.pkt.data, pkt0.data);
  EXPECT_EQ(fr.pkt.len, pkt0.len);
  EXPECT_EQ(fr.pkt.headroom, pkt0.headroom);
  EXPECT_EQ(fr.pkt.tailroom, pkt0.tailroom);
}

TEST(Nat64In, AtomicFragmentRefused) {
  // Offset 0, M clear: the parser passes it as a whole packet; translation refuses it.
  const auto f = PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6)
                     .ipv6_ext(net::kProtoFragment, 8).tcp(kCport, kVport, net::kTcpSyn)
                     .build();
  ASSERT_TRUE(net::parse_packet(f.data(), f.size()).ok());
  expect_refused_in(f, net::kProtoTcp);
}

TEST(Nat64In, FragmentRefused) {
  auto f = PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6)
               .ipv6_ext(net::kProtoFragment, 8).udp(kCport, kVport).payload("frag").build();
  f[14 + 40 + 3] = 1;  // M flag
  ASSERT_EQ(net::parse_packet(f.data(), f.size()).status, net::ParseStatus::kFragment);
  expect_refused_in(f, net::kProtoUdp);
}

TEST(Nat64In, RoutingHeaderWithSegmentsLeftRefused) {
  auto f = PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6)
               .ipv6_ext(net::kProtoRouting, 24).tcp(kCport, kVport, net::kTcpSyn).build();
  f[14 + 40 + 3] = 1;  // segments left
  ASSERT_TRUE(net::parse_packet(f.data(), f.size()).ok());
  expect_refused_in(f, net::kProtoTcp);
}

TEST(Nat64In, UdpZeroChecksumRefused) {
  const auto f = PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6)
                     .udp(kCport, kVport).payload("no checksum").no_udp_checksum().build();
  ASSERT_TRUE(net::parse_packet(f.data(), f.size()).ok());
  expect_refused_in(f, net::kProtoUdp);
}

TEST(Nat64In, IcmpAndIpv4Refused) {
  expect_refused_in(PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6)
                        .icmp(net::kIcmp6EchoRequest, 0, 0x12340001).build(),
                    net::kProtoIcmpv6);
  expect_refused_in(PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kLocal, kRs1)
                        .tcp(kCport, kVport, net::kTcpSyn).build(),
                    net::kProtoTcp);
}

// ---- real server -> client ----

TEST(Nat64Out, TcpSynAckByteExact) {
  const Conn c = make_conn(net::kProtoTcp);
  Frame fr(PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, kLocal).ttl(64)
               .tcp(kDport, kLport, net::kTcpSyn | net::kTcpAck, 5000, 1001).build());
  ASSERT_TRUE(fr.p.ok());
  const uint32_t len0 = fr.pkt.len, tail0 = fr.pkt.tailroom;
  Nat64Status st = Nat64Status::kUntranslatable;
  const size_t n = nat64_out(fr.pkt, fr.p, c, &st);
  EXPECT_EQ(st, Nat64Status::kOk);
  const auto want = PacketBuilder().eth(kRs1Mac, kIntMac).ipv6(kVip6, kClient6).ttl(63)
                        .tcp(kVport, kCport, net::kTcpSyn | net::kTcpAck, 5000, 1001).build();
  EXPECT_EQ(n, want.size());
  EXPECT_EQ(fr.out(), want);
  EXPECT_EQ(fr.pkt.len, len0 + 20);
  EXPECT_EQ(fr.pkt.data, fr.buf.data() + kHeadroom - 20);
  EXPECT_EQ(fr.pkt.headroom, kHeadroom - 20);
  EXPECT_EQ(fr.pkt.tailroom, tail0);
  EXPECT_TRUE(net::parse_packet(fr.pkt.data, fr.pkt.len).ok());
}

TEST(Nat64Out, UdpPayloadTosToTrafficClass) {
  const Conn c = make_conn(net::kProtoUdp);
  Frame fr(PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, kLocal).tos(0x2e).ttl(2)
               .dont_fragment(false).ip_id(0x4242).udp(kDport, kLport)
               .payload("an answer of odd length").build());
  ASSERT_TRUE(fr.p.ok());
  ASSERT_NE(nat64_out(fr.pkt, fr.p, c), 0u);
  // DF clear and the ID leave no trace: there is no Fragment header for an unfragmented packet.
  EXPECT_EQ(fr.out(), PacketBuilder().eth(kRs1Mac, kIntMac).ipv6(kVip6, kClient6).tos(0x2e)
                          .ttl(1).udp(kVport, kCport).payload("an answer of odd length")
                          .build());
}

TEST(Nat64Out, UdpZeroChecksumGetsARealOne) {
  const Conn c = make_conn(net::kProtoUdp);
  Frame fr(PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, kLocal).udp(kDport, kLport)
               .payload("no checksum over IPv4").no_udp_checksum().build());
  ASSERT_TRUE(fr.p.ok());
  ASSERT_NE(nat64_out(fr.pkt, fr.p, c), 0u);
  const auto want = PacketBuilder().eth(kRs1Mac, kIntMac).ipv6(kVip6, kClient6).ttl(63)
                        .udp(kVport, kCport).payload("no checksum over IPv4").build();
  EXPECT_EQ(fr.out(), want);
  EXPECT_EQ(fr.out(), kWantOutUdpZeroCsum);
}

TEST(Nat64Out, Ipv4OptionsDropped) {
  const Conn c = make_conn(net::kProtoTcp);
  const auto v4 = PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, kLocal)
                      .tcp(kDport, kLport, net::kTcpAck, 1, 2).payload("data").build();
  const auto want = PacketBuilder().eth(kRs1Mac, kIntMac).ipv6(kVip6, kClient6).ttl(63)
                        .tcp(kVport, kCport, net::kTcpAck, 1, 2).payload("data").build();
  // 4 bytes of options: the frame grows by 16.
  {
    Frame fr(with_ipv4_options(v4, {1, 1, 1, 0}));
    ASSERT_TRUE(fr.p.ok());
    ASSERT_NE(nat64_out(fr.pkt, fr.p, c), 0u);
    EXPECT_EQ(fr.out(), want);
    EXPECT_EQ(fr.pkt.headroom, kHeadroom - 16);
  }
  // 24 bytes (a record-route option and padding): the frame shrinks by 4, even with no headroom.
  {
    std::vector<uint8_t> opts = {7, 23, 4};
    opts.resize(24, 0);
    Frame fr(with_ipv4_options(v4, opts), 0);
    ASSERT_TRUE(fr.p.ok());
    ASSERT_NE(nat64_out(fr.pkt, fr.p, c), 0u);
    EXPECT_EQ(fr.out(), want);
    EXPECT_EQ(fr.pkt.headroom, 4u);
    EXPECT_EQ(fr.pkt.data, fr.buf.data() + 4);
  }
}

TEST(Nat64Out, EthernetPaddingCutOff) {
  const Conn c = make_conn(net::kProtoTcp);
  // A bare ACK is 54 bytes: on the wire it arrives padded to the 60-byte minimum.
  auto bytes = PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, kLocal)
                   .tcp(kDport, kLport, net::kTcpAck, 10, 20).build();
  ASSERT_EQ(bytes.size(), 54u);
  bytes.resize(60, 0);
  Frame fr(bytes);
  ASSERT_TRUE(fr.p.ok());
  const uint32_t tail0 = fr.pkt.tailroom;
  ASSERT_EQ(nat64_out(fr.pkt, fr.p, c), 74u);
  EXPECT_EQ(fr.out(), PacketBuilder().eth(kRs1Mac, kIntMac).ipv6(kVip6, kClient6).ttl(63)
                          .tcp(kVport, kCport, net::kTcpAck, 10, 20).build());
  EXPECT_EQ(fr.pkt.tailroom, tail0 + 6);
}

TEST(Nat64Out, VlanTagMovesWithTheHeader) {
  const Conn c = make_conn(net::kProtoTcp);
  Frame fr(PacketBuilder().eth(kRs1Mac, kIntMac).vlan(7).ipv4(kRs1, kLocal)
               .tcp(kDport, kLport, net::kTcpFin | net::kTcpAck, 3, 4).build());
  ASSERT_TRUE(fr.p.ok());
  ASSERT_NE(nat64_out(fr.pkt, fr.p, c), 0u);
  EXPECT_EQ(fr.out(), PacketBuilder().eth(kRs1Mac, kIntMac).vlan(7).ipv6(kVip6, kClient6)
                          .ttl(63).tcp(kVport, kCport, net::kTcpFin | net::kTcpAck, 3, 4)
                          .build());
}

TEST(Nat64Out, Sctp) {
  const Conn c = make_conn(net::kProtoSctp);
  Frame fr(sctp(PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, kLocal).ttl(64), kDport, kLport,
                2));
  ASSERT_TRUE(fr.p.ok());
  ASSERT_NE(nat64_out(fr.pkt, fr.p, c), 0u);
  EXPECT_EQ(fr.out(), sctp(PacketBuilder().eth(kRs1Mac, kIntMac).ipv6(kVip6, kClient6).ttl(63),
                           kVport, kCport, 2));
}

// 0, the status, and not a byte of the buffer changed.
void expect_refused_out(Frame& fr, const Conn& c, Nat64Status want) {
  const auto buf0 = fr.buf;
  const Packet pkt0 = fr.pkt;
  Nat64Status st = Nat64Status::kOk;
  EXPECT_EQ(nat64_out(fr.pkt, fr.p, c, &st), 0u);
  EXPECT_EQ(st, want);
  EXPECT_EQ(fr.buf, buf0);
  EXPECT_EQ(fr.pkt.data, pkt0.data);
  EXPECT_EQ(fr.pkt.len, pkt0.len);
  EXPECT_EQ(fr.pkt.headroom, pkt0.headroom);
  EXPECT_EQ(fr.pkt.tailroom, pkt0.tailroom);
}

TEST(Nat64Out, NoHeadroom) {
  const Conn c = make_conn(net::kProtoTcp);
  const auto bytes = PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, kLocal)
                         .tcp(kDport, kLport, net::kTcpAck, 1, 1).build();
  Frame none(bytes, 0);
  expect_refused_out(none, c, Nat64Status::kNoHeadroom);
  Frame short_by_one(bytes, 19);
  expect_refused_out(short_by_one, c, Nat64Status::kNoHeadroom);
  Frame exact(bytes, 20);
  EXPECT_NE(nat64_out(exact.pkt, exact.p, c), 0u);
  EXPECT_EQ(exact.pkt.data, exact.buf.data());
  EXPECT_EQ(exact.pkt.headroom, 0u);
}

TEST(Nat64Out, TtlExpired) {
  const Conn c = make_conn(net::kProtoUdp);
  for (int ttl : {0, 1}) {
    Frame fr(PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, kLocal).ttl(uint8_t(ttl))
                 .udp(kDport, kLport).payload("late").build());
    ASSERT_TRUE(fr.p.ok());
    expect_refused_out(fr, c, Nat64Status::kTtlExceeded);
  }
}

TEST(Nat64Out, FragmentsAndOtherTransportsRefused) {
  const Conn c = make_conn(net::kProtoUdp);
  // MF set on an otherwise complete datagram (the parser reports a fragment).
  auto f = PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, kLocal).dont_fragment(false)
               .udp(kDport, kLport).payload("part").build();
  f[14 + 6] = 0x20;
  net::store_be16(&f[14 + 10], 0);
  net::store_be16(&f[14 + 10], net::checksum(&f[14], 20));
  Frame frag(f);
  ASSERT_EQ(frag.p.status, net::ParseStatus::kFragment);
  expect_refused_out(frag, c, Nat64Status::kUntranslatable);
  Frame icmp(PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, kLocal)
                 .icmp(net::kIcmpEchoReply, 0, 0x12340001).build());
  ASSERT_TRUE(icmp.p.ok());
  expect_refused_out(icmp, c, Nat64Status::kUntranslatable);
  Frame v6(PacketBuilder().eth(kRs1Mac, kIntMac).ipv6(kClient6, kVip6).udp(1, 2).build());
  expect_refused_out(v6, c, Nat64Status::kUntranslatable);
}

// Odd and even payload lengths, both ways: the checksum patch does not depend on the payload.
TEST(Nat64, UdpPayloadLengthsBothWays) {
  const Conn c = make_conn(net::kProtoUdp);
  for (size_t len : {size_t(0), size_t(1), size_t(2), size_t(3), size_t(100), size_t(1001),
                     size_t(1400)}) {
    std::vector<uint8_t> payload(len);
    for (size_t i = 0; i < len; ++i) payload[i] = uint8_t(i * 37 + len);
    Frame in(PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6).udp(kCport, kVport)
                 .payload(payload).build());
    ASSERT_NE(nat64_in(in.pkt, in.p, c, kLocal.data()), 0u);
    EXPECT_EQ(in.out(), PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kLocal, kRs1)
                            .udp(kLport, kDport).payload(payload).build())
        << len;
    Frame out(PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, kLocal).udp(kDport, kLport)
                  .payload(payload).build());
    ASSERT_NE(nat64_out(out.pkt, out.p, c), 0u);
    EXPECT_EQ(out.out(), PacketBuilder().eth(kRs1Mac, kIntMac).ipv6(kVip6, kClient6).ttl(63)
                             .udp(kVport, kCport).payload(payload).build())
        << len;
  }
}

TEST(Nat64, TranslatedLengths) {
  Frame in(PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6)
               .ipv6_ext(net::kProtoHopByHop, 8).udp(kCport, kVport).payload("abc").build());
  EXPECT_EQ(nat64_in_l3_len(in.p), 20u + 8 + 3);
  Frame out(with_ipv4_options(PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, kLocal)
                                  .udp(kDport, kLport).payload("abc").build(),
                              {1, 1, 1, 0}));
  EXPECT_EQ(nat64_out_l3_len(out.p), 40u + 8 + 3);
}

}  // namespace
}  // namespace lvs::core
