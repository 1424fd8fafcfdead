// ICMP "fragmentation needed" / ICMPv6 "packet too big", byte for byte. The expected headers were
// computed by a separate Python script (struct packing and its own RFC 1071 checksum): the input
// frames' headers (their payload is pattern(n), bytes (7 i + 3) mod 256) and the error's IP +
// ICMP headers as the kernel's icmp_send / icmp6_send build them: IPv4 TOS (tos & 0x1e) | 0xc0,
// ID 0, no DF, TTL 64; IPv6 traffic class 0, flow label 0, hop limit 64; the quote is the start
// of the offending IP packet, up to 576 (IPv4) or 1280 (IPv6) bytes of error.
#include "core/icmp_too_big.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "net/headers.h"
#include "net/packet_builder.h"
#include "net/parse.h"

namespace lvs::core {
namespace {

// clang-format off
// ---- too-big inputs: header bytes; the payload is pattern(n) ----
const std::vector<uint8_t> kBig4Hdr = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45, 0xb9,
    0x05, 0xdc, 0x22, 0x22, 0x40, 0x00, 0x3c, 0x11, 0x89, 0x06, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12,
    0x01, 0x0a, 0x9c, 0x40, 0x00, 0x35, 0x05, 0xc8, 0xdd, 0xa8,
};
const std::vector<uint8_t> kSmall4Hdr = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45, 0xb9,
    0x00, 0x78, 0x22, 0x22, 0x40, 0x00, 0x3c, 0x11, 0x8e, 0x6a, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12,
    0x01, 0x0a, 0x9c, 0x40, 0x00, 0x35, 0x00, 0x64, 0x9d, 0x05,
};
const std::vector<uint8_t> kBig6Hdr = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x62, 0xb5,
    0x43, 0x21, 0x05, 0xb4, 0x11, 0x3c, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x9c, 0x40, 0x00, 0x35, 0x05, 0xb4, 0xcb, 0xd7,
};
const std::vector<uint8_t> kSmall6Hdr = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x62, 0xb5,
    0x43, 0x21, 0x00, 0xa0, 0x11, 0x3c, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x9c, 0x40, 0x00, 0x35, 0x00, 0xa0, 0x3d, 0x2f,
};
// errors: IP + ICMP header; the quote follows
const std::vector<uint8_t> kBig4Err = {
    0x45, 0xd8, 0x02, 0x40, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01, 0xea, 0xb5, 0xc6, 0x12, 0x01, 0x0a,
    0xc6, 0x12, 0x00, 0x01, 0x03, 0x04, 0x97, 0x50, 0x00, 0x00, 0x05, 0xc8,
};
const std::vector<uint8_t> kSmall4Err = {
    0x45, 0xd8, 0x00, 0x94, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01, 0xeb, 0x6a, 0xc6, 0x12, 0x02, 0x01,
    0xc6, 0x12, 0x00, 0x01, 0x03, 0x04, 0x8a, 0x3d, 0x00, 0x00, 0x00, 0x64,
};
const std::vector<uint8_t> kBig6Err = {
    0x60, 0x00, 0x00, 0x00, 0x04, 0xd8, 0x3a, 0x40, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x63, 0x44, 0x00, 0x00, 0x05, 0xa8,
};
const std::vector<uint8_t> kSmall6Err = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0xd0, 0x3a, 0x40, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x05, 0x54, 0x00, 0x00, 0x00, 0x96,
};

// clang-format on
const net::IpAddr kDir4 = net::ip("198.18.2.1");
const net::IpAddr kDir6 = net::ip("2001:2:0:2::1");

std::vector<uint8_t> frame(const std::vector<uint8_t>& hdr, size_t payload) {
  std::vector<uint8_t> f = hdr;
  for (size_t i = 0; i < payload; ++i) f.push_back(uint8_t(i * 7 + 3));
  return f;
}

struct Result {
  size_t len = 0;
  std::vector<uint8_t> out;  // the frame as left, up to len (or the original length if 0)
  bool unchanged = false;
};

Result too_big(const std::vector<uint8_t>& in, uint32_t mtu, size_t tailroom,
               const net::IpAddr* src) {
  std::vector<uint8_t> buf(in.size() + tailroom + 32, 0x5a);
  std::memcpy(buf.data(), in.data(), in.size());
  const std::vector<uint8_t> before = buf;
  const net::ParsedPacket p = net::parse_packet(buf.data(), in.size());
  EXPECT_TRUE(p.ok());
  Result r;
  r.len = build_too_big(buf.data(), in.size(), tailroom, p, mtu, src);
  r.out.assign(buf.begin(), buf.begin() + (r.len ? r.len : in.size()));
  r.unchanged = buf == before;
  return r;
}

// Ethernet header of the input, the error's headers, then the first `quote` bytes of the input's
// IP packet.
std::vector<uint8_t> expect(const std::vector<uint8_t>& in, const std::vector<uint8_t>& err,
                            size_t quote) {
  std::vector<uint8_t> out(in.begin(), in.begin() + 14);
  out.insert(out.end(), err.begin(), err.end());
  out.insert(out.end(), in.begin() + 14, in.begin() + 14 + quote);
  return out;
}

TEST(IcmpTooBig, Ipv4QuotesUpTo576Bytes) {
  const auto in = frame(kBig4Hdr, 1472);
  ASSERT_EQ(in.size(), 14u + 1500);
  const Result r = too_big(in, 1480, 0, nullptr);
  ASSERT_EQ(r.len, 14u + 576);
  EXPECT_EQ(r.out, expect(in, kBig4Err, 548));
}

TEST(IcmpTooBig, Ipv4SmallPacketIsQuotedWholeAndNeedsTailroom) {
  const auto in = frame(kSmall4Hdr, 92);
  ASSERT_EQ(in.size(), 14u + 120);
  const Result r = too_big(in, 100, 28, &kDir4);
  ASSERT_EQ(r.len, 14u + 28 + 120);
  EXPECT_EQ(r.out, expect(in, kSmall4Err, 120));

  const Result no_room = too_big(in, 100, 27, &kDir4);
  EXPECT_EQ(no_room.len, 0u);
  EXPECT_TRUE(no_room.unchanged);
}

TEST(IcmpTooBig, Ipv6QuotesUpTo1280Bytes) {
  const auto in = frame(kBig6Hdr, 1452);
  ASSERT_EQ(in.size(), 14u + 1500);
  const Result r = too_big(in, 1448, 0, nullptr);
  ASSERT_EQ(r.len, 14u + 1280);
  EXPECT_EQ(r.out, expect(in, kBig6Err, 1232));
}

TEST(IcmpTooBig, Ipv6SmallPacketFromAGivenSource) {
  const auto in = frame(kSmall6Hdr, 152);
  ASSERT_EQ(in.size(), 14u + 200);
  const Result r = too_big(in, 150, 48, &kDir6);
  ASSERT_EQ(r.len, 14u + 48 + 200);
  EXPECT_EQ(r.out, expect(in, kSmall6Err, 200));
}

TEST(IcmpTooBig, RefusesASourceOfTheOtherFamily) {
  const Result r = too_big(frame(kBig4Hdr, 1472), 1480, 0, &kDir6);
  EXPECT_EQ(r.len, 0u);
  EXPECT_TRUE(r.unchanged);
}

TEST(IcmpTooBig, TheErrorParses) {
  const Result r = too_big(frame(kBig6Hdr, 1452), 1448, 0, nullptr);
  const net::ParsedPacket p = net::parse_packet(r.out.data(), r.out.size());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.l4_proto, net::kProtoIcmpv6);
  EXPECT_EQ(p.icmp_type, net::kIcmp6PacketTooBig);
}

bool needs(const std::vector<uint8_t>& f, uint32_t mtu) {
  const net::ParsedPacket p = net::parse_packet(f.data(), f.size());
  EXPECT_TRUE(p.ok());
  return needs_too_big(p, f.data(), mtu);
}

std::vector<uint8_t> udp4(const char* src, bool df, size_t payload) {
  return net::PacketBuilder()
      .ipv4(net::ip(src), net::ip("198.18.1.10"))
      .dont_fragment(df)
      .udp(1000, 53)
      .payload(std::vector<uint8_t>(payload, 1))
      .build();
}

std::vector<uint8_t> udp6(const char* src, size_t payload) {
  return net::PacketBuilder()
      .ipv6(net::ip(src), net::ip("2001:2::a"))
      .udp(1000, 53)
      .payload(std::vector<uint8_t>(payload, 1))
      .build();
}

TEST(IcmpTooBig, Predicate) {
  // IPv4: 1000 bytes of IP.
  EXPECT_TRUE(needs(udp4("198.18.0.1", true, 972), 999));
  EXPECT_FALSE(needs(udp4("198.18.0.1", true, 972), 1000));
  EXPECT_FALSE(needs(udp4("198.18.0.1", false, 972), 999));  // no DF: IPVS fragments
  // IPv6: 1000 bytes of IP, never fragmented on the way.
  EXPECT_TRUE(needs(udp6("2001:2::1", 952), 999));
  EXPECT_FALSE(needs(udp6("2001:2::1", 952), 1000));
}

TEST(IcmpTooBig, PredicateSparesErrorsAndUnanswerableSenders) {
  const std::vector<uint8_t> quoted(960, 0);
  const auto icmp4 = [&](uint8_t type) {
    return net::PacketBuilder()
        .ipv4(net::ip("198.18.0.1"), net::ip("198.18.1.10"))
        .icmp(type, 0)
        .payload(quoted)
        .build();
  };
  EXPECT_FALSE(needs(icmp4(net::kIcmpDestUnreach), 900));
  EXPECT_FALSE(needs(icmp4(net::kIcmpTimeExceeded), 900));
  EXPECT_FALSE(needs(icmp4(5), 900));   // redirect
  EXPECT_FALSE(needs(icmp4(77), 900));  // unknown types count as errors
  EXPECT_TRUE(needs(icmp4(net::kIcmpEchoRequest), 900));
  const auto icmp6 = [&](uint8_t type) {
    return net::PacketBuilder()
        .ipv6(net::ip("2001:2::1"), net::ip("2001:2::a"))
        .icmp(type, 0)
        .payload(quoted)
        .build();
  };
  EXPECT_FALSE(needs(icmp6(net::kIcmp6DestUnreach), 900));
  EXPECT_FALSE(needs(icmp6(net::kIcmp6PacketTooBig), 900));
  EXPECT_TRUE(needs(icmp6(net::kIcmp6EchoRequest), 900));

  EXPECT_FALSE(needs(udp4("0.0.0.0", true, 972), 999));
  EXPECT_FALSE(needs(udp4("127.0.0.1", true, 972), 999));
  EXPECT_FALSE(needs(udp4("224.0.0.1", true, 972), 999));
  EXPECT_FALSE(needs(udp4("239.255.255.255", true, 972), 999));
  EXPECT_FALSE(needs(udp4("255.255.255.255", true, 972), 999));
  EXPECT_TRUE(needs(udp4("240.0.0.1", true, 972), 999));  // not martian for the kernel
  EXPECT_FALSE(needs(udp6("::", 952), 999));
  EXPECT_FALSE(needs(udp6("ff02::1", 952), 999));
}

}  // namespace
}  // namespace lvs::core
