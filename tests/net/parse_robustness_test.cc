// The parser against damaged input: every prefix and every single-bit flip of valid frames.
// Each input is copied into a buffer of exactly its size, so under ASan any read past the end
// fails the test; successful parses must only describe bytes inside the buffer.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "net/bytes.h"
#include "net/headers.h"
#include "net/packet_builder.h"
#include "net/parse.h"
#include "net/test_util.h"

namespace lvs::net {
namespace {

using testing::Bytes;

// Invariants of a result; returns what is violated, empty when none.
std::string violation(const uint8_t* buf, size_t len, const ParsedPacket& p, bool quoted) {
  if (p.status == ParseStatus::kFragment && p.l4_offset > len) return "fragment l4_offset";
  if (!p.ok()) return {};
  if (p.family != Family::kV4 && p.family != Family::kV6) return "family";
  if (p.vlan_count > 2) return "vlan_count";
  const size_t min_l3 = p.family == Family::kV4 ? kIpv4MinHdrLen : kIpv6HdrLen;
  if (p.l3_offset + min_l3 > len) return "IP header outside the buffer";
  if (p.l4_offset < p.l3_offset + min_l3) return "l4_offset inside the IP header";
  if (p.l4_offset > len) return "l4_offset past the buffer";
  if (!quoted && p.l3_end() > len) return "l3_end past the buffer";
  if (p.l4_offset > p.l3_end()) return "l4_offset past l3_end";
  // Bytes of the transport header the parser claims to have read.
  size_t need = 0;
  if (p.l4_proto == kProtoTcp) need = quoted ? 8 : kTcpMinHdrLen;
  if (p.l4_proto == kProtoUdp) need = kUdpHdrLen;
  if (p.l4_proto == kProtoIcmp || p.l4_proto == kProtoIcmpv6) need = kIcmpHdrLen;
  if (p.l4_offset + need > len) return "transport header past the buffer";
  if (!quoted && p.l4_offset + need > p.l3_end()) return "transport header past l3_end";
  if (p.l4_proto == kProtoTcp || p.l4_proto == kProtoUdp) {
    if (p.sport != load_be16(buf + p.l4_offset)) return "sport";
    if (p.dport != load_be16(buf + p.l4_offset + 2)) return "dport";
  }
  if (p.l4_proto == kProtoTcp && !quoted) {
    const size_t doff = size_t(buf[p.l4_offset + 12] >> 4) * 4;
    if (doff < kTcpMinHdrLen || p.l4_offset + doff > p.l3_end()) return "tcp data offset";
  }
  return {};
}

ParsedPacket parse_exact(const uint8_t* src, size_t n, std::unique_ptr<uint8_t[]>& buf) {
  buf = std::make_unique<uint8_t[]>(n);
  if (n) std::memcpy(buf.get(), src, n);
  return parse_packet(buf.get(), n);
}

struct Sample {
  const char* name;
  Bytes frame;
};

std::vector<Sample> samples() {
  const IpAddr c4 = ip("198.18.0.1"), v4 = ip("198.18.0.2");
  const IpAddr c6 = ip("2001:2::1"), v6 = ip("2001:2::2");
  auto b4 = [&] { return PacketBuilder().eth(mac(1), mac(2)).ipv4(c4, v4); };
  auto b6 = [&] { return PacketBuilder().eth(mac(1), mac(2)).ipv6(c6, v6); };
  const Bytes quoted =
      PacketBuilder().ipv6(v6, c6).tcp(443, 50000, kTcpAck).payload("xy").build_ip();
  return {
      {"tcp4", b4().tcp(40000, 80, kTcpSyn).payload("hello").build()},
      {"udp6 ext", b6().ipv6_ext(kProtoHopByHop, 8)
                       .ipv6_ext(kProtoRouting, 24)
                       .ipv6_ext(kProtoFragment, 8)
                       .ipv6_ext(kProtoAh, 16)
                       .ipv6_ext(kProtoDstOpts, 16)
                       .udp(5353, 53)
                       .payload("query")
                       .build()},
      {"icmp4 echo", b4().icmp(kIcmpEchoRequest, 0, 0x4242'0001).payload("ping").build()},
      {"icmp6 error", b6().icmp(kIcmp6DestUnreach, kIcmp6PortUnreach).payload(quoted).build()},
      {"qinq tcp6", b6().vlan(10, kEthPQinQ).vlan(20).tcp(1, 2, kTcpFin | kTcpAck).build()},
      {"udp4 padded",
       [&] {
         Bytes f = b4().udp(1, 2).payload("z").build();
         f.resize(60, 0);
         return f;
       }()},
  };
}

TEST(ParseRobustnessTest, EveryPrefix) {
  for (const Sample& s : samples()) {
    std::unique_ptr<uint8_t[]> buf;
    for (size_t n = 0; n <= s.frame.size(); ++n) {
      const ParsedPacket p = parse_exact(s.frame.data(), n, buf);
      EXPECT_EQ(violation(buf.get(), n, p, false), "") << s.name << " prefix " << n;
    }
    // The whole frame parses; padding aside, no shorter prefix does.
    const ParsedPacket full = parse_exact(s.frame.data(), s.frame.size(), buf);
    EXPECT_EQ(full.status, ParseStatus::kOk) << s.name;
    for (size_t n = 0; n < full.l3_end(); ++n) {
      EXPECT_NE(parse_exact(s.frame.data(), n, buf).status, ParseStatus::kOk)
          << s.name << " prefix " << n;
    }
  }
}

TEST(ParseRobustnessTest, PrefixStatusesOfTcp4) {
  const Bytes f = samples()[0].frame;
  ASSERT_EQ(f.size(), 59u);
  std::unique_ptr<uint8_t[]> buf;
  for (size_t n = 0; n <= f.size(); ++n) {
    const ParseStatus want = n < 14   ? ParseStatus::kTruncatedL2
                             : n < 34 ? ParseStatus::kTruncatedL3
                             : n < 59 ? ParseStatus::kBadIpLength
                                      : ParseStatus::kOk;
    EXPECT_EQ(parse_exact(f.data(), n, buf).status, want) << n;
  }
}

TEST(ParseRobustnessTest, EverySingleBitFlip) {
  for (const Sample& s : samples()) {
    std::unique_ptr<uint8_t[]> buf;
    for (size_t i = 0; i < s.frame.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        Bytes f = s.frame;
        f[i] ^= uint8_t(1u << bit);
        const ParsedPacket p = parse_exact(f.data(), f.size(), buf);
        EXPECT_EQ(violation(buf.get(), f.size(), p, false), "")
            << s.name << " byte " << i << " bit " << bit;
      }
      for (uint8_t v : {uint8_t(0x00), uint8_t(0xff)}) {
        Bytes f = s.frame;
        f[i] = v;
        const ParsedPacket p = parse_exact(f.data(), f.size(), buf);
        EXPECT_EQ(violation(buf.get(), f.size(), p, false), "") << s.name << " byte " << i;
      }
    }
  }
}

TEST(ParseRobustnessTest, Ipv4HeaderBitFlipsNeverParse) {
  // The header checksum catches every single-bit error the earlier checks do not.
  const Bytes frame = samples()[0].frame;
  std::unique_ptr<uint8_t[]> buf;
  for (size_t i = 14; i < 34; ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes f = frame;
      f[i] ^= uint8_t(1u << bit);
      EXPECT_NE(parse_exact(f.data(), f.size(), buf).status, ParseStatus::kOk)
          << "byte " << i << " bit " << bit;
    }
  }
  // Flips in the MAC addresses change nothing the parser looks at.
  for (size_t i = 0; i < 12; ++i) {
    Bytes f = frame;
    f[i] ^= 0x80;
    EXPECT_EQ(parse_exact(f.data(), f.size(), buf).status, ParseStatus::kOk) << i;
  }
}

TEST(ParseRobustnessTest, QuotedPrefixes) {
  const Bytes inner4 = PacketBuilder()
                           .ipv4(ip("198.18.0.2"), ip("198.18.0.1"))
                           .tcp(80, 40000, kTcpAck)
                           .payload("0123456789")
                           .build_ip();
  const Bytes inner6 = PacketBuilder()
                           .ipv6(ip("2001:2::2"), ip("2001:2::1"))
                           .ipv6_ext(kProtoHopByHop, 8)
                           .ipv6_ext(kProtoDstOpts, 16)
                           .udp(53, 5353)
                           .payload("0123456789")
                           .build_ip();
  struct Q {
    const Bytes* pkt;
    Family af;
    size_t first_ok;  // shortest quote that parses: IP headers + 8 transport bytes
  };
  for (const Q& q : {Q{&inner4, Family::kV4, 28}, Q{&inner6, Family::kV6, 72}}) {
    for (size_t n = 0; n <= q.pkt->size(); ++n) {
      auto buf = std::make_unique<uint8_t[]>(n);
      if (n) std::memcpy(buf.get(), q.pkt->data(), n);
      ParsedPacket p;
      parse_ip(buf.get(), n, 0, q.af, true, p);
      EXPECT_EQ(violation(buf.get(), n, p, true), "") << n;
      EXPECT_EQ(p.ok(), n >= q.first_ok) << n;
      for (size_t i = 0; i < n; ++i) {
        const uint8_t saved = buf[i];
        buf[i] ^= 0x5a;
        ParsedPacket f;
        parse_ip(buf.get(), n, 0, q.af, true, f);
        EXPECT_EQ(violation(buf.get(), n, f, true), "") << n << " byte " << i;
        buf[i] = saved;
      }
    }
  }
}

}  // namespace
}  // namespace lvs::net
