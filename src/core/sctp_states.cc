#include "core/sctp_states.h"

#include "net/bytes.h"

namespace lvs::core {

int sctp_state_chunk(const uint8_t* sctp, size_t len) {
  constexpr size_t kFirst = net::kSctpHdrLen;
  if (len < kFirst + net::kSctpChunkHdrLen) return -1;
  const uint8_t type = sctp[kFirst];
  // RFC 9260 6.10: control chunks may precede an ABORT in one packet; IPVS looks one chunk
  // further after a COOKIE ECHO or COOKIE ACK only.
  if (type == net::kSctpChunkCookieEcho || type == net::kSctpChunkCookieAck) {
    const size_t clen = net::load_be16(sctp + kFirst + 2);
    if (clen >= net::kSctpChunkHdrLen) {
      const size_t next = kFirst + ((clen + 3) & ~size_t(3));
      if (next + net::kSctpChunkHdrLen <= len && sctp[next] == net::kSctpChunkAbort) {
        return net::kSctpChunkAbort;
      }
    }
  }
  return type;
}

std::string_view sctp_state_name(uint8_t state) {
  static constexpr std::array<std::string_view, kSctpStateCount> kNames = {
      "NONE",     "INIT1",       "INIT",   "C-SENT",     "C-REPLIED",  "C-WAIT",   "COOKIE",
      "C-ECHOED", "ESTABLISHED", "S-SENT", "S-RECEIVED", "S-ACK-SENT", "REJECTED", "CLOSED"};
  return state < kSctpStateCount ? kNames[state] : "ERR!";
}

}  // namespace lvs::core
