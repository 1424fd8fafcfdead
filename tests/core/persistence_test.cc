// Persistence as IPVS does it (ip_vs_sched_persist, ip_vs_check_template, ip_vs_conn_expire):
// templates pin a client network to a real server, across ports for port-0 and fwmark services,
// last while they control connections, and give way when their server does.
#include <gtest/gtest.h>

#include "core/engine.h"
#include "fixtures/topology.h"
#include "net/parse.h"

namespace lvs::core {
namespace {

using fixtures::kExt;
using fixtures::kExtMac;
using fixtures::kRouterMac;
using fixtures::kRs1;
using fixtures::kRs2;
using fixtures::kVip;
using net::PacketBuilder;

constexpr Nanos kSec = kNanosPerSec;

class Rig {
 public:
  explicit Rig(EngineConfig cfg = fixtures::test_config()) : engine(cfg), routes(fixtures::make_routes()) {
    engine.set_routes(routes.get());
  }
  // A SYN from `client`:`sport` to the VIP:`dport` at time `t` seconds; the real server chosen.
  net::IpAddr syn(const char* client, uint16_t sport, uint16_t dport, double t, uint32_t mark = 0) {
    auto f = PacketBuilder().eth(kRouterMac, kExtMac).ipv4(net::ip(client), kVip)
                 .tcp(sport, dport, net::kTcpSyn).build();
    buf.assign(2048, 0);
    std::memcpy(buf.data() + 128, f.data(), f.size());
    Packet p;
    p.data = buf.data() + 128;
    p.len = uint32_t(f.size());
    p.headroom = 128;
    p.tailroom = uint32_t(buf.size() - 128 - f.size());
    p.ifindex = kExt;
    p.mark = mark;
    engine.process(std::span(&p, 1), Nanos(t * double(kSec)));
    last = p;
    if (p.verdict != Verdict::kTx) return {};
    const auto parsed = net::parse_packet(p.data, p.len);
    last_dport = parsed.dport;
    return net::IpAddr::v4(p.data + parsed.l3_offset + 16);
  }
  std::vector<ConnSnapshot> templates() const { return engine.list_conns(true); }
  const DestSnapshot& dest(const net::IpAddr& a) {
    snap = engine.snapshot();
    for (const auto& d : snap.at(0).dests) {
      if (d.addr == a) return d;
    }
    throw std::runtime_error("no such dest");
  }

  Engine engine;
  std::unique_ptr<RouteTable> routes;
  std::vector<uint8_t> buf;
  Packet last;
  uint16_t last_dport = 0;
  std::vector<ServiceSnapshot> snap;
};

ServiceSpec persistent(uint16_t port, uint32_t timeout = 360, uint8_t prefix = 32) {
  ServiceSpec s{ServiceKey{6, kVip, port, 0}, "rr", 0};
  s.persistence_timeout = timeout;
  s.persistence_prefix = prefix;
  return s;
}

void add_two(Rig& r, const ServiceKey& k, uint16_t port) {
  ASSERT_TRUE(r.engine.add_dest(k, {kRs2, port, Fwd::kNat, 1, 0, 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(k, {kRs1, port, Fwd::kNat, 1, 0, 0}).ok());
}

TEST(Persistence, PinsAClientAcrossConnections) {
  Rig r;
  const auto spec = persistent(80);
  ASSERT_TRUE(r.engine.add_service(spec).ok());
  add_two(r, spec.key, 8080);
  const net::IpAddr first = r.syn("198.18.0.1", 1000, 80, 1);
  for (uint16_t port = 1001; port < 1010; ++port) EXPECT_EQ(r.syn("198.18.0.1", port, 80, 1), first);
  // Another client is scheduled afresh: rr moves on to the other server.
  EXPECT_NE(r.syn("198.18.0.2", 1000, 80, 1), first);
  const auto t = r.templates();
  ASSERT_EQ(t.size(), 2u);
  for (const auto& tpl : t) {
    EXPECT_EQ(tpl.cport, 0);
    EXPECT_EQ(tpl.vport, 80);
    EXPECT_EQ(tpl.state, "NONE");
  }
  EXPECT_EQ(r.dest(first).persist_conns, 1u);
  EXPECT_EQ(r.dest(first).inactive_conns, 10u);  // connections count as usual
  EXPECT_EQ(r.last_dport, 8080);
}

TEST(Persistence, GranularityPinsANetwork) {
  Rig r;
  const auto spec = persistent(80, 360, 24);
  ASSERT_TRUE(r.engine.add_service(spec).ok());
  add_two(r, spec.key, 8080);
  const net::IpAddr first = r.syn("198.18.0.1", 1000, 80, 1);
  EXPECT_EQ(r.syn("198.18.0.77", 1000, 80, 1), first);
  EXPECT_EQ(r.syn("198.18.0.200", 1000, 80, 1), first);
  ASSERT_EQ(r.templates().size(), 1u);
  EXPECT_EQ(r.templates()[0].caddr, net::ip("198.18.0.0"));
  EXPECT_EQ(r.templates()[0].n_control, 3u);
  EXPECT_NE(r.syn("198.18.1.1", 1000, 80, 1), first);  // another /24
}

TEST(Persistence, TemplateLastsWhileItControlsConnections) {
  Rig r;
  const auto spec = persistent(80, 30);
  ASSERT_TRUE(r.engine.add_service(spec).ok());
  add_two(r, spec.key, 8080);
  const net::IpAddr first = r.syn("198.18.0.1", 1000, 80, 1);  // SYN_RECV: 60 s
  r.engine.expire(Nanos(40 * kSec));  // past the template's 30 s, but it controls a connection
  ASSERT_EQ(r.templates().size(), 1u);
  EXPECT_EQ(r.syn("198.18.0.1", 1001, 80, 40), first);  // the second connection extends it
  r.engine.expire(Nanos(101 * kSec));  // both connections gone (60 s after their SYNs)
  EXPECT_EQ(r.engine.conns().size(), 1u);  // the template alone
  r.engine.expire(Nanos(171 * kSec));  // its re-armed timeout ran out with nothing to control
  EXPECT_EQ(r.engine.conns().size(), 0u);
  EXPECT_EQ(r.dest(first).persist_conns, 0u);
}

TEST(Persistence, PortZeroServiceKeepsTheClientAcrossPorts) {
  Rig r;
  const auto spec = persistent(0);
  ASSERT_TRUE(r.engine.add_service(spec).ok());
  add_two(r, spec.key, 0);
  const net::IpAddr first = r.syn("198.18.0.1", 1000, 80, 1);
  EXPECT_EQ(r.last_dport, 80);  // the client's port is kept
  EXPECT_EQ(r.syn("198.18.0.1", 1001, 443, 1), first);
  EXPECT_EQ(r.last_dport, 443);
  EXPECT_EQ(r.syn("198.18.0.1", 1002, 21, 1), first);
  ASSERT_EQ(r.templates().size(), 1u);
  EXPECT_EQ(r.templates()[0].vport, 0);
}

TEST(Persistence, PortZeroNeedsPersistence) {
  Rig r;
  EXPECT_FALSE(r.engine.add_service({ServiceKey{6, kVip, 0, 0}, "rr", 0}).ok());
}

TEST(Persistence, FwmarkTemplatesHoldTheMark) {
  Rig r;
  ServiceSpec spec{ServiceKey::fwmark_key(net::Family::kV4, 9), "rr", 0};
  spec.persistence_timeout = 100;
  ASSERT_TRUE(r.engine.add_service(spec).ok());
  add_two(r, spec.key, 0);
  const net::IpAddr first = r.syn("198.18.0.1", 1000, 80, 1, 9);
  EXPECT_EQ(r.syn("198.18.0.1", 1001, 8443, 1, 9), first);
  const auto t = r.templates();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].proto, 0);
  EXPECT_EQ(t[0].fwmark, 9u);
}

TEST(Persistence, ARemovedServerReleasesItsClients) {
  Rig r;
  const auto spec = persistent(80);
  ASSERT_TRUE(r.engine.add_service(spec).ok());
  add_two(r, spec.key, 8080);
  const net::IpAddr first = r.syn("198.18.0.1", 1000, 80, 1);
  ASSERT_TRUE(r.engine.del_dest(spec.key, first, 8080).ok());
  const net::IpAddr second = r.syn("198.18.0.1", 1001, 80, 2);
  EXPECT_FALSE(second == first);
  // The old template no longer matches but lives on while its connection does.
  EXPECT_EQ(r.templates().size(), 2u);
}

TEST(Persistence, QuiescedServerKeepsItsClientsUnlessExpireQuiescentTemplate) {
  for (bool expire_quiescent : {false, true}) {
    EngineConfig cfg = fixtures::test_config();
    cfg.expire_quiescent_template = expire_quiescent;
    Rig r(cfg);
    const auto spec = persistent(80);
    ASSERT_TRUE(r.engine.add_service(spec).ok());
    add_two(r, spec.key, 8080);
    const net::IpAddr first = r.syn("198.18.0.1", 1000, 80, 1);
    ASSERT_TRUE(r.engine.edit_dest(spec.key, {first, 8080, Fwd::kNat, 0, 0, 0}).ok());
    const net::IpAddr again = r.syn("198.18.0.1", 1001, 80, 2);
    EXPECT_EQ(again == first, !expire_quiescent) << "expire_quiescent_template " << expire_quiescent;
  }
}

TEST(Persistence, PacketsNeverMatchATemplate) {
  Rig r;
  ServiceSpec spec = persistent(80);
  ASSERT_TRUE(r.engine.add_service(spec).ok());
  add_two(r, spec.key, 8080);
  r.syn("198.18.0.1", 1000, 80, 1);
  // Source port 0 gives a packet the template's client-side key; it must not be forwarded as
  // if the template were a connection (a SYN from port 0 starts a connection of its own).
  const size_t before = r.engine.conns().size();
  r.syn("198.18.0.1", 0, 80, 1);
  EXPECT_EQ(r.engine.conns().size(), before + 1);
  EXPECT_EQ(r.templates().size(), 1u);
  EXPECT_EQ(r.templates()[0].n_control, 2u);
}

TEST(Persistence, ListingShowsConnectionsAndExpiry) {
  Rig r;
  ASSERT_TRUE(r.engine.add_service(persistent(80, 300)).ok());
  add_two(r, persistent(80).key, 8080);
  r.syn("198.18.0.1", 1000, 80, 10);
  const auto all = r.engine.list_conns();
  ASSERT_EQ(all.size(), 2u);
  size_t n_template = 0;
  for (const auto& c : all) {
    if (c.is_template) {
      ++n_template;
      EXPECT_EQ(c.expires_in_s, 300u);
    } else {
      EXPECT_EQ(c.state, "SYN_RECV");
      EXPECT_EQ(c.expires_in_s, 60u);
      EXPECT_EQ(c.cport, 1000);
    }
  }
  EXPECT_EQ(n_template, 1u);
}

}  // namespace
}  // namespace lvs::core
