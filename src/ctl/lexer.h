// Tokens of the keepalived.conf dialect. keepalived reads line by line: a statement is a keyword
// and the words after it on the same line; '{' and '}' are tokens of their own wherever they
// stand; '#' and '!' start a comment anywhere outside double quotes; "..." is one word (no
// escapes, ends on the same line). An include statement's pattern is the rest of its line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ctl/config.h"

namespace lvs::ctl {

struct Token {
  enum class Kind { kWord, kOpen, kClose, kEof };
  Kind kind = Kind::kEof;
  std::string text;  // words: without the quotes
  SourceLoc loc;
  bool quoted = false;      // "{" is a word, not a brace
  bool stmt_start = false;  // first on its line or right after a brace: starts a statement

  bool is_word() const { return kind == Kind::kWord; }
  bool is_open() const { return kind == Kind::kOpen; }
  bool is_close() const { return kind == Kind::kClose; }
  bool is_eof() const { return kind == Kind::kEof; }
  // The bare word `w` (a quoted "include" is not the include directive).
  bool is_keyword(std::string_view w) const { return is_word() && !quoted && text == w; }
};

// include, includer, includem, includew, includeb, includea. keepalived reads what follows them
// on the line as one file name or glob pattern (braces included), not as words.
bool is_include_keyword(std::string_view word);

// Appends the tokens of `text` (without a final kEof) to `out`, and lexical errors to `diags`.
// Returns where the text ends, for "unexpected end of file" messages.
SourceLoc lex(std::string_view text, const std::string& file, std::vector<Token>& out,
              std::vector<Diagnostic>& diags);

}  // namespace lvs::ctl
