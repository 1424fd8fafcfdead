// Internal to the parser: its state and helpers, shared by parser.cc (framework, global_defs,
// director) and parser_vs.cc (virtual_server, real_server).
#pragma once

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
#include "ctl/service_id.h"

namespace lvs::ctl {

// 31 days: keepalived's LVS_MAX_TIMEOUT, for lvs_timeouts and persistence_timeout.
inline constexpr uint64_t kMaxLvsTimeout = 86400 * 31;

// A keyword, the words after it on its line, and the block that follows it, if any.
struct Stmt {
  const Token* kw = nullptr;
  std::vector<const Token*> args;
  const Token* open = nullptr;  // the '{' (already consumed), nullptr without a block

  const std::string& word() const { return kw->text; }
};

// A virtual_server as written, before defaults and checks.
struct RsDraft {
  RealServerConf conf;
  bool ok = true;
  const Token* port_tok = nullptr;  // nullptr when the port is omitted (or 0)
  std::optional<int32_t> weight;
  std::optional<core::Fwd> fwd;
  const Token* lthreshold_tok = nullptr;  // the value, checked against uthreshold at the end
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
  std::optional<core::Fwd> fwd;
  int32_t default_weight = 1;
  std::vector<RsDraft> rs;
  size_t errors_before = 0;  // the parser's error count when the block began
};

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, std::vector<Diagnostic>& diags)
      : toks_(tokens), diags_(diags) {}
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
  void refuse(const Stmt& s, std::string_view what);
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
  // A port that may be omitted or 0 (keepalived treats both as "no port"): 0 then.
  std::optional<uint16_t> port(const Token* t);

  void top_stmt(const Stmt& s);
  void global_stmt(const Stmt& s);
  void lvs_timeouts(const Stmt& s);
  void director_stmt(const Stmt& s);

  // --- virtual_server, real_server (parser_vs.cc) ---
  void virtual_server(const Stmt& s);
  void vs_stmt(VsDraft& vs, const Stmt& s);
  void sched_flag(VsDraft& vs, const Stmt& s);
  void persistence(VsDraft& vs, const Stmt& s);
  std::optional<uint8_t> granularity(const Token& t, net::Family family);
  std::optional<core::Fwd> forwarding(const Stmt& s);
  void real_server(VsDraft& vs, const Stmt& s);
  void rs_stmt(RsDraft& rs, const Stmt& s);
  void finish_vs(VsDraft& vs);
  void finish_rs(VsDraft& vs, RsDraft& rs, net::Family family);

  const std::vector<Token>& toks_;
  std::vector<Diagnostic>& diags_;
  size_t pos_ = 0;
  size_t errors_ = 0;
  bool gave_up_ = false;
  Config cfg_;
  // Every virtual_server seen, also those dropped for having no real server: where it was.
  std::map<ServiceId, SourceLoc> vs_keys_;
};

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
    on_stmt(read_stmt());
  }
}

}  // namespace lvs::ctl
