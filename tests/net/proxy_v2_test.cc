// PROXY protocol v2: headers written byte for byte as haproxy's doc/proxy-protocol.txt (2.2) lays
// them out (expected bytes typed from the spec, not produced by the writer), and the parser's
// verdict on every kind of bad or partial input.
#include "net/proxy_v2.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "net/test_util.h"

namespace lvs::net {
namespace {

using testing::Bytes;
using testing::hex;

IpAddr ip(const char* s) { return *IpAddr::parse(s); }

// Signature, then version 2 / command PROXY.
constexpr const char* kSigProxy = "0d0a0d0a 000d0a51 5549540a 21";

TEST(ProxyV2, Sizes) {
  EXPECT_EQ(proxy_v2_size(Family::kV4), 28u);
  EXPECT_EQ(proxy_v2_size(Family::kV6), 52u);
  EXPECT_EQ(proxy_v2_size(Family::kNone), 0u);
  EXPECT_EQ(proxy_v2_family(ip("198.18.0.1"), ip("198.18.0.10")), Family::kV4);
  EXPECT_EQ(proxy_v2_family(ip("2001:2::1"), ip("198.18.0.10")), Family::kV6);
  EXPECT_EQ(proxy_v2_family(ip("198.18.0.1"), ip("2001:2::10")), Family::kV6);
  EXPECT_EQ(proxy_v2_family(IpAddr{}, ip("198.18.0.10")), Family::kNone);
}

struct WriteCase {
  const char* name;
  const char* src;
  uint16_t sport;
  const char* dst;
  uint16_t dport;
  uint8_t proto;
  const char* expected;
};

const WriteCase kWriteCases[] = {
    {"tcp4", "198.18.0.1", 40000, "198.18.0.10", 80, 6, "11 000c  c6120001 c612000a  9c40 0050"},
    {"udp4", "198.18.0.2", 5353, "198.18.0.10", 53, 17, "12 000c  c6120002 c612000a  14e9 0035"},
    {"tcp6", "2001:2::1", 50000, "2001:2::10", 8080, 6,
     "21 0024  20010002 00000000 00000000 00000001"
     "         20010002 00000000 00000000 00000010  c350 1f90"},
    {"udp6", "2001:2:0:1::abcd", 1, "2001:2::10", 65535, 17,
     "22 0024  20010002 00000001 00000000 0000abcd"
     "         20010002 00000000 00000000 00000010  0001 ffff"},
    // NAT64: the IPv4 side is written IPv4-mapped in an IPv6 header.
    {"tcp6_client_v4_vip", "2001:2::1", 1234, "198.18.0.10", 80, 6,
     "21 0024  20010002 00000000 00000000 00000001"
     "         00000000 00000000 0000ffff c612000a  04d2 0050"},
    {"tcp4_client_v6_vip", "198.18.0.1", 1234, "2001:2::10", 80, 6,
     "21 0024  00000000 00000000 0000ffff c6120001"
     "         20010002 00000000 00000000 00000010  04d2 0050"},
};

TEST(ProxyV2, WritesSpecLayout) {
  for (const WriteCase& c : kWriteCases) {
    SCOPED_TRACE(c.name);
    const Bytes want = hex(std::string(kSigProxy) + c.expected);
    uint8_t buf[64];
    std::memset(buf, 0xee, sizeof(buf));
    const size_t n =
        proxy_v2_write(buf, sizeof(buf), ip(c.src), c.sport, ip(c.dst), c.dport, c.proto);
    ASSERT_EQ(n, want.size());
    EXPECT_EQ(Bytes(buf, buf + n), want);
    EXPECT_EQ(buf[n], 0xee) << "wrote past the header";
    EXPECT_EQ(n, proxy_v2_size(proxy_v2_family(ip(c.src), ip(c.dst))));
  }
}

TEST(ProxyV2, WriteRefusals) {
  uint8_t buf[64];
  std::memset(buf, 0xee, sizeof(buf));
  // One byte short of the header: nothing is written.
  EXPECT_EQ(proxy_v2_write(buf, 27, ip("198.18.0.1"), 1, ip("198.18.0.10"), 80, 6), 0u);
  EXPECT_EQ(proxy_v2_write(buf, 51, ip("2001:2::1"), 1, ip("2001:2::10"), 80, 6), 0u);
  EXPECT_EQ(proxy_v2_write(buf, 64, ip("198.18.0.1"), 1, ip("198.18.0.10"), 80, 1), 0u);
  EXPECT_EQ(proxy_v2_write(buf, 64, IpAddr{}, 1, ip("198.18.0.10"), 80, 6), 0u);
  for (uint8_t b : buf) EXPECT_EQ(b, 0xee);
  EXPECT_EQ(proxy_v2_write(buf, 28, ip("198.18.0.1"), 1, ip("198.18.0.10"), 80, 6), 28u);
}

TEST(ProxyV2, ParseRoundTrip) {
  for (const WriteCase& c : kWriteCases) {
    SCOPED_TRACE(c.name);
    uint8_t buf[64];
    const size_t n =
        proxy_v2_write(buf, sizeof(buf), ip(c.src), c.sport, ip(c.dst), c.dport, c.proto);
    ASSERT_GT(n, 0u);
    // Stream data after the header is not part of it.
    buf[n] = 'G';
    const ProxyV2Result r = parse_proxy_v2(buf, n + 1);
    ASSERT_EQ(r.status, ProxyV2Status::kOk) << proxy_v2_status_name(r.status);
    EXPECT_EQ(r.command, ProxyV2Command::kProxy);
    EXPECT_EQ(r.header_len, n);
    EXPECT_EQ(r.tlv_offset, n);
    EXPECT_EQ(r.tlv_count, 0);
    EXPECT_EQ(r.proto, c.proto);
    EXPECT_EQ(r.sport, c.sport);
    EXPECT_EQ(r.dport, c.dport);
    const Family af = proxy_v2_family(ip(c.src), ip(c.dst));
    EXPECT_EQ(r.src.family, af);
    if (ip(c.src).family == af) {
      EXPECT_EQ(r.src, ip(c.src));
    }
    if (ip(c.dst).family == af) {
      EXPECT_EQ(r.dst, ip(c.dst));
    }
  }
  // The mapped form reads back as ::ffff:a.b.c.d.
  uint8_t buf[64];
  const size_t n = proxy_v2_write(buf, sizeof(buf), ip("2001:2::1"), 1, ip("198.18.0.10"), 80, 6);
  EXPECT_EQ(parse_proxy_v2(buf, n).dst, ip("::ffff:198.18.0.10"));
}

TEST(ProxyV2, EveryPrefixNeedsMore) {
  const Bytes h = hex(std::string(kSigProxy) + "21 0024" + std::string(72, '0'));
  ASSERT_EQ(h.size(), 52u);
  ASSERT_TRUE(parse_proxy_v2(h.data(), h.size()).ok());
  for (size_t n = 0; n < h.size(); ++n) {
    const ProxyV2Result r = parse_proxy_v2(h.data(), n);
    EXPECT_EQ(r.status, ProxyV2Status::kNeedMore) << n;
    EXPECT_EQ(r.header_len, n >= 16 ? 52u : 0u) << n;
  }
  EXPECT_EQ(parse_proxy_v2(nullptr, 0).status, ProxyV2Status::kNeedMore);
}

ProxyV2Status status_of(const std::string& text) {
  const Bytes b = hex(text);
  return parse_proxy_v2(b.data(), b.size()).status;
}

TEST(ProxyV2, Errors) {
  const std::string sig = "0d0a0d0a 000d0a51 5549540a";
  // Not the signature: a v1 header, HTTP, one wrong byte anywhere in the signature.
  EXPECT_EQ(status_of("50524f5859205443503420"), ProxyV2Status::kNotProxyV2);  // "PROXY TCP4 "
  EXPECT_EQ(status_of("47455420"), ProxyV2Status::kNotProxyV2);                // "GET "
  for (size_t i = 0; i < 12; ++i) {
    Bytes b = hex(sig + "21 11 000c" + std::string(24, '0'));
    b[i] ^= 0x01;
    EXPECT_EQ(parse_proxy_v2(b.data(), b.size()).status, ProxyV2Status::kNotProxyV2) << i;
    EXPECT_EQ(parse_proxy_v2(b.data(), i + 1).status, ProxyV2Status::kNotProxyV2) << i;
  }
  // Version: only 2.
  EXPECT_EQ(status_of(sig + "11"), ProxyV2Status::kBadVersion);
  EXPECT_EQ(status_of(sig + "31 11 000c"), ProxyV2Status::kBadVersion);
  EXPECT_EQ(status_of(sig + "01"), ProxyV2Status::kBadVersion);
  // Command: LOCAL or PROXY only.
  EXPECT_EQ(status_of(sig + "22"), ProxyV2Status::kBadCommand);
  EXPECT_EQ(status_of(sig + "2f 11 000c"), ProxyV2Status::kBadCommand);
  // Family above UNIX, transport above DGRAM (PROXY only).
  EXPECT_EQ(status_of(sig + "21 41"), ProxyV2Status::kBadFamily);
  EXPECT_EQ(status_of(sig + "21 13 000c"), ProxyV2Status::kBadFamily);
  EXPECT_EQ(status_of(sig + "21 f0 0000"), ProxyV2Status::kBadFamily);
  // Length below the address block, known as soon as the 16 fixed bytes are there.
  EXPECT_EQ(status_of(sig + "21 11 000b"), ProxyV2Status::kShortAddress);
  EXPECT_EQ(status_of(sig + "21 12 0000"), ProxyV2Status::kShortAddress);
  EXPECT_EQ(status_of(sig + "21 21 000c"), ProxyV2Status::kShortAddress);
  EXPECT_EQ(status_of(sig + "21 22 0023"), ProxyV2Status::kShortAddress);
  EXPECT_EQ(status_of(sig + "21 31 00d7"), ProxyV2Status::kShortAddress);
  // TLVs: one or two stray bytes, or a value running past the header.
  const std::string tcp4 = sig + "21 11";
  const std::string addrs = "c6120001 c612000a 9c40 0050";
  EXPECT_EQ(status_of(tcp4 + "000d" + addrs + "04"), ProxyV2Status::kBadTlv);
  EXPECT_EQ(status_of(tcp4 + "000e" + addrs + "0400"), ProxyV2Status::kBadTlv);
  EXPECT_EQ(status_of(tcp4 + "0010" + addrs + "04 0002 00"), ProxyV2Status::kBadTlv);
  EXPECT_EQ(status_of(tcp4 + "0014" + addrs + "04 0000  01 0003 6832"), ProxyV2Status::kBadTlv);
  // Every status has a name.
  for (uint8_t s = 0; s < uint8_t(ProxyV2Status::kCount); ++s) {
    EXPECT_FALSE(proxy_v2_status_name(ProxyV2Status(s)).empty());
  }
}

TEST(ProxyV2, TlvsAreSkipped) {
  // TCP4 with a NOOP TLV (2 bytes) and ALPN "h2": 12 + 5 + 5 = 22 bytes after the fixed part.
  const Bytes b = hex(std::string(kSigProxy) +
                      "11 0016  c6120001 c612000a 9c40 0050  04 0002 0000  01 0002 6832"
                      "474554");  // then the stream: "GET"
  const ProxyV2Result r = parse_proxy_v2(b.data(), b.size());
  ASSERT_EQ(r.status, ProxyV2Status::kOk) << proxy_v2_status_name(r.status);
  EXPECT_EQ(r.header_len, 38u);
  EXPECT_EQ(r.tlv_offset, 28u);
  EXPECT_EQ(r.tlv_count, 2);
  EXPECT_EQ(r.src, ip("198.18.0.1"));
  EXPECT_EQ(r.dst, ip("198.18.0.10"));
  EXPECT_EQ(r.sport, 40000);
  EXPECT_EQ(r.dport, 80);
  EXPECT_EQ(b[r.header_len], 'G');
  // An empty TLV value is fine; so is a TLV that ends exactly at the header's end.
  const Bytes e = hex(std::string(kSigProxy) + "11 000f  c6120001 c612000a 9c40 0050  04 0000");
  EXPECT_EQ(parse_proxy_v2(e.data(), e.size()).tlv_count, 1);
}

TEST(ProxyV2, LocalUnspecAndUnix) {
  const std::string sig = "0d0a0d0a 000d0a51 5549540a";
  // LOCAL with no addresses (what a health check sends).
  Bytes b = hex(sig + "20 00 0000");
  ProxyV2Result r = parse_proxy_v2(b.data(), b.size());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.command, ProxyV2Command::kLocal);
  EXPECT_EQ(r.header_len, 16u);
  EXPECT_EQ(r.src.family, Family::kNone);
  // LOCAL must still skip what its length says, and ignores the family (even an invalid one).
  b = hex(sig + "20 11 000c c6120001 c612000a 9c40 0050");
  r = parse_proxy_v2(b.data(), b.size());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.header_len, 28u);
  EXPECT_EQ(r.src.family, Family::kNone);
  b = hex(sig + "20 ff 0001 00");
  EXPECT_TRUE(parse_proxy_v2(b.data(), b.size()).ok());
  // PROXY with UNSPEC family or transport: accepted, addresses ignored.
  b = hex(sig + "21 00 0000");
  r = parse_proxy_v2(b.data(), b.size());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.src.family, Family::kNone);
  EXPECT_EQ(r.proto, 0);
  b = hex(sig + "21 10 000c c6120001 c612000a 9c40 0050");
  r = parse_proxy_v2(b.data(), b.size());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.src.family, Family::kNone);
  EXPECT_EQ(r.tlv_offset, 28u);
  // UNIX stream: 216 address bytes, then TLVs are walked.
  b = hex(sig + "21 31 00dc" + std::string(432, '0') + "04 0001 00");
  r = parse_proxy_v2(b.data(), b.size());
  ASSERT_EQ(r.status, ProxyV2Status::kOk) << proxy_v2_status_name(r.status);
  EXPECT_EQ(r.header_len, 236u);
  EXPECT_EQ(r.tlv_offset, 232u);
  EXPECT_EQ(r.tlv_count, 1);
  EXPECT_EQ(r.src.family, Family::kNone);
}

}  // namespace
}  // namespace lvs::net
