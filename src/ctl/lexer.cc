#include "ctl/lexer.h"

#include <algorithm>
#include <array>

#include "ctl/block_index.h"

namespace lvs::ctl {

namespace {

// keepalived's WHITE_SPACE minus the newline, which ends a statement.
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\r'; }

// The rest of an include line, as keepalived takes it: blanks and comments stripped, one
// word even with braces or blanks inside; "..." quotes it. Returns where the line ends.
template <typename Push>
size_t include_pattern(std::string_view text, size_t i, Push& push) {
  while (i < text.size() && is_blank(text[i])) ++i;
  if (i < text.size() && text[i] == '"') return i;  // the quoted word lexes as usual
  const size_t start = i;
  while (i < text.size() && text[i] != '\n' && text[i] != '#' && text[i] != '!' &&
         text[i] != '\0') {
    ++i;
  }
  size_t end = i;
  while (end > start && is_blank(text[end - 1])) --end;
  if (end > start) push(Token::Kind::kWord, text.substr(start, end - start), start, false);
  return i;
}

// The characters a bare word stops at (blanks, newline, braces, quote, comments, NUL) or must
// look at (a backslash may escape # and !): one table load per character, not nine compares.
constexpr std::array<bool, 256> kWordStop = [] {
  std::array<bool, 256> t{};
  for (const unsigned char c : std::string_view(" \t\f\v\r\n{}\"#!\\")) t[c] = true;
  t[0] = true;
  return t;
}();

}  // namespace

bool is_include_keyword(std::string_view w) {
  return w == "include" || (w.size() == 8 && w.substr(0, 7) == "include" &&
                            std::string_view("rmwba").find(w[7]) != std::string_view::npos);
}

SourceLoc lex(std::string_view text, const std::string& file, std::vector<Token>& out,
              std::vector<Diagnostic>& diags, TextStore& store, LexNotes* notes,
              const LexOptions& opts) {
  int line = 1;
  size_t line_begin = 0;
  bool line_start = true;  // no token yet on this line, or the last one was a brace
  size_t i = 0;
  int depth = opts.depth;     // as the parser counts: a stray '}' at the top closes nothing
  const FileName name(file);  // shared by every token of the text
  const auto loc_at = [&](size_t pos) { return SourceLoc{name, line, int(pos - line_begin) + 1}; };
  const auto push = [&](Token::Kind kind, std::string_view word, size_t pos, bool quoted) {
    Token& t = out.emplace_back();
    t.kind = kind;
    t.text = word;
    t.loc = loc_at(pos);
    t.quoted = quoted;
    t.stmt_start = line_start;
    t.text_id = opts.text_id;
    line_start = kind != Token::Kind::kWord;
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      line_begin = ++i;
      line_start = true;
    } else if (is_blank(c)) {
      ++i;
    } else if (c == '#' || c == '!') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '{' || c == '}') {
      push(c == '{' ? Token::Kind::kOpen : Token::Kind::kClose, text.substr(i, 1), i, false);
      depth = c == '{' ? depth + 1 : std::max(depth - 1, 0);
      ++i;
    } else if (c == '\0') {
      diags.push_back({loc_at(i), "unexpected NUL character"});
      ++i;
    } else if (c == '"') {
      const size_t end = text.find_first_of("\"\n", i + 1);
      if (end == std::string_view::npos || text[end] == '\n') {
        diags.push_back({loc_at(i), "missing terminating '\"'"});
        i = end == std::string_view::npos ? text.size() : end;
        continue;
      }
      push(Token::Kind::kWord, text.substr(i + 1, end - i - 1), i, true);
      i = end + 1;
    } else if (const auto found = depth == 0 && line_start && c == 'v' && opts.blocks != nullptr
                                      ? opts.blocks->find(text.substr(i))
                                      : std::nullopt) {
      // The same bytes lex to the same tokens and parse to the same service: one token stands
      // for them all, and the lines they span are counted.
      const std::string_view block = text.substr(i, found->length);
      push(Token::Kind::kBlock, block, i, false);
      line_start = true;
      if (notes != nullptr) {
        ++notes->virtual_servers;
        notes->blocks.emplace_back(block.data(), found->service);
      }
      if (const size_t last_nl = block.rfind('\n'); last_nl != std::string_view::npos) {
        line += int(std::count(block.begin(), block.end(), '\n'));
        line_begin = i + last_nl + 1;
      }
      i += block.size();
    } else {
      const size_t start = i;
      bool escaped = false;
      while (i < text.size()) {
        const char w = text[i];
        if (kWordStop[uint8_t(w)]) {
          // keepalived lets \# and \! stand for the characters themselves; another backslash
          // is an ordinary character.
          if (w != '\\') break;
          if (i + 1 < text.size() && (text[i + 1] == '#' || text[i + 1] == '!')) {
            escaped = true;
            ++i;
          }
        }
        ++i;
      }
      std::string_view word = text.substr(start, i - start);
      if (escaped) {  // rare: the word without its backslashes, kept in the store
        std::string& w = store.emplace_back();
        for (size_t k = 0; k < word.size(); ++k) {
          if (word[k] == '\\' && k + 1 < word.size() &&
              (word[k + 1] == '#' || word[k + 1] == '!')) {
            ++k;
          }
          w += word[k];
        }
        word = w;
      }
      const bool include = line_start && is_include_keyword(word);
      if (notes != nullptr && line_start && word == "virtual_server") ++notes->virtual_servers;
      push(Token::Kind::kWord, word, start, false);
      if (include) {
        if (notes != nullptr) notes->includes = true;
        i = include_pattern(text, i, push);
      }
    }
  }
  // End of file: just after the last character, not counting a final newline.
  if (i > 0 && text[i - 1] == '\n') {
    const size_t nl = i - 1;
    size_t begin = 0;
    if (nl > 0) {
      const size_t prev = text.rfind('\n', nl - 1);
      if (prev != std::string_view::npos) begin = prev + 1;
    }
    return SourceLoc{name, line - 1, int(nl - begin) + 1};
  }
  return loc_at(i);
}

}  // namespace lvs::ctl
