// VS/DR leaves the IP packet untouched: only the Ethernet addresses change, to reach the real
// server, which holds the VIP on a non-ARPing interface. set_l2 is also every other method's
// last step.
#include "core/xmit.h"

#include "net/headers.h"

namespace lvs::core {

void set_l2(uint8_t* frame, const NextHop& nh) {
  net::EthView eth(frame);
  eth.set_dst(nh.dst);
  eth.set_src(nh.src);
}

}  // namespace lvs::core
