// SCTP wire layout (RFC 9260 section 3): the 12-byte common header and the 4-byte chunk header,
// as field offsets and chunk type codes. The parser validates them; the state machine
// (core/sctp_states.h) and the checksum code (net/crc32c.h) read them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lvs::net {

// Common header: source port, destination port, verification tag, CRC32c checksum.
inline constexpr size_t kSctpHdrLen = 12;
inline constexpr size_t kSctpSport = 0, kSctpDport = 2, kSctpVtag = 4, kSctpCheck = 8;
// Chunk header: type, flags, length (header included, padding excluded).
inline constexpr size_t kSctpChunkHdrLen = 4;

// Chunk types 0-14 (RFC 9260 3.2), the ones IPVS's state machine maps to events.
enum SctpChunkType : uint8_t {
  kSctpChunkData = 0,
  kSctpChunkInit = 1,
  kSctpChunkInitAck = 2,
  kSctpChunkSack = 3,
  kSctpChunkHeartbeat = 4,
  kSctpChunkHeartbeatAck = 5,
  kSctpChunkAbort = 6,
  kSctpChunkShutdown = 7,
  kSctpChunkShutdownAck = 8,
  kSctpChunkError = 9,
  kSctpChunkCookieEcho = 10,
  kSctpChunkCookieAck = 11,
  kSctpChunkEcne = 12,
  kSctpChunkCwr = 13,
  kSctpChunkShutdownComplete = 14,
};

}  // namespace lvs::net
