// GET /v1/conns's query: a page (offset, limit) of the connections that match the filters
// (proto, template, caddr, cport, vaddr, vport, daddr, dport, fwmark, state), all optional.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/engine.h"

namespace lvs::daemon {

struct ConnQuery {
  static constexpr size_t kDefaultLimit = 10000;
  static constexpr size_t kMaxLimit = 100000;

  size_t offset = 0;  // matching entries to skip, counted across the workers in order
  size_t limit = kDefaultLimit;
  std::optional<uint8_t> proto;  // 0 matches fwmark templates
  std::optional<bool> is_template;
  std::optional<net::IpAddr> caddr, vaddr, daddr;
  std::optional<uint16_t> cport, vport, dport;
  std::optional<uint32_t> fwmark;
  std::string state;  // "ESTABLISHED", "UDP", "NONE", ...; empty: any (case ignored)

  bool matches(const core::ConnSnapshot& c) const;
};

// Parses the part after '?' ("offset=0&limit=100&proto=tcp&vport=80"); percent escapes are
// decoded. nullopt with `err` naming the parameter when a name is unknown or a value is wrong.
std::optional<ConnQuery> parse_conn_query(std::string_view query, std::string* err);

}  // namespace lvs::daemon
