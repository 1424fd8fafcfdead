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

// The FTP helper's work (ip_vs_ftp has no counters; these make it observable).
struct FtpCounters {
  uint64_t control = 0;        // control connections bound to the helper
  uint64_t untracked = 0;      // control connections past the table's ceiling: no helper
  uint64_t passive = 0;        // 227/229 replies rewritten, expectations made
  uint64_t active = 0;         // PORT/EPRT commands seen, data connections made
  uint64_t data_conns = 0;     // data connections created (both modes)
  uint64_t malformed = 0;      // commands or replies refused by the parser (passed unchanged)
  uint64_t expect_full = 0;    // expectations refused: table at its ceiling
  uint64_t requests_lost = 0;  // announcements to other workers lost: too many in one burst

  FtpCounters& operator+=(const FtpCounters& o) {
    control += o.control;
    untracked += o.untracked;
    passive += o.passive;
    active += o.active;
    data_conns += o.data_conns;
    malformed += o.malformed;
    expect_full += o.expect_full;
    requests_lost += o.requests_lost;
    return *this;
  }
};

struct EngineCounters {
  Counters total;
  uint64_t rx_packets = 0;
  uint64_t tx_packets = 0;
  uint64_t steered = 0;
  uint64_t icmp_sent = 0;
  uint64_t conns_expired = 0;
  // NAT connections sent to another server than the scheduler's first pick, whose 4-tuple a
  // live connection held; and UDP flows that shared one, with no other server (nat_tuple.cc).
  uint64_t nat_tuple_moved = 0;
  uint64_t nat_tuple_shared = 0;
  FtpCounters ftp;
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
    nat_tuple_moved += o.nat_tuple_moved;
    nat_tuple_shared += o.nat_tuple_shared;
    ftp += o.ftp;
    for (size_t i = 0; i < drops.size(); ++i) drops[i] += o.drops[i];
    return *this;
  }
};

}  // namespace lvs::core
