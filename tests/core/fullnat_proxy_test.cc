// PROXY v2 on FULLNAT connections: the header opens the stream the real server sees, and both
// sequence spaces stay consistent around it.
#include <gtest/gtest.h>

#include "core/engine.h"
#include "fixtures/engine_rig.h"
#include "fixtures/tcp_frame.h"
#include "fixtures/topology.h"
#include "net/checksum.h"
#include "net/packet_builder.h"
#include "net/parse.h"
#include "net/proxy_v2.h"

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
using fixtures::kVip;
using fixtures::kVip6;
using fixtures::tcp_frame;
using net::PacketBuilder;

const net::IpAddr kLocal = net::ip("198.18.1.50");
const net::IpAddr kLocal6 = net::ip("2001:2:1::50");

using Rig = fixtures::EngineRig;

void setup(Rig& r, const ServiceKey& key, const net::IpAddr& laddr, const net::IpAddr& rs) {
  ServiceSpec s{key, "rr", 0};
  s.local_addrs = {laddr};
  s.proxy_protocol = true;
  ASSERT_TRUE(r.engine.add_service(s).ok());
  ASSERT_TRUE(r.engine.add_dest(key, {rs, 8080, Fwd::kFullNat, 1, 0, 0}).ok());
}

std::vector<uint8_t> proxy_header(const net::IpAddr& c, uint16_t cport, const net::IpAddr& v,
                                  uint16_t vport) {
  std::vector<uint8_t> h(net::proxy_v2_size(c.family));
  net::proxy_v2_write(h.data(), h.size(), c, cport, v, vport, 6);
  return h;
}

void run_stream(const net::IpAddr& client, const net::IpAddr& vip, const net::IpAddr& laddr,
                const net::IpAddr& rs, uint32_t n) {
  Rig r;
  setup(r, ServiceKey{6, vip, 80, 0}, laddr, rs);
  const uint32_t isn = 0xfffffff0u;  // the stream wraps 2^32 on the way
  // SYN: untouched apart from FULLNAT.
  ASSERT_EQ(r.send(tcp_frame(kRouterMac, kExtMac, client, vip, 40000, 80, net::kTcpSyn, isn, 0,
                             {2, 4, 0x05, 0xb4}, "")).verdict, Verdict::kTx);
  EXPECT_EQ(r.out, tcp_frame(kIntMac, kRs1Mac, laddr, rs, 1024, 8080, net::kTcpSyn, isn, 0,
                             {2, 4, 0x05, 0xb4}, "", 63));
  // SYN-ACK: MSS 1460 shrinks by the header's length.
  const uint8_t syn_ack = net::kTcpSyn | net::kTcpAck;
  ASSERT_EQ(r.send(tcp_frame(kRs1Mac, kIntMac, rs, laddr, 8080, 1024, syn_ack, 7000, isn + 1,
                             {2, 4, 0x05, 0xb4, 4, 2}, "")).verdict, Verdict::kTx);
  const uint16_t mss = uint16_t(1460 - n);
  EXPECT_EQ(r.out, tcp_frame(kExtMac, kRouterMac, vip, client, 80, 40000, syn_ack, 7000, isn + 1,
                             {2, 4, uint8_t(mss >> 8), uint8_t(mss), 4, 2}, "", 63));
  // The handshake's ACK carries nothing: its sequence number stays.
  ASSERT_EQ(r.send(tcp_frame(kRouterMac, kExtMac, client, vip, 40000, 80, net::kTcpAck, isn + 1,
                             7001, {}, "")).verdict, Verdict::kTx);
  EXPECT_EQ(r.out, tcp_frame(kIntMac, kRs1Mac, laddr, rs, 1024, 8080, net::kTcpAck, isn + 1, 7001,
                             {}, "", 63));
  // The first bytes: the header goes in front of them.
  const auto hdr = proxy_header(client, 40000, vip, 80);
  ASSERT_EQ(hdr.size(), n);
  ASSERT_EQ(r.send(tcp_frame(kRouterMac, kExtMac, client, vip, 40000, 80, net::kTcpAck, isn + 1,
                             7001, {}, "GET / HTTP/1.1\r\n")).verdict, Verdict::kTx);
  const std::string first(hdr.begin(), hdr.end());
  EXPECT_EQ(r.out, tcp_frame(kIntMac, kRs1Mac, laddr, rs, 1024, 8080, net::kTcpAck, isn + 1, 7001,
                             {}, first + "GET / HTTP/1.1\r\n", 63));
  // What the real server reads back is the client's endpoint and the VIP.
  auto pp = net::parse_packet(r.out.data(), r.out.size());
  const auto parsed = net::parse_proxy_v2(r.out.data() + pp.l4_offset + 20, n + 16);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.src, client);
  EXPECT_EQ(parsed.sport, 40000);
  EXPECT_EQ(parsed.dst, vip);
  // Later bytes move up by n.
  ASSERT_EQ(r.send(tcp_frame(kRouterMac, kExtMac, client, vip, 40000, 80, net::kTcpAck, isn + 17,
                             7001, {}, "Host: x\r\n\r\n")).verdict, Verdict::kTx);
  EXPECT_EQ(r.out, tcp_frame(kIntMac, kRs1Mac, laddr, rs, 1024, 8080, net::kTcpAck, isn + 17 + n,
                             7001, {}, "Host: x\r\n\r\n", 63));
  // The server's acknowledgements and SACK edges move down by n; inside the header they
  // acknowledge nothing of the client's.
  const uint32_t sack_l = isn + 17 + n, sack_r = isn + 28 + n;
  std::vector<uint8_t> sack = {1, 1, 5, 10};
  for (uint32_t e : {sack_l, sack_r}) {
    for (int k = 3; k >= 0; --k) sack.push_back(uint8_t(e >> (8 * k)));
  }
  ASSERT_EQ(r.send(tcp_frame(kRs1Mac, kIntMac, rs, laddr, 8080, 1024, net::kTcpAck, 7001,
                             isn + 17 + n, sack, "HTTP/1.1 200 OK\r\n")).verdict, Verdict::kTx);
  std::vector<uint8_t> sack_out = {1, 1, 5, 10};
  for (uint32_t e : {isn + 17, isn + 28}) {
    for (int k = 3; k >= 0; --k) sack_out.push_back(uint8_t(e >> (8 * k)));
  }
  EXPECT_EQ(r.out, tcp_frame(kExtMac, kRouterMac, vip, client, 80, 40000, net::kTcpAck, 7001,
                             isn + 17, sack_out, "HTTP/1.1 200 OK\r\n", 63));
  ASSERT_EQ(r.send(tcp_frame(kRs1Mac, kIntMac, rs, laddr, 8080, 1024, net::kTcpAck, 7018,
                             isn + 1 + n / 2, {}, "")).verdict, Verdict::kTx);
  EXPECT_EQ(r.out, tcp_frame(kExtMac, kRouterMac, vip, client, 80, 40000, net::kTcpAck, 7018,
                             isn + 1, {}, "", 63));
  // A retransmitted first segment gets the same header again.
  ASSERT_EQ(r.send(tcp_frame(kRouterMac, kExtMac, client, vip, 40000, 80, net::kTcpAck, isn + 1,
                             7018, {}, "GET / HTTP/1.1\r\n")).verdict, Verdict::kTx);
  EXPECT_EQ(r.out, tcp_frame(kIntMac, kRs1Mac, laddr, rs, 1024, 8080, net::kTcpAck, isn + 1, 7018,
                             {}, first + "GET / HTTP/1.1\r\n", 63));
}

TEST(FullNatProxyV2, Ipv4Stream) { run_stream(kClient, kVip, kLocal, kRs1, 28); }
TEST(FullNatProxyV2, Ipv6Stream) { run_stream(kClient6, fixtures::kVip6, kLocal6, kRs1v6, 52); }

TEST(FullNatProxyV2, NoHeadroomDropsInsteadOfCorrupting) {
  Rig r;
  setup(r, ServiceKey{6, kVip, 80, 0}, kLocal, kRs1);
  ASSERT_EQ(r.send(tcp_frame(kRouterMac, kExtMac, kClient, kVip, 40000, 80, net::kTcpSyn, 1, 0,
                             {}, "")).verdict, Verdict::kTx);
  const auto f = tcp_frame(kRouterMac, kExtMac, kClient, kVip, 40000, 80, net::kTcpAck, 2, 1, {},
                           "x");
  r.buf.assign(4096, 0);
  std::memcpy(r.buf.data() + 8, f.data(), f.size());
  Packet p;
  p.data = r.buf.data() + 8;
  p.len = uint32_t(f.size());
  p.headroom = 8;
  p.tailroom = 1000;
  r.engine.process(std::span(&p, 1), kNanosPerSec);
  EXPECT_EQ(p.verdict, Verdict::kDrop);
  EXPECT_EQ(p.reason, DropReason::kMtuExceeded);
}

}  // namespace
}  // namespace lvs::core
