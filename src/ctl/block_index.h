// The virtual_server blocks of the running configuration, by their bytes: a reload that finds a
// block written as before copies its service instead of lexing and parsing it again.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "ctl/config.h"

namespace lvs::ctl {

// 8 bytes a step (a 5 MB configuration in about a millisecond); never 0, which means unknown.
uint64_t text_hash(std::string_view t);

class BlockIndex {
 public:
  // The services of `running` with a SourceSpan inside its sources; `running` must outlive this.
  explicit BlockIndex(const Config& running);
  bool empty() const { return first_.empty(); }

  struct Found {
    uint32_t service;  // index in running.services
    size_t length;     // of the block, from `virtual_server` to its '}'
  };
  // The running service whose block's bytes begin `rest`, if any.
  std::optional<Found> find(std::string_view rest) const;

 private:
  // Where a block's head ends: its '{' or the end of its first line, whichever comes first.
  static std::string_view head(std::string_view s);

  const Config& running_;
  boost::unordered_flat_map<uint64_t, uint32_t> first_;  // text_hash(head) -> a service
  std::vector<uint32_t> next_;  // the next service with the same head hash; kNone ends
  static constexpr uint32_t kNone = UINT32_MAX;
};

}  // namespace lvs::ctl
