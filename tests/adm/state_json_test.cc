// lvsd's JSON answers (docs/API.md, as src/daemon/director.cc writes them) into lvsadm's listing
// model, and the /v1/conns page walk.
#include "adm/state_json.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace lvs::adm {
namespace {

using nlohmann::json;

net::IpAddr ip(const char* s) { return *net::IpAddr::parse(s); }

// A state document in lvsd's shape: one NAT service with rates, a tunnel server, a fwmark
// IPv6 service with persistence.
const char kState[] = R"({
  "services": [
    {"key": "TCP 198.18.2.100:80", "proto": "TCP", "addr": "198.18.2.100", "port": 80,
     "fwmark": 0, "scheduler": "wrr", "sched_flags": 0, "persistence_timeout": 300,
     "persistence_prefix": 24, "one_packet": false,
     "stats": {"conns": 30, "inbytes": 4000, "inpkts": 300, "outbytes": 90000, "outpkts": 250},
     "rates": {"cps": 3, "inbps": 5000, "inpps": 40, "outbps": 20000, "outpps": 30},
     "dests": [
       {"addr": "198.18.1.11", "port": 80, "fwd": "Masq", "weight": 2, "active_conns": 4,
        "inactive_conns": 5, "persist_conns": 6, "u_threshold": 100, "l_threshold": 50,
        "tun_type": "ipip", "tun_port": 0, "tun_flags": 0,
        "stats": {"conns": 10, "inbytes": 1, "inpkts": 2, "outbytes": 3, "outpkts": 4},
        "rates": {"cps": 1, "inbps": 123456789012, "inpps": 15, "outbps": 8000, "outpps": 10}},
       {"addr": "198.18.1.12", "port": 8080, "fwd": "Tunnel", "weight": 1, "active_conns": 0,
        "inactive_conns": 0, "persist_conns": 0, "u_threshold": 0, "l_threshold": 0,
        "tun_type": "gue", "tun_port": 6080, "tun_flags": 2,
        "stats": {"conns": 0, "inbytes": 0, "inpkts": 0, "outbytes": 0, "outpkts": 0},
        "rates": {"cps": 0, "inbps": 0, "inpps": 0, "outbps": 0, "outpps": 0}}
     ]},
    {"key": "FWM 7", "proto": "FWM", "addr": "::", "port": 0, "fwmark": 7, "scheduler": "sh",
     "sched_flags": 24, "persistence_timeout": 0, "persistence_prefix": 64, "one_packet": true,
     "stats": {"conns": 0, "inbytes": 0, "inpkts": 0, "outbytes": 0, "outpkts": 0},
     "rates": {"cps": 0, "inbps": 0, "inpps": 0, "outbps": 0, "outpps": 0},
     "dests": [
       {"addr": "2001:2:1::11", "port": 0, "fwd": "Route", "weight": 0}
     ]}
  ],
  "total": {"conns": 30},
  "conn_capacity": 262144,
  "timeouts": {"tcp": 600, "tcp_fin": 60, "udp": 200}
})";

TEST(StateJson, LvsdDocument) {
  const ListModel m = model_from_state(json::parse(kState));
  EXPECT_EQ(m.conn_tab_size, 262144u);
  EXPECT_EQ(m.timeouts.tcp, 600);
  EXPECT_EQ(m.timeouts.tcp_fin, 60);
  EXPECT_EQ(m.timeouts.udp, 200);
  ASSERT_EQ(m.services.size(), 2u);

  const Service& s = m.services[0];
  EXPECT_EQ(s.protocol, kProtoTcp);
  EXPECT_EQ(s.addr, ip("198.18.2.100"));
  EXPECT_EQ(s.port, 80);
  EXPECT_EQ(s.fwmark, 0u);
  EXPECT_EQ(s.scheduler, "wrr");
  EXPECT_TRUE(s.persistent);
  EXPECT_EQ(s.persistence_timeout, 300u);
  EXPECT_EQ(s.netmask_v4, 0xffffff00u);
  EXPECT_FALSE(s.one_packet);
  EXPECT_EQ(s.stats.conns, 30u);
  EXPECT_EQ(s.stats.inpkts, 300u);
  EXPECT_EQ(s.stats.outpkts, 250u);
  EXPECT_EQ(s.stats.inbytes, 4000u);
  EXPECT_EQ(s.stats.outbytes, 90000u);
  EXPECT_EQ(s.rates.cps, 3u);
  EXPECT_EQ(s.rates.inpps, 40u);
  EXPECT_EQ(s.rates.outpps, 30u);
  EXPECT_EQ(s.rates.inbps, 5000u);
  EXPECT_EQ(s.rates.outbps, 20000u);

  ASSERT_EQ(s.servers.size(), 2u);
  const RealServer& a = s.servers[0];
  EXPECT_EQ(a.addr, ip("198.18.1.11"));
  EXPECT_EQ(a.port, 80);
  EXPECT_EQ(a.fwd, FwdMethod::kMasq);
  EXPECT_EQ(a.weight, 2);
  EXPECT_EQ(a.active_conns, 4u);
  EXPECT_EQ(a.inactive_conns, 5u);
  EXPECT_EQ(a.persist_conns, 6u);
  EXPECT_EQ(a.u_threshold, 100u);
  EXPECT_EQ(a.l_threshold, 50u);
  EXPECT_EQ(a.stats.conns, 10u);
  EXPECT_EQ(a.stats.outpkts, 4u);
  EXPECT_EQ(a.rates.cps, 1u);
  EXPECT_EQ(a.rates.inpps, 15u);
  EXPECT_EQ(a.rates.outpps, 10u);
  EXPECT_EQ(a.rates.inbps, 123456789012u);
  EXPECT_EQ(a.rates.outbps, 8000u);
  const RealServer& b = s.servers[1];
  EXPECT_EQ(b.fwd, FwdMethod::kTunnel);
  EXPECT_EQ(b.tun_type, TunType::kGue);
  EXPECT_EQ(b.tun_port, 6080);
  EXPECT_EQ(b.tun_csum, TunCsum::kRemCsum);

  const Service& f = m.services[1];
  EXPECT_EQ(f.fwmark, 7u);
  EXPECT_EQ(f.fwmark_af, net::Family::kV6);
  EXPECT_EQ(f.family(), net::Family::kV6);
  EXPECT_EQ(f.protocol, kProtoTcp);  // IPVS reports fwmark services as TCP
  EXPECT_EQ(f.sched_flags, 24u);
  EXPECT_FALSE(f.persistent);
  EXPECT_EQ(f.prefix_v6, 64);
  EXPECT_TRUE(f.one_packet);
  ASSERT_EQ(f.servers.size(), 1u);
  EXPECT_EQ(f.servers[0].fwd, FwdMethod::kRoute);
  EXPECT_EQ(f.servers[0].weight, 0);
  // Members the older server entry lacks: IPVS's defaults.
  EXPECT_EQ(f.servers[0].tun_type, TunType::kIpip);
  EXPECT_EQ(f.servers[0].rates.inbps, 0u);
}

// An lvsd from before the estimator sends no "rates": zeros, and everything else still lists.
const char kNoRates[] = R"({"services": [
    {"proto": "UDP", "addr": "198.18.2.100", "port": 53, "scheduler": "rr",
     "stats": {"conns": 5},
     "dests": [{"addr": "198.18.1.11", "port": 53, "fwd": "Route", "weight": 3,
                "stats": {"conns": 5}}]}]})";

TEST(StateJson, RatesAbsentAreZero) {
  const ListModel m = model_from_state(json::parse(kNoRates));
  ASSERT_EQ(m.services.size(), 1u);
  const Service& s = m.services[0];
  EXPECT_EQ(s.protocol, kProtoUdp);
  EXPECT_EQ(s.stats.conns, 5u);
  EXPECT_EQ(s.rates.cps, 0u);
  EXPECT_EQ(s.rates.outbps, 0u);
  ASSERT_EQ(s.servers.size(), 1u);
  EXPECT_EQ(s.servers[0].weight, 3);
  EXPECT_EQ(s.servers[0].rates.cps, 0u);
  EXPECT_EQ(s.servers[0].rates.inbps, 0u);
  // No conn_capacity or timeouts: IPVS's defaults.
  EXPECT_EQ(m.conn_tab_size, 4096u);
  EXPECT_EQ(m.timeouts.tcp, 900);
  EXPECT_EQ(m.timeouts.tcp_fin, 120);
  EXPECT_EQ(m.timeouts.udp, 300);
}

// Members of another type or out of range take the default instead of throwing.
const char kOddMembers[] = R"({"conn_capacity": "big",
    "timeouts": [1, 2],
    "services": [
      {"proto": 6, "addr": 17, "port": 70000, "scheduler": null, "fwmark": -1,
       "persistence_timeout": 1.5, "one_packet": 1, "stats": [], "rates": "fast",
       "dests": [{"addr": "nowhere", "port": "80", "weight": -2, "active_conns": -1,
                  "tun_flags": "x", "rates": {"cps": -3, "inpps": 7}}]},
      "not a service"],
    "ignored": true})";

TEST(StateJson, OddMembersTakeDefaults) {
  const ListModel m = model_from_state(json::parse(kOddMembers));
  EXPECT_EQ(m.conn_tab_size, 4096u);
  EXPECT_EQ(m.timeouts.tcp, 900);
  ASSERT_EQ(m.services.size(), 2u);
  const Service& s = m.services[0];
  EXPECT_EQ(s.protocol, kProtoTcp);
  EXPECT_EQ(s.addr.family, net::Family::kNone);
  EXPECT_EQ(s.port, 0);
  EXPECT_EQ(s.scheduler, "wlc");
  EXPECT_EQ(s.fwmark, 0u);
  EXPECT_FALSE(s.persistent);
  EXPECT_FALSE(s.one_packet);
  EXPECT_EQ(s.rates.cps, 0u);
  ASSERT_EQ(s.servers.size(), 1u);
  EXPECT_EQ(s.servers[0].port, 0);
  EXPECT_EQ(s.servers[0].weight, -2);  // a signed field keeps a negative number
  EXPECT_EQ(s.servers[0].active_conns, 0u);
  EXPECT_EQ(s.servers[0].tun_csum, TunCsum::kNoCsum);
  EXPECT_EQ(s.servers[0].rates.cps, 0u);
  EXPECT_EQ(s.servers[0].rates.inpps, 7u);
  EXPECT_TRUE(m.services[1].servers.empty());
  EXPECT_TRUE(model_from_state(json::parse("[]")).services.empty());
  EXPECT_TRUE(model_from_state(json()).services.empty());
}

TEST(StateJson, PersistencePrefixes) {
  auto svc = [](const char* addr, int prefix) {
    return model_from_state(json{{"services",
                                  {{{"addr", addr},
                                    {"persistence_timeout", 60},
                                    {"persistence_prefix", prefix}}}}})
        .services.at(0);
  };
  EXPECT_EQ(svc("198.18.2.100", 32).netmask_v4, 0xffffffffu);
  EXPECT_EQ(svc("198.18.2.100", 16).netmask_v4, 0xffff0000u);
  EXPECT_EQ(svc("198.18.2.100", 0).netmask_v4, 0u);
  EXPECT_EQ(svc("198.18.2.100", 128).netmask_v4, 0xffffffffu);  // lvsd's "whole address"
  EXPECT_EQ(svc("2001:2:2::100", 48).prefix_v6, 48);
  EXPECT_EQ(svc("2001:2:2::100", 128).prefix_v6, 128);
}

// ---- the state document's text, read service by service (model_from_state_text) ----

// Every member, so that a difference names itself; the defaulted == last, for members added
// later.
void expect_same(const ListModel& want, const ListModel& got) {
  EXPECT_EQ(want.conn_tab_size, got.conn_tab_size);
  EXPECT_EQ(want.timeouts.tcp, got.timeouts.tcp);
  EXPECT_EQ(want.timeouts.tcp_fin, got.timeouts.tcp_fin);
  EXPECT_EQ(want.timeouts.udp, got.timeouts.udp);
  ASSERT_EQ(want.services.size(), got.services.size());
  for (size_t i = 0; i < want.services.size(); ++i) {
    SCOPED_TRACE("service " + std::to_string(i));
    const Service& a = want.services[i];
    const Service& b = got.services[i];
    EXPECT_EQ(a.fwmark, b.fwmark);
    EXPECT_EQ(a.fwmark_af, b.fwmark_af);
    EXPECT_EQ(a.protocol, b.protocol);
    EXPECT_EQ(a.addr, b.addr);
    EXPECT_EQ(a.port, b.port);
    EXPECT_EQ(a.scheduler, b.scheduler);
    EXPECT_EQ(a.sched_flags, b.sched_flags);
    EXPECT_EQ(a.persistent, b.persistent);
    EXPECT_EQ(a.persistence_timeout, b.persistence_timeout);
    EXPECT_EQ(a.netmask_v4, b.netmask_v4);
    EXPECT_EQ(a.prefix_v6, b.prefix_v6);
    EXPECT_EQ(a.one_packet, b.one_packet);
    EXPECT_EQ(a.pe_name, b.pe_name);
    EXPECT_TRUE(a.stats == b.stats);
    EXPECT_TRUE(a.rates == b.rates);
    ASSERT_EQ(a.servers.size(), b.servers.size());
    for (size_t j = 0; j < a.servers.size(); ++j) {
      SCOPED_TRACE("server " + std::to_string(j));
      const RealServer& x = a.servers[j];
      const RealServer& y = b.servers[j];
      EXPECT_EQ(x.addr, y.addr);
      EXPECT_EQ(x.port, y.port);
      EXPECT_EQ(x.fwd, y.fwd);
      EXPECT_EQ(x.weight, y.weight);
      EXPECT_EQ(x.active_conns, y.active_conns);
      EXPECT_EQ(x.inactive_conns, y.inactive_conns);
      EXPECT_EQ(x.persist_conns, y.persist_conns);
      EXPECT_EQ(x.u_threshold, y.u_threshold);
      EXPECT_EQ(x.l_threshold, y.l_threshold);
      EXPECT_EQ(x.tun_type, y.tun_type);
      EXPECT_EQ(x.tun_port, y.tun_port);
      EXPECT_EQ(x.tun_csum, y.tun_csum);
      EXPECT_TRUE(x.stats == y.stats);
      EXPECT_TRUE(x.rates == y.rates);
    }
  }
  EXPECT_TRUE(want == got);
}

// The text read both ways; the tree's model is the reference. Returns the text reader's.
ListModel both_ways(std::string_view text) {
  SCOPED_TRACE(std::string(text));
  const json tree = json::parse(text, nullptr, false);
  EXPECT_FALSE(tree.is_discarded());
  const std::optional<ListModel> got = model_from_state_text(text);
  EXPECT_TRUE(got.has_value());
  if (!got) return {};
  expect_same(model_from_state(tree), *got);
  return *got;
}

TEST(StateText, SameAsTreeForTheDocumentsAbove) {
  const ListModel m = both_ways(kState);
  // Not two readers agreeing on nothing: the document's values came through.
  ASSERT_EQ(m.services.size(), 2u);
  EXPECT_EQ(m.services[0].servers.at(0).weight, 2);
  EXPECT_EQ(m.services[0].netmask_v4, 0xffffff00u);
  EXPECT_EQ(m.services[1].prefix_v6, 64);
  EXPECT_EQ(m.conn_tab_size, 262144u);
  both_ways(kNoRates);
  both_ways(kOddMembers);
  for (const char* addr : {"198.18.2.100", "2001:2:2::100", "nowhere"}) {
    for (const char* prefix : {"0", "1", "16", "24", "32", "33", "48", "64", "127", "128", "129",
                               "4294967295", "4294967296", "-1", "16.0", "\"16\""}) {
      both_ways(fmt::format(R"({{"services": [{{"addr": "{}", "persistence_timeout": 60,
                            "persistence_prefix": {}}}]}})",
                            addr, prefix));
    }
  }
}

TEST(StateText, NotAnObjectOrEmpty) {
  const ListModel def;
  for (const char* text : {"{}", "[]", "[{\"conn_capacity\": 5}]", "5", "-1.5", "null", "true",
                           "\"services\"", " \n{ } \t"}) {
    EXPECT_TRUE(both_ways(text) == def) << text;
  }
}

TEST(StateText, ListsOfTheWrongShape) {
  for (const char* text : {
           R"({"services": {}})",
           R"({"services": {"addr": "198.18.0.1"}})",
           R"({"services": "x"})",
           R"({"services": null})",
           R"({"services": 3})",
           R"({"services": [1, "a", null, true, 2.5, -3, [], [{"addr": "198.18.0.1"}], {},
                            {"addr": "2001:db8::1", "persistence_prefix": 8}, [[]], {"x": []}]})",
           R"({"services": [{"addr": "198.18.0.1", "dests": {"addr": "198.18.1.1"}}]})",
           R"({"services": [{"addr": "198.18.0.1", "dests": "198.18.1.1"}]})",
           R"({"services": [{"dests": [1, "x", null, false, 0.5, [], [{"weight": 5}],
                                       {"weight": 7}, {}, [[{"weight": 8}]]]}]})",
       }) {
    both_ways(text);
  }
  // Non-objects in the lists are entries of defaults, as the tree reader makes them.
  const ListModel m = both_ways(R"({"services": [7, {"dests": [null, {"weight": 7}]}]})");
  ASSERT_EQ(m.services.size(), 2u);
  EXPECT_EQ(m.services[0].netmask_v4, 0xffffffffu);
  ASSERT_EQ(m.services[1].servers.size(), 2u);
  EXPECT_EQ(m.services[1].servers[0].fwd, FwdMethod::kRoute);
  EXPECT_EQ(m.services[1].servers[1].weight, 7);
}

TEST(StateText, MistypedAndOutOfRangeMembers) {
  // Each numeric member with values around its type's limits, negative, float, or not numbers.
  std::vector<std::string> values;
  std::istringstream words(
      R"(0 1 2 3 -1 -0 255 256 65535 65536 2147483647 2147483648 -2147483648 -2147483649
         4294967295 4294967296 9223372036854775807 9223372036854775808 -9223372036854775808
         18446744073709551615 18446744073709551616 1.0 1e2 -0.0 0.5 "7" true false null {} []
         {"conns":9} [9])");
  for (std::string w; words >> w;) values.push_back(w);
  const char* const root[] = {"conn_capacity"};
  const char* const timeouts[] = {"tcp", "tcp_fin", "udp"};
  const char* const service[] = {
      "fwmark",     "port",  "sched_flags", "persistence_timeout", "persistence_prefix",
      "one_packet", "proto", "addr",        "scheduler",           "stats",
      "rates",      "dests"};
  const char* const server[] = {"port",          "weight",      "active_conns", "inactive_conns",
                                "persist_conns", "u_threshold", "l_threshold",  "tun_port",
                                "tun_flags",     "fwd",         "tun_type",     "addr",
                                "stats",         "rates"};
  const char* const counters[] = {"conns", "inpkts", "outpkts", "inbytes", "outbytes",
                                  "cps",   "inpps",  "outpps",  "inbps",   "outbps"};
  for (const std::string& v : values) {
    for (const char* k : root) both_ways(fmt::format(R"({{"{}": {}}})", k, v));
    for (const char* k : timeouts) both_ways(fmt::format(R"({{"timeouts": {{"{}": {}}}}})", k, v));
    for (const char* k : service) {
      both_ways(fmt::format(R"({{"services": [{{"addr": "198.18.0.1", "{}": {}}}]}})", k, v));
    }
    for (const char* k : server) {
      both_ways(fmt::format(R"({{"services": [{{"dests": [{{"{}": {}}}]}}]}})", k, v));
    }
    for (const char* k : counters) {
      both_ways(fmt::format(
          R"({{"services": [{{"stats": {{"{0}": {1}}}, "rates": {{"{0}": {1}}},
              "dests": [{{"stats": {{"{0}": {1}}}, "rates": {{"{0}": {1}}}}}]}}]}})",
          k, v));
    }
  }
  // Strings each member knows, and some it does not.
  for (const char* v :
       {"TCP",        "UDP",         "SCTP",  "FWM",     "udp",   "",    "Masq", "Tunnel",
        "FullNat",    "Local",       "Route", "masq",    "gue",   "gre", "ipip", "GUE",
        "198.18.0.1", "2001:db8::1", "::",    "0.0.0.0", "1.2.3", "rr"}) {
    for (const char* k : {"proto", "addr", "scheduler"}) {
      both_ways(fmt::format(R"({{"services": [{{"{}": "{}"}}]}})", k, v));
    }
    for (const char* k : {"fwd", "tun_type", "addr"}) {
      both_ways(fmt::format(R"({{"services": [{{"dests": [{{"{}": "{}"}}]}}]}})", k, v));
    }
  }
  const ListModel m = both_ways(R"({"services": [{"dests": [
      {"weight": -2147483648, "port": 65536, "tun_flags": 4294967296, "tun_port": -1},
      {"weight": 2147483648, "active_conns": 4294967295, "tun_flags": 3}]}]})");
  const auto& d = m.services.at(0).servers;
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].weight, std::numeric_limits<int32_t>::min());
  EXPECT_EQ(d[0].port, 0);
  EXPECT_EQ(d[0].tun_csum, TunCsum::kNoCsum);
  EXPECT_EQ(d[1].weight, 1);
  EXPECT_EQ(d[1].active_conns, 4294967295u);
  EXPECT_EQ(d[1].tun_csum, TunCsum::kRemCsum);
}

TEST(StateText, UnknownMembersAtAnyDepth) {
  for (const char* text : {
           R"({"total": {"services": [{"addr": "198.18.0.1"}]}, "services": [],
               "x": [[{"timeouts": {"tcp": 1}}]], "timeouts": {"x": {"tcp": 2}, "udp": 3}})",
           R"({"services": [{"x": {"dests": [{"weight": 9}], "stats": {"conns": 1}},
                             "y": [[{"addr": "1.2.3.4"}], {"port": 5}], "addr": "198.18.0.1",
                             "stats": {"conns": 4, "deep": {"conns": 5, "a": [1, {"b": 2}]}},
                             "dests": [{"z": {"weight": 3, "stats": {"conns": 2}},
                                        "stats": {"conns": 4, "deep": [{"conns": 5}]},
                                        "rates": {"cps": {"cps": 1}, "inpps": 2},
                                        "weight": 6, "w": [6, [7, {"weight": 8}]]}],
                             "key": "TCP 198.18.0.1:0"}]})",
           R"({"": 1, "services": [{"": {"": []}, "dests": [{"": null}]}]})",
           // Escapes decode before the names are compared.
           R"({"servic\u0065s": [{"addr": "198.18.0.1", "w\u0065ight": 1,
                                  "dests": [{"\u0077eight": 4}]}]})",
           R"({"services\u0000": [{"addr": "198.18.0.1"}], "services": [{"port\u0000": 5}]})",
       }) {
    both_ways(text);
  }
  const ListModel m = both_ways(R"({"services": [{"x": {"dests": [{"weight": 9}]},
      "dests": [{"z": {"weight": 3}, "stats": {"deep": {"conns": 5}}, "weight": 6}]}]})");
  ASSERT_EQ(m.services.at(0).servers.size(), 1u);
  EXPECT_EQ(m.services[0].servers[0].weight, 6);
  EXPECT_EQ(m.services[0].servers[0].stats.conns, 0u);
}

// The tree keeps a repeated key's last value; so does the text reader, also for what depends on
// several members (the persistence mask on the address family).
TEST(StateText, DuplicateKeys) {
  for (const char* text : {
           R"({"conn_capacity": 5, "conn_capacity": "x"})",
           R"({"conn_capacity": "x", "conn_capacity": 5})",
           R"({"timeouts": {"tcp": 1}, "timeouts": {"udp": 2}})",
           R"({"timeouts": {"tcp": 1, "tcp": 2, "udp": 3, "udp": null}})",
           R"({"timeouts": {"tcp": 1}, "timeouts": 7})",
           R"({"services": [{"addr": "198.18.0.1"}], "services": [{"addr": "198.18.0.2"}, {}]})",
           R"({"services": [{"addr": "198.18.0.1"}], "services": 7})",
           R"({"services": [{"addr": "198.18.0.1", "port": 80, "port": "x", "scheduler": "rr",
                             "scheduler": null, "one_packet": true, "one_packet": 1,
                             "proto": "UDP", "proto": 17, "fwmark": 3, "fwmark": -3}]})",
           R"({"services": [{"stats": {"conns": 5}, "stats": {"inpkts": 3},
                             "rates": {"cps": 5}, "rates": [], "dests": [{"weight": 2}],
                             "dests": [{"weight": 3}, {}]}]})",
           R"({"services": [{"dests": [{"weight": 2}], "dests": {}}]})",
           R"({"services": [{"dests": [{"weight": 5, "weight": "x", "fwd": "Masq", "fwd": 1,
                                        "tun_flags": 2, "tun_flags": 1.5, "tun_type": "gue",
                                        "tun_type": "x", "addr": "198.18.1.1", "addr": 4,
                                        "stats": {"conns": 5, "conns": -1},
                                        "stats": {"inpkts": 3}}]}]})",
           R"({"services": [{"addr": "2001:db8::1", "persistence_prefix": 64,
                             "persistence_timeout": 10, "addr": "198.18.0.1"}]})",
           R"({"services": [{"addr": "198.18.0.1", "persistence_prefix": 16,
                             "persistence_timeout": 10, "addr": "2001:db8::1"}]})",
           R"({"services": [{"persistence_prefix": 16, "persistence_timeout": 10,
                             "persistence_timeout": 0, "addr": "2001:db8::1",
                             "fwmark": 0, "fwmark": 4}]})",
           R"({"services": [{"addr": "2001:db8::1", "persistence_prefix": 16,
                             "persistence_prefix": "x"}]})",
       }) {
    both_ways(text);
  }
  const ListModel m = both_ways(R"({"services": [
      {"addr": "2001:db8::1", "persistence_prefix": 64, "addr": "198.18.0.1",
       "dests": [{"weight": 5, "weight": "x", "stats": {"conns": 5}, "stats": {"inpkts": 3}}]},
      {"persistence_prefix": 16, "addr": "2001:db8::1"}]})");
  ASSERT_EQ(m.services.size(), 2u);
  EXPECT_EQ(m.services[0].addr, ip("198.18.0.1"));
  EXPECT_EQ(m.services[0].netmask_v4, 0xffffffffu);  // 64 on IPv4: the whole address
  EXPECT_EQ(m.services[0].prefix_v6, 128);
  ASSERT_EQ(m.services[0].servers.size(), 1u);
  EXPECT_EQ(m.services[0].servers[0].weight, 1);
  EXPECT_EQ(m.services[0].servers[0].stats.conns, 0u);
  EXPECT_EQ(m.services[0].servers[0].stats.inpkts, 3u);
  EXPECT_EQ(m.services[1].fwmark_af, net::Family::kV6);
  EXPECT_EQ(m.services[1].prefix_v6, 16);
}

TEST(StateText, NotJsonIsNullopt) {
  for (const char* text : {"",
                           " ",
                           "{",
                           "}",
                           "[",
                           R"({"services": [})",
                           R"({"services": [{]})",
                           "nul",
                           "{} x",
                           "{}{}",
                           "[1,]",
                           R"({"a": 1,})",
                           R"({"a" 1})",
                           R"({'a': 1})",
                           "/* c */ {}",
                           "{} // c",
                           "NaN",
                           "Infinity",
                           R"({"a": 1e400})",
                           R"({"a": 01})",
                           R"({"a": "\x"})",
                           "{\"a\": \"\xff\"}",
                           "{\"a\": \"tab\there\"}"}) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(json::parse(text, nullptr, false).is_discarded());
    EXPECT_FALSE(model_from_state_text(text).has_value());
  }
}

// Documents of lvsd's shape with each member, at random, in lvsd's form or another (out of
// range, negative, float, another type, nested), missing, repeated or among unknown members;
// services and servers sometimes not objects.
class OddDocument {
 public:
  explicit OddDocument(uint32_t seed) : rng_(seed) {}

  std::string state() {
    std::vector<std::string> members = {
        member("conn_capacity", "262144"),
        member("timeouts", object({member("tcp", "600"), member("tcp_fin", "60"),
                                   member("udp", "200"), member("x", "1")})),
        member("total", object({member("conns", "30")})),
    };
    std::vector<std::string> services;
    for (uint32_t n = pick(5), i = 0; i < n; ++i) services.push_back(service());
    members.push_back(member("services", array(services)));
    return object(members);
  }

 private:
  uint32_t pick(uint32_t n) { return rng_() % n; }

  // `good` most of the time, else an odd value.
  std::string value(const std::string& good) {
    static const char* const kOdd[] = {"-1",
                                       "0",
                                       "1",
                                       "2",
                                       "3",
                                       "16",
                                       "24",
                                       "64",
                                       "128",
                                       "129",
                                       "65535",
                                       "65536",
                                       "2147483648",
                                       "-2147483649",
                                       "4294967295",
                                       "4294967296",
                                       "18446744073709551615",
                                       "18446744073709551616",
                                       "-0",
                                       "1.5",
                                       "1e2",
                                       "true",
                                       "false",
                                       "null",
                                       R"("")",
                                       R"("UDP")",
                                       R"("SCTP")",
                                       R"("Tunnel")",
                                       R"("Masq")",
                                       R"("gue")",
                                       R"("gre")",
                                       R"("198.18.0.9")",
                                       R"("2001:db8::9")",
                                       "{}",
                                       "[]",
                                       R"({"conns": 1, "cps": 2})",
                                       R"([{"weight": 4}])"};
    if (pick(3) != 0) return good;
    return kOdd[pick(std::size(kOdd))];
  }
  // Usually once, sometimes missing or twice (each time its own value).
  std::string member(const std::string& key, const std::string& good) {
    const uint32_t r = pick(8);
    if (r == 0) return "";
    std::string m = fmt::format(R"("{}": {})", key, value(good));
    if (r == 1) m += fmt::format(R"(, "{}": {})", key, value(good));
    return m;
  }
  std::string object(std::vector<std::string> members) {
    if (pick(4) == 0) members.push_back(member("unknown", R"({"weight": 3, "dests": [{}]})"));
    std::shuffle(members.begin(), members.end(), rng_);
    std::string out = "{";
    for (const std::string& m : members) {
      if (m.empty()) continue;
      if (out.size() > 1) out += ", ";
      out += m;
    }
    return out + "}";
  }
  std::string array(const std::vector<std::string>& items) {
    std::string out = "[";
    for (const std::string& i : items) {
      if (out.size() > 1) out += ", ";
      out += pick(10) == 0 ? value("7") : i;
    }
    return out + "]";
  }
  std::string counters(std::initializer_list<const char*> names) {
    std::vector<std::string> members;
    for (const char* n : names) members.push_back(member(n, std::to_string(rng_())));
    return object(members);
  }
  std::string addr() {
    return pick(2) == 0 ? fmt::format(R"("198.18.{}.{}")", pick(256), pick(256))
                        : fmt::format(R"("2001:db8::{:x}")", pick(65536));
  }
  std::string service() {
    static const char* const kProto[] = {R"("TCP")", R"("UDP")", R"("SCTP")", R"("FWM")"};
    std::vector<std::string> dests;
    for (uint32_t n = pick(4), i = 0; i < n; ++i) dests.push_back(server());
    return object({
        member("proto", kProto[pick(4)]),
        member("addr", addr()),
        member("port", std::to_string(pick(65536))),
        member("fwmark", pick(3) == 0 ? std::to_string(pick(100)) : "0"),
        member("scheduler", R"("wrr")"),
        member("sched_flags", std::to_string(pick(32))),
        member("persistence_timeout", std::to_string(pick(2) * pick(1000))),
        member("persistence_prefix", std::to_string(pick(130))),
        member("one_packet", pick(2) == 0 ? "true" : "false"),
        member("stats", counters({"conns", "inpkts", "outpkts", "inbytes", "outbytes"})),
        member("rates", counters({"cps", "inpps", "outpps", "inbps", "outbps"})),
        member("dests", array(dests)),
    });
  }
  std::string server() {
    static const char* const kFwd[] = {R"("Masq")", R"("Route")", R"("Tunnel")", R"("FullNat")",
                                       R"("Local")"};
    static const char* const kTun[] = {R"("ipip")", R"("gue")", R"("gre")"};
    return object({
        member("addr", addr()),
        member("port", std::to_string(pick(65536))),
        member("fwd", kFwd[pick(5)]),
        member("weight", std::to_string(pick(100))),
        member("active_conns", std::to_string(rng_())),
        member("inactive_conns", std::to_string(rng_())),
        member("persist_conns", std::to_string(rng_())),
        member("u_threshold", std::to_string(pick(1000))),
        member("l_threshold", std::to_string(pick(1000))),
        member("tun_type", kTun[pick(3)]),
        member("tun_port", std::to_string(pick(65536))),
        member("tun_flags", std::to_string(pick(4))),
        member("stats", counters({"conns", "inpkts", "outpkts", "inbytes", "outbytes"})),
        member("rates", counters({"cps", "inpps", "outpps", "inbps", "outbps"})),
    });
  }

  std::mt19937 rng_;
};

TEST(StateText, SameAsTreeForOddDocuments) {
  for (uint32_t seed = 1; seed <= 400; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    both_ways(OddDocument(seed).state());
    if (HasFatalFailure() || HasNonfatalFailure()) break;  // one document's report is enough
  }
}

// ---- /v1/conns ----

json entry(const char* caddr, uint16_t cport) {
  return {{"proto", 6},
          {"template", false},
          {"caddr", caddr},
          {"cport", cport},
          {"vaddr", "198.18.2.100"},
          {"vport", 80},
          {"daddr", "198.18.1.11"},
          {"dport", 80},
          {"fwmark", 0},
          {"fwd", "Masq"},
          {"state", "TIME_WAIT"},
          {"expires", 61}};
}

TEST(ConnsJson, Entries) {
  ListModel m;
  json entries = json::array({entry("198.18.0.1", 40000)});
  entries.push_back({{"proto", 0},
                     {"template", true},
                     {"caddr", "198.18.0.0"},
                     {"cport", 0},
                     {"vaddr", ""},
                     {"vport", 0},
                     {"daddr", "198.18.1.12"},
                     {"dport", 0},
                     {"fwmark", 7},
                     {"fwd", "Route"},
                     {"state", "NONE"},
                     {"expires", 300}});
  entries.push_back({{"proto", 17}, {"caddr", "2001:2::1"}, {"cport", 5353}, {"state", "UDP"}});
  add_connections(m, entries);
  ASSERT_EQ(m.connections.size(), 3u);
  const Connection& c = m.connections[0];
  EXPECT_EQ(c.protocol, kProtoTcp);
  EXPECT_EQ(c.expires, 61u);
  EXPECT_EQ(c.state, "TIME_WAIT");
  EXPECT_EQ(c.client.addr, ip("198.18.0.1"));
  EXPECT_EQ(c.client.port, 40000);
  EXPECT_EQ(c.virt.addr, ip("198.18.2.100"));
  EXPECT_EQ(c.virt.port, 80);
  EXPECT_EQ(c.dest.addr, ip("198.18.1.11"));
  EXPECT_EQ(c.dest.port, 80);
  EXPECT_FALSE(c.is_template);
  const Connection& t = m.connections[1];
  EXPECT_EQ(t.protocol, kProtoIp);
  EXPECT_TRUE(t.is_template);
  EXPECT_EQ(t.fwmark, 7u);
  EXPECT_EQ(t.virt.addr.family, net::Family::kNone);
  EXPECT_EQ(t.state, "NONE");
  const Connection& u = m.connections[2];
  EXPECT_EQ(u.protocol, kProtoUdp);
  EXPECT_EQ(u.client.addr, ip("2001:2::1"));
  EXPECT_EQ(u.expires, 0u);
  add_connections(m, json::object());  // not a list: nothing
  EXPECT_EQ(m.connections.size(), 3u);
}

TEST(ConnsJson, PageForms) {
  auto whole = parse_conns_page(json::array({entry("198.18.0.1", 1)}));
  ASSERT_TRUE(whole);
  EXPECT_TRUE(whole->whole_table);
  EXPECT_FALSE(whole->next_offset);
  EXPECT_EQ(whole->entries.size(), 1u);

  auto last = parse_conns_page(json::parse(R"({"conns": [], "next_offset": null, "matched": 0})"));
  ASSERT_TRUE(last);
  EXPECT_FALSE(last->whole_table);
  EXPECT_FALSE(last->next_offset);
  EXPECT_EQ(last->matched, 0u);

  auto more = parse_conns_page(json::parse(R"({"conns": [{}, {}], "next_offset": 2,
                                               "matched": 5})"));
  ASSERT_TRUE(more);
  EXPECT_EQ(more->next_offset, 2u);
  EXPECT_EQ(more->matched, 5u);
  EXPECT_EQ(more->entries.size(), 2u);

  // next_offset absent counts as the last page.
  auto bare = parse_conns_page(json::parse(R"({"conns": []})"));
  ASSERT_TRUE(bare);
  EXPECT_FALSE(bare->next_offset);
  EXPECT_FALSE(bare->matched);

  EXPECT_FALSE(parse_conns_page(json::parse(R"({"next_offset": null})")));
  EXPECT_FALSE(parse_conns_page(json::parse(R"({"conns": {}})")));
  EXPECT_FALSE(parse_conns_page(json::parse(R"({"conns": [], "next_offset": "10"})")));
  EXPECT_FALSE(parse_conns_page(json::parse(R"({"conns": [], "next_offset": -1})")));
  EXPECT_FALSE(parse_conns_page(json::parse(R"({"conns": [], "next_offset": 1.5})")));
  EXPECT_FALSE(parse_conns_page(json::parse(R"("conns")")));
  EXPECT_FALSE(parse_conns_page(json()));
}

TEST(ConnsJson, Target) {
  EXPECT_EQ(conns_target(0), "/v1/conns?offset=0&limit=100000");
  EXPECT_EQ(conns_target(200000, 10), "/v1/conns?offset=200000&limit=10");
}

// A table of `n` entries served in pages of `size`, as lvsd's conns_object pages it.
struct PagedTable {
  uint64_t n;
  uint64_t size;
  std::vector<uint64_t> asked;
  std::variant<json, std::string> operator()(uint64_t offset) {
    asked.push_back(offset);
    json conns = json::array();
    for (uint64_t i = offset; i < n && i < offset + size; ++i) {
      conns.push_back(entry("198.18.0.1", uint16_t(i)));
    }
    const uint64_t next = offset + conns.size();
    return json{
        {"conns", conns}, {"matched", n}, {"next_offset", next < n ? json(next) : json(nullptr)}};
  }
};

TEST(ConnsFetch, EveryPageInOrder) {
  PagedTable t{7, 3, {}};
  ListModel m;
  EXPECT_EQ(fetch_connections(m, std::ref(t)), std::nullopt);
  EXPECT_EQ(t.asked, (std::vector<uint64_t>{0, 3, 6}));
  ASSERT_EQ(m.connections.size(), 7u);
  for (uint16_t i = 0; i < 7; ++i) EXPECT_EQ(m.connections[i].client.port, i);
}

TEST(ConnsFetch, ExactPagesAndEmptyTable) {
  PagedTable t{6, 3, {}};
  ListModel m;
  EXPECT_EQ(fetch_connections(m, std::ref(t)), std::nullopt);
  EXPECT_EQ(t.asked, (std::vector<uint64_t>{0, 3}));
  EXPECT_EQ(m.connections.size(), 6u);
  PagedTable empty{0, 3, {}};
  ListModel e;
  EXPECT_EQ(fetch_connections(e, std::ref(empty)), std::nullopt);
  EXPECT_EQ(empty.asked.size(), 1u);
  EXPECT_TRUE(e.connections.empty());
}

// An older lvsd: the whole table as an array, at once.
TEST(ConnsFetch, OlderLvsdArray) {
  int calls = 0;
  ListModel m;
  EXPECT_EQ(
      fetch_connections(m,
                        [&](uint64_t) -> std::variant<json, std::string> {
                          ++calls;
                          return json::array({entry("198.18.0.1", 1), entry("198.18.0.2", 2)});
                        }),
      std::nullopt);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(m.connections.size(), 2u);
}

TEST(ConnsFetch, FetchErrorIsPassedOn) {
  ListModel m;
  auto r = fetch_connections(m, [&](uint64_t offset) -> std::variant<json, std::string> {
    if (offset == 0)
      return json{{"conns", {entry("198.18.0.1", 1)}}, {"next_offset", 1}, {"matched", 2}};
    return std::string("Can't reach lvsd");
  });
  EXPECT_EQ(r, "Can't reach lvsd");
  EXPECT_EQ(m.connections.size(), 1u);  // what was read stays
}

TEST(ConnsFetch, BrokenPagesStop) {
  ListModel m;
  auto not_page = fetch_connections(m, [](uint64_t) -> std::variant<json, std::string> {
    return json{{"error", "x"}};
  });
  EXPECT_EQ(not_page, "lvsd's answer to GET /v1/conns is not a page of connections");

  auto stuck = fetch_connections(m, [](uint64_t offset) -> std::variant<json, std::string> {
    return json{{"conns", json::array()}, {"next_offset", offset}, {"matched", 10}};
  });
  EXPECT_EQ(stuck, "lvsd's /v1/conns pages do not move forward (offset 0 after 0)");

  auto back = fetch_connections(m, [](uint64_t offset) -> std::variant<json, std::string> {
    return json{
        {"conns", {entry("198.18.0.1", 1)}}, {"next_offset", offset == 0 ? 5 : 3}, {"matched", 10}};
  });
  EXPECT_EQ(back, "lvsd's /v1/conns pages do not move forward (offset 3 after 5)");

  auto mixed = fetch_connections(m, [](uint64_t offset) -> std::variant<json, std::string> {
    if (offset == 0) return json{{"conns", {entry("198.18.0.1", 1)}}, {"next_offset", 1}};
    return json::array({entry("198.18.0.1", 1)});
  });
  EXPECT_EQ(mixed, "lvsd answered GET /v1/conns with the whole table after the first page");
}

// A table that keeps growing as it is read: the walk ends after the pages the first answer
// counted plus kConnsSlackPages.
TEST(ConnsFetch, BoundedWalk) {
  uint64_t calls = 0;
  ListModel m;
  auto r = fetch_connections(m, [&](uint64_t offset) -> std::variant<json, std::string> {
    ++calls;
    return json{{"conns", {entry("198.18.0.1", 1), entry("198.18.0.1", 2)}},
                {"next_offset", offset + 2},
                {"matched", offset + 5}};
  });
  // First page: matched 5 in pages of 2 -> 5/2 + 1 = 3 pages, plus the slack.
  const uint64_t pages = 3 + kConnsSlackPages;
  EXPECT_EQ(calls, pages);
  EXPECT_EQ(r, "lvsd's /v1/conns pages do not end: stopped after " + std::to_string(pages) +
                   " pages (" + std::to_string(2 * pages) + " entries)");
  EXPECT_EQ(m.connections.size(), 2 * pages);
  // A table that grows as fast as it is read, but by less than the slack, is read whole.
  uint64_t n = 5;
  ListModel g;
  EXPECT_EQ(fetch_connections(g,
                              [&](uint64_t offset) -> std::variant<json, std::string> {
                                n = std::min<uint64_t>(n + 2, 30);
                                json conns = json::array();
                                for (uint64_t i = offset; i < n && i < offset + 2; ++i) {
                                  conns.push_back(entry("198.18.0.1", uint16_t(i)));
                                }
                                const uint64_t next = offset + conns.size();
                                return json{{"conns", conns},
                                            {"matched", n},
                                            {"next_offset", next < n ? json(next) : json()}};
                              }),
            std::nullopt);
  EXPECT_EQ(g.connections.size(), 30u);
}

}  // namespace
}  // namespace lvs::adm
