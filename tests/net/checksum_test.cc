// Internet checksums: RFC 1071 worked examples for the full sum, and RFC 1624 incremental updates
// checked against full recomputation (by the naive reference in test_util.h) for many random
// rewrites from a fixed seed.
#include "net/checksum.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <random>

#include "net/bytes.h"
#include "net/headers.h"
#include "net/packet_builder.h"
#include "net/test_util.h"

namespace lvs::net {
namespace {

using testing::Bytes;
using testing::get16;
using testing::hex;
using testing::put16;
using testing::ref_checksum;
using testing::ref_sum;

TEST(ChecksumTest, Rfc1071Example) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to 2ddf0, folded ddf2.
  const Bytes b = hex("00 01 f2 03 f4 f5 f6 f7");
  EXPECT_EQ(csum_partial(b.data(), b.size(), 0), 0x2ddf0u);
  EXPECT_EQ(csum_fold(0x2ddf0), 0xddf2);
  EXPECT_EQ(checksum(b.data(), b.size()), 0x220d);
  // Byte order independence: the same bytes summed as big-endian words by hand.
  EXPECT_EQ(ref_sum(b.data(), b.size()), 0xddf2);
}

TEST(ChecksumTest, Ipv4HeaderExample) {
  // A classic IPv4 header whose checksum is b861.
  Bytes h = hex("45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7");
  EXPECT_EQ(csum_fold(csum_partial(h.data(), h.size(), 0)), 0xffff);  // verifies
  put16(h, 10, 0);
  EXPECT_EQ(checksum(h.data(), h.size()), 0xb861);
}

TEST(ChecksumTest, OddLengthPadsWithZero) {
  const Bytes b = hex("00 01 f2");
  EXPECT_EQ(csum_partial(b.data(), 3, 0), 0xf201u);
  const Bytes seven = hex("01 02 03 04 05 06 07");
  EXPECT_EQ(csum_partial(seven.data(), 7, 0), 0x0102u + 0x0304u + 0x0506u + 0x0700u);
}

TEST(ChecksumTest, EmptyAndCarries) {
  EXPECT_EQ(csum_partial(nullptr, 0, 0x1234), 0x1234u);
  EXPECT_EQ(checksum(nullptr, 0), 0xffff);
  // A 32-bit running sum that overflows folds its carry back in.
  const Bytes one = hex("00 01");
  EXPECT_EQ(csum_partial(one.data(), 2, 0xffffffff), 1u);
  EXPECT_EQ(csum_fold(0xffffffff), 0xffff);
  EXPECT_EQ(csum_fold(0x1ffff), 0x0001);
  EXPECT_EQ(csum_fold(0), 0);
}

TEST(ChecksumTest, LargeBuffersDoNotOverflow) {
  const Bytes ff(65536, 0xff);
  EXPECT_EQ(csum_partial(ff.data(), 65536, 0), 0x7fff8000u);
  EXPECT_EQ(csum_partial(ff.data(), 65535, 0), 0x7fff7f01u);
  EXPECT_EQ(csum_fold(csum_partial(ff.data(), 65536, 0)), 0xffff);
}

TEST(ChecksumTest, MatchesReferenceForRandomBuffers) {
  std::mt19937 rng(1071);
  Bytes buf(1601);
  for (int iter = 0; iter < 2000; ++iter) {
    for (auto& x : buf) x = uint8_t(rng());
    const size_t off = rng() % 8;  // unaligned starts
    const size_t len = rng() % (buf.size() - off);
    ASSERT_EQ(checksum(buf.data() + off, len), ref_checksum(buf.data() + off, len))
        << off << "+" << len;
    // Summing in two pieces split at an even offset gives the same result.
    const size_t split = (rng() % (len + 1)) & ~size_t(1);
    const uint32_t two = csum_partial(buf.data() + off + split, len - split,
                                      csum_partial(buf.data() + off, split, 0));
    ASSERT_EQ(csum_fold(two), csum_fold(csum_partial(buf.data() + off, len, 0)));
  }
}

TEST(ChecksumTest, PseudoHeaderSum) {
  // c612 + 0001 + c612 + 0002 + proto 6 + length 20.
  EXPECT_EQ(pseudo_header_sum(ip("198.18.0.1"), ip("198.18.0.2"), kProtoTcp, 20), 0x18c41u);
  // 2001:2::1 and 2001:2::2, UDP, 11 bytes.
  EXPECT_EQ(pseudo_header_sum(ip("2001:2::1"), ip("2001:2::2"), kProtoUdp, 11), 0x4025u);
  // IPv6 carries a 32-bit upper-layer length.
  EXPECT_EQ(pseudo_header_sum(ip("2001:2::1"), ip("2001:2::2"), kProtoUdp, 0x12345),
            0x4025u - 11 + 0x1 + 0x2345);
}

// One random rewrite of an even-aligned field outside the checksum field.
struct Rewrite {
  size_t off;
  size_t len;  // 2, 4 or 16
};

TEST(CsumDeltaTest, RandomRewritesEqualRecomputation) {
  std::mt19937 rng(1624);
  constexpr size_t kCheckOff = 10;
  Bytes buf(64);
  for (auto& x : buf) x = uint8_t(rng());
  put16(buf, kCheckOff, 0);
  put16(buf, kCheckOff, ref_checksum(buf.data(), buf.size()));
  for (int iter = 0; iter < 20000; ++iter) {
    CsumDelta d;
    const int n = 1 + int(rng() % 4);
    for (int k = 0; k < n; ++k) {
      const size_t len = std::array<size_t, 3>{2, 4, 16}[rng() % 3];
      size_t off;
      do {
        off = (rng() % ((buf.size() - len) / 2 + 1)) * 2;
      } while (off < kCheckOff + 2 && off + len > kCheckOff);
      uint8_t nv[16];
      for (size_t i = 0; i < len; ++i) nv[i] = uint8_t(rng());
      if (len == 2) {
        d.replace16(load_be16(&buf[off]), load_be16(nv));
      } else if (len == 4) {
        d.replace32(load_be32(&buf[off]), load_be32(nv));
      } else {
        d.replace_bytes(&buf[off], nv, len);
      }
      std::memcpy(&buf[off], nv, len);
    }
    // The checksum is only ever updated incrementally, so errors would accumulate.
    csum_apply_at(&buf[kCheckOff], d);
    const uint16_t got = get16(buf, kCheckOff);
    put16(buf, kCheckOff, 0);
    ASSERT_EQ(got, ref_checksum(buf.data(), buf.size())) << "iteration " << iter;
    put16(buf, kCheckOff, got);
    ASSERT_EQ(ref_sum(buf.data(), buf.size()), 0xffff);
  }
}

TEST(CsumDeltaTest, Ipv6AddressReplacementInUdp) {
  std::mt19937 rng(4291);
  const Bytes pkt = PacketBuilder()
                        .ipv6(ip("2001:2::1"), ip("2001:2::2"))
                        .udp(5353, 53)
                        .payload("some query bytes")
                        .build_ip();
  Bytes cur = pkt;
  const size_t l4 = kIpv6HdrLen;
  const size_t l4_len = cur.size() - l4;
  for (int iter = 0; iter < 5000; ++iter) {
    CsumDelta d;
    for (size_t addr_off : {size_t(Ipv6View::kSaddr), size_t(Ipv6View::kDaddr)}) {
      if (rng() % 2) continue;
      uint8_t nv[16];
      for (auto& x : nv) x = uint8_t(rng());
      d.replace_bytes(&cur[addr_off], nv, 16);
      std::memcpy(&cur[addr_off], nv, 16);
    }
    if (rng() % 2) {
      const uint16_t port = uint16_t(rng());
      d.replace16(get16(cur, l4), port);
      put16(cur, l4, port);
    }
    udp_csum_apply_at(&cur[l4 + UdpView::kCheck], d, false);
    // Full recomputation: pseudo header + UDP with the checksum field zeroed; 0 is sent as ffff.
    Bytes check(cur.begin() + l4, cur.end());
    put16(check, UdpView::kCheck, 0);
    Bytes pseudo(cur.begin() + 8, cur.begin() + 40);
    const uint8_t tail[8] = {0, 0, uint8_t(l4_len >> 8), uint8_t(l4_len), 0, 0, 0, kProtoUdp};
    pseudo.insert(pseudo.end(), tail, tail + 8);
    pseudo.insert(pseudo.end(), check.begin(), check.end());
    uint16_t want = ref_checksum(pseudo.data(), pseudo.size());
    if (want == 0) want = 0xffff;
    ASSERT_EQ(get16(cur, l4 + UdpView::kCheck), want) << "iteration " << iter;
  }
}

// A NAT rewrite done incrementally must produce exactly the bytes of a packet built directly
// with the new addresses.
TEST(CsumDeltaTest, NatRewriteEqualsFreshPacket) {
  const IpAddr client = ip("198.18.0.1"), vip = ip("198.18.0.100"), real = ip("198.19.1.10");
  for (bool tcp : {true, false}) {
    auto make = [&](const IpAddr& dst, uint16_t dport) {
      PacketBuilder b;
      b.ipv4(client, dst).ip_id(0x1234);
      if (tcp) {
        b.tcp(40000, dport, kTcpSyn, 0xdeadbeef);
      } else {
        b.udp(40000, dport);
      }
      return b.payload("GET / HTTP/1.0\r\n\r\n").build_ip();
    };
    Bytes pkt = make(vip, 80);
    const Bytes want = make(real, 8080);
    CsumDelta addr;
    addr.replace_bytes(&pkt[Ipv4View::kDaddr], real.data(), 4);
    CsumDelta l4 = addr;
    l4.replace16(80, 8080);
    csum_apply_at(&pkt[Ipv4View::kCheck], addr);
    std::memcpy(&pkt[Ipv4View::kDaddr], real.data(), 4);
    put16(pkt, 20 + 2, 8080);
    if (tcp) {
      csum_apply_at(&pkt[20 + TcpView::kCheck], l4);
    } else {
      udp_csum_apply_at(&pkt[20 + UdpView::kCheck], l4, true);
    }
    EXPECT_EQ(pkt, want) << (tcp ? "tcp" : "udp");
  }
  // IPv6: only the transport checksum covers the addresses.
  const IpAddr c6 = ip("2001:2::1"), v6 = ip("2001:2::100"), r6 = ip("2001:2:0:1::10");
  Bytes pkt = PacketBuilder().ipv6(c6, v6).tcp(40000, 443, kTcpAck, 7, 9).payload("x").build_ip();
  const Bytes want =
      PacketBuilder().ipv6(c6, r6).tcp(40000, 8443, kTcpAck, 7, 9).payload("x").build_ip();
  CsumDelta d;
  d.replace_bytes(&pkt[Ipv6View::kDaddr], r6.data(), 16);
  d.replace16(443, 8443);
  std::memcpy(&pkt[Ipv6View::kDaddr], r6.data(), 16);
  put16(pkt, 40 + 2, 8443);
  csum_apply_at(&pkt[40 + TcpView::kCheck], d);
  EXPECT_EQ(pkt, want);
}

TEST(CsumDeltaTest, Ipv4UdpWithoutChecksumStaysWithout) {
  Bytes pkt = PacketBuilder()
                  .ipv4(ip("198.18.0.1"), ip("198.18.0.2"))
                  .udp(1, 2)
                  .no_udp_checksum()
                  .payload("abc")
                  .build_ip();
  ASSERT_EQ(get16(pkt, 20 + UdpView::kCheck), 0);
  CsumDelta d;
  d.replace16(2, 9999);
  d.replace32(0xc6120002, 0xc6120063);
  udp_csum_apply_at(&pkt[20 + UdpView::kCheck], d, true);
  EXPECT_EQ(get16(pkt, 20 + UdpView::kCheck), 0);
  // Over IPv6 zero is not "no checksum": it is patched like any value.
  uint8_t field[2] = {0, 0};
  udp_csum_apply_at(field, d, false);
  EXPECT_EQ(load_be16(field), d.apply(0));
  EXPECT_NE(load_be16(field), 0);
}

TEST(CsumDeltaTest, ComputedZeroIsSentAsFfffForUdpOnly) {
  const IpAddr a = ip("198.18.0.1"), b = ip("198.18.0.2");
  auto udp = [&](uint16_t sport) {
    return PacketBuilder().ipv4(a, b).udp(sport, 53).payload("q").build_ip();
  };
  // With source port 0 the checksum is c0; a source port of c0 makes the sum ffff, i.e. a
  // computed checksum of 0, which UDP sends as ffff.
  const uint16_t c0 = get16(udp(0), 20 + UdpView::kCheck);
  ASSERT_NE(c0, 0);
  ASSERT_NE(c0, 0xffff);
  const Bytes want = udp(c0);
  ASSERT_EQ(get16(want, 20 + UdpView::kCheck), 0xffff);

  CsumDelta d;
  d.replace16(0, c0);
  EXPECT_EQ(d.apply(c0), 0x0000);
  Bytes pkt = udp(0);
  put16(pkt, 20, c0);
  udp_csum_apply_at(&pkt[20 + UdpView::kCheck], d, true);
  EXPECT_EQ(pkt, want);
  Bytes pkt6 = udp(0);
  put16(pkt6, 20, c0);
  udp_csum_apply_at(&pkt6[20 + UdpView::kCheck], d, false);
  EXPECT_EQ(get16(pkt6, 20 + UdpView::kCheck), 0xffff);
  // TCP keeps a computed 0 as 0.
  uint8_t field[2];
  store_be16(field, c0);
  csum_apply_at(field, d);
  EXPECT_EQ(load_be16(field), 0x0000);
}

TEST(CsumDeltaTest, EmptyAndCombined) {
  CsumDelta d;
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(d.apply(0x1234), 0x1234);
  d.replace16(0x0001, 0x0002);
  EXPECT_FALSE(d.empty());
  // Replacing a word by itself changes nothing.
  CsumDelta same;
  same.replace16(0xabcd, 0xabcd);
  EXPECT_EQ(same.apply(0x1234), 0x1234);
  // replace32 is two replace16 of its halves.
  CsumDelta w, h;
  w.replace32(0x11223344, 0x55667788);
  h.replace16(0x1122, 0x5566);
  h.replace16(0x3344, 0x7788);
  for (uint16_t c : {0x0000, 0x1234, 0xfffe, 0xffff}) EXPECT_EQ(w.apply(c), h.apply(c)) << c;
  // Undoing a change restores the checksum.
  CsumDelta there, back;
  there.replace16(0x1000, 0x2000);
  back.replace16(0x2000, 0x1000);
  EXPECT_EQ(back.apply(there.apply(0x4321)), 0x4321);
}

}  // namespace
}  // namespace lvs::net
