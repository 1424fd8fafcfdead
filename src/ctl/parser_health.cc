// keepalived's health checker blocks inside real_server (keepalived/check/check_api.c for the
// settings they share, check_tcp.c, check_http.c, check_smtp.c, check_dns.c, check_udp.c,
// check_ping.c, check_misc.c, check_file.c for their own), and the top-level track_file blocks
// FILE_CHECK names. A block is read into a draft; finish_checkers() gives every setting its
// effective value from the real server, the virtual server and the checker kind's defaults, as
// keepalived's validate_check_config() does.
#include <fmt/format.h>

#include <array>

#include "ctl/keywords.h"
#include "ctl/parser_impl.h"

namespace lvs::ctl {

namespace {

using namespace std::string_view_literals;

struct KindInfo {
  std::string_view word;
  CheckKind kind;
  uint32_t default_retry;                  // checker->default_retry
  uint64_t default_delay_before_retry_ms;  // 0: delay_loop (check_dns.c)
};
constexpr std::array kKinds = {
    KindInfo{"TCP_CHECK", CheckKind::kTcp, 1, 1000},
    KindInfo{"HTTP_GET", CheckKind::kHttp, 1, 3000},
    KindInfo{"SSL_GET", CheckKind::kSsl, 1, 3000},
    KindInfo{"SMTP_CHECK", CheckKind::kSmtp, 1, 1000},
    KindInfo{"DNS_CHECK", CheckKind::kDns, 3, 0},
    KindInfo{"UDP_CHECK", CheckKind::kUdp, 1, 1000},
    KindInfo{"PING_CHECK", CheckKind::kPing, 1, 1000},
    KindInfo{"MISC_CHECK", CheckKind::kMisc, 0, 1000},
    // keepalived watches the file (inotify) and never retries; lvsd reads it every delay_loop.
    KindInfo{"FILE_CHECK", CheckKind::kFile, 0, 1000},
};

const KindInfo* kind_of(std::string_view w) {
  for (const KindInfo& k : kKinds) {
    if (k.word == w) return &k;
  }
  return nullptr;
}

// What every checker takes (check_api.c install_checker_common_keywords()), and lvs's rise.
constexpr std::array kCommon = {
    "connect_ip"sv,       "connect_port"sv, "bindto"sv,
    "bind_port"sv,        "bind_if"sv,      "connect_timeout"sv,
    "fwmark"sv,           "retry"sv,        "delay_before_retry"sv,
    "warmup"sv,           "delay_loop"sv,   "alpha"sv,
    "log_all_failures"sv, "rise"sv,
};
constexpr std::array kHttp = {"nb_get_retry"sv,  "virtualhost"sv, "http_protocol"sv,
                              "enable_sni"sv,    "sni_name"sv,    "fast_recovery"sv,
                              "tls_compliant"sv, "url"sv};
constexpr std::array kUrl = {"path"sv,
                             "digest"sv,
                             "status_code"sv,
                             "virtualhost"sv,
                             "regex"sv,
                             "regex_no_match"sv,
                             "regex_options"sv,
                             "regex_min_offset"sv,
                             "regex_max_offset"sv,
                             "regex_stack"sv,
                             "tls_compliant"sv};
constexpr std::array kSmtp = {"helo_name"sv, "host"sv};
constexpr std::array kDns = {"type"sv, "name"sv};
constexpr std::array kUdp = {"payload"sv, "require_reply"sv, "min_reply_length"sv,
                             "max_reply_length"sv};
constexpr std::array kMisc = {"misc_path"sv, "misc_timeout"sv, "misc_dynamic"sv, "user"sv};
constexpr std::array kFile = {"track_file"sv, "weight"sv};
constexpr std::array kTrackFile = {"file"sv, "weight"sv, "init_file"sv};

// check_dns.c's DNS_TYPE names.
struct DnsType {
  std::string_view name;
  uint16_t type;
};
constexpr std::array kDnsTypes = {DnsType{"A", 1},    DnsType{"NS", 2},  DnsType{"CNAME", 5},
                                  DnsType{"SOA", 6},  DnsType{"MX", 15}, DnsType{"TXT", 16},
                                  DnsType{"AAAA", 28}};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// keepalived's read_hex_str(): hex digits in pairs, blanks between bytes, a lone digit before a
// blank is a byte of its own. Every argument of the statement is part of the string.
bool Parser::hex_bytes(const Stmt& s, std::vector<uint8_t>& out) {
  out.clear();
  for (const Token* a : s.args) {
    const std::string_view t = a->text;
    for (size_t i = 0; i < t.size();) {
      if (t[i] == ' ' || t[i] == '\t') {
        ++i;
        continue;
      }
      if (t[i] == 'x' || t[i] == 'X' || t[i] == '?') {
        error(a->loc,
              fmt::format("'{}': wildcards in {} are not supported by lvsd", a->text, s.word()));
        return false;
      }
      const int hi = hex_digit(t[i]);
      if (hi < 0) {
        error(a->loc,
              fmt::format("invalid hex string '{}' for {} (at '{}')", a->text, s.word(), t[i]));
        return false;
      }
      ++i;
      if (i < t.size() && t[i] != ' ' && t[i] != '\t') {
        const int lo = hex_digit(t[i]);
        if (lo < 0) {
          error(a->loc,
                fmt::format("invalid hex string '{}' for {} (at '{}')", a->text, s.word(), t[i]));
          return false;
        }
        out.push_back(uint8_t(hi << 4 | lo));
        ++i;
      } else {
        out.push_back(uint8_t(hi));
      }
    }
  }
  if (out.empty()) {
    error(s.kw->loc, fmt::format("'{}' needs a hex string", s.word()));
    return false;
  }
  return true;
}

bool Parser::checker_common(CheckerDraft& d, const Stmt& s) {
  const std::string_view w = s.word();
  if (!contains(kCommon, w)) return false;
  if (!no_block(s)) return true;
  CheckerConf& c = d.conf;
  if (w == "alpha") {
    // check_api.c alpha_handler(): an optional on/off.
    if (const auto b = flag(s, true)) d.alpha = *b;
    return true;
  }
  if (w == "log_all_failures") {
    if (const auto b = flag(s, true)) c.log_all_failures = *b;
    return true;
  }
  if (!args_between(s, 1, 1, w == "bind_if" ? "an interface" : "a value")) return true;
  const Token& v = *s.args[0];
  if (w == "connect_ip" || w == "bindto") {
    if (const auto a = address(v)) (w == "connect_ip" ? d.connect_ip : c.bindto) = *a;
  } else if (w == "connect_port" || w == "bind_port") {
    if (const auto n = number(v, w, 1, 65535)) {
      if (w == "connect_port") {
        c.connect_port = uint16_t(*n);
        d.connect_port = true;
      } else {
        c.bind_port = uint16_t(*n);
      }
    }
  } else if (w == "bind_if") {
    if (!valid_ifname(v.text)) {
      error(v.loc, fmt::format("invalid interface name '{}'", v.text));
    } else {
      c.bind_if = std::string(v.text);
    }
  } else if (w == "fwmark") {
    if (const auto n = number(v, "fwmark", 1, UINT32_MAX)) c.fwmark = uint32_t(*n);
  } else if (w == "retry") {
    if (const auto n = number(v, "retry", 0, UINT32_MAX)) d.retry = uint32_t(*n);
  } else if (w == "rise") {
    if (const auto n = number(v, "rise", 1, 1000)) c.rise = uint32_t(*n);
  } else if (w == "connect_timeout") {
    if (const auto ms = timer_ms(v, w, false)) d.connect_timeout_ms = *ms;
  } else if (w == "delay_before_retry") {
    if (const auto ms = timer_ms(v, w, true)) d.delay_before_retry_ms = *ms;
  } else if (w == "warmup") {
    if (const auto ms = timer_ms(v, w, true)) d.warmup_ms = *ms;
  } else if (w == "delay_loop") {
    if (const auto ms = timer_ms(v, w, false)) d.delay_loop_ms = *ms;
  }
  return true;
}

void Parser::http_url(CheckerDraft& d, const Stmt& s) {
  if (!need_block(s)) return;
  if (!args_between(s, 0, 0, "a block")) {
    if (s.open != nullptr) skip_block(*s.open);
    return;
  }
  HttpUrlConf u;
  u.loc = s.kw->loc;
  bool has_path = false;
  body(s.open != nullptr ? *s.open : *s.kw, "url", [&](const Stmt& st) {
    const std::string_view w = st.word();
    if (!contains(kUrl, w)) {
      const std::array<std::span<const std::string_view>, 1> known = {kUrl};
      unknown(st, "url", known);
      return;
    }
    if (!no_block(st)) return;
    if (w == "path") {
      if (!args_between(st, 1, 1, "a path")) return;
      u.path = std::string(st.args[0]->text);
      has_path = true;
    } else if (w == "digest") {
      if (!args_between(st, 1, 1, "an MD5 digest (32 hex digits)")) return;
      const std::string_view t = st.args[0]->text;
      if (u.digest) {
        error(st.kw->loc, "'digest' is given twice in this url");
        return;
      }
      std::array<uint8_t, 16> md5{};
      bool ok = t.size() == 32;
      for (size_t i = 0; ok && i < 16; ++i) {
        const int hi = hex_digit(t[2 * i]);
        const int lo = hex_digit(t[2 * i + 1]);
        ok = hi >= 0 && lo >= 0;
        md5[i] = uint8_t(hi << 4 | lo);
      }
      if (!ok) {
        error(st.args[0]->loc,
              fmt::format("invalid digest '{}' (expected an MD5 digest: 32 hex digits)", t));
        return;
      }
      u.digest = md5;
    } else if (w == "status_code") {
      if (!args_between(st, 1, 64, "status codes or ranges (200 or 200-299)")) return;
      for (const Token* a : st.args) {
        // check_http.c status_code_handler(): N or N-M within 100..599.
        const std::string_view t = a->text;
        const size_t dash = t.find('-');
        const auto num = [](std::string_view x) -> int {
          if (x.empty() || x.size() > 3) return -1;
          int v = 0;
          for (char c : x) {
            if (c < '0' || c > '9') return -1;
            v = v * 10 + (c - '0');
          }
          return v;
        };
        const int lo = num(t.substr(0, dash));
        const int hi = dash == std::string_view::npos ? lo : num(t.substr(dash + 1));
        if (lo < 100 || hi > 599 || hi < lo) {
          error(a->loc, fmt::format("invalid HTTP status code '{}' (expected 100..599, or a "
                                    "range such as 200-299)",
                                    t));
          continue;
        }
        u.status_codes.emplace_back(uint16_t(lo), uint16_t(hi));
      }
    } else if (w == "virtualhost") {
      if (args_between(st, 1, 1, "a host name")) u.virtualhost = std::string(st.args[0]->text);
    } else if (w == "tls_compliant") {
      if (const auto b = flag(st, true)) d.conf.tls_compliant = *b;
    } else {
      // regex*: keepalived matches the body with PCRE2; lvsd does not, and says so rather than
      // pass a check the operator meant to be stricter.
      error(st.kw->loc, fmt::format("'{}' (body regex matching) is not supported by lvsd", w));
    }
  });
  if (!has_path) {
    error(u.loc, "url needs a path");
    return;
  }
  d.conf.urls.push_back(std::move(u));
}

void Parser::checker_kind_stmt(CheckerDraft& d, const Stmt& s) {
  CheckerConf& c = d.conf;
  const std::string_view w = s.word();
  const auto one = [&](std::string_view need) {
    return no_block(s) && args_between(s, 1, 1, need);
  };
  switch (c.kind) {
    case CheckKind::kHttp:
    case CheckKind::kSsl:
      if (w == "url") {
        http_url(d, s);
      } else if (w == "nb_get_retry") {
        warn(s.kw->loc, "'nb_get_retry' is deprecated in keepalived; read as 'retry'");
        if (one("a count")) {
          if (const auto n = number(*s.args[0], "nb_get_retry", 0, UINT32_MAX)) {
            d.retry = uint32_t(*n);
          }
        }
      } else if (w == "virtualhost") {
        if (one("a host name")) c.virtualhost = std::string(s.args[0]->text);
      } else if (w == "http_protocol") {
        if (!one("1.0, 1.0C or 1.1")) return;
        const std::string_view v = s.args[0]->text;
        if (v == "1.0" || v == "1.1" || v == "1.0C" || v == "1.0c") {
          c.http_protocol = v == "1.0c" ? "1.0C" : std::string(v);
        } else {
          error(s.args[0]->loc,
                fmt::format("invalid http_protocol '{}' (expected 1.0, 1.0C or 1.1)", v));
        }
      } else if (w == "enable_sni" || w == "fast_recovery" || w == "tls_compliant") {
        if (!no_block(s)) return;
        if (const auto b = flag(s, true)) {
          (w == "enable_sni"      ? c.enable_sni
           : w == "fast_recovery" ? c.fast_recovery
                                  : c.tls_compliant) = *b;
        }
      } else if (w == "sni_name") {
        if (one("a host name")) c.sni_name = std::string(s.args[0]->text);
      }
      return;
    case CheckKind::kSmtp:
      if (w == "helo_name") {
        if (one("a name")) c.helo_name = std::string(s.args[0]->text);
      } else {
        // host { ... }: keepalived's deprecated per-host sub-checkers.
        error(s.kw->loc,
              "SMTP_CHECK 'host' blocks are not supported by lvsd; write one SMTP_CHECK per "
              "address (connect_ip, connect_port)");
        if (s.open != nullptr) skip_block(*s.open);
      }
      return;
    case CheckKind::kDns:
      if (w == "type") {
        if (!one("a query type")) return;
        const std::string_view v = s.args[0]->text;
        for (const DnsType& t : kDnsTypes) {
          if (iequals(t.name, v)) {
            c.dns_type = t.type;
            return;
          }
        }
        error(
            s.args[0]->loc,
            fmt::format("unknown DNS type '{}' (expected A, NS, CNAME, SOA, MX, TXT or AAAA)", v));
      } else if (w == "name") {
        if (!one("a name")) return;
        const std::string_view v = s.args[0]->text;
        if (v.find("..") != std::string_view::npos || (v.size() > 1 && v.front() == '.')) {
          error(s.args[0]->loc, fmt::format("DNS name '{}' has an empty label", v));
          return;
        }
        c.dns_name = std::string(v);
      }
      return;
    case CheckKind::kUdp:
      if (!no_block(s)) return;
      if (w == "payload") {
        hex_bytes(s, c.payload);
      } else if (w == "require_reply") {
        c.require_reply = true;
        if (!s.args.empty()) hex_bytes(s, c.reply_prefix);
      } else {
        if (!args_between(s, 1, 1, "a length")) return;
        if (const auto n = number(*s.args[0], w, 0, 65535)) {
          (w == "min_reply_length" ? c.min_reply_length : c.max_reply_length) = uint32_t(*n);
        }
      }
      return;
    case CheckKind::kMisc:
      if (w == "misc_path") {
        if (no_block(s)) script(s, c.misc_path);
      } else if (w == "misc_timeout") {
        if (one("seconds")) {
          if (const auto ms = timer_ms(*s.args[0], w, false)) c.misc_timeout_ms = *ms;
        }
      } else if (w == "misc_dynamic") {
        if (no_block(s)) {
          if (const auto b = flag(s, true)) c.misc_dynamic = *b;
        }
      } else if (w == "user") {
        if (no_block(s) && args_between(s, 1, 2, "a user and optionally a group")) {
          c.user = std::string(s.args[0]->text);
        }
      }
      return;
    case CheckKind::kFile:
      if (w == "track_file") {
        if (one("a track_file name")) {
          c.track_file = std::string(s.args[0]->text);
          d.track_file_tok = s.args[0];
        }
      } else if (no_block(s)) {  // weight N [reverse]
        d.file_weight = track_weight(s, c.file_weight, c.file_reverse);
      }
      return;
    case CheckKind::kTcp:
    case CheckKind::kPing:
      return;  // nothing of their own
  }
}

// weight N [reverse|noreverse] of track_file and FILE_CHECK (check_file.c
// track_file_weight_handler()): N within -IPVS_WEIGHT_LIMIT..IPVS_WEIGHT_LIMIT (253).
bool Parser::track_weight(const Stmt& s, int32_t& weight, bool& reverse) {
  if (!args_between(s, 1, 2, "a weight and optionally 'reverse'")) return false;
  if (s.args.size() == 2 && s.args[1]->text != "reverse" && s.args[1]->text != "noreverse") {
    error(s.args[1]->loc, fmt::format("unexpected '{}': weight takes a number and 'reverse' or "
                                      "'noreverse'",
                                      s.args[1]->text));
    return false;
  }
  const std::string_view t = s.args[0]->text;
  const std::string_view mag = !t.empty() && t[0] == '-' ? t.substr(1) : t;
  int32_t v = 0;
  bool ok = !mag.empty() && mag.size() <= 3;
  for (const char c : mag) {
    ok = ok && c >= '0' && c <= '9';
    v = v * 10 + (c - '0');
  }
  if (!ok || v > 253) {
    error(s.args[0]->loc, fmt::format("invalid weight '{}' (expected -253..253)", t));
    return false;
  }
  weight = mag.size() < t.size() ? -v : v;
  reverse = s.args.size() == 2 && s.args[1]->text == "reverse";
  return true;
}

// TCP_CHECK { ... } and the other checkers of a real_server.
void Parser::checker(RsDraft& rs, const Stmt& s) {
  const KindInfo* k = kind_of(s.word());
  if (k == nullptr) {  // BFD_CHECK
    warn(s.kw->loc, fmt::format("\"{}\" BFD checks are not yet supported; {} stays in service",
                                s.word(), endpoint(rs.conf.addr, rs.conf.port)));
    if (s.open != nullptr) skip_block(*s.open);
    return;
  }
  if (s.open == nullptr) {
    error(s.kw->loc, fmt::format("'{}' needs a block: {} {{ ... }}", s.word(), s.word()));
    return;
  }
  if (!args_between(s, 0, 0, "a block")) {
    skip_block(*s.open);
    return;
  }
  CheckerDraft& d = rs.checkers.emplace_back();
  d.conf.kind = k->kind;
  d.conf.keyword = std::string(s.word());
  d.conf.loc = s.kw->loc;
  d.default_retry = k->default_retry;
  d.default_delay_before_retry_ms = k->default_delay_before_retry_ms;
  if (k->kind == CheckKind::kDns) {
    // check_dns.c: DNS_DEFAULT_TYPE is SOA, the name the root.
    d.conf.dns_type = 6;
    d.conf.dns_name = ".";
  }
  const std::span<const std::string_view> own =
      k->kind == CheckKind::kHttp || k->kind == CheckKind::kSsl ? std::span(kHttp)
      : k->kind == CheckKind::kSmtp                             ? std::span(kSmtp)
      : k->kind == CheckKind::kDns                              ? std::span(kDns)
      : k->kind == CheckKind::kUdp                              ? std::span(kUdp)
      : k->kind == CheckKind::kMisc                             ? std::span(kMisc)
      : k->kind == CheckKind::kFile                             ? std::span(kFile)
                                    : std::span<const std::string_view>();
  const size_t errors_before = errors_;
  body(*s.open, s.word(), [&](const Stmt& st) {
    if (checker_common(d, st)) return;
    if (!contains(own, st.word())) {
      const std::array<std::span<const std::string_view>, 2> known = {kCommon, own};
      unknown(st, s.word(), known);
      return;
    }
    checker_kind_stmt(d, st);
  });
  if (errors_ != errors_before) return;
  if ((k->kind == CheckKind::kHttp || k->kind == CheckKind::kSsl) && d.conf.urls.empty()) {
    error(s.kw->loc, fmt::format("{} needs at least one url {{ path ... }}", s.word()));
  } else if (k->kind == CheckKind::kMisc && d.conf.misc_path.empty()) {
    error(s.kw->loc, "MISC_CHECK needs misc_path");
  } else if (k->kind == CheckKind::kFile) {
    // check_file.c track_file_handler(): the block must be known where the checker names it.
    if (d.track_file_tok == nullptr) {
      error(s.kw->loc, "FILE_CHECK needs track_file NAME");
      return;
    }
    const auto it = track_files_.find(d.conf.track_file);
    if (it == track_files_.end()) {
      error(d.track_file_tok->loc,
            fmt::format("track_file '{}' is not defined (it must come before the FILE_CHECK "
                        "that names it, as in keepalived)",
                        d.conf.track_file));
      return;
    }
    d.conf.file_path = it->second.path;
    if (!d.file_weight) {
      d.conf.file_weight = it->second.weight;
      d.conf.file_reverse = it->second.reverse;
    }
  }
}

// track_file NAME { file PATH; weight N [reverse]; init_file ... } (keepalived's
// trackers/track_file.c): the file FILE_CHECK blocks name.
void Parser::track_file(const Stmt& s) {
  const Token* name = group_name(s);
  if (name == nullptr) return;
  if (const auto it = track_files_.find(name->text); it != track_files_.end()) {
    duplicate_group(*name, "track_file", it->second.loc);
    return;
  }
  TrackFileConf t;
  t.loc = name->loc;
  body(s.open != nullptr ? *s.open : *s.kw, "track_file", [&](const Stmt& st) {
    const std::string_view w = st.word();
    if (!contains(kTrackFile, w)) {
      const std::array<std::span<const std::string_view>, 1> known = {kTrackFile};
      unknown(st, "track_file", known);
      return;
    }
    if (!no_block(st)) return;
    if (w == "file") {
      if (args_between(st, 1, 1, "a file path")) t.path = std::string(st.args[0]->text);
    } else if (w == "weight") {
      track_weight(st, t.weight, t.reverse);
    } else {
      // init_file: keepalived creates the file; lvsd reads a missing file as 0, as keepalived.
      warn(st.kw->loc, "'init_file' is ignored: lvsd does not create tracked files");
    }
  });
  if (t.path.empty()) {
    error(name->loc, fmt::format("track_file '{}' needs a file", name->text));
    return;
  }
  track_files_.emplace(std::string(name->text), std::move(t));
}

// The effective settings of a real server's checkers (check_data.c validate_check_config()):
// the checker's own, else the real server's (which took the service's), else the kind's.
void Parser::finish_checkers(VsDraft& vs, RsDraft& rs) {
  RealServerConf& r = rs.conf;
  r.checkers.clear();
  if (rs.checkers.empty()) return;
  r.checkers.reserve(rs.checkers.size());
  // The server's settings, each one else the service's.
  const VirtualServerConf& v = vs.conf;
  struct {
    bool alpha;
    std::optional<uint32_t> retry;
    uint32_t delay_loop;
    uint64_t connect_timeout_ms;
    std::optional<uint64_t> delay_before_retry_ms, warmup_ms;
    const std::string& virtualhost;
  } const srv{rs.alpha.value_or(v.alpha),
              rs.retry ? rs.retry : v.retry,
              rs.delay_loop.value_or(v.delay_loop),
              rs.connect_timeout_ms.value_or(v.connect_timeout_ms),
              rs.delay_before_retry_ms ? rs.delay_before_retry_ms : v.delay_before_retry_ms,
              rs.warmup_ms ? rs.warmup_ms : v.warmup_ms,
              !rs.virtualhost.empty() ? rs.virtualhost : v.virtualhost};
  for (CheckerDraft& d : rs.checkers) {
    CheckerConf c = std::move(d.conf);
    c.connect_ip = d.connect_ip.value_or(r.addr);
    if (!d.connect_port) c.connect_port = r.port;
    c.alpha = d.alpha.value_or(srv.alpha);
    c.retry = d.retry.value_or(srv.retry.value_or(d.default_retry));
    c.connect_timeout_ms = d.connect_timeout_ms.value_or(srv.connect_timeout_ms);
    c.delay_loop_ms = d.delay_loop_ms.value_or(uint64_t(srv.delay_loop) * 1000);
    c.warmup_ms = d.warmup_ms.value_or(srv.warmup_ms.value_or(c.delay_loop_ms));
    c.delay_before_retry_ms = d.delay_before_retry_ms.value_or(srv.delay_before_retry_ms.value_or(
        d.default_delay_before_retry_ms != 0 ? d.default_delay_before_retry_ms : c.delay_loop_ms));
    if (c.virtualhost.empty()) c.virtualhost = srv.virtualhost;
    if (c.bindto && c.bindto->family != c.connect_ip.family) {
      error(c.loc, fmt::format("{}: bindto {} and the address checked ({}) are of different "
                               "families",
                               c.keyword, c.bindto->to_string(), c.connect_ip.to_string()));
      continue;
    }
    const bool needs_port =
        c.kind != CheckKind::kPing && c.kind != CheckKind::kMisc && c.kind != CheckKind::kFile;
    if (needs_port && c.connect_port == 0) {
      error(c.loc, fmt::format("{} of {} needs connect_port: the real server has no port of its "
                               "own here",
                               c.keyword, r.addr.to_string()));
      continue;
    }
    r.checkers.push_back(std::move(c));
  }
}

}  // namespace lvs::ctl
