// The grammar: statements and blocks of a token stream into a Config.
#pragma once

#include <optional>
#include <vector>

#include "ctl/config.h"
#include "ctl/lexer.h"

namespace lvs::ctl {

// `tokens` ends with a kEof token. Diagnostics are appended; the Config is returned whenever
// parsing got to the end, and is only valid if no error was appended (parse_config_* check).
// What the reader knows of the tokens (TokenList): about how many services to make room for, and
// whether every token comes from one text (then a block's bytes are contiguous and are hashed
// into VirtualServerConf::source_hash).
struct ParseHints {
  size_t services = 0;
  bool one_text = false;
};
Config parse_tokens(const std::vector<Token>& tokens, std::vector<Diagnostic>& diags,
                    ParseHints hints = {});

}  // namespace lvs::ctl
