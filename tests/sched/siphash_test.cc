// The SipHash variants against the kernel's own test vectors (lib/siphash_kunit.c: key bytes
// 00..0f, message bytes 00, 01, ... of each length; the hsiphash vectors are the 64-bit-kernel
// ones, i.e. SipHash-1-3 truncated), and the IPVS hash helpers against hand-worked values.
#include "sched/siphash.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

#include "net/addr.h"
#include "sched/ipvs_hash.h"

namespace lvs::sched {
namespace {

constexpr SipKey kTestKey{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};

struct Vector {
  size_t len;
  uint64_t siphash;
  uint32_t hsiphash;
};

constexpr std::array<Vector, 8> kVectors = {{
    {0, 0x726fdb47dd0e0e31ull, 0x050fc4dcu},
    {1, 0x74f839c593dc67fdull, 0x7d57ca93u},
    {4, 0xcf2794e0277187b7ull, 0x88d38328u},
    {7, 0xab0200f58b01d137ull, 0x9bb11140u},
    {8, 0x93f5f5799a932462ull, 0x8d299a8eu},
    {15, 0xa129ca6149be45e5ull, 0x2a519956u},
    {16, 0x3f2acc7f57c29bdbull, 0x7d908b66u},
    {63, 0x958a324ceb064572ull, 0xb7bbb3a8u},
}};

TEST(SipHashTest, KernelVectors) {
  std::array<uint8_t, 64> msg;
  for (size_t i = 0; i < msg.size(); ++i) msg[i] = uint8_t(i);
  for (const Vector& v : kVectors) {
    EXPECT_EQ(siphash24(msg.data(), v.len, kTestKey), v.siphash) << "len " << v.len;
    EXPECT_EQ(hsiphash(msg.data(), v.len, kTestKey), v.hsiphash) << "len " << v.len;
  }
}

TEST(SipHashTest, U32IsTheLittleEndianBytes) {
  // hsiphash_1u32(0x03020100) equals the 4-byte vector (the kernel's own self-test).
  EXPECT_EQ(hsiphash_u32(0x03020100u, kTestKey), 0x88d38328u);
  for (uint32_t v : {0u, 1u, 0xdeadbeefu, 0xffffffffu, 0xc0a80101u}) {
    const uint8_t le[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
    EXPECT_EQ(hsiphash_u32(v, kTestKey), hsiphash(le, 4, kTestKey)) << v;
  }
}

TEST(SipHashTest, WordsHashDependsOnEveryInput) {
  const uint64_t base = siphash13_words(1, 2, 4, kTestKey);
  EXPECT_NE(base, siphash13_words(2, 1, 4, kTestKey));
  EXPECT_NE(base, siphash13_words(1, 2, 6, kTestKey));
  EXPECT_NE(base, siphash13_words(1, 2, 4, SipKey{1, 2}));
  EXPECT_EQ(base, siphash13_words(1, 2, 4, kTestKey));
}

TEST(IpvsHashTest, Hash32) {
  // 0xc0a80101 (192.168.1.1) * 0x61c88647 = 0x499690af_88e6cd47; the low word's top byte is 0x88.
  EXPECT_EQ(hash_32(0xc0a80101u, 8), 136u);
  EXPECT_EQ(hash_32(0xc0a80101u, 10), 0x88e6cd47u >> 22);
  EXPECT_EQ(hash_32(0, 8), 0u);
  // sh with port 12345: 0xc0a80101 + 12345 = 0xc0a8313a, * 0x61c88647 = ...0xe7ba0316.
  EXPECT_EQ(hash_32(0xc0a8313au, 8), 0xe7u);
}

TEST(IpvsHashTest, AddrFold) {
  EXPECT_EQ(addr_fold(*net::IpAddr::parse("192.168.1.1")), 0xc0a80101u);
  EXPECT_EQ(addr_fold(*net::IpAddr::parse("0.0.0.0")), 0u);
  // 2001:0db8:0000:0000:0000:0000:0000:0001 -> 0x20010db8 ^ 0 ^ 0 ^ 1.
  EXPECT_EQ(addr_fold(*net::IpAddr::parse("2001:db8::1")), 0x20010db9u);
  // An IPv6 address whose words cancel folds to 0, as in the kernel.
  EXPECT_EQ(addr_fold(*net::IpAddr::parse("1:2:3:4:1:2:3:4")), 0u);
}

TEST(IpvsHashTest, PortsOnlyForPortProtocols) {
  EXPECT_TRUE(has_ports(6));
  EXPECT_TRUE(has_ports(17));
  EXPECT_TRUE(has_ports(132));
  EXPECT_FALSE(has_ports(1));
  EXPECT_FALSE(has_ports(50));
  EXPECT_FALSE(has_ports(58));
}

}  // namespace
}  // namespace lvs::sched
