// The token stream of a whole configuration: a file with the files it includes spliced in where
// the include statement stands (as keepalived does, so an include may stand inside a block).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ctl/lexer.h"

namespace lvs::ctl {

// The tokens and the texts they point into.
struct TokenList {
  std::vector<Token> tokens;  // ends with one kEof token, at the end of the main file or text
  TextStore texts;
  size_t virtual_servers = 0;  // virtual_server statements, a hint for the parser
  bool included = false;       // tokens of more than one file (an include was followed)
};

TokenList tokens_of_file(const std::string& path, std::vector<Diagnostic>& diags);
// The tokens point into `text` (and into files it includes, kept in the list): `text` must
// outlive the list.
TokenList tokens_of_text(std::string_view text, const std::string& name,
                         std::vector<Diagnostic>& diags);

}  // namespace lvs::ctl
