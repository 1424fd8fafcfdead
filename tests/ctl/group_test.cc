// virtual_server_group and `virtual_server group NAME`: keepalived's vsg_handler() and
// alloc_vsg_entry(); one service per address and fwmark of the group.
#include <netinet/in.h>

#include "test_util.h"

namespace lvs::ctl::test {
namespace {

using ::testing::ElementsAre;

TEST(Group, ExpandsIntoOneServicePerAddressAndMark) {
  const Config c = parse_clean(
      "virtual_server_group VSG_1 {\n"
      "  198.18.0.1 8080\n"
      "  198.18.0.2 80\n"
      "  198.18.200.3-5 80\n"
      "  fwmark 1\n"
      "  fwmark 2 inet\n"
      "}\n"
      "virtual_server group VSG_1 {\n"
      "  lb_algo rr\n"
      "  protocol TCP\n"
      "  persistence_timeout 50\n"
      "  sorry_server 198.18.9.9 1358\n"
      "  real_server 198.18.200.1 1358 {\n    weight 2\n  }\n"
      "  real_server 198.18.200.2 1358 {\n  }\n"
      "}\n");
  ASSERT_EQ(c.virtual_server_groups.size(), 1u);
  EXPECT_EQ(c.virtual_server_groups[0].entries.size(), 5u);
  EXPECT_EQ(c.virtual_server_groups[0].entries[2].count, 3u);
  std::vector<std::string> keys;
  for (const auto& vs : c.services) keys.push_back(vs.key.to_string());
  EXPECT_THAT(keys, ElementsAre("TCP 198.18.0.1:8080", "TCP 198.18.0.2:80", "TCP 198.18.200.3:80",
                                "TCP 198.18.200.4:80", "TCP 198.18.200.5:80", "FWM 1", "FWM 2"));
  for (const auto& vs : c.services) {
    EXPECT_EQ(vs.group, "VSG_1");
    EXPECT_EQ(vs.scheduler, "rr");
    EXPECT_EQ(vs.persistence_timeout, 50u);
    EXPECT_EQ(vs.loc.line, 8);  // the virtual_server line
    EXPECT_EQ(vs.loc.column, 1);
    ASSERT_EQ(vs.real_servers.size(), 2u) << vs.key.to_string();
    EXPECT_EQ(vs.real_servers[0].addr, ip("198.18.200.1"));
    EXPECT_EQ(vs.real_servers[0].port, 1358);  // NAT keeps its port
    EXPECT_EQ(vs.real_servers[0].weight, 2);
    ASSERT_TRUE(vs.sorry_server.has_value());
    EXPECT_EQ(vs.sorry_server->port, 1358);
  }
}

TEST(Group, IPv6RangesAndGranularity) {
  const Config c = parse_clean(
      "virtual_server_group V6 {\n  2001:2::a-b 443\n  fwmark 9 inet6\n}\n"
      "virtual_server group V6 {\n"
      "  protocol TCP\n"
      "  persistence_granularity 64\n"
      "  real_server 2001:2::100 443 {\n  }\n"
      "}\n");
  std::vector<std::string> keys;
  for (const auto& vs : c.services) keys.push_back(vs.key.to_string());
  EXPECT_THAT(keys, ElementsAre("TCP [2001:2::a]:443", "TCP [2001:2::b]:443", "FWM 9 IPv6"));
  for (const auto& vs : c.services) EXPECT_EQ(vs.persistence_prefix, 64);
}

TEST(Group, MayFollowItsServiceAndMixesWithPlainServices) {
  const Config c = parse_clean(
      "virtual_server group LATER {\n"
      "  protocol UDP\n"
      "  persistence_granularity 255.255.255.0\n"
      "  real_server 198.18.1.1 53 {\n  }\n"
      "}\n"
      "virtual_server 198.18.0.9 53 {\n"
      "  protocol UDP\n"
      "  real_server 198.18.1.1 53 {\n  }\n"
      "}\n"
      "virtual_server_group LATER {\n  198.18.0.1-2 53\n}\n");
  ASSERT_EQ(c.services.size(), 3u);
  EXPECT_EQ(c.services[0].key.to_string(), "UDP 198.18.0.9:53");
  EXPECT_EQ(c.services[1].key.to_string(), "UDP 198.18.0.1:53");
  EXPECT_EQ(c.services[2].key.to_string(), "UDP 198.18.0.2:53");
  EXPECT_EQ(c.services[2].persistence_prefix, 24);
  EXPECT_EQ(c.services[2].persistence_timeout, 360u);
}

TEST(Group, ProtocolWarningsAreSaidOnce) {
  const ParseResult r = parse(
      "virtual_server_group G {\n  198.18.0.1-3 80\n}\n"
      "virtual_server_group M {\n  fwmark 4\n}\n"
      "virtual_server group G {\n  real_server 198.18.1.1 80 {\n  }\n}\n"
      "virtual_server group M {\n  protocol TCP\n  real_server 198.18.1.1 {\n  }\n}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->services.size(), 4u);
  EXPECT_EQ(r.config->services[0].key.proto, IPPROTO_UDP);
  EXPECT_THAT(messages(r),
              ElementsAre("t.conf:7:1: warning: no protocol given; using UDP, as keepalived does",
                          "t.conf:12:3: warning: protocol is ignored for fwmark services"));
}

TEST(Group, NoRealServerIsIgnoredWithAWarning) {
  const ParseResult r =
      parse("virtual_server_group G {\n  198.18.0.1 80\n}\nvirtual_server group G {\n}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.config->services.empty());
  EXPECT_THAT(messages(r), ElementsAre("t.conf:4:1: warning: virtual_server group 'G' has no "
                                       "real_server; ignored, as keepalived does"));
}

constexpr const char* kUse =
    "virtual_server group G {\n  protocol TCP\n  real_server 198.18.1.1 80 {\n  }\n}\n";

TEST(GroupErrors, UnknownGroup) {
  expect_errors(std::string("virtual_server_group GROUP1 {\n  198.18.0.1 80\n}\n") +
                    "virtual_server group GROUP2 {\n  protocol TCP\n"
                    "  real_server 198.18.1.1 80 {\n  }\n}\n",
                {"t.conf:4:22: unknown virtual_server_group 'GROUP2'; did you mean 'GROUP1'?"});
}

TEST(GroupErrors, EmptyGroup) {
  expect_errors(std::string("virtual_server_group G {\n}\n") + kUse,
                {"t.conf:1:1: virtual_server_group 'G' has no entries"});
}

TEST(GroupErrors, BadRanges) {
  expect_errors(std::string("virtual_server_group G {\n"
                            "  198.18.0.1-300 80\n"
                            "  198.18.0.9-9 80\n"
                            "  198.18.0.1-198.18.0.5 80\n"
                            "  198.18.0.0/30 80\n"
                            "  198.18.0.x 80\n"
                            "  198.18.0.1 http\n"
                            "  198.18.0.1 80 TCP\n"
                            "  fwmark 0\n"
                            "  fwmark 1 ipx\n"
                            "  198.18.0.7 80 {\n  }\n"
                            "}\n") +
                    kUse,
                {"t.conf:2:3: invalid address range '198.18.0.1-300' (expected A.B.C.D-E, E up "
                 "to 255, as 198.18.1.20-25)",
                 "t.conf:3:3: address range '198.18.0.9-9' does not end above its start",
                 "t.conf:4:3: address range '198.18.0.1-198.18.0.5' is not supported by lvsd "
                 "yet (write A.B.C.D-E, or IPv6 with the last group's end, as 2001:2::10-1f)",
                 "t.conf:5:3: address range '198.18.0.0/30' is not supported by lvsd yet (write "
                 "A.B.C.D-E, or IPv6 with the last group's end, as 2001:2::10-1f)",
                 "t.conf:6:3: invalid IP address '198.18.0.x'",
                 "t.conf:7:14: invalid port 'http' (expected 1..65535)",
                 "t.conf:8:17: unexpected 'TCP': '198.18.0.1' takes an address or range and a "
                 "port",
                 "t.conf:9:10: invalid fwmark '0' (expected 1..4294967295)",
                 "t.conf:10:12: unknown fwmark family 'ipx' (expected inet or inet6)",
                 "t.conf:11:17: '198.18.0.7' does not take a block"});
}

TEST(GroupErrors, DuplicateEntries) {
  expect_errors(std::string("virtual_server_group G {\n"
                            "  198.18.0.1-5 80\n"
                            "  198.18.0.4 80\n"
                            "  198.18.0.4 81\n"
                            "  fwmark 7\n"
                            "  fwmark 7 inet\n"
                            "  fwmark 7\n"
                            "}\n") +
                    kUse,
                {"t.conf:3:3: 198.18.0.4:80 is listed twice in virtual_server_group 'G' (first "
                 "at t.conf:2:3)",
                 "t.conf:7:3: fwmark 7 is listed twice in virtual_server_group 'G' (first at "
                 "t.conf:5:3)"});
}

TEST(GroupErrors, DuplicateGroup) {
  expect_errors(std::string("virtual_server_group G {\n  198.18.0.1 80\n}\n"
                            "virtual_server_group G {\n  198.18.0.2 80\n}\n") +
                    kUse,
                {"t.conf:4:22: duplicate virtual_server_group 'G' (first at t.conf:1:1)"});
}

TEST(GroupErrors, ServiceKeyProducedTwice) {
  // A plain virtual_server after the group, and before it.
  expect_errors(std::string("virtual_server_group G {\n  198.18.0.1-3 80\n}\n") + kUse +
                    "virtual_server 198.18.0.2 80 {\n  protocol TCP\n"
                    "  real_server 198.18.1.1 80 {\n  }\n}\n",
                {"t.conf:9:1: duplicate virtual_server TCP 198.18.0.2:80 (first at t.conf:2:3)"});
  expect_errors(std::string("virtual_server 198.18.0.2 80 {\n  protocol TCP\n"
                            "  real_server 198.18.1.1 80 {\n  }\n}\n"
                            "virtual_server_group G {\n  198.18.0.1-3 80\n}\n") +
                    kUse,
                {"t.conf:7:3: duplicate virtual_server TCP 198.18.0.2:80 from "
                 "virtual_server_group 'G' (first at t.conf:1:1)"});
  // The same group used twice.
  const std::string marks = "virtual_server group G {\n  real_server 198.18.1.1 80 {\n  }\n}\n";
  expect_errors(std::string("virtual_server_group G {\n  fwmark 5\n}\n") + marks + marks,
                {"t.conf:2:3: duplicate virtual_server FWM 5 from virtual_server_group 'G' "
                 "(first at t.conf:2:3)"});
}

TEST(GroupErrors, PortZeroNeedsPersistence) {
  expect_errors(std::string("virtual_server_group G {\n  198.18.0.1\n}\n") + kUse,
                {"t.conf:2:3: port 0 (all ports) is only valid for persistent services; add "
                 "persistence_timeout to virtual_server group 'G' (t.conf:4:1)"});
}

TEST(GroupErrors, RealServerFamilyIsCheckedOnce) {
  expect_errors(
      "virtual_server_group G {\n  2001:2::1-3 80\n}\n"
      "virtual_server group G {\n  protocol TCP\n  real_server 198.18.1.1 80 {\n  }\n}\n",
      {"t.conf:6:3: real_server 198.18.1.1 is IPv4 but the virtual_server is IPv6"});
}

}  // namespace
}  // namespace lvs::ctl::test
