#include "ctl/format.h"

#include <fmt/format.h>

namespace lvs::ctl {

std::string where(const SourceLoc& loc) {
  return fmt::format("{}:{}:{}", loc.file, loc.line, loc.column);
}

std::string endpoint(const net::IpAddr& addr, uint16_t port) {
  if (port == 0) return addr.to_string();
  if (addr.is_v6()) return fmt::format("[{}]:{}", addr.to_string(), port);
  return fmt::format("{}:{}", addr.to_string(), port);
}

}  // namespace lvs::ctl
