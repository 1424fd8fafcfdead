// PacketBuilder against frames written out byte by byte. The expected checksums were computed
// outside this code base; each test also re-verifies them with the naive reference checksum, so a
// wrong literal cannot hide a wrong builder.
#include "net/packet_builder.h"

#include <gtest/gtest.h>

#include "net/checksum.h"
#include "net/headers.h"
#include "net/parse.h"
#include "net/test_util.h"

namespace lvs::net {
namespace {

using testing::Bytes;
using testing::get16;
using testing::hex;
using testing::ref_checksum;
using testing::ref_sum;

// The transport checksum of the IP packet at `l3` verified from scratch: pseudo header plus the
// transport bytes must sum to ffff.
uint16_t l4_sum(const Bytes& f, size_t l3, bool v6, size_t l4_off, uint8_t proto) {
  const size_t l4_len = f.size() - l4_off;
  Bytes pseudo;
  if (v6) {
    pseudo.assign(f.begin() + l3 + 8, f.begin() + l3 + 40);
    const uint8_t tail[8] = {0, 0, uint8_t(l4_len >> 8), uint8_t(l4_len), 0, 0, 0, proto};
    pseudo.insert(pseudo.end(), tail, tail + 8);
  } else {
    pseudo.assign(f.begin() + l3 + 12, f.begin() + l3 + 20);
    const uint8_t tail[4] = {0, proto, uint8_t(l4_len >> 8), uint8_t(l4_len)};
    pseudo.insert(pseudo.end(), tail, tail + 4);
  }
  pseudo.insert(pseudo.end(), f.begin() + l4_off, f.end());
  return ref_sum(pseudo.data(), pseudo.size());
}

TEST(PacketBuilderTest, TcpSynOverIpv4) {
  const Bytes f = PacketBuilder()
                      .eth(mac(1), mac(2))
                      .ipv4(ip("198.18.0.1"), ip("198.18.0.2"))
                      .tcp(40000, 80, kTcpSyn)
                      .build();
  const Bytes want =
      hex("02 00 00 00 00 02  02 00 00 00 00 01  08 00"  // dst MAC, src MAC, IPv4
          "45 00 00 28  00 00 40 00  40 06 ae a8"        // v4 IHL 5, len 40, DF, TTL 64, TCP
          "c6 12 00 01  c6 12 00 02"                     // 198.18.0.1 -> 198.18.0.2
          "9c 40 00 50  00 00 00 01  00 00 00 00"        // 40000 -> 80, seq 1, ack 0
          "50 02 fa f0  8c 38 00 00");                   // doff 5, SYN, window 64240
  EXPECT_EQ(f, want);
  // The two checksum literals, verified independently.
  EXPECT_EQ(ref_sum(want.data() + 14, 20), 0xffff);
  EXPECT_EQ(l4_sum(want, 14, false, 34, kProtoTcp), 0xffff);
}

TEST(PacketBuilderTest, UdpOverIpv6WithHopByHop) {
  const Bytes f = PacketBuilder()
                      .eth(mac(1), mac(2))
                      .ipv6(ip("2001:2::1"), ip("2001:2::2"))
                      .tos(0xb8)
                      .ttl(32)
                      .ipv6_ext(kProtoHopByHop, 8)
                      .udp(5353, 53)
                      .payload("hi")
                      .build();
  const Bytes want =
      hex("02 00 00 00 00 02  02 00 00 00 00 01  86 dd"
          "6b 80 00 00  00 12 00 20"  // traffic class b8, payload 18, HBH, hl 32
          "20 01 00 02 00 00 00 00 00 00 00 00 00 00 00 01"
          "20 01 00 02 00 00 00 00 00 00 00 00 00 00 00 02"
          "11 00 00 00 00 00 00 00"   // hop-by-hop: next UDP, 8 bytes of Pad1
          "14 e9 00 35  00 0a 42 4a"  // 5353 -> 53, len 10
          "68 69");
  EXPECT_EQ(f, want);
  EXPECT_EQ(l4_sum(want, 14, true, 62, kProtoUdp), 0xffff);
}

TEST(PacketBuilderTest, QinQUdpWithoutChecksum) {
  const Bytes f = PacketBuilder()
                      .eth(mac(1), mac(2))
                      .vlan(200, kEthPQinQ)
                      .vlan(100)
                      .ipv4(ip("198.18.0.1"), ip("198.19.255.254"))
                      .ip_id(0x1234)
                      .ttl(255)
                      .tos(0x10)
                      .dont_fragment(false)
                      .udp(1000, 2000)
                      .no_udp_checksum()
                      .payload("abc")
                      .build();
  const Bytes want =
      hex("02 00 00 00 00 02  02 00 00 00 00 01"
          "88 a8 00 c8  81 00 00 64  08 00"        // S-tag 200, C-tag 100, IPv4
          "45 10 00 1f  12 34 00 00  ff 11 1d 64"  // tos 10, len 31, id 1234, no DF
          "c6 12 00 01  c6 13 ff fe"
          "03 e8 07 d0  00 0b 00 00"  // 1000 -> 2000, len 11, no checksum
          "61 62 63");
  EXPECT_EQ(f, want);
  EXPECT_EQ(ref_sum(want.data() + 22, 20), 0xffff);
}

TEST(PacketBuilderTest, IcmpEcho) {
  const Bytes v4 = PacketBuilder()
                       .ipv4(ip("198.18.0.1"), ip("198.18.0.2"))
                       .icmp(kIcmpEchoRequest, 0, 0x4242'0007)
                       .payload("ping")
                       .build_ip();
  const Bytes want4 =
      hex("45 00 00 20  00 00 40 00  40 01 ae b5  c6 12 00 01  c6 12 00 02"
          "08 00 d6 e5  42 42 00 07  70 69 6e 67");  // echo request, id 4242, seq 7
  EXPECT_EQ(v4, want4);
  EXPECT_EQ(ref_sum(want4.data(), 20), 0xffff);
  EXPECT_EQ(ref_sum(want4.data() + 20, 12), 0xffff);  // ICMPv4: no pseudo header

  // ICMPv6 includes the pseudo header. icmp() may come before ipv6(): the family decides.
  const Bytes v6 = PacketBuilder()
                       .icmp(kIcmp6EchoRequest, 0, 0x4242'0007)
                       .ipv6(ip("2001:2::1"), ip("2001:2::2"))
                       .payload("ping")
                       .build_ip();
  const Bytes want6 =
      hex("60 00 00 00  00 0c 3a 40"
          "20 01 00 02 00 00 00 00 00 00 00 00 00 00 00 01"
          "20 01 00 02 00 00 00 00 00 00 00 00 00 00 00 02"
          "80 00 1e 96  42 42 00 07  70 69 6e 67");
  EXPECT_EQ(v6, want6);
  EXPECT_EQ(l4_sum(want6, 0, true, 40, kProtoIcmpv6), 0xffff);
}

TEST(PacketBuilderTest, BuildIsEthernetPlusBuildIp) {
  PacketBuilder b;
  b.eth(mac(3), mac(4)).ipv6(ip("2001:2::1"), ip("2001:2::2")).tcp(1, 2, kTcpAck, 100, 200);
  const Bytes frame = b.build();
  const Bytes pkt = b.build_ip();
  ASSERT_EQ(frame.size(), pkt.size() + 14);
  EXPECT_EQ(Bytes(frame.begin() + 14, frame.end()), pkt);
  EXPECT_EQ(Bytes(frame.begin(), frame.begin() + 14),
            hex("02 00 00 00 00 04 02 00 00 00 00 03 86 dd"));
  // Without eth(): zero MACs.
  const Bytes bare = PacketBuilder().ipv4(ip("198.18.0.1"), ip("198.18.0.2")).udp(1, 2).build();
  EXPECT_EQ(Bytes(bare.begin(), bare.begin() + 14),
            hex("00 00 00 00 00 00 00 00 00 00 00 00 08 00"));
}

TEST(PacketBuilderTest, TcpFields) {
  const Bytes p = PacketBuilder()
                      .ipv4(ip("198.18.0.1"), ip("198.18.0.2"))
                      .tcp(443, 50000, kTcpFin | kTcpAck | kTcpPsh, 0x01020304, 0xa0b0c0d0)
                      .payload("data")
                      .build_ip();
  ASSERT_EQ(p.size(), 44u);
  EXPECT_EQ(Bytes(p.begin() + 20, p.begin() + 36),
            hex("01 bb c3 50  01 02 03 04  a0 b0 c0 d0  50 19 fa f0"));
  EXPECT_EQ(Bytes(p.begin() + 38, p.end()), hex("00 00 64 61 74 61"));  // urgent 0, payload
  EXPECT_EQ(l4_sum(p, 0, false, 20, kProtoTcp), 0xffff);
}

TEST(PacketBuilderTest, Ipv6ExtensionHeaders) {
  const Bytes p = PacketBuilder()
                      .ipv6(ip("2001:2::1"), ip("2001:2::2"))
                      .ipv6_ext(kProtoHopByHop, 16)
                      .ipv6_ext(kProtoRouting, 24)
                      .ipv6_ext(kProtoFragment, 8)
                      .ipv6_ext(kProtoAh, 24)
                      .ipv6_ext(kProtoDstOpts, 8)
                      .tcp(1, 2, kTcpSyn)
                      .build_ip();
  ASSERT_EQ(p.size(), 40u + 80 + 20);
  EXPECT_EQ(p[6], kProtoHopByHop);
  EXPECT_EQ(get16(p, 4), 100);  // payload length covers the extension headers
  // (next header, length field) of each: units of 8 bytes minus one, AH 4 bytes minus two,
  // the fragment header's second byte is reserved.
  EXPECT_EQ(p[40], kProtoRouting);
  EXPECT_EQ(p[41], 1);
  EXPECT_EQ(p[56], kProtoFragment);
  EXPECT_EQ(p[57], 2);
  EXPECT_EQ(p[80], kProtoAh);
  EXPECT_EQ(Bytes(p.begin() + 81, p.begin() + 88), Bytes(7, 0));  // offset 0, M 0: atomic
  EXPECT_EQ(p[88], kProtoDstOpts);
  EXPECT_EQ(p[89], 4);
  EXPECT_EQ(p[112], kProtoTcp);
  EXPECT_EQ(p[113], 0);
  // Option areas are zero (Pad1), TCP follows at 120.
  EXPECT_EQ(get16(p, 120), 1);
  EXPECT_EQ(l4_sum(p, 0, true, 120, kProtoTcp), 0xffff);
}

TEST(PacketBuilderTest, VlanTags) {
  const Bytes f =
      PacketBuilder().vlan(0xe00a).ipv6(ip("2001:2::1"), ip("2001:2::2")).udp(1, 2).build();
  EXPECT_EQ(Bytes(f.begin() + 12, f.begin() + 18), hex("81 00 e0 0a 86 dd"));
  const Bytes g = PacketBuilder()
                      .vlan(1, kEthPQinQ)
                      .vlan(2, kEthPQinQ)
                      .vlan(3)
                      .ipv4(ip("198.18.0.1"), ip("198.18.0.2"))
                      .udp(1, 2)
                      .build();
  EXPECT_EQ(Bytes(g.begin() + 12, g.begin() + 26),
            hex("88 a8 00 01 88 a8 00 02 81 00 00 03 08 00"));
}

TEST(PacketBuilderTest, Payloads) {
  const uint8_t raw[5] = {0, 1, 2, 0xfe, 0xff};
  const Bytes a = PacketBuilder()
                      .ipv4(ip("198.18.0.1"), ip("198.18.0.2"))
                      .udp(1, 2)
                      .payload(std::span<const uint8_t>(raw))
                      .build_ip();
  EXPECT_EQ(Bytes(a.begin() + 28, a.end()), Bytes(raw, raw + 5));
  EXPECT_EQ(get16(a, 24), 13);  // UDP length
  EXPECT_EQ(get16(a, 2), 33);   // IP total length
  // A later payload replaces the earlier one.
  const Bytes b = PacketBuilder()
                      .ipv4(ip("198.18.0.1"), ip("198.18.0.2"))
                      .udp(1, 2)
                      .payload("first")
                      .payload("2nd")
                      .build_ip();
  EXPECT_EQ(Bytes(b.begin() + 28, b.end()), hex("32 6e 64"));
  // A big payload: lengths and checksums still right.
  const Bytes big(1400, 0xa5);
  const Bytes c = PacketBuilder()
                      .ipv6(ip("2001:2::1"), ip("2001:2::2"))
                      .tcp(1, 2, kTcpAck)
                      .payload(big)
                      .build_ip();
  EXPECT_EQ(get16(c, 4), 1420);
  EXPECT_EQ(l4_sum(c, 0, true, 40, kProtoTcp), 0xffff);
}

TEST(PacketBuilderTest, RawTransport) {
  // raw_l4 puts the payload right after the IP header, whatever the protocol number says.
  const Bytes gre = PacketBuilder()
                        .ipv4(ip("198.18.0.1"), ip("198.18.0.2"))
                        .raw_l4(kProtoGre)
                        .payload(hex("00 00 08 00"))
                        .build_ip();
  ASSERT_EQ(gre.size(), 24u);
  EXPECT_EQ(gre[9], kProtoGre);
  EXPECT_EQ(Bytes(gre.begin() + 20, gre.end()), hex("00 00 08 00"));
  const Bytes cut = PacketBuilder()
                        .ipv6(ip("2001:2::1"), ip("2001:2::2"))
                        .raw_l4(kProtoTcp)
                        .payload(hex("00 01 00 02 ff"))
                        .build_ip();
  ASSERT_EQ(cut.size(), 45u);
  EXPECT_EQ(cut[6], kProtoTcp);
  EXPECT_EQ(Bytes(cut.begin() + 40, cut.end()), hex("00 01 00 02 ff"));
  // A later tcp() makes it a real TCP header again.
  const Bytes tcp = PacketBuilder()
                        .ipv4(ip("198.18.0.1"), ip("198.18.0.2"))
                        .raw_l4(kProtoGre)
                        .tcp(1, 2, kTcpSyn)
                        .build_ip();
  EXPECT_EQ(tcp.size(), 40u);
  EXPECT_EQ(tcp[9], kProtoTcp);
  EXPECT_EQ(l4_sum(tcp, 0, false, 20, kProtoTcp), 0xffff);
}

TEST(PacketBuilderTest, UdpComputedZeroIsSentAsFfff) {
  auto build = [](uint16_t sport) {
    return PacketBuilder()
        .ipv6(ip("2001:2::1"), ip("2001:2::2"))
        .udp(sport, 53)
        .payload("q")
        .build_ip();
  };
  // Choosing the source port equal to the checksum at port 0 makes the sum ffff.
  const uint16_t c0 = get16(build(0), 46);
  const Bytes p = build(c0);
  EXPECT_EQ(get16(p, 46), 0xffff);
  EXPECT_EQ(l4_sum(p, 0, true, 40, kProtoUdp), 0xffff);
}

TEST(PacketBuilderTest, FramesParse) {
  const Bytes f = PacketBuilder()
                      .eth(mac(1), mac(2))
                      .vlan(7)
                      .ipv6(ip("2001:2::1"), ip("2001:2::2"))
                      .ipv6_ext(kProtoDstOpts, 8)
                      .tcp(1234, 80, kTcpSyn)
                      .payload("x")
                      .build();
  const ParsedPacket p = parse_packet(f.data(), f.size());
  ASSERT_EQ(p.status, ParseStatus::kOk);
  EXPECT_EQ(p.vlan_tci, 7);
  EXPECT_EQ(p.l4_offset, 18 + 40 + 8);
  EXPECT_EQ(p.sport, 1234);
  EXPECT_EQ(p.tcp_flags, kTcpSyn);
  // The IPv4 header checksum the builder writes is what checksum() computes.
  Bytes g = PacketBuilder().ipv4(ip("198.18.0.1"), ip("198.18.0.2")).udp(1, 2).build_ip();
  const uint16_t stored = get16(g, 10);
  g[10] = g[11] = 0;
  EXPECT_EQ(stored, ref_checksum(g.data(), 20));
  EXPECT_EQ(stored, checksum(g.data(), 20));
}

}  // namespace
}  // namespace lvs::net
