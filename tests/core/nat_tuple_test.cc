// Two NAT services on one real server's address and port, one client reaching both from one
// source port: the second connection must not take the first one's 4-tuple at the server
// (src/core/nat_tuple.cc).
#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "fixtures/engine_rig.h"
#include "net/parse.h"

namespace lvs::core {
namespace {

using fixtures::kClient;
using fixtures::kExt;
using fixtures::kExtMac;
using fixtures::kIntMac;
using fixtures::kRouterMac;
using fixtures::kRs1;
using fixtures::kRs2;
using fixtures::kVip;
using net::PacketBuilder;

constexpr uint16_t kPort = 40000;  // the client's one source port

ServiceKey tcp_key(uint16_t port) { return ServiceKey{net::kProtoTcp, kVip, port, 0}; }
ServiceKey udp_key(uint16_t port) { return ServiceKey{net::kProtoUdp, kVip, port, 0}; }

struct Frame {
  net::IpAddr src, dst;
  uint16_t sport = 0, dport = 0;
};

Frame read(const std::vector<uint8_t>& f) {
  const auto p = net::parse_packet(f.data(), f.size());
  Frame out;
  out.src = net::IpAddr::v4(f.data() + p.l3_offset + 12);
  out.dst = net::IpAddr::v4(f.data() + p.l3_offset + 16);
  out.sport = p.sport;
  out.dport = p.dport;
  return out;
}

class NatTuple : public ::testing::Test {
 protected:
  // A service on VIP:vport with `servers` (RS:80 each, NAT, weight 1), newest first.
  void add(const ServiceKey& key, std::vector<net::IpAddr> servers, const char* sched = "rr",
           uint32_t persistence = 0, uint32_t sched_flags = 0) {
    ServiceSpec s{key, sched, sched_flags};
    s.persistence_timeout = persistence;
    ASSERT_TRUE(rig.engine.add_service(s).ok());
    for (const auto& a : servers) {
      ASSERT_TRUE(rig.engine.add_dest(key, {a, 80, Fwd::kNat, 1, 0, 0}).ok());
    }
  }
  // VIP:80 on kRs1 with a connection open, and VIP:8080 on one kRs1 entry of its own.
  void one_each(uint16_t server_port, Fwd fwd) {
    add(tcp_key(80), {kRs1});
    ASSERT_TRUE(rig.engine.add_service({tcp_key(8080), "rr", 0}).ok());
    ASSERT_TRUE(rig.engine.add_dest(tcp_key(8080), {kRs1, server_port, fwd, 1, 0, 0}).ok());
    open(80);
  }
  std::vector<uint8_t> syn(uint16_t vport, uint16_t sport = kPort) {
    return PacketBuilder()
        .eth(kRouterMac, kExtMac)
        .ipv4(kClient, kVip)
        .tcp(sport, vport, net::kTcpSyn)
        .build();
  }
  std::vector<uint8_t> client_tcp(uint16_t vport, uint8_t flags) {
    return PacketBuilder()
        .eth(kRouterMac, kExtMac)
        .ipv4(kClient, kVip)
        .tcp(kPort, vport, flags)
        .build();
  }
  std::vector<uint8_t> server_tcp(const net::IpAddr& rs, uint8_t flags) {
    return PacketBuilder()
        .eth(fixtures::kRs1Mac, kIntMac)
        .ipv4(rs, kClient)
        .tcp(80, kPort, flags)
        .build();
  }
  std::vector<uint8_t> datagram(uint16_t vport) {
    return PacketBuilder()
        .eth(kRouterMac, kExtMac)
        .ipv4(kClient, kVip)
        .udp(kPort, vport)
        .payload("q")
        .build();
  }
  // Client SYN through VIP:vport and the server's SYN-ACK: returns the server it went to.
  net::IpAddr open(uint16_t vport) {
    const Packet p = rig.send(syn(vport));
    EXPECT_EQ(p.verdict, Verdict::kTx) << drop_reason_name(p.reason);
    const net::IpAddr rs = read(rig.out).dst;
    rig.send(server_tcp(rs, net::kTcpSyn | net::kTcpAck));
    rig.send(client_tcp(vport, net::kTcpAck));
    return rs;
  }
  // A reply of `rs` to the client's port: the virtual port it is sent from.
  uint16_t reply_vport(const net::IpAddr& rs) {
    const Packet p = rig.send(server_tcp(rs, net::kTcpAck));
    EXPECT_EQ(p.verdict, Verdict::kTx) << drop_reason_name(p.reason);
    return read(rig.out).sport;
  }
  const EngineCounters& counters() const { return rig.engine.counters(); }

  fixtures::EngineRig rig;
};

TEST_F(NatTuple, SecondServiceGoesToAnotherServer) {
  add(tcp_key(80), {kRs1, kRs2});
  add(tcp_key(8080), {kRs1, kRs2});
  const net::IpAddr first = open(80);
  // rr on VIP:8080 starts where VIP:80's did: the same server, whose tuple is taken.
  const net::IpAddr second = open(8080);
  EXPECT_NE(second, first);
  EXPECT_EQ(counters().nat_tuple_moved, 1u);
  // Each server's replies leave from the service their connection came through.
  EXPECT_EQ(reply_vport(first), 80);
  EXPECT_EQ(reply_vport(second), 8080);
  EXPECT_EQ(rig.engine.conns().size(), 2u);
  // The mark came off: the next clients of VIP:8080 reach both servers again.
  std::set<net::IpAddr> seen;
  for (uint16_t port = 41000; port < 41004; ++port) {
    ASSERT_EQ(rig.send(syn(8080, port)).verdict, Verdict::kTx);
    seen.insert(read(rig.out).dst);
  }
  EXPECT_EQ(seen.size(), 2u);
}

TEST_F(NatTuple, NoOtherServerDropsTheSynAndKeepsTheLiveConnection) {
  add(tcp_key(80), {kRs1});
  add(tcp_key(8080), {kRs1});
  open(80);
  const Packet p = rig.send(syn(8080));
  EXPECT_EQ(p.verdict, Verdict::kDrop);
  EXPECT_EQ(p.reason, DropReason::kNatTupleBusy);
  EXPECT_EQ(rig.drops(DropReason::kNatTupleBusy), 1u);
  EXPECT_EQ(rig.engine.conns().size(), 1u);
  EXPECT_EQ(reply_vport(kRs1), 80);
  // Once the first connection is reset, the client's retried SYN goes through.
  rig.send(client_tcp(80, net::kTcpRst));
  EXPECT_EQ(rig.send(syn(8080)).verdict, Verdict::kTx);
  EXPECT_EQ(reply_vport(kRs1), 8080);  // the newest holder answers, as in IPVS
  EXPECT_EQ(counters().nat_tuple_moved, 0u);
}

TEST_F(NatTuple, ServerPortsThatDifferDoNotCollide) {
  one_each(8080, Fwd::kNat);
  EXPECT_EQ(rig.send(syn(8080)).verdict, Verdict::kTx);
  EXPECT_EQ(counters().nat_tuple_moved + rig.drops(DropReason::kNatTupleBusy), 0u);
}

TEST_F(NatTuple, SameBurstConnectionsAreSeen) {
  add(tcp_key(80), {kRs1, kRs2});
  add(tcp_key(8080), {kRs1, kRs2});
  // Both SYNs in one burst: the first one's server side is not linked until the burst ends.
  std::vector<std::vector<uint8_t>> frames = {syn(80), syn(8080)};
  std::vector<uint8_t> buf(2 * 4096);
  Packet pkts[2];
  for (size_t i = 0; i < 2; ++i) {
    std::memcpy(buf.data() + i * 4096 + 256, frames[i].data(), frames[i].size());
    pkts[i].data = buf.data() + i * 4096 + 256;
    pkts[i].len = uint32_t(frames[i].size());
    pkts[i].headroom = 256;
    pkts[i].tailroom = uint32_t(4096 - 256 - frames[i].size());
    pkts[i].ifindex = kExt;
  }
  rig.engine.process(std::span(pkts, 2), kNanosPerSec);
  ASSERT_EQ(pkts[0].verdict, Verdict::kTx);
  ASSERT_EQ(pkts[1].verdict, Verdict::kTx);
  const auto a = read({pkts[0].data, pkts[0].data + pkts[0].len});
  const auto b = read({pkts[1].data, pkts[1].data + pkts[1].len});
  EXPECT_NE(a.dst, b.dst);
  EXPECT_EQ(counters().nat_tuple_moved, 1u);
}

TEST_F(NatTuple, ClosedConnectionsFreeTheTuple) {
  add(tcp_key(80), {kRs1, kRs2});
  add(tcp_key(8080), {kRs1, kRs2});
  const net::IpAddr first = open(80);
  rig.send(server_tcp(first, net::kTcpRst));  // CLOSE
  EXPECT_EQ(rig.send(syn(8080)).verdict, Verdict::kTx);
  EXPECT_EQ(read(rig.out).dst, first);
  EXPECT_EQ(counters().nat_tuple_moved, 0u);
}

TEST_F(NatTuple, LeastConnectionSchedulersSkipTheServerAndRecover) {
  add(tcp_key(80), {kRs1, kRs2}, "wlc");
  add(tcp_key(8080), {kRs1, kRs2}, "wlc");
  const net::IpAddr first = open(80);
  const net::IpAddr second = open(8080);
  EXPECT_NE(second, first);
  EXPECT_EQ(counters().nat_tuple_moved, 1u);
  // wlc's tree has the skipped server back, and it is the least loaded on VIP:8080 now.
  ASSERT_EQ(rig.send(syn(8080, 41000)).verdict, Verdict::kTx);
  EXPECT_EQ(read(rig.out).dst, first);
}

TEST_F(NatTuple, WeightedRoundRobinMovesToTheLighterServer) {
  add(tcp_key(80), {kRs1});
  ASSERT_TRUE(rig.engine.add_service({tcp_key(8080), "wrr", 0}).ok());
  // kRs1 added last heads the list, and wrr's first pass (cw = 1 after these adds, as in
  // IPVS) takes the head.
  ASSERT_TRUE(rig.engine.add_dest(tcp_key(8080), {kRs2, 80, Fwd::kNat, 1, 0, 0}).ok());
  ASSERT_TRUE(rig.engine.add_dest(tcp_key(8080), {kRs1, 80, Fwd::kNat, 3, 0, 0}).ok());
  open(80);
  EXPECT_EQ(open(8080), kRs2);
  EXPECT_EQ(counters().nat_tuple_moved, 1u);
}

TEST_F(NatTuple, SourceHashingKeepsItsServer) {
  // sh maps the client to one server; without sh-fallback it does not pick another.
  add(tcp_key(80), {kRs1, kRs2}, "sh");
  add(tcp_key(8080), {kRs1, kRs2}, "sh");
  open(80);
  const Packet p = rig.send(syn(8080));
  EXPECT_EQ(p.reason, DropReason::kNatTupleBusy);
}

TEST_F(NatTuple, PersistentClientsKeepTheirServer) {
  add(tcp_key(8080), {kRs1, kRs2}, "rr", 300);
  // The client's template on VIP:8080 names a server; VIP:80 has only that one.
  ASSERT_EQ(rig.send(syn(8080, 41000)).verdict, Verdict::kTx);
  const net::IpAddr pinned = read(rig.out).dst;
  add(tcp_key(80), {pinned});
  open(80);
  // The other server is free, but the client is pinned: no other server is asked.
  EXPECT_EQ(rig.send(syn(8080)).reason, DropReason::kNatTupleBusy);
  EXPECT_EQ(counters().nat_tuple_moved, 0u);
}

TEST_F(NatTuple, UdpMovesOrShares) {
  add(udp_key(53), {kRs1});
  add(udp_key(5353), {kRs2, kRs1});  // rr tries kRs1 (the list head) first
  add(udp_key(5354), {kRs1});
  ASSERT_EQ(rig.send(datagram(53)).verdict, Verdict::kTx);
  ASSERT_EQ(rig.send(datagram(5353)).verdict, Verdict::kTx);
  EXPECT_EQ(read(rig.out).dst, kRs2);
  EXPECT_EQ(counters().nat_tuple_moved, 1u);
  // No other server: the datagram goes on, sharing the tuple as IPVS would.
  ASSERT_EQ(rig.send(datagram(5354)).verdict, Verdict::kTx);
  EXPECT_EQ(read(rig.out).dst, kRs1);
  EXPECT_EQ(counters().nat_tuple_shared, 1u);
}

TEST_F(NatTuple, FwmarkServicesShareTheirServersPorts) {
  // One fwmark service over VIP:80 and VIP:443, its servers on port 8000: the client's two
  // connections from one port would meet at the server.
  const ServiceKey fwm = ServiceKey::fwmark_key(net::Family::kV4, 1);
  ASSERT_TRUE(rig.engine.add_service({fwm, "rr", 0}).ok());
  ASSERT_TRUE(rig.engine.add_dest(fwm, {kRs1, 8000, Fwd::kNat, 1, 0, 0}).ok());
  ASSERT_TRUE(rig.engine.add_dest(fwm, {kRs2, 8000, Fwd::kNat, 1, 0, 0}).ok());
  rig.engine.set_mark_rules({{kVip, 6, 80, 1}, {kVip, 6, 443, 1}});
  ASSERT_EQ(rig.send(syn(80)).verdict, Verdict::kTx);
  const Frame a = read(rig.out);
  EXPECT_EQ(a.dport, 8000);
  // rr's next pick is the other server anyway; make it pick `a`'s again with a third client.
  ASSERT_EQ(rig.send(syn(443, 41000)).verdict, Verdict::kTx);
  ASSERT_EQ(rig.send(syn(443)).verdict, Verdict::kTx);
  const Frame b = read(rig.out);
  EXPECT_NE(b.dst, a.dst);
  EXPECT_EQ(counters().nat_tuple_moved, 1u);
}

TEST(TupleUsers, CountsEntriesPerAddressAndPort) {
  TupleUsers t;
  const uint32_t a = t.acquire(kRs1, 80);
  EXPECT_EQ(t.acquire(kRs1, 80), a);
  const uint32_t b = t.acquire(kRs1, 8080);
  const uint32_t c = t.acquire(kRs2, 80);
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(t.users(a), 2u);
  EXPECT_EQ(t.users(b), 1u);
  t.release(kRs1, 80, a);
  EXPECT_EQ(t.users(a), 1u);
  t.release(kRs1, 80, a);
  // The slot is free and taken by the next new address; the old one starts from one again.
  EXPECT_EQ(t.acquire(kRs2, 443), a);
  const uint32_t again = t.acquire(kRs1, 80);
  EXPECT_EQ(t.users(again), 1u);
  EXPECT_EQ(t.users(c), 1u);
}

TEST_F(NatTuple, DirectRoutingServersAreNotNat) {
  one_each(80, Fwd::kDr);
  // The server sees VIP:8080 as the destination of a DR connection: another tuple.
  EXPECT_EQ(rig.send(syn(8080)).verdict, Verdict::kTx);
  EXPECT_EQ(rig.drops(DropReason::kNatTupleBusy), 0u);
}

}  // namespace
}  // namespace lvs::core
