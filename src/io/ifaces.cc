#include "io/ifaces.h"

#include <net/if.h>

#include <filesystem>

namespace lvs::io {

uint32_t ifindex_of(const std::string& name) { return if_nametoindex(name.c_str()); }

uint32_t rx_queue_count(const std::string& name) {
  std::error_code ec;
  uint32_t n = 0;
  for (const auto& e :
       std::filesystem::directory_iterator("/sys/class/net/" + name + "/queues", ec)) {
    if (e.path().filename().string().rfind("rx-", 0) == 0) ++n;
  }
  return n == 0 ? 1 : n;
}

}  // namespace lvs::io
