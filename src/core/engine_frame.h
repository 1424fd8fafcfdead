// Small accessors the engine's files share: addresses in a parsed frame, and seconds as ticks.
#pragma once

#include <cstdint>

#include "core/timer_wheel.h"
#include "net/addr.h"
#include "net/headers.h"
#include "net/parse.h"

namespace lvs::core {

inline const uint8_t* saddr_of(const uint8_t* frame, const net::ParsedPacket& p) {
  return frame + p.l3_offset +
         (p.family == net::Family::kV4 ? net::Ipv4View::kSaddr : net::Ipv6View::kSaddr);
}
inline const uint8_t* daddr_of(const uint8_t* frame, const net::ParsedPacket& p) {
  return frame + p.l3_offset +
         (p.family == net::Family::kV4 ? net::Ipv4View::kDaddr : net::Ipv6View::kDaddr);
}
inline uint8_t af_of(const net::ParsedPacket& p) { return p.family == net::Family::kV4 ? 4 : 6; }
inline net::IpAddr addr_of(const uint8_t* a, uint8_t af) {
  return af == 4 ? net::IpAddr::v4(a) : net::IpAddr::v6(a);
}
inline uint32_t ticks(uint32_t seconds) { return seconds * TimerWheel::kTicksPerSec; }

}  // namespace lvs::core
