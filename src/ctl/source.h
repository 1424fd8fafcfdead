// The token stream of a whole configuration: a file with the files it includes spliced in where
// the include statement stands (as keepalived does, so an include may stand inside a block).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ctl/lexer.h"

namespace lvs::ctl {

// Both end with one kEof token, placed at the end of the main file or text.
std::vector<Token> tokens_of_file(const std::string& path, std::vector<Diagnostic>& diags);
std::vector<Token> tokens_of_text(std::string_view text, const std::string& name,
                                  std::vector<Diagnostic>& diags);

}  // namespace lvs::ctl
