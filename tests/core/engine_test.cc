// Engine behaviour beyond single packets: connection counters as IPVS keeps them, expiry,
// draining, connection reuse, errors, drop accounting and steering.
#include <gtest/gtest.h>

#include "core/engine.h"
#include "fixtures/topology.h"
#include "net/checksum.h"
#include "net/parse.h"

namespace lvs::core {
namespace {

using fixtures::kClient;
using fixtures::kExt;
using fixtures::kExtMac;
using fixtures::kInt;
using fixtures::kIntMac;
using fixtures::kRouterMac;
using fixtures::kRs1;
using fixtures::kRs2;
using fixtures::kVip;
using net::PacketBuilder;

constexpr Nanos kSec = kNanosPerSec;
const ServiceKey kTcp{6, kVip, 80, 0};
const ServiceKey kUdp{17, kVip, 53, 0};

class Rig {
 public:
  explicit Rig(EngineConfig cfg = fixtures::test_config()) : engine(cfg), routes(fixtures::make_routes()) {
    engine.set_routes(routes.get());
  }
  // Sends one frame at time `now` (seconds); returns the packet as the engine left it.
  Packet send(const std::vector<uint8_t>& frame, double now_s, uint32_t mark = 0) {
    buf.assign(4096, 0);
    std::memcpy(buf.data() + 256, frame.data(), frame.size());
    Packet p;
    p.data = buf.data() + 256;
    p.len = uint32_t(frame.size());
    p.headroom = 256;
    p.tailroom = uint32_t(buf.size() - 256 - frame.size());
    p.ifindex = kExt;
    p.mark = mark;
    engine.process(std::span(&p, 1), Nanos(now_s * double(kSec)));
    last = std::vector<uint8_t>(p.data, p.data + p.len);
    return p;
  }
  Packet tcp_in(uint16_t sport, uint8_t flags, double now_s) {
    return send(PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip)
                    .tcp(sport, 80, flags).build(), now_s);
  }
  Packet tcp_out(const net::IpAddr& rs, uint16_t rport, uint16_t dport, uint8_t flags, double now_s) {
    return send(PacketBuilder().eth(fixtures::kRs1Mac, kIntMac).ipv4(rs, kClient)
                    .tcp(rport, dport, flags).build(), now_s);
  }
  const DestSnapshot& dest(size_t svc, size_t i) {
    snap = engine.snapshot();
    return snap.at(svc).dests.at(i);
  }
  uint64_t drops(DropReason r) const { return engine.counters().drops[size_t(r)]; }

  Engine engine;
  std::unique_ptr<RouteTable> routes;
  std::vector<uint8_t> buf, last;
  std::vector<ServiceSnapshot> snap;
};

void add_nat(Rig& r, const char* sched = "rr") {
  ASSERT_TRUE(r.engine.add_service({kTcp, sched, 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(kTcp, {kRs2, 80, Fwd::kNat, 1, 0, 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(kTcp, {kRs1, 80, Fwd::kNat, 1, 0, 0}).ok());
}

net::IpAddr dst_of(const std::vector<uint8_t>& frame) {
  auto p = net::parse_packet(frame.data(), frame.size());
  return net::IpAddr::v4(frame.data() + p.l3_offset + 16);
}

TEST(Engine, ControlErrors) {
  Rig r;
  EXPECT_FALSE(r.engine.add_service({kTcp, "nope", 0}).ok());
  EXPECT_NE(r.engine.add_service({kTcp, "nope", 0}).message().find("(known: rr, wrr"),
            std::string::npos);
  ASSERT_TRUE(r.engine.add_service({kTcp, "rr", 0}).ok());
  EXPECT_FALSE(r.engine.add_service({kTcp, "rr", 0}).ok());
  EXPECT_FALSE(r.engine.add_dest(kUdp, {kRs1, 80, Fwd::kNat, 1, 0, 0}).ok());
  EXPECT_TRUE(r.engine.add_dest(kTcp, {kRs1, 80, Fwd::kNat, 1, 0, 0}).ok());
  EXPECT_FALSE(r.engine.add_dest(kTcp, {kRs1, 80, Fwd::kNat, 1, 0, 0}).ok());
  EXPECT_FALSE(r.engine.add_dest(kTcp, {net::ip("2001:2::5"), 80, Fwd::kNat, 1, 0, 0}).ok());
  EXPECT_FALSE(r.engine.add_dest(kTcp, {kRs2, 80, Fwd::kNat, -1, 0, 0}).ok());
  EXPECT_FALSE(r.engine.add_dest(kTcp, {kRs2, 80, Fwd::kNat, 1, 0, 5}).ok());  // l > u
  EXPECT_FALSE(r.engine.add_dest(kTcp, {kRs2, 80, Fwd::kNat, 1, 4, 5}).ok());
  // A refused edit changes nothing: an unknown scheduler leaves persistence as it was.
  ServiceSpec bad{kTcp, "nope", 0};
  bad.persistence_timeout = 99;
  EXPECT_FALSE(r.engine.edit_service(bad).ok());
  EXPECT_EQ(r.engine.snapshot()[0].persistence_timeout, 0u);
  EXPECT_FALSE(r.engine.edit_dest(kTcp, {kRs2, 80, Fwd::kNat, 1, 0, 0}).ok());
  EXPECT_FALSE(r.engine.del_dest(kTcp, kRs2, 80).ok());
  EXPECT_FALSE(r.engine.del_service(kUdp).ok());
  EXPECT_TRUE(r.engine.edit_service({kTcp, "wlc", 0}).ok());
  EXPECT_EQ(r.engine.snapshot()[0].sched_name, "wlc");
}

TEST(Engine, DestListIsNewestFirstAndDrPortIsServicePort) {
  Rig r;
  ASSERT_TRUE(r.engine.add_service({kTcp, "rr", 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(kTcp, {kRs1, 8080, Fwd::kDr, 1, 0, 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(kTcp, {kRs2, 8080, Fwd::kNat, 1, 0, 0}).ok());
  auto s = r.engine.snapshot();
  ASSERT_EQ(s[0].dests.size(), 2u);
  EXPECT_EQ(s[0].dests[0].addr, kRs2);
  EXPECT_EQ(s[0].dests[0].port, 8080);
  EXPECT_EQ(s[0].dests[1].addr, kRs1);
  EXPECT_EQ(s[0].dests[1].port, 80);  // DR: the service's port
}

TEST(Engine, CountersFollowIpvsStates) {
  Rig r;
  add_nat(r);
  EXPECT_EQ(r.tcp_in(1000, net::kTcpSyn, 1).verdict, Verdict::kTx);
  // The list is newest first: rs1 (added last) is index 0 and rr's first pick.
  // New connections start inactive (IPVS sets IP_VS_CONN_F_INACTIVE on every new one).
  EXPECT_EQ(r.dest(0, 0).addr, kRs1);
  EXPECT_EQ(r.dest(0, 0).inactive_conns, 1u);
  EXPECT_EQ(r.dest(0, 0).active_conns, 0u);
  EXPECT_EQ(r.dest(0, 1).inactive_conns, 0u);
  r.tcp_out(kRs1, 80, 1000, net::kTcpSyn | net::kTcpAck, 1);
  r.tcp_in(1000, net::kTcpAck, 1);  // SYN_RECV -> ESTABLISHED
  EXPECT_EQ(r.dest(0, 0).active_conns, 1u);
  EXPECT_EQ(r.dest(0, 0).inactive_conns, 0u);
  r.tcp_in(1000, net::kTcpFin | net::kTcpAck, 2);  // ESTABLISHED -> CLOSE_WAIT
  EXPECT_EQ(r.dest(0, 0).active_conns, 0u);
  EXPECT_EQ(r.dest(0, 0).inactive_conns, 1u);
  const auto snap = r.engine.snapshot();
  const auto& s = snap[0];
  EXPECT_EQ(s.stats.conns, 1u);
  EXPECT_EQ(s.stats.inpkts, 3u);
  EXPECT_EQ(s.stats.outpkts, 1u);
  EXPECT_EQ(s.dests[0].stats.inbytes, 3u * 40);
  EXPECT_EQ(r.engine.counters().total.conns, 1u);
}

TEST(Engine, UdpConnectionsAreInactiveAndExpireAfter300s) {
  Rig r;
  ASSERT_TRUE(r.engine.add_service({kUdp, "rr", 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(kUdp, {kRs1, 53, Fwd::kNat, 1, 0, 0}).ok());
  auto q = PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip).udp(999, 53).build();
  EXPECT_EQ(r.send(q, 10).verdict, Verdict::kTx);
  EXPECT_EQ(r.dest(0, 0).inactive_conns, 1u);
  EXPECT_EQ(r.engine.conns().size(), 1u);
  r.engine.expire(Nanos((10 + 299) * kSec));
  EXPECT_EQ(r.engine.conns().size(), 1u);
  EXPECT_EQ(r.send(q, 309).verdict, Verdict::kTx);  // refreshes the timeout
  r.engine.expire(Nanos((309 + 299) * kSec));
  EXPECT_EQ(r.engine.conns().size(), 1u);
  r.engine.expire(Nanos((309 + 301) * kSec));
  EXPECT_EQ(r.engine.conns().size(), 0u);
  EXPECT_EQ(r.dest(0, 0).inactive_conns, 0u);
  EXPECT_EQ(r.engine.counters().conns_expired, 1u);
}

TEST(Engine, TcpTimeoutsPerState) {
  Rig r;
  add_nat(r);
  r.tcp_in(1000, net::kTcpSyn, 100);  // SYN_RECV: 60 s
  r.engine.expire(Nanos(159 * kSec));
  EXPECT_EQ(r.engine.conns().size(), 1u);
  r.engine.expire(Nanos(161 * kSec));
  EXPECT_EQ(r.engine.conns().size(), 0u);

  r.tcp_in(1001, net::kTcpSyn, 200);
  r.tcp_in(1001, net::kTcpAck, 200);  // ESTABLISHED: 900 s, beyond the wheel's horizon
  r.engine.expire(Nanos(1099 * kSec));
  EXPECT_EQ(r.engine.conns().size(), 1u);
  r.tcp_in(1001, net::kTcpRst, 1099);  // CLOSE: 10 s; an earlier expiry than its slot
  r.engine.expire(Nanos(1108 * kSec));
  EXPECT_EQ(r.engine.conns().size(), 1u);
  r.engine.expire(Nanos(1110 * kSec));
  EXPECT_EQ(r.engine.conns().size(), 0u);
}

TEST(Engine, SetTimeoutsApplies) {
  Rig r;
  add_nat(r);
  Timeouts t;
  t.tcp[kTcpSynRecv] = 5;
  r.engine.set_timeouts(t);
  r.tcp_in(1000, net::kTcpSyn, 100);
  r.engine.expire(Nanos(106 * kSec));
  EXPECT_EQ(r.engine.conns().size(), 0u);
}

TEST(Engine, RemovedServerDrainsAndReturnsWithItsCounters) {
  Rig r;
  add_nat(r);
  r.tcp_in(1000, net::kTcpSyn, 1);  // -> rs1
  r.tcp_in(1000, net::kTcpAck, 1);
  ASSERT_TRUE(r.engine.del_dest(kTcp, kRs1, 80).ok());
  // The live connection keeps flowing to rs1 (expire_nodest_conn is off by default).
  EXPECT_EQ(r.tcp_in(1000, net::kTcpAck, 2).verdict, Verdict::kTx);
  EXPECT_EQ(dst_of(r.last), kRs1);
  // New connections go elsewhere only.
  for (uint16_t port = 2000; port < 2010; ++port) {
    EXPECT_EQ(r.tcp_in(port, net::kTcpSyn, 3).verdict, Verdict::kTx);
    EXPECT_EQ(dst_of(r.last), kRs2);
  }
  // Re-adding it revives the same entry: its live connection is counted again.
  ASSERT_TRUE(r.engine.add_dest(kTcp, {kRs1, 80, Fwd::kNat, 1, 0, 0}).ok());
  EXPECT_EQ(r.dest(0, 0).addr, kRs1);
  EXPECT_EQ(r.dest(0, 0).active_conns, 1u);
}

TEST(Engine, ExpireNodestConnDropsConnectionsOfRemovedServers) {
  EngineConfig cfg = fixtures::test_config();
  cfg.expire_nodest_conn = true;
  Rig r(cfg);
  add_nat(r);
  r.tcp_in(1000, net::kTcpSyn, 1);
  ASSERT_TRUE(r.engine.del_dest(kTcp, kRs1, 80).ok());
  EXPECT_EQ(r.tcp_in(1000, net::kTcpAck, 2).verdict, Verdict::kDrop);
  EXPECT_EQ(r.drops(DropReason::kDestUnavailable), 1u);
  EXPECT_EQ(r.engine.conns().size(), 0u);
}

TEST(Engine, SynOnTimeWaitStartsANewConnection) {
  Rig r;
  add_nat(r);
  r.tcp_in(1000, net::kTcpSyn, 1);  // rs1
  r.tcp_out(kRs1, 80, 1000, net::kTcpSyn | net::kTcpAck, 1);
  r.tcp_in(1000, net::kTcpAck, 1);
  r.tcp_in(1000, net::kTcpFin | net::kTcpAck, 2);
  r.tcp_out(kRs1, 80, 1000, net::kTcpFin | net::kTcpAck, 2);  // -> TIME_WAIT
  EXPECT_EQ(r.tcp_in(1000, net::kTcpSyn, 3).verdict, Verdict::kTx);
  EXPECT_EQ(dst_of(r.last), kRs2);  // rescheduled: rr moved on
  EXPECT_EQ(r.engine.conns().size(), 1u);
  EXPECT_EQ(r.engine.counters().total.conns, 2u);
}

TEST(Engine, QuiescedServerGetsNoNewConnections) {
  Rig r;
  add_nat(r, "wlc");
  ASSERT_TRUE(r.engine.edit_dest(kTcp, {kRs1, 80, Fwd::kNat, 0, 0, 0}).ok());
  for (uint16_t port = 2000; port < 2010; ++port) {
    r.tcp_in(port, net::kTcpSyn, 1);
    EXPECT_EQ(dst_of(r.last), kRs2);
  }
}

TEST(Engine, NoRealServerAnswersWithPortUnreachable) {
  Rig r;
  ASSERT_TRUE(r.engine.add_service({kTcp, "rr", 0}).ok());
  auto syn = PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip).tcp(1000, 80, net::kTcpSyn).build();
  Packet p = r.send(syn, 1);
  EXPECT_EQ(p.verdict, Verdict::kTx);
  EXPECT_EQ(p.reason, DropReason::kNoRealServer);
  EXPECT_EQ(p.out_ifindex, kExt);
  EXPECT_EQ(r.drops(DropReason::kNoRealServer), 1u);
  EXPECT_EQ(r.engine.counters().icmp_sent, 1u);
  // The exact error: from the VIP to the client, quoting the whole 40-byte SYN, TOS 0xc0 (the
  // kernel's icmp_send: internetwork control precedence).
  std::vector<uint8_t> quoted(syn.begin() + 14, syn.end());
  auto expect = PacketBuilder().eth(kExtMac, kRouterMac).ipv4(kVip, kClient).tos(0xc0)
                    .dont_fragment(false)
                    .icmp(net::kIcmpDestUnreach, net::kIcmpPortUnreach).payload(quoted).build();
  EXPECT_EQ(r.last, expect);
}

TEST(Engine, IcmpErrorsAreRateLimited) {
  EngineConfig cfg = fixtures::test_config();
  cfg.icmp_burst = 3;
  cfg.icmp_rate_per_sec = 1;
  Rig r(cfg);
  ASSERT_TRUE(r.engine.add_service({kTcp, "rr", 0}).ok());
  int sent = 0;
  for (int i = 0; i < 10; ++i) sent += r.tcp_in(uint16_t(1000 + i), net::kTcpSyn, 1).verdict == Verdict::kTx;
  EXPECT_EQ(sent, 3);
  EXPECT_EQ(r.drops(DropReason::kNoRealServer), 10u);
  EXPECT_EQ(r.tcp_in(2000, net::kTcpSyn, 2.5).verdict, Verdict::kTx);  // refilled
}

TEST(Engine, TableFull) {
  EngineConfig cfg = fixtures::test_config();
  cfg.conn_capacity = 16;
  Rig r(cfg);
  add_nat(r);
  for (uint16_t port = 0; port < 16; ++port) EXPECT_EQ(r.tcp_in(port + 1, net::kTcpSyn, 1).verdict, Verdict::kTx);
  EXPECT_EQ(r.tcp_in(100, net::kTcpSyn, 1).reason, DropReason::kTableFull);
  EXPECT_EQ(r.engine.conns().size(), 16u);
}

TEST(Engine, MalformedPacketsChangeOnlyTheirDropReason) {
  Rig r;
  add_nat(r);
  r.tcp_in(1000, net::kTcpSyn, 1);
  const auto before_snap = r.engine.snapshot();
  const EngineCounters before = r.engine.counters();
  auto good = PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip).tcp(1000, 80, net::kTcpAck).build();
  struct Case { std::vector<uint8_t> frame; DropReason reason; };
  std::vector<Case> cases;
  { auto f = good; f[14 + 10] ^= 0xff; cases.push_back({f, DropReason::kBadIpChecksum}); }
  { auto f = good; f.resize(14 + 10); cases.push_back({f, DropReason::kTruncatedL3}); }
  { auto f = good; f.resize(14 + 20 + 10); cases.push_back({f, DropReason::kBadIpLength}); }
  { auto f = good; f[14] = 0x44; cases.push_back({f, DropReason::kBadIpHeaderLen}); }
  { auto f = good; f.resize(10); cases.push_back({f, DropReason::kTruncatedL2}); }
  cases.push_back({PacketBuilder().eth(kRouterMac, kExtMac).vlan(7).ipv4(kClient, kVip).tcp(1000, 80, net::kTcpAck).build(), DropReason::kVlanTagged});
  cases.push_back({PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip).icmp(8, 0).build(), DropReason::kIcmpNotRelayed});
  cases.push_back({PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip).raw_l4(47).payload("gre!").build(), DropReason::kUnsupportedL4});
  { auto f = PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip).dont_fragment(false).tcp(1000, 80, net::kTcpAck).build();
    f[14 + 6] = 0x20;  // MF
    f[14 + 10] = f[14 + 11] = 0;
    const uint16_t c = net::checksum(f.data() + 14, 20);
    f[14 + 10] = uint8_t(c >> 8); f[14 + 11] = uint8_t(c);
    cases.push_back({f, DropReason::kFragment}); }
  for (const auto& c : cases) {
    const uint64_t n = r.drops(c.reason);
    Packet p = r.send(c.frame, 2);
    EXPECT_EQ(p.verdict, Verdict::kDrop);
    EXPECT_EQ(drop_reason_name(p.reason), drop_reason_name(c.reason));
    EXPECT_EQ(r.drops(c.reason), n + 1);
  }
  // Nothing else moved: totals, per-service and per-server counters, connections.
  EXPECT_EQ(r.engine.counters().total, before.total);
  EXPECT_EQ(r.engine.counters().tx_packets, before.tx_packets);
  EXPECT_EQ(r.engine.counters().dropped(), before.dropped() + cases.size());
  const auto after_snap = r.engine.snapshot();
  EXPECT_EQ(after_snap[0].stats, before_snap[0].stats);
  EXPECT_EQ(after_snap[0].dests[0].stats, before_snap[0].dests[0].stats);
  EXPECT_EQ(after_snap[0].dests[0].inactive_conns, before_snap[0].dests[0].inactive_conns);
  EXPECT_EQ(r.engine.conns().size(), 1u);
}

TEST(Engine, FwmarkServicesMatchByMark) {
  Rig r;
  const ServiceKey fwm = ServiceKey::fwmark_key(net::Family::kV4, 7);
  ASSERT_TRUE(r.engine.add_service({fwm, "rr", 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(fwm, {kRs1, 0, Fwd::kNat, 1, 0, 0}).ok());
  auto syn = PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip).tcp(1000, 443, net::kTcpSyn).build();
  EXPECT_EQ(r.send(syn, 1, 0).reason, DropReason::kNoService);
  Packet p = r.send(syn, 1, 7);
  EXPECT_EQ(p.verdict, Verdict::kTx);
  auto parsed = net::parse_packet(r.last.data(), r.last.size());
  EXPECT_EQ(parsed.dport, 443);  // port-0 real server keeps the client's destination port
}

TEST(Engine, ConnectionsOfDeletedServicesFinish) {
  Rig r;
  add_nat(r);
  r.tcp_in(1000, net::kTcpSyn, 1);
  ASSERT_TRUE(r.engine.del_service(kTcp).ok());
  EXPECT_EQ(r.tcp_in(1000, net::kTcpAck, 2).verdict, Verdict::kTx);
  EXPECT_EQ(r.tcp_in(1001, net::kTcpSyn, 2).reason, DropReason::kNoService);
  r.engine.expire(Nanos(2000 * kSec));
  EXPECT_EQ(r.engine.conns().size(), 0u);
}

TEST(Engine, NeighbourMissIsCountedAndRequested) {
  Rig r;
  ASSERT_TRUE(r.engine.add_service({kTcp, "rr", 0}).ok());
  const auto rs3 = net::ip("198.18.1.13");
  ASSERT_TRUE(r.engine.add_dest(kTcp, {rs3, 80, Fwd::kNat, 1, 0, 0}).ok());
  EXPECT_EQ(r.tcp_in(1000, net::kTcpSyn, 1).reason, DropReason::kNoNeighbour);
  EXPECT_EQ(r.tcp_in(1000, net::kTcpSyn, 1).reason, DropReason::kNoNeighbour);
  std::vector<NeighRequest> reqs;
  r.engine.drain_neigh_requests([&](const NeighRequest& q) { reqs.push_back(q); });
  ASSERT_EQ(reqs.size(), 1u);  // deduplicated
  EXPECT_EQ(reqs[0].addr, rs3);
  EXPECT_EQ(reqs[0].ifindex, kInt);
  EXPECT_EQ(r.drops(DropReason::kNoNeighbour), 2u);
}

TEST(Engine, StealsToTheOwningWorker) {
  EngineConfig cfg = fixtures::test_config();
  cfg.worker_count = 2;
  cfg.steer_seed = 5;
  int steered = 0, local = 0;
  for (uint16_t port = 1000; port < 1100; ++port) {
    const uint16_t owner = flow_owner(kClient.data(), net::Family::kV4, port, 5, 2);
    cfg.worker_index = 0;
    Rig r(cfg);
    add_nat(r);
    Packet p = r.tcp_in(port, net::kTcpSyn, 1);
    if (owner == 0) {
      EXPECT_EQ(p.verdict, Verdict::kTx);
      ++local;
    } else {
      EXPECT_EQ(p.verdict, Verdict::kSteer);
      EXPECT_EQ(p.steer_to, 1);
      ++steered;
      // The reply of that connection hashes to the same owner: steering is symmetric.
      EXPECT_EQ(r.tcp_out(kRs1, 80, port, net::kTcpAck, 1).verdict, Verdict::kSteer);
    }
  }
  EXPECT_GT(steered, 30);
  EXPECT_GT(local, 30);
}

TEST(Engine, FlushRemovesServices) {
  Rig r;
  add_nat(r);
  ASSERT_TRUE(r.engine.add_service({kUdp, "rr", 0}).ok());
  r.engine.flush();
  EXPECT_TRUE(r.engine.snapshot().empty());
  EXPECT_EQ(r.tcp_in(1000, net::kTcpSyn, 1).reason, DropReason::kNoService);
}

}  // namespace
}  // namespace lvs::core

namespace lvs::core {
namespace {

// IPVS's OVERLOAD rules (ip_vs_bind_dest / ip_vs_unbind_dest): a server at its upper threshold
// gets no new connections; it takes them again below its lower threshold, or below 3/4 of the
// upper one when no lower one is set. SYN_RECV connections last 60 s: starting them at
// different times lets them end one step at a time.
TEST(Engine, ThresholdsFollowIpvsOverloadRules) {
  // lower threshold -> how many of rs1's 4 connections must end before it takes work again
  for (const auto& [lower, must_end] : {std::pair{0u, 2}, std::pair{2u, 3}}) {
    SCOPED_TRACE(lower);
    Rig r;
    ASSERT_TRUE(r.engine.add_service({kTcp, "rr", 0}).ok());
    ASSERT_TRUE(r.engine.add_dest(kTcp, {kRs2, 80, Fwd::kNat, 1, 0, 0}).ok());
    ASSERT_TRUE(r.engine.add_dest(kTcp, {kRs1, 80, Fwd::kNat, 1, 4, lower}).ok());
    // rr alternates rs1, rs2 while rs1 has room: rs1 gets one connection at t = 1, 10, 20, 30.
    int to_rs1 = 0;
    for (int step = 0; step < 4; ++step) {
      const double t = step == 0 ? 1 : step * 10;
      for (uint16_t i = 0; i < 2; ++i) {
        r.tcp_in(uint16_t(step * 2 + i + 1), net::kTcpSyn, t);
        to_rs1 += dst_of(r.last) == kRs1;
      }
    }
    EXPECT_EQ(to_rs1, 4);
    // At 4 connections (its upper threshold) rs1 gets nothing.
    for (uint16_t port = 100; port < 104; ++port) {
      r.tcp_in(port, net::kTcpSyn, 31);
      EXPECT_EQ(dst_of(r.last), kRs2);
    }
    // Its connections end one at a time (60 s after each start).
    const double ends[] = {61.5, 70.5, 80.5};
    for (int ended = 1; ended <= 3; ++ended) {
      r.engine.expire(Nanos(ends[ended - 1] * double(kSec)));
      bool rs1 = false;
      for (uint16_t i = 0; i < 2; ++i) {
        r.tcp_in(uint16_t(200 + ended * 10 + i), net::kTcpSyn, ends[ended - 1]);
        rs1 |= dst_of(r.last) == kRs1;
      }
      EXPECT_EQ(rs1, ended >= must_end) << ended << " ended";
      if (rs1) break;
    }
  }
}

}  // namespace
}  // namespace lvs::core
