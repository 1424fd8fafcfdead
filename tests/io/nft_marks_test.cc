// The fixtures are real `nft -j list ruleset` output (tests/io/fixtures/nft/X.json, made from
// X.nft by regen.sh in a throwaway namespace); the expected entries are worked out by hand from
// the .nft sources, rule by rule, as the kernel would evaluate a connection's first packet.
#include "io/nft_marks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "netns_thread.h"

namespace lvs::io {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

std::string fixture_path(const std::string& name) {
  return std::string(LVS_NFT_FIXTURES) + "/" + name;
}

std::string fixture(const std::string& name) {
  std::ifstream in(fixture_path(name));
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_FALSE(ss.str().empty()) << name;
  return ss.str();
}

// "198.18.2.100 tcp 80 -> 1", "... on eth1" for an interface's own entry, port "*" for port 0.
std::string line(const MarkEntry& e) {
  const char* proto = e.proto == 6 ? "tcp" : e.proto == 17 ? "udp" : e.proto == 132 ? "sctp" : "?";
  std::string s = e.addr.to_string() + " " + proto + " " +
                  (e.port == 0 ? std::string("*") : std::to_string(e.port)) + " -> " +
                  std::to_string(e.mark);
  if (!e.iif.empty()) s += " on " + e.iif;
  return s;
}

std::vector<std::string> lines(const MarkRules& r) {
  std::vector<std::string> out;
  for (const MarkEntry& e : r.entries) out.push_back(line(e));
  return out;
}

TEST(NftMarks, PortShapes) {
  const MarkRules r = compile_nft_json(fixture("ports.json"));
  EXPECT_THAT(lines(r), ElementsAre("198.18.2.100 tcp 80 -> 1",     // single port
                                    "198.18.2.101 tcp 80 -> 2",     // anonymous set
                                    "198.18.2.101 tcp 443 -> 2",    //
                                    "198.18.2.102 udp 5000 -> 3",   // range
                                    "198.18.2.102 udp 5001 -> 3",   //
                                    "198.18.2.102 udp 5002 -> 3",   //
                                    "198.18.2.102 udp 5003 -> 3",   //
                                    "198.18.2.103 tcp 8080 -> 4",   // set with a range
                                    "198.18.2.103 tcp 9000 -> 4",   //
                                    "198.18.2.103 tcp 9001 -> 4",   //
                                    "198.18.2.103 tcp 9002 -> 4",   //
                                    "198.18.2.104 tcp 53 -> 5",     // meta l4proto set, th
                                    "198.18.2.104 udp 53 -> 5",     //
                                    "198.18.2.105 sctp 3868 -> 6",  // sctp
                                    "198.18.2.106 tcp 25 -> 7",     // set of addresses
                                    "198.18.2.107 tcp 25 -> 7"));
  // Rules that set no mark (counter, accept, a drop of another port) say nothing.
  EXPECT_THAT(r.warnings, IsEmpty());
}

TEST(NftMarks, InetTableServesBothFamilies) {
  const MarkRules r = compile_nft_json(fixture("inet.json"));
  EXPECT_THAT(lines(r), ElementsAre("198.18.2.100 tcp 443 -> 10",
                                    "198.18.2.110 tcp 80 -> 13",  // concatenation
                                    "198.18.2.111 tcp 8080 -> 13", "2001:2::100 tcp 443 -> 10",
                                    "2001:2::100 udp 443 -> 11",  // named set
                                    "2001:2::101 udp 443 -> 11",
                                    "2001:2::102 sctp * -> 12"));  // ip6 nexthdr, every port
  const MarkEntry& v6 = r.entries[3];
  EXPECT_TRUE(v6.addr.is_v6());
  EXPECT_EQ(v6.addr, *net::IpAddr::parse("2001:2::100"));
  EXPECT_THAT(r.warnings,
              ElementsAre("rule handle 9 in inet lb pre: it sets a mark without matching a "
                          "destination address (ip daddr or ip6 daddr); its packets will not "
                          "reach fwmark services"));
}

TEST(NftMarks, FinalMarkFollowsEvaluationOrder) {
  const MarkRules r = compile_nft_json(fixture("order.json"));
  EXPECT_THAT(lines(r),
              ElementsAre("198.18.2.100 tcp 80 -> 1",
                          "198.18.2.100 tcp 443 -> 2",  // the later rule overwrites
                          // accept ends mangle's chain, not the later base chain at priority 10
                          "198.18.2.101 tcp 80 -> 20",
                          // jump: port 80 returns with 6; any other port falls to "mark set 7"
                          "198.18.2.102 tcp * -> 7", "198.18.2.102 tcp 80 -> 6",
                          "198.18.2.102 udp * -> 7", "198.18.2.102 sctp * -> 7",
                          // goto: the end of vip103 leaves prerouting too; rule 12 never runs
                          "198.18.2.103 tcp 80 -> 8",
                          // 198.18.2.104: marked, then dropped: nothing to serve
                          "198.18.2.105 tcp 80 -> 11", "198.18.2.105 tcp 80 -> 12 on eth1"));
  EXPECT_THAT(r.warnings, IsEmpty());
}

TEST(NftMarks, EveryPortWithExceptions) {
  const MarkRules r = compile_nft_json(fixture("wildcard.json"));
  std::vector<std::string> want = {"198.18.2.100 tcp * -> 1",
                                   "198.18.2.100 tcp 22 -> 0",  // accepted unmarked first
                                   "198.18.2.100 udp * -> 1", "198.18.2.100 sctp * -> 1",
                                   "198.18.2.101 tcp * -> 2"};
  // dport >= 1024: shorter as "every port" with ports 1-1023 as unmarked exceptions.
  for (int port = 1; port < 1024; ++port) {
    want.push_back("198.18.2.101 tcp " + std::to_string(port) + " -> 0");
  }
  EXPECT_THAT(lines(r), ElementsAreArray(want));
  EXPECT_THAT(r.warnings, IsEmpty());
}

TEST(NftMarks, MapsVerdictMapsAndConnmark) {
  const MarkRules r = compile_nft_json(fixture("maps.json"));
  EXPECT_THAT(lines(r), ElementsAre("198.18.2.100 tcp 80 -> 1",    // mark map
                                    "198.18.2.100 tcp 443 -> 2",   //
                                    "198.18.2.101 tcp 80 -> 3",    // verdict map jump
                                    "198.18.2.102 udp 53 -> 5"));  // ct state new
  EXPECT_THAT(r.warnings, IsEmpty());
}

TEST(NftMarks, UnsupportedRulesAreNamedWithTheirHandle) {
  const MarkRules r = compile_nft_json(fixture("unsupported.json"));
  EXPECT_THAT(r.entries, IsEmpty());
  const std::string tail = "; its packets will not reach fwmark services";
  const std::string at = "rule handle ";
  const std::string in = " in ip mangle prerouting: ";
  EXPECT_THAT(
      r.warnings,
      ElementsAre(at + "3" + in + "'ip saddr 10.0.0.0/8' is not supported" + tail,
                  at + "4" + in + "'limit rate 10/second' is not supported" + tail,
                  at + "5" + in +
                      "its destination is a network or a range, not single "
                      "addresses" +
                      tail + " (list the addresses)",
                  at + "6" + in +
                      "it sets a mark without matching a destination address (ip "
                      "daddr or ip6 daddr)" +
                      tail,
                  at + "7" + in + "'meta mark set numgen' is not supported" + tail,
                  at + "8" + in + "'iifname eth*' is not supported" + tail,
                  at + "10" + in + "'fib daddr type local' is not supported" + tail,
                  "rule handle 11 in ip mangle input: marks set at the input hook are not read "
                  "(lvsd reads prerouting chains)",
                  // Rule 9 alone would give 198.18.2.104 mark 6; rule 10 may overwrite it.
                  "198.18.2.104 tcp port 80: its mark depends on rule handle 10 in ip mangle "
                  "prerouting ('fib daddr type local'); it is not served as a fwmark endpoint"));
}

// iptables-nft keeps MARK as an xtables target whose value nft's JSON does not show. iptables is
// not installed here, so this JSON is written by hand in the shape nftables' src/json.c gives an
// xt statement ({"xt": {"type": ..., "name": ...}}), for `iptables -t mangle -A PREROUTING
// -d 198.18.2.100 -p tcp -m multiport --dports 80,443 -j MARK --set-mark 1` and the same with
// `--dport 80` (a native match).
TEST(NftMarks, IptablesNftMarkTargetsAreNamed) {
  const char* json = R"({"nftables": [
    {"table": {"family": "ip", "name": "mangle", "handle": 1}},
    {"chain": {"family": "ip", "table": "mangle", "name": "PREROUTING", "handle": 1,
               "type": "filter", "hook": "prerouting", "prio": -150, "policy": "accept"}},
    {"rule": {"family": "ip", "table": "mangle", "chain": "PREROUTING", "handle": 4, "expr": [
      {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}},
                 "right": "198.18.2.100"}},
      {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "protocol"}},
                 "right": "tcp"}},
      {"xt": {"type": "match", "name": "multiport"}},
      {"counter": {"packets": 0, "bytes": 0}},
      {"xt": {"type": "target", "name": "MARK"}}]}},
    {"rule": {"family": "ip", "table": "mangle", "chain": "PREROUTING", "handle": 5, "expr": [
      {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}},
                 "right": "198.18.2.101"}},
      {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}},
                 "right": 80}},
      {"counter": {"packets": 0, "bytes": 0}},
      {"xt": {"type": "target", "name": "MARK"}}]}}]})";
  const MarkRules r = compile_nft_json(json);
  EXPECT_THAT(r.entries, IsEmpty());
  const std::string tail =
      "' is not supported; its packets will not reach fwmark services (an iptables-nft "
      "extension: nft's JSON does not show what it does; write the rule with nft)";
  EXPECT_THAT(r.warnings,
              ElementsAre("rule handle 4 in ip mangle PREROUTING: 'xt match multiport" + tail,
                          "rule handle 5 in ip mangle PREROUTING: 'xt target MARK" + tail));
}

TEST(NftMarks, BadInputGivesAWarningNotACrash) {
  EXPECT_THAT(compile_nft_json("").warnings, ElementsAre("nft JSON: not valid JSON; nothing read"));
  EXPECT_THAT(compile_nft_json("{\"nftables\": 3}").warnings,
              ElementsAre("nft JSON: no \"nftables\" array; nothing read"));
  const MarkRules empty = compile_nft_json(R"({"nftables": [{"metainfo": {}}]})");
  EXPECT_THAT(empty.entries, IsEmpty());
  EXPECT_THAT(empty.warnings, IsEmpty());
  // Every prefix of a real listing, and a listing with every value replaced, stays harmless.
  const std::string whole = fixture("order.json");
  for (size_t n = 0; n < whole.size(); n += 7) compile_nft_json(whole.substr(0, n));
  std::string twisted = whole;
  for (char& c : twisted) {
    if (c == '1') c = '7';
  }
  compile_nft_json(twisted);
}

// The whole path: the ruleset loaded into a namespace of its own by nft, read back through
// libnftables, compiled to the same entries as the saved listing of the same rules.
TEST(NftMarks, ReadsTheRulesetOfItsNamespace) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (a network namespace and CAP_NET_ADMIN)";
  if (lvs::testing::sh("nft --version") != 0) GTEST_SKIP() << "nft is not installed";
  std::string why;
  const bool ran = lvs::testing::run_in_new_netns(
      [] {
        std::string err;
        auto none = read_nft_marks(&err);
        ASSERT_TRUE(none) << err;
        EXPECT_THAT(none->entries, IsEmpty());
        EXPECT_THAT(none->warnings, IsEmpty());

        ASSERT_EQ(lvs::testing::sh("nft -f " + fixture_path("order.nft")), 0);
        auto live = read_nft_marks(&err);
        ASSERT_TRUE(live) << err;
        const MarkRules saved = compile_nft_json(fixture("order.json"));
        EXPECT_EQ(live->entries, saved.entries);
        EXPECT_EQ(live->warnings, saved.warnings);
        EXPECT_EQ(lines(*live).size(), 10u);
      },
      &why);
  if (!ran) GTEST_SKIP() << why;
}

}  // namespace
}  // namespace lvs::io
