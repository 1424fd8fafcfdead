// virtual_server and real_server: keepalived's defaults and checks.
#include <netinet/in.h>

#include "ctl/config.h"
#include "sched/registry.h"
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

TEST(VirtualServer, KeepalivedDefaults) {
  const Config c = parse_clean(
      "virtual_server 198.18.0.10 80 {\n"
      "  protocol TCP\n"
      "  real_server 198.18.1.1 8080 {\n"
      "  }\n"
      "  real_server 198.18.1.2 {\n"
      "  }\n"
      "}\n");
  const VirtualServerConf& vs = only_service(c);
  EXPECT_EQ(vs.key.proto, IPPROTO_TCP);
  EXPECT_EQ(vs.key.addr, ip("198.18.0.10"));
  EXPECT_EQ(vs.key.port, 80);
  EXPECT_EQ(vs.key.fwmark, 0u);
  EXPECT_EQ(vs.scheduler, "wlc");
  EXPECT_EQ(vs.fwd, core::Fwd::kNat);
  EXPECT_EQ(vs.delay_loop, 60u);
  EXPECT_EQ(vs.loc.line, 1);
  EXPECT_EQ(vs.loc.column, 1);
  ASSERT_EQ(vs.real_servers.size(), 2u);
  const RealServerConf& a = vs.real_servers[0];
  EXPECT_EQ(a.addr, ip("198.18.1.1"));
  EXPECT_EQ(a.port, 8080);
  EXPECT_EQ(a.weight, 1);
  EXPECT_EQ(a.fwd, core::Fwd::kNat);
  EXPECT_EQ(a.u_threshold, 0u);
  EXPECT_EQ(a.l_threshold, 0u);
  EXPECT_EQ(a.loc.line, 3);
  EXPECT_EQ(a.loc.column, 3);
  // An omitted NAT port is the service's.
  EXPECT_EQ(vs.real_servers[1].port, 80);
}

TEST(VirtualServer, EveryKeyword) {
  const Config c = parse_clean(
      "virtual_server 198.18.0.10 53 {\n"
      "  delay_loop 10\n"
      "  lb_algo rr\n"
      "  lb_kind DR\n"
      "  protocol UDP\n"
      "  ip_family inet\n"
      "  weight 5\n"
      "  real_server 198.18.1.1 53 {\n"
      "    weight 0\n"
      "    lvs_method NAT\n"
      "    uthreshold 1000\n"
      "    lthreshold 100\n"
      "  }\n"
      "  real_server 198.18.1.2 53 {\n"
      "  }\n"
      "}\n");
  const VirtualServerConf& vs = only_service(c);
  EXPECT_EQ(vs.key.proto, IPPROTO_UDP);
  EXPECT_EQ(vs.delay_loop, 10u);
  EXPECT_EQ(vs.scheduler, "rr");
  EXPECT_EQ(vs.fwd, core::Fwd::kDr);
  ASSERT_EQ(vs.real_servers.size(), 2u);
  EXPECT_EQ(vs.real_servers[0].weight, 0);
  EXPECT_EQ(vs.real_servers[0].fwd, core::Fwd::kNat);
  EXPECT_EQ(vs.real_servers[0].u_threshold, 1000u);
  EXPECT_EQ(vs.real_servers[0].l_threshold, 100u);
  // The service's weight and method are its servers' defaults.
  EXPECT_EQ(vs.real_servers[1].weight, 5);
  EXPECT_EQ(vs.real_servers[1].fwd, core::Fwd::kDr);
}

TEST(VirtualServer, SynonymsAndCase) {
  const Config c = parse_clean(
      "virtual_server 198.18.0.10 80 {\n"
      "  lvs_sched wrr\n"
      "  lvs_method dr\n"
      "  protocol tcp\n"
      "  real_server 198.18.1.1 80 { weight 2 }\n"
      "}\n");
  const VirtualServerConf& vs = only_service(c);
  EXPECT_EQ(vs.scheduler, "wrr");
  EXPECT_EQ(vs.fwd, core::Fwd::kDr);
  EXPECT_EQ(vs.key.proto, IPPROTO_TCP);
  EXPECT_EQ(vs.real_servers[0].weight, 2);
}

TEST(VirtualServer, WholeBlockOnOneLineAndBracesOnTheirOwnLines) {
  const Config c = parse_clean(
      "virtual_server 198.18.0.10 80 { protocol TCP\n"
      "  real_server 198.18.1.1 80 { weight 3 } }\n"
      "virtual_server 198.18.0.11 80\n"
      "{\n"
      "  protocol TCP\n"
      "  real_server 198.18.1.1 80\n"
      "  {\n"
      "    weight 4\n"
      "  }\n"
      "}\n");
  ASSERT_EQ(c.services.size(), 2u);
  EXPECT_EQ(c.services[0].real_servers[0].weight, 3);
  EXPECT_EQ(c.services[1].real_servers[0].weight, 4);
}

TEST(VirtualServer, DelayLoopIsSecondsRoundedUp) {
  const char* fmt =
      "virtual_server 198.18.0.10 80 {\n protocol TCP\n delay_loop %s\n"
      " real_server 198.18.1.1 80 {\n }\n}\n";
  char buf[256];
  std::snprintf(buf, sizeof(buf), fmt, "2.5");
  EXPECT_EQ(only_service(parse_clean(buf)).delay_loop, 3u);
  std::snprintf(buf, sizeof(buf), fmt, "7.000");
  EXPECT_EQ(only_service(parse_clean(buf)).delay_loop, 7u);
  std::snprintf(buf, sizeof(buf), fmt, "0.001");
  EXPECT_EQ(only_service(parse_clean(buf)).delay_loop, 1u);
  for (const char* bad : {"0", "0.0", "-1", "1.", ".5", "1e3", "x", "99999999999"}) {
    std::snprintf(buf, sizeof(buf), fmt, bad);
    expect_errors(buf, {std::string("t.conf:3:13: invalid delay_loop '") + bad +
                        "' (expected seconds, more than 0)"});
  }
}

TEST(VirtualServer, Ipv6) {
  const Config c = parse_clean(
      "virtual_server 2001:db8::10 443 {\n"
      "  protocol TCP\n"
      "  real_server 2001:db8::1 8443 {\n  }\n"
      "  real_server 2001:db8::2 {\n  }\n"
      "}\n");
  const VirtualServerConf& vs = only_service(c);
  EXPECT_EQ(vs.key.addr, ip("2001:db8::10"));
  EXPECT_TRUE(vs.key.addr.is_v6());
  EXPECT_EQ(vs.key.port, 443);
  ASSERT_EQ(vs.real_servers.size(), 2u);
  EXPECT_EQ(vs.real_servers[0].addr, ip("2001:db8::1"));
  EXPECT_EQ(vs.real_servers[0].port, 8443);
  EXPECT_EQ(vs.real_servers[1].port, 443);
}

TEST(VirtualServer, FwmarkTakesItsFamilyFromItsRealServers) {
  const Config c = parse_clean(
      "virtual_server fwmark 7 {\n"
      "  real_server 198.18.1.1 {\n  }\n"
      "  real_server 198.18.1.2 8080 {\n  }\n"
      "}\n"
      "virtual_server fwmark 7 {\n"
      "  real_server 2001:db8::1 {\n  }\n"
      "}\n");
  ASSERT_EQ(c.services.size(), 2u);
  EXPECT_EQ(c.services[0].key, core::ServiceKey::fwmark_key(net::Family::kV4, 7));
  EXPECT_EQ(c.services[1].key, core::ServiceKey::fwmark_key(net::Family::kV6, 7));
  // NAT to a fwmark service: no port keeps the client's, a given one is used.
  EXPECT_EQ(c.services[0].real_servers[0].port, 0);
  EXPECT_EQ(c.services[0].real_servers[1].port, 8080);
}

TEST(VirtualServer, FwmarkIpFamily) {
  const Config c = parse_clean(
      "virtual_server fwmark 4294967295 {\n"
      "  ip_family inet6\n"
      "  real_server 2001:db8::1 {\n  }\n"
      "}\n");
  EXPECT_EQ(only_service(c).key, core::ServiceKey::fwmark_key(net::Family::kV6, 4294967295u));
  expect_errors(
      "virtual_server fwmark 1 {\n"
      "  ip_family inet6\n"
      "  real_server 198.18.1.1 {\n  }\n"
      "}\n",
      {"t.conf:3:3: real_server 198.18.1.1 is IPv4 but ip_family is inet6"});
}

TEST(VirtualServer, FwmarkRealServersMustShareAFamily) {
  expect_errors(
      "virtual_server fwmark 1 {\n"
      "  real_server 198.18.1.1 {\n  }\n"
      "  real_server 2001:db8::1 {\n  }\n"
      "}\n",
      {"t.conf:4:3: real_server 2001:db8::1 is IPv6 but the first real_server is IPv4"});
}

TEST(VirtualServer, ProtocolIsIgnoredForFwmark) {
  const ParseResult r = parse(
      "virtual_server fwmark 3 {\n"
      "  protocol TCP\n"
      "  real_server 198.18.1.1 {\n  }\n"
      "}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->services[0].key.proto, 0);
  EXPECT_THAT(messages(r),
              ElementsAre("t.conf:2:3: warning: protocol is ignored for fwmark services"));
}

TEST(VirtualServer, NoProtocolIsUdpAsInKeepalived) {
  const ParseResult r =
      parse("virtual_server 198.18.0.1 53 {\n real_server 198.18.1.1 53 {\n }\n}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->services[0].key.proto, IPPROTO_UDP);
  EXPECT_THAT(messages(r),
              ElementsAre("t.conf:1:1: warning: no protocol given; using UDP, as keepalived does"));
}

TEST(VirtualServer, DrUsesTheServicePort) {
  const ParseResult r = parse(
      "virtual_server 198.18.0.10 80 {\n"
      "  protocol TCP\n"
      "  lb_kind DR\n"
      "  real_server 198.18.1.1 {\n  }\n"
      "  real_server 198.18.1.2 80 {\n  }\n"
      "  real_server 198.18.1.3 8080 {\n  }\n"
      "}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(messages(r), ElementsAre("t.conf:8:26: warning: real_server port 8080 differs from "
                                       "the virtual_server port 80: DR uses the service port"));
  const auto& rs = r.config->services[0].real_servers;
  ASSERT_EQ(rs.size(), 3u);
  for (const auto& s : rs) {
    EXPECT_EQ(s.port, 80);
    EXPECT_EQ(s.fwd, core::Fwd::kDr);
  }
}

TEST(VirtualServer, DrToAFwmarkServiceKeepsTheClientPort) {
  const ParseResult r = parse(
      "virtual_server fwmark 9 {\n"
      "  lb_kind DR\n"
      "  real_server 198.18.1.1 443 {\n  }\n"
      "}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(messages(r), ElementsAre("t.conf:3:26: warning: port 443 is ignored: DR real "
                                       "servers of fwmark services keep the client's port"));
  EXPECT_EQ(r.config->services[0].real_servers[0].port, 0);
}

TEST(VirtualServer, PerServerMethodOverridesTheService) {
  const Config c = parse_clean(
      "virtual_server 198.18.0.10 80 {\n"
      "  protocol TCP\n"
      "  real_server 198.18.1.1 {\n    lvs_method DR\n  }\n"
      "}\n");
  const RealServerConf& rs = only_service(c).real_servers[0];
  EXPECT_EQ(rs.fwd, core::Fwd::kDr);
  EXPECT_EQ(rs.port, 80);
}

TEST(VirtualServer, ZeroPortOfARealServerMeansNone) {
  const Config c = parse_clean(
      "virtual_server 198.18.0.10 80 {\n"
      "  protocol TCP\n"
      "  real_server 198.18.1.1 0 {\n  }\n"
      "}\n");
  EXPECT_EQ(only_service(c).real_servers[0].port, 80);
}

TEST(VirtualServer, WeightRange) {
  const Config c = parse_clean(
      "virtual_server 198.18.0.10 80 {\n"
      "  protocol TCP\n"
      "  real_server 198.18.1.1 80 {\n    weight 2147483647\n  }\n"
      "}\n");
  EXPECT_EQ(only_service(c).real_servers[0].weight, 2147483647);
  expect_errors(
      "virtual_server 198.18.0.10 80 {\n"
      "  protocol TCP\n"
      "  weight 0\n"
      "  real_server 198.18.1.1 80 {\n"
      "    weight 2147483648\n"
      "    weight -1\n"
      "    weight 1.5\n"
      "    weight\n"
      "    uthreshold 4294967296\n"
      "    lthreshold x\n"
      "  }\n"
      "}\n",
      {"t.conf:3:10: invalid weight '0' (expected 1..2147483647)",
       "t.conf:5:12: invalid weight '2147483648' (expected 0..2147483647)",
       "t.conf:6:12: invalid weight '-1' (expected 0..2147483647)",
       "t.conf:7:12: invalid weight '1.5' (expected 0..2147483647)",
       "t.conf:8:5: 'weight' needs a number",
       "t.conf:9:16: invalid uthreshold '4294967296' (expected 0..4294967295)",
       "t.conf:10:16: invalid lthreshold 'x' (expected 0..4294967295)"});
}

TEST(VirtualServer, HeaderErrors) {
  expect_errors("virtual_server {\n}", {"t.conf:1:1: 'virtual_server' needs an address and a "
                                        "port, or fwmark N"});
  expect_errors("virtual_server 198.18.0.1 65536 {\n}",
                {"t.conf:1:27: invalid port '65536' (expected 1..65535)"});
  expect_errors("virtual_server 198.18.0.1 http {\n}",
                {"t.conf:1:27: invalid port 'http' (expected 1..65535)"});
  expect_errors("virtual_server 198.18.0.256 80 {\n}",
                {"t.conf:1:16: invalid IP address '198.18.0.256'"});
  expect_errors("virtual_server 198.18.0.0/24 80 {\n}",
                {"t.conf:1:16: invalid IP address '198.18.0.0/24'"});
  expect_errors("virtual_server 198.18.0.1 80 tcp {\n}",
                {"t.conf:1:30: unexpected 'tcp': 'virtual_server' takes an address and a port"});
  expect_errors("virtual_server fwmark {\n}",
                {"t.conf:1:16: 'virtual_server fwmark' needs a mark"});
  expect_errors("virtual_server fwmark 0 {\n}",
                {"t.conf:1:23: invalid fwmark '0' (expected 1..4294967295)"});
  expect_errors("virtual_server fwmark 4294967296 {\n}",
                {"t.conf:1:23: invalid fwmark '4294967296' (expected 1..4294967295)"});
  expect_errors("virtual_server fwmark 1 inet6 {\n}",
                {"t.conf:1:25: unexpected 'inet6': 'virtual_server fwmark' takes one mark"});
  expect_errors("virtual_server group G {\n real_server 198.18.1.1 80 {\n }\n}",
                {"t.conf:1:22: unknown virtual_server_group 'G'"});
  expect_errors("virtual_server group {\n}",
                {"t.conf:1:16: 'virtual_server group' needs a virtual_server_group name"});
  expect_errors("virtual_server group G H {\n}",
                {"t.conf:1:24: unexpected 'H': 'virtual_server group' takes one name"});
}

TEST(VirtualServer, HeaderErrorStillChecksTheBody) {
  expect_errors(
      "virtual_server 198.18.0.1 http {\n lb_algo nope\n}",
      {"t.conf:1:27: invalid port 'http' (expected 1..65535)",
       "t.conf:2:10: unknown scheduler 'nope' (available: " + sched::scheduler_names() + ")"});
}

TEST(VirtualServer, ValueErrors) {
  expect_errors(
      "virtual_server 198.18.0.1 80 {\n"
      "  lb_algo rr\n"
      "  lb_algo fastest\n"
      "  lb_kind SNAT\n"
      "  lb_kind MASQ\n"
      "  lb_kind NAT fast\n"
      "  lvs_method TUN type vxlan\n"
      "  protocol ICMP\n"
      "  ip_family ipx\n"
      "  lb_kind\n"
      "  real_server 198.18.1.1 80 {\n"
      "    lvs_method DR fast\n"
      "  }\n"
      "}\n",
      {"t.conf:3:11: unknown scheduler 'fastest' (available: " + sched::scheduler_names() + ")",
       "t.conf:4:11: \"lb_kind SNAT\" is not supported by lvsd yet",
       "t.conf:5:11: unknown forwarding method 'MASQ' (expected NAT, DR, TUN or FNAT)",
       "t.conf:6:15: unexpected 'fast': 'lb_kind NAT' takes no options",
       "t.conf:7:23: unknown tunnel type 'vxlan' (expected ipip, gue or gre)",
       "t.conf:8:12: unknown protocol 'ICMP' (expected TCP, UDP or SCTP)",
       "t.conf:9:13: unknown ip_family 'ipx' (expected inet or inet6)",
       "t.conf:10:3: 'lb_kind' needs NAT, DR, TUN or FNAT",
       "t.conf:12:19: unexpected 'fast': 'lvs_method DR' takes no options"});
}

TEST(VirtualServer, IpFamilyMustMatchTheAddress) {
  expect_errors(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  ip_family inet6\n"
      "  real_server 198.18.1.1 80 {\n  }\n"
      "}\n",
      {"t.conf:3:3: ip_family inet6 does not match the virtual_server address 198.18.0.1"});
}

TEST(VirtualServer, RealServerErrors) {
  expect_errors(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  real_server {\n  }\n"
      "  real_server 198.18.1.1 80 90 {\n  }\n"
      "  real_server 198.18.1.x 80 {\n  }\n"
      "  real_server 198.18.1.2 99999 {\n  }\n"
      "  real_server 2001:db8::1 80 {\n  }\n"
      "}\n",
      {"t.conf:3:3: 'real_server' needs an address and optionally a port",
       "t.conf:5:29: unexpected '90': 'real_server' takes an address and optionally a port",
       "t.conf:7:15: invalid IP address '198.18.1.x'",
       "t.conf:9:26: invalid port '99999' (expected 1..65535)",
       "t.conf:11:3: real_server 2001:db8::1 is IPv6 but the virtual_server is IPv4"});
}

TEST(VirtualServer, DuplicateRealServer) {
  expect_errors(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  real_server 198.18.1.1 80 {\n  }\n"
      "  real_server 198.18.1.1 8080 {\n  }\n"
      "  real_server 198.18.1.1 {\n  }\n"
      "}\n",
      {"t.conf:7:3: duplicate real_server 198.18.1.1:80 in virtual_server TCP 198.18.0.1:80 "
       "(first at t.conf:3:3)"});
}

TEST(VirtualServer, DrServersDifferingOnlyInPortAreDuplicates) {
  const ParseResult r = parse(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  lb_kind DR\n"
      "  real_server 198.18.1.1 80 {\n  }\n"
      "  real_server 198.18.1.1 8080 {\n  }\n"
      "}\n");
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(messages(r),
              ElementsAre("t.conf:6:26: warning: real_server port 8080 differs from the "
                          "virtual_server port 80: DR uses the service port",
                          "t.conf:6:3: duplicate real_server 198.18.1.1:80 in virtual_server TCP "
                          "198.18.0.1:80 (first at t.conf:4:3)"));
}

TEST(VirtualServer, DuplicateVirtualServer) {
  expect_errors(
      "virtual_server 198.18.0.1 80 {\n protocol TCP\n real_server 198.18.1.1 80 {\n }\n}\n"
      "virtual_server 198.18.0.1 80 {\n protocol TCP\n real_server 198.18.1.2 80 {\n }\n}\n"
      "virtual_server fwmark 5 {\n real_server 198.18.1.1 80 {\n }\n}\n"
      "virtual_server fwmark 5 {\n real_server 198.18.1.2 80 {\n }\n}\n",
      {"t.conf:6:1: duplicate virtual_server TCP 198.18.0.1:80 (first at t.conf:1:1)",
       "t.conf:15:1: duplicate virtual_server FWM 5 (first at t.conf:11:1)"});
}

TEST(VirtualServer, SameAddressOtherProtocolOrFamilyIsNoDuplicate) {
  const Config c = parse_clean(
      "virtual_server 198.18.0.1 53 {\n protocol TCP\n real_server 198.18.1.1 53 {\n }\n}\n"
      "virtual_server 198.18.0.1 53 {\n protocol UDP\n real_server 198.18.1.1 53 {\n }\n}\n"
      "virtual_server 198.18.0.1 54 {\n protocol UDP\n real_server 198.18.1.1 53 {\n }\n}\n"
      "virtual_server fwmark 5 {\n real_server 198.18.1.1 {\n }\n}\n"
      "virtual_server fwmark 5 {\n real_server 2001:db8::1 {\n }\n}\n");
  EXPECT_EQ(c.services.size(), 5u);
}

TEST(VirtualServer, WithoutRealServersIsIgnoredAsInKeepalived) {
  const ParseResult r = parse(
      "virtual_server 198.18.0.1 80 {\n  protocol TCP\n}\n"
      "virtual_server 198.18.0.1 80 {\n  protocol TCP\n}\n");
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(messages(r),
              ElementsAre("t.conf:1:1: warning: virtual_server TCP 198.18.0.1:80 has no "
                          "real_server; ignored, as keepalived does",
                          "t.conf:4:1: duplicate virtual_server TCP 198.18.0.1:80 (first at "
                          "t.conf:1:1)"));
  const ParseResult ok = parse("virtual_server fwmark 1 {\n}\n");
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok.config->services.empty());
  EXPECT_EQ(ok.diagnostics.size(), 1u);
}

// lvsd has no SIP persistence engine: ignoring it would change which server a client gets.
// The other keepalived keywords load (checker_test.cc).
TEST(VirtualServer, PersistenceEngineIsRefused) {
  expect_errors(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol UDP\n"
      "  persistence_engine sip\n"
      "  sorry_server 198.18.2.1 80\n"
      "  real_server 198.18.1.1 80 {\n"
      "    inhibit_on_failure\n"
      "    TCP_CHECK {\n"
      "      connect_timeout 3\n"
      "    }\n"
      "  }\n"
      "}\n",
      {"t.conf:3:3: \"persistence_engine\" is not supported by lvsd yet"});
}

TEST(VirtualServer, SmtpAlertIsAcceptedWithAWarning) {
  const ParseResult r = parse(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  smtp_alert\n"
      "  real_server 198.18.1.1 80 {\n"
      "    smtp_alert on\n"
      "  }\n"
      "}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(messages(r),
              ElementsAre("t.conf:3:3: warning: \"smtp_alert\" is not used by lvsd; ignored",
                          "t.conf:5:5: warning: \"smtp_alert\" is not used by lvsd; ignored"));
}

TEST(VirtualServer, UnknownKeywords) {
  expect_errors(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  lb_alog rr\n"
      "  real_sever 198.18.1.1 80 {\n  }\n"
      "  real_server 198.18.1.1 80 {\n"
      "    wieght 1\n"
      "    tcp_check {\n    }\n"
      "  }\n"
      "}\n",
      {"t.conf:3:3: unknown keyword 'lb_alog' in virtual_server; did you mean 'lb_algo'?",
       "t.conf:4:3: unknown keyword 'real_sever' in virtual_server; did you mean 'real_server'?",
       "t.conf:7:5: unknown keyword 'wieght' in real_server; did you mean 'weight'?",
       "t.conf:8:5: unknown keyword 'tcp_check' in real_server; did you mean 'TCP_CHECK'?"});
}

TEST(VirtualServer, BlockStructureErrors) {
  expect_errors(
      "virtual_server 198.18.0.1 80\n"
      "  protocol TCP\n"
      "  real_server 198.18.1.1 80 {\n  }\n"
      "}\n",
      {"t.conf:2:3: expected '{' after 'virtual_server', found 'protocol'"});
  expect_errors(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  real_server 198.18.1.1 80 {\n"
      "    weight 1\n",
      {"t.conf:4:13: unexpected end of file: 'real_server' block opened at t.conf:3:29 is not "
       "closed",
       "t.conf:4:13: unexpected end of file: 'virtual_server' block opened at t.conf:1:30 is not "
       "closed"});
  expect_errors(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  lb_algo rr { }\n"
      "  real_server 198.18.1.1 80 {\n"
      "    weight 1 {\n    }\n"
      "  }\n"
      "}\n",
      {"t.conf:3:14: 'lb_algo' does not take a block",
       "t.conf:5:14: 'weight' does not take a block"});
}

TEST(VirtualServer, ClosingBraceOnTheStatementLine) {
  const Config c = parse_clean(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  real_server 198.18.1.1 80 {\n    weight 7 }\n"
      "  lb_algo rr }\n");
  const VirtualServerConf& vs = only_service(c);
  EXPECT_EQ(vs.scheduler, "rr");
  EXPECT_EQ(vs.real_servers[0].weight, 7);
}

TEST(VirtualServer, ErrorsLeaveNoConfig) {
  const ParseResult r = parse(
      "virtual_server 198.18.0.1 80 {\n protocol TCP\n real_server 198.18.1.1 80 {\n }\n}\n"
      "virtual_server 198.18.0.2 80 {\n protocol TCP\n real_server 198.18.1.1 80 {\n weight x\n"
      " }\n}\n");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.config.has_value());
  EXPECT_THAT(messages(r), ElementsAre("t.conf:9:9: invalid weight 'x' (expected 0..2147483647)"));
}

TEST(VirtualServer, QuotedValues) {
  const Config c = parse_clean(
      "virtual_server \"198.18.0.1\" \"80\" {\n"
      "  protocol \"TCP\"\n"
      "  real_server 198.18.1.1 80 {\n    \"weight\" \"9\"\n  }\n"
      "}\n");
  EXPECT_EQ(only_service(c).real_servers[0].weight, 9);
}

}  // namespace
}  // namespace lvs::ctl
