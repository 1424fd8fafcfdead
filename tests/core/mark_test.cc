// fwmark services fed by compiled marking rules: packets the kernel's mangle table would mark
// find the fwmark service, keep their destination port, and persistence spans the grouped ports.
#include <gtest/gtest.h>

#include "core/engine.h"
#include "fixtures/topology.h"
#include "net/packet_builder.h"
#include "net/parse.h"

namespace lvs::core {
namespace {

using fixtures::kClient;
using fixtures::kExtMac;
using fixtures::kRouterMac;
using fixtures::kRs1;
using fixtures::kRs2;
using fixtures::kVip;
using fixtures::kVip6;
using net::PacketBuilder;

class Rig {
 public:
  Rig() : engine(fixtures::test_config()), routes(fixtures::make_routes()) {
    engine.set_routes(routes.get());
  }
  Packet syn(const net::IpAddr& client, uint16_t sport, uint16_t dport) {
    const auto f = PacketBuilder().eth(kRouterMac, kExtMac).ipv4(client, kVip)
                       .tcp(sport, dport, net::kTcpSyn).build();
    buf.assign(4096, 0);
    std::memcpy(buf.data() + 256, f.data(), f.size());
    Packet p;
    p.data = buf.data() + 256;
    p.len = uint32_t(f.size());
    p.headroom = 256;
    p.tailroom = 2048;
    engine.process(std::span(&p, 1), kNanosPerSec);
    const auto pp = net::parse_packet(p.data, p.len);
    out_addr = net::IpAddr::v4(p.data + pp.l3_offset + 16);
    out_port = pp.dport;
    return p;
  }
  Engine engine;
  std::unique_ptr<RouteTable> routes;
  std::vector<uint8_t> buf;
  net::IpAddr out_addr;
  uint16_t out_port = 0;
};

TEST(MarkIndex, FindsOnlyWhatRulesSay) {
  MarkIndex m;
  EXPECT_EQ(m.find(6, net::Family::kV4, kVip.data(), 80), 0u);
  m.rebuild({{kVip, 6, 80, 1}, {kVip, 6, 443, 1}, {kVip, 17, 53, 2}, {kVip6, 6, 80, 3},
             {kVip, 6, 80, 9}},  // a second rule for an endpoint does not replace the first
            7);
  EXPECT_EQ(m.size(), 4u);
  EXPECT_EQ(m.find(6, net::Family::kV4, kVip.data(), 80), 1u);
  EXPECT_EQ(m.find(6, net::Family::kV4, kVip.data(), 443), 1u);
  EXPECT_EQ(m.find(17, net::Family::kV4, kVip.data(), 53), 2u);
  EXPECT_EQ(m.find(17, net::Family::kV4, kVip.data(), 80), 0u);
  EXPECT_EQ(m.find(6, net::Family::kV6, kVip6.data(), 80), 3u);
  EXPECT_EQ(m.find(6, net::Family::kV4, kRs1.data(), 80), 0u);
}

TEST(FwmarkService, GroupsPortsAndKeepsThem) {
  Rig r;
  const ServiceKey fwm = ServiceKey::fwmark_key(net::Family::kV4, 1);
  ASSERT_TRUE(r.engine.add_service({fwm, "rr", 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(fwm, {kRs1, 0, Fwd::kNat, 1, 0, 0}).ok());
  r.engine.set_mark_rules({{kVip, 6, 80, 1}, {kVip, 6, 443, 1}});
  ASSERT_EQ(r.syn(kClient, 40000, 80).verdict, Verdict::kTx);
  EXPECT_EQ(r.out_addr, kRs1);
  EXPECT_EQ(r.out_port, 80);
  ASSERT_EQ(r.syn(kClient, 40001, 443).verdict, Verdict::kTx);
  EXPECT_EQ(r.out_port, 443);
  Packet p = r.syn(kClient, 40002, 8080);
  EXPECT_EQ(p.verdict, Verdict::kDrop);
  EXPECT_EQ(p.reason, DropReason::kNoService);
  EXPECT_EQ(r.engine.snapshot()[0].stats.conns, 2u);
}

TEST(FwmarkService, PersistenceSpansTheMarkedPorts) {
  Rig r;
  const ServiceKey fwm = ServiceKey::fwmark_key(net::Family::kV4, 5);
  ServiceSpec s{fwm, "rr", 0};
  s.persistence_timeout = 300;
  ASSERT_TRUE(r.engine.add_service(s).ok());
  ASSERT_TRUE(r.engine.add_dest(fwm, {kRs1, 0, Fwd::kNat, 1, 0, 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(fwm, {kRs2, 0, Fwd::kNat, 1, 0, 0}).ok());
  r.engine.set_mark_rules({{kVip, 6, 80, 5}, {kVip, 6, 443, 5}});
  for (int c = 0; c < 4; ++c) {
    const net::IpAddr client = net::IpAddr::v4(uint32_t(0xc6120000u + 0x100 + c));
    ASSERT_EQ(r.syn(client, 40000, 80).verdict, Verdict::kTx);
    const net::IpAddr first = r.out_addr;
    ASSERT_EQ(r.syn(client, 40001, 443).verdict, Verdict::kTx);
    EXPECT_EQ(r.out_addr, first) << "client " << c;
  }
}

TEST(FwmarkService, AnEveryPortEntryCoversPortsWithoutTheirOwn) {
  Rig r;
  const ServiceKey one = ServiceKey::fwmark_key(net::Family::kV4, 1);
  const ServiceKey two = ServiceKey::fwmark_key(net::Family::kV4, 2);
  ASSERT_TRUE(r.engine.add_service({one, "rr", 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(one, {kRs1, 0, Fwd::kNat, 1, 0, 0}).ok());
  ASSERT_TRUE(r.engine.add_service({two, "rr", 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(two, {kRs2, 0, Fwd::kNat, 1, 0, 0}).ok());
  r.engine.set_mark_rules({{kVip, 6, 0, 1}, {kVip, 6, 443, 2}});
  ASSERT_EQ(r.syn(kClient, 40000, 8080).verdict, Verdict::kTx);
  EXPECT_EQ(r.out_addr, kRs1);
  ASSERT_EQ(r.syn(kClient, 40001, 443).verdict, Verdict::kTx);
  EXPECT_EQ(r.out_addr, kRs2);  // the exact port wins
}

}  // namespace
}  // namespace lvs::core
