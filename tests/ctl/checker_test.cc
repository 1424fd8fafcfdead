// keepalived's health-check, quorum and sorry-server settings of virtual_server and real_server:
// stored with keepalived's defaults and ranges (check_parser.c, check_data.c); the checkers
// themselves read as "not yet supported" warnings.
#include "test_util.h"

namespace lvs::ctl::test {
namespace {

using ::testing::ElementsAre;

TEST(CheckerSettings, DefaultsAreKeepalived) {
  const Config c = parse_clean(
      "virtual_server 198.18.0.1 80 {\n protocol TCP\n real_server 198.18.1.1 80 {\n }\n}\n");
  const VirtualServerConf& vs = c.services.at(0);
  EXPECT_EQ(vs.quorum, 1u);
  EXPECT_EQ(vs.hysteresis, 0u);
  EXPECT_FALSE(vs.sorry_server.has_value());
  EXPECT_FALSE(vs.alpha || vs.omega || vs.inhibit_on_failure || vs.ha_suspend);
  EXPECT_EQ(vs.connect_timeout_ms, 5000u);
  EXPECT_FALSE(vs.retry.has_value());
  const RealServerConf& rs = vs.real_servers.at(0);
  EXPECT_TRUE(rs.alive);
  EXPECT_FALSE(rs.inhibit_on_failure);
  EXPECT_TRUE(rs.checkers.empty());
}

TEST(CheckerSettings, EveryKeywordIsStored) {
  const Config c = parse_clean(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  delay_loop 10\n"
      "  retry 4\n"
      "  delay_before_retry 2.5\n"
      "  warmup 0\n"
      "  connect_timeout 0.0015\n"
      "  inhibit_on_failure\n"
      "  alpha\n"
      "  omega\n"
      "  ha_suspend\n"
      "  virtualhost www.example.org\n"
      "  snmp_name web\n"
      "  quorum 3\n"
      "  hysteresis 1\n"
      "  quorum_up \"/usr/local/bin/up.sh arg\"\n"
      "  quorum_down /usr/local/bin/down.sh DOWN 1\n"
      "  sorry_server 198.18.2.1 8080\n"
      "  sorry_server_inhibit\n"
      "  real_server 198.18.1.1 80 {\n"
      "    weight 2\n"
      "    HTTP_GET {\n      url {\n        path /\n      }\n    }\n"
      "  }\n"
      "  real_server 198.18.1.2 80 {\n"
      "    weight 2\n"
      "    HTTP_GET {\n      url {\n        path /\n      }\n    }\n"
      "    inhibit_on_failure off\n"
      "    alpha no\n"
      "    retry 7\n"
      "    delay_loop 2.1\n"
      "    connect_timeout 3\n"
      "    delay_before_retry 1\n"
      "    warmup 9\n"
      "    virtualhost rs.example.org\n"
      "    snmp_name rs2\n"
      "    notify_up /bin/up.sh\n"
      "    notify_down \"/bin/down.sh x\"\n"
      "  }\n"
      "}\n");
  const VirtualServerConf& vs = c.services.at(0);
  EXPECT_EQ(vs.delay_loop, 10u);
  EXPECT_EQ(vs.retry, 4u);
  EXPECT_EQ(vs.delay_before_retry_ms, 2500u);
  EXPECT_EQ(vs.warmup_ms, 0u);
  EXPECT_EQ(vs.connect_timeout_ms, 2u);  // 1.5 ms, rounded up
  EXPECT_TRUE(vs.inhibit_on_failure && vs.alpha && vs.omega && vs.ha_suspend);
  EXPECT_EQ(vs.virtualhost, "www.example.org");
  EXPECT_EQ(vs.snmp_name, "web");
  EXPECT_EQ(vs.quorum, 3u);
  EXPECT_EQ(vs.hysteresis, 1u);
  EXPECT_EQ(vs.quorum_up, "/usr/local/bin/up.sh arg");
  EXPECT_EQ(vs.quorum_down, "/usr/local/bin/down.sh DOWN 1");
  ASSERT_TRUE(vs.sorry_server.has_value());
  EXPECT_EQ(vs.sorry_server->addr, ip("198.18.2.1"));
  EXPECT_EQ(vs.sorry_server->port, 8080);
  EXPECT_EQ(vs.sorry_server->weight, 1);
  EXPECT_EQ(vs.sorry_server->fwd, core::Fwd::kNat);
  EXPECT_TRUE(vs.sorry_server_inhibit);
  // The first server takes the service's settings, the second has its own; its checkers get
  // them (a server keeps only inhibit_on_failure).
  const RealServerConf& rs_a = vs.real_servers.at(0);
  EXPECT_TRUE(rs_a.inhibit_on_failure);
  ASSERT_EQ(rs_a.checkers.size(), 1u);
  const CheckerConf& a = rs_a.checkers[0];
  EXPECT_TRUE(a.alpha);
  EXPECT_EQ(a.retry, 4u);
  EXPECT_EQ(a.delay_loop_ms, 10000u);
  EXPECT_EQ(a.connect_timeout_ms, 2u);
  EXPECT_EQ(a.delay_before_retry_ms, 2500u);
  EXPECT_EQ(a.warmup_ms, 0u);
  EXPECT_EQ(a.virtualhost, "www.example.org");
  const RealServerConf& rs_b = vs.real_servers.at(1);
  EXPECT_FALSE(rs_b.inhibit_on_failure);
  ASSERT_EQ(rs_b.checkers.size(), 1u);
  const CheckerConf& b = rs_b.checkers[0];
  EXPECT_FALSE(b.alpha);
  EXPECT_EQ(b.retry, 7u);
  EXPECT_EQ(b.delay_loop_ms, 3000u);  // whole seconds, rounded up
  EXPECT_EQ(b.connect_timeout_ms, 3000u);
  EXPECT_EQ(b.delay_before_retry_ms, 1000u);
  EXPECT_EQ(b.warmup_ms, 9000u);
  EXPECT_EQ(b.virtualhost, "rs.example.org");
  EXPECT_EQ(rs_b.notify_up, "/bin/up.sh");
  EXPECT_EQ(rs_b.notify_down, "/bin/down.sh x");
}

TEST(CheckerSettings, CheckerBlocksAreRead) {
  const ParseResult r = parse(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  real_server 198.18.1.10 80 {\n"
      "    TCP_CHECK {\n"
      "      connect_timeout 3\n"
      "    }\n"
      "    HTTP_GET {\n"
      "      url {\n"
      "        path /\n"
      "        status_code 200\n"
      "      }\n"
      "    }\n"
      "    MISC_CHECK { misc_path \"/bin/check {x}\" }\n"
      "  }\n"
      "  real_server 198.18.1.11 {\n"
      "    BFD_CHECK { name b }\n"
      "    track_file f\n"
      "  }\n"
      "}\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_THAT(messages(r),
              ElementsAre("t.conf:16:5: warning: \"BFD_CHECK\" BFD checks are not yet supported; "
                          "198.18.1.11 stays in service",
                          "t.conf:17:5: warning: \"track_file\" is not yet supported (health "
                          "checks); ignored"));
  const auto& rs = r.config->services.at(0).real_servers;
  ASSERT_EQ(rs.at(0).checkers.size(), 3u);
  EXPECT_EQ(rs[0].checkers[0].keyword, "TCP_CHECK");
  EXPECT_EQ(rs[0].checkers[0].loc.line, 4);
  EXPECT_EQ(rs[0].checkers[0].loc.column, 5);
  EXPECT_EQ(rs[0].checkers[1].kind, CheckKind::kHttp);
  EXPECT_EQ(rs[0].checkers[2].kind, CheckKind::kMisc);
  EXPECT_EQ(rs[0].checkers[2].misc_path, "/bin/check {x}");
  EXPECT_EQ(rs[0].checkers[2].retry, 0u);  // check_misc.c: default_retry 0
  EXPECT_TRUE(rs.at(1).checkers.empty());
  EXPECT_TRUE(rs[0].alive && rs[1].alive);
}

TEST(CheckerSettings, UnclosedCheckerBlockIsAnError) {
  const ParseResult r = parse(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  real_server 198.18.1.10 80 {\n"
      "    TCP_CHECK {\n"
      "      connect_timeout 3\n");
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(messages(r),
              ElementsAre("t.conf:5:24: unexpected end of file: 'TCP_CHECK' block opened at "
                          "t.conf:4:15 is not closed",
                          "t.conf:5:24: unexpected end of file: 'real_server' block opened at "
                          "t.conf:3:30 is not closed",
                          "t.conf:5:24: unexpected end of file: 'virtual_server' block opened at "
                          "t.conf:1:30 is not closed"));
  expect_errors(
      "virtual_server 198.18.0.1 80 {\n protocol TCP\n real_server 198.18.1.10 80 {\n"
      "  TCP_CHECK\n }\n}\n",
      {"t.conf:4:3: 'TCP_CHECK' needs a block: TCP_CHECK { ... }"});
}

TEST(CheckerSettings, ValuesAreChecked) {
  expect_errors(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  quorum 0\n"
      "  hysteresis -1\n"
      "  retry 0\n"
      "  connect_timeout 0\n"
      "  delay_before_retry 1.1234567\n"
      "  warmup x\n"
      "  alpha on\n"
      "  quorum_up\n"
      "  quorum_down a\n"
      "  quorum_down b\n"
      "  virtualhost\n"
      "  real_server 198.18.1.1 80 {\n"
      "    inhibit_on_failure maybe\n"
      "    delay_loop 0\n"
      "    notify_up\n"
      "    snmp_name a b\n"
      "  }\n"
      "}\n",
      {"t.conf:3:10: invalid quorum '0' (expected 1..4294967295)",
       "t.conf:4:14: invalid hysteresis '-1' (expected 0..4294967295)",
       "t.conf:5:9: invalid retry '0' (expected 1..4294967295)",
       "t.conf:6:19: invalid connect_timeout '0' (expected seconds, more than 0, up to 6 "
       "decimals)",
       "t.conf:7:22: invalid delay_before_retry '1.1234567' (expected seconds, up to 6 "
       "decimals)",
       "t.conf:8:10: invalid warmup 'x' (expected seconds, up to 6 decimals)",
       "t.conf:9:9: unexpected 'on': 'alpha' takes no value",
       "t.conf:10:3: 'quorum_up' needs a script", "t.conf:12:3: 'quorum_down' is given twice",
       "t.conf:13:3: 'virtualhost' needs a name",
       "t.conf:15:24: invalid inhibit_on_failure 'maybe' (expected on or off)",
       "t.conf:16:16: invalid delay_loop '0' (expected seconds, more than 0, up to 6 decimals)",
       "t.conf:17:5: 'notify_up' needs a script",
       "t.conf:18:17: unexpected 'b': 'snmp_name' takes a name"});
}

// keepalived's validate_check_config() adjustments, as warnings.
TEST(CheckerSettings, QuorumAboveTotalWeightAndHysteresisAreAdjusted) {
  const ParseResult r = parse(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  quorum 10\n"
      "  hysteresis 5\n"
      "  real_server 198.18.1.1 80 {\n    weight 2\n  }\n"
      "  real_server 198.18.1.2 80 {\n    weight 3\n  }\n"
      "}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(messages(r),
              ElementsAre("t.conf:3:10: warning: quorum 10 is above the total weight of the real "
                          "servers (5); using 5, as keepalived does",
                          "t.conf:4:14: warning: hysteresis 5 is not below quorum 5; using 4, as "
                          "keepalived does"));
  EXPECT_EQ(r.config->services[0].quorum, 5u);
  EXPECT_EQ(r.config->services[0].hysteresis, 4u);
}

TEST(CheckerSettings, HashedIsDeprecatedAndHaSuspendNotForFwmarks) {
  const ParseResult r = parse(
      "virtual_server fwmark 3 {\n"
      "  hashed\n"
      "  ha_suspend\n"
      "  real_server 198.18.1.1 {\n  }\n"
      "}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(messages(r),
              ElementsAre("t.conf:2:3: warning: \"hashed\" is deprecated in keepalived and has no "
                          "effect; ignored",
                          "t.conf:3:3: warning: ha_suspend does not apply to fwmark services; "
                          "ignored, as keepalived does"));
  EXPECT_FALSE(r.config->services[0].ha_suspend);
}

TEST(SorryServer, MethodAndPortFollowTheRealServerRules) {
  const Config c = parse_clean(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  lb_kind DR\n"
      "  sorry_server 198.18.2.1\n"
      "  real_server 198.18.1.1 80 {\n  }\n"
      "}\n"
      "virtual_server 198.18.0.2 80 {\n"
      "  protocol TCP\n"
      "  sorry_server_lvs_method TUN type gue port 6080\n"
      "  sorry_server 2001:2::1\n"
      "  real_server 198.18.1.1 {\n  }\n"
      "}\n");
  const auto& a = *c.services.at(0).sorry_server;
  EXPECT_EQ(a.fwd, core::Fwd::kDr);
  EXPECT_EQ(a.port, 80);  // DR: the service's port
  const auto& b = *c.services.at(1).sorry_server;
  EXPECT_EQ(b.fwd, core::Fwd::kTun);  // a tunnel may cross families
  EXPECT_EQ(b.tun_type, core::TunType::kGue);
  EXPECT_EQ(b.tun_port, 6080);
  EXPECT_EQ(b.port, 80);
  EXPECT_EQ(c.services[1].real_servers[0].fwd, core::Fwd::kNat);
}

TEST(SorryServer, Errors) {
  expect_errors(
      "virtual_server 198.18.0.1 80 {\n"
      "  protocol TCP\n"
      "  sorry_server 2001:2::1 80\n"
      "  real_server 198.18.1.1 80 {\n  }\n"
      "}\n"
      "virtual_server 198.18.0.2 80 {\n"
      "  protocol TCP\n"
      "  sorry_server_inhibit\n"
      "  sorry_server_lvs_method DR\n"
      "  real_server 198.18.1.1 80 {\n  }\n"
      "}\n"
      "virtual_server 198.18.0.3 80 {\n"
      "  protocol TCP\n"
      "  sorry_server 198.18.2.1 80\n"
      "  sorry_server 198.18.2.2 80\n"
      "  sorry_server 198.18.2.300\n"
      "  sorry_server\n"
      "  real_server 198.18.1.1 80 {\n  }\n"
      "}\n",
      {"t.conf:3:3: sorry_server 2001:2::1 is IPv6 but the virtual_server is IPv4",
       "t.conf:9:3: sorry_server_inhibit needs a sorry_server",
       "t.conf:10:3: sorry_server_lvs_method needs a sorry_server",
       "t.conf:17:3: 'sorry_server' is given twice (first at t.conf:16:3)",
       "t.conf:18:3: 'sorry_server' is given twice (first at t.conf:16:3)",
       "t.conf:19:3: 'sorry_server' needs an address and optionally a port"});
}

}  // namespace
}  // namespace lvs::ctl::test
