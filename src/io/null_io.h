// The backend of an lvsd with no interface: the control plane alone (services, the API, lvsadm)
// with no frame ever received or sent, so it can be tried and scripted without any traffic.
#pragma once

#include "io/packet_io.h"

namespace lvs::io {

class NullIo final : public PacketIo {
 public:
  std::string_view name() const override { return "none"; }
  size_t rx_burst(core::Packet*, size_t) override { return 0; }
  uint32_t frame_room() const override { return 0; }
  bool alloc_frame(core::Packet&) override { return false; }
  void tx_burst(core::Packet*, size_t) override {}  // never handed a frame
  std::vector<int> poll_fds() const override { return {}; }
  IoCounters counters() const override { return {}; }
};

}  // namespace lvs::io
