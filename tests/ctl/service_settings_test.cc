// Schedulers and their flags, persistence, port 0 services and real server thresholds: what
// keepalived's check_parser.c and check_data.c accept, and what lvsd refuses on top.
#include <netinet/in.h>

#include <array>
#include <string>
#include <string_view>

#include "core/engine.h"
#include "ctl/config.h"
#include "ctl/keywords.h"
#include "sched/flags.h"
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

const VirtualServerConf& only_service(const Config& c) {
  static const VirtualServerConf kNone;
  EXPECT_EQ(c.services.size(), 1u);
  return c.services.empty() ? kNone : c.services[0];
}

// A TCP service at 198.18.0.1:80 with one real server and `body` before it.
std::string tcp_vs(const std::string& body) {
  return "virtual_server 198.18.0.1 80 {\n  protocol TCP\n" + body +
         "  real_server 198.18.1.1 80 {\n  }\n}\n";
}

bool registered(std::string_view name) { return sched::find_scheduler(name) != nullptr; }

std::string not_supported(const std::string& where, std::string_view name) {
  return where + ": scheduler '" + std::string(name) + "' is not supported by lvsd yet " +
         "(available: " + sched::scheduler_names() + ")";
}

// keepalived's lvs_schedulers[] (check_parser.c), written out here so the test does not trust
// the parser's own copy.
constexpr std::array<std::string_view, 14> kKeepalivedSchedulers = {
    "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos"};

core::Engine make_engine() {
  core::EngineConfig ec;
  ec.conn_capacity = 64;
  return core::Engine(ec);
}

// ---------------------------------------------------------------------------------------------
// Schedulers

// Each name keepalived knows is taken exactly when lvs has registered it; the others say "not
// yet" rather than "unknown".
TEST(SchedulerConf, KeepalivedNamesAreAcceptedExactlyWhenRegistered) {
  for (std::string_view name : kKeepalivedSchedulers) {
    const std::string text = tcp_vs("  lb_algo " + std::string(name) + "\n");
    if (registered(name)) {
      EXPECT_EQ(only_service(parse_clean(text)).scheduler, name);
    } else {
      expect_errors(text, {not_supported("t.conf:3:11", name)});
    }
  }
}

// The parser's copy of keepalived's list decides "not supported yet" over "unknown".
TEST(SchedulerConf, TheParserKnowsKeepalivedsList) {
  EXPECT_THAT(keepalived_schedulers(), ::testing::UnorderedElementsAreArray(kKeepalivedSchedulers));
}

// Every registered scheduler, under both keywords, is accepted and sets up an engine.
TEST(SchedulerConf, EveryRegisteredSchedulerSetsUpAService) {
  ASSERT_FALSE(sched::all_schedulers().empty());
  for (const auto& info : sched::all_schedulers()) {
    for (const char* kw : {"lb_algo", "lvs_sched"}) {
      const Config c =
          parse_clean(tcp_vs("  " + std::string(kw) + " " + std::string(info.name) + "\n"));
      EXPECT_EQ(only_service(c).scheduler, info.name);
      auto engine = make_engine();
      const core::Status st = ctl::apply(engine, diff(Config{}, c));
      ASSERT_TRUE(st.ok()) << st.message();
      EXPECT_EQ(engine.snapshot().at(0).sched_name, info.name);
    }
  }
}

TEST(SchedulerConf, UnknownNamesListTheKnownOnes) {
  // Case matters, as keepalived compares with strcmp.
  for (const char* name : {"RR", "fastest", "wlc2", "maglev"}) {
    expect_errors(tcp_vs(std::string("  lb_algo ") + name + "\n"),
                  {std::string("t.conf:3:11: unknown scheduler '") + name +
                   "' (available: " + sched::scheduler_names() + ")"});
  }
}

// ---------------------------------------------------------------------------------------------
// Scheduler flags

TEST(SchedFlagsConf, NoneByDefault) {
  EXPECT_EQ(only_service(parse_clean(tcp_vs(""))).sched_flags, 0u);
}

TEST(SchedFlagsConf, FlagNForAnyScheduler) {
  EXPECT_EQ(only_service(parse_clean(tcp_vs("  lb_algo wrr\n  flag-1\n  flag-3\n"))).sched_flags,
            sched::kSchedFlag1 | sched::kSchedFlag3);
  EXPECT_EQ(only_service(parse_clean(tcp_vs("  flag-2\n  flag-2\n"))).sched_flags,
            sched::kSchedFlag2);
  EXPECT_EQ(only_service(parse_clean(tcp_vs("  flag-1\n  flag-2\n  flag-3\n"))).sched_flags,
            sched::kSchedFlagsMask);
}

// sh-* and mh-* with their own scheduler, before or after lb_algo. Until lvs has the scheduler,
// lb_algo is the one error: the flags add none.
TEST(SchedFlagsConf, ShAndMhFlagsWithTheirScheduler) {
  struct Case {
    const char* sched;
    const char* body;
    uint32_t flags;
  };
  const Case cases[] = {
      {"sh", "  lb_algo sh\n  sh-port\n", sched::kShPort},
      {"sh", "  sh-fallback\n  lb_algo sh\n", sched::kShFallback},
      {"sh", "  lb_algo sh\n  sh-port\n  sh-fallback\n  flag-3\n",
       sched::kShPort | sched::kShFallback | sched::kSchedFlag3},
      {"mh", "  lb_algo mh\n  mh-port\n", sched::kMhPort},
      {"mh", "  mh-fallback\n  mh-port\n  lvs_sched mh\n", sched::kMhFallback | sched::kMhPort},
  };
  for (const Case& c : cases) {
    const std::string text = tcp_vs(c.body);
    if (registered(c.sched)) {
      EXPECT_EQ(only_service(parse_clean(text)).sched_flags, c.flags) << text;
    } else {
      const ParseResult r = parse(text);
      EXPECT_FALSE(r.ok());
      ASSERT_EQ(r.diagnostics.size(), 1u) << text;
      EXPECT_THAT(r.diagnostics[0].message,
                  ::testing::StartsWith("scheduler '" + std::string(c.sched) + "' is not"));
    }
  }
  // The same bits as flag-1 and flag-2, which is what ipvsadm -b sends for them.
  EXPECT_EQ(sched::kShFallback, sched::kSchedFlag1);
  EXPECT_EQ(sched::kShPort, sched::kSchedFlag2);
  EXPECT_EQ(sched::kMhFallback, sched::kSchedFlag1);
  EXPECT_EQ(sched::kMhPort, sched::kSchedFlag2);
}

// keepalived: "sh-port only applies to sh scheduler - ignoring", an error; lvsd refuses too.
TEST(SchedFlagsConf, ShAndMhFlagsNeedTheirScheduler) {
  expect_errors(tcp_vs("  lb_algo rr\n  sh-port\n  mh-fallback\n"),
                {"t.conf:4:3: sh-port only applies to the sh scheduler (this virtual_server uses "
                 "rr)",
                 "t.conf:5:3: mh-fallback only applies to the mh scheduler (this virtual_server "
                 "uses rr)"});
  // Without lb_algo the service uses wlc.
  expect_errors(tcp_vs("  sh-fallback\n"),
                {"t.conf:3:3: sh-fallback only applies to the sh scheduler (this virtual_server "
                 "uses wlc)"});
  // The last lb_algo counts, wherever the flag stands.
  expect_errors(tcp_vs("  mh-port\n  lb_algo rr\n  lb_algo wrr\n"),
                {"t.conf:3:3: mh-port only applies to the mh scheduler (this virtual_server uses "
                 "wrr)"});
  std::vector<std::string> sh_mh = {
      "t.conf:4:3: mh-port only applies to the mh scheduler (this virtual_server uses sh)"};
  if (!registered("sh")) sh_mh.insert(sh_mh.begin(), not_supported("t.conf:3:11", "sh"));
  expect_errors(tcp_vs("  lb_algo sh\n  mh-port\n"), sh_mh);
}

TEST(SchedFlagsConf, TakeNoValueAndNoBlock) {
  expect_errors(tcp_vs("  flag-1 on\n  sh-port yes\n  flag-2 {\n  }\n"),
                {"t.conf:3:10: unexpected 'on': 'flag-1' takes no value",
                 "t.conf:4:11: unexpected 'yes': 'sh-port' takes no value",
                 "t.conf:5:10: 'flag-2' does not take a block"});
  expect_errors(tcp_vs("  flag-4\n  sh_port\n"),
                {"t.conf:3:3: unknown keyword 'flag-4' in virtual_server; did you mean 'flag-1'?",
                 "t.conf:4:3: unknown keyword 'sh_port' in virtual_server; did you mean "
                 "'sh-port'?"});
}

// ---------------------------------------------------------------------------------------------
// Persistence

TEST(PersistenceConf, OffByDefaultWithOneClientGranularity) {
  const VirtualServerConf v4 = only_service(parse_clean(tcp_vs("")));
  EXPECT_EQ(v4.persistence_timeout, 0u);
  EXPECT_EQ(v4.persistence_prefix, 32);
  const VirtualServerConf v6 = only_service(parse_clean(
      "virtual_server 2001:db8::10 443 {\n protocol TCP\n real_server 2001:db8::1 {\n }\n}\n"));
  EXPECT_EQ(v6.persistence_timeout, 0u);
  EXPECT_EQ(v6.persistence_prefix, 128);
}

// keepalived's pto_handler: no value is IPVS_SVC_PERSISTENT_TIMEOUT (6 minutes); a value is
// 1..LVS_MAX_TIMEOUT (31 days).
TEST(PersistenceConf, Timeout) {
  const auto timeout = [](const std::string& v) {
    return only_service(parse_clean(tcp_vs("  persistence_timeout" + v + "\n")))
        .persistence_timeout;
  };
  EXPECT_EQ(timeout(""), 360u);
  EXPECT_EQ(timeout(" 1"), 1u);
  EXPECT_EQ(timeout(" 50"), 50u);
  EXPECT_EQ(timeout(" 2678400"), 2678400u);
  EXPECT_EQ(only_service(parse_clean(tcp_vs("  persistence_timeout 50\n"))).persistence_prefix, 32);
  for (const char* bad : {"0", "2678401", "-1", "5m", "1.5", "99999999999999999999999"}) {
    expect_errors(tcp_vs(std::string("  persistence_timeout ") + bad + "\n"),
                  {std::string("t.conf:3:23: invalid persistence_timeout '") + bad +
                   "' (expected 1..2678400)"});
  }
  expect_errors(tcp_vs("  persistence_timeout 60 120\n"),
                {"t.conf:3:26: unexpected '120': 'persistence_timeout' takes one value"});
  expect_errors(tcp_vs("  persistence_timeout {\n  }\n"),
                {"t.conf:3:23: 'persistence_timeout' does not take a block"});
}

// keepalived's pgr_handler: an IPv4 netmask; lvsd keeps it as a prefix length.
TEST(PersistenceConf, Ipv4GranularityIsANetmask) {
  const struct {
    const char* mask;
    uint8_t prefix;
  } cases[] = {{"255.255.255.255", 32}, {"255.255.255.0", 24}, {"255.255.254.0", 23},
               {"255.0.0.0", 8},        {"128.0.0.0", 1},      {"0.0.0.0", 0}};
  for (const auto& c : cases) {
    const VirtualServerConf vs = only_service(parse_clean(tcp_vs(
        "  persistence_timeout 600\n  persistence_granularity " + std::string(c.mask) + "\n")));
    EXPECT_EQ(vs.persistence_prefix, c.prefix) << c.mask;
    EXPECT_EQ(vs.persistence_timeout, 600u);
  }
}

TEST(PersistenceConf, Ipv4GranularityErrors) {
  // IPVS would take a mask with holes, but the engine keeps a prefix length.
  for (const char* bad : {"255.0.255.0", "0.255.255.255", "255.255.255.1"}) {
    expect_errors(tcp_vs(std::string("  persistence_granularity ") + bad + "\n"),
                  {std::string("t.conf:3:27: IPv4 persistence_granularity '") + bad +
                   "' is not a contiguous netmask"});
  }
  // A bare number would be an address to keepalived (24 is 0.0.0.24): refused.
  for (const char* bad : {"24", "/24", "255.255.255", "255.255.255.0/24", "ffff:ffff::", "mask"}) {
    expect_errors(tcp_vs(std::string("  persistence_granularity ") + bad + "\n"),
                  {std::string("t.conf:3:27: invalid IPv4 persistence_granularity '") + bad +
                   "' (expected a netmask such as 255.255.255.0)"});
  }
  expect_errors(tcp_vs("  persistence_granularity\n"),
                {"t.conf:3:3: 'persistence_granularity' needs a netmask (IPv4) or a prefix "
                 "length (IPv6)"});
  expect_errors(tcp_vs("  persistence_granularity 255.255.255.0 255.255.0.0\n"),
                {"t.conf:3:41: unexpected '255.255.0.0': 'persistence_granularity' takes a "
                 "netmask (IPv4) or a prefix length (IPv6)"});
}

// For IPv6 keepalived reads a prefix length, 1..128 (IPVS refuses 0).
TEST(PersistenceConf, Ipv6GranularityIsAPrefixLength) {
  const auto v6 = [](const std::string& g) {
    return "virtual_server 2001:db8::10 443 {\n protocol TCP\n persistence_granularity " + g +
           "\n real_server 2001:db8::1 {\n }\n}\n";
  };
  for (uint8_t p : {1, 48, 64, 128}) {
    const VirtualServerConf vs = only_service(parse_clean(v6(std::to_string(p))));
    EXPECT_EQ(vs.persistence_prefix, p);
    EXPECT_EQ(vs.persistence_timeout, 360u);
  }
  for (const char* bad : {"0", "129", "255.255.255.0", "ffff:ffff:ffff:ffff::", "/64"}) {
    expect_errors(v6(bad), {std::string("t.conf:3:26: invalid IPv6 persistence_granularity '") +
                            bad + "' (expected 1..128)"});
  }
}

// keepalived sets the default timeout when persistence_granularity comes without one.
TEST(PersistenceConf, GranularityAloneMakesTheServicePersistent) {
  const VirtualServerConf a =
      only_service(parse_clean(tcp_vs("  persistence_granularity 255.255.0.0\n")));
  EXPECT_EQ(a.persistence_timeout, 360u);
  EXPECT_EQ(a.persistence_prefix, 16);
  // A timeout given before or after it wins.
  const VirtualServerConf b = only_service(
      parse_clean(tcp_vs("  persistence_granularity 255.255.0.0\n  persistence_timeout 30\n")));
  EXPECT_EQ(b.persistence_timeout, 30u);
  const VirtualServerConf c = only_service(
      parse_clean(tcp_vs("  persistence_timeout 30\n  persistence_granularity 255.255.0.0\n")));
  EXPECT_EQ(c.persistence_timeout, 30u);
  EXPECT_EQ(c.persistence_prefix, 16);
}

// A fwmark service reads the granularity in its family: ip_family, else its real servers'.
TEST(PersistenceConf, FwmarkGranularityFollowsTheServiceFamily) {
  const Config c = parse_clean(
      "virtual_server fwmark 1 {\n persistence_granularity 64\n"
      " real_server 2001:db8::1 {\n }\n}\n"
      "virtual_server fwmark 1 {\n persistence_granularity 255.255.255.0\n"
      " real_server 198.18.1.1 {\n }\n}\n");
  ASSERT_EQ(c.services.size(), 2u);
  EXPECT_EQ(c.services[0].key, core::ServiceKey::fwmark_key(net::Family::kV6, 1));
  EXPECT_EQ(c.services[0].persistence_prefix, 64);
  EXPECT_EQ(c.services[0].persistence_timeout, 360u);
  EXPECT_EQ(c.services[1].key, core::ServiceKey::fwmark_key(net::Family::kV4, 1));
  EXPECT_EQ(c.services[1].persistence_prefix, 24);
  expect_errors(
      "virtual_server fwmark 2 {\n persistence_granularity 255.255.255.0\n"
      " real_server 2001:db8::1 {\n }\n}\n"
      "virtual_server fwmark 3 {\n ip_family inet\n persistence_granularity 64\n"
      " real_server 198.18.1.1 {\n }\n}\n",
      {"t.conf:2:26: invalid IPv6 persistence_granularity '255.255.255.0' (expected 1..128)",
       "t.conf:8:26: invalid IPv4 persistence_granularity '64' (expected a netmask such as "
       "255.255.255.0)"});
  // With nothing else to go by, the granularity's form tells the family, as in keepalived.
  const ParseResult r = parse("virtual_server fwmark 4 {\n persistence_granularity 64\n}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(messages(r), ElementsAre("t.conf:1:1: warning: virtual_server FWM 4 IPv6 has no "
                                       "real_server; ignored, as keepalived does"));
}

TEST(PersistenceConf, EngineIsNotSupportedYet) {
  expect_errors(tcp_vs("  persistence_engine sip\n"),
                {"t.conf:3:3: \"persistence_engine\" is not supported by lvsd yet"});
}

// ---------------------------------------------------------------------------------------------
// Port 0: all ports

TEST(PortZeroConf, PersistentServicesMayOmitThePort) {
  const Config c = parse_clean(
      "virtual_server 198.18.0.1 0 {\n protocol TCP\n persistence_timeout 600\n"
      " real_server 198.18.1.1 {\n }\n real_server 198.18.1.2 8080 {\n }\n}\n"
      "virtual_server 198.18.0.2 {\n protocol TCP\n persistence_granularity 255.255.255.0\n"
      " real_server 198.18.1.1 {\n }\n}\n"
      "virtual_server 2001:db8::10 000 {\n protocol UDP\n persistence_timeout\n"
      " real_server 2001:db8::1 {\n }\n}\n");
  ASSERT_EQ(c.services.size(), 3u);
  EXPECT_EQ(c.services[0].key.port, 0);
  EXPECT_EQ(c.services[0].persistence_timeout, 600u);
  // NAT: no port keeps the client's; a given port is used.
  EXPECT_EQ(c.services[0].real_servers[0].port, 0);
  EXPECT_EQ(c.services[0].real_servers[1].port, 8080);
  EXPECT_EQ(c.services[1].key.port, 0);
  EXPECT_EQ(c.services[1].persistence_timeout, 360u);
  EXPECT_EQ(c.services[1].persistence_prefix, 24);
  EXPECT_EQ(c.services[2].key.addr, ip("2001:db8::10"));
  EXPECT_EQ(c.services[2].key.port, 0);
  EXPECT_EQ(c.services[2].persistence_timeout, 360u);
  // Port 0 and port 80 on the same address are different services.
  EXPECT_EQ(parse_clean("virtual_server 198.18.0.1 {\n protocol TCP\n persistence_timeout\n"
                        " real_server 198.18.1.1 {\n }\n}\n" +
                        tcp_vs(""))
                .services.size(),
            2u);
}

TEST(PortZeroConf, DrKeepsTheClientPort) {
  const ParseResult r = parse(
      "virtual_server 198.18.0.1 0 {\n protocol TCP\n lb_kind DR\n persistence_timeout 60\n"
      " real_server 198.18.1.1 {\n }\n real_server 198.18.1.2 443 {\n }\n}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(messages(r), ElementsAre("t.conf:7:25: warning: port 443 is ignored: DR real "
                                       "servers of port 0 services keep the client's port"));
  for (const auto& rs : r.config->services[0].real_servers) EXPECT_EQ(rs.port, 0);
}

// keepalived: "zero port only valid for persistent services - setting" (an error, after which it
// makes the service persistent); IPVS refuses it. lvsd refuses.
TEST(PortZeroConf, RefusedWithoutPersistence) {
  const std::string msg =
      "port 0 (all ports) is only valid for persistent services; add persistence_timeout";
  expect_errors("virtual_server 198.18.0.1 0 {\n protocol TCP\n real_server 198.18.1.1 {\n }\n}\n",
                {"t.conf:1:27: " + msg});
  expect_errors("virtual_server 198.18.0.1 {\n protocol TCP\n real_server 198.18.1.1 {\n }\n}\n",
                {"t.conf:1:16: " + msg});
  expect_errors(
      "virtual_server 2001:db8::10 00 {\n protocol TCP\n real_server 2001:db8::1 {\n }\n}\n",
      {"t.conf:1:29: " + msg});
  // A wrong persistence_timeout is the one error.
  expect_errors(
      "virtual_server 198.18.0.1 0 {\n persistence_timeout 0\n real_server 198.18.1.1 {\n }\n}\n",
      {"t.conf:2:22: invalid persistence_timeout '0' (expected 1..2678400)"});
  // keepalived drops a service without real servers before it looks at the port.
  const ParseResult r = parse("virtual_server 198.18.0.1 0 {\n protocol TCP\n}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(messages(r), ElementsAre("t.conf:1:1: warning: virtual_server TCP 198.18.0.1:0 has "
                                       "no real_server; ignored, as keepalived does"));
}

TEST(PortZeroConf, SetsUpAnEngine) {
  const Config c = parse_clean(
      "virtual_server 198.18.0.1 {\n protocol TCP\n persistence_timeout 90\n"
      " persistence_granularity 255.255.255.0\n"
      " real_server 198.18.1.1 {\n }\n real_server 198.18.1.2 8080 {\n }\n}\n");
  auto engine = make_engine();
  const core::Status st = ctl::apply(engine, diff(Config{}, c));
  ASSERT_TRUE(st.ok()) << st.message();
  const auto snap = engine.snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].key.port, 0);
  EXPECT_EQ(snap[0].persistence_timeout, 90u);
  EXPECT_EQ(snap[0].persistence_prefix, 24);
  ASSERT_EQ(snap[0].dests.size(), 2u);
}

// ---------------------------------------------------------------------------------------------
// Thresholds

TEST(ThresholdsConf, ReachTheRealServer) {
  const Config c = parse_clean(tcp_vs("") +
                               "virtual_server 198.18.0.2 80 {\n protocol TCP\n"
                               " real_server 198.18.1.1 80 {\n"
                               "  lthreshold 4294967295\n  uthreshold 4294967295\n"
                               " }\n real_server 198.18.1.2 80 {\n"
                               "  uthreshold 100\n  lthreshold 100\n }\n"
                               " real_server 198.18.1.3 80 {\n  uthreshold 7\n }\n}\n");
  ASSERT_EQ(c.services.size(), 2u);
  const auto& rs = c.services[1].real_servers;
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[0].u_threshold, 4294967295u);
  EXPECT_EQ(rs[0].l_threshold, 4294967295u);
  EXPECT_EQ(rs[1].u_threshold, 100u);
  EXPECT_EQ(rs[1].l_threshold, 100u);
  EXPECT_EQ(rs[2].u_threshold, 7u);
  EXPECT_EQ(rs[2].l_threshold, 0u);
  auto engine = make_engine();
  ASSERT_TRUE(ctl::apply(engine, diff(Config{}, c)).ok());
  int seen = 0;
  for (const auto& s : engine.snapshot()) {
    if (s.key.addr != ip("198.18.0.2")) continue;
    ASSERT_EQ(s.dests.size(), 3u);
    for (const auto& d : s.dests) {
      if (d.addr == ip("198.18.1.2")) {
        EXPECT_EQ(d.u_threshold, 100u);
        EXPECT_EQ(d.l_threshold, 100u);
        ++seen;
      } else if (d.addr == ip("198.18.1.3")) {
        EXPECT_EQ(d.u_threshold, 7u);
        EXPECT_EQ(d.l_threshold, 0u);
        ++seen;
      }
    }
  }
  EXPECT_EQ(seen, 2);
}

// keepalived passes any pair on; IPVS's ip_vs_add_dest refuses l_threshold > u_threshold.
TEST(ThresholdsConf, LowerAboveUpperIsRefused) {
  expect_errors(tcp_vs("") +
                    "virtual_server 198.18.0.2 80 {\n protocol TCP\n"
                    " real_server 198.18.1.1 80 {\n  uthreshold 50\n  lthreshold 100\n }\n"
                    " real_server 198.18.1.2 80 {\n  lthreshold 5\n }\n}\n",
                {"t.conf:10:14: lthreshold 100 is above uthreshold 50 (IPVS refuses a lower "
                 "threshold above the upper one)",
                 "t.conf:13:14: lthreshold 5 needs an uthreshold of at least 5 (IPVS refuses a "
                 "lower threshold above the upper one)"});
}

}  // namespace
}  // namespace lvs::ctl
