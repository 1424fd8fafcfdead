// Fuzzes the SCTP path. The input goes through parse_packet (as a frame) and parse_ip (as a bare
// IP packet, quoted and not) and, on its own, is taken as an SCTP packet. For every SCTP packet:
// both CRC32c implementations agree, sctp_csum_ok agrees with a recomputation, the incremental
// port rewrite gives what a full recomputation gives (and keeps a bad checksum bad by the same
// error), and the state chunk and the state machine give valid states from every state in every
// direction. Any broken invariant aborts.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/sctp_states.h"
#include "net/bytes.h"
#include "net/crc32c.h"
#include "net/headers.h"
#include "net/parse.h"
#include "net/sctp.h"

namespace lvs {
namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

uint32_t field(const uint8_t* s) {
  return uint32_t(s[8]) | uint32_t(s[9]) << 8 | uint32_t(s[10]) << 16 | uint32_t(s[11]) << 24;
}

// One SCTP packet of `n` bytes (n >= 12); `first` is the parser's first chunk type, -1 for none.
void exercise(const uint8_t* data, size_t n, int first) {
  std::vector<uint8_t> m(data, data + n);  // exact size: ASan flags any read past the end
  uint8_t* s = m.data();

  const uint32_t crc = net::crc32c_table(s, n);
  check(net::crc32c(s, n) == crc);
  if (net::crc32c_hw_available()) check(net::crc32c_hw(s, n) == crc);

  std::vector<uint8_t> fixed = m;
  net::sctp_csum_set(fixed.data(), n);
  const uint32_t right = field(fixed.data());
  const bool ok = net::sctp_csum_ok(s, n);
  check(ok == (field(s) == right));
  check(net::sctp_csum_ok(fixed.data(), n));

  // NAT: new ports from the packet's own bytes, so the fuzzer steers them.
  const uint16_t sport = uint16_t(net::load_be16(s + 2) ^ 0x5a5a);
  const uint16_t dport = uint16_t(~net::load_be16(s));
  std::vector<uint8_t> natted = m;
  net::sctp_set_ports(natted.data(), n, sport, dport);
  check(net::load_be16(natted.data()) == sport && net::load_be16(natted.data() + 2) == dport);
  check(std::equal(natted.begin() + 12, natted.end(), m.begin() + 12));
  std::vector<uint8_t> recomputed = natted;
  net::sctp_csum_set(recomputed.data(), n);
  check((field(natted.data()) ^ field(recomputed.data())) == (field(s) ^ right));
  check(net::sctp_csum_ok(natted.data(), n) == ok);

  // The state machine.
  const int chunk = core::sctp_state_chunk(s, n);
  check((chunk < 0) == (n < net::kSctpHdrLen + net::kSctpChunkHdrLen));
  if (chunk >= 0) check(chunk == s[12] || chunk == net::kSctpChunkAbort);
  if (first >= 0) check(first == s[12]);
  const core::SctpSchedule sched = core::sctp_schedule(first);
  check(sched != core::SctpSchedule::kDrop || first < 0);
  check(sched != core::SctpSchedule::kSchedule || first == net::kSctpChunkInit);
  if (chunk < 0) return;
  for (core::Dir dir : {core::Dir::kInput, core::Dir::kOutput, core::Dir::kInputOnly}) {
    for (uint8_t st = 0; st <= core::kSctpStateCount; ++st) {
      const uint8_t next = core::sctp_next_state(dir, uint8_t(chunk), st);
      check(next < core::kSctpStateCount);
      check(core::sctp_state_name(next) != "ERR!");
      check(core::sctp_timeout(next) > 0);
    }
  }
}

// An SCTP packet the parser accepted.
void exercise_parsed(const uint8_t* buf, size_t len, const net::ParsedPacket& p) {
  check(p.l4_offset + net::kSctpHdrLen <= p.l3_end() && p.l3_end() <= len);
  const uint8_t* s = buf + p.l4_offset;
  const size_t n = p.l4_len();
  check(p.sport == net::load_be16(s) && p.dport == net::load_be16(s + 2));
  check(p.tcp_flags == 0);
  if (p.has_sctp_chunk()) {
    check(p.sctp_chunk == s[12]);
    const size_t clen = net::load_be16(s + 14);
    check(clen >= 4 && 12 + clen <= n);
  } else {
    check(n == net::kSctpHdrLen && p.sctp_chunk == 0);  // 13 to 15 bytes are refused
  }
  exercise(s, n, p.has_sctp_chunk() ? p.sctp_chunk : -1);
}

void run(const uint8_t* data, size_t size) {
  std::vector<uint8_t> buf(data, data + size);
  const uint8_t* b = buf.data();

  const net::ParsedPacket p = net::parse_packet(b, size);
  if (p.ok() && p.is_sctp()) exercise_parsed(b, size, p);

  for (net::Family af : {net::Family::kV4, net::Family::kV6}) {
    net::ParsedPacket n;
    net::parse_ip(b, size, 0, af, false, n);
    if (n.ok() && n.is_sctp()) exercise_parsed(b, size, n);
    net::ParsedPacket q;
    net::parse_ip(b, size, 0, af, true, q);
    if (q.ok() && q.is_sctp()) {
      check(size_t(q.l4_offset) + 8 <= size);
      check(q.sport == net::load_be16(b + q.l4_offset) &&
            q.dport == net::load_be16(b + q.l4_offset + 2));
      check(q.sctp_chunk == 0);
    }
  }

  // The bytes themselves as an SCTP packet: reaches the chunk look-ahead and the checksum code
  // with any length, without an IP header to get right first.
  if (size >= net::kSctpHdrLen && size <= 0xffff) exercise(b, size, size >= 16 ? b[12] : -1);
}

}  // namespace
}  // namespace lvs

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lvs::run(data, size);
  return 0;
}
