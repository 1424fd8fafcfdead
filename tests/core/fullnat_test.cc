// FULLNAT and ONE-PACKET in the engine: both addresses rewritten, the local port allocator, the
// reply path keyed by the local endpoint, and per-datagram scheduling.
#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "core/engine.h"
#include "fixtures/engine_rig.h"
#include "fixtures/topology.h"
#include "net/packet_builder.h"
#include "net/parse.h"

namespace lvs::core {
namespace {

using fixtures::kClient;
using fixtures::kClient6;
using fixtures::kExtMac;
using fixtures::kIntMac;
using fixtures::kRouterMac;
using fixtures::kRs1;
using fixtures::kRs1Mac;
using fixtures::kRs1v6;
using fixtures::kRs2;
using fixtures::kVip;
using fixtures::kVip6;
using net::PacketBuilder;

const net::IpAddr kLocal1 = net::ip("198.18.1.50");
const net::IpAddr kLocal2 = net::ip("198.18.1.51");
const net::IpAddr kLocal6 = net::ip("2001:2:1::50");

using Rig = fixtures::EngineRig;

ServiceSpec fnat_service(const ServiceKey& key, std::vector<net::IpAddr> laddrs) {
  ServiceSpec s{key, "rr", 0};
  s.local_addrs = std::move(laddrs);
  return s;
}

TEST(FullNat, Ipv4BothDirectionsByteExact) {
  Rig r;
  const ServiceKey key{6, kVip, 80, 0};
  ASSERT_TRUE(r.engine.add_service(fnat_service(key, {kLocal1})).ok());
  ASSERT_TRUE(r.engine.add_dest(key, {kRs1, 8080, Fwd::kFullNat, 1, 0, 0}).ok());

  Packet p = r.send(PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip).ttl(60)
                        .tcp(40000, 80, net::kTcpSyn, 1000).build());
  ASSERT_EQ(p.verdict, Verdict::kTx);
  EXPECT_EQ(p.out_ifindex, fixtures::kInt);
  // The first port of the search, 1024, with one worker.
  const auto want_in = PacketBuilder().eth(kIntMac, kRs1Mac).ipv4(kLocal1, kRs1).ttl(59)
                           .tcp(1024, 8080, net::kTcpSyn, 1000).build();
  EXPECT_EQ(r.out, want_in);

  p = r.send(PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, kLocal1).ttl(64)
                 .tcp(8080, 1024, net::kTcpSyn | net::kTcpAck, 5000, 1001).build());
  ASSERT_EQ(p.verdict, Verdict::kTx);
  EXPECT_EQ(p.out_ifindex, fixtures::kExt);
  const auto want_out = PacketBuilder().eth(kExtMac, kRouterMac).ipv4(kVip, kClient).ttl(63)
                            .tcp(80, 40000, net::kTcpSyn | net::kTcpAck, 5000, 1001).build();
  EXPECT_EQ(r.out, want_out);

  const auto conns = r.engine.list_conns();
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].laddr, kLocal1);
  EXPECT_EQ(conns[0].lport, 1024);
  EXPECT_EQ(conns[0].fwd, Fwd::kFullNat);
}

TEST(FullNat, Ipv6UdpBothDirectionsByteExact) {
  Rig r;
  const ServiceKey key{17, kVip6, 53, 0};
  ASSERT_TRUE(r.engine.add_service(fnat_service(key, {kLocal6})).ok());
  ASSERT_TRUE(r.engine.add_dest(key, {kRs1v6, 5353, Fwd::kFullNat, 1, 0, 0}).ok());
  Packet p = r.send(PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6)
                        .udp(50000, 53).payload("query").build());
  ASSERT_EQ(p.verdict, Verdict::kTx);
  EXPECT_EQ(r.out, PacketBuilder().eth(kIntMac, kRs1Mac).ipv6(kLocal6, kRs1v6).ttl(63)
                       .udp(1024, 5353).payload("query").build());
  p = r.send(PacketBuilder().eth(kRs1Mac, kIntMac).ipv6(kRs1v6, kLocal6)
                 .udp(5353, 1024).payload("answer").build());
  ASSERT_EQ(p.verdict, Verdict::kTx);
  EXPECT_EQ(r.out, PacketBuilder().eth(kExtMac, kRouterMac).ipv6(kVip6, kClient6).ttl(63)
                       .udp(53, 50000).payload("answer").build());
}

TEST(FullNat, LocalPortsNeverCollideAndAlternateAddresses) {
  Rig r;
  const ServiceKey key{6, kVip, 80, 0};
  ASSERT_TRUE(r.engine.add_service(fnat_service(key, {kLocal1, kLocal2})).ok());
  ASSERT_TRUE(r.engine.add_dest(key, {kRs1, 80, Fwd::kFullNat, 1, 0, 0}).ok());
  // 600 clients, in bursts of 32 so several connections are made within one burst.
  std::vector<std::vector<uint8_t>> frames;
  for (int i = 0; i < 600; ++i) {
    frames.push_back(PacketBuilder().eth(kRouterMac, kExtMac)
                         .ipv4(net::IpAddr::v4(uint32_t(0xc6120000u + 0x100 + i / 200)), kVip)
                         .tcp(uint16_t(20000 + i % 200), 80, net::kTcpSyn).build());
  }
  std::vector<std::vector<uint8_t>> bufs(32, std::vector<uint8_t>(2048));
  for (size_t base = 0; base < frames.size(); base += 32) {
    std::vector<Packet> burst;
    for (size_t j = 0; j < 32 && base + j < frames.size(); ++j) {
      std::memcpy(bufs[j].data() + 256, frames[base + j].data(), frames[base + j].size());
      Packet p;
      p.data = bufs[j].data() + 256;
      p.len = uint32_t(frames[base + j].size());
      p.headroom = 256;
      p.tailroom = 1024;
      burst.push_back(p);
    }
    r.engine.process(burst, kNanosPerSec);
    for (const Packet& p : burst) ASSERT_EQ(p.verdict, Verdict::kTx);
  }
  std::set<std::tuple<std::string, uint16_t>> seen;
  size_t on_first = 0;
  for (const ConnSnapshot& c : r.engine.list_conns()) {
    EXPECT_TRUE(seen.insert({c.laddr.to_string(), c.lport}).second) << c.laddr.to_string();
    on_first += c.laddr == kLocal1;
  }
  EXPECT_EQ(seen.size(), 600u);
  EXPECT_EQ(on_first, 300u);  // local addresses in turn
}

TEST(FullNat, LocalPortRepliesComeToTheOwningWorker) {
  EngineConfig cfg = fixtures::test_config();
  cfg.worker_count = 3;
  cfg.steer_seed = 7;
  for (uint16_t w = 0; w < 3; ++w) {
    cfg.worker_index = w;
    Rig r(cfg);
    const ServiceKey key{6, kVip, 80, 0};
    ASSERT_TRUE(r.engine.add_service(fnat_service(key, {kLocal1})).ok());
    ASSERT_TRUE(r.engine.add_dest(key, {kRs1, 80, Fwd::kFullNat, 1, 0, 0}).ok());
    int made = 0;
    for (uint16_t port = 30000; made < 20; ++port) {
      const auto f = PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip)
                         .tcp(port, 80, net::kTcpSyn).build();
      if (flow_owner(kClient.data(), net::Family::kV4, port, 7, 3) != w) continue;
      ASSERT_EQ(r.send(f).verdict, Verdict::kTx);
      ++made;
    }
    for (const ConnSnapshot& c : r.engine.list_conns()) {
      EXPECT_EQ(flow_owner(c.laddr.data(), net::Family::kV4, c.lport, 7, 3), w);
    }
  }
}

TEST(FullNat, ControlErrors) {
  Rig r;
  const ServiceKey key{6, kVip, 80, 0};
  ASSERT_TRUE(r.engine.add_service({key, "rr", 0}).ok());
  EXPECT_FALSE(r.engine.add_dest(key, {kRs1, 80, Fwd::kFullNat, 1, 0, 0}).ok());
  ServiceSpec pp{key, "rr", 0};
  pp.proxy_protocol = true;
  EXPECT_FALSE(r.engine.edit_service(pp).ok());
  ServiceSpec mixed = fnat_service(key, {kLocal1, kLocal6});
  EXPECT_FALSE(r.engine.edit_service(mixed).ok());
  ServiceSpec ops{key, "rr", 0};
  ops.one_packet = true;
  EXPECT_FALSE(r.engine.edit_service(ops).ok());  // TCP
  ASSERT_TRUE(r.engine.edit_service(fnat_service(key, {kLocal1})).ok());
  EXPECT_FALSE(r.engine.add_dest(key, {kRs1v6, 80, Fwd::kFullNat, 1, 0, 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(key, {kRs1, 80, Fwd::kFullNat, 1, 0, 0}).ok());
  // Taking the local addresses away from a service with FULLNAT servers is refused whole.
  EXPECT_FALSE(r.engine.edit_service({key, "wlc", 0}).ok());
  EXPECT_EQ(r.engine.snapshot()[0].sched_name, "rr");
  EXPECT_EQ(r.engine.snapshot()[0].local_addrs.size(), 1u);
}

TEST(OnePacket, EveryDatagramScheduledRepliesStillTranslated) {
  Rig r;
  const ServiceKey key{17, kVip, 53, 0};
  ServiceSpec s{key, "rr", 0};
  s.one_packet = true;
  ASSERT_TRUE(r.engine.add_service(s).ok());
  ASSERT_TRUE(r.engine.add_dest(key, {kRs2, 53, Fwd::kNat, 1, 0, 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(key, {kRs1, 53, Fwd::kNat, 1, 0, 0}).ok());
  const auto q = PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip)
                     .udp(40000, 53).payload("q").build();
  std::vector<net::IpAddr> to;
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(r.send(q, 1 + i).verdict, Verdict::kTx);
    const auto p = net::parse_packet(r.out.data(), r.out.size());
    to.push_back(net::IpAddr::v4(r.out.data() + p.l3_offset + 16));
  }
  EXPECT_NE(to[0], to[1]);  // the same client endpoint, scheduled each time
  EXPECT_EQ(to[0], to[2]);
  EXPECT_EQ(to[1], to[3]);
  // One entry per client endpoint and server carries the replies.
  EXPECT_EQ(r.engine.list_conns().size(), 2u);
  for (const net::IpAddr& rs : {kRs1, kRs2}) {
    Packet p = r.send(PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(rs, kClient)
                          .udp(53, 40000).payload("a").build(), 5);
    ASSERT_EQ(p.verdict, Verdict::kTx);
    EXPECT_EQ(r.out, PacketBuilder().eth(kExtMac, kRouterMac).ipv4(kVip, kClient).ttl(63)
                         .udp(53, 40000).payload("a").build());
  }
  EXPECT_EQ(r.engine.snapshot()[0].stats.conns, 4u);
}

TEST(OnePacket, DirectRoutingEntriesGoAtOnce) {
  Rig r;
  const ServiceKey key{17, kVip, 53, 0};
  ServiceSpec s{key, "rr", 0};
  s.one_packet = true;
  ASSERT_TRUE(r.engine.add_service(s).ok());
  ASSERT_TRUE(r.engine.add_dest(key, {kRs1, 53, Fwd::kDr, 1, 0, 0}).ok());
  const auto q = PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip)
                     .udp(40000, 53).payload("q").build();
  ASSERT_EQ(r.send(q, 1).verdict, Verdict::kTx);
  r.engine.expire(Nanos(1.5 * double(kNanosPerSec)));
  EXPECT_EQ(r.engine.list_conns().size(), 0u);
  EXPECT_EQ(r.engine.snapshot()[0].dests[0].inactive_conns, 0u);
}

}  // namespace
}  // namespace lvs::core

namespace lvs::core {
namespace {

TEST(FullNat, Nat64BothDirectionsByteExact) {
  Rig r;
  const ServiceKey key{6, kVip6, 80, 0};
  ASSERT_TRUE(r.engine.add_service(fnat_service(key, {kLocal1})).ok());
  EXPECT_FALSE(r.engine.add_dest(key, {kRs1v6, 8080, Fwd::kFullNat, 1, 0, 0}).ok());  // laddr v4
  ASSERT_TRUE(r.engine.add_dest(key, {kRs1, 8080, Fwd::kFullNat, 1, 0, 0}).ok());
  Packet p = r.send(PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6).ttl(60)
                        .tcp(40000, 80, net::kTcpSyn, 1000).build());
  ASSERT_EQ(p.verdict, Verdict::kTx);
  EXPECT_EQ(p.out_ifindex, fixtures::kInt);
  // SIIT as DPVS does it: DF set, ID 0, TTL = hop limit (after the director's hop).
  EXPECT_EQ(r.out, PacketBuilder().eth(kIntMac, kRs1Mac).ipv4(kLocal1, kRs1).ttl(59).ip_id(0)
                       .dont_fragment(true).tcp(1024, 8080, net::kTcpSyn, 1000).build());
  p = r.send(PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, kLocal1).ttl(64)
                 .tcp(8080, 1024, net::kTcpSyn | net::kTcpAck, 5000, 1001).build());
  ASSERT_EQ(p.verdict, Verdict::kTx);
  EXPECT_EQ(p.out_ifindex, fixtures::kExt);
  EXPECT_EQ(r.out, PacketBuilder().eth(kExtMac, kRouterMac).ipv6(kVip6, kClient6).ttl(63)
                       .tcp(80, 40000, net::kTcpSyn | net::kTcpAck, 5000, 1001).build());
  const auto conns = r.engine.list_conns();
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].daddr, kRs1);
  EXPECT_EQ(conns[0].caddr, kClient6);
  EXPECT_EQ(conns[0].state, "SYN_RECV");
}

}  // namespace
}  // namespace lvs::core
