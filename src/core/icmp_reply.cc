// Port unreachable, the error the director sends when no real server can take a packet: the
// common ICMP error form (build_icmp_error) with IPVS's type and code.
#include "core/icmp_too_big.h"
#include "core/xmit.h"
#include "net/headers.h"

namespace lvs::core {

size_t build_port_unreachable(uint8_t* frame, size_t len, size_t tailroom,
                              const net::ParsedPacket& p) {
  const bool v4 = p.family == net::Family::kV4;
  return build_icmp_error(frame, len, tailroom, p,
                          v4 ? net::kIcmpDestUnreach : net::kIcmp6DestUnreach,
                          v4 ? net::kIcmpPortUnreach : net::kIcmp6PortUnreach, 0, nullptr);
}

}  // namespace lvs::core
