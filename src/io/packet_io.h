// How a worker moves frames: one PacketIo per worker, covering every (interface, queue) the
// worker owns. Backends: af_xdp_io (XDP + AF_XDP sockets, the default), af_packet_io
// (TPACKET_V3, where XDP cannot attach) and memory_io (tests). Frames stay in the backend's
// memory; the engine rewrites them in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/types.h"

namespace lvs::io {

struct IoCounters {
  uint64_t rx_frames = 0;
  uint64_t tx_frames = 0;
  uint64_t tx_ring_full = 0;  // frames dropped because a TX ring had no room
  uint64_t tx_no_socket = 0;  // verdict named an interface this worker cannot send on
  uint64_t alloc_failed = 0;  // no free frame (steered packet could not be taken)
  uint64_t tx_errors = 0;     // send failures reported by the kernel
  // What the kernel reports for AF_XDP sockets (XDP_STATISTICS).
  uint64_t rx_dropped = 0;    // dropped for other reasons (e.g. frame too large)
  uint64_t rx_ring_full = 0;  // dropped: the receive ring was full (lvsd too slow)
  uint64_t fill_empty = 0;    // times the fill ring was empty (no buffer to receive into)
  uint64_t sleeps = 0;        // times the worker slept in poll()
  IoCounters& operator+=(const IoCounters& o) {
    rx_dropped += o.rx_dropped;
    rx_ring_full += o.rx_ring_full;
    fill_empty += o.fill_empty;
    sleeps += o.sleeps;
    rx_frames += o.rx_frames;
    tx_frames += o.tx_frames;
    tx_ring_full += o.tx_ring_full;
    tx_no_socket += o.tx_no_socket;
    alloc_failed += o.alloc_failed;
    tx_errors += o.tx_errors;
    return *this;
  }
};

class PacketIo {
 public:
  virtual ~PacketIo() = default;
  virtual std::string_view name() const = 0;

  // Fills up to `max` packets (data, len, headroom, tailroom, ifindex, mark) without blocking.
  virtual size_t rx_burst(core::Packet* pkts, size_t max) = 0;
  // Bytes a frame from alloc_frame holds.
  virtual uint32_t frame_room() const = 0;
  // Hands a free frame for a packet that arrives from another worker; false when none is free.
  // The caller copies the bytes in and includes it in the next tx_burst.
  virtual bool alloc_frame(core::Packet& pkt) = 0;
  // Ends a burst: packets with Verdict::kTx leave through out_ifindex, every other frame is
  // released. Every packet returned by rx_burst or alloc_frame must come back exactly once.
  virtual void tx_burst(core::Packet* pkts, size_t n) = 0;
  // File descriptors that become readable when frames arrive (for poll() when idle).
  virtual std::vector<int> poll_fds() const = 0;
  // Housekeeping when idle (completions, fill rings); cheap.
  virtual void service() {}
  // Frames handed to the kernel for sending whose completion has not come back yet.
  virtual bool tx_pending() const { return false; }
  virtual IoCounters counters() const = 0;
};

}  // namespace lvs::io
