// The grammar: statements and blocks of a token stream into a Config.
#pragma once

#include <optional>
#include <vector>

#include "ctl/config.h"
#include "ctl/lexer.h"

namespace lvs::ctl {

// `tokens` ends with a kEof token. Diagnostics are appended; the Config is returned whenever
// parsing got to the end, and is only valid if no error was appended (parse_config_* check).
// `services_hint`: about how many services to make room for (TokenList::virtual_servers).
Config parse_tokens(const std::vector<Token>& tokens, std::vector<Diagnostic>& diags,
                    size_t services_hint = 0);

}  // namespace lvs::ctl
