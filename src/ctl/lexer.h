// Tokens of the keepalived.conf dialect. keepalived reads line by line: a statement is a keyword
// and the words after it on the same line; '{' and '}' are tokens of their own wherever they
// stand; '#' and '!' start a comment anywhere outside double quotes; "..." is one word (no
// escapes, ends on the same line). An include statement's pattern is the rest of its line.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ctl/config.h"

namespace lvs::ctl {

// 40 bytes: a large configuration has a million of them.
struct Token {
  // kBlock: a whole virtual_server block found as it was in the running configuration
  // (LexOptions::blocks); its text is the block's bytes, its loc the keyword's.
  enum class Kind : uint8_t { kWord, kOpen, kClose, kEof, kBlock };
  std::string_view text;  // words: without the quotes; points into a TextStore (or the text lexed)
  SourceLoc loc;
  Kind kind = Kind::kEof;
  bool quoted = false;      // "{" is a word, not a brace
  bool stmt_start = false;  // first on its line or right after a brace: starts a statement
  // The TextStore entry of the text the token was lexed from (kNoText: a text kept elsewhere).
  // Tokens of one block with one text_id are contiguous bytes of that text.
  uint32_t text_id = kNoText;
  static constexpr uint32_t kNoText = UINT32_MAX;

  bool is_word() const { return kind == Kind::kWord; }
  bool is_open() const { return kind == Kind::kOpen; }
  bool is_close() const { return kind == Kind::kClose; }
  bool is_eof() const { return kind == Kind::kEof; }
  bool is_block() const { return kind == Kind::kBlock; }
  // The bare word `w` (a quoted "include" is not the include directive).
  bool is_keyword(std::string_view w) const { return is_word() && !quoted && text == w; }
};
static_assert(sizeof(Token) <= 40, "a million tokens per large configuration");

// include, includer, includem, includew, includeb, includea. keepalived reads what follows them
// on the line as one file name or glob pattern (braces included), not as words.
bool is_include_keyword(std::string_view word);

// What lexing noticed on the way, so nobody walks the tokens again for it.
struct LexNotes {
  bool includes = false;       // an include statement was seen
  size_t virtual_servers = 0;  // statements starting with virtual_server (room for the services)
  // The kBlock tokens made: their text's first byte, and the running service they are.
  std::vector<std::pair<const char*, uint32_t>> blocks;
};

class BlockIndex;
struct LexOptions {
  uint32_t text_id = Token::kNoText;  // the index of the text in the store, if it is there
  int depth = 0;  // braces open where the text stands (a file included inside a block)
  // A reload's running blocks: a top-level virtual_server found there is one kBlock token.
  const BlockIndex* blocks = nullptr;
};

// Appends the tokens of `text` (without a final kEof) to `out`, and lexical errors to `diags`.
// The tokens point into `text`, which must outlive them, or into `store`; they carry
// opts.text_id. Returns where the text ends, for "unexpected end of file" messages.
SourceLoc lex(std::string_view text, const std::string& file, std::vector<Token>& out,
              std::vector<Diagnostic>& diags, TextStore& store, LexNotes* notes = nullptr,
              const LexOptions& opts = {});

}  // namespace lvs::ctl
