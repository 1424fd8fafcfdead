// CRC32c and the SCTP checksum: published vectors (RFC 3720 B.4, Scapy's SCTP tests), packets
// derived by tests/net/crc32c_reference.py, both implementations against a bit-at-a-time
// reference written here, and the incremental port rewrite against full recomputation.
#include "net/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "net/bytes.h"
#include "net/sctp.h"
#include "net/test_util.h"

namespace lvs::net {
namespace {

using testing::Bytes;
using testing::hex;

// CRC32c from the definition, one bit at a time.
uint32_t ref_crc32c(const uint8_t* p, size_t len) {
  uint32_t c = 0xffffffff;
  for (size_t i = 0; i < len; ++i) {
    c ^= p[i];
    for (int b = 0; b < 8; ++b) c = (c >> 1) ^ ((c & 1) ? 0x82F63B78u : 0u);
  }
  return ~c;
}
uint32_t ref_crc32c(const Bytes& b) { return ref_crc32c(b.data(), b.size()); }

// The SCTP checksum field as stored (least significant byte first).
uint32_t field(const Bytes& s) {
  return uint32_t(s[8]) | uint32_t(s[9]) << 8 | uint32_t(s[10]) << 16 | uint32_t(s[11]) << 24;
}
uint32_t ref_sctp(Bytes s) {
  for (size_t i = 8; i < 12; ++i) s.at(i) = 0;
  return ref_crc32c(s);
}

using Fn = uint32_t (*)(const uint8_t*, size_t, uint32_t);
struct Impl {
  const char* name;
  Fn fn;
};
std::vector<Impl> impls() {
  std::vector<Impl> v = {{"crc32c", crc32c}, {"table", crc32c_table}};
  if (crc32c_hw_available()) v.push_back({"hw", crc32c_hw});
  return v;
}

Bytes random_bytes(std::mt19937& rng, size_t n) {
  Bytes b(n);
  for (auto& x : b) x = uint8_t(rng());
  return b;
}

TEST(Crc32cTest, Rfc3720Vectors) {
  Bytes zeros(32, 0), ones(32, 0xff), inc(32), dec(32);
  for (int i = 0; i < 32; ++i) {
    inc[i] = uint8_t(i);
    dec[i] = uint8_t(31 - i);
  }
  // The iSCSI SCSI Read (10) command PDU of B.4.
  const Bytes pdu =
      hex("01 c0 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
          "14 00 00 00 00 00 04 00 00 00 00 14 00 00 00 18"
          "28 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00");
  const std::string check = "123456789";
  for (const Impl& f : impls()) {
    SCOPED_TRACE(f.name);
    EXPECT_EQ(f.fn(zeros.data(), 32, 0), 0x8A9136AAu);
    EXPECT_EQ(f.fn(ones.data(), 32, 0), 0x62A8AB43u);
    EXPECT_EQ(f.fn(inc.data(), 32, 0), 0x46DD794Eu);
    EXPECT_EQ(f.fn(dec.data(), 32, 0), 0x113FDB5Cu);
    EXPECT_EQ(f.fn(pdu.data(), pdu.size(), 0), 0xD9963A56u);
    EXPECT_EQ(f.fn(reinterpret_cast<const uint8_t*>(check.data()), 9, 0), 0xE3069283u);
    EXPECT_EQ(f.fn(nullptr, 0, 0), 0u);
  }
  // The reference itself.
  EXPECT_EQ(ref_crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(ref_crc32c(pdu), 0xD9963A56u);
}

TEST(Crc32cTest, BuildChoice) {
#if defined(__SSE4_2__)
  EXPECT_TRUE(crc32c_uses_hw());
#else
  EXPECT_FALSE(crc32c_uses_hw());
#endif
  if (crc32c_uses_hw()) {
    EXPECT_TRUE(crc32c_hw_available());
  }
}

TEST(Crc32cTest, EveryLengthAndAlignmentMatchesReference) {
  std::mt19937 rng(7);
  const Bytes buf = random_bytes(rng, 600);
  for (const Impl& f : impls()) {
    SCOPED_TRACE(f.name);
    for (size_t off = 0; off < 8; ++off) {
      for (size_t len = 0; len + off <= 300; ++len) {
        ASSERT_EQ(f.fn(buf.data() + off, len, 0), ref_crc32c(buf.data() + off, len))
            << "off " << off << " len " << len;
      }
    }
    EXPECT_EQ(f.fn(buf.data(), buf.size(), 0), ref_crc32c(buf));
  }
}

TEST(Crc32cTest, ContinuesAcrossSplits) {
  std::mt19937 rng(11);
  const Bytes buf = random_bytes(rng, 100);
  const uint32_t whole = ref_crc32c(buf);
  for (const Impl& f : impls()) {
    SCOPED_TRACE(f.name);
    for (size_t cut = 0; cut <= buf.size(); ++cut) {
      const uint32_t a = f.fn(buf.data(), cut, 0);
      EXPECT_EQ(f.fn(buf.data() + cut, buf.size() - cut, a), whole) << cut;
    }
  }
}

// Scapy (test/scapy/layers/sctp.uts): IP()/SCTP()/SCTPChunkInit(params=[SCTPChunkParamIPv4Addr()])
// and IP()/SCTP()/SCTPChunkSACK(gap_ack_list=["7:28"]), the SCTP part of each.
const Bytes kScapyInit =
    hex("00 00 00 00 00 00 00 00 40 2c 0b 5f"
        "01 00 00 1c 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
        "00 05 00 08 7f 00 00 01");
const Bytes kScapySack =
    hex("00 00 00 00 00 00 00 00 3b 01 d4 04"
        "03 00 00 14 00 00 00 00 00 00 00 00 00 01 00 00 00 07 00 1c");
// crc32c_reference.py: a client INIT 40000 -> 3868.
const Bytes kClientInit =
    hex("9c 40 0f 1c 00 00 00 00 8f 72 03 33 01 00 00 24 3a 1f 2c 4d 00 01 a0 00 00 0a ff ff"
        "5e 6f 70 81 00 0c 00 06 00 05 00 00 80 00 00 04 c0 00 00 04");

TEST(SctpCsumTest, PublishedAndDerivedPackets) {
  for (const Bytes* s : {&kScapyInit, &kScapySack, &kClientInit}) {
    EXPECT_TRUE(sctp_csum_ok(s->data(), s->size()));
    EXPECT_EQ(field(*s), ref_sctp(*s));
    // Computing it afresh gives the same bytes.
    Bytes c = *s;
    std::memset(&c[8], 0xaa, 4);
    EXPECT_FALSE(sctp_csum_ok(c.data(), c.size()));
    sctp_csum_set(c.data(), c.size());
    EXPECT_EQ(c, *s);
  }
  EXPECT_EQ(field(kClientInit), 0x3303728Fu);  // stored least significant byte first
}

TEST(SctpCsumTest, AnyFlippedBitIsCaught) {
  Bytes s = kClientInit;
  for (size_t i = 0; i < s.size() * 8; ++i) {
    s[i / 8] ^= uint8_t(1 << (i % 8));
    EXPECT_FALSE(sctp_csum_ok(s.data(), s.size())) << i;
    s[i / 8] ^= uint8_t(1 << (i % 8));
  }
  EXPECT_TRUE(sctp_csum_ok(s.data(), s.size()));
}

TEST(SctpCsumTest, ShortPackets) {
  const Bytes s(11, 0);
  EXPECT_FALSE(sctp_csum_ok(s.data(), s.size()));
  // A bare common header is checksummed like any packet.
  Bytes h = hex("9c 40 0f 1c 01 02 03 04 00 00 00 00");
  sctp_csum_set(h.data(), h.size());
  EXPECT_EQ(field(h), ref_sctp(h));
  EXPECT_TRUE(sctp_csum_ok(h.data(), h.size()));
}

TEST(SctpCsumTest, SetPortsMatchesDerivedPacket) {
  // crc32c_reference.py: Scapy's INIT with its ports set to 40000 -> 3868.
  Bytes s = kScapyInit;
  sctp_set_ports(s.data(), s.size(), 40000, 3868);
  EXPECT_EQ(Bytes(s.begin(), s.begin() + 12), hex("9c 40 0f 1c 00 00 00 00 eb 5b ac 3c"));
  EXPECT_TRUE(sctp_csum_ok(s.data(), s.size()));
  // And back.
  sctp_set_ports(s.data(), s.size(), 0, 0);
  EXPECT_EQ(s, kScapyInit);
}

// The incremental rewrite against a full recomputation, for every length an IP packet allows
// (sampled) and random port changes; a wrong checksum stays wrong by the same error.
TEST(SctpCsumTest, SetPortsMatchesFullRecompute) {
  std::mt19937 rng(3);
  std::vector<size_t> lens;
  for (size_t n = 12; n <= 600; ++n) lens.push_back(n);
  for (size_t n : {1000u, 1480u, 1500u, 2047u, 2048u, 2049u, 4096u, 9000u, 65515u, 65535u}) {
    lens.push_back(n);
  }
  for (int i = 0; i < 40; ++i) lens.push_back(12 + rng() % (65535 - 12 + 1));
  for (size_t n : lens) {
    Bytes s = random_bytes(rng, n);
    sctp_csum_set(s.data(), s.size());
    const uint16_t sp = uint16_t(rng()), dp = uint16_t(rng());
    Bytes good = s;
    sctp_set_ports(good.data(), good.size(), sp, dp);
    ASSERT_EQ(load_be16(&good[0]), sp);
    ASSERT_EQ(load_be16(&good[2]), dp);
    ASSERT_EQ(field(good), ref_sctp(good)) << "len " << n;
    ASSERT_TRUE(sctp_csum_ok(good.data(), good.size()));
    // One port only, as NAT does.
    Bytes one = s;
    sctp_set_ports(one.data(), one.size(), load_be16(&s[0]), dp);
    ASSERT_EQ(field(one), ref_sctp(one)) << "len " << n;
    // A corrupted packet keeps its error through the rewrite.
    Bytes bad = s;
    bad[n > 12 ? 12 + rng() % (n - 12) : 7] ^= 0x10;  // a chunk bit, else one of the vtag
    const uint32_t err = field(bad) ^ ref_sctp(bad);
    ASSERT_NE(err, 0u);
    sctp_set_ports(bad.data(), bad.size(), sp, dp);
    ASSERT_EQ(field(bad) ^ ref_sctp(bad), err) << "len " << n;
  }
}

TEST(SctpCsumTest, PatchHeadIsLinear) {
  std::mt19937 rng(5);
  for (size_t n = 8; n <= 200; ++n) {
    Bytes m = random_bytes(rng, n);
    const uint32_t before = ref_crc32c(m);
    uint32_t old_head, new_head;
    std::memcpy(&old_head, m.data(), 4);
    new_head = uint32_t(rng());
    std::memcpy(m.data(), &new_head, 4);
    EXPECT_EQ(crc32c_patch_head(before, old_head, new_head, n), ref_crc32c(m)) << n;
    EXPECT_EQ(crc32c_patch_head(before, old_head, old_head, n), before);
  }
}

}  // namespace
}  // namespace lvs::net
