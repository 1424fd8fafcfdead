// Forwarding methods and their settings: lb_kind / lvs_method NAT | DR | TUN [options] | FNAT,
// ops, local_address_group with laddr_group_name, proxy_protocol; their diff and apply.
// Expected columns were counted from the test texts by a separate script (a token search), not
// taken from the parser's output.
#include <netinet/in.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "core/engine.h"
#include "ctl/config.h"
#include "test_util.h"

namespace lvs::ctl {
namespace {

using test::expect_errors;
using test::ip;
using test::messages;
using test::parse;
using test::parse_clean;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const VirtualServerConf& only_service(const Config& c) {
  static const VirtualServerConf kNone;
  EXPECT_EQ(c.services.size(), 1u);
  return c.services.empty() ? kNone : c.services[0];
}

std::vector<net::IpAddr> ips(std::initializer_list<const char*> list) {
  std::vector<net::IpAddr> out;
  for (const char* s : list) out.push_back(ip(s));
  return out;
}

// A TCP service at 198.18.0.1:80 with the given body.
std::string vs80(const std::string& body) {
  return "virtual_server 198.18.0.1 80 {\n  protocol TCP\n" + body + "}\n";
}
const std::string kRs1 = "  real_server 198.18.1.1 80 {\n  }\n";
const std::string kLg = "local_address_group lg {\n  198.18.2.1\n  198.18.2.2\n}\n";

// ---------------------------------------------------------------------------------------------
// TUN

struct TunCase {
  std::string line;
  core::TunType type;
  uint16_t port;
  uint16_t flags;
};

class TunOptions : public ::testing::TestWithParam<TunCase> {};

// The options keepalived 2.x takes, in any order; the service's and its server's settings.
TEST_P(TunOptions, AreRead) {
  const TunCase& tc = GetParam();
  const Config c = parse_clean(vs80("  " + tc.line + "\n" + kRs1));
  const VirtualServerConf& vs = only_service(c);
  EXPECT_EQ(vs.fwd, core::Fwd::kTun);
  EXPECT_EQ(vs.tun_type, tc.type);
  EXPECT_EQ(vs.tun_port, tc.port);
  EXPECT_EQ(vs.tun_flags, tc.flags);
  ASSERT_EQ(vs.real_servers.size(), 1u);
  const RealServerConf& rs = vs.real_servers[0];
  EXPECT_EQ(rs.fwd, core::Fwd::kTun);
  EXPECT_EQ(rs.tun_type, tc.type);
  EXPECT_EQ(rs.tun_port, tc.port);
  EXPECT_EQ(rs.tun_flags, tc.flags);
  EXPECT_EQ(rs.port, 80);
}

INSTANTIATE_TEST_SUITE_P(
    Forwarding, TunOptions,
    ::testing::Values(TunCase{"lb_kind TUN", core::TunType::kIpip, 0, 0},
                      TunCase{"lb_kind tun", core::TunType::kIpip, 0, 0},
                      TunCase{"lvs_method TUN type ipip", core::TunType::kIpip, 0, 0},
                      TunCase{"lb_kind TUN type ipip nocsum", core::TunType::kIpip, 0, 0},
                      TunCase{"lb_kind TUN type gue port 6080", core::TunType::kGue, 6080, 0},
                      TunCase{"lb_kind TUN port 6080 type gue", core::TunType::kGue, 6080, 0},
                      TunCase{"lb_kind TUN type gue port 1 nocsum", core::TunType::kGue, 1, 0},
                      TunCase{"lb_kind TUN type gue port 65535 csum", core::TunType::kGue, 65535,
                              core::kTunFlagCsum},
                      TunCase{"lb_kind TUN remcsum type gue port 6080", core::TunType::kGue, 6080,
                              core::kTunFlagRemCsum},
                      TunCase{"lb_kind TUN type gre", core::TunType::kGre, 0, 0},
                      TunCase{"lb_kind TUN type gre csum", core::TunType::kGre, 0,
                              core::kTunFlagCsum},
                      TunCase{"lvs_method TUN nocsum type gre", core::TunType::kGre, 0, 0}));

// A server without lvs_method takes the service's method with its options; one with its own
// lvs_method takes only that (keepalived's validate_check_config()).
TEST(Forwarding, RealServersInheritTheServiceMethodAndTunnel) {
  const Config c = parse_clean(
      vs80("  lb_kind TUN type gue port 6080 csum\n"
           "  real_server 198.18.1.1 80 {\n  }\n"
           "  real_server 198.18.1.2 8080 {\n    lvs_method NAT\n  }\n"
           "  real_server 198.18.1.3 80 {\n    lvs_method TUN\n  }\n"
           "  real_server 198.18.1.4 80 {\n    lvs_method TUN type gue port 7 remcsum\n  }\n"
           "  real_server 198.18.1.5 80 {\n    lvs_method DR\n  }\n"
           "  real_server 198.18.1.6 80 {\n    lvs_method TUN type gre csum\n  }\n"));
  const VirtualServerConf& vs = only_service(c);
  using Row = std::tuple<std::string, uint16_t, core::Fwd, core::TunType, uint16_t, uint16_t>;
  std::vector<Row> rows;
  for (const auto& rs : vs.real_servers) {
    rows.emplace_back(rs.addr.to_string(), rs.port, rs.fwd, rs.tun_type, rs.tun_port, rs.tun_flags);
  }
  EXPECT_THAT(
      rows,
      ElementsAre(
          Row{"198.18.1.1", 80, core::Fwd::kTun, core::TunType::kGue, 6080, core::kTunFlagCsum},
          Row{"198.18.1.2", 8080, core::Fwd::kNat, core::TunType::kIpip, 0, 0},
          Row{"198.18.1.3", 80, core::Fwd::kTun, core::TunType::kIpip, 0, 0},
          Row{"198.18.1.4", 80, core::Fwd::kTun, core::TunType::kGue, 7, core::kTunFlagRemCsum},
          Row{"198.18.1.5", 80, core::Fwd::kDr, core::TunType::kIpip, 0, 0},
          Row{"198.18.1.6", 80, core::Fwd::kTun, core::TunType::kGre, 0, core::kTunFlagCsum}));
}

TEST(Forwarding, TunnelledServersUseTheServicePort) {
  const ParseResult r = parse(vs80(
      "  lb_kind TUN\n  real_server 198.18.1.1 8080 {\n  }\n  real_server 198.18.1.2 {\n  }\n"));
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(messages(r), ElementsAre("t.conf:4:26: warning: real_server port 8080 differs from "
                                       "the virtual_server port 80: TUN uses the service port"));
  EXPECT_EQ(r.config->services[0].real_servers[0].port, 80);
  EXPECT_EQ(r.config->services[0].real_servers[1].port, 80);
  const ParseResult fw =
      parse("virtual_server fwmark 3 {\n  lb_kind TUN\n  real_server 198.18.1.1 8080 {\n  }\n}\n");
  ASSERT_TRUE(fw.ok());
  EXPECT_THAT(messages(fw), ElementsAre("t.conf:3:26: warning: port 8080 is ignored: TUN real "
                                        "servers of fwmark services keep the client's port"));
  EXPECT_EQ(fw.config->services[0].real_servers[0].port, 0);
}

// A tunnel may carry either family in the other (keepalived skips the family check for TUN);
// a fwmark service takes its family from its servers that are not tunnelled.
TEST(Forwarding, TunnelsCrossFamilies) {
  const Config c =
      parse_clean(vs80("  lb_kind TUN\n  real_server 2001:2::1 80 {\n  }\n" + kRs1) +
                  "virtual_server fwmark 7 {\n  real_server 2001:2::1 {\n    lvs_method TUN\n  }\n"
                  "  real_server 198.18.1.1 {\n    lvs_method DR\n  }\n}\n"
                  "virtual_server fwmark 8 {\n  lb_kind TUN\n  real_server 2001:2::1 {\n  }\n}\n"
                  "virtual_server fwmark 9 {\n  lb_kind TUN\n  real_server 2001:2::1 {\n  }\n"
                  "  real_server 198.18.1.1 {\n  }\n}\n");
  ASSERT_EQ(c.services.size(), 4u);
  EXPECT_EQ(c.services[0].real_servers[0].addr, ip("2001:2::1"));
  EXPECT_EQ(c.services[1].key, core::ServiceKey::fwmark_key(net::Family::kV4, 7));
  EXPECT_EQ(c.services[2].key, core::ServiceKey::fwmark_key(net::Family::kV6, 8));
  // Tunnelled servers of both families and nothing else: IPv4, as keepalived.
  EXPECT_EQ(c.services[3].key, core::ServiceKey::fwmark_key(net::Family::kV4, 9));
  // Other methods keep the rule.
  expect_errors(vs80("  lb_kind DR\n  real_server 2001:2::1 80 {\n  }\n"),
                {"t.conf:4:3: real_server 2001:2::1 is IPv6 but the virtual_server is IPv4"});
}

TEST(Forwarding, TunErrors) {
  expect_errors(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  lb_kind TUN type gue\n"
      "  lb_kind TUN port 6080\n"
      "  lb_kind TUN type gre port 6080\n"
      "  lb_kind TUN type gre remcsum\n"
      "  lb_kind TUN remcsum\n"
      "  lb_kind TUN csum\n"
      "  lb_kind TUN type\n"
      "  lb_kind TUN type gue port\n"
      "  lb_kind TUN type gue port 0\n"
      "  lb_kind TUN type gue port 65536\n"
      "  lb_kind TUN type ipip type gre\n"
      "  lb_kind TUN type gue port 1 port 2\n"
      "  lb_kind TUN type gue port 1 csum nocsum\n"
      "  lb_kind TUN mtu 1400\n"
      "  lb_kind TUN Type gue\n"
      "  lb_kind FNAT fast\n"
      "  lvs_method tun type ipip csum\n"
      "  real_server 198.18.1.1 80 {\n"
      "    lvs_method TUN type gue\n"
      "  }\n"
      "}",
      {"t.conf:3:20: 'lb_kind TUN type gue' needs 'port N' (the real servers' GUE port)",
       "t.conf:4:15: 'port' only goes with 'lb_kind TUN type gue' (this tunnel is ipip)",
       "t.conf:5:24: 'port' only goes with 'lb_kind TUN type gue' (this tunnel is gre)",
       "t.conf:6:24: 'remcsum' only goes with 'lb_kind TUN type gue' (this tunnel is gre)",
       "t.conf:7:15: 'remcsum' only goes with 'lb_kind TUN type gue' (this tunnel is ipip)",
       "t.conf:8:15: 'csum' only goes with 'lb_kind TUN type gue' or 'type gre' (this tunnel is "
       "ipip)",
       "t.conf:9:15: 'type' needs a tunnel type (ipip, gue or gre)",
       "t.conf:10:24: 'port' needs the real servers' GUE port (1..65535)",
       "t.conf:11:29: invalid GUE port '0' (expected 1..65535)",
       "t.conf:12:29: invalid GUE port '65536' (expected 1..65535)",
       "t.conf:13:25: 'type' is given twice in 'lb_kind TUN'",
       "t.conf:14:31: 'port' is given twice in 'lb_kind TUN'",
       "t.conf:15:36: 'nocsum' after 'csum': 'lb_kind TUN' takes one of nocsum, csum and remcsum",
       "t.conf:16:15: unknown 'lb_kind TUN' option 'mtu' (expected type, port, nocsum, csum or "
       "remcsum)",
       "t.conf:17:15: unknown 'lb_kind TUN' option 'Type' (expected type, port, nocsum, csum or "
       "remcsum)",
       "t.conf:18:16: unexpected 'fast': 'lb_kind FNAT' takes no options",
       "t.conf:19:28: 'csum' only goes with 'lvs_method TUN type gue' or 'type gre' (this tunnel "
       "is ipip)",
       "t.conf:21:25: 'lvs_method TUN type gue' needs 'port N' (the real servers' GUE port)"});
}

// ---------------------------------------------------------------------------------------------
// ops

TEST(Forwarding, OpsIsForUdpAndFwmarkServices) {
  const Config c = parse_clean(
      "virtual_server 198.18.0.1 53 {\n  protocol UDP\n  ops\n  real_server 198.18.1.1 {\n  }\n}\n"
      "virtual_server fwmark 5 {\n  ops\n  real_server 198.18.1.1 {\n  }\n}\n"
      "virtual_server 198.18.0.2 53 {\n  protocol UDP\n  real_server 198.18.1.1 {\n  }\n}\n");
  ASSERT_EQ(c.services.size(), 3u);
  EXPECT_TRUE(c.services[0].one_packet);
  EXPECT_TRUE(c.services[1].one_packet);
  EXPECT_FALSE(c.services[2].one_packet);
  // No protocol: UDP, as keepalived defaults it, so ops stands.
  const ParseResult r =
      parse("virtual_server 198.18.0.1 53 {\n  ops\n  real_server 198.18.1.1 {\n  }\n}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.config->services[0].one_packet);
  EXPECT_THAT(messages(r),
              ElementsAre("t.conf:1:1: warning: no protocol given; using UDP, as keepalived does"));
}

// keepalived: "one packet scheduling requires UDP - resetting"; lvsd refuses the file, wherever
// protocol stands.
TEST(Forwarding, OpsErrors) {
  expect_errors(
      "virtual_server 198.18.0.1 80 {\n"
      "  ops\n"
      "  protocol TCP\n"
      "  real_server 198.18.1.1 80 {\n"
      "  }\n"
      "}\n"
      "virtual_server 198.18.0.1 53 {\n"
      "  protocol UDP\n"
      "  ops on\n"
      "  real_server 198.18.1.1 53 {\n"
      "  }\n"
      "}",
      {"t.conf:2:3: ops (one-packet scheduling) is for UDP services only; this one is TCP",
       "t.conf:9:7: unexpected 'on': 'ops' takes no value"});
}

// ---------------------------------------------------------------------------------------------
// FULLNAT

TEST(Fullnat, GroupAddressesRangesAndInterfaces) {
  const Config c = parse_clean(
      "local_address_group laddr_g1 {\n"
      "  198.18.1.10 dpdk0\n"
      "  198.18.1.11\n"
      "  198.18.1.20-25 dpdk0.102\n"
      "  2001:2::fe-101\n"
      "}\n");
  ASSERT_EQ(c.local_address_groups.size(), 1u);
  const LocalAddressGroupConf& g = c.local_address_groups[0];
  EXPECT_EQ(g.name, "laddr_g1");
  EXPECT_EQ(g.loc.line, 1);
  std::vector<std::tuple<std::string, std::string, int>> rows;
  for (const auto& a : g.addrs) rows.emplace_back(a.addr.to_string(), a.interface, a.loc.line);
  using R = std::tuple<std::string, std::string, int>;
  EXPECT_THAT(rows, ElementsAre(R{"198.18.1.10", "dpdk0", 2}, R{"198.18.1.11", "", 3},
                                R{"198.18.1.20", "dpdk0.102", 4}, R{"198.18.1.21", "dpdk0.102", 4},
                                R{"198.18.1.22", "dpdk0.102", 4}, R{"198.18.1.23", "dpdk0.102", 4},
                                R{"198.18.1.24", "dpdk0.102", 4}, R{"198.18.1.25", "dpdk0.102", 4},
                                R{"2001:2::fe", "", 5}, R{"2001:2::ff", "", 5},
                                R{"2001:2::100", "", 5}, R{"2001:2::101", "", 5}));
  // A group on its own sets up no service.
  EXPECT_TRUE(c.services.empty());
}

TEST(Fullnat, ServiceTakesItsGroupsAddresses) {
  const Config c =
      parse_clean("local_address_group lg {\n  198.18.2.1\n  198.18.2.5-6\n}\n" +
                  vs80("  lb_algo rr\n  lb_kind FNAT\n  laddr_group_name lg\n  proxy_protocol v2\n"
                       "  real_server 198.18.1.1 8080 {\n  }\n  real_server 198.18.1.2 {\n  }\n"));
  const VirtualServerConf& vs = only_service(c);
  EXPECT_EQ(vs.fwd, core::Fwd::kFullNat);
  EXPECT_EQ(vs.laddr_group, "lg");
  EXPECT_EQ(vs.local_addrs, ips({"198.18.2.1", "198.18.2.5", "198.18.2.6"}));
  EXPECT_TRUE(vs.proxy_protocol);
  EXPECT_FALSE(vs.one_packet);
  ASSERT_EQ(vs.real_servers.size(), 2u);
  // FULLNAT servers have ports of their own, the service's when omitted, as NAT.
  EXPECT_EQ(vs.real_servers[0].fwd, core::Fwd::kFullNat);
  EXPECT_EQ(vs.real_servers[0].port, 8080);
  EXPECT_EQ(vs.real_servers[1].port, 80);
}

TEST(Fullnat, MethodSpellingsAndPlaces) {
  for (const char* m : {"FNAT", "fnat", "FULLNAT", "FullNat"}) {
    const Config c =
        parse_clean(kLg + vs80(std::string("  lb_kind ") + m + "\n  laddr_group_name lg\n" + kRs1));
    EXPECT_EQ(only_service(c).real_servers.at(0).fwd, core::Fwd::kFullNat) << m;
  }
  // One FULLNAT server in a NAT service makes it need (and take) local addresses.
  const Config c =
      parse_clean(kLg + vs80("  laddr_group_name lg\n  real_server 198.18.1.1 80 {\n  }\n"
                             "  real_server 198.18.1.2 80 {\n    lvs_method FNAT\n  }\n"));
  const VirtualServerConf& vs = only_service(c);
  EXPECT_EQ(vs.fwd, core::Fwd::kNat);
  EXPECT_EQ(vs.real_servers[0].fwd, core::Fwd::kNat);
  EXPECT_EQ(vs.real_servers[1].fwd, core::Fwd::kFullNat);
  EXPECT_EQ(vs.local_addrs, ips({"198.18.2.1", "198.18.2.2"}));
  // lb_kind FNAT whose servers all use another method: the group is still the service's.
  const Config d =
      parse_clean(kLg + vs80("  lb_kind FNAT\n  laddr_group_name lg\n"
                             "  real_server 198.18.1.1 80 {\n    lvs_method DR\n  }\n"));
  EXPECT_EQ(only_service(d).local_addrs, ips({"198.18.2.1", "198.18.2.2"}));
  EXPECT_EQ(only_service(d).real_servers[0].fwd, core::Fwd::kDr);
}

// keepalived reads the whole file before it resolves a name: a group may come after its users.
TEST(Fullnat, GroupMayFollowItsUsers) {
  const Config c = parse_clean(vs80("  lb_kind FNAT\n  laddr_group_name later\n" + kRs1) +
                               "local_address_group later {\n  198.18.2.9\n}\n");
  EXPECT_EQ(only_service(c).local_addrs, ips({"198.18.2.9"}));
}

// NAT64: an IPv6 service may have IPv4 FULLNAT servers, whose local addresses are IPv4.
TEST(Fullnat, Nat64) {
  const Config c = parse_clean(
      "local_address_group v4 {\n  198.18.2.1\n}\n"
      "local_address_group v6 {\n  2001:2::f1\n}\n"
      "virtual_server 2001:2::10 80 {\n  protocol TCP\n  lb_kind FNAT\n  laddr_group_name v4\n"
      "  real_server 198.18.1.1 8080 {\n  }\n  real_server 198.18.1.2 8080 {\n  }\n}\n"
      "virtual_server 2001:2::10 443 {\n  protocol TCP\n  lb_kind FNAT\n  laddr_group_name v6\n"
      "  real_server 2001:2::1 {\n  }\n}\n");
  ASSERT_EQ(c.services.size(), 2u);
  EXPECT_EQ(c.services[0].local_addrs, ips({"198.18.2.1"}));
  EXPECT_EQ(c.services[0].real_servers[0].addr, ip("198.18.1.1"));
  EXPECT_EQ(c.services[1].local_addrs, ips({"2001:2::f1"}));
  EXPECT_EQ(c.services[1].real_servers[0].port, 443);
}

TEST(Fullnat, ProxyProtocolDisableIsTheDefaultAnywhere) {
  const Config c = parse_clean(
      kLg +
      vs80("  lb_kind FNAT\n  laddr_group_name lg\n  proxy_protocol v2\n"
           "  proxy_protocol Disable\n" +
           kRs1) +
      "virtual_server 198.18.0.2 80 {\n  protocol TCP\n  proxy_protocol disable\n" + kRs1 + "}\n");
  ASSERT_EQ(c.services.size(), 2u);
  EXPECT_FALSE(c.services[0].proxy_protocol);
  EXPECT_FALSE(c.services[1].proxy_protocol);
  EXPECT_TRUE(c.services[1].local_addrs.empty());
}

TEST(Fullnat, NeedsALocalAddressGroup) {
  expect_errors(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  lb_kind FNAT\n"
      "  real_server 198.18.1.1 80 {\n"
      "  }\n"
      "}\n"
      "virtual_server 198.18.0.2 80 {\n"
      "  protocol TCP\n"
      "  real_server 198.18.1.1 80 {\n"
      "  }\n"
      "  real_server 198.18.1.2 80 {\n"
      "    lvs_method FULLNAT\n"
      "  }\n"
      "}",
      {"t.conf:3:11: 'lb_kind FNAT' needs laddr_group_name: the local_address_group FULLNAT "
       "connects to the real servers from",
       "t.conf:12:16: 'lvs_method FULLNAT' needs laddr_group_name: the local_address_group "
       "FULLNAT connects to the real servers from"});
}

TEST(Fullnat, UnknownGroup) {
  expect_errors(
      "local_address_group lg1 {\n"
      "  198.18.2.1\n"
      "}\n"
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  lb_kind FNAT\n"
      "  laddr_group_name lg2\n"
      "  real_server 198.18.1.1 80 {\n"
      "  }\n"
      "}\n"
      "virtual_server 198.18.0.2 80 {\n"
      "  protocol TCP\n"
      "  lb_kind FNAT\n"
      "  laddr_group_name pool\n"
      "  real_server 198.18.1.1 80 {\n"
      "  }\n"
      "}",
      {"t.conf:7:20: unknown local_address_group 'lg2'; did you mean 'lg1'?",
       "t.conf:14:20: unknown local_address_group 'pool'"});
  // Also where the service is dropped for having no real server.
  expect_errors(vs80("  lb_kind FNAT\n  laddr_group_name nowhere\n"),
                {"t.conf:1:1: warning: virtual_server TCP 198.18.0.1:80 has no real_server; "
                 "ignored, as keepalived does",
                 "t.conf:4:20: unknown local_address_group 'nowhere'"});
}

TEST(Fullnat, GroupAndProxyProtocolAreForFullnatOnly) {
  expect_errors(
      "local_address_group lg {\n"
      "  198.18.2.1\n"
      "}\n"
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  laddr_group_name lg\n"
      "  proxy_protocol v2\n"
      "  real_server 198.18.1.1 80 {\n"
      "  }\n"
      "}\n"
      "virtual_server 198.18.0.2 80 {\n"
      "  protocol TCP\n"
      "  lb_kind DR\n"
      "  proxy_protocol V2\n"
      "  real_server 198.18.1.1 80 {\n"
      "  }\n"
      "}",
      {"t.conf:6:3: laddr_group_name only applies to FULLNAT services (lb_kind FNAT)",
       "t.conf:7:3: proxy_protocol v2 only applies to FULLNAT services (lb_kind FNAT)",
       "t.conf:14:3: proxy_protocol v2 only applies to FULLNAT services (lb_kind FNAT)"});
}

TEST(Fullnat, ProxyProtocolValues) {
  expect_errors(
      "local_address_group lg {\n"
      "  198.18.2.1\n"
      "}\n"
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  lb_kind FNAT\n"
      "  laddr_group_name lg\n"
      "  proxy_protocol v1\n"
      "  proxy_protocol v1-insecure\n"
      "  proxy_protocol v2-insecure\n"
      "  proxy_protocol v3\n"
      "  proxy_protocol\n"
      "  proxy_protocol v2 disable\n"
      "  laddr_group_name\n"
      "  real_server 198.18.1.1 80 {\n"
      "  }\n"
      "}",
      {"t.conf:8:18: proxy_protocol v1 is not supported (v2 only)",
       "t.conf:9:18: proxy_protocol v1-insecure is not supported (v2 only)",
       "t.conf:10:18: \"proxy_protocol v2-insecure\" is not supported by lvsd yet",
       "t.conf:11:18: unknown proxy_protocol 'v3' (expected v2 or disable)",
       "t.conf:12:3: 'proxy_protocol' needs v2 or disable",
       "t.conf:13:21: unexpected 'disable': 'proxy_protocol' takes v2 or disable",
       "t.conf:14:3: 'laddr_group_name' needs a local_address_group name"});
}

TEST(Fullnat, LocalAddressesHaveTheServersFamily) {
  expect_errors(
      "local_address_group lg6 {\n"
      "  198.18.2.1\n"
      "  2001:2::1\n"
      "}\n"
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  lb_kind FNAT\n"
      "  laddr_group_name lg6\n"
      "  real_server 198.18.1.1 80 {\n"
      "  }\n"
      "}",
      {"t.conf:8:20: local_address_group 'lg6' holds IPv6 address 2001:2::1 (t.conf:3:3), but "
       "TCP 198.18.0.1:80 needs IPv4 local addresses (those of its FULLNAT real servers)"});
  // NAT64: the servers are IPv4, so the local addresses must be too (a group read later).
  expect_errors(
      "virtual_server 2001:2::10 80 {\n"
      "  protocol TCP\n"
      "  lb_kind FNAT\n"
      "  laddr_group_name v6\n"
      "  real_server 198.18.1.1 80 {\n"
      "  }\n"
      "}\n"
      "local_address_group v6 {\n"
      "  2001:2::1-2\n"
      "}",
      {"t.conf:4:20: local_address_group 'v6' holds IPv6 address 2001:2::1 (t.conf:9:3), but TCP "
       "[2001:2::10]:80 needs IPv4 local addresses (those of its FULLNAT real servers)"});
}

TEST(Fullnat, ServerFamilies) {
  expect_errors(
      "local_address_group lg {\n"
      "  198.18.2.1\n"
      "}\n"
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  lb_kind FNAT\n"
      "  laddr_group_name lg\n"
      "  real_server 2001:2::5 80 {\n"
      "  }\n"
      "}\n"
      "virtual_server 2001:2::10 80 {\n"
      "  protocol TCP\n"
      "  lb_kind FNAT\n"
      "  laddr_group_name lg\n"
      "  real_server 198.18.1.1 80 {\n"
      "  }\n"
      "  real_server 2001:2::6 80 {\n"
      "  }\n"
      "}\n"
      "virtual_server 2001:2::10 443 {\n"
      "  protocol TCP\n"
      "  real_server 198.18.1.1 443 {\n"
      "  }\n"
      "}",
      {"t.conf:8:3: real_server 2001:2::5 is IPv6 but the virtual_server is IPv4 (FULLNAT takes "
       "IPv6 clients to IPv4 servers, not IPv4 clients to IPv6 ones)",
       "t.conf:17:3: real_server 2001:2::6 is IPv6 but real_server 198.18.1.1 (t.conf:15:3) is "
       "IPv4: the FULLNAT real servers of a virtual_server share one family, that of its local "
       "addresses",
       "t.conf:22:3: real_server 198.18.1.1 is IPv4 but the virtual_server is IPv6"});
}

TEST(Fullnat, GroupErrors) {
  expect_errors(
      "local_address_group {\n"
      "}\n"
      "local_address_group a b {\n"
      "  198.18.2.1\n"
      "}\n"
      "local_address_group empty {\n"
      "}\n"
      "local_address_group g {\n"
      "  198.18.2.1\n"
      "  198.18.2.300\n"
      "  198.18.2.20-300\n"
      "  198.18.2.20-20\n"
      "  198.18.2.20-10\n"
      "  198.18.2.1-198.18.2.5\n"
      "  198.18.2.0/24\n"
      "  2001:2::1-g\n"
      "  2001:2::1-10000\n"
      "  2001:2::10-f\n"
      "  198.18.2.0-2\n"
      "  198.18.2.9 dpdk0 extra\n"
      "  198.18.2.9 bad/name\n"
      "  198.18.2.9 { }\n"
      "  2001:2::1-ffff\n"
      "}\n"
      "local_address_group g {\n"
      "  198.18.2.1\n"
      "}",
      {"t.conf:1:1: 'local_address_group' needs a name",
       "t.conf:3:23: unexpected 'b': 'local_address_group' takes a name",
       "t.conf:6:1: local_address_group 'empty' has no addresses",
       "t.conf:10:3: invalid IP address '198.18.2.300'",
       "t.conf:11:3: invalid address range '198.18.2.20-300' (expected A.B.C.D-E, E up to 255, as "
       "198.18.1.20-25)",
       "t.conf:12:3: address range '198.18.2.20-20' does not end above its start",
       "t.conf:13:3: address range '198.18.2.20-10' does not end above its start",
       "t.conf:14:3: invalid address range '198.18.2.1-198.18.2.5' (expected A.B.C.D-E, E up to "
       "255, as 198.18.1.20-25)",
       "t.conf:15:3: invalid IP address '198.18.2.0/24'",
       "t.conf:16:3: invalid address range '2001:2::1-g' (expected an IPv6 address, '-' and the "
       "last group's end in hex, as 2001:2::10-1f)",
       "t.conf:17:3: invalid address range '2001:2::1-10000' (expected an IPv6 address, '-' and "
       "the last group's end in hex, as 2001:2::10-1f)",
       "t.conf:18:3: address range '2001:2::10-f' does not end above its start",
       "t.conf:19:3: 198.18.2.1 is listed twice in local_address_group 'g' (first at t.conf:9:3)",
       "t.conf:20:20: unexpected 'extra': a local_address_group line is an address or range, and "
       "optionally an interface",
       "t.conf:21:14: invalid interface name 'bad/name'",
       "t.conf:22:14: '198.18.2.9' does not take a block",
       "t.conf:23:3: local_address_group 'g' would hold more than 4096 addresses (lvsd's limit)",
       "t.conf:25:21: duplicate local_address_group 'g' (first at t.conf:8:1)"});
}

// A group with an error draws no more errors where it is used.
TEST(Fullnat, BrokenGroupIsNotReportedAgainAtItsUse) {
  expect_errors(kLg + "local_address_group bad {\n  2001:2::1\n  nope\n}\n" +
                    vs80("  lb_kind FNAT\n  laddr_group_name bad\n" + kRs1),
                {"t.conf:7:3: invalid IP address 'nope'"});
}

// All or nothing: a file with one error yields no configuration, however much of it is good.
TEST(Forwarding, BrokenFileYieldsNoConfig) {
  const ParseResult r =
      parse(kLg + vs80("  lb_kind FNAT\n  laddr_group_name lg\n  proxy_protocol v2\n" + kRs1) +
            "virtual_server 198.18.0.1 53 {\n  protocol UDP\n  ops\n"
            "  real_server 198.18.1.1 {\n    lvs_method TUN type gue\n  }\n}\n");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.config.has_value());
  EXPECT_THAT(messages(r), ElementsAre("t.conf:17:25: 'lvs_method TUN type gue' needs 'port N' "
                                       "(the real servers' GUE port)"));
}

// ---------------------------------------------------------------------------------------------
// diff

std::vector<std::string> show(const std::vector<Op>& ops) {
  std::vector<std::string> out;
  for (const auto& op : ops) out.push_back(op.to_string());
  return out;
}

std::vector<std::string> ops_between(const std::string& from, const std::string& to) {
  return show(diff(parse_clean(from), parse_clean(to)));
}

const std::string kTwo =
    "  real_server 198.18.1.1 8080 {\n  }\n  real_server 198.18.1.2 8080 {\n  }\n";
const std::string kFnat =
    kLg + vs80("  lb_algo rr\n  lb_kind FNAT\n  laddr_group_name lg\n" + kTwo);
const std::string kNat = vs80("  lb_algo rr\n" + kTwo);

TEST(ForwardingDiff, SetUpShowsEverySetting) {
  EXPECT_THAT(
      show(diff(Config{}, parse_clean(kFnat))),
      ElementsAre("add service TCP 198.18.0.1:80 (rr, local addresses 198.18.2.1 198.18.2.2)",
                  "add real server 198.18.1.1:8080 to TCP 198.18.0.1:80 (FullNat, weight 1)",
                  "add real server 198.18.1.2:8080 to TCP 198.18.0.1:80 (FullNat, weight 1)"));
  EXPECT_THAT(
      show(diff(Config{},
                parse_clean("virtual_server 198.18.0.1 53 {\n  protocol UDP\n  lb_algo rr\n  ops\n"
                            "  persistence_timeout 30\n  lb_kind TUN type gue port 6080 remcsum\n"
                            "  real_server 198.18.1.1 {\n  }\n"
                            "  real_server 198.18.1.2 {\n    lvs_method TUN type gre csum\n  }\n"
                            "  real_server 198.18.1.3 {\n    lvs_method TUN\n  }\n}\n"))),
      ElementsAre("add service UDP 198.18.0.1:53 (rr, ops, persistent 30)",
                  "add real server 198.18.1.1:53 to UDP 198.18.0.1:53 (Tunnel gue port 6080 "
                  "remcsum, weight 1)",
                  "add real server 198.18.1.2:53 to UDP 198.18.0.1:53 (Tunnel gre csum, weight 1)",
                  "add real server 198.18.1.3:53 to UDP 198.18.0.1:53 (Tunnel ipip, weight 1)"));
}

TEST(ForwardingDiff, ServiceSettingsAreEdits) {
  const std::string udp = "virtual_server 198.18.0.1 53 {\n  protocol UDP\n  lb_algo rr\n";
  const std::string servers = "  real_server 198.18.1.1 {\n  }\n}\n";
  EXPECT_THAT(ops_between(udp + servers, udp + "  ops\n" + servers),
              ElementsAre("edit service UDP 198.18.0.1:53 (rr, ops)"));
  EXPECT_THAT(ops_between(udp + "  ops\n" + servers, udp + servers),
              ElementsAre("edit service UDP 198.18.0.1:53 (rr)"));
  // PROXY protocol on and off.
  const std::string pp =
      kLg +
      vs80("  lb_algo rr\n  lb_kind FNAT\n  laddr_group_name lg\n  proxy_protocol v2\n" + kTwo);
  EXPECT_THAT(ops_between(kFnat, pp),
              ElementsAre("edit service TCP 198.18.0.1:80 (rr, local addresses 198.18.2.1 "
                          "198.18.2.2, proxy protocol v2)"));
  EXPECT_THAT(ops_between(pp, kFnat),
              ElementsAre("edit service TCP 198.18.0.1:80 (rr, local addresses 198.18.2.1 "
                          "198.18.2.2)"));
  // More local addresses; the first four are named.
  const std::string more = "local_address_group lg {\n  198.18.2.1-6\n}\n" +
                           vs80("  lb_algo rr\n  lb_kind FNAT\n  laddr_group_name lg\n" + kTwo);
  EXPECT_THAT(ops_between(kFnat, more),
              ElementsAre("edit service TCP 198.18.0.1:80 (rr, local addresses 198.18.2.1 "
                          "198.18.2.2 198.18.2.3 198.18.2.4 and 2 more)"));
  // Another group with the same addresses changes nothing.
  const std::string renamed =
      "local_address_group other {\n  198.18.2.1-2 eth1\n}\n" +
      vs80("  lb_algo rr\n  lb_kind FNAT\n  laddr_group_name other\n" + kTwo);
  EXPECT_THAT(ops_between(kFnat, renamed), IsEmpty());
}

TEST(ForwardingDiff, TunnelSettingsAreServerEdits) {
  const std::string tun = vs80("  lb_kind TUN\n" + kRs1 + "  real_server 198.18.1.2 80 {\n  }\n");
  EXPECT_THAT(
      ops_between(tun, vs80("  lb_kind TUN type gue port 6080 csum\n" + kRs1 +
                            "  real_server 198.18.1.2 80 {\n  }\n")),
      ElementsAre("edit real server 198.18.1.1:80 of TCP 198.18.0.1:80 (Tunnel gue port 6080 "
                  "csum, weight 1)",
                  "edit real server 198.18.1.2:80 of TCP 198.18.0.1:80 (Tunnel gue port 6080 "
                  "csum, weight 1)"));
  EXPECT_THAT(ops_between(tun, vs80("  lb_kind TUN\n" + kRs1 +
                                    "  real_server 198.18.1.2 80 {\n"
                                    "    lvs_method TUN type gre\n  }\n")),
              ElementsAre("edit real server 198.18.1.2:80 of TCP 198.18.0.1:80 (Tunnel gre, "
                          "weight 1)"));
  // DR to TUN on the service port: the same server, another method.
  EXPECT_THAT(ops_between(vs80("  lb_kind DR\n" + kRs1), vs80("  lb_kind TUN\n" + kRs1)),
              ElementsAre("edit real server 198.18.1.1:80 of TCP 198.18.0.1:80 (Tunnel ipip, "
                          "weight 1)"));
}

// Gaining local addresses: the service first, then its servers become FULLNAT.
TEST(ForwardingDiff, NatToFullnat) {
  EXPECT_THAT(ops_between(kNat, kFnat),
              ElementsAre("edit service TCP 198.18.0.1:80 (rr, local addresses 198.18.2.1 "
                          "198.18.2.2)",
                          "edit real server 198.18.1.1:8080 of TCP 198.18.0.1:80 (FullNat, "
                          "weight 1)",
                          "edit real server 198.18.1.2:8080 of TCP 198.18.0.1:80 (FullNat, "
                          "weight 1)"));
}

// Losing them: the servers change or go first, the service's edit comes last.
TEST(ForwardingDiff, FullnatToNat) {
  EXPECT_THAT(ops_between(kFnat, kNat),
              ElementsAre("edit real server 198.18.1.1:8080 of TCP 198.18.0.1:80 (Masq, weight 1)",
                          "edit real server 198.18.1.2:8080 of TCP 198.18.0.1:80 (Masq, weight 1)",
                          "edit service TCP 198.18.0.1:80 (rr)"));
  EXPECT_THAT(
      ops_between(kFnat, vs80("  lb_algo wrr\n  lb_kind DR\n  real_server 198.18.1.3 80 {\n  }\n")),
      ElementsAre("add real server 198.18.1.3:80 to TCP 198.18.0.1:80 (Route, weight 1)",
                  "delete real server 198.18.1.1:8080 from TCP 198.18.0.1:80",
                  "delete real server 198.18.1.2:8080 from TCP 198.18.0.1:80",
                  "edit service TCP 198.18.0.1:80 (wrr)"));
}

// The engine gives a service local addresses of one family: changing it replaces the service.
TEST(ForwardingDiff, LocalAddressFamilyChangeReplacesTheService) {
  const std::string groups =
      "local_address_group v4 {\n  198.18.2.1\n}\nlocal_address_group v6 {\n  2001:2::f1\n}\n";
  const std::string head = "virtual_server 2001:2::10 80 {\n  protocol TCP\n  lb_kind FNAT\n";
  const std::string nat64 =
      groups + head + "  laddr_group_name v4\n  real_server 198.18.1.1 80 {\n  }\n}\n";
  const std::string six =
      groups + head + "  laddr_group_name v6\n  real_server 2001:2::1 80 {\n  }\n}\n";
  EXPECT_THAT(ops_between(nat64, six),
              ElementsAre("delete service TCP [2001:2::10]:80",
                          "add service TCP [2001:2::10]:80 (wlc, local addresses 2001:2::f1)",
                          "add real server [2001:2::1]:80 to TCP [2001:2::10]:80 (FullNat, "
                          "weight 1)"));
}

TEST(ForwardingDiff, OpToStringNamesManyLocalAddresses) {
  Op op{Op::Kind::kEditService, {}, {}};
  op.service.key.proto = IPPROTO_UDP;
  op.service.key.addr = ip("198.18.0.1");
  op.service.key.port = 53;
  op.service.scheduler = "rr";
  op.service.one_packet = true;
  op.service.local_addrs = ips({"198.18.2.1", "198.18.2.2", "198.18.2.3", "198.18.2.4"});
  op.service.proxy_protocol = true;
  EXPECT_EQ(op.to_string(),
            "edit service UDP 198.18.0.1:53 (rr, ops, local addresses 198.18.2.1 198.18.2.2 "
            "198.18.2.3 198.18.2.4, proxy protocol v2)");
  op.service.local_addrs.push_back(ip("198.18.2.5"));
  EXPECT_EQ(op.to_string(),
            "edit service UDP 198.18.0.1:53 (rr, ops, local addresses 198.18.2.1 198.18.2.2 "
            "198.18.2.3 198.18.2.4 and 1 more, proxy protocol v2)");
  op.kind = Op::Kind::kAddDest;
  op.dest.addr = ip("198.18.1.1");
  op.dest.port = 53;
  op.dest.fwd = core::Fwd::kTun;
  op.dest.tun_type = core::TunType::kGue;
  op.dest.tun_port = 6080;
  EXPECT_EQ(op.to_string(),
            "add real server 198.18.1.1:53 to UDP 198.18.0.1:53 (Tunnel gue port 6080, weight 1)");
}

// ---------------------------------------------------------------------------------------------
// apply, for what the engine takes today (FULLNAT, ops; TUN may still be refused there)

core::Engine make_engine() {
  core::EngineConfig ec;
  ec.conn_capacity = 64;
  return core::Engine(ec);
}

using DestRow =
    std::tuple<std::string, uint16_t, core::Fwd, int32_t, core::TunType, uint16_t, uint16_t>;
using SvcRow = std::tuple<std::string, std::string, bool, bool, std::vector<net::IpAddr>,
                          std::vector<DestRow>>;

std::vector<SvcRow> state(const core::Engine& e) {
  std::vector<SvcRow> out;
  for (const auto& s : e.snapshot()) {
    std::vector<DestRow> dests;
    for (const auto& d : s.dests) {
      dests.emplace_back(d.addr.to_string(), d.port, d.fwd, d.weight, d.tun_type, d.tun_port,
                         d.tun_flags);
    }
    std::sort(dests.begin(), dests.end());
    out.emplace_back(s.key.to_string(), s.sched_name, s.one_packet, s.proxy_protocol, s.local_addrs,
                     std::move(dests));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Applies `from`, then diff(from, to), and checks the engine ends as a fresh set-up of `to`.
void expect_reload(const std::string& from, const std::string& to) {
  const Config a = parse_clean(from);
  const Config b = parse_clean(to);
  auto reloaded = make_engine();
  core::Status st = ctl::apply(reloaded, diff(Config{}, a));
  ASSERT_TRUE(st.ok()) << st.message();
  st = ctl::apply(reloaded, diff(a, b));
  ASSERT_TRUE(st.ok()) << st.message();
  auto fresh = make_engine();
  st = ctl::apply(fresh, diff(Config{}, b));
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(state(reloaded), state(fresh));
}

TEST(ForwardingApply, FullnatAndOpsReachTheEngine) {
  const Config c = parse_clean(
      kLg +
      vs80("  lb_algo rr\n  lb_kind FNAT\n  laddr_group_name lg\n  proxy_protocol v2\n" + kTwo) +
      "virtual_server 198.18.0.1 53 {\n  protocol UDP\n  ops\n  real_server 198.18.1.1 {\n  "
      "}\n}\n");
  auto engine = make_engine();
  const core::Status st = ctl::apply(engine, diff(Config{}, c));
  ASSERT_TRUE(st.ok()) << st.message();
  const auto r = [](const char* a, uint16_t port, core::Fwd fwd) {
    return DestRow{a, port, fwd, 1, core::TunType::kIpip, 0, 0};
  };
  EXPECT_THAT(state(engine), ElementsAre(SvcRow{"TCP 198.18.0.1:80",
                                                "rr",
                                                false,
                                                true,
                                                ips({"198.18.2.1", "198.18.2.2"}),
                                                {r("198.18.1.1", 8080, core::Fwd::kFullNat),
                                                 r("198.18.1.2", 8080, core::Fwd::kFullNat)}},
                                         SvcRow{"UDP 198.18.0.1:53",
                                                "wlc",
                                                true,
                                                false,
                                                {},
                                                {r("198.18.1.1", 53, core::Fwd::kNat)}}));
}

TEST(ForwardingApply, ReloadsBetweenMethodsEndAsAFreshSetUp) {
  const std::string pp =
      kLg +
      vs80("  lb_algo rr\n  lb_kind FNAT\n  laddr_group_name lg\n  proxy_protocol v2\n" + kTwo);
  const std::string dr = vs80("  lb_algo wrr\n  lb_kind DR\n  real_server 198.18.1.3 80 {\n  }\n");
  const std::string groups =
      "local_address_group v4 {\n  198.18.2.1\n}\nlocal_address_group v6 {\n  2001:2::f1\n}\n";
  const std::string head = "virtual_server 2001:2::10 80 {\n  protocol TCP\n  lb_kind FNAT\n";
  const std::string nat64 =
      groups + head + "  laddr_group_name v4\n  real_server 198.18.1.1 80 {\n  }\n}\n";
  const std::string six =
      groups + head + "  laddr_group_name v6\n  real_server 2001:2::1 80 {\n  }\n}\n";
  const std::string six_nat =
      "virtual_server 2001:2::10 80 {\n  protocol TCP\n"
      "  real_server 2001:2::1 80 {\n  }\n}\n";
  // The tunnel states need an engine that takes TUN (it does since VS/TUN landed there).
  const std::string ipip = vs80("  lb_kind TUN\n" + kRs1 + "  real_server 2001:2::1 80 {\n  }\n");
  const std::string gue = vs80("  lb_kind TUN type gue port 6080 csum\n" + kRs1 +
                               "  real_server 198.18.1.2 80 {\n    lvs_method TUN type gre\n  }\n");
  const std::vector<std::string> states = {kNat, kFnat, pp, dr, nat64, six, six_nat, ipip, gue};
  for (const auto& a : states) {
    for (const auto& b : states) {
      SCOPED_TRACE(a + "\n=>\n" + b);
      expect_reload(a, b);
    }
  }
}

}  // namespace
}  // namespace lvs::ctl
