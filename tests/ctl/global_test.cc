// The top level and global_defs.
#include <string>

#include "ctl/config.h"
#include "test_util.h"

namespace lvs::ctl {
namespace {

using test::expect_errors;
using test::messages;
using test::parse;
using test::parse_clean;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(Config, EmptyTextIsTheDefaultConfig) {
  const Config c = parse_clean("");
  EXPECT_EQ(c.router_id, "");
  EXPECT_TRUE(c.services.empty());
  EXPECT_EQ(c.timeouts.tcp, core::kTcpTimeoutsSec);
  EXPECT_EQ(c.timeouts.udp, core::kUdpTimeoutSec);
  EXPECT_TRUE(c.director.interfaces.empty());
  EXPECT_EQ(c.director.io, IoBackend::kAfXdp);
  EXPECT_EQ(c.director.xdp_mode, XdpMode::kAuto);
  EXPECT_EQ(c.director.workers, 0u);
  EXPECT_EQ(c.director.conn_capacity, 1u << 20);
  EXPECT_FALSE(c.director.expire_nodest_conn);
}

TEST(Config, CommentsOnlyIsEmpty) {
  EXPECT_TRUE(parse_clean("# nothing\n! here either\n\n").services.empty());
}

TEST(Diagnostic, Format) {
  EXPECT_EQ((Diagnostic{{"a.conf", 3, 7}, "bad", false}).to_string(), "a.conf:3:7: bad");
  EXPECT_EQ((Diagnostic{{"a.conf", 3, 7}, "meh", true}).to_string(), "a.conf:3:7: warning: meh");
  EXPECT_EQ((Diagnostic{{"a.conf", 0, 0}, "gone", false}).to_string(), "a.conf: gone");
}

TEST(GlobalDefs, RouterId) {
  EXPECT_EQ(parse_clean("global_defs {\n  router_id LVS_1\n}\n").router_id, "LVS_1");
  EXPECT_EQ(parse_clean("global_defs { router_id \"two words\" }").router_id, "two words");
}

TEST(GlobalDefs, RouterIdNeedsOneName) {
  expect_errors("global_defs {\n router_id\n}", {"t.conf:2:2: 'router_id' needs a name"});
  expect_errors("global_defs {\n router_id a b\n}",
                {"t.conf:2:14: unexpected 'b': 'router_id' takes a name"});
}

TEST(GlobalDefs, RepeatedBlocksAddUp) {
  const Config c = parse_clean(
      "global_defs { router_id A }\n"
      "global_defs { lvs_timeouts udp 30 }\n");
  EXPECT_EQ(c.router_id, "A");
  EXPECT_EQ(c.timeouts.udp, 30u);
}

TEST(GlobalDefs, LvsTimeoutsSetEstablishedFinWaitAndUdp) {
  const Config c = parse_clean("global_defs {\n lvs_timeouts tcp 7200 tcpfin 30 udp 60\n}\n");
  core::Timeouts want;
  want.tcp[core::kTcpEstablished] = 7200;
  want.tcp[core::kTcpFinWait] = 30;
  want.udp = 60;
  EXPECT_EQ(c.timeouts.tcp, want.tcp);
  EXPECT_EQ(c.timeouts.udp, want.udp);
}

TEST(GlobalDefs, LvsTimeoutsAnySubsetAndZeroLeavesTheDefault) {
  const Config c = parse_clean("global_defs { lvs_timeouts udp 10 tcp 0 }");
  EXPECT_EQ(c.timeouts.udp, 10u);
  EXPECT_EQ(c.timeouts.tcp, core::kTcpTimeoutsSec);
  const Config d = parse_clean("global_defs { lvs_timeouts tcpfin 5 }");
  EXPECT_EQ(d.timeouts.tcp[core::kTcpFinWait], 5u);
  EXPECT_EQ(d.timeouts.tcp[core::kTcpEstablished], 900u);
  EXPECT_EQ(d.timeouts.udp, core::kUdpTimeoutSec);
}

TEST(GlobalDefs, LvsTimeoutsErrors) {
  expect_errors("global_defs {\n lvs_timeouts\n}",
                {"t.conf:2:2: 'lvs_timeouts' needs at least one of tcp, tcpfin, udp with seconds"});
  expect_errors("global_defs {\n lvs_timeouts tcp 10 sctp 5\n}",
                {"t.conf:2:22: unknown lvs_timeouts option 'sctp' (expected tcp, tcpfin or udp)"});
  expect_errors("global_defs {\n lvs_timeouts tcp 10 udp\n}",
                {"t.conf:2:22: missing seconds after lvs_timeouts udp"});
  expect_errors("global_defs {\n lvs_timeouts tcp 2678401\n}",
                {"t.conf:2:19: invalid lvs_timeouts tcp '2678401' (expected 0..2678400)"});
  expect_errors("global_defs {\n lvs_timeouts udp 5s\n}",
                {"t.conf:2:19: invalid lvs_timeouts udp '5s' (expected 0..2678400)"});
}

TEST(GlobalDefs, MailSettingsAreAcceptedWithAWarning) {
  const ParseResult r = parse(
      "global_defs {\n"
      "  notification_email {\n"
      "    admin@example.org\n"
      "    \"Ops <ops@example.org>\"\n"
      "  }\n"
      "  notification_email_from lvs@example.org\n"
      "  smtp_server 198.18.0.25 25\n"
      "  smtp_connect_timeout 30\n"
      "  smtp_helo_name lvs\n"
      "  smtp_alert\n"
      "  router_id R\n"
      "}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->router_id, "R");
  EXPECT_THAT(
      messages(r),
      ElementsAre("t.conf:2:3: warning: \"notification_email\" is not used by lvsd; ignored",
                  "t.conf:6:3: warning: \"notification_email_from\" is not used by lvsd; "
                  "ignored",
                  "t.conf:7:3: warning: \"smtp_server\" is not used by lvsd; ignored",
                  "t.conf:8:3: warning: \"smtp_connect_timeout\" is not used by lvsd; "
                  "ignored",
                  "t.conf:9:3: warning: \"smtp_helo_name\" is not used by lvsd; ignored",
                  "t.conf:10:3: warning: \"smtp_alert\" is not used by lvsd; ignored"));
}

// keepalived's other global_defs settings belong to parts lvsd has not built: warnings, so a
// keepalived.conf loads; lvs_flush is what lvsd always does (it starts with an empty table).
TEST(GlobalDefs, OtherKeepalivedKeywordsAreNotYetSupported) {
  const ParseResult r = parse(
      "global_defs {\n  vrrp_strict\n  lvs_sync_daemon eth0 VI_1\n  lvs_flush\n"
      "  script_user nobody\n  enable_snmp_checker\n  bfd_rt_priority 5\n}");
  EXPECT_TRUE(r.ok());
  EXPECT_THAT(messages(r),
              ElementsAre("t.conf:2:3: warning: \"vrrp_strict\" is not yet supported (VRRP); "
                          "ignored",
                          "t.conf:3:3: warning: \"lvs_sync_daemon\" is not yet supported "
                          "(connection sync); ignored",
                          "t.conf:5:3: warning: \"script_user\" is not yet supported; ignored",
                          "t.conf:6:3: warning: \"enable_snmp_checker\" is not yet supported "
                          "(SNMP); ignored",
                          "t.conf:7:3: warning: \"bfd_rt_priority\" is not yet supported "
                          "(BFD); ignored"));
}

TEST(GlobalDefs, LvsFlushTakesNoValue) {
  expect_errors("global_defs {\n  lvs_flush now\n}",
                {"t.conf:2:13: unexpected 'now': 'lvs_flush' takes no value"});
}

TEST(GlobalDefs, UnknownKeywordWithAndWithoutSuggestion) {
  expect_errors("global_defs {\n  router_ib X\n  frobnicate 1\n}",
                {"t.conf:2:3: unknown keyword 'router_ib' in global_defs; did you mean "
                 "'router_id'?",
                 "t.conf:3:3: unknown keyword 'frobnicate' in global_defs"});
}

TEST(GlobalDefs, TakesNoArguments) {
  expect_errors("global_defs x {\n}", {"t.conf:1:13: unexpected 'x': 'global_defs' takes no "
                                       "arguments"});
}

TEST(GlobalDefs, KeywordWithoutBlockGivenOne) {
  expect_errors("global_defs {\n router_id A {\n x\n }\n}",
                {"t.conf:2:14: 'router_id' does not take a block"});
}

TEST(TopLevel, UnknownKeywordSuggestsTheClosest) {
  expect_errors("virtual_sever 198.18.0.1 80 {\n}\nfoo",
                {"t.conf:1:1: unknown keyword 'virtual_sever' at top level; did you mean "
                 "'virtual_server'?",
                 "t.conf:3:1: unknown keyword 'foo' at top level"});
}

TEST(TopLevel, KeepalivedBlocksAreSkippedWithAWarning) {
  const ParseResult r = parse(
      "vrrp_instance VI_1 {\n"
      "  state MASTER\n"
      "  virtual_ipaddress {\n"
      "    198.18.0.1\n"
      "  }\n"
      "}\n"
      "vrrp_script chk { script \"/bin/true\" }\n"
      "static_ipaddress {\n  198.18.0.9/32 dev lo\n}\n"
      "bfd_instance B {\n}\n"
      "SSL {\n  password x\n}\n"
      "use_pid_dir\n"
      "global_defs { router_id after }\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->router_id, "after");
  EXPECT_THAT(
      messages(r),
      ElementsAre(
          "t.conf:1:1: warning: \"vrrp_instance\" is not yet supported (VRRP); block skipped",
          "t.conf:7:1: warning: \"vrrp_script\" is not yet supported (VRRP); block skipped",
          "t.conf:8:1: warning: \"static_ipaddress\" is not yet supported (VRRP); block skipped",
          "t.conf:11:1: warning: \"bfd_instance\" is not yet supported (BFD); block skipped",
          "t.conf:13:1: warning: \"SSL\" is not yet supported (health checks); block skipped",
          "t.conf:16:1: warning: \"use_pid_dir\" is not yet supported; ignored"));
}

// Ignoring these would set up the services in another network namespace than keepalived's.
TEST(TopLevel, NetNamespaceIsRefused) {
  expect_errors("net_namespace blue\nnet_namespace_ipvs red\n",
                {"t.conf:1:1: \"net_namespace\" is not supported by lvsd yet",
                 "t.conf:2:1: \"net_namespace_ipvs\" is not supported by lvsd yet"});
}

TEST(TopLevel, StrayBraces) {
  expect_errors(
      "}\n{ a { b } }\nglobal_defs { }\n}",
      {"t.conf:1:1: unexpected '}'", "t.conf:2:1: unexpected '{'", "t.conf:4:1: unexpected '}'"});
}

TEST(TopLevel, ParameterSubstitutionIsNotSupported) {
  expect_errors("$PORT=80\n@main global_defs {\n}\n~SEQ(i, 1, 3) x\n",
                {"t.conf:1:1: $NAME=value definitions are not supported by lvsd yet",
                 "t.conf:2:1: @ID conditional lines are not supported by lvsd yet",
                 "t.conf:4:1: ~SEQ and ~LST lines are not supported by lvsd yet"});
}

TEST(TopLevel, IncludeNeedsAFile) {
  expect_errors("include other.conf\n",
                {"t.conf:1:1: 'include' needs a configuration file: text has no directory"});
}

TEST(TopLevel, MissingBlockAndEndOfFile) {
  expect_errors("global_defs", {"t.conf:1:12: unexpected end of file: expected '{' after "
                                "'global_defs'"});
  expect_errors("global_defs {\n router_id A\n",
                {"t.conf:2:13: unexpected end of file: 'global_defs' block opened at t.conf:1:13 "
                 "is not closed"});
  expect_errors("global_defs\n router_id A\n}",
                {"t.conf:2:2: expected '{' after 'global_defs', found 'router_id'"});
  // A skipped block must still be closed.
  expect_errors("vrrp_instance V {\n {\n",
                {"t.conf:1:1: warning: \"vrrp_instance\" is not yet supported (VRRP); block "
                 "skipped",
                 "t.conf:2:3: unexpected end of file: block opened at t.conf:1:17 is not closed"});
}

TEST(TopLevel, ErrorsStopAfterAHundred) {
  std::string text;
  for (int i = 0; i < 150; ++i) text += "nonsense\n";
  const ParseResult r = parse(text);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 101u);
  EXPECT_EQ(r.diagnostics[99].to_string(), "t.conf:100:1: unknown keyword 'nonsense' at top level");
  EXPECT_EQ(r.diagnostics[100].to_string(), "t.conf:101:1: too many errors; stopping here");
}

TEST(TopLevel, WarningsAloneKeepTheConfig) {
  const ParseResult r = parse("global_defs { smtp_server x }");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.diagnostics.size(), 1u);
  EXPECT_TRUE(r.diagnostics[0].warning);
}

}  // namespace
}  // namespace lvs::ctl
