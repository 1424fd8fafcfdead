// An in-memory PacketIo for tests of the worker loop: frames are injected per interface and
// transmitted frames are collected, with the same ownership rules as the real backends.
#pragma once

#include <deque>
#include <memory>
#include <vector>

#include "io/packet_io.h"

namespace lvs::io {

struct SentFrame {
  uint32_t ifindex;
  std::vector<uint8_t> bytes;
};

class MemoryIo final : public PacketIo {
 public:
  static constexpr uint32_t kFrameSize = 2048;
  static constexpr uint32_t kHeadroom = 256;

  explicit MemoryIo(size_t frames = 256);
  std::string_view name() const override { return "memory"; }

  void inject(uint32_t ifindex, const std::vector<uint8_t>& frame);
  std::vector<SentFrame> take_sent();
  size_t frames_in_use() const { return in_use_; }

  size_t rx_burst(core::Packet* pkts, size_t max) override;
  bool alloc_frame(core::Packet& pkt) override;
  uint32_t frame_room() const override { return kFrameSize - kHeadroom; }
  void tx_burst(core::Packet* pkts, size_t n) override;
  std::vector<int> poll_fds() const override { return {}; }
  IoCounters counters() const override { return counters_; }

 private:
  uint8_t* take();
  void give_back(uint8_t* frame_base);
  uint8_t* base_of(const core::Packet& p) const;

  std::vector<uint8_t> memory_;
  std::vector<uint8_t*> free_;
  std::deque<std::pair<uint32_t, std::vector<uint8_t>>> rx_;
  std::vector<SentFrame> sent_;
  size_t in_use_ = 0;
  IoCounters counters_;
};

}  // namespace lvs::io
