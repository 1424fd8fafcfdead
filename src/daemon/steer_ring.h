// Hand-over of packets between workers: a single-producer single-consumer ring of frame copies.
// A NAT reply can arrive on another queue (hence worker) than its request; the worker that
// received it copies it here for the connection's owner. No locks: one writer, one reader.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>

#include "core/types.h"

namespace lvs::daemon {

class SteerRing {
 public:
  static constexpr uint32_t kSlots = 256;
  static constexpr uint32_t kMaxFrame = 4096 - 16;

  SteerRing() : slots_(new Slot[kSlots]) {}

  // Producer side. False when full or the frame is too large (the caller counts the drop).
  bool push(const core::Packet& p) {
    const uint32_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ == kSlots) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ == kSlots) return false;
    }
    if (p.len > kMaxFrame) return false;
    Slot& s = slots_[tail % kSlots];
    s.len = p.len;
    s.ifindex = p.ifindex;
    s.mark = p.mark;
    std::memcpy(s.data, p.data, p.len);
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Consumer side: copies up to `max` frames into packets whose buffers `get` provides (it
  // fills a fresh Packet, or returns false when out of buffers). Frames longer than `room`,
  // what the receiver's buffers hold, are dropped and counted in `too_large`.
  template <typename GetBuffer>
  size_t pop(core::Packet* out, size_t max, uint32_t room, GetBuffer&& get, uint64_t* too_large) {
    const uint32_t head = head_.load(std::memory_order_relaxed);
    const uint32_t tail = tail_.load(std::memory_order_acquire);
    uint32_t taken = 0;
    size_t n = 0;
    while (n < max && head + taken != tail) {
      const Slot& s = slots_[(head + taken) % kSlots];
      if (s.len > room) {
        ++*too_large;
        ++taken;
        continue;
      }
      core::Packet& p = out[n];
      if (!get(p)) break;
      std::memcpy(p.data, s.data, s.len);
      p.tailroom -= s.len;
      p.len = s.len;
      p.ifindex = s.ifindex;
      p.mark = s.mark;
      ++taken;
      ++n;
    }
    head_.store(head + taken, std::memory_order_release);
    return n;
  }

  bool empty() const {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

 private:
  struct Slot {
    uint32_t len;
    uint32_t ifindex;
    uint32_t mark;
    uint32_t pad;
    uint8_t data[kMaxFrame];
  };
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<uint32_t> head_{0};
  alignas(64) std::atomic<uint32_t> tail_{0};
  uint32_t head_cache_ = 0;  // producer's last view of head_
};

}  // namespace lvs::daemon
