// The token stream of a whole configuration: a file with the files it includes spliced in where
// the include statement stands (as keepalived does, so an include may stand inside a block).
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/lexer.h"

namespace lvs::ctl {

// The tokens and the texts they point into.
struct TokenList {
  std::vector<Token> tokens;  // ends with one kEof token, at the end of the main file or text
  TextStore texts;
  size_t virtual_servers = 0;              // virtual_server statements, a hint for the parser
  bool included = false;                   // tokens of more than one file (an include was followed)
  std::vector<const char*> include_sites;  // where include keywords stand in texts, sorted
  // The kBlock tokens (by their text's first byte): the running service each one is.
  boost::unordered_flat_map<const char*, uint32_t> blocks;
};

// `running`: on a reload, the configuration in force, whose virtual_server blocks found written
// as before become kBlock tokens.
TokenList tokens_of_file(const std::string& path, std::vector<Diagnostic>& diags,
                         const Config* running = nullptr);
// The tokens point into a copy of `text` kept in the list.
TokenList tokens_of_text(std::string_view text, const std::string& name,
                         std::vector<Diagnostic>& diags, const Config* running = nullptr);

}  // namespace lvs::ctl
