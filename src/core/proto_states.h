// Protocol states, transitions and timeouts as data, row for row IPVS's ip_vs_proto_tcp.c and
// ip_vs_proto_udp.c, so each can be reviewed against the kernel.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace lvs::core {

// Direction of a packet relative to its connection, as IPVS's IP_VS_DIR_*.
enum class Dir : uint8_t {
  kInput = 0,      // client -> real server
  kOutput = 1,     // real server -> client (seen with NAT only)
  kInputOnly = 2,  // client -> real server when replies bypass the director (DR, TUN)
};

enum TcpState : uint8_t {
  kTcpNone = 0,
  kTcpEstablished,
  kTcpSynSent,
  kTcpSynRecv,
  kTcpFinWait,
  kTcpTimeWait,
  kTcpClose,
  kTcpCloseWait,
  kTcpLastAck,
  kTcpListen,
  kTcpSynAck,
  kTcpStateCount,
};

inline constexpr uint8_t kUdpNormal = 0;  // UDP has one state

// Default timeouts in seconds (IPVS tcp_timeouts[], udp_timeouts[]).
inline constexpr std::array<uint32_t, kTcpStateCount> kTcpTimeoutsSec = [] {
  std::array<uint32_t, kTcpStateCount> t{};
  t[kTcpNone] = 2;
  t[kTcpEstablished] = 15 * 60;
  t[kTcpSynSent] = 2 * 60;
  t[kTcpSynRecv] = 1 * 60;
  t[kTcpFinWait] = 2 * 60;
  t[kTcpTimeWait] = 2 * 60;
  t[kTcpClose] = 10;
  t[kTcpCloseWait] = 60;
  t[kTcpLastAck] = 30;
  t[kTcpListen] = 2 * 60;
  t[kTcpSynAck] = 120;
  return t;
}();
inline constexpr uint32_t kUdpTimeoutSec = 5 * 60;
// A connection's timeout before its first state transition (ip_vs_conn_new: 3*HZ).
inline constexpr uint32_t kNewConnTimeoutSec = 3;

// tcp_states[]: rows are (direction, event), columns the current state.
enum TcpEvent : uint8_t { kEvSyn = 0, kEvFin = 1, kEvAck = 2, kEvRst = 3, kTcpEventCount };

using TcpRow = std::array<uint8_t, kTcpStateCount>;
using TcpTable = std::array<std::array<TcpRow, kTcpEventCount>, 3>;

namespace tcp_detail {
constexpr uint8_t sNO = kTcpNone, sES = kTcpEstablished, sSS = kTcpSynSent, sSR = kTcpSynRecv,
                  sFW = kTcpFinWait, sTW = kTcpTimeWait, sCL = kTcpClose, sCW = kTcpCloseWait,
                  sLA = kTcpLastAck, sLI = kTcpListen, sSA = kTcpSynAck;
}  // namespace tcp_detail

// clang-format off
inline constexpr TcpTable kTcpStates = [] {
  using namespace tcp_detail;
  return TcpTable{{
    // INPUT          sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA
    {{/*syn*/ TcpRow{sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR},
      /*fin*/ TcpRow{sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW},
      /*ack*/ TcpRow{sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES},
      /*rst*/ TcpRow{sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR}}},
    // OUTPUT
    {{/*syn*/ TcpRow{sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR},
      /*fin*/ TcpRow{sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW},
      /*ack*/ TcpRow{sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES},
      /*rst*/ TcpRow{sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL}}},
    // INPUT-ONLY
    {{/*syn*/ TcpRow{sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR},
      /*fin*/ TcpRow{sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW},
      /*ack*/ TcpRow{sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES},
      /*rst*/ TcpRow{sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL}}},
  }};
}();
// clang-format on
static_assert(kTcpStates.size() == 3 && kTcpStates[0].size() == kTcpEventCount);

// tcp_state_idx(): RST wins over SYN over FIN over ACK; -1 for a segment with none of them.
constexpr int tcp_event(uint8_t tcp_flags) {
  if (tcp_flags & 0x04) return kEvRst;
  if (tcp_flags & 0x02) return kEvSyn;
  if (tcp_flags & 0x01) return kEvFin;
  if (tcp_flags & 0x10) return kEvAck;
  return -1;
}

// The next state; a segment without SYN/FIN/ACK/RST moves the connection to CLOSE, as IPVS does.
constexpr uint8_t tcp_next_state(Dir dir, uint8_t tcp_flags, uint8_t state) {
  const int ev = tcp_event(tcp_flags);
  if (ev < 0 || state >= kTcpStateCount) return kTcpClose;
  return kTcpStates[static_cast<size_t>(dir)][size_t(ev)][state];
}

std::string_view tcp_state_name(uint8_t state);  // "ESTABLISHED", ... as ipvsadm -c prints

// Runtime timeouts (ipvsadm --set tcp tcpfin udp changes three of them).
struct Timeouts {
  std::array<uint32_t, kTcpStateCount> tcp = kTcpTimeoutsSec;
  uint32_t udp = kUdpTimeoutSec;
};

}  // namespace lvs::core
