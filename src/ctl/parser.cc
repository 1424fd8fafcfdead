#include "ctl/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "ctl/keywords.h"
#include "ctl/parser_impl.h"

namespace lvs::ctl {

namespace {

using namespace std::string_view_literals;

// A file with more errors than this is not worth reading on: the rest is likely noise.
constexpr size_t kMaxErrors = 100;

// keepalived's mail settings: lvsd sends no mail, but a keepalived.conf carries them.
constexpr std::array kMailKeywords = {
    "notification_email"sv, "notification_email_from"sv, "smtp_server"sv,
    "smtp_helo_name"sv,     "smtp_connect_timeout"sv,    "smtp_alert"sv,
    "smtp_alert_vrrp"sv,    "smtp_alert_checker"sv,      "no_email_faults"sv,
};

constexpr std::array kTopKeywords = {"global_defs"sv, "director"sv, "virtual_server"sv,
                                     "virtual_server_group"sv, "local_address_group"sv};
constexpr std::array kGlobalKeywords = {"router_id"sv, "lvs_timeouts"sv};
constexpr std::array kDirectorKeywords = {"interface"sv,          "io"sv,
                                          "xdp_mode"sv,           "workers"sv,
                                          "conn_capacity"sv,      "expire_nodest_conn"sv,
                                          "worker_rt_priority"sv, "ftp_ports"sv};

constexpr uint64_t kMaxWorkers = 4096;
constexpr size_t kMaxFtpPorts = 8;
constexpr uint64_t kMinConnCapacity = 16;  // the engine's table never goes below this
constexpr uint64_t kMaxConnCapacity = 1ull << 31;

}  // namespace

bool valid_ifname(std::string_view n) {
  if (n.empty() || n.size() > 15 || n == "." || n == "..") return false;
  return std::none_of(n.begin(), n.end(), [](char c) {
    return c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
  });
}

Config parse_tokens(const std::vector<Token>& tokens, std::vector<Diagnostic>& diags,
                    ParseHints hints) {
  return Parser(tokens, diags, hints).run();
}

// ---------------------------------------------------------------------------------------------
// Framework.

const Token& Parser::next() {
  const Token& t = toks_[pos_];
  if (!t.is_eof()) ++pos_;
  return t;
}

Stmt Parser::read_stmt() {
  Stmt s;
  s.kw = &next();
  const Token* first = &peek();
  size_t n = 0;
  while (peek().is_word() && !peek().stmt_start) {
    next();
    ++n;
  }
  s.args = ArgList(first, n);
  // keepalived also takes a '{' on a following line.
  if (peek().is_open()) s.open = &next();
  return s;
}

void Parser::skip_block(const Token& opener) {
  int depth = 1;
  while (depth > 0) {
    const Token& t = next();
    if (t.is_eof()) {
      error(t.loc, fmt::format("unexpected end of file: block opened at {} is not closed",
                               where(opener.loc)));
      return;
    }
    if (t.is_open()) ++depth;
    if (t.is_close()) --depth;
  }
}

bool Parser::need_block(const Stmt& s) {
  if (s.open != nullptr) return true;
  const Token& t = peek();
  if (t.is_eof()) {
    error(t.loc, fmt::format("unexpected end of file: expected '{{' after '{}'", s.word()));
    return false;
  }
  // As keepalived does, go on as if the block had been opened.
  error(t.loc, fmt::format("expected '{{' after '{}', found '{}'", s.word(), t.text));
  return true;
}

bool Parser::no_block(const Stmt& s) {
  if (s.open == nullptr) return true;
  error(s.open->loc, fmt::format("'{}' does not take a block", s.word()));
  skip_block(*s.open);
  return false;
}

bool Parser::args_between(const Stmt& s, size_t min, size_t max, std::string_view need) {
  if (s.args.size() < min) {
    error(s.kw->loc, fmt::format("'{}' needs {}", s.word(), need));
    return false;
  }
  if (s.args.size() > max) {
    error(s.args[max]->loc,
          fmt::format("unexpected '{}': '{}' takes {}", s.args[max]->text, s.word(), need));
    return false;
  }
  return true;
}

const Token* Parser::group_name(const Stmt& s) {
  if (!args_between(s, 1, 1, "a name")) {
    if (s.open != nullptr) skip_block(*s.open);
    return nullptr;
  }
  if (!need_block(s)) return nullptr;
  return s.args[0];
}

void Parser::duplicate_group(const Token& name, std::string_view kind, const SourceLoc& first) {
  error(name.loc, fmt::format("duplicate {} '{}' (first at {})", kind, name.text, where(first)));
}

void Parser::refuse(const Stmt& s, std::string_view what) {
  error(s.kw->loc, fmt::format("\"{}\" is not supported by lvsd yet", what));
  if (s.open != nullptr) skip_block(*s.open);
}

void Parser::unused(const Stmt& s) {
  warn(s.kw->loc, fmt::format("\"{}\" is not used by lvsd; ignored", s.word()));
  if (s.open != nullptr) skip_block(*s.open);
}

void Parser::unknown(const Stmt& s, std::string_view block,
                     std::span<const std::span<const std::string_view>> known) {
  const std::string_view w = s.word();
  // keepalived's parameter substitution and conditional configuration.
  if (!s.kw->quoted && !w.empty() && (w[0] == '$' || w[0] == '@' || w[0] == '~')) {
    const char* what = w[0] == '$'   ? "$NAME=value definitions"
                       : w[0] == '@' ? "@ID conditional lines"
                                     : "~SEQ and ~LST lines";
    error(s.kw->loc, fmt::format("{} are not supported by lvsd yet", what));
  } else {
    std::string msg = block.empty() ? fmt::format("unknown keyword '{}' at top level", w)
                                    : fmt::format("unknown keyword '{}' in {}", w, block);
    const std::string_view hint = closest_keyword(w, known);
    if (!hint.empty()) msg += fmt::format("; did you mean '{}'?", hint);
    error(s.kw->loc, std::move(msg));
  }
  if (s.open != nullptr) skip_block(*s.open);
}

void Parser::error(const SourceLoc& loc, std::string msg) {
  if (gave_up_) return;
  if (++errors_ > kMaxErrors) {
    diags_.push_back(Diagnostic{loc, "too many errors; stopping here"});
    gave_up_ = true;
    return;
  }
  diags_.push_back(Diagnostic{loc, std::move(msg)});
}

void Parser::warn(const SourceLoc& loc, std::string msg) {
  if (gave_up_) return;
  diags_.push_back(Diagnostic{loc, std::move(msg), true});
}

// ---------------------------------------------------------------------------------------------
// Values.

std::optional<uint64_t> Parser::number(const Token& t, std::string_view what, uint64_t min,
                                       uint64_t max) {
  const std::string_view s = t.text;
  uint64_t v = 0;
  bool ok = !s.empty() && s.size() <= 20;
  for (char c : s) {
    if (!ok) break;
    if (c < '0' || c > '9' || v > (UINT64_MAX - uint64_t(c - '0')) / 10) {
      ok = false;
    } else {
      v = v * 10 + uint64_t(c - '0');
    }
  }
  if (!ok || v < min || v > max) {
    error(t.loc, fmt::format("invalid {} '{}' (expected {}..{})", what, s, min, max));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> Parser::boolean(const Token& t, std::string_view what) {
  // keepalived's check_true_false().
  const std::string_view s = t.text;
  if (s == "on" || s == "true" || s == "yes") return true;
  if (s == "off" || s == "false" || s == "no") return false;
  error(t.loc, fmt::format("invalid {} '{}' (expected on or off)", what, s));
  return std::nullopt;
}

std::optional<net::IpAddr> Parser::address(const Token& t) {
  auto a = net::IpAddr::parse(t.text);
  if (!a) error(t.loc, fmt::format("invalid IP address '{}'", t.text));
  return a;
}

std::optional<uint16_t> Parser::port(const Token* t) {
  if (t == nullptr) return uint16_t{0};
  // keepalived reads "0", "00", ... as no port (inet_stosockaddr rejects 0).
  if (!t->text.empty() && t->text.find_first_not_of('0') == std::string::npos) return uint16_t{0};
  const auto v = number(*t, "port", 1, 65535);
  if (!v) return std::nullopt;
  return uint16_t(*v);
}

// ---------------------------------------------------------------------------------------------
// Top level, global_defs, director.

Config Parser::run() {
  // Room for every service at once: a reallocation moves every VirtualServerConf so far.
  cfg_.services.reserve(hints_.services);
  while (!gave_up()) {
    const Token& t = peek();
    if (t.is_eof()) break;
    if (t.is_block()) {
      copied_block(next());
      continue;
    }
    if (t.is_close() || t.is_open()) {
      next();
      error(t.loc, fmt::format("unexpected '{}'", t.text));
      if (t.is_open()) skip_block(t);
      continue;
    }
    top_stmt(read_stmt());
  }
  finish_groups();
  finish_laddrs();
  return std::move(cfg_);
}

void Parser::top_stmt(const Stmt& s) {
  const std::string_view w = s.word();
  if (w == "global_defs" || w == "director") {
    // Repeated blocks add up, as keepalived merges repeated global_defs.
    if (!args_between(s, 0, 0, "no arguments")) {
      if (s.open != nullptr) skip_block(*s.open);
      return;
    }
    if (!need_block(s)) return;
    const Token& opener = s.open != nullptr ? *s.open : *s.kw;
    if (w == "global_defs") {
      body(opener, w, [this](const Stmt& st) { global_stmt(st); });
    } else {
      body(opener, w, [this](const Stmt& st) { director_stmt(st); });
    }
  } else if (w == "virtual_server") {
    virtual_server(s);
  } else if (w == "local_address_group") {
    local_address_group(s);
  } else if (w == "track_file") {
    track_file(s);
  } else if (w == "virtual_server_group") {
    virtual_server_group(s);
  } else if (contains(keepalived_top_keywords(), w)) {
    top_not_yet(s);
  } else {
    const std::array<std::span<const std::string_view>, 2> known = {kTopKeywords,
                                                                    keepalived_top_keywords()};
    unknown(s, "", known);
  }
}

void Parser::global_stmt(const Stmt& s) {
  const std::string_view w = s.word();
  if (w == "router_id") {
    if (no_block(s) && args_between(s, 1, 1, "a name")) cfg_.router_id = s.args[0]->text;
  } else if (w == "lvs_timeouts") {
    if (no_block(s)) lvs_timeouts(s);
  } else if (contains(kMailKeywords, w)) {
    unused(s);
  } else if (contains(keepalived_global_keywords(), w)) {
    global_not_yet(s);
  } else {
    const std::array<std::span<const std::string_view>, 3> known = {kGlobalKeywords, kMailKeywords,
                                                                    keepalived_global_keywords()};
    unknown(s, "global_defs", known);
  }
}

// lvs_timeouts [tcp N] [tcpfin N] [udp N]: ipvsadm --set. 0 leaves a timeout as it is.
void Parser::lvs_timeouts(const Stmt& s) {
  if (s.args.empty()) {
    error(s.kw->loc, "'lvs_timeouts' needs at least one of tcp, tcpfin, udp with seconds");
    return;
  }
  for (size_t i = 0; i < s.args.size(); i += 2) {
    const Token& opt = *s.args[i];
    if (opt.text != "tcp" && opt.text != "tcpfin" && opt.text != "udp") {
      error(opt.loc, fmt::format("unknown lvs_timeouts option '{}' (expected tcp, tcpfin or udp)",
                                 opt.text));
      return;
    }
    if (i + 1 == s.args.size()) {
      error(opt.loc, fmt::format("missing seconds after lvs_timeouts {}", opt.text));
      return;
    }
    const auto v =
        number(*s.args[i + 1], fmt::format("lvs_timeouts {}", opt.text), 0, kMaxLvsTimeout);
    if (!v || *v == 0) continue;
    if (opt.text == "tcp") {
      cfg_.timeouts.tcp[core::kTcpEstablished] = uint32_t(*v);
    } else if (opt.text == "tcpfin") {
      cfg_.timeouts.tcp[core::kTcpFinWait] = uint32_t(*v);
    } else {
      cfg_.timeouts.udp = uint32_t(*v);
    }
  }
}

// ftp_ports 21 [2121 ...] | none: ip_vs_ftp's `ports` (at most 8, IP_VS_APP_MAX_PORTS).
void Parser::ftp_ports_stmt(const Stmt& s) {
  if (!(no_block(s) && args_between(s, 1, kMaxFtpPorts, "1 to 8 ports or 'none'"))) return;
  std::vector<uint16_t> ports;
  if (s.args.size() == 1 && s.args[0]->text == "none") {
    cfg_.director.ftp_ports.clear();
    return;
  }
  for (const Token* t : s.args) {
    const auto n = number(*t, "ftp_ports", 2, 65535);  // the data port is the one below
    if (!n) return;
    if (std::find(ports.begin(), ports.end(), uint16_t(*n)) != ports.end()) {
      error(t->loc, fmt::format("ftp_ports: port {} is listed twice", *n));
      return;
    }
    ports.push_back(uint16_t(*n));
  }
  cfg_.director.ftp_ports = std::move(ports);
}

void Parser::director_stmt(const Stmt& s) {
  const std::string_view w = s.word();
  DirectorConf& d = cfg_.director;
  if (w == "ftp_ports") {
    ftp_ports_stmt(s);
    return;
  }
  const bool known = contains(kDirectorKeywords, w);
  if (known && !(no_block(s) && args_between(s, 1, 1, "a value"))) return;
  const Token* v = known ? s.args[0] : nullptr;
  if (w == "interface") {
    if (!valid_ifname(v->text)) {
      error(v->loc, fmt::format("invalid interface name '{}'", v->text));
    } else if (std::find(d.interfaces.begin(), d.interfaces.end(), v->text) != d.interfaces.end()) {
      error(v->loc, fmt::format("interface '{}' is listed twice", v->text));
    } else {
      d.interfaces.emplace_back(v->text);
    }
  } else if (w == "io") {
    if (v->text == "af_xdp") {
      d.io = IoBackend::kAfXdp;
    } else if (v->text == "af_packet") {
      d.io = IoBackend::kAfPacket;
    } else {
      error(v->loc, fmt::format("invalid io '{}' (expected af_xdp or af_packet)", v->text));
    }
  } else if (w == "xdp_mode") {
    if (v->text == "auto") {
      d.xdp_mode = XdpMode::kAuto;
    } else if (v->text == "native") {
      d.xdp_mode = XdpMode::kNative;
    } else if (v->text == "skb") {
      d.xdp_mode = XdpMode::kSkb;
    } else {
      error(v->loc, fmt::format("invalid xdp_mode '{}' (expected auto, native or skb)", v->text));
    }
  } else if (w == "workers") {
    if (v->text == "auto") {
      d.workers = 0;
    } else if (v->text.find_first_not_of("0123456789") != std::string::npos || v->text.empty()) {
      error(v->loc,
            fmt::format("invalid workers '{}' (expected auto or 1..{})", v->text, kMaxWorkers));
    } else if (const auto n = number(*v, "workers", 1, kMaxWorkers)) {
      d.workers = uint32_t(*n);
    }
  } else if (w == "conn_capacity") {
    if (const auto n = number(*v, "conn_capacity", kMinConnCapacity, kMaxConnCapacity)) {
      d.conn_capacity = uint32_t(*n);
    }
  } else if (w == "expire_nodest_conn") {
    if (const auto b = boolean(*v, "expire_nodest_conn")) d.expire_nodest_conn = *b;
  } else if (w == "worker_rt_priority") {
    // keepalived's *_rt_priority: 0 is normal scheduling, 1..99 SCHED_FIFO.
    if (const auto n = number(*v, "worker_rt_priority", 0, 99)) d.worker_rt_priority = int(*n);
  } else {
    const std::array<std::span<const std::string_view>, 1> all = {kDirectorKeywords};
    unknown(s, "director", all);
  }
}

}  // namespace lvs::ctl
