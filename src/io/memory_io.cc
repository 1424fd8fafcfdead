#include "io/memory_io.h"

#include <cstring>
#include <stdexcept>

namespace lvs::io {

MemoryIo::MemoryIo(size_t frames) : memory_(frames * kFrameSize) {
  for (size_t i = 0; i < frames; ++i) free_.push_back(memory_.data() + i * kFrameSize);
}

uint8_t* MemoryIo::take() {
  if (free_.empty()) return nullptr;
  uint8_t* f = free_.back();
  free_.pop_back();
  ++in_use_;
  return f;
}

void MemoryIo::give_back(uint8_t* frame_base) {
  free_.push_back(frame_base);
  --in_use_;
}

uint8_t* MemoryIo::base_of(const core::Packet& p) const {
  const size_t off = size_t(p.data - memory_.data());
  return const_cast<uint8_t*>(memory_.data()) + off / kFrameSize * kFrameSize;
}

void MemoryIo::inject(uint32_t ifindex, const std::vector<uint8_t>& frame) {
  if (frame.size() > kFrameSize - kHeadroom) throw std::invalid_argument("frame too large");
  rx_.emplace_back(ifindex, frame);
}

std::vector<SentFrame> MemoryIo::take_sent() { return std::exchange(sent_, {}); }

size_t MemoryIo::rx_burst(core::Packet* pkts, size_t max) {
  size_t n = 0;
  while (n < max && !rx_.empty()) {
    core::Packet& p = pkts[n];
    if (!alloc_frame(p)) break;
    auto& [ifindex, bytes] = rx_.front();
    std::memcpy(p.data, bytes.data(), bytes.size());
    p.len = uint32_t(bytes.size());
    p.tailroom = kFrameSize - kHeadroom - p.len;
    p.ifindex = ifindex;
    rx_.pop_front();
    ++counters_.rx_frames;
    ++n;
  }
  return n;
}

bool MemoryIo::alloc_frame(core::Packet& pkt) {
  uint8_t* f = take();
  if (f == nullptr) {
    ++counters_.alloc_failed;
    return false;
  }
  pkt = core::Packet{};
  pkt.data = f + kHeadroom;
  pkt.headroom = kHeadroom;
  pkt.tailroom = kFrameSize - kHeadroom;
  return true;
}

void MemoryIo::tx_burst(core::Packet* pkts, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    core::Packet& p = pkts[i];
    if (p.verdict == core::Verdict::kTx) {
      sent_.push_back({p.out_ifindex, std::vector<uint8_t>(p.data, p.data + p.len)});
      ++counters_.tx_frames;
    }
    give_back(base_of(p));
  }
}

}  // namespace lvs::io
