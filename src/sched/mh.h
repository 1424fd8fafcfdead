// Maglev hashing (mh) beyond the registry's defaults: the lookup-table size and a view of the
// table, for tests, benchmarks and "where would this flow go" tools.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "sched/registry.h"
#include "sched/siphash.h"

namespace lvs::sched {

// IPVS's table sizes (ip_vs_mh.c primes[]), chosen by CONFIG_IP_VS_MH_TAB_INDEX 8..17.
inline constexpr std::array<uint32_t, 10> kMhPrimes = {251,  509,   1021,  2039,  4093,
                                                       8191, 16381, 32749, 65521, 131071};
inline constexpr unsigned kMhMinTabIndex = 8;
inline constexpr unsigned kMhMaxTabIndex = 17;
inline constexpr unsigned kMhDefaultTabIndex = 12;  // Kconfig default: 4093 entries

// The kernel's keys (generate_hash_secret): constants, not per-boot secrets, so every IPVS
// director builds the same table from the same servers. hash1 places flows and gives each
// server its starting offset; hash2 gives the server's skip.
inline constexpr SipKey kMhHash1{2654435761ull, 2654435761ull};
inline constexpr SipKey kMhHash2{2654446892ull, 2654446892ull};

struct MhConfig {
  unsigned tab_index = kMhDefaultTabIndex;  // table size kMhPrimes[tab_index - 8]
  SipKey hash1 = kMhHash1;
  SipKey hash2 = kMhHash2;
};

class MhScheduler : public Scheduler {
 public:
  // The lookup table: entry i is the server of flows whose hash lands on i (nullptr when the
  // service has no server with a weight).
  virtual std::span<Dest* const> lookup_table() const = 0;
  // The entry a source address and port hash to (the first choice, before any fallback).
  virtual uint32_t lookup_index(const net::IpAddr& saddr, uint16_t port) const = 0;
};

// nullptr when tab_index is outside 8..17.
std::unique_ptr<MhScheduler> make_mh_with(const SchedParams& params, const MhConfig& config);

}  // namespace lvs::sched
