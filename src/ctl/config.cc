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

ParseResult finish(const TokenList& tokens, std::vector<Diagnostic> diags) {
  ParseResult r;
  Config cfg =
      parse_tokens(tokens.tokens, diags, ParseHints{tokens.virtual_servers, !tokens.included});
  // All or nothing: one error anywhere and nothing of the file applies.
  const bool failed =
      std::any_of(diags.begin(), diags.end(), [](const Diagnostic& d) { return !d.warning; });
  if (!failed) r.config = std::move(cfg);
  r.diagnostics = std::move(diags);
  return r;
}

}  // namespace

std::string Diagnostic::to_string() const {
  const char* kind = warning ? "warning: " : "";
  if (loc.line == 0) return fmt::format("{}: {}{}", loc.file, kind, message);
  return fmt::format("{}:{}:{}: {}{}", loc.file, loc.line, loc.column, kind, message);
}

ParseResult parse_config_file(const std::string& path) {
  std::vector<Diagnostic> diags;
  const TokenList tokens = tokens_of_file(path, diags);
  return finish(tokens, std::move(diags));
}

ParseResult parse_config_text(std::string_view text, const std::string& name) {
  std::vector<Diagnostic> diags;
  const TokenList tokens = tokens_of_text(text, name, diags);
  return finish(tokens, std::move(diags));
}

}  // namespace lvs::ctl
