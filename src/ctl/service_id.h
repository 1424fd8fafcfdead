// A service key as an ordered value, for maps: fwmark, protocol, address, port.
#pragma once

#include <cstdint>
#include <tuple>

#include "core/types.h"
#include "net/addr.h"

namespace lvs::ctl {

using ServiceId = std::tuple<uint32_t, uint8_t, net::IpAddr, uint16_t>;

inline ServiceId service_id(const core::ServiceKey& k) {
  return {k.fwmark, k.proto, k.addr, k.port};
}

}  // namespace lvs::ctl
