// The AF_XDP backend: one UMEM per worker, shared by the worker's sockets on every attached
// interface (xsk_socket__create_shared), so a frame received on one interface is sent from
// another without a copy. Copy mode on veth, zero-copy where the driver offers it; need_wakeup
// throughout, large batches.
#pragma once

#include <xdp/xsk.h>

#include <memory>
#include <string>
#include <vector>

#include "io/packet_io.h"
#include "io/xdp_program.h"

namespace lvs::io {

struct XskBinding {
  uint32_t ifindex = 0;
  std::string ifname;
  uint32_t queue = 0;
  uint32_t slot = 0;  // the interface's row in lvs_xsks
};

struct AfXdpOptions {
  uint32_t frame_size = 4096;
  uint32_t ring_size = 2048;
  uint32_t frames_per_socket = 4096;
  bool force_copy = false;
};

class AfXdpIo final : public PacketIo {
 public:
  // Creates the UMEM and one socket per binding and registers each in the program's XSKMAP.
  static std::unique_ptr<AfXdpIo> create(const std::vector<XskBinding>& bindings,
                                         const AfXdpOptions& opts, XdpProgram& prog,
                                         std::string* err);
  ~AfXdpIo() override;

  std::string_view name() const override { return "af_xdp"; }
  size_t rx_burst(core::Packet* pkts, size_t max) override;
  bool alloc_frame(core::Packet& pkt) override;
  uint32_t frame_room() const override { return frame_size_ - 256; }
  void tx_burst(core::Packet* pkts, size_t n) override;
  std::vector<int> poll_fds() const override;
  void service() override;
  bool tx_pending() const override;
  IoCounters counters() const override;

 private:
  struct Sock {
    xsk_socket* xsk = nullptr;
    xsk_ring_cons rx{};
    xsk_ring_prod tx{};
    xsk_ring_prod fill{};
    xsk_ring_cons comp{};
    uint32_t ifindex = 0;
    uint32_t queue = 0;
    int fd = -1;
    uint32_t reserved = 0;     // TX descriptors reserved in this burst, not yet submitted
    uint64_t outstanding = 0;  // submitted and not yet completed
  };
  AfXdpIo() = default;
  uint64_t chunk_of(const uint8_t* data) const {
    return uint64_t(data - area_) & ~uint64_t(frame_size_ - 1);
  }
  void refill(Sock& s);
  void complete(Sock& s);
  void kick(Sock& s);
  Sock* tx_sock(uint32_t ifindex);

  uint8_t* area_ = nullptr;
  size_t area_size_ = 0;
  uint32_t frame_size_ = 4096;
  uint32_t ring_size_ = 2048;
  xsk_umem* umem_ = nullptr;
  xsk_ring_prod umem_fill_{};
  xsk_ring_cons umem_comp_{};
  std::vector<std::unique_ptr<Sock>> socks_;
  std::vector<uint64_t> free_;
  size_t rx_next_ = 0;
  IoCounters counters_;
};

}  // namespace lvs::io
