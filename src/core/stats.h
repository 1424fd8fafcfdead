// Counters as IPVS keeps them (ip_vs_stats): per service, per real server and in total.
// Each worker owns its counters; readers sum the workers' copies.
#pragma once

#include <array>
#include <cstdint>

#include "core/types.h"

namespace lvs::core {

struct Counters {
  uint64_t conns = 0;
  uint64_t inpkts = 0;
  uint64_t outpkts = 0;
  uint64_t inbytes = 0;
  uint64_t outbytes = 0;

  Counters& operator+=(const Counters& o) {
    conns += o.conns;
    inpkts += o.inpkts;
    outpkts += o.outpkts;
    inbytes += o.inbytes;
    outbytes += o.outbytes;
    return *this;
  }
  friend bool operator==(const Counters&, const Counters&) = default;
};

struct EngineCounters {
  Counters total;
  uint64_t rx_packets = 0;
  uint64_t tx_packets = 0;
  uint64_t steered = 0;
  uint64_t icmp_sent = 0;
  uint64_t conns_expired = 0;
  std::array<uint64_t, size_t(DropReason::kCount)> drops{};

  uint64_t dropped() const {
    uint64_t n = 0;
    for (uint64_t d : drops) n += d;
    return n;
  }
  EngineCounters& operator+=(const EngineCounters& o) {
    total += o.total;
    rx_packets += o.rx_packets;
    tx_packets += o.tx_packets;
    steered += o.steered;
    icmp_sent += o.icmp_sent;
    conns_expired += o.conns_expired;
    for (size_t i = 0; i < drops.size(); ++i) drops[i] += o.drops[i];
    return *this;
  }
};

}  // namespace lvs::core
