// ICMP errors about connections through the engine: relayed to the other side of the connection
// with the quoted flow translated, as IPVS's ip_vs_in_icmp / ip_vs_out_icmp do.
#include <gtest/gtest.h>

#include "core/engine.h"
#include "fixtures/engine_rig.h"
#include "fixtures/topology.h"
#include "net/checksum.h"
#include "net/packet_builder.h"
#include "net/parse.h"

namespace lvs::core {
namespace {

using fixtures::kClient;
using fixtures::kClient6;
using fixtures::kRouter6;
using fixtures::kRs1v6;
using fixtures::kVip6;
using fixtures::kExtMac;
using fixtures::kIntMac;
using fixtures::kRouter;
using fixtures::kRouterMac;
using fixtures::kRs1;
using fixtures::kRs1Mac;
using fixtures::kVip;
using net::PacketBuilder;

using Rig = fixtures::EngineRig;

const ServiceKey kKey{6, kVip, 80, 0};

void setup(Rig& r, Fwd fwd = Fwd::kNat) {
  ASSERT_TRUE(r.engine.add_service({kKey, "rr", 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(kKey, {kRs1, 8080, fwd, 1, 0, 0}).ok());
  ASSERT_EQ(r.send(PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip)
                       .tcp(40000, 80, net::kTcpSyn, 1000).build()).verdict, Verdict::kTx);
}

// The checksum of the ICMP message and the outer and quoted IPv4 headers all verify.
void expect_sums_ok(const std::vector<uint8_t>& f) {
  const auto p = net::parse_packet(f.data(), f.size());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(net::checksum(f.data() + p.l4_offset, p.l4_len()), 0);
  const uint8_t* quote = f.data() + p.l4_offset + 8;
  EXPECT_EQ(net::checksum(quote, size_t(quote[0] & 0xf) * 4), 0);
}

TEST(IcmpEngine, ErrorAboutAPacketToTheRealServerReachesTheClientAsFromTheVip) {
  Rig r;
  setup(r);
  // What a router between director and real server quotes: the translated SYN.
  const auto quoted = PacketBuilder().ipv4(kClient, kRs1).tcp(40000, 8080, net::kTcpSyn, 1000)
                          .build_ip();
  Packet p = r.send(PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, kClient)
                        .icmp(3, 4, 1400).payload(quoted).build());
  ASSERT_EQ(p.verdict, Verdict::kTx);
  EXPECT_EQ(p.out_ifindex, fixtures::kExt);
  const auto e = net::parse_packet(r.out.data(), r.out.size());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(net::IpAddr::v4(r.out.data() + e.l3_offset + 12), kVip);
  EXPECT_EQ(net::IpAddr::v4(r.out.data() + e.l3_offset + 16), kClient);
  const uint8_t* q = r.out.data() + e.l4_offset + 8;
  EXPECT_EQ(net::IpAddr::v4(q + 12), kClient);
  EXPECT_EQ(net::IpAddr::v4(q + 16), kVip);  // the flow as the client knows it
  EXPECT_EQ(net::load_be16(q + 20), 40000);
  EXPECT_EQ(net::load_be16(q + 22), 80);
  EXPECT_EQ(net::load_be16(r.out.data() + e.l4_offset + 6), 1400);  // the MTU is kept
  expect_sums_ok(r.out);
}

TEST(IcmpEngine, ErrorAboutAReplyReachesTheRealServer) {
  Rig r;
  setup(r);
  const auto quoted = PacketBuilder().ipv4(kVip, kClient).tcp(80, 40000, net::kTcpSyn | net::kTcpAck)
                          .build_ip();
  Packet p = r.send(PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kRouter, kVip)
                        .icmp(3, 4, 1280).payload(quoted).build());
  ASSERT_EQ(p.verdict, Verdict::kTx);
  EXPECT_EQ(p.out_ifindex, fixtures::kInt);
  const auto e = net::parse_packet(r.out.data(), r.out.size());
  EXPECT_EQ(net::IpAddr::v4(r.out.data() + e.l3_offset + 16), kRs1);
  const uint8_t* q = r.out.data() + e.l4_offset + 8;
  EXPECT_EQ(net::IpAddr::v4(q + 12), kRs1);  // the flow as the real server knows it
  EXPECT_EQ(net::load_be16(q + 20), 8080);
  expect_sums_ok(r.out);
}

TEST(IcmpEngine, DirectRoutingErrorsGoToTheServerUnchangedButForTheHop) {
  Rig r;
  setup(r, Fwd::kDr);
  const auto quoted = PacketBuilder().ipv4(kVip, kClient).tcp(80, 40000, net::kTcpAck).build_ip();
  const auto in = PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kRouter, kVip).icmp(11, 0)
                      .payload(quoted).build();
  ASSERT_EQ(r.send(in).verdict, Verdict::kTx);
  EXPECT_EQ(r.out, PacketBuilder().eth(kIntMac, kRs1Mac).ipv4(kRouter, kVip).ttl(63).icmp(11, 0)
                       .payload(quoted).build());
}

TEST(IcmpEngine, UnknownFlowsAndOtherTypesAreDroppedAndCounted) {
  Rig r;
  setup(r);
  const auto other = PacketBuilder().ipv4(kVip, kClient).tcp(80, 40001, net::kTcpAck).build_ip();
  EXPECT_EQ(r.send(PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kRouter, kVip).icmp(3, 4, 1280)
                       .payload(other).build()).verdict, Verdict::kDrop);
  EXPECT_EQ(r.drops(DropReason::kIcmpNoConnection), 1u);
  EXPECT_EQ(r.send(PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip).icmp(8, 0, 7)
                       .build()).verdict, Verdict::kDrop);
  EXPECT_EQ(r.drops(DropReason::kIcmpNotRelayed), 1u);
  auto cut = PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kRouter, kVip).icmp(3, 1)
                 .payload(std::vector<uint8_t>(other.begin(), other.begin() + 22)).build();
  EXPECT_EQ(r.send(cut).verdict, Verdict::kDrop);
  EXPECT_EQ(r.drops(DropReason::kIcmpBadQuote), 1u);
}

// IPVS's decrement_ttl: a packet that would leave with hop limit 0 gets time exceeded from the
// VIP (ICMPv6 type 3 code 0, quoting it whole), rate limited; an ICMP error never gets an error.
TEST(IcmpEngine, HopLimitOneIsAnsweredWithTimeExceeded) {
  Rig r;
  const ServiceKey key{6, kVip6, 80, 0};
  ASSERT_TRUE(r.engine.add_service({key, "rr", 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(key, {kRs1v6, 8080, Fwd::kNat, 1, 0, 0}).ok());
  const auto syn = PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6).ttl(1)
                       .tcp(40000, 80, net::kTcpSyn, 1000).build();
  Packet p = r.send(syn);
  ASSERT_EQ(p.verdict, Verdict::kTx);
  EXPECT_EQ(p.reason, DropReason::kTtlExceeded);
  EXPECT_EQ(p.out_ifindex, fixtures::kExt);
  EXPECT_EQ(r.out, PacketBuilder().eth(kExtMac, kRouterMac).ipv6(kVip6, kClient6).icmp(3, 0)
                       .payload(std::vector<uint8_t>(syn.begin() + 14, syn.end())).build());
  EXPECT_EQ(r.engine.counters().icmp_sent, 1u);
}

TEST(IcmpEngine, AnErrorThatCannotBeForwardedIsNotAnswered) {
  Rig r;
  setup(r);
  const auto quoted = PacketBuilder().ipv4(kVip, kClient).tcp(80, 40000, net::kTcpAck).build_ip();
  Packet p = r.send(PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kRouter, kVip).ttl(1)
                        .icmp(3, 4, 1280).payload(quoted).build());
  EXPECT_EQ(p.verdict, Verdict::kDrop);
  EXPECT_EQ(r.drops(DropReason::kTtlExceeded), 1u);
  EXPECT_EQ(r.engine.counters().icmp_sent, 0u);
}

// FULLNAT: both ends of the quote and both outer addresses change, so each side sees the flow as
// it knows it. Expected frames are built whole; the quoted transport checksum stays as it was
// (IPVS writes ports only).
std::vector<uint8_t> with_tcp_check_of(std::vector<uint8_t> quote, const std::vector<uint8_t>& from) {
  // The TCP checksum sits 16 bytes into the segment, after each packet's own IP header.
  auto at = [](const std::vector<uint8_t>& ip) {
    return ((ip[0] >> 4) == 4 ? size_t(ip[0] & 0xf) * 4 : size_t(40)) + 16;
  };
  quote.at(at(quote)) = from.at(at(from));
  quote.at(at(quote) + 1) = from.at(at(from) + 1);
  return quote;
}

void fullnat_errors(const net::IpAddr& client, const net::IpAddr& vip, const net::IpAddr& router,
                    const net::IpAddr& local, const net::IpAddr& rs) {
  Rig r;
  const ServiceKey key{6, vip, 80, 0};
  ServiceSpec spec{key, "rr", 0};
  spec.local_addrs = {local};
  ASSERT_TRUE(r.engine.add_service(spec).ok());
  ASSERT_TRUE(r.engine.add_dest(key, {rs, 8080, Fwd::kFullNat, 1, 0, 0}).ok());
  auto ip = [](PacketBuilder b, const net::IpAddr& src, const net::IpAddr& dst) {
    return src.is_v4() ? b.ipv4(src, dst) : b.ipv6(src, dst);
  };
  ASSERT_EQ(r.send(ip(PacketBuilder().eth(kRouterMac, kExtMac), client, vip)
                       .tcp(40000, 80, net::kTcpSyn, 1000).build()).verdict, Verdict::kTx);
  const auto pp = net::parse_packet(r.out.data(), r.out.size());
  const uint16_t lport = net::load_be16(r.out.data() + pp.l4_offset);

  // From the real server's side, about the SYN it got: to the client, about the SYN it sent.
  const auto sent = ip(PacketBuilder(), local, rs).tcp(lport, 8080, net::kTcpSyn, 1000).build_ip();
  const auto seen = with_tcp_check_of(
      ip(PacketBuilder(), client, vip).tcp(40000, 80, net::kTcpSyn, 1000).build_ip(), sent);
  ASSERT_EQ(r.send(ip(PacketBuilder().eth(kRs1Mac, kIntMac), rs, local).icmp(3, 4, 1400)
                       .payload(sent).build()).verdict, Verdict::kTx);
  EXPECT_EQ(r.out, ip(PacketBuilder().eth(kExtMac, kRouterMac).ttl(63), vip, client)
                       .icmp(3, 4, 1400).payload(seen).build());

  // From the client's side, about the SYN-ACK it got: to the server, from the local address.
  const uint8_t sa = net::kTcpSyn | net::kTcpAck;
  const auto reply = ip(PacketBuilder(), vip, client).tcp(80, 40000, sa, 7000, 1001).build_ip();
  const auto orig = with_tcp_check_of(
      ip(PacketBuilder(), rs, local).tcp(8080, lport, sa, 7000, 1001).build_ip(), reply);
  ASSERT_EQ(r.send(ip(PacketBuilder().eth(kRouterMac, kExtMac), router, vip).icmp(3, 4, 1280)
                       .payload(reply).build()).verdict, Verdict::kTx);
  EXPECT_EQ(r.out, ip(PacketBuilder().eth(kIntMac, kRs1Mac).ttl(63), local, rs).icmp(3, 4, 1280)
                       .payload(orig).build());
  EXPECT_EQ(r.drops(DropReason::kIcmpNat64), 0u);
}

// NAT64: the error changes family with the connection (RFC 7915), its quote too.
TEST(IcmpEngine, Nat64ErrorsChangeFamily) {
  Rig r;
  const net::IpAddr local = net::ip("198.18.1.50");
  const ServiceKey key{6, kVip6, 80, 0};
  ServiceSpec spec{key, "rr", 0};
  spec.local_addrs = {local};
  ASSERT_TRUE(r.engine.add_service(spec).ok());
  ASSERT_TRUE(r.engine.add_dest(key, {kRs1, 8080, Fwd::kFullNat, 1, 0, 0}).ok());
  ASSERT_EQ(r.send(PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6)
                       .tcp(40000, 80, net::kTcpSyn, 1000).build()).verdict, Verdict::kTx);

  // Fragmentation needed (MTU 1400) about the translated SYN -> packet too big (MTU 1420).
  const auto sent = PacketBuilder().ipv4(local, kRs1).ttl(63).ip_id(0)
                        .tcp(1024, 8080, net::kTcpSyn, 1000).build_ip();
  const auto seen = with_tcp_check_of(
      PacketBuilder().ipv6(kClient6, kVip6).ttl(63).tcp(40000, 80, net::kTcpSyn, 1000).build_ip(),
      sent);
  Packet p = r.send(PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, local).icmp(3, 4, 1400)
                        .payload(sent).build());
  ASSERT_EQ(p.verdict, Verdict::kTx);
  EXPECT_EQ(p.out_ifindex, fixtures::kExt);
  EXPECT_EQ(r.out, PacketBuilder().eth(kExtMac, kRouterMac).ipv6(kVip6, kClient6).ttl(63)
                       .icmp(2, 0, 1420).payload(seen).build());

  // Packet too big (MTU 1280) about the SYN-ACK -> fragmentation needed (MTU 1260), from the
  // local address to the real server, about what it sent.
  const uint8_t sa = net::kTcpSyn | net::kTcpAck;
  const auto reply = PacketBuilder().ipv6(kVip6, kClient6).ttl(63).tcp(80, 40000, sa, 7000, 1001)
                         .build_ip();
  const auto orig = with_tcp_check_of(PacketBuilder().ipv4(kRs1, local).ttl(63).ip_id(0)
                                          .tcp(8080, 1024, sa, 7000, 1001).build_ip(),
                                      reply);
  p = r.send(PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kRouter6, kVip6).icmp(2, 0, 1280)
                 .payload(reply).build());
  ASSERT_EQ(p.verdict, Verdict::kTx);
  EXPECT_EQ(p.out_ifindex, fixtures::kInt);
  EXPECT_EQ(r.out, PacketBuilder().eth(kIntMac, kRs1Mac).ipv4(local, kRs1).ttl(63)
                       .dont_fragment(false).icmp(3, 4, 1260).payload(orig).build());

  // Source quench has no ICMPv6 counterpart.
  EXPECT_EQ(r.send(PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, local).icmp(4, 0)
                       .payload(sent).build()).verdict, Verdict::kDrop);
  EXPECT_EQ(r.drops(DropReason::kIcmpNat64), 1u);
}

TEST(IcmpEngine, FullNatErrorsIpv4) {
  fullnat_errors(kClient, kVip, kRouter, net::ip("198.18.1.50"), kRs1);
}

TEST(IcmpEngine, FullNatErrorsIpv6) {
  fullnat_errors(kClient6, kVip6, kRouter6, net::ip("2001:2:1::50"), kRs1v6);
}

}  // namespace
}  // namespace lvs::core
