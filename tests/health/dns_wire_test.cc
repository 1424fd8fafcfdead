#include "health/dns_wire.h"

#include <gtest/gtest.h>

#include <vector>

namespace lvs::health::dns {
namespace {

std::vector<uint8_t> query(uint16_t id, std::string_view name, uint16_t type) {
  std::vector<uint8_t> out;
  std::string error;
  EXPECT_TRUE(build_query(id, name, type, &out, &error)) << error;
  return out;
}

std::string query_error(std::string_view name) {
  std::vector<uint8_t> out;
  std::string error;
  EXPECT_FALSE(build_query(1, name, 1, &out, &error));
  return error;
}

TEST(DnsWire, QueryForANameIsByteExact) {
  const std::vector<uint8_t> want = {
      0x12, 0x34,                                      // ID
      0x01, 0x00,                                      // flags: RD only
      0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // QD 1, AN NS AR 0
      7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',   //
      3,    'c',  'o',  'm',  0,                       // QNAME
      0x00, 0x01,                                      // QTYPE A
      0x00, 0x01,                                      // QCLASS IN
  };
  EXPECT_EQ(query(0x1234, "example.com", 1), want);
  EXPECT_EQ(query(0x1234, "example.com.", 1), want);  // a trailing dot is the same name
}

TEST(DnsWire, RootAndEmptyNameAreTheRootLabel) {
  const std::vector<uint8_t> want = {0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                     0x00,                     // root
                                     0x00, 0x06, 0x00, 0x01};  // SOA IN
  EXPECT_EQ(query(0xbeef, ".", 6), want);
  EXPECT_EQ(query(0xbeef, "", 6), want);  // keepalived's default name
}

TEST(DnsWire, AaaaQueryCarriesTheType) {
  const auto q = query(0, "a.b", 28);
  const std::vector<uint8_t> tail = {1, 'a', 1, 'b', 0, 0x00, 0x1c, 0x00, 0x01};
  ASSERT_EQ(q.size(), kHeaderSize + tail.size());
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), q.begin() + kHeaderSize));
}

TEST(DnsWire, NamesThatCannotBeEncodedAreRefused) {
  EXPECT_EQ(query_error("a..b"), "dns_name 'a..b': empty label");
  EXPECT_EQ(query_error(".a"), "dns_name '.a': empty label");
  EXPECT_EQ(query_error("a.."), "dns_name 'a..': empty label");
  EXPECT_EQ(query_error(std::string(64, 'x') + ".com"),
            "dns_name '" + std::string(64, 'x') + ".com': label longer than 63 bytes");
  // 4 labels of 63 bytes: 4 * 64 + 1 = 257 bytes on the wire.
  const std::string l(63, 'y');
  const std::string long_name = l + "." + l + "." + l + "." + l;
  EXPECT_EQ(query_error(long_name),
            "dns_name '" + long_name + "': longer than 255 bytes on the wire");
  // 63 + 63 + 63 + 61 bytes of labels: 4 length bytes + root = 255 exactly.
  std::vector<uint8_t> out;
  std::string error;
  EXPECT_TRUE(build_query(1, l + "." + l + "." + l + "." + std::string(61, 'z'), 1, &out, &error))
      << error;
  EXPECT_EQ(out.size(), kHeaderSize + 255 + 4);
}

std::vector<uint8_t> reply(uint16_t id, uint16_t flags, uint16_t ancount = 1) {
  return {uint8_t(id >> 8),
          uint8_t(id),
          uint8_t(flags >> 8),
          uint8_t(flags),
          0,
          1,
          uint8_t(ancount >> 8),
          uint8_t(ancount),
          0,
          0,
          0,
          0};
}

TEST(DnsWire, ReplyJudgedAsKeepalivedDoes) {
  using K = ReplyVerdict::Kind;
  auto v = judge_reply(0x1234, reply(0x1234, 0x8180));
  EXPECT_EQ(v.kind, K::kPass);

  // NOERROR with no answers and TC set still passes: dns_recv_thread looks at RCODE only.
  v = judge_reply(0x1234, reply(0x1234, 0x8000 | kFlagTc, 0));
  EXPECT_EQ(v.kind, K::kPass);

  v = judge_reply(0x1234, reply(0x1234, 0x8183));
  EXPECT_EQ(v.kind, K::kFail);
  EXPECT_EQ(v.rcode, 3);
  EXPECT_EQ(v.why, "rcode 3 (NXDOMAIN)");
  EXPECT_EQ(judge_reply(0x1234, reply(0x1234, 0x8182)).why, "rcode 2 (SERVFAIL)");
  EXPECT_EQ(judge_reply(0x1234, reply(0x1234, 0x8189)).why, "rcode 9");

  v = judge_reply(0x1234, reply(0x4321, 0x8180));
  EXPECT_EQ(v.kind, K::kIgnore);
  EXPECT_EQ(v.why, "ID 0x4321, not 0x1234");

  v = judge_reply(0x1234, reply(0x1234, 0x0100));
  EXPECT_EQ(v.kind, K::kIgnore);
  EXPECT_EQ(v.why, "a query, not a response");

  const std::vector<uint8_t> short_msg = {0x12, 0x34, 0x81, 0x80, 0};
  v = judge_reply(0x1234, short_msg);
  EXPECT_EQ(v.kind, K::kIgnore);
  EXPECT_EQ(v.why, "shorter than a header (5 bytes)");
  EXPECT_EQ(judge_reply(0x1234, {}).kind, K::kIgnore);
}

}  // namespace
}  // namespace lvs::health::dns
