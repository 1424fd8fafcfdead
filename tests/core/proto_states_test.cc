#include "core/proto_states.h"

#include <gtest/gtest.h>

namespace lvs::core {
namespace {

constexpr uint8_t S = 0x02, F = 0x01, R = 0x04, A = 0x10;

TEST(ProtoStates, IpvsDefaultTimeouts) {
  EXPECT_EQ(kTcpTimeoutsSec[kTcpEstablished], 900u);
  EXPECT_EQ(kTcpTimeoutsSec[kTcpSynRecv], 60u);
  EXPECT_EQ(kTcpTimeoutsSec[kTcpFinWait], 120u);
  EXPECT_EQ(kTcpTimeoutsSec[kTcpTimeWait], 120u);
  EXPECT_EQ(kTcpTimeoutsSec[kTcpClose], 10u);
  EXPECT_EQ(kTcpTimeoutsSec[kTcpCloseWait], 60u);
  EXPECT_EQ(kTcpTimeoutsSec[kTcpLastAck], 30u);
  EXPECT_EQ(kTcpTimeoutsSec[kTcpNone], 2u);
  EXPECT_EQ(kUdpTimeoutSec, 300u);
}

TEST(ProtoStates, EventPriorityMatchesTcpStateIdx) {
  EXPECT_EQ(tcp_event(R | S | F | A), kEvRst);
  EXPECT_EQ(tcp_event(S | A), kEvSyn);
  EXPECT_EQ(tcp_event(F | A), kEvFin);
  EXPECT_EQ(tcp_event(A), kEvAck);
  EXPECT_EQ(tcp_event(0x08), -1);  // PSH alone
}

// Rows read off ip_vs_proto_tcp.c's tcp_states[].
TEST(ProtoStates, TransitionsMatchIpvs) {
  // NAT three-way handshake and close from the client.
  EXPECT_EQ(tcp_next_state(Dir::kInput, S, kTcpNone), kTcpSynRecv);
  EXPECT_EQ(tcp_next_state(Dir::kOutput, S | A, kTcpSynRecv), kTcpSynRecv);
  EXPECT_EQ(tcp_next_state(Dir::kInput, A, kTcpSynRecv), kTcpEstablished);
  EXPECT_EQ(tcp_next_state(Dir::kInput, F | A, kTcpEstablished), kTcpCloseWait);
  EXPECT_EQ(tcp_next_state(Dir::kOutput, F | A, kTcpEstablished), kTcpFinWait);
  EXPECT_EQ(tcp_next_state(Dir::kOutput, F | A, kTcpCloseWait), kTcpTimeWait);
  EXPECT_EQ(tcp_next_state(Dir::kInput, R, kTcpEstablished), kTcpClose);
  // INPUT-ONLY (DR/TUN): a client FIN on ESTABLISHED goes to FIN_WAIT, RST on SYNACK to CLOSE.
  EXPECT_EQ(tcp_next_state(Dir::kInputOnly, F, kTcpEstablished), kTcpFinWait);
  EXPECT_EQ(tcp_next_state(Dir::kInputOnly, R, kTcpSynAck), kTcpClose);
  EXPECT_EQ(tcp_next_state(Dir::kInput, R, kTcpSynAck), kTcpSynRecv);
  // Outside the table: no flags at all moves to CLOSE.
  EXPECT_EQ(tcp_next_state(Dir::kInput, 0x08, kTcpEstablished), kTcpClose);
  // A whole row, INPUT/ack.
  const TcpRow ack = kTcpStates[0][kEvAck];
  const TcpRow want = {kTcpEstablished, kTcpEstablished, kTcpSynSent, kTcpEstablished,
                       kTcpFinWait,     kTcpTimeWait,    kTcpClose,   kTcpCloseWait,
                       kTcpClose,       kTcpListen,      kTcpEstablished};
  EXPECT_EQ(ack, want);
}

TEST(ProtoStates, Names) {
  EXPECT_EQ(tcp_state_name(kTcpEstablished), "ESTABLISHED");
  EXPECT_EQ(tcp_state_name(kTcpSynAck), "SYNACK");
  EXPECT_EQ(tcp_state_name(200), "ERR!");
}

}  // namespace
}  // namespace lvs::core
