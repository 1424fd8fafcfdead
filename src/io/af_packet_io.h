// The AF_PACKET backend for hosts where XDP cannot attach: a TPACKET_V3 receive ring per
// interface (joined in a PACKET_FANOUT_QM group, one socket per worker, so worker w gets queue
// w), a BPF socket filter admitting only lvsd's traffic, and sendmmsg with qdisc bypass for
// transmission. Frames are copied out of the ring into the worker's own buffers, so the engine
// may grow them (ICMP errors) without touching the ring.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/packet_io.h"
#include "io/steal_program.h"

namespace lvs::io {

struct PacketBinding {
  uint32_t ifindex = 0;
  std::string ifname;
};

struct AfPacketOptions {
  uint32_t block_size = 1u << 18;
  uint32_t block_count = 16;
  uint32_t frame_count = 1024;  // the worker's processing buffers
  uint16_t worker_index = 0;
  uint16_t worker_count = 1;
  uint16_t fanout_base = 0;  // fanout group id = base + binding index
};

class AfPacketIo final : public PacketIo {
 public:
  static std::unique_ptr<AfPacketIo> create(const std::vector<PacketBinding>& bindings,
                                            const AfPacketOptions& opts, StealProgram& prog,
                                            std::string* err);
  ~AfPacketIo() override;

  std::string_view name() const override { return "af_packet"; }
  size_t rx_burst(core::Packet* pkts, size_t max) override;
  bool alloc_frame(core::Packet& pkt) override;
  uint32_t frame_room() const override { return kFrameSize - kHeadroom; }
  void tx_burst(core::Packet* pkts, size_t n) override;
  std::vector<int> poll_fds() const override;
  IoCounters counters() const override { return counters_; }

  static constexpr uint32_t kFrameSize = 4096;
  static constexpr uint32_t kHeadroom = 256;

 private:
  struct Ring {
    uint32_t ifindex = 0;
    int rx_fd = -1;
    int tx_fd = -1;
    uint8_t* map = nullptr;
    size_t map_size = 0;
    uint32_t block = 0;       // block being read
    uint32_t pkt_left = 0;    // packets of it not yet taken
    uint8_t* next = nullptr;  // next packet header in it
  };
  AfPacketIo() = default;
  uint8_t* base_of(const uint8_t* data) const;
  Ring* ring_for(uint32_t ifindex);

  AfPacketOptions opts_;
  std::vector<Ring> rings_;
  std::vector<uint8_t> frames_;
  std::vector<uint8_t*> free_;
  size_t rx_next_ = 0;
  IoCounters counters_;
};

// Completes a transport checksum the sender left to offload (TP_STATUS_CSUMNOTREADY): the
// checksum field holds only the pseudo-header sum. Exposed for tests.
void complete_partial_checksum(uint8_t* frame, size_t len);

}  // namespace lvs::io
