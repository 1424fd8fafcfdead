// Forwarding methods (lb_kind, lvs_method with keepalived 2.x's TUN options), and FULLNAT as
// keepalived-DPVS writes it: local_address_group blocks, laddr_group_name, proxy_protocol.
#include <fmt/format.h>

#include <array>
#include <limits>

#include "ctl/keywords.h"
#include "ctl/parser_impl.h"

namespace lvs::ctl {

namespace {

// The engine keeps at most this many FULLNAT local addresses (Engine::kMaxLocalAddrs).
constexpr size_t kMaxLocalAddrs = 4096;

}  // namespace

// One line of a local_address_group: an address, or keepalived's short range form (its
// inet_stor(), which DPVS's alloc_laddr_entry() reads): A.B.C.D-E with E decimal up to 255, or
// an IPv6 address and -HHHH, the last 16-bit group's end in hex. The end is included and must
// be above the start.
std::optional<AddrRange> addr_range(std::string_view text, std::string& why) {
  const size_t dash = text.find('-');
  const auto first = net::IpAddr::parse(text.substr(0, dash));
  if (!first) {
    why = fmt::format("invalid IP address '{}'", text);
    return std::nullopt;
  }
  if (dash == std::string_view::npos) return AddrRange{*first, 1};
  const std::string_view end = text.substr(dash + 1);
  const bool v6 = first->is_v6();
  const size_t max_digits = v6 ? 4 : 3;
  uint32_t last = 0;
  bool ok = !end.empty() && end.size() <= max_digits;
  for (char c : end) {
    if (!ok) break;
    uint32_t d;
    if (c >= '0' && c <= '9') {
      d = uint32_t(c - '0');
    } else if (v6 && c >= 'a' && c <= 'f') {
      d = uint32_t(c - 'a' + 10);
    } else if (v6 && c >= 'A' && c <= 'F') {
      d = uint32_t(c - 'A' + 10);
    } else {
      ok = false;
      break;
    }
    last = last * (v6 ? 16 : 10) + d;
  }
  if (!ok || (!v6 && last > 255)) {
    why = v6 ? fmt::format(
                   "invalid address range '{}' (expected an IPv6 address, '-' and the "
                   "last group's end in hex, as 2001:2::10-1f)",
                   text)
             : fmt::format(
                   "invalid address range '{}' (expected A.B.C.D-E, E up to 255, as "
                   "198.18.1.20-25)",
                   text);
    return std::nullopt;
  }
  const uint8_t* b = first->data();
  const uint32_t start = v6 ? uint32_t(b[14]) << 8 | b[15] : b[3];
  if (last <= start) {
    why = fmt::format("address range '{}' does not end above its start", text);
    return std::nullopt;
  }
  return AddrRange{*first, last - start + 1};
}

net::IpAddr nth_addr(const net::IpAddr& first, uint32_t i) {
  net::IpAddr a = first;
  if (a.is_v4()) {
    a.bytes[3] = uint8_t(a.bytes[3] + i);
  } else {
    const uint32_t g = (uint32_t(a.bytes[14]) << 8 | a.bytes[15]) + i;
    a.bytes[14] = uint8_t(g >> 8);
    a.bytes[15] = uint8_t(g);
  }
  return a;
}

// keepalived's svr_forwarding_handler(); FNAT (and FULLNAT) as keepalived-DPVS's.
std::optional<Method> Parser::forwarding(const Stmt& s) {
  if (!args_between(s, 1, std::numeric_limits<size_t>::max(), "NAT, DR, TUN or FNAT")) {
    return std::nullopt;
  }
  const Token& w = *s.args[0];
  Method m;
  m.kw = s.kw;
  m.word = &w;
  if (iequals(w.text, "NAT")) {
    m.fwd = core::Fwd::kNat;
  } else if (iequals(w.text, "DR")) {
    m.fwd = core::Fwd::kDr;
  } else if (iequals(w.text, "TUN")) {
    m.fwd = core::Fwd::kTun;
    if (!tun_options(s, m)) return std::nullopt;
    return m;
  } else if (iequals(w.text, "FNAT") || iequals(w.text, "FULLNAT")) {
    m.fwd = core::Fwd::kFullNat;
  } else if (iequals(w.text, "SNAT")) {
    error(w.loc, fmt::format("\"{} SNAT\" is not supported by lvsd yet", s.word()));
    return std::nullopt;
  } else {
    error(w.loc,
          fmt::format("unknown forwarding method '{}' (expected NAT, DR, TUN or FNAT)", w.text));
    return std::nullopt;
  }
  if (s.args.size() > 1) {
    error(s.args[1]->loc, fmt::format("unexpected '{}': '{} {}' takes no options", s.args[1]->text,
                                      s.word(), w.text));
    return std::nullopt;
  }
  return m;
}

// keepalived 2.x: TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum], the options in any
// order, the combination checked once all are read. keepalived lets a repeated option win;
// lvsd refuses it. Option words are lower case, as keepalived compares them.
bool Parser::tun_options(const Stmt& s, Method& m) {
  const std::string what = fmt::format("{} TUN", s.word());
  const Token* type_val = nullptr;  // ipip, gue, gre
  const Token* port_kw = nullptr;
  const Token* csum = nullptr;  // nocsum, csum, remcsum
  for (size_t i = 1; i < s.args.size(); ++i) {
    const Token& o = *s.args[i];
    if (o.text == "type" || o.text == "port") {
      const bool is_type = o.text == "type";
      if ((is_type ? type_val : port_kw) != nullptr) {
        error(o.loc, fmt::format("'{}' is given twice in '{}'", o.text, what));
        return false;
      }
      if (i + 1 == s.args.size()) {
        error(o.loc, is_type ? "'type' needs a tunnel type (ipip, gue or gre)"
                             : "'port' needs the real servers' GUE port (1..65535)");
        return false;
      }
      const Token& v = *s.args[++i];
      if (is_type) {
        type_val = &v;
        if (v.text == "ipip") {
          m.tun_type = core::TunType::kIpip;
        } else if (v.text == "gue") {
          m.tun_type = core::TunType::kGue;
        } else if (v.text == "gre") {
          m.tun_type = core::TunType::kGre;
        } else {
          error(v.loc, fmt::format("unknown tunnel type '{}' (expected ipip, gue or gre)", v.text));
          return false;
        }
      } else {
        port_kw = &o;
        const auto n = number(v, "GUE port", 1, 65535);
        if (!n) return false;
        m.tun_port = uint16_t(*n);
      }
    } else if (o.text == "nocsum" || o.text == "csum" || o.text == "remcsum") {
      if (csum != nullptr) {
        error(o.loc, fmt::format("'{}' after '{}': '{}' takes one of nocsum, csum and remcsum",
                                 o.text, csum->text, what));
        return false;
      }
      csum = &o;
      m.tun_flags = o.text == "csum"      ? core::kTunFlagCsum
                    : o.text == "remcsum" ? core::kTunFlagRemCsum
                                          : 0;
    } else {
      error(o.loc, fmt::format("unknown '{}' option '{}' (expected type, port, nocsum, csum or "
                               "remcsum)",
                               what, o.text));
      return false;
    }
  }
  const std::string_view type = core::tun_type_name(m.tun_type);
  if (m.tun_type == core::TunType::kGue && port_kw == nullptr) {
    error(type_val->loc,
          fmt::format("'{} type gue' needs 'port N' (the real servers' GUE port)", what));
    return false;
  }
  if (m.tun_type != core::TunType::kGue && port_kw != nullptr) {
    error(port_kw->loc,
          fmt::format("'port' only goes with '{} type gue' (this tunnel is {})", what, type));
    return false;
  }
  if (m.tun_flags == core::kTunFlagRemCsum && m.tun_type != core::TunType::kGue) {
    error(csum->loc,
          fmt::format("'remcsum' only goes with '{} type gue' (this tunnel is {})", what, type));
    return false;
  }
  // nocsum is ipip's only mode, so keepalived takes it there.
  if (m.tun_flags == core::kTunFlagCsum && m.tun_type == core::TunType::kIpip) {
    error(csum->loc,
          fmt::format("'csum' only goes with '{} type gue' or 'type gre' (this tunnel is ipip)",
                      what));
    return false;
  }
  return true;
}

// keepalived-DPVS's proxy_protocol_type(), case ignored as there: v2 or disable here.
void Parser::proxy_protocol(VsDraft& vs, const Stmt& s) {
  if (!args_between(s, 1, 1, "v2 or disable")) return;
  const Token& v = *s.args[0];
  if (iequals(v.text, "v2")) {
    vs.proxy_kw = s.kw;
  } else if (iequals(v.text, "disable")) {
    vs.proxy_kw = nullptr;
  } else if (iequals(v.text, "v1") || iequals(v.text, "v1-insecure")) {
    error(v.loc, fmt::format("proxy_protocol {} is not supported (v2 only)", v.text));
  } else if (iequals(v.text, "v2-insecure")) {
    error(v.loc, fmt::format("\"proxy_protocol {}\" is not supported by lvsd yet", v.text));
  } else {
    error(v.loc, fmt::format("unknown proxy_protocol '{}' (expected v2 or disable)", v.text));
  }
}

// local_address_group NAME { ADDRESS [INTERFACE] ... }, ADDRESS possibly a short range.
void Parser::local_address_group(const Stmt& s) {
  const Token* name_tok = group_name(s);
  if (name_tok == nullptr) return;
  const Token& name = *name_tok;
  const size_t errors_before = errors_;
  const bool duplicate = laddr_groups_.contains(name.text);
  if (duplicate)
    duplicate_group(name, "local_address_group",
                    cfg_.local_address_groups[laddr_groups_.find(name.text)->second.first].loc);
  LocalAddressGroupConf g;
  g.name = name.text;
  g.loc = s.kw->loc;
  std::map<net::IpAddr, SourceLoc> seen;
  body(s.open != nullptr ? *s.open : *s.kw, "local_address_group",
       [&](const Stmt& st) { laddr_line(g, st, seen); });
  if (duplicate) return;
  if (g.addrs.empty() && errors_ == errors_before) {
    error(s.kw->loc, fmt::format("local_address_group '{}' has no addresses", g.name));
  }
  laddr_groups_.emplace(g.name,
                        std::pair(cfg_.local_address_groups.size(), errors_ == errors_before));
  cfg_.local_address_groups.push_back(std::move(g));
}

void Parser::laddr_line(LocalAddressGroupConf& g, const Stmt& s,
                        std::map<net::IpAddr, SourceLoc>& seen) {
  if (!no_block(s)) return;
  if (s.args.size() > 1) {
    error(s.args[1]->loc, fmt::format("unexpected '{}': a local_address_group line is an address "
                                      "or range, and optionally an interface",
                                      s.args[1]->text));
    return;
  }
  // keepalived-DPVS's interface: kept for the daemon, which does not use it yet.
  std::string ifname;
  if (!s.args.empty()) {
    if (!valid_ifname(s.args[0]->text)) {
      error(s.args[0]->loc, fmt::format("invalid interface name '{}'", s.args[0]->text));
      return;
    }
    ifname = s.args[0]->text;
  }
  std::string why;
  const auto range = addr_range(s.word(), why);
  if (!range) {
    error(s.kw->loc, std::move(why));
    return;
  }
  if (g.addrs.size() + range->count > kMaxLocalAddrs) {
    error(s.kw->loc, fmt::format("local_address_group '{}' would hold more than {} addresses "
                                 "(lvsd's limit)",
                                 g.name, kMaxLocalAddrs));
    return;
  }
  for (uint32_t i = 0; i < range->count; ++i) {
    const net::IpAddr a = nth_addr(range->first, i);
    const auto [it, fresh] = seen.emplace(a, s.kw->loc);
    if (!fresh) {
      error(s.kw->loc, fmt::format("{} is listed twice in local_address_group '{}' (first at {})",
                                   a.to_string(), g.name, where(it->second)));
      return;
    }
    g.addrs.push_back(LocalAddressConf{a, ifname, s.kw->loc});
  }
}

std::optional<net::Family> Parser::finish_fullnat(VsDraft& vs, bool broken, net::Family family) {
  // The statement that makes the service FULLNAT: its lb_kind, else its first FNAT server's.
  const Method* fnat = vs.conf.fwd == core::Fwd::kFullNat ? &*vs.method : nullptr;
  const RsDraft* first = nullptr;
  for (RsDraft& rs : vs.rs) {
    if (!rs.ok || rs.conf.fwd != core::Fwd::kFullNat) continue;
    if (fnat == nullptr) fnat = &*rs.method;
    if (first == nullptr) {
      first = &rs;
    } else if (rs.conf.addr.family != first->conf.addr.family) {
      // The engine gives a service one family of local addresses.
      error(rs.conf.loc,
            fmt::format("real_server {} is {} but real_server {} ({}) is {}: the FULLNAT real "
                        "servers of a virtual_server share one family, that of its local "
                        "addresses",
                        rs.conf.addr.to_string(), family_name(rs.conf.addr.family),
                        first->conf.addr.to_string(), where(first->conf.loc),
                        family_name(first->conf.addr.family)));
      rs.ok = false;
    }
  }
  if (fnat == nullptr) {
    // After an error in the block the method may be the one that failed: no guesses then.
    if (!broken && vs.laddr_kw != nullptr) {
      error(vs.laddr_kw->loc, "laddr_group_name only applies to FULLNAT services (lb_kind FNAT)");
    }
    if (!broken && vs.proxy_kw != nullptr) {
      error(vs.proxy_kw->loc, "proxy_protocol v2 only applies to FULLNAT services (lb_kind FNAT)");
    }
    return std::nullopt;
  }
  if (vs.laddr_name == nullptr) {
    error(fnat->word->loc, fmt::format("'{} {}' needs laddr_group_name: the local_address_group "
                                       "FULLNAT connects to the real servers from",
                                       fnat->kw->text, fnat->word->text));
    return std::nullopt;
  }
  vs.conf.laddr_group = vs.laddr_name->text;
  vs.conf.proxy_protocol = vs.proxy_kw != nullptr;
  return first != nullptr ? first->conf.addr.family : family;
}

void Parser::bind_laddrs(size_t index, const Token& name, net::Family family) {
  const auto [group, group_ok] = laddr_groups_.find(name.text)->second;
  const LocalAddressGroupConf& g = cfg_.local_address_groups[group];
  VirtualServerConf& vs = cfg_.services[index];
  for (const LocalAddressConf& a : g.addrs) vs.local_addrs.push_back(a.addr);
  if (!group_ok) return;  // its errors are reported already
  for (const LocalAddressConf& a : g.addrs) {
    if (a.addr.family != family) {
      error(name.loc, fmt::format("local_address_group '{}' holds {} address {} ({}), but {} "
                                  "needs {} local addresses (those of its FULLNAT real servers)",
                                  g.name, family_name(a.addr.family), a.addr.to_string(),
                                  where(a.loc), vs.key.to_string(), family_name(family)));
      return;
    }
  }
}

// keepalived reads the whole file before it resolves names, so a group may follow its users.
void Parser::finish_laddrs() {
  if (gave_up()) return;
  std::vector<std::string_view> names;
  for (const auto& g : cfg_.local_address_groups) names.push_back(g.name);
  const std::array<std::span<const std::string_view>, 1> known = {names};
  for (const Token* use : laddr_uses_) {
    if (laddr_groups_.contains(use->text)) continue;
    std::string msg = fmt::format("unknown local_address_group '{}'", use->text);
    const std::string_view hint = closest_keyword(use->text, known);
    if (!hint.empty()) msg += fmt::format("; did you mean '{}'?", hint);
    error(use->loc, std::move(msg));
  }
  for (const PendingLaddrs& p : pending_laddrs_) {
    if (laddr_groups_.contains(p.name->text)) bind_laddrs(p.service, *p.name, p.family);
  }
}

}  // namespace lvs::ctl
