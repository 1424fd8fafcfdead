// virtual_server_group NAME { ... } and `virtual_server group NAME { ... }`: keepalived's
// check_parser.c vsg_handler(), check_data.c alloc_vsg_entry(). A group service is one service
// per address of the group (per port given there) and per fwmark, all with the settings and real
// servers of the virtual_server block, as keepalived's ipvs_group_cmd() sets them up.
#include <fmt/format.h>

#include <array>
#include <map>
#include <set>
#include <tuple>

#include "ctl/keywords.h"
#include "ctl/parser_impl.h"

namespace lvs::ctl {

namespace {

// One group gives at most this many services (lvsd's limit; the engine holds 10,000 services
// comfortably, and a typo in a range should not make millions).
constexpr size_t kMaxGroupServices = 65536;

}  // namespace

void Parser::virtual_server_group(const Stmt& s) {
  const Token* name_tok = group_name(s);
  if (name_tok == nullptr) return;
  const Token& name = *name_tok;
  const size_t errors_before = errors_;
  const bool duplicate = vs_groups_.contains(name.text);
  if (duplicate)
    duplicate_group(name, "virtual_server_group",
                    cfg_.virtual_server_groups[vs_groups_.find(name.text)->second.first].loc);
  VirtualServerGroupConf g;
  g.name = name.text;
  g.loc = s.kw->loc;
  size_t count = 0;
  body(s.open != nullptr ? *s.open : *s.kw, "virtual_server_group",
       [&](const Stmt& st) { group_line(g, st, count); });
  if (duplicate) return;
  // keepalived: "virtual server group %s has no entries - removing".
  if (g.entries.empty() && errors_ == errors_before) {
    error(s.kw->loc, fmt::format("virtual_server_group '{}' has no entries", g.name));
  }
  vs_groups_.emplace(g.name,
                     std::pair(cfg_.virtual_server_groups.size(), errors_ == errors_before));
  cfg_.virtual_server_groups.push_back(std::move(g));
}

// ADDRESS[-END] [PORT] or fwmark MARK [inet|inet6].
void Parser::group_line(VirtualServerGroupConf& g, const Stmt& s, size_t& count) {
  if (!no_block(s)) return;
  GroupEntryConf e;
  e.loc = s.kw->loc;
  std::string what;  // the entry as messages name it
  if (s.word() == "fwmark") {
    if (!args_between(s, 1, 2, "a mark and optionally inet or inet6")) return;
    const auto mark = number(*s.args[0], "fwmark", 1, UINT32_MAX);
    if (!mark) return;
    e.fwmark = true;
    e.mark = uint32_t(*mark);
    if (s.args.size() > 1) {
      const Token& f = *s.args[1];
      if (f.text == "inet") {
        e.mark_family = net::Family::kV4;
      } else if (f.text == "inet6") {
        e.mark_family = net::Family::kV6;
      } else {
        error(f.loc, fmt::format("unknown fwmark family '{}' (expected inet or inet6)", f.text));
        return;
      }
    }
    what = fmt::format("fwmark {}{}", e.mark,
                       s.args.size() > 1 ? " " + std::string(s.args[1]->text) : "");
  } else {
    if (!args_between(s, 0, 1, "an address or range and a port")) return;
    const std::string_view text = s.word();
    const size_t dash = text.find('-');
    if (text.find('/') != std::string::npos ||
        (dash != std::string::npos && text.find_first_of(".:", dash + 1) != std::string::npos)) {
      error(s.kw->loc, fmt::format("address range '{}' is not supported by lvsd yet (write "
                                   "A.B.C.D-E, or IPv6 with the last group's end, as "
                                   "2001:2::10-1f)",
                                   text));
      return;
    }
    std::string why;
    const auto range = addr_range(text, why);
    if (!range) {
      error(s.kw->loc, std::move(why));
      return;
    }
    const auto p = port(s.args.empty() ? nullptr : s.args[0]);
    if (!p) return;
    e.first = range->first;
    e.count = range->count;
    e.port = *p;
  }
  const size_t n = e.fwmark ? 1 : e.count;
  if (count + n > kMaxGroupServices) {
    error(s.kw->loc, fmt::format("virtual_server_group '{}' would give more than {} services "
                                 "(lvsd's limit)",
                                 g.name, kMaxGroupServices));
    return;
  }
  // The same address and port, or the same mark and family, twice: keepalived would set up the
  // service twice; lvsd says where.
  for (const GroupEntryConf& o : g.entries) {
    if (o.fwmark != e.fwmark) continue;
    if (e.fwmark) {
      if (o.mark == e.mark && o.mark_family == e.mark_family) {
        error(e.loc, fmt::format("{} is listed twice in virtual_server_group '{}' (first at {})",
                                 what, g.name, where(o.loc)));
        return;
      }
      continue;
    }
    if (o.port != e.port || o.first.family != e.first.family) continue;
    for (uint32_t i = 0; i < e.count; ++i) {
      const net::IpAddr a = nth_addr(e.first, i);
      bool hit = false;
      for (uint32_t j = 0; j < o.count && !hit; ++j) hit = nth_addr(o.first, j) == a;
      if (hit) {
        error(e.loc, fmt::format("{} is listed twice in virtual_server_group '{}' (first at {})",
                                 endpoint(a, e.port), g.name, where(o.loc)));
        return;
      }
    }
  }
  count += n;
  g.entries.push_back(e);
}

void Parser::expand_group(const VsDraft& vs) {
  const auto [index, group_ok] = vs_groups_.find(vs.group_name->text)->second;
  if (!group_ok) return;  // its errors are reported already
  const VirtualServerGroupConf& g = cfg_.virtual_server_groups[index];
  if (vs.rs.empty()) {
    if (!vs.block_broken) {
      warn(vs.conf.loc, fmt::format("virtual_server group '{}' has no real_server; ignored, as "
                                    "keepalived does",
                                    g.name));
    }
    return;
  }
  bool has_addrs = false;
  for (const GroupEntryConf& e : g.entries) has_addrs |= !e.fwmark;
  const size_t diags_before = diags_.size();
  for (const GroupEntryConf& e : g.entries) {
    // keepalived makes a group with a port-0 entry persistent; lvsd asks for it, as for a
    // virtual_server without a port.
    if (!e.fwmark && e.port == 0 && !vs.persistence_asked) {
      error(e.loc, fmt::format("port 0 (all ports) is only valid for persistent services; add "
                               "persistence_timeout to virtual_server group '{}' ({})",
                               g.name, where(vs.conf.loc)));
      continue;
    }
    for (uint32_t i = 0; i < (e.fwmark ? 1 : e.count) && !gave_up(); ++i) {
      VsDraft c = vs;
      c.conf.group = g.name;
      c.conf.key = core::ServiceKey{};
      c.addr_tok = nullptr;
      c.port_tok = nullptr;
      if (e.fwmark) {
        c.fwmark = true;
        c.conf.key.fwmark = e.mark;
        if (e.mark_family != net::Family::kNone) c.family = e.mark_family;
        // The protocol is the address entries'; only a group of marks alone draws the warning
        // (validate_check_config()).
        if (has_addrs) c.proto_tok = nullptr;
        if (c.granularity_tok != nullptr) c.persistence_prefix.reset();
      } else {
        c.fwmark = false;
        c.conf.key.addr = nth_addr(e.first, i);
        c.conf.key.port = e.port;
        // An address entry knows its family now (persistence() waited for it).
        if (c.granularity_tok != nullptr) {
          c.persistence_prefix = granularity(*c.granularity_tok, c.conf.key.addr.family);
        }
      }
      expanding_ = &e;
      finish_vs(c);
      expanding_ = nullptr;
    }
  }
  // Each service checks the same block: say each finding once.
  std::set<std::string> seen;
  std::vector<Diagnostic> kept(diags_.begin(), diags_.begin() + ptrdiff_t(diags_before));
  for (size_t i = diags_before; i < diags_.size(); ++i) {
    if (seen.insert(diags_[i].to_string()).second) kept.push_back(std::move(diags_[i]));
  }
  diags_ = std::move(kept);
}

// keepalived reads the whole file before it resolves names, so a group may follow its users.
void Parser::finish_groups() {
  std::vector<std::string_view> names;
  for (const auto& g : cfg_.virtual_server_groups) names.push_back(g.name);
  const std::array<std::span<const std::string_view>, 1> known = {names};
  for (const VsDraft& vs : pending_groups_) {
    if (gave_up()) return;
    if (vs_groups_.contains(vs.group_name->text)) {
      expand_group(vs);
      continue;
    }
    std::string msg = fmt::format("unknown virtual_server_group '{}'", vs.group_name->text);
    const std::string_view hint = closest_keyword(vs.group_name->text, known);
    if (!hint.empty()) msg += fmt::format("; did you mean '{}'?", hint);
    error(vs.group_name->loc, std::move(msg));
  }
}

}  // namespace lvs::ctl
