// Helpers shared by the net tests: hex literals, a naive reference checksum (independent of
// net/checksum.cc, so the tests do not check the code against itself) and frame surgery.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "net/parse.h"

namespace lvs::net::testing {

using Bytes = std::vector<uint8_t>;

// "45 00 0a" -> {0x45, 0x00, 0x0a}; spaces and newlines are ignored.
inline Bytes hex(std::string_view text) {
  Bytes out;
  int hi = -1;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      continue;
    }
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(uint8_t(hi << 4 | v));
      hi = -1;
    }
  }
  if (hi >= 0) std::abort();  // odd number of digits: a typo in the test
  return out;
}

// RFC 1071 the slow way: 16-bit big-endian words, end-around carry after every add.
inline uint16_t ref_sum(const uint8_t* p, size_t len, uint32_t sum = 0) {
  for (size_t i = 0; i < len; i += 2) {
    sum += uint32_t(p[i]) << 8 | (i + 1 < len ? p[i + 1] : 0);
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return uint16_t(sum);
}
inline uint16_t ref_checksum(const uint8_t* p, size_t len) { return uint16_t(~ref_sum(p, len)); }

inline uint16_t get16(const Bytes& b, size_t off) { return uint16_t(b[off] << 8 | b[off + 1]); }
inline void put16(Bytes& b, size_t off, uint16_t v) {
  b[off] = uint8_t(v >> 8);
  b[off + 1] = uint8_t(v);
}

// Recomputes the IPv4 header checksum at `l3` after a test changed header bytes, so that only
// the intended defect remains.
inline void fix_ipv4_checksum(Bytes& f, size_t l3 = 14) {
  const size_t ihl = size_t(f[l3] & 0x0f) * 4;
  put16(f, l3 + 10, 0);
  put16(f, l3 + 10, ref_checksum(f.data() + l3, ihl));
}

inline ParsedPacket parse(const Bytes& f) { return parse_packet(f.data(), f.size()); }

}  // namespace lvs::net::testing
