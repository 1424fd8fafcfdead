// SCTP association states, transitions and timeouts as data, row for row IPVS's
// ip_vs_proto_sctp.c (Linux 6.x), so each can be reviewed against the kernel. States are numbered
// as IPVS numbers them (enum ip_vs_sctp_states), which the sync protocol carries.
//
// The states are those of the association as the real server sees it; packets from the client
// (INPUT, or INPUT-ONLY while replies bypass the director) and from the server (OUTPUT) move it.
// One event per packet, from its first chunk (sctp_state_chunk). Only ESTABLISHED counts as an
// active connection for the schedulers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/proto_states.h"
#include "net/sctp.h"

namespace lvs::core {

enum SctpState : uint8_t {
  kSctpNone = 0,
  kSctpInit1,          // first INIT from the client, waiting for the server's INIT ACK
  kSctpInit,           // INIT again (retransmitted or after a restart)
  kSctpCookieSent,     // server sent INIT ACK, waiting for the client's COOKIE ECHO
  kSctpCookieReplied,  // client sent COOKIE ECHO, waiting for the server's COOKIE ACK
  kSctpCookieWait,     // server sent INIT (it opens the association), waiting for INIT ACK
  kSctpCookie,         // client sent INIT ACK, waiting for the server's COOKIE ECHO
  kSctpCookieEchoed,   // server sent COOKIE ECHO, waiting for the client's COOKIE ACK
  kSctpEstablished,
  kSctpShutdownSent,      // server sent SHUTDOWN
  kSctpShutdownReceived,  // client sent SHUTDOWN
  kSctpShutdownAckSent,
  kSctpRejected,  // INIT answered with ABORT: short timeout
  kSctpClosed,
  kSctpStateCount,
};

// Events, as IPVS's ipvs_sctp_event_t.
enum SctpEvent : uint8_t {
  kSctpEvData = 0,  // DATA, SACK, HEARTBEAT(-ACK), ECNE, CWR and every unknown chunk type
  kSctpEvInit,
  kSctpEvInitAck,
  kSctpEvCookieEcho,
  kSctpEvCookieAck,
  kSctpEvShutdown,
  kSctpEvShutdownAck,
  kSctpEvShutdownComplete,
  kSctpEvError,
  kSctpEvAbort,
  kSctpEventCount,
};

// sctp_events[]: chunk type -> event.
constexpr SctpEvent sctp_event(uint8_t chunk_type) {
  switch (chunk_type) {
    case net::kSctpChunkInit:
      return kSctpEvInit;
    case net::kSctpChunkInitAck:
      return kSctpEvInitAck;
    case net::kSctpChunkAbort:
      return kSctpEvAbort;
    case net::kSctpChunkShutdown:
      return kSctpEvShutdown;
    case net::kSctpChunkShutdownAck:
      return kSctpEvShutdownAck;
    case net::kSctpChunkError:
      return kSctpEvError;
    case net::kSctpChunkCookieEcho:
      return kSctpEvCookieEcho;
    case net::kSctpChunkCookieAck:
      return kSctpEvCookieAck;
    case net::kSctpChunkShutdownComplete:
      return kSctpEvShutdownComplete;
    default:
      return kSctpEvData;
  }
}

// Default timeouts in seconds (IPVS sctp_timeouts[]; IP_VS_SCTP_MAX_RTO is 60 + 1 s). IPVS offers
// no knob for them (ipvsadm --set covers TCP and UDP only).
inline constexpr uint32_t kSctpMaxRtoSec = 60 + 1;
inline constexpr std::array<uint32_t, kSctpStateCount> kSctpTimeoutsSec = [] {
  std::array<uint32_t, kSctpStateCount> t{};
  t[kSctpNone] = 2;
  t[kSctpInit1] = 0 + 3 + 1;
  t[kSctpInit] = kSctpMaxRtoSec;
  t[kSctpCookieSent] = kSctpMaxRtoSec;
  t[kSctpCookieReplied] = kSctpMaxRtoSec;
  t[kSctpCookieWait] = kSctpMaxRtoSec;
  t[kSctpCookie] = kSctpMaxRtoSec;
  t[kSctpCookieEchoed] = kSctpMaxRtoSec;
  t[kSctpEstablished] = 15 * 60;
  t[kSctpShutdownSent] = kSctpMaxRtoSec;
  t[kSctpShutdownReceived] = kSctpMaxRtoSec;
  t[kSctpShutdownAckSent] = kSctpMaxRtoSec;
  t[kSctpRejected] = 0 + 3 + 1;
  t[kSctpClosed] = kSctpMaxRtoSec;
  return t;
}();

// The timeout of a state; 2 s for a value out of range (IPVS's entry past the last state).
constexpr uint32_t sctp_timeout(uint8_t state) {
  return state < kSctpStateCount ? kSctpTimeoutsSec[state] : 2;
}

// Whether a connection in this state counts in the real server's active connections.
constexpr bool sctp_state_active(uint8_t state) { return state == kSctpEstablished; }

// sctp_states[]: [direction][event][current state] -> next state. Rows by event: d DATA, i INIT,
// i_a INIT ACK, c_e COOKIE ECHO, c_a COOKIE ACK, s SHUTDOWN, s_a SHUTDOWN ACK, s_c SHUTDOWN
// COMPLETE, err ERROR, ab ABORT.
using SctpRow = std::array<uint8_t, kSctpStateCount>;
using SctpTable = std::array<std::array<SctpRow, kSctpEventCount>, 3>;

namespace sctp_detail {
constexpr uint8_t sNO = kSctpNone, sI1 = kSctpInit1, sIN = kSctpInit, sCS = kSctpCookieSent,
                  sCR = kSctpCookieReplied, sCW = kSctpCookieWait, sCO = kSctpCookie,
                  sCE = kSctpCookieEchoed, sES = kSctpEstablished, sSS = kSctpShutdownSent,
                  sSR = kSctpShutdownReceived, sSA = kSctpShutdownAckSent, sRJ = kSctpRejected,
                  sCL = kSctpClosed;
}  // namespace sctp_detail

// clang-format off
inline constexpr SctpTable kSctpStates = [] {
  using namespace sctp_detail;
  return SctpTable{{
    // INPUT
    //                sNO  sI1  sIN  sCS  sCR  sCW  sCO  sCE  sES  sSS  sSR  sSA  sRJ  sCL
    {{/*d  */ SctpRow{sES, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
      /*i  */ SctpRow{sI1, sIN, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sIN, sIN},
      /*i_a*/ SctpRow{sCW, sCW, sCW, sCS, sCR, sCO, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
      /*c_e*/ SctpRow{sCR, sIN, sIN, sCR, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
      /*c_a*/ SctpRow{sES, sI1, sIN, sCS, sCR, sCW, sCO, sES, sES, sSS, sSR, sSA, sRJ, sCL},
      /*s  */ SctpRow{sSR, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sSR, sSS, sSR, sSA, sRJ, sCL},
      /*s_a*/ SctpRow{sCL, sIN, sIN, sCS, sCR, sCW, sCO, sCE, sES, sCL, sSR, sCL, sRJ, sCL},
      /*s_c*/ SctpRow{sCL, sCL, sCL, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sCL, sRJ, sCL},
      /*err*/ SctpRow{sCL, sI1, sIN, sCS, sCR, sCW, sCO, sCL, sES, sSS, sSR, sSA, sRJ, sCL},
      /*ab */ SctpRow{sCL, sCL, sCL, sCL, sCL, sRJ, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL}}},
    // OUTPUT
    //                sNO  sI1  sIN  sCS  sCR  sCW  sCO  sCE  sES  sSS  sSR  sSA  sRJ  sCL
    {{/*d  */ SctpRow{sES, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
      /*i  */ SctpRow{sCW, sCW, sCW, sCW, sCW, sCW, sCW, sCW, sES, sCW, sCW, sCW, sCW, sCW},
      /*i_a*/ SctpRow{sCS, sCS, sCS, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
      /*c_e*/ SctpRow{sCE, sCE, sCE, sCE, sCE, sCE, sCE, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
      /*c_a*/ SctpRow{sES, sES, sES, sES, sES, sES, sES, sES, sES, sSS, sSR, sSA, sRJ, sCL},
      /*s  */ SctpRow{sSS, sSS, sSS, sSS, sSS, sSS, sSS, sSS, sSS, sSS, sSR, sSA, sRJ, sCL},
      /*s_a*/ SctpRow{sSA, sSA, sSA, sSA, sSA, sCW, sCO, sCE, sES, sSA, sSA, sSA, sRJ, sCL},
      /*s_c*/ SctpRow{sCL, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
      /*err*/ SctpRow{sCL, sCL, sCL, sCL, sCL, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
      /*ab */ SctpRow{sCL, sRJ, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL}}},
    // INPUT-ONLY
    //                sNO  sI1  sIN  sCS  sCR  sCW  sCO  sCE  sES  sSS  sSR  sSA  sRJ  sCL
    {{/*d  */ SctpRow{sES, sI1, sIN, sCS, sCR, sES, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
      /*i  */ SctpRow{sI1, sIN, sIN, sIN, sIN, sIN, sCO, sCE, sES, sSS, sSR, sSA, sIN, sIN},
      /*i_a*/ SctpRow{sCE, sCE, sCE, sCE, sCE, sCE, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
      /*c_e*/ SctpRow{sES, sES, sES, sES, sES, sES, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
      /*c_a*/ SctpRow{sES, sI1, sIN, sES, sES, sCW, sES, sES, sES, sSS, sSR, sSA, sRJ, sCL},
      /*s  */ SctpRow{sSR, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sSR, sSS, sSR, sSA, sRJ, sCL},
      /*s_a*/ SctpRow{sCL, sIN, sIN, sCS, sCR, sCW, sCO, sCE, sCL, sCL, sSR, sCL, sRJ, sCL},
      /*s_c*/ SctpRow{sCL, sCL, sCL, sCL, sCL, sCW, sCO, sCE, sES, sSS, sCL, sCL, sRJ, sCL},
      /*err*/ SctpRow{sCL, sI1, sIN, sCS, sCR, sCW, sCO, sCE, sES, sSS, sSR, sSA, sRJ, sCL},
      /*ab */ SctpRow{sCL, sCL, sCL, sCL, sCL, sRJ, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL}}},
  }};
}();
// clang-format on

// The chunk type IPVS's set_sctp_state goes by, for the SCTP packet at `sctp` (`len` bytes to
// the end of the IP packet): the first chunk's, except that a COOKIE ECHO or COOKIE ACK with an
// ABORT bundled right after it counts as the ABORT. -1 when the packet has no complete chunk
// header: IPVS then changes neither state nor timeout.
int sctp_state_chunk(const uint8_t* sctp, size_t len);

// The next state for a packet whose chunk type (sctp_state_chunk) is `chunk_type`, in the
// argument order of tcp_next_state. A state out of range moves to CLOSED.
constexpr uint8_t sctp_next_state(Dir dir, uint8_t chunk_type, uint8_t state) {
  if (state >= kSctpStateCount) return kSctpClosed;
  return kSctpStates[static_cast<size_t>(dir)][sctp_event(chunk_type)][state];
}

// What IPVS's sctp_conn_schedule does with a packet that matches no connection, from its first
// chunk (-1 for none).
enum class SctpSchedule : uint8_t {
  kSchedule,  // INIT (with sloppy_sctp, any chunk but ABORT): pick a real server
  kIgnore,    // anything else: IPVS creates nothing and lets the packet go on (NF_ACCEPT to the
              // director's own stack); lvs drops it as "no connection", as it does TCP non-SYNs
  kDrop,      // no chunk header to look at: IPVS drops it
};
constexpr SctpSchedule sctp_schedule(int first_chunk, bool sloppy_sctp = false) {
  if (first_chunk < 0) return SctpSchedule::kDrop;
  if (first_chunk == net::kSctpChunkAbort) return SctpSchedule::kIgnore;
  return first_chunk == net::kSctpChunkInit || sloppy_sctp ? SctpSchedule::kSchedule
                                                           : SctpSchedule::kIgnore;
}

// ip_vs_in's connection reuse (conn_reuse_mode != 0): an INIT that finds its connection CLOSED
// expires it and schedules afresh (is_new_conn, is_new_conn_expected), as a SYN does for TCP.
constexpr bool sctp_is_new_conn(int first_chunk) { return first_chunk == net::kSctpChunkInit; }
constexpr bool sctp_new_conn_expected(uint8_t state) { return state == kSctpClosed; }

// "ESTABLISHED", "C-SENT", ... as IPVS names them (/proc/net/ip_vs_conn, ipvsadm -lc); "ERR!"
// out of range.
std::string_view sctp_state_name(uint8_t state);

}  // namespace lvs::core
