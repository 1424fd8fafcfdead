// Option values as ipvsadm.c reads them: string_to_number(), parse_service(),
// parse_sched_flags(). inet_aton/inet_pton are libc's text parsers (no I/O): ipvsadm relies on
// their exact leniency ("127.1", "0x7f.0.0.1"), so they are used rather than re-implemented.
#include <arpa/inet.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "adm/args.h"

namespace lvs::adm {

std::optional<long> string_to_number(std::string_view s, long min, long max) {
  const std::string buf(s);  // strtol needs the terminator
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(buf.c_str(), &end, 10);
  if (*end != '\0' || end == buf.c_str() || errno == ERANGE) return std::nullopt;
  if (n < min || n > max) return std::nullopt;
  return n;
}

namespace {

// str_is_digit(): true for the empty string too, which parse_service rejects like "80".
bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::optional<net::IpAddr> v6_literal(const std::string& s) {
  in6_addr a6;
  if (inet_pton(AF_INET6, s.c_str(), &a6) <= 0) return std::nullopt;
  return net::IpAddr::v6(a6.s6_addr);
}

std::optional<net::IpAddr> v4_aton(const std::string& s) {
  in_addr a4;
  if (inet_aton(s.c_str(), &a4) == 0) return std::nullopt;
  return net::IpAddr::v4(reinterpret_cast<const uint8_t*>(&a4.s_addr));
}

}  // namespace

// Mirrors parse_service(), including its quirks: "[v6]" needs ":port"; a bracketed text that is
// not IPv6 ("[1.2.3.4]:80") has its port searched inside the brackets only, so it is lost.
std::optional<HostPort> parse_endpoint(std::string_view text, uint8_t proto,
                                       const ForwardResolver& resolver) {
  if (all_digits(text)) return std::nullopt;
  std::string host(text);
  std::optional<std::string> port;
  bool port_given = false;
  if (text[0] == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    if (close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = std::string(text.substr(1, close - 1));
    port = std::string(text.substr(close + 2));
    port_given = true;
  }
  HostPort ep;
  if (auto a6 = v6_literal(host)) {
    ep.addr = a6;
    ep.family = net::Family::kV6;
  } else {
    port_given = false;
    port.reset();
    const size_t colon = host.rfind(':');
    if (colon != std::string::npos) {
      port = host.substr(colon + 1);
      port_given = true;
      host.resize(colon);
    }
    ep.family = net::Family::kV4;  // gethostbyname() answers AF_INET only
    if (auto a4 = v4_aton(host)) {
      ep.addr = a4;
    } else if (resolver.host) {
      ep.addr = resolver.host(host);
      if (!ep.addr || !ep.addr->is_v4()) return std::nullopt;
    } else if (host.empty()) {
      return std::nullopt;
    }
  }
  ep.host = host;
  if (port_given) {
    ep.has_port = true;
    ep.port_text = *port;
    if (auto n = string_to_number(*port, 0, 65535)) {
      ep.port = static_cast<uint16_t>(*n);
    } else if (resolver.service &&
               (proto == kProtoTcp || proto == kProtoUdp || proto == kProtoSctp)) {
      auto p = resolver.service(*port, proto);
      if (!p) return std::nullopt;
      ep.port = *p;
    } else {
      return std::nullopt;
    }
  }
  return ep;
}

// Mirrors parse_sched_flags(): strtok() over ',' (empty items skipped), sh-/mh- names only with
// their scheduler (wlc when -s is absent).
std::variant<uint32_t, std::string> parse_sched_flags(std::string_view scheduler,
                                                      std::string_view flags) {
  const std::string_view sched =
      scheduler.empty() ? std::string_view(kDefaultScheduler) : scheduler;
  uint32_t bits = 0;
  size_t pos = 0;
  while (pos <= flags.size()) {
    size_t comma = flags.find(',', pos);
    if (comma == std::string_view::npos) comma = flags.size();
    const std::string_view flag = flags.substr(pos, comma - pos);
    pos = comma + 1;
    if (flag.empty()) continue;
    std::string_view needs;
    if (flag == "flag-1") {
      bits |= kSvcFlagSched1;
    } else if (flag == "flag-2") {
      bits |= kSvcFlagSched2;
    } else if (flag == "flag-3") {
      bits |= kSvcFlagSched3;
    } else if (flag == "sh-fallback" || flag == "mh-fallback") {
      bits |= kSvcFlagSched1;
      needs = flag.substr(0, 2);
    } else if (flag == "sh-port" || flag == "mh-port") {
      bits |= kSvcFlagSched2;
      needs = flag.substr(0, 2);
    } else {
      return fmt::format("invalid scheduler flag `{}'", flag);
    }
    if (!needs.empty() && sched != needs)
      return fmt::format("incompatible scheduler flag `{}'", flag);
  }
  // Only commas: ipvsadm hands strtok's NULL to strcmp and crashes; no flags here.
  return bits;
}

}  // namespace lvs::adm
