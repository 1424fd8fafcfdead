// Internal to the parser: its state and helpers, shared by parser.cc (framework, global_defs,
// director) and parser_vs.cc (virtual_server, real_server).
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/config.h"
#include "ctl/format.h"
#include "ctl/lexer.h"
#include "ctl/parser.h"
#include "ctl/service_id.h"

namespace lvs::ctl {

// 31 days: keepalived's LVS_MAX_TIMEOUT, for lvs_timeouts and persistence_timeout.
inline constexpr uint64_t kMaxLvsTimeout = 86400 * 31;

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lo = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lo(a[i]) != lo(b[i])) return false;
  }
  return true;
}

inline const char* family_name(net::Family f) { return f == net::Family::kV6 ? "IPv6" : "IPv4"; }

// The words after a keyword: consecutive tokens, handed out as pointers (no list is built for
// each of a large file's million statements).
class ArgList {
 public:
  class iterator {
   public:
    using value_type = const Token*;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(const Token* p) : p_(p) {}
    const Token* operator*() const { return p_; }
    iterator& operator++() {
      ++p_;
      return *this;
    }
    iterator operator++(int) { return iterator(p_++); }
    friend bool operator==(iterator a, iterator b) { return a.p_ == b.p_; }

   private:
    const Token* p_ = nullptr;
  };
  ArgList() = default;
  ArgList(const Token* first, size_t n) : first_(first), n_(n) {}
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  const Token* operator[](size_t i) const { return first_ + i; }
  const Token* back() const { return first_ + n_ - 1; }
  iterator begin() const { return iterator(first_); }
  iterator end() const { return iterator(first_ + n_); }

 private:
  const Token* first_ = nullptr;
  size_t n_ = 0;
};

// A keyword, the words after it on its line, and the block that follows it, if any.
struct Stmt {
  const Token* kw = nullptr;
  ArgList args;
  const Token* open = nullptr;  // the '{' (already consumed), nullptr without a block

  std::string_view word() const { return kw->text; }
};

// An lb_kind or lvs_method statement: the method and, for TUN, its options.
struct Method {
  core::Fwd fwd = core::Fwd::kNat;
  core::TunType tun_type = core::TunType::kIpip;
  uint16_t tun_port = 0;
  uint16_t tun_flags = 0;
  const Token* kw = nullptr;    // lb_kind or lvs_method
  const Token* word = nullptr;  // NAT, DR, TUN, FNAT as written
};

// A health checker block as written; unset settings come from its real server at the end.
struct CheckerDraft {
  CheckerConf conf;
  std::optional<net::IpAddr> connect_ip;
  bool connect_port = false;
  bool file_weight = false;  // FILE_CHECK set its own weight
  std::optional<bool> alpha;
  std::optional<uint32_t> retry;
  std::optional<uint64_t> connect_timeout_ms, delay_loop_ms, delay_before_retry_ms, warmup_ms;
  uint32_t default_retry = 1;
  uint64_t default_delay_before_retry_ms = 1000;  // 0: delay_loop
  const Token* track_file_tok = nullptr;
};

// A track_file block: the file FILE_CHECKs read, and their default weight.
struct TrackFileConf {
  std::string path;
  int32_t weight = 1;
  bool reverse = false;
  SourceLoc loc;
};

// A real_server (or the sorry_server) as written, before defaults and checks.
struct RsDraft {
  RealServerConf conf;
  bool ok = true;
  std::string_view role = "real_server";  // or "sorry_server", in messages
  const Token* port_tok = nullptr;        // nullptr when the port is omitted (or 0)
  std::optional<int32_t> weight;
  std::optional<Method> method;
  const Token* lthreshold_tok = nullptr;  // the value, checked against uthreshold at the end
  // Settings that default to the service's; all but inhibit go to the checkers only.
  std::optional<bool> inhibit, alpha;
  std::optional<uint32_t> delay_loop;
  std::optional<uint64_t> connect_timeout_ms;
  std::optional<uint32_t> retry;
  std::optional<uint64_t> delay_before_retry_ms, warmup_ms;
  std::string virtualhost;
  std::string snmp_name;  // read and checked; lvsd has no SNMP
  std::vector<CheckerDraft> checkers;
};
// A scheduler flag keyword; sh-* and mh-* name the one scheduler they apply to.
struct SchedFlagUse {
  const Token* kw = nullptr;
  uint32_t bit = 0;
  std::string_view only_for;  // "sh", "mh", or empty (flag-1..3: any scheduler)
};
struct VsDraft {
  VirtualServerConf conf;
  bool ok = true;
  bool fwmark = false;
  const Token* addr_tok = nullptr;
  const Token* port_tok = nullptr;   // the header's port, nullptr when omitted
  const Token* sched_tok = nullptr;  // the last lb_algo value, even if refused
  std::vector<SchedFlagUse> flags;
  bool persistence_asked = false;  // persistence_timeout or _granularity, even if invalid
  std::optional<uint32_t> persistence_timeout;
  const Token* granularity_tok = nullptr;
  std::optional<uint8_t> persistence_prefix;
  std::optional<uint8_t> proto;
  const Token* proto_tok = nullptr;
  std::optional<net::Family> family;  // ip_family
  const Token* family_tok = nullptr;
  std::optional<Method> method;
  const Token* ops_tok = nullptr;
  const Token* laddr_kw = nullptr;    // laddr_group_name
  const Token* laddr_name = nullptr;  // its value
  const Token* proxy_kw = nullptr;    // proxy_protocol v2 (nullptr for disable)
  int32_t default_weight = 1;
  std::vector<RsDraft> rs;
  std::optional<RsDraft> sorry;             // sorry_server
  std::optional<Method> sorry_method;       // sorry_server_lvs_method
  const Token* sorry_inhibit_kw = nullptr;  // sorry_server_inhibit
  const Token* quorum_tok = nullptr;        // the values, for keepalived's adjustments
  const Token* hysteresis_tok = nullptr;
  const Token* ha_suspend_kw = nullptr;
  const Token* group_name = nullptr;  // virtual_server group NAME
  bool block_broken = false;          // its block had an error (group services: set when read)
  size_t errors_before = 0;           // the parser's error count when the block began
};

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, std::vector<Diagnostic>& diags, ParseHints hints = {})
      : toks_(tokens), diags_(diags), hints_(hints) {}
  Config run();

 private:
  // --- framework (parser.cc) ---
  const Token& peek() const { return toks_[pos_]; }
  const Token& next();
  Stmt read_stmt();
  // Calls on_stmt for each statement of a block until its '}'; `opener` is where it opened.
  template <typename F>
  void body(const Token& opener, std::string_view block, F&& on_stmt);
  void skip_block(const Token& opener);
  bool need_block(const Stmt& s);
  bool no_block(const Stmt& s);
  bool args_between(const Stmt& s, size_t min, size_t max, std::string_view need);
  // NAME { ... } opening a named group: the name, or nullptr when the statement is broken
  // (reported, block skipped).
  const Token* group_name(const Stmt& s);
  void duplicate_group(const Token& name, std::string_view kind, const SourceLoc& first);
  void refuse(const Stmt& s, std::string_view what);
  // keepalived features lvsd has not built yet: a warning naming the place, the block skipped.
  void not_yet(const Stmt& s, std::string_view reason);
  void top_not_yet(const Stmt& s);
  void global_not_yet(const Stmt& s);
  // --- health checkers (parser_health.cc) ---
  void checker(RsDraft& rs, const Stmt& s);
  bool checker_common(CheckerDraft& d, const Stmt& s);
  void checker_kind_stmt(CheckerDraft& d, const Stmt& s);
  void http_url(CheckerDraft& d, const Stmt& s);
  bool hex_bytes(const Stmt& s, std::vector<uint8_t>& out);
  bool track_weight(const Stmt& s, int32_t& weight, bool& reverse);
  void track_file(const Stmt& s);
  void finish_checkers(VsDraft& vs, RsDraft& rs);
  void unused(const Stmt& s);
  void unknown(const Stmt& s, std::string_view block,
               std::span<const std::span<const std::string_view>> known);
  void error(const SourceLoc& loc, std::string msg);
  void warn(const SourceLoc& loc, std::string msg);
  bool gave_up() const { return gave_up_; }

  // Values; each reports its own error and returns nullopt.
  std::optional<uint64_t> number(const Token& t, std::string_view what, uint64_t min, uint64_t max);
  std::optional<bool> boolean(const Token& t, std::string_view what);
  std::optional<net::IpAddr> address(const Token& t);
  // keepalived's read_timer(): seconds with up to 6 decimals, in milliseconds rounded up.
  std::optional<uint64_t> timer_ms(const Token& t, std::string_view what, bool zero_ok);
  // A flag that takes no value, or (or_bool) an optional on/off.
  std::optional<bool> flag(const Stmt& s, bool or_bool);
  // A script's command line: the rest of the line (quoted words allowed), once per block.
  void script(const Stmt& s, std::string& into);
  // A port that may be omitted or 0 (keepalived treats both as "no port"): 0 then.
  std::optional<uint16_t> port(const Token* t);

  void top_stmt(const Stmt& s);
  void global_stmt(const Stmt& s);
  void lvs_timeouts(const Stmt& s);
  void ftp_ports_stmt(const Stmt& s);
  void director_stmt(const Stmt& s);

  // --- virtual_server, real_server (parser_vs.cc) ---
  // A virtual_server block's bytes, when its tokens are one span of one text.
  struct BlockText {
    SourceSpan span;  // length 0: not one span
    uint64_t hash = 0;
    std::string_view bytes;
    size_t end = 0;  // the token after its '}'
  };
  BlockText block_text(const Stmt& s) const;
  // A kBlock token: the running service it stands for, copied.
  void copied_block(const Token& t);
  void virtual_server(const Stmt& s);
  void vs_stmt(VsDraft& vs, const Stmt& s);
  bool vs_extra_stmt(VsDraft& vs, const Stmt& s);  // keepalived's checker/quorum settings
  // retry, connect_timeout, delay_before_retry, warmup: what services and real servers both
  // take for their checkers. False when `s` is none of them.
  bool checker_timing(const Stmt& s, std::optional<uint32_t>& retry,
                      std::optional<uint64_t>& connect_timeout_ms,
                      std::optional<uint64_t>& delay_before_retry_ms,
                      std::optional<uint64_t>& warmup_ms);
  bool rs_extra_stmt(RsDraft& rs, const Stmt& s);
  void sorry_server(VsDraft& vs, const Stmt& s);
  void finish_sorry(VsDraft& vs, net::Family family);
  void quorum_checks(VsDraft& vs);
  void sched_flag(VsDraft& vs, const Stmt& s);
  void persistence(VsDraft& vs, const Stmt& s);
  std::optional<uint8_t> granularity(const Token& t, net::Family family);
  void real_server(VsDraft& vs, const Stmt& s);
  void rs_stmt(RsDraft& rs, const Stmt& s);
  void finish_vs(VsDraft& vs);
  void duplicate_servers(VsDraft& vs);
  void finish_vs_fields(VsDraft& vs);  // keepalived's checker defaults into the real servers

  // --- virtual_server_group (parser_group.cc) ---
  void virtual_server_group(const Stmt& s);
  void group_line(VirtualServerGroupConf& g, const Stmt& s, size_t& count);
  // Expands a `virtual_server group NAME` into one service per address and fwmark.
  void expand_group(const VsDraft& vs);
  void finish_groups();
  void finish_rs(VsDraft& vs, RsDraft& rs, net::Family family);
  // The FULLNAT rules of a finished service; the family its local addresses must have when it
  // has a group to bind, nullopt otherwise.
  std::optional<net::Family> finish_fullnat(VsDraft& vs, bool broken, net::Family family);

  // --- forwarding methods, FULLNAT local addresses (parser_fwd.cc) ---
  std::optional<Method> forwarding(const Stmt& s);
  bool tun_options(const Stmt& s, Method& m);
  void proxy_protocol(VsDraft& vs, const Stmt& s);
  void local_address_group(const Stmt& s);
  void laddr_line(LocalAddressGroupConf& g, const Stmt& s, std::map<net::IpAddr, SourceLoc>& seen);
  // Gives cfg_.services[index] its group's addresses, which must be of `family`.
  void bind_laddrs(size_t index, const Token& name, net::Family family);
  void finish_laddrs();

  const std::vector<Token>& toks_;
  std::vector<Diagnostic>& diags_;
  size_t pos_ = 0;
  ParseHints hints_;
  size_t errors_ = 0;
  bool gave_up_ = false;
  Config cfg_;
  // Every virtual_server seen, also those dropped for having no real server: where it was.
  boost::unordered_flat_map<core::ServiceKey, SourceLoc, core::ServiceKeyHash> vs_keys_;
  // local_address_group by name: its index in cfg_.local_address_groups, and whether it was
  // read without error (a broken group draws no more errors where it is used).
  std::map<std::string, std::pair<size_t, bool>, std::less<>> laddr_groups_;
  std::vector<const Token*> laddr_uses_;  // every laddr_group_name value, checked at the end
  // Services whose group comes later in the file: bound at the end.
  struct PendingLaddrs {
    size_t service;
    const Token* name;
    net::Family family;
  };
  std::vector<PendingLaddrs> pending_laddrs_;
  // virtual_server_group by name: its index in cfg_.virtual_server_groups and whether it was
  // read without error.
  std::map<std::string, std::pair<size_t, bool>, std::less<>> vs_groups_;
  std::vector<VsDraft> pending_groups_;
  std::map<std::string, TrackFileConf, std::less<>>
      track_files_;  // group services whose group comes later in the file
  // Set while a group service is expanded: how the keys it produces are described.
  const GroupEntryConf* expanding_ = nullptr;
};

// One address or range as keepalived's inet_stor() and virtual_server_group read it.
struct AddrRange {
  net::IpAddr first;
  uint32_t count = 0;
};
// A.B.C.D-E (E decimal, up to 255) or IPv6-HHHH (the last group's end, hex); the end included
// and above the start. Sets `why` on failure.
std::optional<AddrRange> addr_range(std::string_view text, std::string& why);
// The address `i` places after `first` within its last byte (IPv4) or 16-bit group (IPv6).
net::IpAddr nth_addr(const net::IpAddr& first, uint32_t i);

// Linux's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or white space.
bool valid_ifname(std::string_view n);

template <typename F>
void Parser::body(const Token& opener, std::string_view block, F&& on_stmt) {
  while (!gave_up()) {
    const Token& t = peek();
    if (t.is_eof()) {
      error(t.loc, "unexpected end of file: '" + std::string(block) + "' block opened at " +
                       where(opener.loc) + " is not closed");
      return;
    }
    if (t.is_close()) {
      next();
      return;
    }
    if (t.is_open()) {
      next();
      error(t.loc, "unexpected '{'");
      skip_block(t);
      continue;
    }
    if (t.is_block()) {  // only after an error: parse_config_* then parse from nothing
      next();
      error(t.loc, "unexpected virtual_server");
      continue;
    }
    on_stmt(read_stmt());
  }
}

}  // namespace lvs::ctl
