// What lvsd reads of keepalived but has not built yet (VRRP, health checkers, the other daemons'
// settings): each is a warning naming its place, its block skipped (still balanced); and the
// value readers the checker settings use.
#include <fmt/format.h>

#include <array>

#include "ctl/keywords.h"
#include "ctl/parser_impl.h"

namespace lvs::ctl {

namespace {

using namespace std::string_view_literals;

// The part of lvs a keyword waits for, when one name says it.
std::string_view reason_of(std::string_view w) {
  if (w.starts_with("vrrp") || w.starts_with("static_") || w == "garp_group" ||
      w.starts_with("garp") || w.find("_garp") != std::string_view::npos || w == "vmac_prefix" ||
      w == "vmac_addr_prefix" || w == "log_unknown_vrids" || w == "max_auto_priority" ||
      w == "min_auto_priority_delay" || w == "linkbeat_interfaces" || w == "linkbeat_use_polling" ||
      w == "v3_checksum_as_v2" || w == "disable_local_igmp") {
    return "VRRP";
  }
  if (w.starts_with("bfd")) return "BFD";
  if (w == "lvs_sync_daemon") return "connection sync";
  if (w == "SSL" || w.starts_with("checker_") || w == "track_file" || w == "track_group") {
    return "health checks";
  }
  if (w.find("snmp") != std::string_view::npos) return "SNMP";
  if (w.find("dbus") != std::string_view::npos) return "D-Bus";
  return {};
}

// Settings whose neglect would put lvsd's services somewhere else than keepalived's: refused.
constexpr std::array kMustRefuse = {"net_namespace"sv, "net_namespace_ipvs"sv};

constexpr uint64_t kMaxTimerSeconds = UINT32_MAX;

}  // namespace

void Parser::not_yet(const Stmt& s, std::string_view reason) {
  std::string msg = fmt::format("\"{}\" is not yet supported", s.word());
  if (!reason.empty()) msg += fmt::format(" ({})", reason);
  msg += s.open != nullptr ? "; block skipped" : "; ignored";
  warn(s.kw->loc, std::move(msg));
  if (s.open != nullptr) skip_block(*s.open);
}

void Parser::top_not_yet(const Stmt& s) {
  if (contains(kMustRefuse, s.word())) {
    refuse(s, s.word());
    return;
  }
  not_yet(s, reason_of(s.word()));
}

void Parser::global_not_yet(const Stmt& s) {
  // lvsd always starts with an empty table (its own engine): nothing to flush.
  if (s.word() == "lvs_flush") {
    if (no_block(s)) args_between(s, 0, 0, "no value");
    return;
  }
  not_yet(s, reason_of(s.word()));
}

std::optional<uint64_t> Parser::timer_ms(const Token& t, std::string_view what, bool zero_ok) {
  const std::string_view s = t.text;
  const size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? ""sv : s.substr(dot + 1);
  bool ok = !whole.empty() && whole.size() <= 10 && frac.size() <= 6 &&
            (dot == std::string_view::npos || !frac.empty()) &&
            whole.find_first_not_of("0123456789") == std::string_view::npos &&
            frac.find_first_not_of("0123456789") == std::string_view::npos;
  uint64_t us = 0;
  if (ok) {
    uint64_t sec = 0;
    for (char c : whole) sec = sec * 10 + uint64_t(c - '0');
    uint64_t f = 0;
    for (size_t i = 0; i < 6; ++i) f = f * 10 + (i < frac.size() ? uint64_t(frac[i] - '0') : 0);
    ok = sec <= kMaxTimerSeconds;
    us = sec * 1000000 + f;
    if (us == 0 && !zero_ok) ok = false;
  }
  if (!ok) {
    error(t.loc, fmt::format("invalid {} '{}' (expected seconds{}, up to 6 decimals)", what, t.text,
                             zero_ok ? "" : ", more than 0"));
    return std::nullopt;
  }
  return (us + 999) / 1000;
}

std::optional<bool> Parser::flag(const Stmt& s, bool or_bool) {
  if (!or_bool) {
    if (!args_between(s, 0, 0, "no value")) return std::nullopt;
    return true;
  }
  if (!args_between(s, 0, 1, "no value, or on or off")) return std::nullopt;
  if (s.args.empty()) return true;
  return boolean(*s.args[0], s.word());
}

void Parser::script(const Stmt& s, std::string& into) {
  if (s.args.empty()) {
    error(s.kw->loc, fmt::format("'{}' needs a script", s.word()));
    return;
  }
  if (!into.empty()) {
    error(s.kw->loc, fmt::format("'{}' is given twice", s.word()));
    return;
  }
  for (const Token* a : s.args) {
    if (!into.empty()) into += ' ';
    into += a->text;
  }
}

}  // namespace lvs::ctl
