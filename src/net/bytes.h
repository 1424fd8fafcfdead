// Big-endian loads and stores over raw bytes. memcpy keeps them free of alignment and aliasing
// undefined behaviour; compilers turn each into one load plus a byte swap.
#pragma once

#include <cstdint>
#include <cstring>

namespace lvs::net {

inline uint16_t load_be16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
inline uint32_t load_be32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline void store_be16(uint8_t* p, uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
}
inline void store_be32(uint8_t* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
// Raw (network-order) 16/32-bit words, for one's complement arithmetic that is byte-order neutral.
inline uint16_t load_raw16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline uint32_t load_raw32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline void store_raw16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
inline void store_raw32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

}  // namespace lvs::net
