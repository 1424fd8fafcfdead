// Interface facts lvsd needs before it can bind sockets: index, receive queue count.
#pragma once

#include <cstdint>
#include <string>

namespace lvs::io {

uint32_t ifindex_of(const std::string& name);  // 0 if no such interface
// Number of receive queues (sysfs queues/rx-*); at least 1 for an existing interface.
uint32_t rx_queue_count(const std::string& name);

}  // namespace lvs::io
