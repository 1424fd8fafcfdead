// lvsd's JSON answers (docs/API.md, as src/daemon/director.cc writes them) into lvsadm's listing
// model, and the /v1/conns page walk.
#include "adm/state_json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
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
TEST(StateJson, RatesAbsentAreZero) {
  const ListModel m = model_from_state(json::parse(R"({"services": [
      {"proto": "UDP", "addr": "198.18.2.100", "port": 53, "scheduler": "rr",
       "stats": {"conns": 5},
       "dests": [{"addr": "198.18.1.11", "port": 53, "fwd": "Route", "weight": 3,
                  "stats": {"conns": 5}}]}]})"));
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
TEST(StateJson, OddMembersTakeDefaults) {
  const ListModel m = model_from_state(json::parse(R"({"conn_capacity": "big",
      "timeouts": [1, 2],
      "services": [
        {"proto": 6, "addr": 17, "port": 70000, "scheduler": null, "fwmark": -1,
         "persistence_timeout": 1.5, "one_packet": 1, "stats": [], "rates": "fast",
         "dests": [{"addr": "nowhere", "port": "80", "weight": -2, "active_conns": -1,
                    "tun_flags": "x", "rates": {"cps": -3, "inpps": 7}}]},
        "not a service"],
      "ignored": true})"));
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
