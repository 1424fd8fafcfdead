#include "core/conn_table.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "net/addr.h"
#include "net/packet_builder.h"

namespace lvs::core {
namespace {

uint32_t add(ConnTable& t, const net::IpAddr& c, uint16_t cp, const net::IpAddr& v, uint16_t vp,
             const net::IpAddr& d, uint16_t dp) {
  const uint32_t i = t.alloc();
  if (i == kNil) return kNil;
  Conn& e = t.at(i);
  e.proto = 6;
  e.af = c.is_v4() ? 4 : 6;
  std::memcpy(e.caddr, c.data(), c.size());
  std::memcpy(e.vaddr, v.data(), v.size());
  std::memcpy(e.daddr, d.data(), d.size());
  e.cport = cp;
  e.vport = vp;
  e.dport = dp;
  t.link(i);
  return i;
}

uint32_t find_in(const ConnTable& t, const net::IpAddr& c, uint16_t cp, const net::IpAddr& v,
                 uint16_t vp) {
  ConnKey k{c.data(), v.data(), cp, vp, 6, uint8_t(c.is_v4() ? 4 : 6)};
  return t.find_in(t.hash(k), k);
}
uint32_t find_out(const ConnTable& t, const net::IpAddr& d, uint16_t dp, const net::IpAddr& c,
                  uint16_t cp) {
  ConnKey k{d.data(), c.data(), dp, cp, 6, uint8_t(d.is_v4() ? 4 : 6)};
  return t.find_out(t.hash(k), k);
}

TEST(ConnTable, BothDirectionsFindTheSameEntry) {
  ConnTable t(64, 1);
  const auto c = net::ip("198.18.0.1"), v = net::ip("198.18.2.100"), d = net::ip("198.18.1.11");
  const uint32_t i = add(t, c, 1000, v, 80, d, 8080);
  EXPECT_EQ(find_in(t, c, 1000, v, 80), i);
  EXPECT_EQ(find_out(t, d, 8080, c, 1000), i);
  EXPECT_EQ(find_in(t, c, 1001, v, 80), kNil);
  EXPECT_EQ(find_out(t, d, 8081, c, 1000), kNil);
  EXPECT_EQ(find_in(t, d, 8080, c, 1000), kNil);  // directions are separate indexes
  t.unlink(i);
  t.free(i);
  EXPECT_EQ(find_in(t, c, 1000, v, 80), kNil);
  EXPECT_EQ(find_out(t, d, 8080, c, 1000), kNil);
  EXPECT_EQ(t.size(), 0u);
}

TEST(ConnTable, Ipv6KeysCompareAllBytes) {
  ConnTable t(64, 1);
  const auto c = net::ip("2001:2::1"), v = net::ip("2001:2::100"), d = net::ip("2001:2:1::11");
  const uint32_t i = add(t, c, 1, v, 2, d, 3);
  EXPECT_EQ(find_in(t, c, 1, v, 2), i);
  EXPECT_EQ(find_in(t, net::ip("2001:2::1:0:0:1"), 1, v, 2), kNil);
  EXPECT_EQ(find_out(t, d, 3, c, 1), i);
}

TEST(ConnTable, BoundedAndReusesFreedEntries) {
  ConnTable t(16, 7);
  std::vector<uint32_t> ids;
  for (int n = 0; n < 16; ++n) {
    ids.push_back(add(t, net::IpAddr::v4(0xc6120000 + n), 1, net::ip("198.18.2.1"), 80,
                      net::ip("198.18.1.1"), 80));
    ASSERT_NE(ids.back(), kNil);
  }
  EXPECT_EQ(t.alloc(), kNil);
  t.unlink(ids[3]);
  t.free(ids[3]);
  EXPECT_EQ(t.alloc(), ids[3]);
  int live = 0;
  t.for_each([&](uint32_t) { ++live; });
  EXPECT_EQ(live, 16);
}

// Many entries, random removals: every remaining entry stays findable both ways.
TEST(ConnTable, ChainsStayConsistentUnderChurn) {
  ConnTable t(4096, 99);
  std::mt19937 rng(3);
  const auto v = net::ip("198.18.2.100"), d = net::ip("198.18.1.11");
  std::vector<std::pair<uint32_t, uint16_t>> live;
  for (int n = 0; n < 4000; ++n) {
    const uint16_t port = uint16_t(n + 1);
    live.emplace_back(add(t, net::ip("198.18.0.1"), port, v, 80, d, port), port);
  }
  std::shuffle(live.begin(), live.end(), rng);
  for (int n = 0; n < 2000; ++n) {
    t.unlink(live.back().first);
    t.free(live.back().first);
    live.pop_back();
  }
  for (const auto& [i, port] : live) {
    ASSERT_EQ(find_in(t, net::ip("198.18.0.1"), port, v, 80), i);
    ASSERT_EQ(find_out(t, d, port, net::ip("198.18.0.1"), port), i);
  }
  EXPECT_EQ(t.size(), 2000u);
}

TEST(ConnTable, HashDependsOnSeed) {
  ConnTable a(64, 1), b(64, 2);
  const auto c = net::ip("198.18.0.1"), v = net::ip("198.18.2.100");
  ConnKey k{c.data(), v.data(), 1000, 80, 6, 4};
  EXPECT_NE(a.hash(k), b.hash(k));
  EXPECT_EQ(a.hash(k), a.hash(k));
}

}  // namespace
}  // namespace lvs::core
