// VS/TUN through the engine: the connection's packets leave inside an outer header from the
// egress interface's address, replies never come back, and what no longer fits is answered
// with the too-big error the client's path MTU discovery needs.
#include <gtest/gtest.h>

#include "core/engine.h"
#include "core/xmit_tun.h"
#include "fixtures/engine_rig.h"
#include "fixtures/topology.h"
#include "net/packet_builder.h"
#include "net/parse.h"

namespace lvs::core {
namespace {

using fixtures::kClient;
using fixtures::kExtMac;
using fixtures::kIntMac;
using fixtures::kRouterMac;
using fixtures::kRs1;
using fixtures::kRs1Mac;
using fixtures::kRs1v6;
using fixtures::kVip;
using net::PacketBuilder;

const net::IpAddr kIntAddr = net::ip("198.18.1.1");
const net::IpAddr kIntAddr6 = net::ip("2001:2:1::1");

using Rig = fixtures::EngineRig;

const ServiceKey kKey{6, kVip, 80, 0};

DestSpec tun(const net::IpAddr& rs, TunType type = TunType::kIpip, uint16_t port = 0) {
  DestSpec d{rs, 80, Fwd::kTun, 1, 0, 0};
  d.tun_type = type;
  d.tun_port = port;
  return d;
}

// The client's SYN with TTL `ttl` (60; 59 once the director has forwarded it).
PacketBuilder syn(size_t payload = 0, uint8_t ttl = 60) {
  return std::move(PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip).ttl(ttl)
                       .tcp(40000, 80, net::kTcpSyn, 1000)
                       .payload(std::string(payload, 'x')));
}

TEST(TunEngine, IpipFromTheEgressInterfaceAddress) {
  Rig r;
  ASSERT_TRUE(r.engine.add_service({kKey, "rr", 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(kKey, tun(kRs1)).ok());
  Packet p = r.send(syn().build());
  ASSERT_EQ(p.verdict, Verdict::kTx);
  EXPECT_EQ(p.out_ifindex, fixtures::kInt);
  // Inner TTL - 1 (routed), outer TTL and DF copied from it, ID 0 with DF (as the kernel does).
  const auto want = PacketBuilder().eth(kIntMac, kRs1Mac).ipv4(kIntAddr, kRs1).ttl(59).ip_id(0)
                        .dont_fragment(true).raw_l4(4).payload(syn(0, 59).build_ip()).build();
  EXPECT_EQ(r.out, want);
  // The connection exists, replies bypass the director.
  const auto conns = r.engine.list_conns();
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].fwd, Fwd::kTun);
}

TEST(TunEngine, GueToAnIpv6RealServer) {
  Rig r;
  ASSERT_TRUE(r.engine.add_service({kKey, "rr", 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(kKey, tun(kRs1v6, TunType::kGue, 6080)).ok());
  Packet p = r.send(syn().build());
  ASSERT_EQ(p.verdict, Verdict::kTx);
  const auto inner = syn(0, 59).build_ip();
  const auto frame = syn().build();
  const uint16_t sport = tun_src_port(frame.data(), net::parse_packet(frame.data(), frame.size()));
  std::vector<uint8_t> gue = {0x00, 0x04, 0x00, 0x00};  // version 0, proto IPIP, no flags
  gue.insert(gue.end(), inner.begin(), inner.end());
  // No checksum asked for: a zero UDP checksum, over IPv6 too (as IPVS sends it).
  const auto want = PacketBuilder().eth(kIntMac, kRs1Mac).ipv6(kIntAddr6, kRs1v6).ttl(59)
                        .udp(sport, 6080).no_udp_checksum().payload(gue).build();
  EXPECT_EQ(r.out, want);
}

TEST(TunEngine, TooBigForTheTunnelAnswersWithTheInnerMtu) {
  Rig r;
  ASSERT_TRUE(r.engine.add_service({kKey, "rr", 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(kKey, tun(kRs1)).ok());
  // 1500 bytes of IP with DF: 20 more for the outer header does not fit the 1500 MTU.
  Packet p = r.send(syn(1500 - 40).build());
  EXPECT_EQ(r.drops(DropReason::kMtuExceeded), 1u);
  ASSERT_EQ(p.verdict, Verdict::kTx);  // the error, to the client
  EXPECT_EQ(p.out_ifindex, fixtures::kExt);
  const auto e = net::parse_packet(r.out.data(), r.out.size());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.l4_proto, 1);
  EXPECT_EQ(e.icmp_type, 3);
  EXPECT_EQ(e.icmp_code, 4);
  EXPECT_EQ(net::load_be16(r.out.data() + e.l4_offset + 6), 1480);
  EXPECT_EQ(net::IpAddr::v4(r.out.data() + e.l3_offset + 16), kClient);
  EXPECT_EQ(net::IpAddr::v4(r.out.data() + e.l3_offset + 12), kVip);
  // 1480 bytes fit exactly.
  Packet ok = r.send(std::move(syn(1480 - 40)).build());
  EXPECT_EQ(ok.verdict, Verdict::kTx);
  EXPECT_EQ(ok.out_ifindex, fixtures::kInt);
  EXPECT_EQ(r.out.size(), 14u + 1500u);
}

TEST(TunEngine, ControlErrors) {
  Rig r;
  ASSERT_TRUE(r.engine.add_service({kKey, "rr", 0}).ok());
  EXPECT_FALSE(r.engine.add_dest(kKey, tun(kRs1, TunType::kGue, 0)).ok());
  DestSpec bad = tun(kRs1);
  bad.tun_flags = kTunFlagCsum;
  EXPECT_FALSE(r.engine.add_dest(kKey, bad).ok());
  bad = tun(kRs1, TunType::kGre);
  bad.tun_flags = kTunFlagRemCsum;
  EXPECT_FALSE(r.engine.add_dest(kKey, bad).ok());
  bad.tun_flags = kTunFlagCsum;
  EXPECT_TRUE(r.engine.add_dest(kKey, bad).ok());
  EXPECT_EQ(r.engine.snapshot()[0].dests[0].tun_type, TunType::kGre);
}

}  // namespace
}  // namespace lvs::core
