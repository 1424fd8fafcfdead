// lvsd's JSON answers (docs/API.md) as lvsadm's listing model: GET /v1/state's services and real
// servers with their counters and rates, GET /v1/conns's connection entries, paged or whole.
// Pure: the pages come from a caller-supplied fetch. Missing or mistyped members take IPVS's
// defaults (zero rates, say) so that lvsadm still lists what an older lvsd sends; nothing here
// throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "adm/list_model.h"

namespace lvs::adm {

// The state document (GET /v1/state, also lvsd's --stats-file) as the model, without
// connections.
ListModel model_from_state(const nlohmann::json& state);
// The same from the document's text, each service turned into the model as soon as it is read
// and dropped from the JSON tree: lvsadm -L's state for 100,000 servers is 35 MB, and building,
// clearing and freeing its whole tree was most of lvsadm's time. Equal to
// model_from_state(json::parse(text)) for every text that parses; nullopt when it is not JSON.
std::optional<ListModel> model_from_state_text(std::string_view text);

// Appends one /v1/conns entry list (a JSON array) to the model's connections.
void add_connections(ListModel& model, const nlohmann::json& entries);

// One answer of GET /v1/conns: the paged object {"conns": [...], "next_offset": N or null,
// "matched": M}, or the older lvsd's array (the whole table at once).
struct ConnsPage {
  nlohmann::json entries = nlohmann::json::array();
  std::optional<uint64_t> next_offset;  // the offset of the next page; nullopt: this was the last
  std::optional<uint64_t> matched;      // entries in the table as lvsd counted them (paged only)
  bool whole_table = false;             // the array form
};
// nullopt when the answer is neither form.
std::optional<ConnsPage> parse_conns_page(const nlohmann::json& answer);

// Entries asked for per request: /v1/conns's maximum, so a large table takes few walks (lvsd
// walks the whole table for every page to count `matched`).
inline constexpr uint64_t kConnsPageLimit = 100000;
// Pages allowed beyond those the first answer's `matched` needs, for a table that grows while
// it is read; past them the walk stops (a table that never ends must not hang lvsadm).
inline constexpr uint64_t kConnsSlackPages = 16;

// "/v1/conns?offset=K&limit=N". An older lvsd ignores the query and answers its array.
std::string conns_target(uint64_t offset, uint64_t limit = kConnsPageLimit);

// GETs the page at `offset` (conns_target(offset)): the parsed JSON answer, or the message to
// print (the fetch failed).
using ConnsFetch = std::function<std::variant<nlohmann::json, std::string>(uint64_t offset)>;

// Reads every page into model.connections: from offset 0 while next_offset is not null. An
// error message when a fetch fails, an answer is not a page, a page does not move forward, the
// array form comes after the first page, or the walk outgrows its bound; the entries read so
// far stay in the model.
std::optional<std::string> fetch_connections(ListModel& model, const ConnsFetch& fetch);

}  // namespace lvs::adm
