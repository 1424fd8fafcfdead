#include "net/crc32c.h"

#include <array>
#include <bit>
#include <cstring>

#include "net/bytes.h"
#include "net/sctp.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace lvs::net {

namespace {

// Polynomials are kept in the reflected order CRC32c is computed in: bit 31 is the coefficient
// of x^0, bit 0 that of x^31.
constexpr uint32_t kPoly = 0x82F63B78;
constexpr uint32_t kX0 = 0x80000000;  // x^0

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}
inline uint32_t load_le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}
inline void store_le32(uint8_t* p, uint32_t v) {
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}

// kTables[k][b]: the CRC register after byte b followed by k zero bytes, from a zero register.
// Slicing-by-8 looks up each byte of an 8-byte word in the table of its distance to the end.
using Tables = std::array<std::array<uint32_t, 256>, 8>;
constexpr Tables kTables = [] {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][b] = c;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (size_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
  }
  return t;
}();

// One slicing-by-8 step: the register after 8 more bytes `w` (least significant byte first).
inline uint32_t table_step8(uint32_t c, uint64_t w) {
  w ^= c;
  return kTables[7][w & 0xff] ^ kTables[6][(w >> 8) & 0xff] ^ kTables[5][(w >> 16) & 0xff] ^
         kTables[4][(w >> 24) & 0xff] ^ kTables[3][(w >> 32) & 0xff] ^
         kTables[2][(w >> 40) & 0xff] ^ kTables[1][(w >> 48) & 0xff] ^ kTables[0][w >> 56];
}

// a * b mod P, a bit at a time: only for building the power tables below.
constexpr uint32_t multmodp(uint32_t a, uint32_t b) {
  uint32_t p = 0;
  for (uint32_t m = kX0; m != 0; m >>= 1) {
    if (a & m) p ^= b;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;
  }
  return p;
}

// x^(8k) mod P for k = lo and for k = 256 * hi: any shift of an IP packet's length is one entry
// of each (2 KiB in all).
using Powers = std::array<uint32_t, 256>;
constexpr Powers kPowLo = [] {
  Powers t{};
  t[0] = kX0;
  for (size_t i = 1; i < t.size(); ++i) t[i] = multmodp(t[i - 1], kX0 >> 8);
  return t;
}();
constexpr Powers kPowHi = [] {
  Powers t{};
  t[0] = kX0;
  const uint32_t x2048 = multmodp(kPowLo[255], kX0 >> 8);
  for (size_t i = 1; i < t.size(); ++i) t[i] = multmodp(t[i - 1], x2048);
  return t;
}();

// Carry-less product of two 32-bit words, 4 bits of `a` at a time (x86-64-v2 has no PCLMUL).
inline uint64_t clmul32(uint32_t a, uint32_t b) {
  uint64_t t[16];
  t[0] = 0;
  t[1] = b;
  for (int i = 2; i < 16; i += 2) {
    t[i] = t[i / 2] << 1;
    t[i + 1] = t[i] ^ b;
  }
  uint64_t r = 0;
  for (int j = 0; j < 32; j += 4) r ^= t[(a >> j) & 15] << j;
  return r;
}

// a * b * x^32 mod P. In the reflected order the 63-bit carry-less product, shifted up one bit, is
// a 64-bit message polynomial; running it through a zero CRC register multiplies it by x^32 and
// reduces it mod P, which the crc32 instruction does in one step.
inline uint32_t mul_x32(uint32_t a, uint32_t b) {
  const uint64_t v = clmul32(a, b) << 1;
#if defined(__SSE4_2__)
  return uint32_t(_mm_crc32_u64(0, v));
#else
  return table_step8(0, v);
#endif
}

// v * x^32 mod P: four zero bytes through the CRC register (mul_x32 by x^0, without the multiply).
inline uint32_t times_x32(uint32_t v) {
#if defined(__SSE4_2__)
  return _mm_crc32_u32(v, 0);
#else
  for (int i = 0; i < 4; ++i) v = kTables[0][v & 0xff] ^ (v >> 8);
  return v;
#endif
}

// The SCTP CRC32c: the whole packet with the checksum field taken as zero.
uint32_t sctp_crc(const uint8_t* sctp, size_t len) {
  static constexpr uint8_t kZero[4] = {};
  uint32_t c = crc32c(sctp, kSctpCheck);
  c = crc32c(kZero, 4, c);
  return crc32c(sctp + kSctpHdrLen, len - kSctpHdrLen, c);
}

}  // namespace

uint32_t crc32c_table(const uint8_t* p, size_t len, uint32_t crc) {
  uint32_t c = ~crc;
  for (; len >= 8; p += 8, len -= 8) c = table_step8(c, load_le64(p));
  for (; len != 0; ++p, --len) c = kTables[0][(c ^ *p) & 0xff] ^ (c >> 8);
  return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t crc32c_hw(const uint8_t* p, size_t len, uint32_t crc) {
  uint64_t c = uint32_t(~crc);
  // One dependent chain: the instruction's 3-cycle latency bounds it at ~2.7 bytes per cycle.
  for (; len >= 8; p += 8, len -= 8) c = _mm_crc32_u64(c, load_le64(p));
  uint32_t c32 = uint32_t(c);
  if (len >= 4) {
    c32 = _mm_crc32_u32(c32, load_le32(p));
    p += 4;
    len -= 4;
  }
  for (; len != 0; ++p, --len) c32 = _mm_crc32_u8(c32, *p);
  return ~c32;
}

bool crc32c_hw_available() { return __builtin_cpu_supports("sse4.2"); }
#else
uint32_t crc32c_hw(const uint8_t* p, size_t len, uint32_t crc) { return crc32c_table(p, len, crc); }
bool crc32c_hw_available() { return false; }
#endif

uint32_t crc32c(const uint8_t* p, size_t len, uint32_t crc) {
#if defined(__SSE4_2__)
  return crc32c_hw(p, len, crc);
#else
  return crc32c_table(p, len, crc);
#endif
}

bool crc32c_uses_hw() {
#if defined(__SSE4_2__)
  return true;
#else
  return false;
#endif
}

uint32_t crc32c_patch_head(uint32_t crc, uint32_t old_head, uint32_t new_head, size_t len) {
  // Two messages of one length that differ by D have CRCs that differ by D(x) * x^32 mod P (the
  // initial and final inversions cancel). D is `d` followed by len-4 zero bytes, so that is
  // d(x) * x^(8*len) mod P = d * x^(8*k) * x^64 with k = len - 8, each mul_x32 giving an x^32.
  const uint32_t d = old_head ^ new_head;
  if (d == 0 || len < 8 || len > 0xffff) return crc;
  const size_t k = len - 8;
  const uint32_t v = mul_x32(d, kPowLo[k & 0xff]);
  // Packets under 264 bytes (most SCTP control chunks) need no second multiply.
  return crc ^ (k >> 8 == 0 ? times_x32(v) : mul_x32(v, kPowHi[k >> 8]));
}

bool sctp_csum_ok(const uint8_t* sctp, size_t len) {
  return len >= kSctpHdrLen && sctp_crc(sctp, len) == load_le32(sctp + kSctpCheck);
}

void sctp_csum_set(uint8_t* sctp, size_t len) {
  if (len < kSctpHdrLen) return;
  store_le32(sctp + kSctpCheck, sctp_crc(sctp, len));
}

void sctp_set_ports(uint8_t* sctp, size_t len, uint16_t sport, uint16_t dport) {
  if (len < kSctpHdrLen) return;
  const uint32_t old_head = load_le32(sctp);
  store_be16(sctp + kSctpSport, sport);
  store_be16(sctp + kSctpDport, dport);
  if (len > 0xffff) {  // not an IP packet; past the power tables
    sctp_csum_set(sctp, len);
    return;
  }
  const uint32_t check = load_le32(sctp + kSctpCheck);
  store_le32(sctp + kSctpCheck, crc32c_patch_head(check, old_head, load_le32(sctp), len));
}

}  // namespace lvs::net
