// Tokens of the keepalived.conf dialect. keepalived reads line by line: a statement is a keyword
// and the words after it on the same line; '{' and '}' are tokens of their own wherever they
// stand; '#' and '!' start a comment anywhere outside double quotes; "..." is one word (no
// escapes, ends on the same line). An include statement's pattern is the rest of its line.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/config.h"

namespace lvs::ctl {

// 40 bytes: a large configuration has a million of them.
struct Token {
  enum class Kind : uint8_t { kWord, kOpen, kClose, kEof };
  std::string_view text;  // words: without the quotes; points into a TextStore (or the text lexed)
  SourceLoc loc;
  Kind kind = Kind::kEof;
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

// What tokens point into: the files read and the few words lexing rewrites (\# stands for #).
// A deque, so that what is added never moves what is there.
using TextStore = std::deque<std::string>;

// Appends the tokens of `text` (without a final kEof) to `out`, and lexical errors to `diags`.
// The tokens point into `text`, which must outlive them, or into `store`. Returns where the text
// ends, for "unexpected end of file" messages.
// What lexing noticed on the way, so nobody walks the tokens again for it.
struct LexNotes {
  bool includes = false;       // an include statement was seen
  size_t virtual_servers = 0;  // statements starting with virtual_server (room for the services)
};

SourceLoc lex(std::string_view text, const std::string& file, std::vector<Token>& out,
              std::vector<Diagnostic>& diags, TextStore& store, LexNotes* notes = nullptr);

}  // namespace lvs::ctl
