#include "net/addr.h"

#include <gtest/gtest.h>

#include <string>

#include "net/packet_builder.h"

namespace lvs::net {
namespace {

using std::string_view_literals::operator""sv;

TEST(IpAddrTest, ParseV4) {
  const auto a = IpAddr::parse("198.18.0.1");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->is_v4());
  EXPECT_FALSE(a->is_v6());
  EXPECT_EQ(a->family, Family::kV4);
  EXPECT_EQ(a->size(), 4u);
  const std::array<uint8_t, 16> want{198, 18, 0, 1};
  EXPECT_EQ(a->bytes, want);  // the other 12 bytes stay zero
  EXPECT_EQ(a->to_string(), "198.18.0.1");
  EXPECT_EQ(*a, IpAddr::v4(0xc6120001));
  const uint8_t raw[4] = {198, 18, 0, 1};
  EXPECT_EQ(*a, IpAddr::v4(raw));
}

TEST(IpAddrTest, ParseV6) {
  const auto a = IpAddr::parse("2001:2::1");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->is_v6());
  EXPECT_EQ(a->size(), 16u);
  const std::array<uint8_t, 16> want{0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(a->bytes, want);
  EXPECT_EQ(IpAddr::v6(want.data()), *a);
}

TEST(IpAddrTest, RoundTrips) {
  // text -> parse -> to_string gives the canonical (RFC 5952) form.
  const std::pair<const char*, const char*> cases[] = {
      {"198.18.0.1", "198.18.0.1"},
      {"0.0.0.0", "0.0.0.0"},
      {"255.255.255.255", "255.255.255.255"},
      {"198.19.255.254", "198.19.255.254"},
      {"2001:2::1", "2001:2::1"},
      {"2001:0002:0000:0000:0000:0000:0000:0001", "2001:2::1"},
      {"2001:2:0:0:1:0:0:1", "2001:2::1:0:0:1"},
      {"2001:2:0:1:0:0:0:1", "2001:2:0:1::1"},
      {"2001:2:AB:cd::", "2001:2:ab:cd::"},
      {"::", "::"},
      {"::1", "::1"},
      {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
      {"::ffff:198.18.0.1", "::ffff:198.18.0.1"},
  };
  for (const auto& [in, out] : cases) {
    const auto a = IpAddr::parse(in);
    ASSERT_TRUE(a.has_value()) << in;
    EXPECT_EQ(a->to_string(), out) << in;
    EXPECT_EQ(IpAddr::parse(a->to_string()), a) << in;
  }
}

TEST(IpAddrTest, RejectsJunk) {
  const std::string_view junk[] = {
      "",
      "1",
      "1.2.3",
      "1.2.3.4.5",
      "256.0.0.1",
      "1.2.3.-4",
      " 1.2.3.4",
      "1.2.3.4 ",
      "1.2.3.4/24",
      "1.2.3.4:80",
      "01.2.3.4",
      "a.b.c.d",
      "localhost",
      ":",
      ":::",
      "2001:2::1::2",
      "1:2:3:4:5:6:7:8:9",
      "12345::1",
      "g::1",
      "2001:2::1%eth0",
      "[2001:2::1]",
      "2001:2:0:0:0:0:0:0:1:2:3:4:5:6:7:8:9",  // longer than any address text
      "1.2.3.4\0"sv,
      "1.2.3.4\0.5"sv,
      "::1\0junk"sv,
  };
  for (std::string_view j : junk) {
    EXPECT_FALSE(IpAddr::parse(j).has_value()) << std::string(j);
  }
}

TEST(IpAddrTest, FamilyMattersForEquality) {
  const IpAddr v4 = ip("198.18.0.1");
  IpAddr v6 = IpAddr::v6(v4.bytes.data());  // same 16 bytes, other family
  EXPECT_NE(v4, v6);
  EXPECT_FALSE(v4.in_prefix(v6, 0));
  EXPECT_EQ(IpAddr{}.to_string(), "-");
  EXPECT_EQ(IpAddr{}.family, Family::kNone);
  EXPECT_LT(ip("198.18.0.1"), ip("198.18.0.2"));
}

TEST(IpAddrTest, InPrefix) {
  struct Case {
    const char* addr;
    const char* net;
    unsigned len;
    bool want;
  };
  const Case cases[] = {
      // /0 matches the whole family.
      {"198.18.0.1", "0.0.0.0", 0, true},
      {"255.255.255.255", "198.18.0.0", 0, true},
      {"2001:2::1", "::", 0, true},
      // Host routes.
      {"198.18.0.1", "198.18.0.1", 32, true},
      {"198.18.0.1", "198.18.0.0", 32, false},
      {"198.18.0.0", "198.18.0.1", 32, false},
      {"2001:2::1", "2001:2::1", 128, true},
      {"2001:2::1", "2001:2::", 128, false},
      {"2001:2::", "2001:2::1", 127, true},
      {"2001:2::2", "2001:2::1", 127, false},
      // Lengths past the family's width act as the full width.
      {"198.18.0.1", "198.18.0.1", 33, true},
      {"198.18.0.1", "198.18.0.2", 200, false},
      {"2001:2::1", "2001:2::1", 255, true},
      // Not byte-aligned.
      {"198.19.255.255", "198.18.0.0", 15, true},
      {"198.18.0.0", "198.18.0.0", 15, true},
      {"198.20.0.0", "198.18.0.0", 15, false},
      {"198.17.255.255", "198.18.0.0", 15, false},
      {"198.18.0.127", "198.18.0.0", 25, true},
      {"198.18.0.128", "198.18.0.0", 25, false},
      {"198.18.0.1", "198.18.0.0", 31, true},
      {"198.18.0.2", "198.18.0.0", 31, false},
      {"128.0.0.0", "0.0.0.0", 1, false},
      {"127.255.255.255", "0.0.0.0", 1, true},
      {"2001:2:0:ffff::1", "2001:2::", 48, true},
      {"2001:3::", "2001:2::", 48, false},
      {"2001:2:7fff::", "2001:2::", 33, true},
      {"2001:2:8000::", "2001:2::", 33, false},
      {"2001:2:0:7fff::", "2001:2::", 49, true},
      {"2001:2:0:8000::", "2001:2::", 49, false},
      // Host bits set in the network address are ignored.
      {"198.18.0.5", "198.18.0.77", 24, true},
      {"198.18.1.5", "198.18.0.77", 24, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ip(c.addr).in_prefix(ip(c.net), c.len), c.want)
        << c.addr << " in " << c.net << "/" << c.len;
  }
}

TEST(MacAddrTest, ParseAndFormat) {
  const auto m = MacAddr::parse("02:00:5e:10:00:ff");
  ASSERT_TRUE(m.has_value());
  const std::array<uint8_t, 6> want{0x02, 0x00, 0x5e, 0x10, 0x00, 0xff};
  EXPECT_EQ(m->bytes, want);
  EXPECT_EQ(m->to_string(), "02:00:5e:10:00:ff");
  EXPECT_FALSE(m->is_zero());
  // Upper case is accepted and printed lower case.
  const auto u = MacAddr::parse("AA:BB:CC:dd:Ee:fF");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->to_string(), "aa:bb:cc:dd:ee:ff");
  const auto z = MacAddr::parse("00:00:00:00:00:00");
  ASSERT_TRUE(z.has_value());
  EXPECT_TRUE(z->is_zero());
  EXPECT_TRUE(MacAddr{}.is_zero());
  EXPECT_EQ(mac(7).to_string(), "02:00:00:00:00:07");
  EXPECT_EQ(MacAddr::parse(mac(200).to_string()), mac(200));
  EXPECT_NE(mac(1), mac(2));
}

TEST(MacAddrTest, RejectsJunk) {
  const std::string_view junk[] = {
      "",
      "02:00:00:00:00",
      "02:00:00:00:00:01:",
      "02:00:00:00:00:001",
      "02-00-00-00-00-01",
      "02:00:00:00:00:0g",
      "2:0:0:0:0:1",
      "02:00:00:00:00: 1",
      "0200.0000.0001",
      "02:00:00:00:00:01 ",
      "02:00:00:00:00\0:01"sv,
  };
  for (std::string_view j : junk) {
    EXPECT_FALSE(MacAddr::parse(j).has_value()) << std::string(j);
  }
}

TEST(AddrHelperDeathTest, IpAbortsOnMalformedText) { EXPECT_DEATH(ip("not an address"), ""); }

}  // namespace
}  // namespace lvs::net
