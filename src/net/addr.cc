#include "net/addr.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

namespace lvs::net {

namespace {

// inet_pton(AF_INET)'s grammar, without the copy into a C string a config of a million
// addresses would pay: exactly four decimal parts of 0..255, no leading zeros ("01" is refused,
// as glibc refuses it).
std::optional<IpAddr> parse_v4(std::string_view text) {
  uint8_t raw[4];
  size_t part = 0;
  size_t i = 0;
  while (true) {
    const size_t start = i;
    unsigned v = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 4) {
      v = v * 10 + unsigned(text[i] - '0');
      ++i;
    }
    const size_t len = i - start;
    if (len == 0 || len > 3 || v > 255 || (len > 1 && text[start] == '0')) return std::nullopt;
    raw[part++] = uint8_t(v);
    if (part == 4) break;
    if (i >= text.size() || text[i] != '.') return std::nullopt;
    ++i;
  }
  if (i != text.size()) return std::nullopt;
  return IpAddr::v4(raw);
}

}  // namespace

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  if (text.find(':') == std::string_view::npos) return parse_v4(text);
  char buf[INET6_ADDRSTRLEN + 1];
  // inet_pton stops at a NUL, so "1.2.3.4\0junk" would pass: refuse embedded NULs.
  if (text.empty() || text.size() >= sizeof(buf) || text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t raw[16];
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
  if (is_v4()) {
    if (prefix_len == 0) return true;
    if (prefix_len > 32) prefix_len = 32;
    uint32_t a, b;
    std::memcpy(&a, bytes.data(), 4);
    std::memcpy(&b, net.bytes.data(), 4);
    const uint32_t mask = __builtin_bswap32(~0u << (32 - prefix_len));
    return ((a ^ b) & mask) == 0;
  }
  if (prefix_len > 128) prefix_len = 128;
  uint64_t a[2], b[2];
  std::memcpy(a, bytes.data(), 16);
  std::memcpy(b, net.bytes.data(), 16);
  for (int i = 0; i < 2; ++i) {
    const unsigned bits = prefix_len > 64u * i ? std::min(64u, prefix_len - 64u * i) : 0u;
    if (bits == 0) break;
    const uint64_t mask = __builtin_bswap64(bits == 64 ? ~0ull : ~(~0ull >> bits));
    if ((a[i] ^ b[i]) & mask) return false;
  }
  return true;
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
