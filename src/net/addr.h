// Addresses: IPv4/IPv6 in one 16-byte value with its family, and Ethernet MACs.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace lvs::net {

enum class Family : uint8_t { kNone = 0, kV4 = 4, kV6 = 6 };

// An IP address. IPv4 sits in the first 4 bytes, the other 12 are zero, so comparing and
// hashing the 16 bytes works for both families.
struct IpAddr {
  std::array<uint8_t, 16> bytes{};
  Family family = Family::kNone;

  static IpAddr v4(const uint8_t* p) {
    IpAddr a;
    std::memcpy(a.bytes.data(), p, 4);
    a.family = Family::kV4;
    return a;
  }
  static IpAddr v4(uint32_t host_order) {
    const uint8_t b[4] = {uint8_t(host_order >> 24), uint8_t(host_order >> 16),
                          uint8_t(host_order >> 8), uint8_t(host_order)};
    return v4(b);
  }
  static IpAddr v6(const uint8_t* p) {
    IpAddr a;
    std::memcpy(a.bytes.data(), p, 16);
    a.family = Family::kV6;
    return a;
  }
  // Parses dotted quad or RFC 4291 text; nullopt when malformed.
  static std::optional<IpAddr> parse(std::string_view text);

  bool is_v4() const { return family == Family::kV4; }
  bool is_v6() const { return family == Family::kV6; }
  size_t size() const { return is_v4() ? 4 : 16; }
  const uint8_t* data() const { return bytes.data(); }
  std::string to_string() const;
  // True when the first `prefix_len` bits equal those of `net`.
  bool in_prefix(const IpAddr& net, unsigned prefix_len) const;

  // Two word compares; the defaulted form calls memcmp on the packet path.
  friend bool operator==(const IpAddr& a, const IpAddr& b) {
    uint64_t x[2], y[2];
    std::memcpy(x, a.bytes.data(), 16);
    std::memcpy(y, b.bytes.data(), 16);
    return a.family == b.family && ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
  }
  friend auto operator<=>(const IpAddr&, const IpAddr&) = default;
};

struct MacAddr {
  std::array<uint8_t, 6> bytes{};
  static std::optional<MacAddr> parse(std::string_view text);
  std::string to_string() const;
  bool is_zero() const { return bytes == std::array<uint8_t, 6>{}; }
  friend bool operator==(const MacAddr&, const MacAddr&) = default;
};

}  // namespace lvs::net
