// Small text helpers for messages about places and endpoints.
#pragma once

#include <cstdint>
#include <string>

#include "ctl/config.h"
#include "net/addr.h"

namespace lvs::ctl {

std::string where(const SourceLoc& loc);                       // "file:line:col"
std::string endpoint(const net::IpAddr& addr, uint16_t port);  // "a:p", "[a6]:p", "a" if p == 0

}  // namespace lvs::ctl
