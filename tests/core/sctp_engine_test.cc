// SCTP through the engine: scheduled on INIT, IPVS's association states and counters, NAT with
// the CRC32c kept right.
#include <gtest/gtest.h>

#include "core/engine.h"
#include "core/sctp_states.h"
#include "fixtures/engine_rig.h"
#include "fixtures/topology.h"
#include "net/crc32c.h"
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
using fixtures::kVip;
using net::PacketBuilder;

// An SCTP packet with one chunk of `type` (4-byte value after the chunk header), its CRC32c
// computed from scratch.
std::vector<uint8_t> sctp(const net::MacAddr& sm, const net::MacAddr& dm, const net::IpAddr& src,
                          const net::IpAddr& dst, uint16_t sport, uint16_t dport, uint8_t type,
                          uint8_t ttl = 64) {
  std::vector<uint8_t> l4 = {uint8_t(sport >> 8), uint8_t(sport), uint8_t(dport >> 8),
                             uint8_t(dport), 0, 0, 0, 7, 0, 0, 0, 0,
                             type, 0, 0, 8, 0, 0, 0, 1};
  auto f = PacketBuilder().eth(sm, dm).ipv4(src, dst).ttl(ttl).raw_l4(net::kProtoSctp)
               .payload(l4).build();
  const auto p = net::parse_packet(f.data(), f.size());
  net::sctp_csum_set(f.data() + p.l4_offset, p.l4_len());
  return f;
}

using Rig = fixtures::EngineRig;

const ServiceKey kKey{net::kProtoSctp, kVip, 5000, 0};

TEST(SctpEngine, NatAssociationByteExactWithStates) {
  Rig r;
  ASSERT_TRUE(r.engine.add_service({kKey, "rr", 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(kKey, {kRs1, 5001, Fwd::kNat, 1, 0, 0}).ok());
  const auto in = [&](uint8_t type) {
    EXPECT_EQ(r.send(sctp(kRouterMac, kExtMac, kClient, kVip, 40000, 5000, type)).verdict,
              Verdict::kTx);
    EXPECT_EQ(r.out, sctp(kIntMac, kRs1Mac, kClient, kRs1, 40000, 5001, type, 63));
  };
  const auto out = [&](uint8_t type) {
    EXPECT_EQ(r.send(sctp(kRs1Mac, kIntMac, kRs1, kClient, 5001, 40000, type)).verdict,
              Verdict::kTx);
    EXPECT_EQ(r.out, sctp(kExtMac, kRouterMac, kVip, kClient, 5000, 40000, type, 63));
  };
  in(net::kSctpChunkInit);
  EXPECT_EQ(r.engine.list_conns()[0].state, "INIT1");
  out(net::kSctpChunkInitAck);
  in(net::kSctpChunkCookieEcho);
  out(net::kSctpChunkCookieAck);
  EXPECT_EQ(r.engine.list_conns()[0].state, "ESTABLISHED");
  EXPECT_EQ(r.engine.snapshot()[0].dests[0].active_conns, 1u);
  in(0);  // DATA
  in(net::kSctpChunkShutdown);
  out(net::kSctpChunkShutdownAck);
  in(net::kSctpChunkShutdownComplete);
  EXPECT_EQ(r.engine.list_conns()[0].state, "CLOSED");
  EXPECT_EQ(r.engine.snapshot()[0].dests[0].active_conns, 0u);
  EXPECT_EQ(r.engine.snapshot()[0].dests[0].inactive_conns, 1u);
  // A new INIT on the closed association starts a new one.
  in(net::kSctpChunkInit);
  EXPECT_EQ(r.engine.snapshot()[0].stats.conns, 2u);
}

TEST(SctpEngine, OnlyInitSchedules) {
  Rig r;
  ASSERT_TRUE(r.engine.add_service({kKey, "rr", 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(kKey, {kRs1, 5001, Fwd::kNat, 1, 0, 0}).ok());
  for (uint8_t type : {uint8_t(0), uint8_t(net::kSctpChunkAbort), uint8_t(net::kSctpChunkCookieEcho)}) {
    Packet p = r.send(sctp(kRouterMac, kExtMac, kClient, kVip, 40001, 5000, type));
    EXPECT_EQ(p.verdict, Verdict::kDrop);
    EXPECT_EQ(p.reason, DropReason::kNoConnection);
  }
  EXPECT_TRUE(r.engine.list_conns().empty());
}

}  // namespace
}  // namespace lvs::core
