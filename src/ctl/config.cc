#include "ctl/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <set>

#include "ctl/parser.h"
#include "ctl/source.h"

namespace lvs::ctl {

const std::string* FileName::intern(const std::string& name) {
  // Never freed: the names a configuration uses, read again at each reload.
  static std::mutex mu;
  static std::set<std::string, std::less<>> names;
  std::lock_guard lock(mu);
  return &*names.insert(name).first;
}

namespace {

ParseResult finish(TokenList& tokens, std::vector<Diagnostic> diags, const Config* previous) {
  ParseResult r;
  ParseHints hints;
  hints.services = tokens.virtual_servers;
  hints.texts = &tokens.texts;
  hints.include_sites = &tokens.include_sites;
  hints.previous = previous;
  hints.blocks = &tokens.blocks;
  hints.reused = &r.reused;
  Config cfg = parse_tokens(tokens.tokens, diags, hints);
  // All or nothing: one error anywhere and nothing of the file applies.
  const bool failed =
      std::any_of(diags.begin(), diags.end(), [](const Diagnostic& d) { return !d.warning; });
  if (!failed) {
    r.config = std::move(cfg);
    r.config->sources = std::make_shared<const TextStore>(std::move(tokens.texts));
  }
  r.diagnostics = std::move(diags);
  return r;
}

}  // namespace

std::string Diagnostic::to_string() const {
  const char* kind = warning ? "warning: " : "";
  if (loc.line == 0) return fmt::format("{}: {}{}", loc.file, kind, message);
  return fmt::format("{}:{}:{}: {}{}", loc.file, loc.line, loc.column, kind, message);
}

// A file with an error is read again from nothing: the messages are then those of a first read,
// whatever a copied block would have hidden.
ParseResult parse_config_file(const std::string& path, const Config* previous) {
  std::vector<Diagnostic> diags;
  TokenList tokens = tokens_of_file(path, diags, previous);
  const bool copied = !tokens.blocks.empty();
  ParseResult r = finish(tokens, std::move(diags), previous);
  return r.ok() || !copied ? r : parse_config_file(path, nullptr);
}

ParseResult parse_config_text(std::string_view text, const std::string& name,
                              const Config* previous) {
  std::vector<Diagnostic> diags;
  TokenList tokens = tokens_of_text(text, name, diags, previous);
  const bool copied = !tokens.blocks.empty();
  ParseResult r = finish(tokens, std::move(diags), previous);
  return r.ok() || !copied ? r : parse_config_text(text, name, nullptr);
}

void clear_runtime(VirtualServerConf& vs) {
  const auto clear = [](RealServerConf& rs) {
    rs.alive = true;
    rs.weight_delta = 0;
    rs.dynamic_weight.reset();
  };
  for (RealServerConf& rs : vs.real_servers) clear(rs);
  if (vs.sorry_server) clear(*vs.sorry_server);
  vs.quorum_state.reset();
  vs.health_touched = false;
}

}  // namespace lvs::ctl
