// parse_packet / parse_ip: every ParseStatus from a concrete frame. Frames are built valid with
// PacketBuilder, then one defect is introduced by editing specific bytes.
#include "net/parse.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "net/headers.h"
#include "net/packet_builder.h"
#include "net/test_util.h"

namespace lvs::net {
namespace {

using testing::Bytes;
using testing::fix_ipv4_checksum;
using testing::get16;
using testing::parse;
using testing::put16;

const IpAddr kC4 = ip("198.18.0.1");
const IpAddr kV4 = ip("198.18.0.2");
const IpAddr kC6 = ip("2001:2::1");
const IpAddr kV6 = ip("2001:2::2");

PacketBuilder base4() { return PacketBuilder().eth(mac(1), mac(2)).ipv4(kC4, kV4); }
PacketBuilder base6() { return PacketBuilder().eth(mac(1), mac(2)).ipv6(kC6, kV6); }

// 14 + 20 + 20 + 5 = 59 bytes.
Bytes tcp4() { return base4().tcp(40000, 80, kTcpSyn).payload("hello").build(); }
// 14 + 40 + 8 + 3 = 65 bytes.
Bytes udp6() { return base6().udp(5353, 53).payload("abc").build(); }

// A v4 packet with `l4_bytes` of raw transport bytes claiming protocol `proto`.
Bytes raw4(uint8_t proto, size_t l4_bytes) {
  return base4().raw_l4(proto).payload(Bytes(l4_bytes, 0)).build();
}
Bytes raw6(uint8_t proto, size_t l4_bytes) {
  return base6().raw_l4(proto).payload(Bytes(l4_bytes, 0)).build();
}

TEST(ParseTest, Tcp4AllFields) {
  const Bytes f = base4().tcp(40000, 80, kTcpSyn | kTcpAck).payload("hello").build();
  ASSERT_EQ(f.size(), 59u);
  const ParsedPacket p = parse(f);
  EXPECT_EQ(p.status, ParseStatus::kOk);
  EXPECT_TRUE(p.ok());
  EXPECT_EQ(p.family, Family::kV4);
  EXPECT_EQ(p.l4_proto, kProtoTcp);
  EXPECT_TRUE(p.is_tcp());
  EXPECT_FALSE(p.is_udp());
  EXPECT_EQ(p.vlan_count, 0);
  EXPECT_EQ(p.vlan_tci, 0);
  EXPECT_EQ(p.l3_offset, 14);
  EXPECT_EQ(p.l4_offset, 34);
  EXPECT_EQ(p.l3_len, 45);
  EXPECT_EQ(p.l3_end(), 59);
  EXPECT_EQ(p.l4_len(), 25);
  EXPECT_EQ(p.sport, 40000);
  EXPECT_EQ(p.dport, 80);
  EXPECT_EQ(p.tcp_flags, kTcpSyn | kTcpAck);
}

TEST(ParseTest, Udp6AllFields) {
  const Bytes f = udp6();
  const ParsedPacket p = parse(f);
  EXPECT_EQ(p.status, ParseStatus::kOk);
  EXPECT_EQ(p.family, Family::kV6);
  EXPECT_EQ(p.l4_proto, kProtoUdp);
  EXPECT_TRUE(p.is_udp());
  EXPECT_EQ(p.l3_offset, 14);
  EXPECT_EQ(p.l4_offset, 54);
  EXPECT_EQ(p.l3_len, 51);
  EXPECT_EQ(p.l4_len(), 11);
  EXPECT_EQ(p.sport, 5353);
  EXPECT_EQ(p.dport, 53);
  EXPECT_EQ(p.tcp_flags, 0);
}

TEST(ParseTest, IcmpEchoCarriesIdentifierInBothPorts) {
  const Bytes f4 = base4().icmp(kIcmpEchoRequest, 0, 0x4242'0007).build();
  ParsedPacket p = parse(f4);
  ASSERT_EQ(p.status, ParseStatus::kOk);
  EXPECT_EQ(p.l4_proto, kProtoIcmp);
  EXPECT_EQ(p.icmp_type, kIcmpEchoRequest);
  EXPECT_EQ(p.icmp_code, 0);
  EXPECT_EQ(p.sport, 0x4242);
  EXPECT_EQ(p.dport, 0x4242);

  const Bytes f6 = base6().icmp(kIcmp6EchoReply, 0, 0x1234'0001).build();
  p = parse(f6);
  ASSERT_EQ(p.status, ParseStatus::kOk);
  EXPECT_EQ(p.l4_proto, kProtoIcmpv6);
  EXPECT_EQ(p.icmp_type, kIcmp6EchoReply);
  EXPECT_EQ(p.sport, 0x1234);
  EXPECT_EQ(p.dport, 0x1234);
}

TEST(ParseTest, IcmpErrorHasNoPorts) {
  const Bytes f = base4().icmp(kIcmpDestUnreach, kIcmpPortUnreach, 0x4242'0007).build();
  const ParsedPacket p = parse(f);
  ASSERT_EQ(p.status, ParseStatus::kOk);
  EXPECT_EQ(p.icmp_type, kIcmpDestUnreach);
  EXPECT_EQ(p.icmp_code, kIcmpPortUnreach);
  EXPECT_EQ(p.sport, 0);
  EXPECT_EQ(p.dport, 0);
}

TEST(ParseTest, OtherTransportIsClassifiedNotParsed) {
  const Bytes f = raw4(kProtoGre, 4);
  const ParsedPacket p = parse(f);
  EXPECT_EQ(p.status, ParseStatus::kOk);
  EXPECT_EQ(p.l4_proto, kProtoGre);
  EXPECT_EQ(p.l4_offset, 34);
  EXPECT_EQ(p.sport, 0);
  // Even with no transport bytes at all.
  EXPECT_EQ(parse(raw6(kProtoEsp, 0)).status, ParseStatus::kOk);
  EXPECT_EQ(parse(raw6(kProtoNoNext, 0)).l4_proto, kProtoNoNext);
}

TEST(ParseTest, TruncatedEthernet) {
  const Bytes f = tcp4();
  for (size_t n = 0; n < 14; ++n) {
    EXPECT_EQ(parse_packet(f.data(), n).status, ParseStatus::kTruncatedL2) << n;
  }
  EXPECT_EQ(parse_packet(nullptr, 0).status, ParseStatus::kTruncatedL2);
}

TEST(ParseTest, ArpIsNotIp) {
  Bytes f = tcp4();
  put16(f, 12, kEthPArp);
  const ParsedPacket p = parse(f);
  EXPECT_EQ(p.status, ParseStatus::kNotIp);
  EXPECT_EQ(p.l3_offset, 14);
  // A bare Ethernet header with an unknown EtherType is well formed, just not IP.
  Bytes lldp(14, 0);
  put16(lldp, 12, 0x88cc);
  EXPECT_EQ(parse(lldp).status, ParseStatus::kNotIp);
}

TEST(ParseTest, Dot1qTag) {
  const Bytes f = base4().vlan(0x2064).tcp(1, 2, kTcpAck).build();
  ASSERT_EQ(get16(f, 12), kEthPVlan);
  const ParsedPacket p = parse(f);
  EXPECT_EQ(p.status, ParseStatus::kOk);
  EXPECT_EQ(p.vlan_count, 1);
  EXPECT_EQ(p.vlan_tci, 0x2064);
  EXPECT_EQ(p.l3_offset, 18);
  EXPECT_EQ(p.l4_offset, 38);
  EXPECT_EQ(p.sport, 1);
}

TEST(ParseTest, QinQReportsInnermostTag) {
  const Bytes f = base6().vlan(200, kEthPQinQ).vlan(100).udp(7, 8).build();
  const ParsedPacket p = parse(f);
  EXPECT_EQ(p.status, ParseStatus::kOk);
  EXPECT_EQ(p.vlan_count, 2);
  EXPECT_EQ(p.vlan_tci, 100);
  EXPECT_EQ(p.l3_offset, 22);
  EXPECT_EQ(p.l4_offset, 62);
  EXPECT_EQ(p.family, Family::kV6);
  // Two 802.1Q tags count the same.
  EXPECT_EQ(parse(base4().vlan(1).vlan(2).udp(7, 8).build()).vlan_count, 2);
}

TEST(ParseTest, MoreThanTwoTagsIsNotIp) {
  const Bytes f = base4().vlan(1, kEthPQinQ).vlan(2).vlan(3).tcp(1, 2, kTcpSyn).build();
  EXPECT_EQ(parse(f).status, ParseStatus::kNotIp);
}

TEST(ParseTest, TruncatedTag) {
  const Bytes f = base4().vlan(5).tcp(1, 2, kTcpSyn).build();
  // The tag plus the inner EtherType end at byte 18.
  for (size_t n = 14; n < 18; ++n) {
    EXPECT_EQ(parse_packet(f.data(), n).status, ParseStatus::kTruncatedL2) << n;
  }
  EXPECT_EQ(parse_packet(f.data(), 18).status, ParseStatus::kTruncatedL3);
}

TEST(ParseTest, TaggedArpIsNotIp) {
  Bytes f = base4().vlan(5).tcp(1, 2, kTcpSyn).build();
  put16(f, 16, kEthPArp);
  const ParsedPacket p = parse(f);
  EXPECT_EQ(p.status, ParseStatus::kNotIp);
  EXPECT_EQ(p.vlan_count, 1);
  EXPECT_EQ(p.l3_offset, 18);
}

TEST(ParseTest, BadIpVersion) {
  Bytes f = tcp4();
  f[14] = 0x65;  // version 6 under EtherType IPv4
  fix_ipv4_checksum(f);
  EXPECT_EQ(parse(f).status, ParseStatus::kBadIpVersion);

  Bytes g = udp6();
  g[14] = 0x40;  // version 4 under EtherType IPv6
  EXPECT_EQ(parse(g).status, ParseStatus::kBadIpVersion);
}

TEST(ParseTest, IhlBelowFive) {
  for (uint8_t ihl = 0; ihl < 5; ++ihl) {
    Bytes f = tcp4();
    f[14] = uint8_t(0x40 | ihl);
    EXPECT_EQ(parse(f).status, ParseStatus::kBadIpHeaderLen) << int(ihl);
  }
}

TEST(ParseTest, IhlPastTheFrame) {
  Bytes f = tcp4();  // 45 bytes of IP
  f[14] = 0x4f;      // claims a 60-byte header
  EXPECT_EQ(parse(f).status, ParseStatus::kTruncatedL3);
}

TEST(ParseTest, Ipv4Options) {
  // Rebuild the TCP/IPv4 packet with 4 bytes of options (NOP NOP NOP EOL).
  const Bytes plain = tcp4();
  Bytes f(plain.begin(), plain.begin() + 34);
  const uint8_t opts[4] = {1, 1, 1, 0};
  f.insert(f.end(), opts, opts + 4);
  f.insert(f.end(), plain.begin() + 34, plain.end());
  f[14] = 0x46;
  put16(f, 16, uint16_t(get16(f, 16) + 4));
  fix_ipv4_checksum(f);
  const ParsedPacket p = parse(f);
  ASSERT_EQ(p.status, ParseStatus::kOk);
  EXPECT_EQ(p.l4_offset, 38);
  EXPECT_EQ(p.l3_len, 49);
  EXPECT_EQ(p.sport, 40000);
}

TEST(ParseTest, Ipv4HeaderChecksum) {
  Bytes f = tcp4();
  EXPECT_EQ(parse(f).status, ParseStatus::kOk);
  f[14 + 11] ^= 0x01;
  EXPECT_EQ(parse(f).status, ParseStatus::kBadIpChecksum);
  // Any header field change without a checksum update, e.g. the TTL.
  Bytes g = tcp4();
  --g[14 + 8];
  EXPECT_EQ(parse(g).status, ParseStatus::kBadIpChecksum);
  // An identification equal to the checksum it had with id 0 makes the checksum 0x0000.
  // 0x0000 and 0xffff are the same one's complement value: both must pass.
  const uint16_t c0 = get16(base4().ip_id(0).tcp(1, 2, kTcpSyn).build(), 24);
  Bytes z = base4().ip_id(c0).tcp(1, 2, kTcpSyn).build();
  ASSERT_EQ(get16(z, 24), 0x0000);
  EXPECT_EQ(parse(z).status, ParseStatus::kOk);
  put16(z, 24, 0xffff);
  EXPECT_EQ(parse(z).status, ParseStatus::kOk);
  put16(z, 24, 0xfffe);
  EXPECT_EQ(parse(z).status, ParseStatus::kBadIpChecksum);
}

TEST(ParseTest, Ipv4TotalLengthTooShort) {
  for (uint16_t total : {0, 1, 19}) {
    Bytes f = tcp4();
    put16(f, 16, total);
    fix_ipv4_checksum(f);
    EXPECT_EQ(parse(f).status, ParseStatus::kBadIpLength) << total;
  }
}

TEST(ParseTest, Ipv4TotalLengthTooLong) {
  Bytes f = tcp4();
  put16(f, 16, 46);  // one more than the frame holds
  fix_ipv4_checksum(f);
  EXPECT_EQ(parse(f).status, ParseStatus::kBadIpLength);
  put16(f, 16, 0xffff);
  fix_ipv4_checksum(f);
  EXPECT_EQ(parse(f).status, ParseStatus::kBadIpLength);
}

TEST(ParseTest, Ipv4HeaderOnlyIsTruncatedTransport) {
  // total = 20: a TCP packet whose transport header lies wholly outside the IP length.
  Bytes f = tcp4();
  put16(f, 16, 20);
  fix_ipv4_checksum(f);
  const ParsedPacket p = parse(f);
  EXPECT_EQ(p.status, ParseStatus::kTruncatedL4);
  EXPECT_EQ(p.l3_len, 20);
}

TEST(ParseTest, TruncatedIpHeader) {
  const Bytes f4 = tcp4();
  for (size_t n = 14; n < 34; ++n) {
    EXPECT_EQ(parse_packet(f4.data(), n).status, ParseStatus::kTruncatedL3) << n;
  }
  const Bytes f6 = udp6();
  for (size_t n = 14; n < 54; ++n) {
    EXPECT_EQ(parse_packet(f6.data(), n).status, ParseStatus::kTruncatedL3) << n;
  }
}

TEST(ParseTest, Ipv4Fragments) {
  struct Case {
    uint16_t frag_field;
    ParseStatus want;
  };
  const Case cases[] = {
      {0x0000, ParseStatus::kOk},        // not fragmented
      {0x4000, ParseStatus::kOk},        // DF only
      {0x8000, ParseStatus::kOk},        // the reserved bit is not a fragment
      {0x2000, ParseStatus::kFragment},  // MF: first fragment
      {0x6000, ParseStatus::kFragment},  // DF and MF together still a fragment
      {0x0001, ParseStatus::kFragment},  // last fragment at offset 8
      {0x2001, ParseStatus::kFragment},  // middle fragment
      {0x1fff, ParseStatus::kFragment},  // largest offset
  };
  for (const Case& c : cases) {
    Bytes f = tcp4();
    put16(f, 14 + 6, c.frag_field);
    fix_ipv4_checksum(f);
    const ParsedPacket p = parse(f);
    EXPECT_EQ(p.status, c.want) << std::hex << c.frag_field;
    if (c.want == ParseStatus::kFragment) {
      // Enough is known to count it: family, protocol, where the payload starts.
      EXPECT_EQ(p.family, Family::kV4);
      EXPECT_EQ(p.l4_proto, kProtoTcp);
      EXPECT_EQ(p.l4_offset, 34);
      EXPECT_EQ(p.sport, 0);
    }
  }
}

TEST(ParseTest, EthernetPaddingAfterShortIpv4) {
  // 14 + 20 + 8 + 1 = 43 bytes, padded to the 60-byte Ethernet minimum.
  Bytes f = base4().udp(1000, 53).payload("x").build();
  ASSERT_EQ(f.size(), 43u);
  f.resize(60, 0);
  const ParsedPacket p = parse(f);
  ASSERT_EQ(p.status, ParseStatus::kOk);
  EXPECT_EQ(p.l3_len, 29);
  EXPECT_EQ(p.l3_end(), 43);
  EXPECT_EQ(p.l4_len(), 9);
  EXPECT_EQ(p.sport, 1000);
  // A TCP pure ACK padded the same way.
  Bytes t = base4().tcp(1, 2, kTcpAck).build();
  ASSERT_EQ(t.size(), 54u);
  t.resize(60, 0xee);
  const ParsedPacket q = parse(t);
  ASSERT_EQ(q.status, ParseStatus::kOk);
  EXPECT_EQ(q.l3_len, 40);
  EXPECT_EQ(q.l4_len(), 20);
}

TEST(ParseTest, Ipv6PayloadLength) {
  Bytes f = udp6();
  put16(f, 14 + 4, 12);  // one more than present
  EXPECT_EQ(parse(f).status, ParseStatus::kBadIpLength);
  put16(f, 14 + 4, 0xffff);
  EXPECT_EQ(parse(f).status, ParseStatus::kBadIpLength);
  // Padding after an IPv6 packet: l3_len from the header.
  Bytes g = udp6();
  g.resize(g.size() + 7, 0);
  const ParsedPacket p = parse(g);
  ASSERT_EQ(p.status, ParseStatus::kOk);
  EXPECT_EQ(p.l3_len, 51);
}

// --- IPv6 extension headers ---

struct ExtCase {
  const char* name;
  std::vector<std::pair<uint8_t, size_t>> exts;
  size_t ext_len;
};

TEST(ParseTest, Ipv6ExtensionHeaderWalk) {
  const ExtCase cases[] = {
      {"hop-by-hop", {{kProtoHopByHop, 8}}, 8},
      {"hop-by-hop 24", {{kProtoHopByHop, 24}}, 24},
      {"routing", {{kProtoRouting, 24}}, 24},
      {"destination options", {{kProtoDstOpts, 16}}, 16},
      {"AH 16", {{kProtoAh, 16}}, 16},
      {"AH 24", {{kProtoAh, 24}}, 24},
      {"atomic fragment", {{kProtoFragment, 8}}, 8},
      {"all of them",
       {{kProtoHopByHop, 8},
        {kProtoDstOpts, 8},
        {kProtoRouting, 16},
        {kProtoFragment, 8},
        {kProtoAh, 16},
        {kProtoDstOpts, 8}},
       64},
  };
  for (const ExtCase& c : cases) {
    for (bool tcp : {false, true}) {
      PacketBuilder b = base6();
      for (const auto& [type, len] : c.exts) b.ipv6_ext(type, len);
      if (tcp) {
        b.tcp(1234, 443, kTcpSyn);
      } else {
        b.udp(1234, 443);
      }
      const Bytes f = b.payload("data").build();
      const ParsedPacket p = parse(f);
      ASSERT_EQ(p.status, ParseStatus::kOk) << c.name;
      EXPECT_EQ(p.l4_proto, tcp ? kProtoTcp : kProtoUdp) << c.name;
      EXPECT_EQ(p.l4_offset, 54 + c.ext_len) << c.name;
      EXPECT_EQ(p.sport, 1234) << c.name;
      EXPECT_EQ(p.dport, 443) << c.name;
      EXPECT_EQ(p.l3_len, f.size() - 14) << c.name;
    }
  }
}

TEST(ParseTest, Ipv6RealFragment) {
  // Fragment header at 54: next header, reserved, offset(13) | res(2) | M(1), identification.
  for (uint16_t field : {0x0001, 0x0008, 0x0009, 0xfff8}) {
    Bytes f = base6().ipv6_ext(kProtoHopByHop, 8).ipv6_ext(kProtoFragment, 8).udp(1, 2).build();
    put16(f, 62 + 2, field);
    const ParsedPacket p = parse(f);
    EXPECT_EQ(p.status, ParseStatus::kFragment) << std::hex << field;
    EXPECT_EQ(p.family, Family::kV6);
    EXPECT_EQ(p.l4_proto, kProtoUdp);
    EXPECT_EQ(p.l4_offset, 70);
    EXPECT_EQ(p.sport, 0);
  }
  // The two reserved bits alone do not make a fragment.
  Bytes f = base6().ipv6_ext(kProtoFragment, 8).udp(1, 2).build();
  put16(f, 54 + 2, 0x0006);
  EXPECT_EQ(parse(f).status, ParseStatus::kOk);
}

TEST(ParseTest, Ipv6ExtensionChainLimit) {
  auto chain = [](size_t n) {
    PacketBuilder b = base6();
    for (size_t i = 0; i < n; ++i) b.ipv6_ext(kProtoDstOpts, 8);
    return b.udp(1, 2).build();
  };
  const ParsedPacket eight = parse(chain(8));
  EXPECT_EQ(eight.status, ParseStatus::kOk);
  EXPECT_EQ(eight.l4_offset, 54 + 64);
  EXPECT_EQ(parse(chain(9)).status, ParseStatus::kBadExtHeader);
  EXPECT_EQ(parse(chain(20)).status, ParseStatus::kBadExtHeader);
}

TEST(ParseTest, Ipv6ExtensionHeaderPastThePacket) {
  // Hdr Ext Len 10 claims 88 bytes; the packet has 8 + 8.
  Bytes f = base6().ipv6_ext(kProtoHopByHop, 8).udp(1, 2).build();
  f[54 + 1] = 10;
  EXPECT_EQ(parse(f).status, ParseStatus::kBadExtHeader);
  // Same for AH's 4-byte units.
  Bytes a = base6().ipv6_ext(kProtoAh, 16).udp(1, 2).build();
  a[54 + 1] = 6;  // (6 + 2) * 4 = 32 > 16 + 8
  EXPECT_EQ(parse(a).status, ParseStatus::kBadExtHeader);
  // Fewer than 8 bytes left where an extension header should start.
  EXPECT_EQ(parse(raw6(kProtoHopByHop, 7)).status, ParseStatus::kBadExtHeader);
  EXPECT_EQ(parse(raw6(kProtoFragment, 0)).status, ParseStatus::kBadExtHeader);
  // An extension header inside the frame but beyond the payload length (in the padding).
  Bytes p = base6().ipv6_ext(kProtoDstOpts, 8).raw_l4(kProtoNoNext).build();
  ASSERT_EQ(parse(p).status, ParseStatus::kOk);
  put16(p, 18, 4);  // the IPv6 payload now ends inside the extension header
  EXPECT_EQ(parse(p).status, ParseStatus::kBadExtHeader);
}

// --- Transport ---

TEST(ParseTest, TruncatedTransport) {
  EXPECT_EQ(parse(raw4(kProtoTcp, 19)).status, ParseStatus::kTruncatedL4);
  EXPECT_EQ(parse(raw4(kProtoTcp, 0)).status, ParseStatus::kTruncatedL4);
  EXPECT_EQ(parse(raw4(kProtoUdp, 7)).status, ParseStatus::kTruncatedL4);
  EXPECT_EQ(parse(raw4(kProtoIcmp, 7)).status, ParseStatus::kTruncatedL4);
  EXPECT_EQ(parse(raw6(kProtoTcp, 19)).status, ParseStatus::kTruncatedL4);
  EXPECT_EQ(parse(raw6(kProtoUdp, 7)).status, ParseStatus::kTruncatedL4);
  EXPECT_EQ(parse(raw6(kProtoIcmpv6, 7)).status, ParseStatus::kTruncatedL4);
  // The minimum sizes are enough (a raw, zeroed header: TCP needs a data offset).
  Bytes t = raw4(kProtoTcp, 20);
  t[34 + 12] = 0x50;
  EXPECT_EQ(parse(t).status, ParseStatus::kOk);
  Bytes u = raw4(kProtoUdp, 8);
  put16(u, 34 + 4, 8);
  EXPECT_EQ(parse(u).status, ParseStatus::kOk);
  EXPECT_EQ(parse(raw4(kProtoIcmp, 8)).status, ParseStatus::kOk);
  // A transport header cut by the frame end shows up as an IP length problem first.
  const Bytes f = tcp4();
  EXPECT_EQ(parse_packet(f.data(), 40).status, ParseStatus::kBadIpLength);
}

TEST(ParseTest, TcpDataOffset) {
  struct Case {
    uint8_t doff;
    ParseStatus want;
  };
  // tcp4() has 25 transport bytes: 20 of header, 5 of payload.
  const Case cases[] = {
      {0, ParseStatus::kBadL4Header}, {4, ParseStatus::kBadL4Header},
      {5, ParseStatus::kOk},          {6, ParseStatus::kOk},
      {7, ParseStatus::kBadL4Header}, {15, ParseStatus::kBadL4Header},
  };
  for (const Case& c : cases) {
    Bytes f = tcp4();
    f[34 + 12] = uint8_t(c.doff << 4);
    EXPECT_EQ(parse(f).status, c.want) << int(c.doff);
  }
}

TEST(ParseTest, UdpLengthField) {
  struct Case {
    uint16_t ulen;
    ParseStatus want;
  };
  // udp6() has 11 transport bytes.
  const Case cases[] = {
      {0, ParseStatus::kBadL4Header},
      {7, ParseStatus::kBadL4Header},
      {8, ParseStatus::kOk},
      {10, ParseStatus::kOk},
      {11, ParseStatus::kOk},
      {12, ParseStatus::kBadL4Header},
      {0xffff, ParseStatus::kBadL4Header},
  };
  for (const Case& c : cases) {
    Bytes f = udp6();
    put16(f, 54 + 4, c.ulen);
    EXPECT_EQ(parse(f).status, c.want) << c.ulen;
  }
  // The UDP length is checked against the IP length, not the frame with its padding.
  Bytes g = base4().udp(1, 2).payload("x").build();
  g.resize(60, 0);
  put16(g, 34 + 4, 10);
  EXPECT_EQ(parse(g).status, ParseStatus::kBadL4Header);
}

TEST(ParseTest, OversizedFrameRefused) {
  Bytes f = tcp4();
  f.resize(0x10000, 0);
  EXPECT_EQ(parse(f).status, ParseStatus::kBadIpLength);
  f.resize(0xffff);
  EXPECT_EQ(parse(f).status, ParseStatus::kOk);
}

TEST(ParseTest, StatusNames) {
  EXPECT_EQ(parse_status_name(ParseStatus::kOk), "ok");
  EXPECT_EQ(parse_status_name(ParseStatus::kTruncatedL2), "truncated_l2");
  EXPECT_EQ(parse_status_name(ParseStatus::kNotIp), "not_ip");
  EXPECT_EQ(parse_status_name(ParseStatus::kTruncatedL3), "truncated_l3");
  EXPECT_EQ(parse_status_name(ParseStatus::kBadIpVersion), "bad_ip_version");
  EXPECT_EQ(parse_status_name(ParseStatus::kBadIpHeaderLen), "bad_ip_header_len");
  EXPECT_EQ(parse_status_name(ParseStatus::kBadIpChecksum), "bad_ip_checksum");
  EXPECT_EQ(parse_status_name(ParseStatus::kBadIpLength), "bad_ip_length");
  EXPECT_EQ(parse_status_name(ParseStatus::kBadExtHeader), "bad_ext_header");
  EXPECT_EQ(parse_status_name(ParseStatus::kFragment), "fragment");
  EXPECT_EQ(parse_status_name(ParseStatus::kTruncatedL4), "truncated_l4");
  EXPECT_EQ(parse_status_name(ParseStatus::kBadL4Header), "bad_l4_header");
  EXPECT_EQ(parse_status_name(ParseStatus::kCount), "unknown");
}

// --- Quoted mode: the packet inside an ICMP error ---

TEST(ParseQuotedTest, FirstEightTransportBytesAreEnough) {
  // An ICMP error quotes the IP header and 8 bytes of the offending TCP segment.
  const Bytes inner = PacketBuilder()
                          .ipv4(kV4, kC4)
                          .tcp(80, 40000, kTcpSyn | kTcpAck)
                          .payload("lots of data")
                          .build_ip();
  const Bytes quote(inner.begin(), inner.begin() + 28);
  ParsedPacket q;
  parse_ip(quote.data(), quote.size(), 0, Family::kV4, true, q);
  ASSERT_EQ(q.status, ParseStatus::kOk);
  EXPECT_EQ(q.family, Family::kV4);
  EXPECT_EQ(q.l3_offset, 0);
  EXPECT_EQ(q.l4_offset, 20);
  EXPECT_EQ(q.l3_len, inner.size());  // as the quoted header states it
  EXPECT_EQ(q.l4_proto, kProtoTcp);
  EXPECT_EQ(q.sport, 80);
  EXPECT_EQ(q.dport, 40000);
  // Outside quoted mode the same bytes are a packet longer than its buffer.
  ParsedPacket n;
  parse_ip(quote.data(), quote.size(), 0, Family::kV4, false, n);
  EXPECT_EQ(n.status, ParseStatus::kBadIpLength);
  // Seven transport bytes are not enough.
  ParsedPacket s;
  parse_ip(quote.data(), 27, 0, Family::kV4, true, s);
  EXPECT_EQ(s.status, ParseStatus::kTruncatedL4);
}

TEST(ParseQuotedTest, InsideAnIcmpErrorFrame) {
  const Bytes inner = PacketBuilder().ipv4(kV4, kC4).udp(53, 5353).payload("answer").build_ip();
  const Bytes quote(inner.begin(), inner.begin() + 28);
  const Bytes f = PacketBuilder()
                      .eth(mac(1), mac(2))
                      .ipv4(kC4, kV4)
                      .icmp(kIcmpDestUnreach, kIcmpPortUnreach)
                      .payload(quote)
                      .build();
  const ParsedPacket outer = parse(f);
  ASSERT_EQ(outer.status, ParseStatus::kOk);
  ASSERT_EQ(outer.icmp_type, kIcmpDestUnreach);
  ParsedPacket q;
  parse_ip(f.data(), f.size(), outer.l4_offset + kIcmpHdrLen, Family::kV4, true, q);
  ASSERT_EQ(q.status, ParseStatus::kOk);
  EXPECT_EQ(q.l3_offset, 42);
  EXPECT_EQ(q.l4_offset, 62);
  EXPECT_EQ(q.l4_proto, kProtoUdp);
  EXPECT_EQ(q.sport, 53);
  EXPECT_EQ(q.dport, 5353);
}

TEST(ParseQuotedTest, StatedEndMayLiePastTheBufferAnd64k) {
  // A quoted IPv4 header claiming 65535 bytes, quoted at offset 42 of an ICMP error frame.
  Bytes inner = PacketBuilder().ipv4(kV4, kC4).udp(53, 5353).build_ip();
  put16(inner, 2, 0xffff);
  const Bytes f = PacketBuilder()
                      .eth(mac(1), mac(2))
                      .ipv4(kC4, kV4)
                      .icmp(kIcmpDestUnreach, kIcmpPortUnreach)
                      .payload(inner)
                      .build();
  ParsedPacket q;
  parse_ip(f.data(), f.size(), 42, Family::kV4, true, q);
  ASSERT_EQ(q.status, ParseStatus::kOk);
  EXPECT_EQ(q.l3_len, 0xffff);
  EXPECT_EQ(q.l3_end(), 42u + 0xffff);
  EXPECT_EQ(q.l4_len(), 0xffff - 20);
  // Buffers past 64 KiB are refused, as parse_packet refuses such frames.
  Bytes big(0x10000, 0);
  std::copy(f.begin(), f.end(), big.begin());
  ParsedPacket b;
  parse_ip(big.data(), big.size(), 42, Family::kV4, true, b);
  EXPECT_EQ(b.status, ParseStatus::kBadIpLength);
}

TEST(ParseQuotedTest, Ipv6WithExtensionHeaders) {
  const Bytes inner = PacketBuilder()
                          .ipv6(kV6, kC6)
                          .ipv6_ext(kProtoHopByHop, 8)
                          .ipv6_ext(kProtoDstOpts, 16)
                          .tcp(443, 50000, kTcpAck)
                          .payload(Bytes(500, 0x61))
                          .build_ip();
  const Bytes quote(inner.begin(), inner.begin() + 40 + 24 + 8);
  ParsedPacket q;
  parse_ip(quote.data(), quote.size(), 0, Family::kV6, true, q);
  ASSERT_EQ(q.status, ParseStatus::kOk);
  EXPECT_EQ(q.l4_offset, 64);
  EXPECT_EQ(q.l3_len, inner.size());
  EXPECT_EQ(q.sport, 443);
  EXPECT_EQ(q.dport, 50000);
  // Cut inside the extension headers.
  ParsedPacket c;
  parse_ip(quote.data(), 40 + 20, 0, Family::kV6, true, c);
  EXPECT_EQ(c.status, ParseStatus::kBadExtHeader);
  // Cut inside the IPv6 header.
  ParsedPacket h;
  parse_ip(quote.data(), 39, 0, Family::kV6, true, h);
  EXPECT_EQ(h.status, ParseStatus::kTruncatedL3);
}

TEST(ParseQuotedTest, RulesThatStillApply) {
  const Bytes inner = PacketBuilder().ipv4(kV4, kC4).udp(53, 5353).payload("answer").build_ip();
  // The quoted header checksum is not checked (routers may have changed the TTL).
  Bytes a = inner;
  a[8] = 1;
  ParsedPacket pa;
  parse_ip(a.data(), a.size(), 0, Family::kV4, true, pa);
  EXPECT_EQ(pa.status, ParseStatus::kOk);
  // Nor the UDP length against a cut quote.
  ParsedPacket pu;
  parse_ip(a.data(), 28, 0, Family::kV4, true, pu);
  EXPECT_EQ(pu.status, ParseStatus::kOk);
  EXPECT_EQ(pu.sport, 53);
  // But a length below the header, a bad version or IHL, and fragments are still refused.
  Bytes b = inner;
  put16(b, 2, 19);
  ParsedPacket pb;
  parse_ip(b.data(), b.size(), 0, Family::kV4, true, pb);
  EXPECT_EQ(pb.status, ParseStatus::kBadIpLength);
  Bytes c = inner;
  c[0] = 0x44;
  ParsedPacket pc;
  parse_ip(c.data(), c.size(), 0, Family::kV4, true, pc);
  EXPECT_EQ(pc.status, ParseStatus::kBadIpHeaderLen);
  Bytes d = inner;
  d[0] = 0x55;
  ParsedPacket pd;
  parse_ip(d.data(), d.size(), 0, Family::kV4, true, pd);
  EXPECT_EQ(pd.status, ParseStatus::kBadIpVersion);
  Bytes e = inner;
  put16(e, 6, 0x2000);
  ParsedPacket pe;
  parse_ip(e.data(), e.size(), 0, Family::kV4, true, pe);
  EXPECT_EQ(pe.status, ParseStatus::kFragment);
  ParsedPacket pf;
  parse_ip(inner.data(), 19, 0, Family::kV4, true, pf);
  EXPECT_EQ(pf.status, ParseStatus::kTruncatedL3);
}

// ---- SCTP ----

// crc32c_reference.py's client INIT, 40000 -> 3868 (48 bytes, checksum correct).
const Bytes kSctpInit = testing::hex(
    "9c 40 0f 1c 00 00 00 00 8f 72 03 33 01 00 00 24 3a 1f 2c 4d 00 01 a0 00 00 0a ff ff"
    "5e 6f 70 81 00 0c 00 06 00 05 00 00 80 00 00 04 c0 00 00 04");

Bytes sctp4(const Bytes& l4) { return base4().raw_l4(kProtoSctp).payload(l4).build(); }
Bytes sctp6(const Bytes& l4) { return base6().raw_l4(kProtoSctp).payload(l4).build(); }
// A common header (ports 40000 -> 3868, vtag 0x3a1f2c4d) followed by `rest`.
Bytes sctp_hdr(const Bytes& rest) {
  Bytes b = testing::hex("9c 40 0f 1c 3a 1f 2c 4d 00 00 00 00");
  b.insert(b.end(), rest.begin(), rest.end());
  return b;
}

TEST(ParseSctpTest, Init4AllFields) {
  const Bytes f = sctp4(kSctpInit);
  ASSERT_EQ(f.size(), 14u + 20 + 48);
  const ParsedPacket p = parse(f);
  EXPECT_EQ(p.status, ParseStatus::kOk);
  EXPECT_EQ(p.family, Family::kV4);
  EXPECT_EQ(p.l4_proto, kProtoSctp);
  EXPECT_TRUE(p.is_sctp());
  EXPECT_FALSE(p.is_tcp());
  EXPECT_FALSE(p.is_udp());
  EXPECT_EQ(p.l4_offset, 34);
  EXPECT_EQ(p.l4_len(), 48);
  EXPECT_EQ(p.sport, 40000);
  EXPECT_EQ(p.dport, 3868);
  EXPECT_EQ(p.sctp_chunk, kSctpChunkInit);
  EXPECT_TRUE(p.has_sctp_chunk());
  EXPECT_EQ(p.tcp_flags, 0);  // the chunk type does not leak into TCP's field
}

TEST(ParseSctpTest, Init6BehindExtensionHeader) {
  const Bytes f = base6().ipv6_ext(kProtoDstOpts, 8).raw_l4(kProtoSctp).payload(kSctpInit).build();
  const ParsedPacket p = parse(f);
  EXPECT_EQ(p.status, ParseStatus::kOk);
  EXPECT_EQ(p.family, Family::kV6);
  EXPECT_EQ(p.l4_proto, kProtoSctp);
  EXPECT_EQ(p.l4_offset, 14 + 40 + 8);
  EXPECT_EQ(p.sport, 40000);
  EXPECT_EQ(p.dport, 3868);
  EXPECT_EQ(p.sctp_chunk, kSctpChunkInit);
}

TEST(ParseSctpTest, FirstChunkType) {
  for (uint8_t type : {uint8_t(kSctpChunkData), uint8_t(kSctpChunkAbort),
                       uint8_t(kSctpChunkShutdownComplete), uint8_t(0xc1), uint8_t(0xff)}) {
    const ParsedPacket p = parse(sctp6(sctp_hdr({type, 0x01, 0x00, 0x04})));
    EXPECT_EQ(p.status, ParseStatus::kOk) << int(type);
    EXPECT_EQ(p.sctp_chunk, type);
    EXPECT_TRUE(p.has_sctp_chunk());
  }
}

TEST(ParseSctpTest, CommonHeaderRequired) {
  for (size_t n = 0; n < kSctpHdrLen; ++n) {
    EXPECT_EQ(parse(raw4(kProtoSctp, n)).status, ParseStatus::kTruncatedL4) << n;
    EXPECT_EQ(parse(raw6(kProtoSctp, n)).status, ParseStatus::kTruncatedL4) << n;
  }
}

TEST(ParseSctpTest, BareCommonHeaderHasNoChunk) {
  const ParsedPacket p = parse(sctp4(sctp_hdr({})));
  EXPECT_EQ(p.status, ParseStatus::kOk);
  EXPECT_EQ(p.sport, 40000);
  EXPECT_EQ(p.dport, 3868);
  EXPECT_FALSE(p.has_sctp_chunk());
  EXPECT_EQ(p.sctp_chunk, 0);
}

TEST(ParseSctpTest, FirstChunkHeaderMustBeWhole) {
  // 1 to 3 bytes after the common header cannot be a chunk.
  EXPECT_EQ(parse(sctp4(sctp_hdr({0x01}))).status, ParseStatus::kBadL4Header);
  EXPECT_EQ(parse(sctp4(sctp_hdr({0x01, 0x00}))).status, ParseStatus::kBadL4Header);
  EXPECT_EQ(parse(sctp6(sctp_hdr({0x01, 0x00, 0x00}))).status, ParseStatus::kBadL4Header);
  // The chunk length counts its own header...
  EXPECT_EQ(parse(sctp4(sctp_hdr({0x00, 0x00, 0x00, 0x00}))).status, ParseStatus::kBadL4Header);
  EXPECT_EQ(parse(sctp4(sctp_hdr({0x00, 0x00, 0x00, 0x03}))).status, ParseStatus::kBadL4Header);
  // ...and must end inside the packet; padding after it is not counted.
  EXPECT_EQ(parse(sctp4(sctp_hdr({0x00, 0x00, 0x00, 0x09, 0, 0, 0, 0}))).status,
            ParseStatus::kBadL4Header);
  EXPECT_EQ(parse(sctp4(sctp_hdr({0x00, 0x00, 0x00, 0x08, 0, 0, 0, 0}))).status, ParseStatus::kOk);
  EXPECT_EQ(parse(sctp4(sctp_hdr({0x00, 0x00, 0x00, 0x05, 0, 0, 0, 0}))).status, ParseStatus::kOk);
  EXPECT_EQ(parse(sctp6(sctp_hdr({0x00, 0x00, 0xff, 0xff, 0, 0, 0, 0}))).status,
            ParseStatus::kBadL4Header);
  const ParsedPacket bad = parse(sctp4(sctp_hdr({0x00, 0x00, 0x00, 0x00})));
  EXPECT_EQ(bad.sport, 0);  // nothing is reported for a refused packet
}

TEST(ParseSctpTest, ChunkMustEndInsideIpPacketNotFrame) {
  // 16 bytes of SCTP in a frame padded to 64 bytes: a chunk length of 8 would reach into the
  // Ethernet padding.
  Bytes f = sctp4(sctp_hdr({0x00, 0x00, 0x00, 0x08}));
  f.resize(64, 0);
  EXPECT_EQ(parse(f).status, ParseStatus::kBadL4Header);
  Bytes g = sctp4(sctp_hdr({0x00, 0x00, 0x00, 0x04}));
  g.resize(64, 0xee);
  const ParsedPacket p = parse(g);
  EXPECT_EQ(p.status, ParseStatus::kOk);
  EXPECT_EQ(p.l4_len(), 16);
}

TEST(ParseSctpTest, FragmentsAreNotParsed) {
  Bytes f = sctp4(kSctpInit);
  put16(f, 14 + 6, 0x2000);
  fix_ipv4_checksum(f);
  const ParsedPacket p = parse(f);
  EXPECT_EQ(p.status, ParseStatus::kFragment);
  EXPECT_EQ(p.sport, 0);
  EXPECT_EQ(p.sctp_chunk, 0);
}

TEST(ParseSctpTest, QuotedNeedsPortsAndTagOnly) {
  const Bytes inner =
      PacketBuilder().ipv4(kV4, kC4).raw_l4(kProtoSctp).payload(kSctpInit).build_ip();
  // An ICMP error quotes the IP header and the first 8 bytes: ports and verification tag.
  ParsedPacket q;
  parse_ip(inner.data(), 20 + 8, 0, Family::kV4, true, q);
  EXPECT_EQ(q.status, ParseStatus::kOk);
  EXPECT_EQ(q.sport, 40000);
  EXPECT_EQ(q.dport, 3868);
  EXPECT_EQ(q.sctp_chunk, 0);  // not looked at when quoted
  ParsedPacket t;
  parse_ip(inner.data(), 20 + 7, 0, Family::kV4, true, t);
  EXPECT_EQ(t.status, ParseStatus::kTruncatedL4);
  // A quote with a broken first chunk is still good for its ports.
  Bytes b = inner;
  put16(b, 20 + 14, 0);
  ParsedPacket qb;
  parse_ip(b.data(), b.size(), 0, Family::kV4, true, qb);
  EXPECT_EQ(qb.status, ParseStatus::kOk);
  EXPECT_EQ(qb.dport, 3868);
}

}  // namespace
}  // namespace lvs::net
