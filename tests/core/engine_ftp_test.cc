// The FTP helper in the engine, packet by packet: a NAT control connection's PASV/EPSV replies
// rewritten to name the VIP with the sequence numbers moved after them, PORT/EPRT making the
// active data connection, the passive expectation making the client's data connection, and
// the hand-over of both to another worker.
#include <gtest/gtest.h>

#include <string>

#include "core/engine.h"
#include "core/ftp_tables.h"
#include "fixtures/engine_rig.h"
#include "fixtures/tcp_frame.h"
#include "fixtures/topology.h"

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
using Rig = fixtures::EngineRig;

constexpr uint8_t kAck = net::kTcpAck;
constexpr uint8_t kPsh = 0x08;
constexpr uint8_t kSynAck = net::kTcpSyn | net::kTcpAck;

// One control connection through the director, both sides' sequence numbers as they see them.
struct Control {
  Rig& r;
  net::IpAddr client, vip, rs;
  uint16_t cport = 40000;
  uint32_t cseq = 1000;  // client's next sequence number
  uint32_t sseq = 5000;  // server's next sequence number (its own numbering)
  int32_t shift = 0;     // what the director added to the server's stream so far

  void handshake() {
    ASSERT_EQ(r.send(tcp_frame(kRouterMac, kExtMac, client, vip, cport, 21, net::kTcpSyn, cseq, 0,
                               {}, ""))
                  .verdict,
              Verdict::kTx);
    EXPECT_EQ(r.out, tcp_frame(kIntMac, kRs1Mac, client, rs, cport, 21, net::kTcpSyn, cseq, 0, {},
                               "", 63));
    ++cseq;
    ASSERT_EQ(
        r.send(tcp_frame(kRs1Mac, kIntMac, rs, client, 21, cport, kSynAck, sseq, cseq, {}, ""))
            .verdict,
        Verdict::kTx);
    ++sseq;
    ASSERT_EQ(
        r.send(tcp_frame(kRouterMac, kExtMac, client, vip, cport, 21, kAck, cseq, sseq, {}, ""))
            .verdict,
        Verdict::kTx);
  }
  // The client's command: forwarded unchanged apart from NAT and the acknowledgement.
  void command(std::string_view text) {
    const uint32_t client_ack = sseq + uint32_t(shift);
    ASSERT_EQ(r.send(tcp_frame(kRouterMac, kExtMac, client, vip, cport, 21, kAck | kPsh, cseq,
                               client_ack, {}, text))
                  .verdict,
              Verdict::kTx);
    EXPECT_EQ(r.out, tcp_frame(kIntMac, kRs1Mac, client, rs, cport, 21, kAck | kPsh, cseq, sseq, {},
                               text, 63));
    cseq += uint32_t(text.size());
  }
  // The server's reply; `seen` is what the client must get.
  void reply(std::string_view text, std::string_view seen) {
    ASSERT_EQ(r.send(tcp_frame(kRs1Mac, kIntMac, rs, client, 21, cport, kAck | kPsh, sseq, cseq, {},
                               text))
                  .verdict,
              Verdict::kTx);
    EXPECT_EQ(r.out, tcp_frame(kExtMac, kRouterMac, vip, client, 21, cport, kAck | kPsh,
                               sseq + uint32_t(shift), cseq, {}, seen, 63));
    sseq += uint32_t(text.size());
    shift += int32_t(seen.size()) - int32_t(text.size());
  }
};

void setup(Engine& e, const net::IpAddr& vip, const net::IpAddr& rs) {
  const ServiceKey key{6, vip, 21, 0};
  ASSERT_TRUE(e.add_service({key, "rr", 0}).ok());
  ASSERT_TRUE(e.add_dest(key, {rs, 21, Fwd::kNat, 1, 0, 0}).ok());
}

std::vector<FtpDataRequest> drain(Engine& e) {
  std::vector<FtpDataRequest> out;
  e.drain_ftp_requests([&](const FtpDataRequest& r) { out.push_back(r); });
  return out;
}

TEST(EngineFtp, PassiveReplyNamesTheVipAndShiftsTheStream) {
  Rig r;
  setup(r.engine, kVip, kRs1);
  Control c{r, kClient, kVip, kRs1};
  c.handshake();
  c.command("PASV\r\n");
  // 198,18,1,11 -> 198,18,2,100: one character longer. Port 50000 = 195,80.
  c.reply("227 Entering Passive Mode (198,18,1,11,195,80).\r\n",
          "227 Entering Passive Mode (198,18,2,100,195,80).\r\n");
  EXPECT_EQ(c.shift, 1);
  EXPECT_EQ(r.engine.counters().ftp.passive, 1u);
  // Later server bytes move up by one; the client's acknowledgements come back down.
  c.reply("150 Here comes the directory listing.\r\n", "150 Here comes the directory listing.\r\n");
  c.command("QUIT\r\n");
  // A SACK block from the client is mapped back too.
  const uint32_t l = c.sseq - 10 + 1, rr = c.sseq + 1;
  std::vector<uint8_t> sack = {1, 1, 5, 10};
  std::vector<uint8_t> sack_back = {1, 1, 5, 10};
  for (uint32_t e : {l, rr}) {
    for (int k = 3; k >= 0; --k) sack.push_back(uint8_t(e >> (8 * k)));
  }
  for (uint32_t e : {l - 1, rr - 1}) {
    for (int k = 3; k >= 0; --k) sack_back.push_back(uint8_t(e >> (8 * k)));
  }
  ASSERT_EQ(r.send(tcp_frame(kRouterMac, kExtMac, kClient, kVip, c.cport, 21, kAck, c.cseq,
                             c.sseq + 1 - 20, sack, ""))
                .verdict,
            Verdict::kTx);
  EXPECT_EQ(r.out, tcp_frame(kIntMac, kRs1Mac, kClient, kRs1, c.cport, 21, kAck, c.cseq,
                             c.sseq - 20, sack_back, "", 63));

  // The expectation: announced for the other workers and the classifier.
  const auto reqs = drain(r.engine);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(reqs[0].passive);
  EXPECT_EQ(reqs[0].expect.vaddr, kVip);
  EXPECT_EQ(reqs[0].expect.vport, 50000);
  EXPECT_EQ(reqs[0].expect.daddr, kRs1);
  EXPECT_EQ(reqs[0].expect.dport, 50000);
  ASSERT_EQ(r.engine.ftp_endpoints().size(), 1u);
  EXPECT_EQ(r.engine.ftp_endpoints()[0], (FtpEndpoint{kVip, 50000, kRs1, 50000}));

  // The client's data connection, from a port of its choosing, reaches the server's port.
  ASSERT_EQ(r.send(tcp_frame(kRouterMac, kExtMac, kClient, kVip, 40001, 50000, net::kTcpSyn, 9000,
                             0, {}, ""))
                .verdict,
            Verdict::kTx);
  EXPECT_EQ(r.out, tcp_frame(kIntMac, kRs1Mac, kClient, kRs1, 40001, 50000, net::kTcpSyn, 9000, 0,
                             {}, "", 63));
  ASSERT_EQ(
      r.send(tcp_frame(kRs1Mac, kIntMac, kRs1, kClient, 50000, 40001, kSynAck, 7000, 9001, {}, ""))
          .verdict,
      Verdict::kTx);
  EXPECT_EQ(r.out, tcp_frame(kExtMac, kRouterMac, kVip, kClient, 50000, 40001, kSynAck, 7000, 9001,
                             {}, "", 63));
  EXPECT_EQ(r.engine.counters().ftp.data_conns, 1u);
  // One expectation, one connection: a second client port finds nothing.
  EXPECT_EQ(r.send(tcp_frame(kRouterMac, kExtMac, kClient, kVip, 40002, 50000, net::kTcpSyn, 9000,
                             0, {}, ""))
                .verdict,
            Verdict::kDrop);
  EXPECT_EQ(r.drops(DropReason::kNoService), 1u);
  // The data connection keeps the endpoint in use until it expires.
  EXPECT_EQ(r.engine.ftp_endpoints().size(), 1u);
  for (int i = 0; i < 4; ++i) r.engine.expire(Nanos(4000 + i) * kNanosPerSec);
  EXPECT_TRUE(r.engine.ftp_endpoints().empty());
  EXPECT_EQ(r.engine.conns().size(), 0u);
}

TEST(EngineFtp, PortMakesTheActiveDataConnection) {
  Rig r;
  setup(r.engine, kVip, kRs1);
  Control c{r, kClient, kVip, kRs1};
  c.handshake();
  c.command("PORT 198,18,0,1,160,0\r\n");  // 40960
  EXPECT_EQ(r.engine.counters().ftp.active, 1u);
  c.reply("200 PORT command successful.\r\n", "200 PORT command successful.\r\n");
  c.command("LIST\r\n");
  // The server connects from port 20: the client sees it come from VIP:20.
  ASSERT_EQ(
      r.send(tcp_frame(kRs1Mac, kIntMac, kRs1, kClient, 20, 40960, net::kTcpSyn, 7000, 0, {}, ""))
          .verdict,
      Verdict::kTx);
  EXPECT_EQ(r.out, tcp_frame(kExtMac, kRouterMac, kVip, kClient, 20, 40960, net::kTcpSyn, 7000, 0,
                             {}, "", 63));
  ASSERT_EQ(
      r.send(tcp_frame(kRouterMac, kExtMac, kClient, kVip, 40960, 20, kSynAck, 9000, 7001, {}, ""))
          .verdict,
      Verdict::kTx);
  EXPECT_EQ(r.out,
            tcp_frame(kIntMac, kRs1Mac, kClient, kRs1, 40960, 20, kSynAck, 9000, 7001, {}, "", 63));
  EXPECT_EQ(r.engine.counters().ftp.data_conns, 1u);
  EXPECT_TRUE(drain(r.engine).empty());  // one worker: nothing to hand on
  // The real server's port-20 replies reach lvsd through the classifier's backend entries.
  const auto be = r.engine.nat_backends();
  EXPECT_NE(std::find(be.begin(), be.end(), BackendEndpoint{6, kRs1, 20}), be.end());
}

TEST(EngineFtp, PortNamingAnotherHostIsRefused) {
  Rig r;
  setup(r.engine, kVip, kRs1);
  Control c{r, kClient, kVip, kRs1};
  c.handshake();
  c.command("PORT 198,18,0,99,160,0\r\n");  // someone else's address: the FTP bounce
  EXPECT_EQ(r.engine.counters().ftp.active, 0u);
  EXPECT_EQ(r.engine.counters().ftp.malformed, 1u);
  const auto in_use = r.engine.conns().size();
  EXPECT_EQ(r.send(tcp_frame(kRs1Mac, kIntMac, kRs1, net::ip("198.18.0.99"), 20, 40960,
                             net::kTcpSyn, 7000, 0, {}, ""))
                .verdict,
            Verdict::kDrop);
  EXPECT_EQ(r.engine.conns().size(), in_use);
}

TEST(EngineFtp, MalformedCommandsPassUnchanged) {
  Rig r;
  setup(r.engine, kVip, kRs1);
  Control c{r, kClient, kVip, kRs1};
  c.handshake();
  c.command("PORT 198,18,0,1,300,0\r\n");  // a number above 255
  c.command("PASV\r\n");
  c.reply("227 Entering Passive Mode (198,18,1,11,195).\r\n",
          "227 Entering Passive Mode (198,18,1,11,195).\r\n");  // five numbers
  EXPECT_EQ(r.engine.counters().ftp.malformed, 2u);
  EXPECT_EQ(r.engine.counters().ftp.passive, 0u);
  EXPECT_EQ(r.engine.counters().ftp.active, 0u);
  // Still passive: the next, well-formed reply is rewritten.
  c.reply("227 Entering Passive Mode (198,18,1,11,195,80).\r\n",
          "227 Entering Passive Mode (198,18,2,100,195,80).\r\n");
  EXPECT_EQ(r.engine.counters().ftp.passive, 1u);
}

TEST(EngineFtp, Ipv6EpsvAndEprt) {
  Rig r;
  setup(r.engine, kVip6, kRs1v6);
  Control c{r, kClient6, kVip6, kRs1v6};
  c.handshake();
  c.command("EPSV\r\n");
  c.reply("229 Entering Extended Passive Mode (|||50000|)\r\n",
          "229 Entering Extended Passive Mode (|||50000|)\r\n");
  EXPECT_EQ(r.engine.counters().ftp.passive, 1u);
  ASSERT_EQ(r.send(tcp_frame(kRouterMac, kExtMac, kClient6, kVip6, 40001, 50000, net::kTcpSyn, 9000,
                             0, {}, ""))
                .verdict,
            Verdict::kTx);
  EXPECT_EQ(r.out, tcp_frame(kIntMac, kRs1Mac, kClient6, kRs1v6, 40001, 50000, net::kTcpSyn, 9000,
                             0, {}, "", 63));
  c.command("EPRT |2|2001:2::1|40960|\r\n");
  EXPECT_EQ(r.engine.counters().ftp.active, 1u);
  ASSERT_EQ(r.send(tcp_frame(kRs1Mac, kIntMac, kRs1v6, kClient6, 20, 40960, net::kTcpSyn, 7000, 0,
                             {}, ""))
                .verdict,
            Verdict::kTx);
  EXPECT_EQ(r.out, tcp_frame(kExtMac, kRouterMac, kVip6, kClient6, 20, 40960, net::kTcpSyn, 7000, 0,
                             {}, "", 63));
}

TEST(EngineFtp, AReplyThatCannotGrowIsDropped) {
  Rig r;
  setup(r.engine, kVip, kRs1);
  Control c{r, kClient, kVip, kRs1};
  c.handshake();
  c.command("PASV\r\n");
  auto frame = tcp_frame(kRs1Mac, kIntMac, kRs1, kClient, 21, c.cport, kAck | kPsh, c.sseq, c.cseq,
                         {}, "227 Entering Passive Mode (198,18,1,11,195,80).\r\n");
  std::vector<uint8_t> buf(frame);  // no tailroom
  Packet p;
  p.data = buf.data();
  p.len = uint32_t(buf.size());
  p.ifindex = fixtures::kInt;
  r.engine.process(std::span(&p, 1), 2 * kNanosPerSec);
  EXPECT_EQ(p.verdict, Verdict::kDrop);
  EXPECT_EQ(r.drops(DropReason::kFtpNoRoom), 1u);
  EXPECT_EQ(buf, frame);  // untouched
}

// ftp_ports empty (no helper), or without 21: port 21 is plain NAT.
TEST(EngineFtp, NoHelperOffTheFtpPorts) {
  for (const std::vector<uint16_t>& ports : {std::vector<uint16_t>{}, {2121}}) {
    EngineConfig cfg = fixtures::test_config();
    cfg.ftp_ports = ports;
    Rig r(cfg);
    setup(r.engine, kVip, kRs1);
    Control c{r, kClient, kVip, kRs1};
    c.handshake();
    c.command("PASV\r\n");
    c.reply("227 Entering Passive Mode (198,18,1,11,195,80).\r\n",
            "227 Entering Passive Mode (198,18,1,11,195,80).\r\n");
    EXPECT_EQ(r.engine.counters().ftp.control, 0u);
  }
}

// Two workers: the control connection on one, the data connection's flow owned by the other.
TEST(EngineFtp, DataConnectionsReachTheWorkerOwningTheirFlow) {
  EngineConfig c0 = fixtures::test_config();
  c0.worker_count = 2;
  c0.steer_seed = 7;
  EngineConfig c1 = c0;
  c1.worker_index = 1;
  Rig r0(c0), r1(c1);
  setup(r0.engine, kVip, kRs1);
  setup(r1.engine, kVip, kRs1);
  auto owner = [&](uint16_t port) {
    return flow_owner(kClient.data(), kClient.family, port, c0.steer_seed, 2);
  };
  uint16_t ctl_port = 40000;
  while (owner(ctl_port) != 0) ++ctl_port;
  uint16_t data_port = 41000;
  while (owner(data_port) != 1) ++data_port;

  Control c{r0, kClient, kVip, kRs1};
  c.cport = ctl_port;
  c.handshake();
  // Active: worker 0 announces it to worker 1.
  c.command("PORT 198,18,0,1," + std::to_string(data_port >> 8) + "," +
            std::to_string(data_port & 0xff) + "\r\n");
  auto reqs = drain(r0.engine);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_FALSE(reqs[0].passive);
  EXPECT_EQ(reqs[0].owner, 1);
  r0.engine.add_ftp_data(reqs[0]);  // not its flow: nothing happens there
  EXPECT_EQ(r0.engine.counters().ftp.data_conns, 0u);
  r1.engine.add_ftp_data(reqs[0]);
  ASSERT_EQ(r1.send(tcp_frame(kRs1Mac, kIntMac, kRs1, kClient, 20, data_port, net::kTcpSyn, 7000, 0,
                              {}, ""))
                .verdict,
            Verdict::kTx);
  EXPECT_EQ(r1.out, tcp_frame(kExtMac, kRouterMac, kVip, kClient, 20, data_port, net::kTcpSyn, 7000,
                              0, {}, "", 63));
  // Worker 0 steers that flow's packets, in both directions, to worker 1.
  EXPECT_EQ(r0.send(tcp_frame(kRouterMac, kExtMac, kClient, kVip, data_port, 20, kSynAck, 9000,
                              7001, {}, ""))
                .steer_to,
            1);

  // Passive: every worker learns the expectation.
  c.command("PASV\r\n");
  c.reply("227 Entering Passive Mode (198,18,1,11,195,80).\r\n",
          "227 Entering Passive Mode (198,18,2,100,195,80).\r\n");
  reqs = drain(r0.engine);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(reqs[0].passive);
  r1.engine.add_ftp_data(reqs[0]);
  uint16_t dp = data_port + 1;
  while (owner(dp) != 1) ++dp;
  const auto syn1 =
      tcp_frame(kRouterMac, kExtMac, kClient, kVip, dp, 50000, net::kTcpSyn, 9000, 0, {}, "");
  const Packet at0 = r0.send(syn1);
  EXPECT_EQ(at0.verdict, Verdict::kSteer);
  EXPECT_EQ(at0.steer_to, 1);
  ASSERT_EQ(r1.send(syn1).verdict, Verdict::kTx);
  EXPECT_EQ(r1.out, tcp_frame(kIntMac, kRs1Mac, kClient, kRs1, dp, 50000, net::kTcpSyn, 9000, 0, {},
                              "", 63));
}

TEST(EngineFtpConfig, ServicesThatMayCarryFtpGetTheTables) {
  Rig r;
  const ServiceKey http{6, kVip, 80, 0};
  ASSERT_TRUE(r.engine.add_service({http, "rr", 0}).ok());
  ASSERT_TRUE(r.engine.add_dest(http, {kRs1, 80, Fwd::kNat, 1, 0, 0}).ok());
  EXPECT_TRUE(r.engine.ftp_endpoints().empty());
  // A reply of an HTTP service is not mistaken for a client: no FTP tables, no FTP work.
  ASSERT_EQ(
      r.send(tcp_frame(kRouterMac, kExtMac, kClient, kVip, 40000, 80, net::kTcpSyn, 1, 0, {}, ""))
          .verdict,
      Verdict::kTx);
  ASSERT_EQ(
      r.send(tcp_frame(kRs1Mac, kIntMac, kRs1, kClient, 80, 40000, kSynAck, 1, 2, {}, "")).verdict,
      Verdict::kTx);
  EXPECT_EQ(r.engine.counters().ftp.control, 0u);
}

}  // namespace
}  // namespace lvs::core
