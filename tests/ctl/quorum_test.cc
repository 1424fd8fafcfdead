// engine_servers(): keepalived's quorum, sorry server and inhibit_on_failure (ipwrapper.c) as a
// function of the desired state; and diff() installing the sorry server.
#include "ctl/quorum.h"

#include "core/engine.h"
#include "test_util.h"

namespace lvs::ctl {
namespace {

using test::ip;
using test::parse_clean;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

RealServerConf server(const char* addr, int32_t weight, bool alive = true, bool inhibit = false) {
  RealServerConf rs;
  rs.addr = ip(addr);
  rs.port = 80;
  rs.weight = weight;
  rs.alive = alive;
  rs.inhibit_on_failure = inhibit;
  return rs;
}

VirtualServerConf service(std::vector<RealServerConf> servers, uint32_t quorum = 1,
                          uint32_t hysteresis = 0, bool sorry = false, bool sorry_inhibit = false) {
  VirtualServerConf vs;
  vs.key = core::ServiceKey{};
  vs.key.addr = ip("198.18.0.1");
  vs.key.port = 80;
  vs.key.proto = 6;
  vs.real_servers = std::move(servers);
  vs.quorum = quorum;
  vs.hysteresis = hysteresis;
  if (sorry) vs.sorry_server = server("198.18.2.1", 1);
  vs.sorry_server_inhibit = sorry_inhibit;
  return vs;
}

// "198.18.1.1:80 w2" per server the engine gets.
std::vector<std::string> show(const std::vector<RealServerConf>& servers) {
  std::vector<std::string> out;
  for (const auto& rs : servers) {
    out.push_back(rs.addr.to_string() + ":" + std::to_string(rs.port) + " w" +
                  std::to_string(rs.weight));
  }
  return out;
}

std::vector<std::string> show(const std::vector<Op>& ops) {
  std::vector<std::string> out;
  for (const auto& op : ops) out.push_back(op.to_string());
  return out;
}

TEST(Quorum, AllAliveIsTheRealServers) {
  const auto vs = service({server("198.18.1.1", 2), server("198.18.1.2", 3)}, 1, 0, true);
  EXPECT_TRUE(has_quorum(vs));
  EXPECT_THAT(show(engine_servers(vs)), ElementsAre("198.18.1.1:80 w2", "198.18.1.2:80 w3"));
}

TEST(Quorum, NoLiveWeightGivesTheSorryServer) {
  // All weight 0: keepalived's quorum drops to 0, which can never be met.
  const auto zero = service({server("198.18.1.1", 0), server("198.18.1.2", 0)}, 1, 0, true);
  EXPECT_FALSE(has_quorum(zero));
  EXPECT_THAT(show(engine_servers(zero)), ElementsAre("198.18.2.1:80 w1"));
  // All dead.
  const auto dead = service({server("198.18.1.1", 2, false)}, 1, 0, true);
  EXPECT_FALSE(has_quorum(dead));
  EXPECT_THAT(show(engine_servers(dead)), ElementsAre("198.18.2.1:80 w1"));
  // No server at all.
  EXPECT_THAT(show(engine_servers(service({}, 1, 0, true))), ElementsAre("198.18.2.1:80 w1"));
}

TEST(Quorum, WithoutSorryServerLosingQuorumChangesNothing) {
  const auto vs = service({server("198.18.1.1", 1), server("198.18.1.2", 1, false)}, 2);
  EXPECT_FALSE(has_quorum(vs));
  EXPECT_THAT(show(engine_servers(vs)), ElementsAre("198.18.1.1:80 w1"));
}

TEST(Quorum, StartNeedsQuorumPlusHysteresis) {
  // Weights 1 each, 5 alive of 10, quorum 5, hysteresis 2: needs 7 at start.
  std::vector<RealServerConf> rs;
  for (int i = 1; i <= 10; ++i) {
    rs.push_back(server(("198.18.1." + std::to_string(i)).c_str(), 1, i <= 5));
  }
  const auto vs = service(rs, 5, 2, true);
  EXPECT_FALSE(has_quorum(vs));
  // Once up, it stays up down to 3 (quorum - hysteresis); once down it needs 7.
  EXPECT_TRUE(has_quorum(vs, true));
  EXPECT_FALSE(has_quorum(vs, false));
  auto three = vs;
  for (int i = 3; i < 5; ++i) three.real_servers[size_t(i)].alive = false;
  EXPECT_TRUE(has_quorum(three, true));
  three.real_servers[2].alive = false;
  EXPECT_FALSE(has_quorum(three, true));
  auto seven = vs;
  for (int i = 5; i < 7; ++i) seven.real_servers[size_t(i)].alive = true;
  EXPECT_TRUE(has_quorum(seven));
  EXPECT_TRUE(has_quorum(seven, false));
}

TEST(Quorum, QuorumAboveTotalWeightIsTheTotal) {
  const auto vs = service({server("198.18.1.1", 2), server("198.18.1.2", 3)}, 100, 50);
  const QuorumRule r = quorum_rule(vs);
  EXPECT_EQ(r.quorum, 5u);
  EXPECT_EQ(r.hysteresis, 4u);
  // At start it needs 5 + 4: keepalived's set_quorum_states(). Once up it keeps it.
  EXPECT_FALSE(has_quorum(vs));
  EXPECT_TRUE(has_quorum(vs, true));
  EXPECT_EQ(live_weight(vs), 5u);
}

TEST(Quorum, InhibitOnFailureKeepsDeadServersAtWeightZero) {
  const auto vs = service({server("198.18.1.1", 2), server("198.18.1.2", 3, false, true),
                           server("198.18.1.3", 4, false)});
  EXPECT_THAT(show(engine_servers(vs)), ElementsAre("198.18.1.1:80 w2", "198.18.1.2:80 w0"));
}

TEST(Quorum, SorryServerInUseKeepsOnlyInhibitedServersAtZero) {
  // Quorum 10 of total 9: 9; 5 alive is below it.
  const auto vs = service({server("198.18.1.1", 5, true, true), server("198.18.1.2", 4, false),
                           server("198.18.1.3", 0, true)},
                          10, 0, true);
  EXPECT_FALSE(has_quorum(vs));
  EXPECT_THAT(show(engine_servers(vs)), ElementsAre("198.18.1.1:80 w0", "198.18.2.1:80 w1"));
}

TEST(Quorum, SorryServerInhibitStaysAtWeightZero) {
  const auto up = service({server("198.18.1.1", 2)}, 1, 0, true, true);
  EXPECT_THAT(show(engine_servers(up)), ElementsAre("198.18.1.1:80 w2", "198.18.2.1:80 w0"));
  const auto down = service({server("198.18.1.1", 2, false)}, 1, 0, true, true);
  EXPECT_THAT(show(engine_servers(down)), ElementsAre("198.18.2.1:80 w1"));
}

TEST(Quorum, SorryServerThatIsARealServer) {
  auto vs = service({server("198.18.2.1", 3), server("198.18.1.2", 1)}, 1, 0, true, true);
  EXPECT_THAT(show(engine_servers(vs)), ElementsAre("198.18.2.1:80 w3", "198.18.1.2:80 w1"));
  for (auto& rs : vs.real_servers) rs.alive = false;
  EXPECT_THAT(show(engine_servers(vs)), ElementsAre("198.18.2.1:80 w1"));
}

const char* kSorry =
    "virtual_server 198.18.0.1 80 {\n"
    "  protocol TCP\n"
    "  sorry_server 198.18.2.1 8080\n"
    "  real_server 198.18.1.1 80 {\n    weight 0\n  }\n"
    "  real_server 198.18.1.2 80 {\n    weight 0\n    inhibit_on_failure\n  }\n"
    "}\n";

TEST(QuorumDiff, SetUpInstallsTheSorryServer) {
  const Config c = parse_clean(kSorry);
  EXPECT_THAT(show(diff(Config{}, c)),
              ElementsAre("add service TCP 198.18.0.1:80 (wlc)",
                          "add real server 198.18.1.2:80 to TCP 198.18.0.1:80 (Masq, weight 0)",
                          "add real server 198.18.2.1:8080 to TCP 198.18.0.1:80 (Masq, weight 1)"));
  EXPECT_THAT(diff(c, c), IsEmpty());
}

TEST(QuorumDiff, ReloadThatRestoresWeightRemovesTheSorryServer) {
  const Config before = parse_clean(kSorry);
  std::string text = kSorry;
  text.replace(text.find("weight 0"), 8, "weight 5");
  const Config after = parse_clean(text);
  EXPECT_THAT(show(diff(before, after)),
              ElementsAre("add real server 198.18.1.1:80 to TCP 198.18.0.1:80 (Masq, weight 5)",
                          "delete real server 198.18.2.1:8080 from TCP 198.18.0.1:80"));
  EXPECT_THAT(show(diff(after, before)),
              ElementsAre("add real server 198.18.2.1:8080 to TCP 198.18.0.1:80 (Masq, weight 1)",
                          "delete real server 198.18.1.1:80 from TCP 198.18.0.1:80"));
}

TEST(QuorumDiff, HealthChangeAsAConfigChange) {
  // What the checkers do: flip `alive`, say so (health_touched), and diff.
  const Config up = parse_clean(
      "virtual_server 198.18.0.1 80 {\n  protocol TCP\n  sorry_server 198.18.2.1 80\n"
      "  sorry_server_inhibit\n"
      "  real_server 198.18.1.1 80 {\n  }\n}\n");
  Config down = up;
  down.services[0].real_servers[0].alive = false;
  down.services[0].health_touched = true;
  EXPECT_THAT(show(diff(up, down)),
              ElementsAre("edit real server 198.18.2.1:80 of TCP 198.18.0.1:80 (Masq, weight 1)",
                          "delete real server 198.18.1.1:80 from TCP 198.18.0.1:80"));
  EXPECT_THAT(show(diff(down, up)),
              ElementsAre("add real server 198.18.1.1:80 to TCP 198.18.0.1:80 (Masq, weight 1)",
                          "edit real server 198.18.2.1:80 of TCP 198.18.0.1:80 (Masq, weight 0)"));
}

TEST(QuorumDiff, AppliesToAnEngine) {
  const Config c = parse_clean(kSorry);
  core::EngineConfig ec;
  ec.conn_capacity = 64;
  core::Engine engine(ec);
  ASSERT_TRUE(ctl::apply(engine, diff(Config{}, c)).ok());
  ASSERT_EQ(engine.snapshot().size(), 1u);
  ASSERT_TRUE(ctl::apply(engine, diff(c, Config{})).ok());
  EXPECT_TRUE(engine.snapshot().empty());
}

}  // namespace
}  // namespace lvs::ctl

namespace lvs::ctl {
namespace {

// What the health checkers change: a FILE_CHECK delta and a MISC_CHECK dynamic weight, kept apart
// from the configured weight.
TEST(HealthWeights, EffectiveWeight) {
  RealServerConf rs;
  rs.weight = 5;
  EXPECT_EQ(effective_weight(rs), 5);
  rs.weight_delta = -3;
  EXPECT_EQ(effective_weight(rs), 2);
  rs.dynamic_weight = 10;
  EXPECT_EQ(effective_weight(rs), 7);
  rs.weight_delta = -20;
  EXPECT_EQ(effective_weight(rs), 0);
}

TEST(HealthWeights, EngineGetsTheEffectiveWeightAndQuorumCountsIt) {
  RealServerConf a;
  a.addr = test::ip("198.18.1.1");
  a.port = 80;
  a.weight = 4;
  RealServerConf b = a;
  b.addr = test::ip("198.18.1.2");
  VirtualServerConf vs;
  vs.key.addr = test::ip("198.18.0.1");
  vs.key.port = 80;
  vs.key.proto = 6;
  vs.real_servers = {a, b};
  vs.quorum = 6;
  vs.sorry_server = b;
  vs.sorry_server->addr = test::ip("198.18.2.1");
  EXPECT_EQ(live_weight(vs), 8u);
  vs.real_servers[0].weight_delta = -3;  // 1 + 4 = 5 < 6: the sorry server stands in
  EXPECT_EQ(live_weight(vs), 5u);
  const auto held = engine_servers(vs);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].addr, test::ip("198.18.2.1"));
  vs.real_servers[0].weight_delta = 0;
  vs.real_servers[0].dynamic_weight = 2;
  const auto back = engine_servers(vs);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].weight, 2);
}

// The hysteresis after a health change needs the state before it: kept in quorum_state.
TEST(HealthWeights, QuorumStateKeepsHysteresis) {
  VirtualServerConf vs;
  vs.key.addr = test::ip("198.18.0.1");
  vs.key.port = 80;
  vs.key.proto = 6;
  for (int i = 1; i <= 4; ++i) {
    RealServerConf rs;
    rs.addr = test::ip("198.18.1." + std::to_string(i));
    rs.port = 80;
    vs.real_servers.push_back(rs);
  }
  vs.quorum = 3;
  vs.hysteresis = 1;
  vs.sorry_server = vs.real_servers[0];
  vs.sorry_server->addr = test::ip("198.18.2.1");
  vs.real_servers[3].alive = false;  // 3 alive: below quorum + hysteresis at a start
  EXPECT_FALSE(has_quorum(vs, vs.quorum_state));
  vs.quorum_state = true;  // but a service that had quorum keeps it down to quorum - hysteresis
  EXPECT_TRUE(has_quorum(vs, vs.quorum_state));
  EXPECT_EQ(engine_servers(vs).size(), 3u);
  vs.real_servers[2].alive = false;
  EXPECT_TRUE(has_quorum(vs, vs.quorum_state));  // 2 = 3 - 1
}

TEST(HealthWeights, DiffServersOfOneService) {
  RealServerConf a;
  a.addr = test::ip("198.18.1.1");
  a.port = 80;
  RealServerConf b = a;
  b.addr = test::ip("198.18.1.2");
  VirtualServerConf from;
  from.key.addr = test::ip("198.18.0.1");
  from.key.port = 80;
  from.key.proto = 6;
  from.real_servers = {a, b};
  VirtualServerConf to = from;
  to.real_servers[0].alive = false;
  to.real_servers[1].weight_delta = 2;
  std::vector<std::string> got;
  for (const Op& op : diff_servers(from, to)) got.push_back(op.to_string());
  EXPECT_THAT(got, ElementsAre("edit real server 198.18.1.2:80 of TCP 198.18.0.1:80 (Masq, "
                               "weight 3)",
                               "delete real server 198.18.1.1:80 from TCP 198.18.0.1:80"));
  EXPECT_TRUE(diff_servers(to, to).empty());
}

}  // namespace
}  // namespace lvs::ctl
