#include "net/addr.h"

#include <arpa/inet.h>

#include <cstdio>

namespace lvs::net {

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof(buf)) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t raw[16];
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, raw) != 1) return std::nullopt;
    return IpAddr::v4(raw);
  }
  if (inet_pton(AF_INET6, buf, raw) != 1) return std::nullopt;
  return IpAddr::v6(raw);
}

std::string IpAddr::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  switch (family) {
    case Family::kV4:
      return inet_ntop(AF_INET, bytes.data(), buf, sizeof(buf));
    case Family::kV6:
      return inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
    case Family::kNone:
      break;
  }
  return "-";
}

bool IpAddr::in_prefix(const IpAddr& net, unsigned prefix_len) const {
  if (family != net.family) return false;
  const unsigned max_bits = is_v4() ? 32 : 128;
  if (prefix_len > max_bits) prefix_len = max_bits;
  const unsigned full = prefix_len / 8;
  if (std::memcmp(bytes.data(), net.bytes.data(), full) != 0) return false;
  const unsigned rest = prefix_len % 8;
  if (rest == 0) return true;
  const uint8_t mask = uint8_t(0xff << (8 - rest));
  return (bytes[full] & mask) == (net.bytes[full] & mask);
}

std::optional<MacAddr> MacAddr::parse(std::string_view text) {
  MacAddr m;
  if (text.size() != 17) return std::nullopt;
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':') return std::nullopt;
    unsigned v = 0;
    for (size_t j = 0; j < 2; ++j) {
      const char c = text[i * 3 + j];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= unsigned(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= unsigned(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= unsigned(c - 'A' + 10);
      } else {
        return std::nullopt;
      }
    }
    m.bytes[i] = uint8_t(v);
  }
  return m;
}

std::string MacAddr::to_string() const {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                bytes[3], bytes[4], bytes[5]);
  return buf;
}

}  // namespace lvs::net
