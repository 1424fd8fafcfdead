// virtual_server and real_server blocks, with keepalived's defaults and its checks
// (keepalived/check/check_parser.c, check_data.c validate_check_config()).
#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <map>
#include <utility>

#include "ctl/block_index.h"
#include "ctl/keywords.h"
#include "ctl/parser_impl.h"
#include "sched/flags.h"
#include "sched/registry.h"

namespace lvs::ctl {

namespace {

using namespace std::string_view_literals;

constexpr std::array kVsKeywords = {"delay_loop"sv,
                                    "lb_algo"sv,
                                    "lvs_sched"sv,
                                    "lb_kind"sv,
                                    "lvs_method"sv,
                                    "protocol"sv,
                                    "ip_family"sv,
                                    "weight"sv,
                                    "real_server"sv,
                                    "smtp_alert"sv,
                                    "persistence_timeout"sv,
                                    "persistence_granularity"sv,
                                    "flag-1"sv,
                                    "flag-2"sv,
                                    "flag-3"sv,
                                    "sh-fallback"sv,
                                    "sh-port"sv,
                                    "mh-fallback"sv,
                                    "mh-port"sv,
                                    "ops"sv,
                                    "laddr_group_name"sv,
                                    "proxy_protocol"sv,
                                    "retry"sv,
                                    "delay_before_retry"sv,
                                    "warmup"sv,
                                    "connect_timeout"sv,
                                    "inhibit_on_failure"sv,
                                    "hashed"sv,
                                    "ha_suspend"sv,
                                    "virtualhost"sv,
                                    "snmp_name"sv,
                                    "alpha"sv,
                                    "omega"sv,
                                    "quorum_up"sv,
                                    "quorum_down"sv,
                                    "quorum"sv,
                                    "hysteresis"sv,
                                    "sorry_server"sv,
                                    "sorry_server_inhibit"sv,
                                    "sorry_server_lvs_method"sv};

// keepalived's lbflags_handler(): flag-N for any scheduler; sh-* and mh-* only for their own
// scheduler, being the same bits under names that mean something there.
struct SchedFlagKeyword {
  std::string_view word;
  uint32_t bit;
  std::string_view only_for;
};
constexpr std::array kSchedFlagKeywords = {
    SchedFlagKeyword{"flag-1", sched::kSchedFlag1, ""},
    SchedFlagKeyword{"flag-2", sched::kSchedFlag2, ""},
    SchedFlagKeyword{"flag-3", sched::kSchedFlag3, ""},
    SchedFlagKeyword{"sh-fallback", sched::kShFallback, "sh"},
    SchedFlagKeyword{"sh-port", sched::kShPort, "sh"},
    SchedFlagKeyword{"mh-fallback", sched::kMhFallback, "mh"},
    SchedFlagKeyword{"mh-port", sched::kMhPort, "mh"},
};

// keepalived's IPVS_SVC_PERSISTENT_TIMEOUT (libipvs.h): persistence_timeout without a value,
// and the timeout persistence_granularity implies.
constexpr uint32_t kDefaultPersistenceTimeout = 6 * 60;
constexpr std::array kRsKeywords = {
    "weight"sv,          "lvs_method"sv,         "uthreshold"sv,
    "lthreshold"sv,      "smtp_alert"sv,         "inhibit_on_failure"sv,
    "notify_up"sv,       "notify_down"sv,        "alpha"sv,
    "retry"sv,           "delay_before_retry"sv, "warmup"sv,
    "connect_timeout"sv, "delay_loop"sv,         "virtualhost"sv,
    "snmp_name"sv};

// keepalived's IPVS_WEIGHT_LIMIT.
constexpr uint64_t kMaxWeight = std::numeric_limits<int32_t>::max();

// keepalived reads delay_loop as a timer: seconds with an optional fraction. lvsd keeps whole
// seconds, rounding a fraction up so a check never runs more often than asked.
std::optional<uint32_t> whole_seconds(std::string_view s) {
  const size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? ""sv : s.substr(dot + 1);
  if (whole.empty() || whole.size() > 10 || (dot != std::string_view::npos && frac.empty())) {
    return std::nullopt;
  }
  if (whole.find_first_not_of("0123456789") != std::string_view::npos ||
      frac.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (char c : whole) v = v * 10 + uint64_t(c - '0');
  if (frac.find_first_not_of('0') != std::string_view::npos) ++v;
  if (v == 0 || v > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return uint32_t(v);
}

}  // namespace

namespace {

// A copied service's locations, from where its block stood to where it stands now: the same
// bytes, so the same lines relative to the keyword, and columns shifted on the keyword's line.
void relocate(VirtualServerConf& vs, const SourceLoc& from, const SourceLoc& to) {
  const auto move = [&](SourceLoc& l) {
    if (l.line == from.line) l.column += to.column - from.column;
    l.line += to.line - from.line;
    l.file = to.file;
  };
  const auto move_rs = [&](RealServerConf& rs) {
    move(rs.loc);
    for (CheckerConf& c : rs.checkers) {
      move(c.loc);
      for (HttpUrlConf& u : c.urls) move(u.loc);
    }
  };
  move(vs.loc);
  for (RealServerConf& rs : vs.real_servers) move_rs(rs);
  if (vs.sorry_server) move_rs(*vs.sorry_server);
}

// What makes a block read otherwise elsewhere: a virtual_server_group, a local_address_group,
// a track_file (blocks of their own), and diagnostics (a copy would not repeat them).
bool self_contained(const VirtualServerConf& vs) {
  if (!vs.group.empty() || !vs.laddr_group.empty()) return false;
  const auto no_file = [](const RealServerConf& rs) {
    return std::none_of(rs.checkers.begin(), rs.checkers.end(),
                        [](const CheckerConf& c) { return c.kind == CheckKind::kFile; });
  };
  return std::all_of(vs.real_servers.begin(), vs.real_servers.end(), no_file) &&
         (!vs.sorry_server || no_file(*vs.sorry_server));
}

}  // namespace

Parser::BlockText Parser::block_text(const Stmt& s) const {
  const uint32_t id = s.kw->text_id;
  if (s.open == nullptr || hints_.texts == nullptr || id >= hints_.texts->size()) return {};
  // The statement, its '{' and the block up to its '}': all of one text (no include inside).
  for (const Token* t = s.kw; t != &toks_[pos_]; ++t) {
    if (t->text_id != id) return {};
  }
  size_t i = pos_;
  for (int depth = 1; depth > 0; ++i) {
    const Token& t = toks_[i];
    if (t.is_eof() || t.text_id != id) return {};
    depth += t.is_open() ? 1 : t.is_close() ? -1 : 0;
  }
  const std::string& text = (*hints_.texts)[id];
  const char* first = s.kw->text.data();
  const char* last = toks_[i - 1].text.data();
  if (first < text.data() || last < first || last >= text.data() + text.size() ||
      text.size() > UINT32_MAX) {
    return {};
  }
  // An include read nothing into the block (an empty file): its bytes still name the file.
  if (hints_.include_sites != nullptr) {
    const auto& sites = *hints_.include_sites;  // sorted
    const auto it = std::lower_bound(sites.begin(), sites.end(), first, std::less<>());
    if (it != sites.end() && std::less_equal<>()(*it, last)) return {};
  }
  BlockText b;
  b.bytes = std::string_view(first, size_t(last - first) + 1);
  b.span = SourceSpan{id, uint32_t(first - text.data()), uint32_t(b.bytes.size())};
  b.hash = text_hash(b.bytes);
  b.end = i;
  return b;
}

void Parser::copied_block(const Token& t) {
  std::optional<uint32_t> index;
  if (hints_.blocks != nullptr && hints_.previous != nullptr && hints_.texts != nullptr &&
      t.text_id < hints_.texts->size()) {
    if (const auto it = hints_.blocks->find(t.text.data()); it != hints_.blocks->end()) {
      index = it->second;
    }
  }
  if (!index || *index >= hints_.previous->services.size()) {
    error(t.loc, "internal: a copied virtual_server block without its service");
    return;
  }
  const VirtualServerConf& old = hints_.previous->services[*index];
  if (const auto first = vs_keys_.find(old.key); first != vs_keys_.end()) {
    error(t.loc, fmt::format("duplicate virtual_server {} (first at {})", old.key.to_string(),
                             where(first->second)));
    return;
  }
  VirtualServerConf& vs = cfg_.services.emplace_back(old);
  clear_runtime(vs);
  relocate(vs, old.loc, t.loc);
  const std::string& text = (*hints_.texts)[t.text_id];
  vs.source = SourceSpan{t.text_id, uint32_t(t.text.data() - text.data()), uint32_t(t.text.size())};
  vs_keys_.emplace(vs.key, vs.loc);
  if (hints_.reused != nullptr) ++*hints_.reused;
}

void Parser::virtual_server(const Stmt& s) {
  const BlockText block = block_text(s);
  const size_t services_before = cfg_.services.size();
  const size_t diags_before = diags_.size();
  VsDraft vs;
  vs.conf.loc = s.kw->loc;
  vs.errors_before = errors_;
  const auto& a = s.args;
  if (a.empty()) {
    error(s.kw->loc, "'virtual_server' needs an address and a port, or fwmark N");
    vs.ok = false;
  } else if (a[0]->text == "group") {
    // keepalived's alloc_vs(): the settings and servers apply to every entry of the group.
    if (a.size() != 2) {
      if (a.size() < 2) {
        error(a[0]->loc, "'virtual_server group' needs a virtual_server_group name");
      } else {
        error(a[2]->loc,
              fmt::format("unexpected '{}': 'virtual_server group' takes one name", a[2]->text));
      }
      vs.ok = false;
    } else {
      vs.group_name = a[1];
    }
  } else if (a[0]->text == "fwmark") {
    vs.fwmark = true;
    if (a.size() < 2) {
      error(a[0]->loc, "'virtual_server fwmark' needs a mark");
      vs.ok = false;
    } else if (const auto mark = number(*a[1], "fwmark", 1, UINT32_MAX)) {
      vs.conf.key.fwmark = uint32_t(*mark);
    } else {
      vs.ok = false;
    }
    if (a.size() > 2) {
      error(a[2]->loc,
            fmt::format("unexpected '{}': 'virtual_server fwmark' takes one mark", a[2]->text));
      vs.ok = false;
    }
  } else {
    const auto addr = address(*a[0]);
    vs.addr_tok = a[0];
    vs.ok = addr.has_value();
    if (addr) vs.conf.key.addr = *addr;
    // No port, or 0, is port 0: all ports, for persistent services only (checked at the end).
    vs.port_tok = a.size() > 1 ? a[1] : nullptr;
    if (const auto p = port(vs.port_tok)) {
      vs.conf.key.port = *p;
    } else {
      vs.ok = false;
    }
    if (a.size() > 2) {
      error(a[2]->loc, fmt::format("unexpected '{}': 'virtual_server' takes an address and a port",
                                   a[2]->text));
      vs.ok = false;
    }
  }
  if (!need_block(s)) return;
  body(s.open != nullptr ? *s.open : *s.kw, "virtual_server",
       [&](const Stmt& st) { vs_stmt(vs, st); });
  vs.conf.source_hash = block.hash;
  if (vs.group_name != nullptr || (!a.empty() && a[0]->text == "group")) {
    if (!vs.ok || gave_up()) return;
    // Expanded when read if its group is known; else once the whole file is.
    vs.block_broken = errors_ != vs.errors_before;
    if (vs_groups_.contains(vs.group_name->text)) {
      expand_group(vs);
    } else {
      pending_groups_.push_back(std::move(vs));
    }
    return;
  }
  finish_vs(vs);
  if (block.span.length != 0 && cfg_.services.size() == services_before + 1 &&
      diags_.size() == diags_before && self_contained(cfg_.services.back())) {
    cfg_.services.back().source = block.span;
  }
}

void Parser::vs_stmt(VsDraft& vs, const Stmt& s) {
  const std::string_view w = s.word();
  if (w == "real_server") {
    real_server(vs, s);
    return;
  }
  if (w == "smtp_alert") {
    unused(s);
    return;
  }
  if (vs_extra_stmt(vs, s)) return;
  if (!contains(kVsKeywords, w)) {
    if (contains(keepalived_vs_keywords(), w)) {
      refuse(s, w);
    } else {
      const std::array<std::span<const std::string_view>, 2> known = {kVsKeywords,
                                                                      keepalived_vs_keywords()};
      unknown(s, "virtual_server", known);
    }
    return;
  }
  if (w == "protocol") vs.proto_tok = s.kw;  // even if its value is wrong: no default then
  if (!no_block(s)) return;
  if (w == "lb_kind" || w == "lvs_method") {
    if (const auto m = forwarding(s)) vs.method = *m;
    return;
  }
  if (w == "ops") {
    // keepalived's lbflags_handler(): IP_VS_SVC_F_ONEPACKET; UDP is checked at the end.
    if (args_between(s, 0, 0, "no value")) vs.ops_tok = s.kw;
    return;
  }
  if (w == "laddr_group_name") {
    if (args_between(s, 1, 1, "a local_address_group name")) {
      vs.laddr_kw = s.kw;
      vs.laddr_name = s.args[0];
      laddr_uses_.push_back(s.args[0]);
    }
    return;
  }
  if (w == "proxy_protocol") {
    proxy_protocol(vs, s);
    return;
  }
  if (w == "persistence_timeout" || w == "persistence_granularity") {
    persistence(vs, s);
    return;
  }
  if (w.starts_with("flag-") || w.starts_with("sh-") || w.starts_with("mh-")) {
    sched_flag(vs, s);
    return;
  }
  if (!args_between(s, 1, 1, "a value")) return;
  const Token& v = *s.args[0];
  if (w == "delay_loop") {
    if (const auto secs = whole_seconds(v.text)) {
      vs.conf.delay_loop = *secs;
    } else {
      error(v.loc, fmt::format("invalid delay_loop '{}' (expected seconds, more than 0)", v.text));
    }
  } else if (w == "lb_algo" || w == "lvs_sched") {
    vs.sched_tok = &v;
    if (sched::find_scheduler(v.text) != nullptr) {
      vs.conf.scheduler = v.text;
    } else if (contains(keepalived_schedulers(), v.text)) {
      error(v.loc, fmt::format("scheduler '{}' is not supported by lvsd yet (available: {})",
                               v.text, sched::scheduler_names()));
    } else {
      error(v.loc, fmt::format("unknown scheduler '{}' (available: {})", v.text,
                               sched::scheduler_names()));
    }
  } else if (w == "protocol") {
    if (iequals(v.text, "TCP")) {
      vs.proto = IPPROTO_TCP;
    } else if (iequals(v.text, "UDP")) {
      vs.proto = IPPROTO_UDP;
    } else if (iequals(v.text, "SCTP")) {
      vs.proto = IPPROTO_SCTP;
    } else {
      error(v.loc, fmt::format("unknown protocol '{}' (expected TCP, UDP or SCTP)", v.text));
    }
  } else if (w == "ip_family") {
    vs.family_tok = s.kw;
    if (v.text == "inet") {
      vs.family = net::Family::kV4;
    } else if (v.text == "inet6") {
      vs.family = net::Family::kV6;
    } else {
      error(v.loc, fmt::format("unknown ip_family '{}' (expected inet or inet6)", v.text));
    }
  } else if (w == "weight") {
    // The default weight of the service's real servers (keepalived's vs_weight_handler).
    if (const auto n = number(v, "weight", 1, kMaxWeight)) vs.default_weight = int32_t(*n);
  }
}

void Parser::sched_flag(VsDraft& vs, const Stmt& s) {
  // keepalived reads no value after a flag (and ignores one); lvsd says so instead.
  if (!args_between(s, 0, 0, "no value")) return;
  for (const auto& f : kSchedFlagKeywords) {
    if (f.word == s.word()) vs.flags.push_back(SchedFlagUse{s.kw, f.bit, f.only_for});
  }
}

// keepalived's pto_handler() and pgr_handler().
void Parser::persistence(VsDraft& vs, const Stmt& s) {
  vs.persistence_asked = true;
  if (s.word() == "persistence_timeout") {
    if (!args_between(s, 0, 1, "one value")) return;
    if (s.args.empty()) {
      vs.persistence_timeout = kDefaultPersistenceTimeout;
    } else if (const auto n = number(*s.args[0], "persistence_timeout", 1, kMaxLvsTimeout)) {
      vs.persistence_timeout = uint32_t(*n);
    }
    return;
  }
  if (!args_between(s, 1, 1, "a netmask (IPv4) or a prefix length (IPv6)")) return;
  vs.granularity_tok = s.args[0];
  // An address service knows its family now; a fwmark service's is settled at its end.
  // A group service's addresses are known when it is expanded (parser_group.cc).
  if (!vs.fwmark && vs.group_name == nullptr) {
    vs.persistence_prefix = granularity(*s.args[0], vs.conf.key.addr.family);
  }
}

std::optional<uint8_t> Parser::granularity(const Token& t, net::Family family) {
  if (family == net::Family::kNone) {
    // keepalived's guess when the family is not known yet: a dot makes it IPv4.
    family = t.text.find('.') != std::string::npos ? net::Family::kV4 : net::Family::kV6;
  }
  if (family == net::Family::kV6) {
    const auto n = number(t, "IPv6 persistence_granularity", 1, 128);  // IPVS refuses 0
    if (!n) return std::nullopt;
    return uint8_t(*n);
  }
  // keepalived reads a netmask; a bare number would be an address to it (24 is 0.0.0.24).
  const auto mask = net::IpAddr::parse(t.text);
  if (!mask || !mask->is_v4()) {
    error(t.loc, fmt::format("invalid IPv4 persistence_granularity '{}' (expected a netmask such "
                             "as 255.255.255.0)",
                             t.text));
    return std::nullopt;
  }
  const uint8_t* b = mask->data();
  const uint32_t m = uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
  // keepalived and IPVS take any mask, but the engine keeps a prefix length.
  if ((~m & (~m + 1)) != 0) {
    error(t.loc,
          fmt::format("IPv4 persistence_granularity '{}' is not a contiguous netmask", t.text));
    return std::nullopt;
  }
  return uint8_t(std::popcount(m));
}

void Parser::real_server(VsDraft& vs, const Stmt& s) {
  std::optional<net::IpAddr> addr;
  std::optional<uint16_t> p;
  if (args_between(s, 1, 2, "an address and optionally a port")) {
    addr = address(*s.args[0]);
    p = port(s.args.size() > 1 ? s.args[1] : nullptr);
  }
  if (!need_block(s)) return;
  // Read in place (a draft is 400 bytes; moving each of 100,000 shows). Services usually have a
  // handful of servers: room for them at once, not 1, 2, 4, 8 moves.
  if (vs.rs.empty()) vs.rs.reserve(16);
  RsDraft& rs = vs.rs.emplace_back();
  rs.conf.loc = s.kw->loc;
  if (addr && p) {
    rs.conf.addr = *addr;
    rs.conf.port = *p;
    if (*p != 0) rs.port_tok = s.args[1];
  } else {
    rs.ok = false;
  }
  body(s.open != nullptr ? *s.open : *s.kw, "real_server",
       [&](const Stmt& st) { rs_stmt(rs, st); });
}

// IPVS tells real servers apart by address and port; DR servers all carry the service's port.
// Pairwise for the usual handful (no set built per service), a hash set beyond.
void Parser::duplicate_servers(VsDraft& vs) {
  const auto report = [&](RsDraft& dup, const RealServerConf& first) {
    const RealServerConf& c = dup.conf;
    error(c.loc, fmt::format("duplicate real_server {} in virtual_server {} (first at {})",
                             endpoint(c.addr, c.port), vs.conf.key.to_string(), where(first.loc)));
    dup.ok = false;
  };
  if (vs.rs.size() <= 32) {
    for (size_t i = 1; i < vs.rs.size(); ++i) {
      if (!vs.rs[i].ok) continue;
      for (size_t j = 0; j < i; ++j) {
        const RealServerConf& a = vs.rs[j].conf;
        const RealServerConf& b = vs.rs[i].conf;
        if (vs.rs[j].ok && a.port == b.port && a.addr == b.addr) {
          report(vs.rs[i], a);
          break;
        }
      }
    }
    return;
  }
  boost::unordered_flat_map<core::BackendEndpoint, const RealServerConf*, core::BackendHash> seen;
  for (RsDraft& rs : vs.rs) {
    if (!rs.ok) continue;
    const auto [it, fresh] =
        seen.emplace(core::BackendEndpoint{0, rs.conf.addr, rs.conf.port}, &rs.conf);
    if (!fresh) report(rs, *it->second);
  }
}

void Parser::rs_stmt(RsDraft& rs, const Stmt& s) {
  const std::string_view w = s.word();
  if (w == "smtp_alert") {
    unused(s);
    return;
  }
  if (w == "track_file") {
    not_yet(s, "health checks");
    return;
  }
  if (contains(keepalived_rs_keywords(), w)) {
    checker(rs, s);
    return;
  }
  if (rs_extra_stmt(rs, s)) return;
  if (!contains(kRsKeywords, w)) {
    {
      const std::array<std::span<const std::string_view>, 2> known = {kRsKeywords,
                                                                      keepalived_rs_keywords()};
      unknown(s, "real_server", known);
    }
    return;
  }
  if (!no_block(s)) return;
  if (w == "lvs_method") {
    if (const auto m = forwarding(s)) rs.method = *m;
    return;
  }
  if (!args_between(s, 1, 1, "a number")) return;
  const Token& v = *s.args[0];
  if (w == "weight") {
    if (const auto n = number(v, "weight", 0, kMaxWeight)) rs.weight = int32_t(*n);
  } else if (w == "uthreshold") {
    if (const auto n = number(v, "uthreshold", 0, UINT32_MAX)) rs.conf.u_threshold = uint32_t(*n);
  } else if (w == "lthreshold") {
    if (const auto n = number(v, "lthreshold", 0, UINT32_MAX)) {
      rs.conf.l_threshold = uint32_t(*n);
      rs.lthreshold_tok = &v;
    }
  }
}

void Parser::finish_vs(VsDraft& vs) {
  // After an error in the block, defaults are guesses about a broken text: no warnings on them.
  const bool broken = vs.group_name != nullptr ? vs.block_broken : errors_ != vs.errors_before;
  // sh-* and mh-* belong to their scheduler: keepalived refuses them with any other (it checks
  // the scheduler set so far; lvsd the service's, wherever lb_algo stands).
  const std::string_view sched_name =
      vs.sched_tok != nullptr ? std::string_view(vs.sched_tok->text) : vs.conf.scheduler;
  for (const SchedFlagUse& f : vs.flags) {
    if (f.only_for.empty() || f.only_for == sched_name) {
      vs.conf.sched_flags |= f.bit;
    } else {
      error(f.kw->loc, fmt::format("{} only applies to the {} scheduler (this virtual_server "
                                   "uses {})",
                                   f.kw->text, f.only_for, sched_name));
    }
  }
  core::ServiceKey& key = vs.conf.key;
  if (vs.method) {
    vs.conf.fwd = vs.method->fwd;
    vs.conf.tun_type = vs.method->tun_type;
    vs.conf.tun_port = vs.method->tun_port;
    vs.conf.tun_flags = vs.method->tun_flags;
  }
  vs.conf.one_packet = vs.ops_tok != nullptr;
  net::Family family = key.addr.family;
  if (vs.fwmark) {
    // The family of a fwmark service: ip_family, else its real servers' (those not tunnelled
    // first, as keepalived's rs_end_handler(): a tunnel may cross families), else the form of
    // persistence_granularity (keepalived's pgr_handler guess), else IPv4 as in keepalived.
    family = vs.family.value_or(net::Family::kNone);
    const auto fwd_of = [&](const RsDraft& rs) { return rs.method ? rs.method->fwd : vs.conf.fwd; };
    for (const RsDraft& rs : vs.rs) {
      if (family == net::Family::kNone && rs.ok && fwd_of(rs) != core::Fwd::kTun) {
        family = rs.conf.addr.family;
      }
    }
    // Only tunnelled servers: theirs if they agree (vs_end_handler()), else IPv4 below.
    bool mixed = false;
    net::Family tunnelled = net::Family::kNone;
    for (const RsDraft& rs : vs.rs) {
      if (!rs.ok) continue;
      if (tunnelled == net::Family::kNone) tunnelled = rs.conf.addr.family;
      mixed |= rs.conf.addr.family != tunnelled;
    }
    if (family == net::Family::kNone && !mixed) family = tunnelled;
    if (vs.granularity_tok != nullptr) {
      vs.persistence_prefix = granularity(*vs.granularity_tok, family);
      if (family == net::Family::kNone) {
        family = vs.granularity_tok->text.find('.') != std::string::npos ? net::Family::kV4
                                                                         : net::Family::kV6;
      }
    }
    if (family == net::Family::kNone) family = net::Family::kV4;
  }
  if (!vs.ok) return;
  const uint8_t width = family == net::Family::kV6 ? 128 : 32;
  // persistence_granularity alone makes the service persistent for the default time.
  vs.conf.persistence_timeout = vs.persistence_timeout.value_or(
      vs.granularity_tok != nullptr ? kDefaultPersistenceTimeout : 0);
  vs.conf.persistence_prefix = vs.persistence_prefix.value_or(width);
  if (vs.fwmark) {
    if (vs.proto_tok != nullptr) {
      warn(vs.proto_tok->loc, "protocol is ignored for fwmark services");
    }
    key = core::ServiceKey::fwmark_key(family, key.fwmark);
  } else {
    if (vs.proto) {
      key.proto = *vs.proto;
    } else if (vs.proto_tok == nullptr) {
      // keepalived: "no protocol set - defaulting to UDP" (IPVS's own default).
      if (!broken) warn(vs.conf.loc, "no protocol given; using UDP, as keepalived does");
      key.proto = IPPROTO_UDP;
    }
    if (vs.family && *vs.family != family) {
      error(vs.family_tok->loc,
            fmt::format("ip_family {} does not match the virtual_server address {}",
                        *vs.family == net::Family::kV6 ? "inet6" : "inet", key.addr.to_string()));
    }
    // keepalived's validate_check_config() says "one packet scheduling requires UDP" and drops
    // the flag; lvsd refuses the file. fwmark services may use it (IPVS applies it to UDP).
    if (vs.ops_tok != nullptr && key.proto != 0 && key.proto != IPPROTO_UDP) {
      error(vs.ops_tok->loc,
            "ops (one-packet scheduling) is for UDP services only; this one is "
            "TCP");
    }
  }
  for (RsDraft& rs : vs.rs) {
    if (rs.ok) finish_rs(vs, rs, family);
    if (rs.ok) finish_checkers(vs, rs);
  }
  duplicate_servers(vs);
  const SourceLoc& here = expanding_ != nullptr ? expanding_->loc : vs.conf.loc;
  const auto [first, fresh] = vs_keys_.emplace(key, here);
  if (!fresh) {
    if (expanding_ != nullptr) {
      error(here, fmt::format("duplicate virtual_server {} from virtual_server_group '{}' (first "
                              "at {})",
                              key.to_string(), vs.group_name->text, where(first->second)));
    } else {
      error(here, fmt::format("duplicate virtual_server {} (first at {})", key.to_string(),
                              where(first->second)));
    }
    return;
  }
  if (vs.rs.empty()) {
    if (!broken) {
      warn(vs.conf.loc,
           fmt::format("virtual_server {} has no real_server; ignored, as keepalived does",
                       key.to_string()));
    }
    return;
  }
  // IPVS takes port 0 only for persistent services; keepalived says so and makes the service
  // persistent (check_data.c validate_check_config()), lvsd asks for it to be written.
  if (!vs.fwmark && key.port == 0 && !vs.persistence_asked) {
    error(vs.port_tok != nullptr ? vs.port_tok->loc : vs.addr_tok->loc,
          "port 0 (all ports) is only valid for persistent services; add persistence_timeout");
    return;
  }
  const auto laddr_family = finish_fullnat(vs, broken, family);
  finish_sorry(vs, family);
  vs.conf.real_servers.reserve(vs.rs.size());
  for (RsDraft& rs : vs.rs) {
    if (rs.ok) vs.conf.real_servers.push_back(std::move(rs.conf));
  }
  quorum_checks(vs);
  cfg_.services.push_back(std::move(vs.conf));
  if (laddr_family) {
    const size_t index = cfg_.services.size() - 1;
    if (laddr_groups_.contains(vs.laddr_name->text)) {
      bind_laddrs(index, *vs.laddr_name, *laddr_family);
    } else {
      pending_laddrs_.push_back(PendingLaddrs{index, vs.laddr_name, *laddr_family});
    }
  }
}

void Parser::finish_rs(VsDraft& vs, RsDraft& rs, net::Family family) {
  RealServerConf& c = rs.conf;
  const core::ServiceKey& key = vs.conf.key;
  // keepalived's validate_check_config(): unset checker settings are the service's.
  c.inhibit_on_failure = rs.inhibit.value_or(vs.conf.inhibit_on_failure);
  // The server's own lvs_method, else the service's lb_kind with its tunnel options.
  if (rs.method) {
    c.fwd = rs.method->fwd;
    c.tun_type = rs.method->tun_type;
    c.tun_port = rs.method->tun_port;
    c.tun_flags = rs.method->tun_flags;
  } else {
    c.fwd = vs.conf.fwd;
    c.tun_type = vs.conf.tun_type;
    c.tun_port = vs.conf.tun_port;
    c.tun_flags = vs.conf.tun_flags;
  }
  if (c.fwd != core::Fwd::kTun) {
    c.tun_type = core::TunType::kIpip;
    c.tun_port = 0;
    c.tun_flags = 0;
  }
  // A tunnel may carry either family in the other (IPVS_DEST_ATTR_ADDR_FAMILY; keepalived's
  // rs_end_handler() skips the check for TUN). FULLNAT translates an IPv6 address service to
  // IPv4 real servers (NAT64), not the other way.
  const bool nat64 = c.fwd == core::Fwd::kFullNat && !vs.fwmark && family == net::Family::kV6 &&
                     c.addr.family == net::Family::kV4;
  if (c.fwd != core::Fwd::kTun && !nat64 && c.addr.family != family) {
    std::string why =
        !vs.fwmark  ? fmt::format("the virtual_server is {}", family_name(family))
        : vs.family ? fmt::format("ip_family is {}", family == net::Family::kV6 ? "inet6" : "inet")
                    : fmt::format("the first real_server is {}", family_name(family));
    if (c.fwd == core::Fwd::kFullNat && !vs.fwmark) {
      why += " (FULLNAT takes IPv6 clients to IPv4 servers, not IPv4 clients to IPv6 ones)";
    }
    error(c.loc, fmt::format("{} {} is {} but {}", rs.role, c.addr.to_string(),
                             family_name(c.addr.family), why));
    rs.ok = false;
    return;
  }
  // keepalived passes any pair on; IPVS refuses a lower threshold above the upper one
  // (ip_vs_add_dest), 0 included, so lvsd says so here rather than at apply time.
  if (c.l_threshold > c.u_threshold) {
    error(rs.lthreshold_tok->loc,
          c.u_threshold == 0
              ? fmt::format("lthreshold {} needs an uthreshold of at least {} (IPVS refuses a "
                            "lower threshold above the upper one)",
                            c.l_threshold, c.l_threshold)
              : fmt::format("lthreshold {} is above uthreshold {} (IPVS refuses a lower "
                            "threshold above the upper one)",
                            c.l_threshold, c.u_threshold));
  }
  c.weight = rs.weight.value_or(vs.default_weight);
  if (c.fwd == core::Fwd::kNat || c.fwd == core::Fwd::kFullNat) {
    // An omitted port is the service's; fwmark services keep the client's (port 0).
    if (!vs.fwmark && c.port == 0) c.port = key.port;
    return;
  }
  // DR and TUN rewrite no port: IPVS uses the service's (check_data.c resets it the same way),
  // which for fwmark and port 0 services means the client's.
  const char* method = c.fwd == core::Fwd::kDr ? "DR" : "TUN";
  if (vs.fwmark || key.port == 0) {
    if (c.port != 0) {
      warn(rs.port_tok->loc,
           fmt::format("port {} is ignored: {} real servers of {} services keep the client's "
                       "port",
                       c.port, method, vs.fwmark ? "fwmark" : "port 0"));
    }
    c.port = 0;
    return;
  }
  if (c.port != 0 && c.port != key.port) {
    warn(rs.port_tok->loc,
         fmt::format("{} port {} differs from the virtual_server port {}: {} uses the "
                     "service port",
                     rs.role, c.port, key.port, method));
  }
  c.port = key.port;
}

}  // namespace lvs::ctl
