#include "daemon/conn_query.h"

#include <fmt/format.h>

#include <charconv>

namespace lvs::daemon {

namespace {

std::optional<std::string> decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      unsigned v = 0;
      if (i + 2 >= s.size()) return std::nullopt;
      const auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec != std::errc() || p != s.data() + i + 3) return std::nullopt;
      out += char(v);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

template <typename T>
bool number(const std::string& v, T min, T max, T* out) {
  T x{};
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || x < min || x > max) {
    return false;
  }
  *out = x;
  return true;
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

bool ConnQuery::matches(const core::ConnSnapshot& c) const {
  if (proto && c.proto != *proto) return false;
  if (is_template && c.is_template != *is_template) return false;
  if (caddr && !(c.caddr == *caddr)) return false;
  if (vaddr && !(c.vaddr == *vaddr)) return false;
  if (daddr && !(c.daddr == *daddr)) return false;
  if (cport && c.cport != *cport) return false;
  if (vport && c.vport != *vport) return false;
  if (dport && c.dport != *dport) return false;
  if (fwmark && c.fwmark != *fwmark) return false;
  if (!state.empty() && !iequal(state, c.state)) return false;
  return true;
}

std::optional<ConnQuery> parse_conn_query(std::string_view query, std::string* err) {
  ConnQuery q;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    const auto name = decode(part.substr(0, eq));
    const auto value = decode(eq == std::string_view::npos ? "" : part.substr(eq + 1));
    if (!name || !value) {
      *err = fmt::format("bad percent escape in '{}'", part);
      return std::nullopt;
    }
    const std::string& n = *name;
    const std::string& v = *value;
    const auto bad = [&](std::string_view expected) {
      *err = fmt::format("invalid {} '{}' (expected {})", n, v, expected);
      return std::nullopt;
    };
    const auto addr = [&](std::optional<net::IpAddr>& out) {
      out = net::IpAddr::parse(v);
      return out.has_value();
    };
    const auto port = [&](std::optional<uint16_t>& out) {
      uint16_t p = 0;
      if (!number<uint16_t>(v, 0, 65535, &p)) return false;
      out = p;
      return true;
    };
    if (n == "offset") {
      if (!number<size_t>(v, 0, SIZE_MAX, &q.offset)) return bad("a count");
    } else if (n == "limit") {
      if (!number<size_t>(v, 1, ConnQuery::kMaxLimit, &q.limit)) {
        return bad(fmt::format("1..{}", ConnQuery::kMaxLimit));
      }
    } else if (n == "proto") {
      if (iequal(v, "tcp")) {
        q.proto = 6;
      } else if (iequal(v, "udp")) {
        q.proto = 17;
      } else if (iequal(v, "sctp")) {
        q.proto = 132;
      } else if (iequal(v, "fwm")) {
        q.proto = 0;
      } else {
        return bad("tcp, udp, sctp or fwm");
      }
    } else if (n == "template") {
      if (v == "1" || v == "true") {
        q.is_template = true;
      } else if (v == "0" || v == "false") {
        q.is_template = false;
      } else {
        return bad("0 or 1");
      }
    } else if (n == "caddr" || n == "vaddr" || n == "daddr") {
      if (!addr(n == "caddr" ? q.caddr : n == "vaddr" ? q.vaddr : q.daddr)) {
        return bad("an IP address");
      }
    } else if (n == "cport" || n == "vport" || n == "dport") {
      if (!port(n == "cport" ? q.cport : n == "vport" ? q.vport : q.dport)) {
        return bad("0..65535");
      }
    } else if (n == "fwmark") {
      uint32_t m = 0;
      if (!number<uint32_t>(v, 1, UINT32_MAX, &m)) return bad("1..4294967295");
      q.fwmark = m;
    } else if (n == "state") {
      if (v.empty() || v.size() > 16) return bad("a state name");
      q.state = v;
    } else {
      *err = fmt::format(
          "unknown parameter '{}' (offset, limit, proto, template, caddr, cport, vaddr, vport, "
          "daddr, dport, fwmark, state)",
          n);
      return std::nullopt;
    }
  }
  return q;
}

}  // namespace lvs::daemon
