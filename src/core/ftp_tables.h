// The FTP helper's tables in one engine: the state of each helped control connection, the
// passive data connections clients have yet to open, and the data endpoints in use (what the
// classifier must keep sending to lvsd). IPVS keeps the first in ip_vs_conn (app_data, in_seq,
// out_seq) and the second as connections without a client port (IP_VS_CONN_F_NO_CPORT); here an
// expectation is not a connection, so it counts on no real server and can be copied to every
// worker (the client's port, which picks the owning worker, is not known yet).
//
// Flat open-addressing maps with a fixed ceiling: an insert never rehashes past the reserved
// size, so the packet path does not allocate.
#pragma once

#include <boost/container_hash/hash.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>
#include <cstdint>
#include <cstring>

#include "core/ftp_helper.h"
#include "core/types.h"
#include "net/addr.h"

namespace lvs::core {

// A helped control connection (IPVS: cp->app_data, cp->in_seq, cp->out_seq).
struct FtpCtlState {
  SeqAdjust in_seq;   // client -> server: FTP never resizes it, kept for symmetry with IPVS
  SeqAdjust out_seq;  // server -> client: 227/229 rewrites
  FtpMode mode = FtpMode::kActive;
};

// <client:* -> VIP:port> of a passive data connection.
struct FtpExpectKey {
  net::IpAddr caddr;
  net::IpAddr vaddr;
  uint16_t vport = 0;
  friend bool operator==(const FtpExpectKey&, const FtpExpectKey&) = default;
};

// Where the data connection goes, and the control connection's real server (whose counters and
// next hop it shares, as IPVS gives it cp->dest).
struct FtpExpectTarget {
  net::IpAddr daddr;
  uint16_t dport = 0;
  ServiceKey svc;
  net::IpAddr dest_addr;
  uint16_t dest_port = 0;
  uint32_t expires = 0;  // timer tick
};

// A data endpoint pair the classifier must pass to lvsd: client packets to vaddr:vport, real
// server packets from daddr:dport.
struct FtpEndpoint {
  net::IpAddr vaddr;
  uint16_t vport = 0;
  net::IpAddr daddr;
  uint16_t dport = 0;
  friend bool operator==(const FtpEndpoint&, const FtpEndpoint&) = default;
};

struct FtpHash {
  size_t operator()(const net::IpAddr& a) const {
    size_t h = boost::hash_range(a.bytes.begin(), a.bytes.end());
    boost::hash_combine(h, uint8_t(a.family));
    return h;
  }
  size_t operator()(const FtpExpectKey& k) const {
    size_t h = (*this)(k.caddr);
    boost::hash_combine(h, (*this)(k.vaddr));
    boost::hash_combine(h, k.vport);
    return h;
  }
  size_t operator()(const FtpEndpoint& e) const {
    size_t h = (*this)(e.vaddr);
    boost::hash_combine(h, (*this)(e.daddr));
    boost::hash_combine(h, (uint32_t(e.vport) << 16) | e.dport);
    return h;
  }
};

struct FtpTables {
  // Ceilings per engine. Control connections past the first: forwarded without the helper (and
  // counted); expectations past theirs: refused (and counted).
  static constexpr size_t kMaxControl = 1u << 16;
  static constexpr size_t kMaxExpect = 1u << 14;
  static constexpr size_t kMaxEndpoints = 1u << 14;

  FtpTables() {
    ctl.reserve(kMaxControl);
    expect.reserve(kMaxExpect);
    endpoints.reserve(kMaxEndpoints);
  }

  boost::unordered_flat_map<uint32_t, FtpCtlState> ctl;  // by connection index
  boost::unordered_flat_map<FtpExpectKey, FtpExpectTarget, FtpHash> expect;
  // Live passive data connections per endpoint pair.
  boost::unordered_flat_map<FtpEndpoint, uint32_t, FtpHash> endpoints;
  // Addresses of NAT and FULLNAT real servers (also removed ones that still carry connections):
  // a packet that matches no service is a reply when it comes from one of them, else a client's
  // packet to a data port. Rebuilt when real servers change.
  boost::unordered_flat_set<net::IpAddr, FtpHash> backend_addrs;
  bool backends_dirty = true;

  // Drops expectations whose tick has passed; returns how many.
  size_t purge(uint32_t now_tick) {
    return boost::unordered::erase_if(
        expect, [now_tick](const auto& kv) { return int32_t(kv.second.expires - now_tick) <= 0; });
  }
};

}  // namespace lvs::core
