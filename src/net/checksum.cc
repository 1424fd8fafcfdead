#include "net/checksum.h"

#include "net/bytes.h"

namespace lvs::net {

uint32_t csum_partial(const uint8_t* p, size_t len, uint32_t sum) {
  uint64_t acc = sum;
  size_t i = 0;
  // Eight bytes per step as four big-endian words; the 64-bit accumulator cannot overflow for
  // any packet size this code sees.
  for (; i + 8 <= len; i += 8) {
    acc += load_be16(p + i);
    acc += load_be16(p + i + 2);
    acc += load_be16(p + i + 4);
    acc += load_be16(p + i + 6);
  }
  for (; i + 2 <= len; i += 2) acc += load_be16(p + i);
  if (i < len) acc += uint32_t(p[i]) << 8;
  acc = (acc & 0xffffffff) + (acc >> 32);
  acc = (acc & 0xffffffff) + (acc >> 32);
  return uint32_t(acc);
}

uint32_t pseudo_header_sum(const IpAddr& src, const IpAddr& dst, uint8_t proto, uint32_t l4_len) {
  uint32_t sum = csum_partial(src.data(), src.size(), 0);
  sum = csum_partial(dst.data(), dst.size(), sum);
  uint64_t acc = uint64_t(sum) + proto + (l4_len >> 16) + (l4_len & 0xffff);
  acc = (acc & 0xffffffff) + (acc >> 32);
  return uint32_t(acc);
}


void csum_apply_at(uint8_t* field, const CsumDelta& d) {
  store_be16(field, d.apply(load_be16(field)));
}

void udp_csum_apply_at(uint8_t* field, const CsumDelta& d, bool ipv4) {
  const uint16_t old = load_be16(field);
  if (ipv4 && old == 0) return;  // sender chose no checksum; keep it that way
  uint16_t v = d.apply(old);
  if (v == 0) v = 0xffff;
  store_be16(field, v);
}

}  // namespace lvs::net
