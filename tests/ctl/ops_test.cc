// diff() between desired states, and apply() onto a real engine.
#include <netinet/in.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "core/engine.h"
#include "ctl/api_ops.h"
#include "ctl/config.h"
#include "sched/flags.h"
#include "test_util.h"

namespace lvs::ctl {
namespace {

using test::ip;
using test::parse_clean;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> show(const std::vector<Op>& ops) {
  std::vector<std::string> out;
  for (const auto& op : ops) out.push_back(op.to_string());
  return out;
}

// A service at 198.18.0.<n>:80/TCP with the given body (scheduler, method, servers).
std::string vs(int n, const std::string& body) {
  return "virtual_server 198.18.0." + std::to_string(n) + " 80 {\n  protocol TCP\n" + body + "}\n";
}
std::string rs(int n, int weight = 1, const std::string& extra = "") {
  return "  real_server 198.18.1." + std::to_string(n) + " 80 {\n    weight " +
         std::to_string(weight) + "\n" + extra + "  }\n";
}

const std::string kBase = vs(1, "  lb_algo rr\n" + rs(1) + rs(2, 2));

TEST(Diff, FromNothingIsTheFullSetUpInConfigOrder) {
  const Config c =
      parse_clean(kBase + vs(2, rs(3)) +
                  "virtual_server fwmark 7 {\n lb_kind DR\n"
                  " real_server 2001:db8::1 {\n  uthreshold 10\n  lthreshold 5\n }\n}\n");
  EXPECT_THAT(
      show(diff(Config{}, c)),
      ElementsAre("add service TCP 198.18.0.1:80 (rr)",
                  "add real server 198.18.1.1:80 to TCP 198.18.0.1:80 (Masq, weight 1)",
                  "add real server 198.18.1.2:80 to TCP 198.18.0.1:80 (Masq, weight 2)",
                  "add service TCP 198.18.0.2:80 (wlc)",
                  "add real server 198.18.1.3:80 to TCP 198.18.0.2:80 (Masq, weight 1)",
                  "add service FWM 7 IPv6 (wlc)",
                  "add real server 2001:db8::1 to FWM 7 IPv6 (Route, weight 1, uthreshold 10, "
                  "lthreshold 5)"));
}

TEST(Diff, IdentityIsNoOp) {
  const Config c = parse_clean(kBase + vs(2, rs(3)));
  EXPECT_THAT(diff(c, c), IsEmpty());
  EXPECT_THAT(diff(Config{}, Config{}), IsEmpty());
}

TEST(Diff, ToNothingDeletesServicesOnly) {
  const Config c = parse_clean(kBase + vs(2, rs(3)));
  EXPECT_THAT(show(diff(c, Config{})),
              ElementsAre("delete service TCP 198.18.0.1:80", "delete service TCP 198.18.0.2:80"));
}

struct DiffCase {
  const char* name;
  std::string to;
  std::vector<std::string> ops;
};

class DiffTable : public ::testing::TestWithParam<DiffCase> {};

TEST_P(DiffTable, FromBase) {
  const Config from = parse_clean(kBase);
  const Config to = parse_clean(GetParam().to);
  EXPECT_THAT(show(diff(from, to)), ::testing::ElementsAreArray(GetParam().ops));
}

INSTANTIATE_TEST_SUITE_P(
    Ops, DiffTable,
    ::testing::Values(
        DiffCase{"AddServer",
                 vs(1, "  lb_algo rr\n" + rs(1) + rs(2, 2) + rs(3)),
                 {"add real server 198.18.1.3:80 to TCP 198.18.0.1:80 (Masq, weight 1)"}},
        DiffCase{"RemoveServer",
                 vs(1, "  lb_algo rr\n" + rs(2, 2)),
                 {"delete real server 198.18.1.1:80 from TCP 198.18.0.1:80"}},
        DiffCase{"Reweight",
                 vs(1, "  lb_algo rr\n" + rs(1, 5) + rs(2, 2)),
                 {"edit real server 198.18.1.1:80 of TCP 198.18.0.1:80 (Masq, weight 5)"}},
        DiffCase{"Thresholds",
                 vs(1, "  lb_algo rr\n" + rs(1, 1, "    uthreshold 9\n") + rs(2, 2)),
                 {"edit real server 198.18.1.1:80 of TCP 198.18.0.1:80 (Masq, weight 1, "
                  "uthreshold 9)"}},
        DiffCase{"ChangeScheduler",
                 vs(1, "  lb_algo wlc\n" + rs(1) + rs(2, 2)),
                 {"edit service TCP 198.18.0.1:80 (wlc)"}},
        // Same port: the server stays and changes method.
        DiffCase{"ChangeMethod",
                 vs(1, "  lb_algo rr\n  lb_kind DR\n" + rs(1) + rs(2, 2)),
                 {"edit real server 198.18.1.1:80 of TCP 198.18.0.1:80 (Route, weight 1)",
                  "edit real server 198.18.1.2:80 of TCP 198.18.0.1:80 (Route, weight 2)"}},
        // Replacing every server: the new ones come in before the old ones go.
        DiffCase{"ReplaceAllServers",
                 vs(1, "  lb_algo rr\n" + rs(3) + rs(4)),
                 {"add real server 198.18.1.3:80 to TCP 198.18.0.1:80 (Masq, weight 1)",
                  "add real server 198.18.1.4:80 to TCP 198.18.0.1:80 (Masq, weight 1)",
                  "delete real server 198.18.1.1:80 from TCP 198.18.0.1:80",
                  "delete real server 198.18.1.2:80 from TCP 198.18.0.1:80"}},
        DiffCase{"AddService",
                 kBase + vs(2, rs(1)),
                 {"add service TCP 198.18.0.2:80 (wlc)",
                  "add real server 198.18.1.1:80 to TCP 198.18.0.2:80 (Masq, weight 1)"}},
        // A service's key changes: the old one goes first.
        DiffCase{"MoveService",
                 vs(2, "  lb_algo rr\n" + rs(1) + rs(2, 2)),
                 {"delete service TCP 198.18.0.1:80", "add service TCP 198.18.0.2:80 (rr)",
                  "add real server 198.18.1.1:80 to TCP 198.18.0.2:80 (Masq, weight 1)",
                  "add real server 198.18.1.2:80 to TCP 198.18.0.2:80 (Masq, weight 2)"}},
        // Scheduler flags and persistence are service settings: an edit, servers untouched.
        DiffCase{"SchedFlags",
                 vs(1, "  lb_algo rr\n  flag-1\n  flag-3\n" + rs(1) + rs(2, 2)),
                 {"edit service TCP 198.18.0.1:80 (rr, flag-1, flag-3)"}},
        DiffCase{"Persistence",
                 vs(1, "  lb_algo rr\n  persistence_timeout 300\n" + rs(1) + rs(2, 2)),
                 {"edit service TCP 198.18.0.1:80 (rr, persistent 300)"}},
        DiffCase{
            "Granularity",
            vs(1, "  lb_algo rr\n  persistence_granularity 255.255.240.0\n" + rs(1) + rs(2, 2)),
            {"edit service TCP 198.18.0.1:80 (rr, persistent 360, mask 255.255.240.0)"}},
        DiffCase{"SchedulerAndPersistence",
                 vs(1, "  lb_algo wrr\n  persistence_timeout\n  flag-2\n" + rs(1) + rs(2, 2)),
                 {"edit service TCP 198.18.0.1:80 (wrr, flag-2, persistent 360)"}},
        // Port 0 is another service.
        DiffCase{
            "PortZero",
            "virtual_server 198.18.0.1 0 {\n  protocol TCP\n  lb_algo rr\n"
            "  persistence_timeout 60\n" +
                rs(1) + rs(2, 2) + "}\n",
            {"delete service TCP 198.18.0.1:80", "add service TCP 198.18.0.1:0 (rr, persistent 60)",
             "add real server 198.18.1.1:80 to TCP 198.18.0.1:0 (Masq, weight 1)",
             "add real server 198.18.1.2:80 to TCP 198.18.0.1:0 (Masq, weight 2)"}},
        DiffCase{"Everything",
                 vs(1, "  lb_algo wrr\n" + rs(2, 3) + rs(5)) + vs(3, rs(1)),
                 {"edit service TCP 198.18.0.1:80 (wrr)",
                  "edit real server 198.18.1.2:80 of TCP 198.18.0.1:80 (Masq, weight 3)",
                  "add real server 198.18.1.5:80 to TCP 198.18.0.1:80 (Masq, weight 1)",
                  "add service TCP 198.18.0.3:80 (wlc)",
                  "add real server 198.18.1.1:80 to TCP 198.18.0.3:80 (Masq, weight 1)",
                  "delete real server 198.18.1.1:80 from TCP 198.18.0.1:80"}}),
    [](const auto& i) { return std::string(i.param.name); });

// From a persistent service: each setting on its own is an edit; an equal one is none.
TEST(Diff, PersistenceChanges) {
  const std::string servers = rs(1) + rs(2, 2);
  const Config from = parse_clean(
      vs(1, "  persistence_timeout 600\n  persistence_granularity 255.255.255.0\n" + servers));
  const auto ops_to = [&](const std::string& body) {
    return show(diff(from, parse_clean(vs(1, body + servers))));
  };
  EXPECT_THAT(ops_to("  persistence_granularity 255.255.255.0\n  persistence_timeout 600\n"),
              IsEmpty());
  EXPECT_THAT(ops_to("  persistence_timeout 600\n  persistence_granularity 255.255.255.128\n"),
              ElementsAre("edit service TCP 198.18.0.1:80 (wlc, persistent 600, mask "
                          "255.255.255.128)"));
  EXPECT_THAT(ops_to("  persistence_timeout 60\n  persistence_granularity 255.255.255.0\n"),
              ElementsAre("edit service TCP 198.18.0.1:80 (wlc, persistent 60, mask "
                          "255.255.255.0)"));
  // One client per template again: /32, which needs no mask.
  EXPECT_THAT(ops_to("  persistence_timeout 600\n"),
              ElementsAre("edit service TCP 198.18.0.1:80 (wlc, persistent 600)"));
  EXPECT_THAT(ops_to(""), ElementsAre("edit service TCP 198.18.0.1:80 (wlc)"));
  // A granularity of the whole address is the same as none.
  EXPECT_THAT(
      show(diff(parse_clean(vs(1, "  persistence_timeout\n" + servers)),
                parse_clean(vs(1, "  persistence_granularity 255.255.255.255\n" + servers)))),
      IsEmpty());
}

TEST(Diff, NatToDrWithAnotherPortIsANewServer) {
  const Config from = parse_clean(vs(1, "  real_server 198.18.1.1 8080 {\n  }\n"));
  const Config to = parse_clean(vs(1, "  lb_kind DR\n  real_server 198.18.1.1 {\n  }\n"));
  EXPECT_THAT(show(diff(from, to)),
              ElementsAre("add real server 198.18.1.1:80 to TCP 198.18.0.1:80 (Route, weight 1)",
                          "delete real server 198.18.1.1:8080 from TCP 198.18.0.1:80"));
}

TEST(Op, ToStringOfEveryKind) {
  Op op{Op::Kind::kDelService, {}, {}};
  op.service.key.proto = IPPROTO_UDP;
  op.service.key.addr = ip("2001:db8::10");
  op.service.key.port = 53;
  EXPECT_EQ(op.to_string(), "delete service UDP [2001:db8::10]:53");
  op.kind = Op::Kind::kEditService;
  op.service.scheduler = "rr";
  EXPECT_EQ(op.to_string(), "edit service UDP [2001:db8::10]:53 (rr)");
  op.service.persistence_timeout = 360;
  op.service.persistence_prefix = 64;
  EXPECT_EQ(op.to_string(), "edit service UDP [2001:db8::10]:53 (rr, persistent 360, mask 64)");
  op.service.persistence_prefix = 128;
  EXPECT_EQ(op.to_string(), "edit service UDP [2001:db8::10]:53 (rr, persistent 360)");
  op.service.persistence_timeout = 0;
  op.kind = Op::Kind::kDelDest;
  op.dest.addr = ip("2001:db8::1");
  op.dest.port = 5353;
  EXPECT_EQ(op.to_string(), "delete real server [2001:db8::1]:5353 from UDP [2001:db8::10]:53");
}

// Flags are named as the scheduler knows them, as ipvsadm -L does.
TEST(Op, ToStringNamesSchedulerFlags) {
  Op op{Op::Kind::kAddService, {}, {}};
  op.service.key.proto = IPPROTO_TCP;
  op.service.key.addr = ip("198.18.0.1");
  op.service.key.port = 443;
  op.service.sched_flags = sched::kSchedFlagsMask;
  op.service.scheduler = "sh";
  EXPECT_EQ(op.to_string(), "add service TCP 198.18.0.1:443 (sh, sh-fallback, sh-port, flag-3)");
  op.service.scheduler = "mh";
  op.service.sched_flags = sched::kMhPort;
  EXPECT_EQ(op.to_string(), "add service TCP 198.18.0.1:443 (mh, mh-port)");
  op.service.scheduler = "wrr";
  op.service.sched_flags = sched::kSchedFlag1 | sched::kSchedFlag2;
  EXPECT_EQ(op.to_string(), "add service TCP 198.18.0.1:443 (wrr, flag-1, flag-2)");
  op.service.persistence_timeout = 2678400;
  op.service.persistence_prefix = 0;
  EXPECT_EQ(op.to_string(),
            "add service TCP 198.18.0.1:443 (wrr, flag-1, flag-2, persistent 2678400, mask "
            "0.0.0.0)");
  op.service.sched_flags = 0;
  op.service.persistence_prefix = 31;
  EXPECT_EQ(op.to_string(),
            "add service TCP 198.18.0.1:443 (wrr, persistent 2678400, mask 255.255.255.254)");
}

// ---------------------------------------------------------------------------------------------
// apply()

using DestRow = std::tuple<std::string, uint16_t, core::Fwd, int32_t>;
// A service's settings beyond its scheduler: flags, persistence timeout and prefix.
using SvcSettings = std::tuple<uint32_t, uint32_t, unsigned>;

core::Engine make_engine() {
  core::EngineConfig ec;
  ec.conn_capacity = 64;
  return core::Engine(ec);
}

// The engine's state, sorted: (service, scheduler, its servers sorted).
std::vector<std::tuple<std::string, std::string, std::vector<DestRow>>> state(
    const core::Engine& e) {
  std::vector<std::tuple<std::string, std::string, std::vector<DestRow>>> out;
  for (const auto& s : e.snapshot()) {
    std::vector<DestRow> dests;
    for (const auto& d : s.dests) dests.emplace_back(d.addr.to_string(), d.port, d.fwd, d.weight);
    std::sort(dests.begin(), dests.end());
    out.emplace_back(s.key.to_string(), s.sched_name, std::move(dests));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The rest of what a reload must carry over: service settings and server thresholds.
std::vector<std::tuple<std::string, SvcSettings,
                       std::vector<std::tuple<std::string, uint16_t, uint32_t, uint32_t>>>>
settings(const core::Engine& e) {
  std::vector<std::tuple<std::string, SvcSettings,
                         std::vector<std::tuple<std::string, uint16_t, uint32_t, uint32_t>>>>
      out;
  for (const auto& s : e.snapshot()) {
    std::vector<std::tuple<std::string, uint16_t, uint32_t, uint32_t>> dests;
    for (const auto& d : s.dests) {
      dests.emplace_back(d.addr.to_string(), d.port, d.u_threshold, d.l_threshold);
    }
    std::sort(dests.begin(), dests.end());
    out.emplace_back(s.key.to_string(),
                     SvcSettings{s.sched_flags, s.persistence_timeout, s.persistence_prefix},
                     std::move(dests));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Apply, SetUpMatchesTheConfig) {
  const Config c = parse_clean(kBase +
                               "virtual_server 198.18.0.2 53 {\n protocol UDP\n lb_kind DR\n"
                               " real_server 198.18.1.7 5353 {\n  lvs_method NAT\n }\n"
                               " real_server 198.18.1.8 {\n  weight 0\n }\n}\n");
  auto engine = make_engine();
  ASSERT_TRUE(ctl::apply(engine, diff(Config{}, c)).ok());
  using R = DestRow;
  EXPECT_THAT(state(engine),
              ElementsAre(std::make_tuple("TCP 198.18.0.1:80", "rr",
                                          std::vector<R>{R{"198.18.1.1", 80, core::Fwd::kNat, 1},
                                                         R{"198.18.1.2", 80, core::Fwd::kNat, 2}}),
                          std::make_tuple("UDP 198.18.0.2:53", "wlc",
                                          std::vector<R>{R{"198.18.1.7", 5353, core::Fwd::kNat, 1},
                                                         R{"198.18.1.8", 53, core::Fwd::kDr, 0}})));
}

TEST(Apply, ReloadEndsInTheSameStateAsAFreshSetUp) {
  const Config a = parse_clean(kBase + vs(2, rs(3)) + vs(4, rs(1)));
  const Config b = parse_clean(vs(1, "  lb_algo wrr\n  lb_kind DR\n" + rs(2, 3) + rs(5)) +
                               vs(3, rs(1)) + vs(4, rs(1, 4)));
  auto reloaded = make_engine();
  ASSERT_TRUE(ctl::apply(reloaded, diff(Config{}, a)).ok());
  ASSERT_TRUE(ctl::apply(reloaded, diff(a, b)).ok());
  auto fresh = make_engine();
  ASSERT_TRUE(ctl::apply(fresh, diff(Config{}, b)).ok());
  EXPECT_EQ(state(reloaded), state(fresh));
  // And back.
  ASSERT_TRUE(ctl::apply(reloaded, diff(b, a)).ok());
  auto fresh_a = make_engine();
  ASSERT_TRUE(ctl::apply(fresh_a, diff(Config{}, a)).ok());
  EXPECT_EQ(state(reloaded), state(fresh_a));
}

TEST(Apply, FlagsPersistenceAndThresholdsReachTheEngine) {
  const Config c = parse_clean(
      vs(1,
         "  lb_algo wrr\n  flag-2\n  persistence_timeout 900\n"
         "  persistence_granularity 255.255.0.0\n" +
             rs(1, 1, "    uthreshold 100\n    lthreshold 80\n") + rs(2)) +
      "virtual_server 2001:db8::10 443 {\n protocol TCP\n persistence_granularity 56\n"
      " real_server 2001:db8::1 {\n }\n}\n"
      "virtual_server fwmark 5 {\n flag-1\n flag-3\n real_server 198.18.1.9 {\n }\n}\n");
  auto engine = make_engine();
  const core::Status st = ctl::apply(engine, diff(Config{}, c));
  ASSERT_TRUE(st.ok()) << st.message();
  using D = std::tuple<std::string, uint16_t, uint32_t, uint32_t>;
  EXPECT_THAT(
      settings(engine),
      ElementsAre(
          std::make_tuple("FWM 5", SvcSettings{sched::kSchedFlag1 | sched::kSchedFlag3, 0, 32},
                          std::vector<D>{D{"198.18.1.9", 0, 0, 0}}),
          std::make_tuple("TCP 198.18.0.1:80", SvcSettings{sched::kSchedFlag2, 900, 16},
                          std::vector<D>{D{"198.18.1.1", 80, 100, 80}, D{"198.18.1.2", 80, 0, 0}}),
          std::make_tuple("TCP [2001:db8::10]:443", SvcSettings{0, 360, 56},
                          std::vector<D>{D{"2001:db8::1", 443, 0, 0}})));
}

// A reload that changes only flags, persistence and thresholds edits them in place, and ends
// where a fresh set-up of the new file does.
TEST(Apply, ReloadEditsFlagsPersistenceAndThresholds) {
  const Config a = parse_clean(vs(1, "  lb_algo rr\n" + rs(1) + rs(2, 2)) +
                               vs(2, "  persistence_timeout 30\n" + rs(3)));
  const Config b =
      parse_clean(vs(1, "  lb_algo rr\n  flag-1\n  persistence_granularity 255.255.255.0\n" +
                            rs(1, 1, "    uthreshold 10\n    lthreshold 2\n") + rs(2, 2)) +
                  vs(2, rs(3)));
  auto reloaded = make_engine();
  ASSERT_TRUE(ctl::apply(reloaded, diff(Config{}, a)).ok());
  const std::vector<Op> ops = diff(a, b);
  EXPECT_THAT(show(ops),
              ElementsAre("edit service TCP 198.18.0.1:80 (rr, flag-1, persistent 360, mask "
                          "255.255.255.0)",
                          "edit real server 198.18.1.1:80 of TCP 198.18.0.1:80 (Masq, weight 1, "
                          "uthreshold 10, lthreshold 2)",
                          "edit service TCP 198.18.0.2:80 (wlc)"));
  ASSERT_TRUE(ctl::apply(reloaded, ops).ok());
  auto fresh = make_engine();
  ASSERT_TRUE(ctl::apply(fresh, diff(Config{}, b)).ok());
  EXPECT_EQ(state(reloaded), state(fresh));
  EXPECT_EQ(settings(reloaded), settings(fresh));
  const auto s = settings(reloaded);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(std::get<1>(s[0]), (SvcSettings{sched::kSchedFlag1, 360, 24}));
  EXPECT_EQ(std::get<1>(s[1]), (SvcSettings{0, 0, 32}));
  // And back.
  ASSERT_TRUE(ctl::apply(reloaded, diff(b, a)).ok());
  auto fresh_a = make_engine();
  ASSERT_TRUE(ctl::apply(fresh_a, diff(Config{}, a)).ok());
  EXPECT_EQ(settings(reloaded), settings(fresh_a));
}

TEST(Apply, StopsAtTheFirstFailureAndNamesIt) {
  const Config c = parse_clean(kBase);
  auto engine = make_engine();
  std::vector<Op> ops = diff(Config{}, c);
  ASSERT_EQ(ops.size(), 3u);
  // The service exists already: the first op fails, nothing after it runs.
  ASSERT_TRUE(engine.add_service(ops[0].service).ok());
  const core::Status st = ctl::apply(engine, ops);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message(),
            "operation 1 of 3 failed: add service TCP 198.18.0.1:80 (rr): service already exists");
  ASSERT_EQ(engine.snapshot().size(), 1u);
  EXPECT_TRUE(engine.snapshot()[0].dests.empty());
}

TEST(Apply, FailureInTheMiddle) {
  auto engine = make_engine();
  const Config c = parse_clean(kBase);
  std::vector<Op> ops = diff(Config{}, c);
  ops.insert(ops.begin() + 2, ops[1]);  // the same server twice
  const core::Status st = ctl::apply(engine, ops);
  EXPECT_EQ(st.message(),
            "operation 3 of 4 failed: add real server 198.18.1.1:80 to TCP 198.18.0.1:80 (Masq, "
            "weight 1): destination already exists");
  EXPECT_EQ(engine.snapshot()[0].dests.size(), 1u);
}

TEST(Apply, EmptyIsOk) {
  auto engine = make_engine();
  EXPECT_TRUE(ctl::apply(engine, {}).ok());
}

}  // namespace
}  // namespace lvs::ctl

namespace lvs::ctl {
namespace {

std::vector<std::string> op_texts(const std::vector<Op>& ops) {
  std::vector<std::string> out;
  for (const Op& op : ops) out.push_back(op.to_string());
  return out;
}

// Services written alike carry the same fingerprint and are not compared server by server; a
// changed block, a changed local address group or an API change still are.
TEST(DiffFingerprint, SameTextSameHashAndNoOps) {
  const std::string text =
      "local_address_group lg {\n  198.18.5.1\n}\n"
      "virtual_server 198.18.0.1 80 {\n  protocol TCP\n  lb_kind FNAT\n"
      "  laddr_group_name lg\n  real_server 198.18.1.1 80 {\n    weight 2\n  }\n}\n"
      "virtual_server 198.18.0.2 80 {\n  protocol TCP\n  real_server 198.18.1.2 80 {\n  }\n}\n";
  const Config a = test::parse_clean(text);
  const Config b = test::parse_clean(text);
  ASSERT_NE(a.services[0].source_hash, 0u);
  EXPECT_EQ(a.services[0].source_hash, b.services[0].source_hash);
  EXPECT_NE(a.services[0].source_hash, a.services[1].source_hash);
  EXPECT_TRUE(diff(a, b).empty());

  std::string weight = text;
  weight.replace(weight.find("weight 2"), 8, "weight 3");
  EXPECT_THAT(op_texts(diff(a, test::parse_clean(weight))),
              ::testing::ElementsAre("edit real server 198.18.1.1:80 of TCP 198.18.0.1:80 "
                                     "(FullNat, weight 3)"));

  std::string laddr = text;
  laddr.replace(laddr.find("198.18.5.1"), 10, "198.18.5.9");
  EXPECT_EQ(diff(a, test::parse_clean(laddr)).size(), 1u);  // the service's local addresses
}

TEST(DiffFingerprint, ApiChangesDropTheFingerprint) {
  const Config a = test::parse_clean(
      "virtual_server 198.18.0.1 80 {\n  protocol TCP\n  real_server 198.18.1.1 80 {\n  }\n}\n");
  Config b = a;
  const nlohmann::json svc = {{"proto", 6}, {"addr", "198.18.0.1"}, {"port", 80}};
  const nlohmann::json rs = {{"addr", "198.18.1.1"}, {"port", 80}, {"fwd", "Masq"}, {"weight", 5}};
  const OpResult r = apply_op({{"cmd", "edit-server"}, {"service", svc}, {"server", rs}}, b);
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(b.services[0].source_hash, 0u);
  EXPECT_EQ(diff(a, b).size(), 1u);
}

}  // namespace
}  // namespace lvs::ctl
