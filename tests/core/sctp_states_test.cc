// The SCTP state machine against IPVS's ip_vs_proto_sctp.c (Linux 6.x): the whole table cell by
// cell against the kernel's (rendered below by a script from the source, so an edit of either
// shows), cells and rows read off the source by hand, and association lifecycles through NAT
// (INPUT/OUTPUT) and DR (INPUT-ONLY), both sides opening and closing.
#include "core/sctp_states.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "net/sctp.h"

namespace lvs::core {
namespace {

// Chunk types, short.
constexpr uint8_t DATA = net::kSctpChunkData, INIT = net::kSctpChunkInit,
                  INIT_ACK = net::kSctpChunkInitAck, SACK = net::kSctpChunkSack,
                  HB = net::kSctpChunkHeartbeat, HB_ACK = net::kSctpChunkHeartbeatAck,
                  ABORT = net::kSctpChunkAbort, SHUTDOWN = net::kSctpChunkShutdown,
                  SHUTDOWN_ACK = net::kSctpChunkShutdownAck, ERROR = net::kSctpChunkError,
                  COOKIE_ECHO = net::kSctpChunkCookieEcho, COOKIE_ACK = net::kSctpChunkCookieAck,
                  SHUTDOWN_COMPLETE = net::kSctpChunkShutdownComplete;
constexpr Dir IN = Dir::kInput, OUT = Dir::kOutput, IN_ONLY = Dir::kInputOnly;

// sctp_states[] rendered from the kernel source, two letters per state in the kernel's order (NO I1
// IN CS CR CW CO CE ES SS SR SA RJ CL), one line per event (DATA INIT INIT_ACK COOKIE_ECHO
// COOKIE_ACK SHUTDOWN SHUTDOWN_ACK SHUTDOWN_COMPLETE ERROR ABORT), INPUT, OUTPUT, INPUT-ONLY.
constexpr const char* kKernelTable =
    "ES I1 IN CS CR CW CO CE ES SS SR SA RJ CL\n"
    "I1 IN IN CS CR CW CO CE ES SS SR SA IN IN\n"
    "CW CW CW CS CR CO CO CE ES SS SR SA RJ CL\n"
    "CR IN IN CR CR CW CO CE ES SS SR SA RJ CL\n"
    "ES I1 IN CS CR CW CO ES ES SS SR SA RJ CL\n"
    "SR I1 IN CS CR CW CO CE SR SS SR SA RJ CL\n"
    "CL IN IN CS CR CW CO CE ES CL SR CL RJ CL\n"
    "CL CL CL CS CR CW CO CE ES SS SR CL RJ CL\n"
    "CL I1 IN CS CR CW CO CL ES SS SR SA RJ CL\n"
    "CL CL CL CL CL RJ CL CL CL CL CL CL CL CL\n"
    "ES I1 IN CS CR CW CO CE ES SS SR SA RJ CL\n"
    "CW CW CW CW CW CW CW CW ES CW CW CW CW CW\n"
    "CS CS CS CS CR CW CO CE ES SS SR SA RJ CL\n"
    "CE CE CE CE CE CE CE CE ES SS SR SA RJ CL\n"
    "ES ES ES ES ES ES ES ES ES SS SR SA RJ CL\n"
    "SS SS SS SS SS SS SS SS SS SS SR SA RJ CL\n"
    "SA SA SA SA SA CW CO CE ES SA SA SA RJ CL\n"
    "CL I1 IN CS CR CW CO CE ES SS SR SA RJ CL\n"
    "CL CL CL CL CL CW CO CE ES SS SR SA RJ CL\n"
    "CL RJ CL CL CL CL CL CL CL CL CL CL CL CL\n"
    "ES I1 IN CS CR ES CO CE ES SS SR SA RJ CL\n"
    "I1 IN IN IN IN IN CO CE ES SS SR SA IN IN\n"
    "CE CE CE CE CE CE CO CE ES SS SR SA RJ CL\n"
    "ES ES ES ES ES ES CO CE ES SS SR SA RJ CL\n"
    "ES I1 IN ES ES CW ES ES ES SS SR SA RJ CL\n"
    "SR I1 IN CS CR CW CO CE SR SS SR SA RJ CL\n"
    "CL IN IN CS CR CW CO CE CL CL SR CL RJ CL\n"
    "CL CL CL CL CL CW CO CE ES SS CL CL RJ CL\n"
    "CL I1 IN CS CR CW CO CE ES SS SR SA RJ CL\n"
    "CL CL CL CL CL RJ CL CL CL CL CL CL CL CL\n";

TEST(SctpStates, WholeTableMatchesSecondTranscription) {
  const std::vector<std::string> code = {"NO", "I1", "IN", "CS", "CR", "CW", "CO",
                                         "CE", "ES", "SS", "SR", "SA", "RJ", "CL"};
  std::istringstream in(kKernelTable);
  for (size_t dir = 0; dir < 3; ++dir) {
    for (size_t ev = 0; ev < kSctpEventCount; ++ev) {
      for (size_t st = 0; st < kSctpStateCount; ++st) {
        std::string want;
        ASSERT_TRUE(in >> want);
        EXPECT_EQ(code[kSctpStates[dir][ev][st]], want)
            << "dir " << dir << " event " << ev << " state " << code[st];
      }
    }
  }
  std::string extra;
  EXPECT_FALSE(in >> extra);
}

TEST(SctpStates, EventsFromChunkTypes) {
  EXPECT_EQ(sctp_event(DATA), kSctpEvData);
  EXPECT_EQ(sctp_event(INIT), kSctpEvInit);
  EXPECT_EQ(sctp_event(INIT_ACK), kSctpEvInitAck);
  EXPECT_EQ(sctp_event(ABORT), kSctpEvAbort);
  EXPECT_EQ(sctp_event(SHUTDOWN), kSctpEvShutdown);
  EXPECT_EQ(sctp_event(SHUTDOWN_ACK), kSctpEvShutdownAck);
  EXPECT_EQ(sctp_event(ERROR), kSctpEvError);
  EXPECT_EQ(sctp_event(COOKIE_ECHO), kSctpEvCookieEcho);
  EXPECT_EQ(sctp_event(COOKIE_ACK), kSctpEvCookieAck);
  EXPECT_EQ(sctp_event(SHUTDOWN_COMPLETE), kSctpEvShutdownComplete);
  // SACK, HEARTBEAT(-ACK), ECNE, CWR and all types past 14 (AUTH, I-DATA, ASCONF, FORWARD TSN,
  // RE-CONFIG, PAD, ...) are DATA.
  for (int t : {int(SACK), int(HB), int(HB_ACK), 12, 13, 15, 64, 128, 130, 132, 192, 193, 255}) {
    EXPECT_EQ(sctp_event(uint8_t(t)), kSctpEvData) << t;
  }
}

// Cells read off sctp_states[] by hand.
TEST(SctpStates, TransitionsMatchIpvs) {
  // INPUT/INIT: a first INIT gives INIT1, any later one INIT, also from REJECTED and CLOSED.
  EXPECT_EQ(sctp_next_state(IN, INIT, kSctpNone), kSctpInit1);
  EXPECT_EQ(sctp_next_state(IN, INIT, kSctpInit1), kSctpInit);
  EXPECT_EQ(sctp_next_state(IN, INIT, kSctpRejected), kSctpInit);
  EXPECT_EQ(sctp_next_state(IN, INIT, kSctpClosed), kSctpInit);
  EXPECT_EQ(sctp_next_state(IN, INIT, kSctpEstablished), kSctpEstablished);
  // OUTPUT/INIT: the server opening moves every state but ESTABLISHED to COOKIE_WAIT.
  for (uint8_t s = 0; s < kSctpStateCount; ++s) {
    EXPECT_EQ(sctp_next_state(OUT, INIT, s),
              s == kSctpEstablished ? kSctpEstablished : kSctpCookieWait)
        << int(s);
  }
  // ABORT: INPUT rejects a server-opened attempt, OUTPUT rejects the client's first INIT.
  EXPECT_EQ(sctp_next_state(IN, ABORT, kSctpCookieWait), kSctpRejected);
  EXPECT_EQ(sctp_next_state(IN, ABORT, kSctpInit1), kSctpClosed);
  EXPECT_EQ(sctp_next_state(OUT, ABORT, kSctpInit1), kSctpRejected);
  EXPECT_EQ(sctp_next_state(OUT, ABORT, kSctpCookieWait), kSctpClosed);
  EXPECT_EQ(sctp_next_state(IN_ONLY, ABORT, kSctpCookieWait), kSctpRejected);
  EXPECT_EQ(sctp_next_state(IN, ABORT, kSctpEstablished), kSctpClosed);
  EXPECT_EQ(sctp_next_state(IN, ABORT, kSctpRejected), kSctpClosed);
  // ERROR: only a COOKIE_ECHOED association is closed by the client's; the server's closes the
  // client's attempts up to COOKIE_REPLIED.
  EXPECT_EQ(sctp_next_state(IN, ERROR, kSctpCookieEchoed), kSctpClosed);
  EXPECT_EQ(sctp_next_state(IN, ERROR, kSctpCookieSent), kSctpCookieSent);
  EXPECT_EQ(sctp_next_state(OUT, ERROR, kSctpCookieReplied), kSctpClosed);
  EXPECT_EQ(sctp_next_state(OUT, ERROR, kSctpCookieWait), kSctpCookieWait);
  EXPECT_EQ(sctp_next_state(IN_ONLY, ERROR, kSctpCookieEchoed), kSctpCookieEchoed);
  // DATA on a NONE connection (sloppy_sctp schedules on it) is ESTABLISHED; INPUT-ONLY DATA
  // also establishes COOKIE_WAIT.
  EXPECT_EQ(sctp_next_state(IN, DATA, kSctpNone), kSctpEstablished);
  EXPECT_EQ(sctp_next_state(OUT, SACK, kSctpNone), kSctpEstablished);
  EXPECT_EQ(sctp_next_state(IN, DATA, kSctpCookieWait), kSctpCookieWait);
  EXPECT_EQ(sctp_next_state(IN_ONLY, DATA, kSctpCookieWait), kSctpEstablished);
  // INPUT-ONLY: the client's COOKIE ECHO is all the director sees of the handshake.
  EXPECT_EQ(sctp_next_state(IN_ONLY, COOKIE_ECHO, kSctpInit1), kSctpEstablished);
  EXPECT_EQ(sctp_next_state(IN_ONLY, COOKIE_ECHO, kSctpCookie), kSctpCookie);
  EXPECT_EQ(sctp_next_state(IN_ONLY, INIT_ACK, kSctpNone), kSctpCookieEchoed);
  EXPECT_EQ(sctp_next_state(IN_ONLY, COOKIE_ACK, kSctpCookieSent), kSctpEstablished);
  EXPECT_EQ(sctp_next_state(IN_ONLY, COOKIE_ACK, kSctpInit1), kSctpInit1);
  // SHUTDOWN ACK from ESTABLISHED: ignored with NAT, closes with DR.
  EXPECT_EQ(sctp_next_state(IN, SHUTDOWN_ACK, kSctpEstablished), kSctpEstablished);
  EXPECT_EQ(sctp_next_state(IN_ONLY, SHUTDOWN_ACK, kSctpEstablished), kSctpClosed);
  EXPECT_EQ(sctp_next_state(OUT, SHUTDOWN_ACK, kSctpInit), kSctpShutdownAckSent);
  // Out of range.
  EXPECT_EQ(sctp_next_state(IN, DATA, kSctpStateCount), kSctpClosed);
  EXPECT_EQ(sctp_next_state(IN, DATA, 255), kSctpClosed);
}

// Whole rows read off sctp_states[] by hand.
TEST(SctpStates, RowsMatchIpvs) {
  // INPUT / COOKIE ECHO.
  EXPECT_EQ(
      kSctpStates[0][kSctpEvCookieEcho],
      (SctpRow{kSctpCookieReplied, kSctpInit, kSctpInit, kSctpCookieReplied, kSctpCookieReplied,
               kSctpCookieWait, kSctpCookie, kSctpCookieEchoed, kSctpEstablished, kSctpShutdownSent,
               kSctpShutdownReceived, kSctpShutdownAckSent, kSctpRejected, kSctpClosed}));
  // OUTPUT / SHUTDOWN ACK.
  EXPECT_EQ(kSctpStates[1][kSctpEvShutdownAck],
            (SctpRow{kSctpShutdownAckSent, kSctpShutdownAckSent, kSctpShutdownAckSent,
                     kSctpShutdownAckSent, kSctpShutdownAckSent, kSctpCookieWait, kSctpCookie,
                     kSctpCookieEchoed, kSctpEstablished, kSctpShutdownAckSent,
                     kSctpShutdownAckSent, kSctpShutdownAckSent, kSctpRejected, kSctpClosed}));
  // INPUT-ONLY / SHUTDOWN COMPLETE.
  EXPECT_EQ(kSctpStates[2][kSctpEvShutdownComplete],
            (SctpRow{kSctpClosed, kSctpClosed, kSctpClosed, kSctpClosed, kSctpClosed,
                     kSctpCookieWait, kSctpCookie, kSctpCookieEchoed, kSctpEstablished,
                     kSctpShutdownSent, kSctpClosed, kSctpClosed, kSctpRejected, kSctpClosed}));
  // OUTPUT / COOKIE ACK: ESTABLISHED from everything before it.
  EXPECT_EQ(kSctpStates[1][kSctpEvCookieAck],
            (SctpRow{kSctpEstablished, kSctpEstablished, kSctpEstablished, kSctpEstablished,
                     kSctpEstablished, kSctpEstablished, kSctpEstablished, kSctpEstablished,
                     kSctpEstablished, kSctpShutdownSent, kSctpShutdownReceived,
                     kSctpShutdownAckSent, kSctpRejected, kSctpClosed}));
  // DATA leaves every state but NONE (and, INPUT-ONLY, COOKIE_WAIT) alone.
  for (size_t d = 0; d < 3; ++d) {
    for (uint8_t s = 1; s < kSctpStateCount; ++s) {
      const uint8_t want = d == 2 && s == kSctpCookieWait ? uint8_t(kSctpEstablished) : s;
      EXPECT_EQ(kSctpStates[d][kSctpEvData][s], want) << d << " " << int(s);
    }
  }
}

// Runs a packet sequence from a new connection (NONE), checking the state after each.
struct Step {
  Dir dir;
  uint8_t chunk;
  uint8_t want;
};
void run(const std::vector<Step>& steps) {
  uint8_t s = kSctpNone;
  for (size_t i = 0; i < steps.size(); ++i) {
    s = sctp_next_state(steps[i].dir, steps[i].chunk, s);
    EXPECT_EQ(sctp_state_name(s), sctp_state_name(steps[i].want)) << "step " << i;
  }
}

TEST(SctpStates, NatClientOpensAndClosesAssociation) {
  run({{IN, INIT, kSctpInit1},
       {OUT, INIT_ACK, kSctpCookieSent},
       {IN, COOKIE_ECHO, kSctpCookieReplied},
       {OUT, COOKIE_ACK, kSctpEstablished},
       {IN, DATA, kSctpEstablished},
       {OUT, SACK, kSctpEstablished},
       {OUT, HB, kSctpEstablished},
       {IN, HB_ACK, kSctpEstablished},
       {IN, SHUTDOWN, kSctpShutdownReceived},
       {OUT, SHUTDOWN_ACK, kSctpShutdownAckSent},
       {IN, SHUTDOWN_COMPLETE, kSctpClosed}});
}

TEST(SctpStates, NatServerClosesAssociation) {
  run({{IN, INIT, kSctpInit1},
       {OUT, INIT_ACK, kSctpCookieSent},
       {IN, COOKIE_ECHO, kSctpCookieReplied},
       {OUT, COOKIE_ACK, kSctpEstablished},
       {OUT, SHUTDOWN, kSctpShutdownSent},
       {IN, SHUTDOWN_ACK, kSctpClosed},
       {OUT, SHUTDOWN_COMPLETE, kSctpClosed}});
}

// INIT collision (RFC 9260 5.2.1): the server opens towards the client while the client's INIT
// is in flight, and the handshake completes the other way round.
TEST(SctpStates, NatServerOpensAssociation) {
  run({{IN, INIT, kSctpInit1},
       {OUT, INIT, kSctpCookieWait},
       {IN, INIT_ACK, kSctpCookie},
       {OUT, COOKIE_ECHO, kSctpCookieEchoed},
       {IN, COOKIE_ACK, kSctpEstablished},
       {IN, SHUTDOWN, kSctpShutdownReceived},
       {OUT, SHUTDOWN_ACK, kSctpShutdownAckSent},
       {IN, SHUTDOWN_COMPLETE, kSctpClosed}});
}

// DR/TUN: the director sees the client's packets only.
TEST(SctpStates, InputOnlyLifecycles) {
  run({{IN_ONLY, INIT, kSctpInit1},
       {IN_ONLY, INIT, kSctpInit},  // retransmitted
       {IN_ONLY, COOKIE_ECHO, kSctpEstablished},
       {IN_ONLY, DATA, kSctpEstablished},
       {IN_ONLY, SHUTDOWN, kSctpShutdownReceived},
       {IN_ONLY, SHUTDOWN_COMPLETE, kSctpClosed}});
  run({{IN_ONLY, INIT, kSctpInit1},
       {IN_ONLY, COOKIE_ECHO, kSctpEstablished},
       {IN_ONLY, SHUTDOWN_ACK, kSctpClosed},  // the server shut down
       {IN_ONLY, INIT, kSctpInit}});          // and the client comes back
  run({{IN_ONLY, INIT, kSctpInit1}, {IN_ONLY, ABORT, kSctpClosed}});
}

TEST(SctpStates, RejectedAndRetried) {
  run({{IN, INIT, kSctpInit1},
       {OUT, ABORT, kSctpRejected},
       {IN, INIT, kSctpInit},
       {OUT, INIT_ACK, kSctpCookieSent},
       {IN, ABORT, kSctpClosed}});
}

TEST(SctpStates, Timeouts) {
  EXPECT_EQ(sctp_timeout(kSctpNone), 2u);
  EXPECT_EQ(sctp_timeout(kSctpInit1), 4u);
  EXPECT_EQ(sctp_timeout(kSctpRejected), 4u);
  EXPECT_EQ(sctp_timeout(kSctpEstablished), 900u);
  for (uint8_t s : {kSctpInit, kSctpCookieSent, kSctpCookieReplied, kSctpCookieWait, kSctpCookie,
                    kSctpCookieEchoed, kSctpShutdownSent, kSctpShutdownReceived,
                    kSctpShutdownAckSent, kSctpClosed}) {
    EXPECT_EQ(sctp_timeout(s), 61u) << int(s);
  }
  EXPECT_EQ(sctp_timeout(kSctpStateCount), 2u);
}

TEST(SctpStates, OnlyEstablishedIsActive) {
  for (uint8_t s = 0; s <= kSctpStateCount; ++s) {
    EXPECT_EQ(sctp_state_active(s), s == kSctpEstablished) << int(s);
  }
}

TEST(SctpStates, Names) {
  const std::vector<std::string> want = {
      "NONE",     "INIT1",       "INIT",   "C-SENT",     "C-REPLIED",  "C-WAIT",   "COOKIE",
      "C-ECHOED", "ESTABLISHED", "S-SENT", "S-RECEIVED", "S-ACK-SENT", "REJECTED", "CLOSED"};
  for (uint8_t s = 0; s < kSctpStateCount; ++s) EXPECT_EQ(sctp_state_name(s), want[s]);
  EXPECT_EQ(sctp_state_name(kSctpStateCount), "ERR!");
}

TEST(SctpStates, Schedule) {
  EXPECT_EQ(sctp_schedule(INIT), SctpSchedule::kSchedule);
  for (int t : {int(DATA), int(INIT_ACK), int(COOKIE_ECHO), int(SHUTDOWN), int(ABORT), 200}) {
    EXPECT_EQ(sctp_schedule(t), SctpSchedule::kIgnore) << t;
  }
  EXPECT_EQ(sctp_schedule(-1), SctpSchedule::kDrop);
  // sloppy_sctp: anything but ABORT.
  EXPECT_EQ(sctp_schedule(DATA, true), SctpSchedule::kSchedule);
  EXPECT_EQ(sctp_schedule(COOKIE_ECHO, true), SctpSchedule::kSchedule);
  EXPECT_EQ(sctp_schedule(ABORT, true), SctpSchedule::kIgnore);
  EXPECT_EQ(sctp_schedule(-1, true), SctpSchedule::kDrop);
  // Connection reuse: an INIT on a CLOSED connection.
  EXPECT_TRUE(sctp_is_new_conn(INIT));
  EXPECT_FALSE(sctp_is_new_conn(COOKIE_ECHO));
  EXPECT_FALSE(sctp_is_new_conn(-1));
  for (uint8_t s = 0; s < kSctpStateCount; ++s) {
    EXPECT_EQ(sctp_new_conn_expected(s), s == kSctpClosed) << int(s);
  }
}

// SCTP packets from the common header on (checksums are not looked at).
std::vector<uint8_t> sctp(std::initializer_list<uint8_t> chunks) {
  std::vector<uint8_t> p = {0x9c, 0x40, 0x0f, 0x1c, 0x3a, 0x1f, 0x2c, 0x4d, 0, 0, 0, 0};
  p.insert(p.end(), chunks);
  return p;
}
int state_chunk(const std::vector<uint8_t>& p) { return sctp_state_chunk(p.data(), p.size()); }

TEST(SctpStates, StateChunkLooksPastCookieForAbort) {
  EXPECT_EQ(state_chunk(sctp({})), -1);
  EXPECT_EQ(state_chunk(sctp({1, 0, 0})), -1);  // not a whole chunk header
  EXPECT_EQ(state_chunk(sctp({INIT, 0, 0, 4})), INIT);
  // crc32c_reference.py's COOKIE ECHO (8-byte cookie) + ABORT.
  EXPECT_EQ(state_chunk(sctp({COOKIE_ECHO, 0, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8, ABORT, 0, 0, 4})),
            ABORT);
  // The same after a COOKIE ACK, and after a cookie of odd length (padded to 4).
  EXPECT_EQ(state_chunk(sctp({COOKIE_ACK, 0, 0, 4, ABORT, 1, 0, 4})), ABORT);
  EXPECT_EQ(state_chunk(sctp({COOKIE_ECHO, 0, 0, 5, 9, 0, 0, 0, ABORT, 0, 0, 4})), ABORT);
  // Only ABORT counts, and only after the two cookie chunks.
  EXPECT_EQ(state_chunk(sctp({COOKIE_ECHO, 0, 0, 4, DATA, 0, 0, 4})), COOKIE_ECHO);
  EXPECT_EQ(state_chunk(sctp({SACK, 0, 0, 4, ABORT, 0, 0, 4})), SACK);
  EXPECT_EQ(state_chunk(sctp({SHUTDOWN_ACK, 0, 0, 4, ABORT, 0, 0, 4})), SHUTDOWN_ACK);
  // The ABORT's header must be whole; a cookie length below 4 looks no further.
  EXPECT_EQ(state_chunk(sctp({COOKIE_ACK, 0, 0, 4, ABORT, 0, 0})), COOKIE_ACK);
  EXPECT_EQ(state_chunk(sctp({COOKIE_ACK, 0, 0, 0, ABORT, 0, 0, 4})), COOKIE_ACK);
  EXPECT_EQ(state_chunk(sctp({COOKIE_ACK, 0, 0, 3, ABORT, 0, 0, 4})), COOKIE_ACK);
  // A cookie length past the packet: nothing there to look at.
  EXPECT_EQ(state_chunk(sctp({COOKIE_ECHO, 0, 0xff, 0xfc, ABORT, 0, 0, 4})), COOKIE_ECHO);
}

}  // namespace
}  // namespace lvs::core
