// The grammar: statements and blocks of a token stream into a Config.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <optional>
#include <vector>

#include "ctl/config.h"
#include "ctl/lexer.h"

namespace lvs::ctl {

// `tokens` ends with a kEof token. Diagnostics are appended; the Config is returned whenever
// parsing got to the end, and is only valid if no error was appended (parse_config_* check).
// What the reader knows of the tokens (TokenList): about how many services to make room for; the
// texts they were lexed from (a block whose tokens share a Token::text_id is a span of one of
// them: hashed into VirtualServerConf::source_hash, and recorded in its source unless an include
// stood in it); the running configuration and the kBlock tokens the lexer found in it.
struct ParseHints {
  size_t services = 0;
  const TextStore* texts = nullptr;
  const std::vector<const char*>* include_sites = nullptr;  // include keywords, in the texts
  const Config* previous = nullptr;
  const boost::unordered_flat_map<const char*, uint32_t>* blocks = nullptr;
  size_t* reused = nullptr;  // out: how many services were copied from `previous`
};
Config parse_tokens(const std::vector<Token>& tokens, std::vector<Diagnostic>& diags,
                    ParseHints hints = {});

}  // namespace lvs::ctl
