#include "ctl/lexer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ctl/format.h"

namespace lvs::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Lexed {
  std::vector<Token> tokens;
  std::vector<Diagnostic> diags;
  SourceLoc end;
  TextStore store;
};

Lexed run(std::string_view text) {
  Lexed l;
  l.end = lex(text, "f", l.tokens, l.diags, l.store);
  return l;
}

// "text@line:col" per token, "!" marking statement starts, "q" quoted words.
std::vector<std::string> show(const Lexed& l) {
  std::vector<std::string> out;
  for (const auto& t : l.tokens) {
    out.push_back((t.stmt_start ? "!" : "") + std::string(t.quoted ? "q" : "") + std::string(t.text) + "@" +
                  std::to_string(t.loc.line) + ":" + std::to_string(t.loc.column));
  }
  return out;
}

std::vector<std::string> errors(const Lexed& l) {
  std::vector<std::string> out;
  for (const auto& d : l.diags) out.push_back(d.to_string());
  return out;
}

TEST(Lexer, WordsAndBracesAreTokensWhereverTheyStand) {
  const Lexed l = run("a b{c}d\n  e\tf");
  EXPECT_THAT(show(l), ElementsAre("!a@1:1", "b@1:3", "{@1:4", "!c@1:5", "}@1:6", "!d@1:7",
                                   "!e@2:3", "f@2:5"));
  EXPECT_THAT(errors(l), IsEmpty());
  EXPECT_EQ(l.tokens[2].kind, Token::Kind::kOpen);
  EXPECT_EQ(l.tokens[4].kind, Token::Kind::kClose);
}

TEST(Lexer, HashAndBangStartCommentsAnywhere) {
  const Lexed l = run("a # x y\n! whole line\nb!c { d\n   # }\ne#f");
  EXPECT_THAT(show(l), ElementsAre("!a@1:1", "!b@3:1", "!e@5:1"));
}

TEST(Lexer, EscapedCommentCharactersAreKept) {
  EXPECT_THAT(show(run("a\\#b c\\!")), ElementsAre("!a#b@1:1", "c!@1:6"));
}

TEST(Lexer, QuotedStringIsOneWordWithBracesAndCommentsInside) {
  const Lexed l = run("x \"a b # {\" y \"\"");
  EXPECT_THAT(show(l), ElementsAre("!x@1:1", "qa b # {@1:3", "y@1:13", "q@1:15"));
  EXPECT_EQ(l.tokens[1].kind, Token::Kind::kWord);
}

TEST(Lexer, QuoteEndsAWord) {
  EXPECT_THAT(show(run("ab\"cd\"ef")), ElementsAre("!ab@1:1", "qcd@1:3", "ef@1:7"));
}

TEST(Lexer, UnterminatedQuoteIsAnErrorAndTheNextLineStillLexes) {
  const Lexed l = run("x \"abc\ny");
  EXPECT_THAT(errors(l), ElementsAre("f:1:3: missing terminating '\"'"));
  EXPECT_THAT(show(l), ElementsAre("!x@1:1", "!y@2:1"));
}

TEST(Lexer, NulIsAnError) {
  const Lexed l = run(std::string_view("a\0b", 3));
  EXPECT_THAT(errors(l), ElementsAre("f:1:2: unexpected NUL character"));
  EXPECT_THAT(show(l), ElementsAre("!a@1:1", "b@1:3"));
}

TEST(Lexer, CarriageReturnsAreBlank) {
  EXPECT_THAT(show(run("a\r\n b\r\n")), ElementsAre("!a@1:1", "!b@2:2"));
}

TEST(Lexer, EndOfFileIsAfterTheLastCharacter) {
  EXPECT_EQ(where(run("").end), "f:1:1");
  EXPECT_EQ(where(run("ab").end), "f:1:3");
  EXPECT_EQ(where(run("abc\n").end), "f:1:4");
  EXPECT_EQ(where(run("a\n\n").end), "f:2:1");
  EXPECT_EQ(where(run("\n").end), "f:1:1");
}

TEST(Lexer, IncludeTakesTheRestOfTheLine) {
  EXPECT_THAT(show(run("include conf.d/{a,b}.conf  # x\nincluder \"q d\"\n{ includew *.c }")),
              ElementsAre("!include@1:1", "conf.d/{a,b}.conf@1:9", "!includer@2:1", "qq d@2:10",
                          "!{@3:1", "!includew@3:3", "*.c }@3:12"));
  // Only as a statement: elsewhere it is a word like any other.
  EXPECT_THAT(show(run("x include {a}")),
              ElementsAre("!x@1:1", "include@1:3", "{@1:11", "!a@1:12", "}@1:13"));
}

TEST(Lexer, IncludeKeywords) {
  for (const char* w : {"include", "includer", "includem", "includew", "includeb", "includea"}) {
    EXPECT_TRUE(is_include_keyword(w)) << w;
  }
  for (const char* w : {"includex", "includ", "includerr", "Include"}) {
    EXPECT_FALSE(is_include_keyword(w)) << w;
  }
}

}  // namespace
}  // namespace lvs::ctl
