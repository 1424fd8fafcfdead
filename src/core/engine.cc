#include "core/engine.h"

#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>

#include "core/engine_frame.h"
#include "core/ftp_tables.h"
#include "core/xmit.h"
#include "core/xmit_fnat.h"
#include "core/xmit_nat64.h"
#include "core/xmit_nat64_icmp.h"
#include "core/xmit_proxy.h"
#include "core/xmit_tun.h"
#include "core/icmp_too_big.h"
#include "core/sctp_states.h"
#include "net/headers.h"
#include "net/ttl.h"
#include "sched/registry.h"

namespace lvs::core {

namespace {

DropReason parse_drop_reason(net::ParseStatus s) {
  switch (s) {
    case net::ParseStatus::kTruncatedL2: return DropReason::kTruncatedL2;
    case net::ParseStatus::kNotIp: return DropReason::kNotIp;
    case net::ParseStatus::kTruncatedL3: return DropReason::kTruncatedL3;
    case net::ParseStatus::kBadIpVersion: return DropReason::kBadIpVersion;
    case net::ParseStatus::kBadIpHeaderLen: return DropReason::kBadIpHeaderLen;
    case net::ParseStatus::kBadIpChecksum: return DropReason::kBadIpChecksum;
    case net::ParseStatus::kBadIpLength: return DropReason::kBadIpLength;
    case net::ParseStatus::kBadExtHeader: return DropReason::kBadExtHeader;
    case net::ParseStatus::kFragment: return DropReason::kFragment;
    case net::ParseStatus::kTruncatedL4: return DropReason::kTruncatedL4;
    case net::ParseStatus::kBadL4Header: return DropReason::kBadL4Header;
    case net::ParseStatus::kOk:
    case net::ParseStatus::kCount: break;
  }
  return DropReason::kNone;
}


}  // namespace

uint16_t flow_owner(const uint8_t* addr, net::Family af, uint16_t port, uint64_t seed,
                    uint16_t workers) {
  if (workers <= 1) return 0;
  uint64_t w0 = 0, w1 = 0;
  std::memcpy(&w0, addr, af == net::Family::kV4 ? 4 : 8);
  if (af == net::Family::kV6) std::memcpy(&w1, addr + 8, 8);
  uint64_t h = (w0 ^ seed) * 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 32) ^ w1 ^ port) * 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  return uint16_t((h >> 32) % workers);
}

// Per-packet scratch of one burst.
struct Engine::Work {
  net::ParsedPacket p;
  IcmpError* icmp;  // an ICMP error about a connection, else nullptr
  Service* svc;
  ConnKey key;
  uint64_t hash;
  bool in;      // looked up on the client side (packet to a service)
  bool active;  // still to be handled in the last stage
};

Engine::Engine(const EngineConfig& cfg)
    : cfg_(cfg),
      conns_(cfg.conn_capacity, cfg.hash_seed),
      wheel_(conns_.pool()),
      rng_(cfg.random_seed) {
  laddrs_ = std::make_unique<uint8_t[][16]>(kMaxLocalAddrs);
  conns_.set_local_addrs(laddrs_.get());
  index_.rebuild(services_, cfg_.hash_seed);
  icmp_tokens_ = cfg_.icmp_burst;
}

Engine::~Engine() = default;

// ---------------------------------------------------------------------------------------------
// Data path.

// As ip_vs_service_find: the firewall mark first, then <proto, VIP, port>, then the VIP's
// port-0 ("all ports") service.
Service* Engine::lookup_service(const Packet& pkt, const net::ParsedPacket& p) const {
  const uint8_t* vip = daddr_of(pkt.data, p);
  uint32_t mark = pkt.mark;
  if (mark == 0 && !marks_.empty()) {
    mark = marks_.find(p.l4_proto, p.family, vip, p.dport);
    if (mark == 0) mark = marks_.find(p.l4_proto, p.family, vip, 0);  // every port
  }
  if (mark != 0) {
    if (Service* s = index_.find_fwmark(p.family, mark)) return s;
  }
  Service* s = index_.find(p.l4_proto, p.family, vip, p.dport);
  if (s == nullptr && port0_services_ != 0) s = index_.find(p.l4_proto, p.family, vip, 0);
  return s;
}

void Engine::process(std::span<Packet> burst, Nanos now) {
  const uint32_t now_tick = TimerWheel::to_tick(now);
  if (!started_) {
    wheel_.start(now_tick);
    icmp_last_ = now;
    started_ = true;
  }
  std::array<Work, kMaxBurst> work;
  while (!burst.empty()) {
    const size_t n = std::min(burst.size(), kMaxBurst);
    // Stage 1: classify, hash, prefetch the bucket.
    for (size_t i = 0; i < n; ++i) {
      Packet& pkt = burst[i];
      Work& w = work[i];
      w.active = false;
      ++counters_.rx_packets;
      pkt.verdict = Verdict::kDrop;
      pkt.reason = DropReason::kNone;
      w.p = net::parse_packet(pkt.data, pkt.len);
      const net::ParsedPacket& p = w.p;
      if (!p.ok()) {
        drop(pkt, parse_drop_reason(p.status));
        continue;
      }
      if (p.vlan_count != 0) {
        drop(pkt, DropReason::kVlanTagged);
        continue;
      }
      w.icmp = nullptr;
      const uint8_t* client;
      uint16_t cport;
      if (p.l4_proto == net::kProtoIcmp || p.l4_proto == net::kProtoIcmpv6) {
        // An error about a connection: keyed by the flow it quotes.
        if (!classify_icmp(pkt, w, icmp_scratch_[i])) continue;
        client = w.in ? w.key.a_addr : w.key.b_addr;
        cport = w.in ? w.key.a_port : w.key.b_port;
      } else if (!p.is_tcp() && !p.is_udp() && !p.is_sctp()) {
        drop(pkt, DropReason::kUnsupportedL4);
        continue;
      } else {
        w.svc = lookup_service(pkt, p);
        w.in = w.svc != nullptr;
        // FTP data ports have no service: a client's packet to one is told from a reply by its
        // source.
        if (!w.in && ftp_ != nullptr) w.in = ftp_client_side(pkt, p);
        // Client side of the flow: the source of a request, the destination of a reply.
        client = w.in ? saddr_of(pkt.data, p) : daddr_of(pkt.data, p);
        cport = w.in ? p.sport : p.dport;
      }
      if (cfg_.worker_count > 1) {
        const uint16_t owner =
            flow_owner(client, p.family, cport, cfg_.steer_seed, cfg_.worker_count);
        if (owner != cfg_.worker_index) {
          pkt.verdict = Verdict::kSteer;
          pkt.steer_to = owner;
          ++counters_.steered;
          continue;
        }
      }
      if (w.icmp == nullptr) {
        w.key = ConnKey{saddr_of(pkt.data, p), daddr_of(pkt.data, p), p.sport, p.dport,
                        p.l4_proto, af_of(p)};
      }
      w.hash = conns_.hash(w.key);
      if (w.in) {
        conns_.prefetch_in(w.hash);
      } else {
        conns_.prefetch_out(w.hash);
      }
      w.active = true;
    }
    // Stage 2: prefetch the first entry of each chain (up to three lines: a 100-byte entry
    // straddles a line boundary at some offsets).
    for (size_t i = 0; i < n; ++i) {
      if (!work[i].active) continue;
      const uint32_t head = work[i].in ? conns_.head_in(work[i].hash) : conns_.head_out(work[i].hash);
      if (head != kNil) {
        const auto* c = reinterpret_cast<const uint8_t*>(&conns_.at(head));
        __builtin_prefetch(c);
        __builtin_prefetch(c + 64);
        __builtin_prefetch(c + sizeof(Conn) - 1);
      }
    }
    // Stage 3: the connection logic and the transform.
    for (size_t i = 0; i < n; ++i) {
      if (work[i].active) handle(burst[i], work[i], now_tick, now);
    }
    flush_pending_links();
    burst = burst.subspan(n);
  }
}

void Engine::handle(Packet& pkt, Work& w, uint32_t now_tick, Nanos now) {
  if (w.icmp != nullptr) {
    handle_icmp(pkt, w, now);
    return;
  }
  if (w.in) {
    handle_in(pkt, w, conns_.find_in(w.hash, w.key), now_tick, now);
    return;
  }
  // A reply of a connection created earlier in this burst (a replayed capture, a test): make
  // the pending real-server-side links first.
  if (pending_count_ != 0) flush_pending_links();
  const uint32_t ci = conns_.find_out(w.hash, w.key);
  if (ci != kNil) {
    handle_out(pkt, w, ci, now_tick);
    return;
  }
  // Not a service and not a reply: maybe a client of a connection whose service was deleted;
  // IPVS keeps forwarding those until they expire. Both indexes hash the same key layout, so
  // the hash is reused.
  const uint32_t in_ci = conns_.find_in(w.hash, w.key);
  if (in_ci != kNil) {
    handle_in(pkt, w, in_ci, now_tick, now);
    return;
  }
  drop(pkt, DropReason::kNoService);
}

void Engine::handle_in(Packet& pkt, Work& w, uint32_t ci, uint32_t now_tick, Nanos now) {
  const net::ParsedPacket& p = w.p;
  const bool syn_only = p.is_tcp() && (p.tcp_flags & (net::kTcpSyn | net::kTcpAck)) == net::kTcpSyn;
  // SCTP's counterpart of the SYN: the chunk that opens an association.
  const int sctp_first = p.is_sctp() && p.has_sctp_chunk() ? p.sctp_chunk : -1;
  if (ci != kNil) {
    Conn& c = conns_.at(ci);
    const Dest& d = *dests_[c.dest];
    // A new SYN on a connection in TIME_WAIT/CLOSE starts a new connection (conn_reuse_mode 1);
    // so does one to a quiesced server when expire_nodest_conn is on. An SCTP INIT on a CLOSED
    // association likewise.
    const bool reopen = syn_only ? (c.state == kTcpTimeWait || c.state == kTcpClose)
                                 : sctp_is_new_conn(sctp_first) && sctp_new_conn_expected(c.state);
    if ((syn_only || sctp_is_new_conn(sctp_first)) && w.svc != nullptr &&
        (reopen || (cfg_.expire_nodest_conn && d.weight == 0))) {
      wheel_.disarm(ci);
      expire_conn(ci);
      ci = kNil;
    } else if (!(d.flags & sched::kDestAvailable) && cfg_.expire_nodest_conn) {
      wheel_.disarm(ci);
      expire_conn(ci);
      drop(pkt, DropReason::kDestUnavailable);
      return;
    }
  }
  if (ci == kNil && w.svc == nullptr) {
    // A client opening a passive FTP data connection, else nothing of ours.
    if (ftp_ != nullptr) ci = ftp_expected_conn(pkt, p, now_tick);
    if (ci == kNil) {
      drop(pkt, DropReason::kNoService);
      return;
    }
  }
  if (ci == kNil) {
    // TCP schedules on SYN only (IPVS tcp_conn_schedule; SYN+ACK too, for active FTP); SCTP
    // on INIT only (sctp_conn_schedule), and a packet without a chunk is dropped.
    if (p.is_tcp() && !(p.tcp_flags & net::kTcpSyn)) {
      drop(pkt, DropReason::kNoConnection);
      return;
    }
    if (p.is_sctp()) {
      switch (sctp_schedule(sctp_first)) {
        case SctpSchedule::kSchedule: break;
        case SctpSchedule::kIgnore: drop(pkt, DropReason::kNoConnection); return;
        case SctpSchedule::kDrop: drop(pkt, DropReason::kBadL4Header); return;
      }
    }
    ci = new_conn(pkt, w, now_tick, now);
    if (ci == kNil) return;  // dropped (and maybe answered) by new_conn
  }
  Conn& c = conns_.at(ci);
  Dest& d = *dests_[c.dest];
  set_state(c, Dir::kInput, p, pkt.data, ci, now_tick);

  const uint64_t bytes = p.l3_len;
  count_in(d, bytes);
  if (!forward_ttl(pkt, p, now)) return;

  switch (Fwd(c.fwd)) {
    case Fwd::kNat:
      if (!route_dest(pkt, d, false, p.l3_len)) return;
      if (c.flags & kConnFtpCtl) ftp_in(pkt, w.p, c, ci);
      nat_in(pkt.data, p, c);
      break;
    case Fwd::kFullNat:
      if ((c.flags & kConnProxyV2) && !proxy_v2_in(pkt, w.p, c)) {
        drop(pkt, DropReason::kMtuExceeded);  // no headroom: nowhere to put the header
        return;
      }
      if (c.flags & kConnNat64) {
        // NAT64: the IPv6 packet becomes IPv4 from the local address; p is stale after it.
        const uint32_t l3 = nat64_in_l3_len(p);
        Nat64Status st = Nat64Status::kOk;
        if (nat64_in(pkt, p, c, laddrs_[c.laddr], &st) == 0) {
          drop(pkt, st == Nat64Status::kNoHeadroom ? DropReason::kMtuExceeded
                                                   : DropReason::kNat64Untranslatable);
          return;
        }
        route_dest(pkt, d, false, l3);
        break;
      }
      if (!route_dest(pkt, d, false, p.l3_len)) return;
      fnat_in(pkt.data, p, c, laddrs_[c.laddr]);
      break;
    case Fwd::kDr:
      route_dest(pkt, d, true, p.l3_len);
      break;
    case Fwd::kTun:
      xmit_tun(pkt, p, d, now);
      break;
  }
}

void Engine::handle_out(Packet& pkt, Work& w, uint32_t ci, uint32_t now_tick) {
  const net::ParsedPacket& p = w.p;
  Conn& c = conns_.at(ci);
  if (c.flags & kConnNoOutput) {
    // Replies of DR/TUN connections never come back through the director.
    drop(pkt, DropReason::kNoService);
    return;
  }
  // The reply is routed: its TTL drops first, and one that would expire is not ours to count
  // (the kernel drops it before IPVS sees it).
  if (c.flags & kConnProxyV2) proxy_v2_out(pkt.data, p, c);
  if (c.flags & kConnNat64) {
    handle_out_nat64(pkt, w, ci, now_tick);
    return;
  }
  if ((c.flags & kConnFtpCtl) && !ftp_out(pkt, w.p, c, ci)) return;
  const bool ok = c.fwd == uint8_t(Fwd::kFullNat) ? fnat_out(pkt.data, p, c) : nat_out(pkt.data, p, c);
  if (!ok) {
    drop(pkt, DropReason::kTtlExceeded);
    return;
  }
  Dest& d = *dests_[c.dest];
  set_state(c, Dir::kOutput, p, pkt.data, ci, now_tick);
  const uint64_t bytes = p.l3_len;
  count_out(d, bytes);
  route(pkt, addr_of(c.caddr, c.af), false, p.l3_len);
}

// ICMP errors (ip_vs_in_icmp / ip_vs_out_icmp): the quoted flow, reversed, is a connection's
// client side (an error from the client's side about a reply) or its real-server side (an error
// about a packet we sent to a real server). Sets w.svc/w.in/w.key; false if dropped.
bool Engine::classify_icmp(Packet& pkt, Work& w, IcmpError& e) {
  const net::ParsedPacket& p = w.p;
  if (!classify_icmp_error(pkt.data, pkt.len, p, e)) {
    switch (e.status) {
      case IcmpDrop::kNotRelayed:
      case IcmpDrop::kNotIcmp: drop(pkt, DropReason::kIcmpNotRelayed); break;
      case IcmpDrop::kBadChecksum: drop(pkt, DropReason::kIcmpBadChecksum); break;
      default: drop(pkt, DropReason::kIcmpBadQuote); break;
    }
    return false;
  }
  w.icmp = &e;
  w.key = e.key;
  w.svc = index_.find(e.key.proto, p.family, e.key.b_addr, e.key.b_port);
  if (w.svc == nullptr && port0_services_ != 0) {
    w.svc = index_.find(e.key.proto, p.family, e.key.b_addr, 0);
  }
  w.in = w.svc != nullptr;
  return true;
}

// IPVS relays an error to the other side of the connection and changes no state or timer.
void Engine::handle_icmp(Packet& pkt, Work& w, Nanos now) {
  const net::ParsedPacket& p = w.p;
  const IcmpError& e = *w.icmp;
  if (pending_count_ != 0) flush_pending_links();
  const uint32_t ci = w.in ? conns_.find_in(w.hash, w.key) : conns_.find_out(w.hash, w.key);
  if (ci == kNil) {
    drop(pkt, DropReason::kIcmpNoConnection);
    return;
  }
  Conn& c = conns_.at(ci);
  Dest& d = *dests_[c.dest];
  const uint64_t bytes = p.l3_len;
  if (w.in) {
    count_in(d, bytes);
    if (!forward_ttl(pkt, p, now)) return;
    if (c.flags & kConnNat64) {
      // ICMPv6 from the client's side becomes ICMPv4 to the real server; p is stale after it.
      Nat64Status st = Nat64Status::kOk;
      if (icmp_nat64_in(pkt, p, e, c, laddrs_[c.laddr], &st) == 0) {
        drop(pkt, st == Nat64Status::kNoHeadroom ? DropReason::kMtuExceeded
                                                 : DropReason::kIcmpNat64);
        return;
      }
      route_dest(pkt, d, false, pkt.len - net::kEthHdrLen);
      return;
    }
    switch (Fwd(c.fwd)) {
      case Fwd::kNat:
        if (!route_dest(pkt, d, false, p.l3_len)) return;
        icmp_nat_in(pkt.data, p, e, c);
        break;
      case Fwd::kDr: route_dest(pkt, d, true, p.l3_len); break;
      case Fwd::kTun: xmit_tun(pkt, p, d, now); break;
      case Fwd::kFullNat:
        if (!route_dest(pkt, d, false, p.l3_len)) return;
        icmp_fnat_in(pkt.data, p, e, c, laddrs_[c.laddr]);
        break;
    }
    return;
  }
  if (c.flags & kConnNoOutput) {
    drop(pkt, DropReason::kIcmpNoConnection);  // DR/TUN: the kernel's business, not ours
    return;
  }
  if (c.flags & kConnNat64) {
    // ICMPv4 from the real server's side becomes ICMPv6 to the client.
    Nat64Status st = Nat64Status::kOk;
    if (icmp_nat64_out(pkt, p, e, c, &st) == 0) {
      drop(pkt, st == Nat64Status::kTtlExceeded   ? DropReason::kTtlExceeded
                : st == Nat64Status::kNoHeadroom ? DropReason::kMtuExceeded
                                                 : DropReason::kIcmpNat64);
      return;
    }
    count_out(d, bytes);
    route(pkt, c.client(), false, pkt.len - net::kEthHdrLen);
    return;
  }
  const bool fnat = c.fwd == uint8_t(Fwd::kFullNat);
  if (!(fnat ? icmp_fnat_out(pkt.data, p, e, c) : icmp_nat_out(pkt.data, p, e, c))) {
    drop(pkt, DropReason::kTtlExceeded);
    return;
  }
  count_out(d, bytes);
  route(pkt, addr_of(daddr_of(pkt.data, p), af_of(p)), false, p.l3_len);
}

// NAT64 replies: IPv4 from the real server becomes IPv6 from the VIP. The state moves first,
// while the parse still describes the frame.
void Engine::handle_out_nat64(Packet& pkt, Work& w, uint32_t ci, uint32_t now_tick) {
  const net::ParsedPacket& p = w.p;
  Conn& c = conns_.at(ci);
  Dest& d = *dests_[c.dest];
  const uint32_t l3 = nat64_out_l3_len(p);
  const uint64_t bytes = p.l3_len;
  set_state(c, Dir::kOutput, p, pkt.data, ci, now_tick);
  Nat64Status st = Nat64Status::kOk;
  if (nat64_out(pkt, p, c, &st) == 0) {
    drop(pkt, st == Nat64Status::kTtlExceeded   ? DropReason::kTtlExceeded
              : st == Nat64Status::kNoHeadroom ? DropReason::kMtuExceeded
                                               : DropReason::kNat64Untranslatable);
    return;
  }
  count_out(d, bytes);
  route(pkt, c.client(), false, l3);
}

uint32_t Engine::new_conn(Packet& pkt, Work& w, uint32_t now_tick, Nanos now) {
  const net::ParsedPacket& p = w.p;
  Service& svc = *w.svc;
  const uint8_t af = af_of(p);
  Dest* d = nullptr;
  uint32_t ti = kNil;
  if (svc.persistence_timeout != 0) {
    DropReason why = DropReason::kNone;
    ti = persist_template(svc, w, now_tick, now, &d, &why);
    if (ti == kNil) {
      drop(pkt, why);
      if (why == DropReason::kNoRealServer) reply_port_unreachable(pkt, p, now);
      return kNil;
    }
  } else {
    const net::IpAddr saddr = addr_of(w.key.a_addr, af);
    const net::IpAddr daddr = addr_of(w.key.b_addr, af);
    const sched::SchedPacket sp{&saddr, &daddr, p.sport, p.dport, p.l4_proto, now};
    d = static_cast<Dest*>(svc.sched->schedule(svc.dests, sp));
    if (d == nullptr) {
      drop(pkt, DropReason::kNoRealServer);
      reply_port_unreachable(pkt, p, now);
      return kNil;
    }
    if (d->fwd == Fwd::kNat && tuple_shared(*d) && !(svc.one_packet && p.is_udp())) {
      bool busy = false;
      d = schedule_nat_tuple(svc, sp, d, p, w.key.a_addr, af, &busy);
      if (busy && !share_nat_tuple(pkt, p)) return kNil;
    }
  }
  // The server's port where it has one; port-0 (all ports) services keep the client's. A
  // persistent service maps only its own port (ip_vs_sched_persist).
  uint16_t dport;
  if (svc.persistence_timeout != 0) {
    dport = (p.dport == svc.key.port && d->port != 0) ? d->port : p.dport;
  } else {
    dport = d->port != 0 ? d->port : p.dport;
  }
  const bool one_packet = svc.one_packet && p.is_udp();
  // A persistent client keeps its server: no other one is asked (nat_tuple.cc).
  if (ti != kNil && d->fwd == Fwd::kNat && !one_packet && tuple_shared(*d) &&
      nat_tuple_busy(*d, dport, p, w.key.a_addr, af) && !share_nat_tuple(pkt, p)) {
    return kNil;
  }
  if (one_packet && d->fwd == Fwd::kNat) {
    // ONE-PACKET NAT: one entry per client endpoint and server carries the replies of all its
    // datagrams.
    if (pending_count_ != 0) flush_pending_links();
    const ConnKey ok{d->addr.data(), w.key.a_addr, dport, p.sport, p.l4_proto, af};
    const uint32_t found = conns_.find_out(conns_.hash(ok), ok);
    if (found != kNil && (conns_.at(found).flags & kConnOnePacket)) {
      ++d->stats.conns;
      ++svc.stats.conns;
      ++counters_.total.conns;
      return found;
    }
  }
  const uint32_t ci = conns_.alloc();
  if (ci == kNil) {
    drop(pkt, DropReason::kTableFull);
    return kNil;
  }
  Conn& c = conns_.at(ci);
  c.proto = p.l4_proto;
  c.af = af;
  c.state = kTcpNone;
  c.fwd = uint8_t(d->fwd);
  c.flags |= kConnInactive;  // every new connection starts inactive, as in IPVS
  if (d->fwd == Fwd::kDr || d->fwd == Fwd::kTun) c.flags |= kConnNoOutput;
  const size_t alen = af == 4 ? 4 : 16;
  std::memcpy(c.caddr, w.key.a_addr, alen);
  std::memcpy(c.vaddr, w.key.b_addr, alen);
  std::memcpy(c.daddr, d->addr.data(), d->addr.size());
  c.cport = p.sport;
  c.vport = p.dport;
  c.dport = dport;
  c.dest = d->index;
  if (d->fwd == Fwd::kFullNat) {
    if (d->addr.family != p.family) c.flags |= kConnNat64;
    if (!alloc_local_port(svc, *d, c.dport, c.proto, c)) {
      conns_.free(ci);
      drop(pkt, DropReason::kNoLocalPort);
      return kNil;
    }
    c.flags |= kConnFullNat;
    if (svc.proxy_protocol && p.is_tcp()) {
      c.flags |= kConnProxyV2;
      c.isn = net::load_be32(pkt.data + p.l4_offset + 4);
    }
  }
  // ONE-PACKET: never found from the client side, so the next datagram is scheduled anew; NAT
  // replies still find it from the real-server side until it expires.
  if (one_packet) c.flags |= kConnOnePacket | kConnUnhashed;
  // Client side now (a second packet of this flow in the same burst must find it); the
  // real-server side at the end of the burst, its bucket prefetched meanwhile: no reply of a
  // connection can arrive in the burst that creates it. FULLNAT links both now: the local port
  // search must see this burst's connections.
  if (!(c.flags & kConnOnePacket)) conns_.link_in(ci);
  const uint64_t ho = conns_.out_hash(ci);
  if (c.flags & kConnFullNat) {
    conns_.link_out(ci, ho);
  } else {
    conns_.prefetch_out(ho);
    pending_links_[pending_count_++] = PendingLink{ci, ho};
  }
  wheel_.arm(ci, now_tick + ticks(kNewConnTimeoutSec));
  if (ti != kNil) {
    // Under a template: it controls this connection, and each use extends it (ip_vs_conn_put).
    Conn& t = conns_.at(ti);
    c.control = ti;
    ++t.n_control;
    wheel_.rearm(ti, now_tick + ticks(t.template_timeout));
  }

  if (ftp_ != nullptr) ftp_bind(c, ci);
  ++d->refcnt;
  ++d->inactive_conns;
  bind_counts(*d);
  ++d->stats.conns;
  ++svc.stats.conns;
  ++counters_.total.conns;
  return ci;
}

// FULLNAT's local port: the first free <local address, port> towards <real server, port>, local
// addresses taken in turn. A port qualifies only if replies to it come to this worker (the reply's
// destination is the local endpoint, so flow_owner must name us), and only if no connection uses
// the same four-tuple on the real-server side: the table is the allocator, so there is no
// collision and nothing to free.
bool Engine::alloc_local_port(Service& svc, const Dest& d, uint16_t dport, uint8_t proto,
                              Conn& c) {
  constexpr uint32_t kFirstPort = 1024;
  constexpr uint32_t kPorts = 65536 - kFirstPort;
  constexpr uint32_t kTries = 256;  // per local address; a full table is not searched to the end
  const uint8_t out_af = d.addr.is_v4() ? 4 : 6;
  const net::Family fam = d.addr.family;
  const size_t n = svc.laddrs.size();
  for (size_t k = 0; k < n; ++k) {
    const uint16_t li = svc.laddrs[(svc.laddr_next + k) % n];
    uint16_t& cursor = lport_next_[li];
    uint32_t owned_tries = 0;
    for (uint32_t step = 0; step < kPorts && owned_tries < kTries; ++step) {
      const uint16_t port = uint16_t(kFirstPort + (cursor + step) % kPorts);
      if (cfg_.worker_count > 1 &&
          flow_owner(laddrs_[li], fam, port, cfg_.steer_seed, cfg_.worker_count) !=
              cfg_.worker_index) {
        continue;
      }
      ++owned_tries;
      const ConnKey key{d.addr.data(), laddrs_[li], dport, port, proto, out_af};
      if (conns_.find_out(conns_.hash(key), key) != kNil) continue;
      cursor = uint16_t((cursor + step + 1) % kPorts);
      c.laddr = li;
      c.lport = port;
      svc.laddr_next = uint32_t((svc.laddr_next + k + 1) % n);
      return true;
    }
  }
  return false;
}

// A template is valid while its server is in the service and, with expire_quiescent_template,
// has a positive weight (ip_vs_check_template).
bool Engine::template_valid(const Conn& t) const {
  const Dest& d = *dests_[t.dest];
  if (!(d.flags & sched::kDestAvailable)) return false;
  return !(cfg_.expire_quiescent_template && d.weight == 0);
}

// ip_vs_sched_persist: the template <proto, client network, 0, VIP, port> pins the client to
// a real server. The port is the service's for ordinary services, 0 for port-0 services, fwmark
// services (whose template holds the mark instead of the VIP, proto 0) and FTP (port 21, whose
// data connections use other ports).
uint32_t Engine::persist_template(Service& svc, const Work& w, uint32_t now_tick, Nanos now,
                                  Dest** dest, DropReason* why) {
  constexpr uint16_t kFtpPort = 21;
  const net::ParsedPacket& p = w.p;
  const uint8_t af = af_of(p);
  const size_t alen = af == 4 ? 4 : 16;
  uint8_t snet[16] = {};
  std::memcpy(snet, w.key.a_addr, alen);
  const unsigned prefix = svc.persistence_prefix;
  for (unsigned bit = prefix; bit < alen * 8; ++bit) snet[bit / 8] &= uint8_t(~(0x80u >> (bit % 8)));
  uint8_t vaddr[16] = {};
  uint8_t proto = p.l4_proto;
  uint16_t vport = 0;
  if (svc.key.fwmark != 0) {
    proto = 0;
    net::store_be32(vaddr, svc.key.fwmark);
  } else {
    std::memcpy(vaddr, w.key.b_addr, alen);
    if (p.dport == svc.key.port && svc.key.port != kFtpPort) vport = p.dport;
  }
  const ConnKey key{snet, vaddr, 0, vport, proto, af};
  const uint64_t h = conns_.hash(key);
  uint32_t ti = conns_.find_template(h, key);
  if (ti != kNil && !template_valid(conns_.at(ti))) {
    // Invalidated as IPVS does: no longer found, left to expire while its connections finish.
    conns_.unlink_in(ti);
    ti = kNil;
  }
  if (ti != kNil) {
    *dest = dests_[conns_.at(ti).dest].get();
    return ti;
  }
  const net::IpAddr saddr = addr_of(w.key.a_addr, af);
  const net::IpAddr daddr = addr_of(w.key.b_addr, af);
  const sched::SchedPacket sp{&saddr, &daddr, p.sport, p.dport, p.l4_proto, now};
  Dest* d = static_cast<Dest*>(svc.sched->schedule(svc.dests, sp));
  if (d == nullptr) {
    *why = DropReason::kNoRealServer;
    return kNil;
  }
  ti = conns_.alloc();
  if (ti == kNil) {
    *why = DropReason::kTableFull;
    return kNil;
  }
  Conn& t = conns_.at(ti);
  t.proto = proto;
  t.af = af;
  t.state = kTcpNone;
  t.fwd = uint8_t(d->fwd);
  t.flags |= kConnTemplate;
  t.n_control = 0;
  std::memcpy(t.caddr, snet, alen);
  std::memcpy(t.vaddr, vaddr, alen);
  std::memcpy(t.daddr, d->addr.data(), alen);
  t.cport = 0;
  t.vport = vport;
  t.dport = d->port;
  t.dest = d->index;
  t.template_timeout = svc.persistence_timeout;
  conns_.link_in(ti);
  wheel_.arm(ti, now_tick + ticks(t.template_timeout));
  ++d->refcnt;
  ++d->persist_conns;
  bind_counts(*d);
  *dest = d;
  return ti;
}

// Moves a connection between its server's active and inactive counts (IPVS counts only
// established connections as active).
void Engine::count_active(Conn& c, bool active) {
  Dest& d = *dests_[c.dest];
  const bool inactive = c.flags & kConnInactive;
  if (!inactive && !active) {
    --d.active_conns;
    ++d.inactive_conns;
    c.flags |= kConnInactive;
    if (d.svc) d.svc->sched->on_conn_counts(d);
  } else if (inactive && active) {
    ++d.active_conns;
    --d.inactive_conns;
    c.flags &= uint16_t(~kConnInactive);
    if (d.svc) d.svc->sched->on_conn_counts(d);
  }
}

void Engine::set_state(Conn& c, Dir dir, const net::ParsedPacket& p, const uint8_t* frame,
                       uint32_t ci, uint32_t now_tick) {
  uint32_t timeout;
  if (c.proto == net::kProtoTcp) {
    // A connection whose replies bypass us follows the INPUT-ONLY table until a reply shows up.
    if (c.flags & kConnNoOutput) {
      if (dir == Dir::kOutput) {
        c.flags &= uint16_t(~kConnNoOutput);
      } else {
        dir = Dir::kInputOnly;
      }
    }
    const uint8_t next = tcp_next_state(dir, p.tcp_flags, c.state);
    if (next != c.state) {
      count_active(c, next == kTcpEstablished);
      c.state = next;
    }
    timeout = timeouts_.tcp[c.state];
  } else if (c.proto == net::kProtoSctp) {
    if (c.flags & kConnNoOutput) {
      if (dir == Dir::kOutput) {
        c.flags &= uint16_t(~kConnNoOutput);
      } else {
        dir = Dir::kInputOnly;
      }
    }
    // The frame's first chunk, or ABORT when COOKIE ECHO/ACK carries one (sctp_state_chunk);
    // a packet without a chunk only refreshes the timer, as in IPVS.
    const int chunk = sctp_state_chunk(frame + p.l4_offset, p.l4_len());
    if (chunk >= 0) {
      const uint8_t next = sctp_next_state(dir, uint8_t(chunk), c.state);
      if (next != c.state) {
        count_active(c, sctp_state_active(next));
        c.state = next;
      }
    }
    timeout = sctp_timeout(c.state);
  } else {
    timeout = timeouts_.udp;
  }
  // A ONE-PACKET entry whose replies bypass us has done its work (IPVS frees it at once).
  if ((c.flags & (kConnOnePacket | kConnNoOutput)) == (kConnOnePacket | kConnNoOutput)) {
    wheel_.rearm(ci, now_tick + 1);
    return;
  }
  wheel_.rearm(ci, now_tick + ticks(timeout));
}

DropReason Engine::next_hop(const net::IpAddr& dst, bool on_link, NextHop& nh) {
  if (routes_ == nullptr) return DropReason::kNoRoute;
  RouteResult miss;
  if (const NextHop* found = routes_->find(dst, on_link, &miss)) {
    nh = *found;
    return DropReason::kNone;
  }
  switch (miss.status) {
    case RouteStatus::kNoRoute:
      return DropReason::kNoRoute;
    case RouteStatus::kNotAttached:
      return DropReason::kRouteNotAttached;
    case RouteStatus::kNoNeighbour:
      for (size_t i = 0; i < neigh_req_count_; ++i) {
        if (neigh_req_[i].ifindex == miss.resolve_ifindex && neigh_req_[i].addr == miss.resolve) {
          return DropReason::kNoNeighbour;
        }
      }
      if (neigh_req_count_ < neigh_req_.size()) {
        neigh_req_[neigh_req_count_++] = NeighRequest{miss.resolve_ifindex, miss.resolve};
      }
      return DropReason::kNoNeighbour;
    case RouteStatus::kOk:
      break;
  }
  return DropReason::kNoRoute;
}

void Engine::emit(Packet& pkt, const NextHop& nh) {
  set_l2(pkt.data, nh);
  pkt.out_ifindex = nh.ifindex;
  pkt.verdict = Verdict::kTx;
  ++counters_.tx_packets;
}

bool Engine::route(Packet& pkt, const net::IpAddr& dst, bool on_link, uint32_t l3_len) {
  NextHop nh;
  DropReason r = next_hop(dst, on_link, nh);
  if (r == DropReason::kNone && l3_len > nh.mtu) r = DropReason::kMtuExceeded;
  if (r != DropReason::kNone) {
    drop(pkt, r);
    return false;
  }
  emit(pkt, nh);
  return true;
}

// VS/TUN: routed to the real server inside an outer header from the egress interface's address
// (ip_vs_tunnel_xmit). What no longer fits the path is answered with a too-big error.
void Engine::xmit_tun(Packet& pkt, const net::ParsedPacket& p, Dest& d, Nanos now) {
  TunParams t;
  t.type = d.tun_type;
  t.port = d.tun_port;
  t.flags = d.tun_flags;
  t.outer_dst = d.addr;
  const uint32_t overhead = tun_overhead(t, p.family);
  if (!refresh_dest_route(pkt, d, false)) return;
  if (d.nh_src.family == net::Family::kNone) {
    drop(pkt, DropReason::kNoRoute);  // the egress interface has no address of that family
    return;
  }
  if (p.l3_len + overhead > d.nh.mtu) {
    drop(pkt, DropReason::kMtuExceeded);
    reply_too_big(pkt, p, tun_inner_mtu(d.nh.mtu, t, p.family), now);
    return;
  }
  t.outer_src = d.nh_src;
  t.ip_id = tun_ip_id_++;
  uint8_t* frame = pkt.data;
  const size_t len = tun_encap(frame, pkt.len, pkt.headroom, p, t);
  if (len == 0) {
    drop(pkt, DropReason::kMtuExceeded);  // no headroom for the outer header
    return;
  }
  pkt.headroom -= uint32_t(pkt.data - frame);
  pkt.data = frame;
  pkt.len = uint32_t(len);
  emit(pkt, d.nh);
}

bool Engine::refresh_dest_route(Packet& pkt, Dest& d, bool on_link) {
  // A connection's real-server address is its dest's, so the dest keys the cache.
  if (d.nh_gen != routes_gen_ || d.nh_on_link != on_link) {
    NextHop nh;
    const DropReason r = next_hop(d.addr, on_link, nh);
    if (r != DropReason::kNone) {
      drop(pkt, r);
      return false;
    }
    d.nh = nh;
    d.nh_gen = routes_gen_;
    d.nh_on_link = on_link;
    const Iface* ifc = routes_->iface(nh.ifindex);
    d.nh_src = ifc == nullptr ? net::IpAddr{} : d.addr.is_v4() ? ifc->addr4 : ifc->addr6;
  }
  return true;
}

bool Engine::route_dest(Packet& pkt, Dest& d, bool on_link, uint32_t l3_len) {
  if (!refresh_dest_route(pkt, d, on_link)) return false;
  if (l3_len > d.nh.mtu) {
    drop(pkt, DropReason::kMtuExceeded);
    return false;
  }
  emit(pkt, d.nh);
  return true;
}

// Called for a packet already counted as dropped (no real server): the frame is turned into
// the ICMP error IPVS sends (ip_vs_leave -> icmp_send), if the rate limit and a route allow.
void Engine::reply_port_unreachable(Packet& pkt, const net::ParsedPacket& p, Nanos now) {
  reply_icmp(pkt, p, now, true,
             [&] { return build_port_unreachable(pkt.data, pkt.len, pkt.tailroom, p); });
}

// A packet too big for the tunnel to its real server (already counted as dropped) becomes the
// "fragmentation needed" / "packet too big" error IPVS sends, carrying the MTU left inside the
// tunnel, so the client's path MTU discovery shrinks its segments. Like the kernel's, these are
// not rate limited: path MTU discovery depends on every one of them.
void Engine::reply_too_big(Packet& pkt, const net::ParsedPacket& p, uint32_t mtu, Nanos now) {
  if (mtu == 0 || !needs_too_big(p, pkt.data, mtu)) return;
  reply_icmp(pkt, p, now, false,
             [&] { return build_too_big(pkt.data, pkt.len, pkt.tailroom, p, mtu); });
}

template <typename Build>
void Engine::reply_icmp(Packet& pkt, const net::ParsedPacket& p, Nanos now, bool limited,
                        Build&& build) {
  if (limited) {
    icmp_tokens_ = std::min<double>(
        cfg_.icmp_burst,
        icmp_tokens_ + double(now - icmp_last_) * cfg_.icmp_rate_per_sec / double(kNanosPerSec));
    icmp_last_ = now;
    if (icmp_tokens_ < 1) return;
  }
  const net::IpAddr client = addr_of(saddr_of(pkt.data, p), af_of(p));
  NextHop nh;
  if (next_hop(client, false, nh) != DropReason::kNone) return;
  const size_t len = build();
  if (len == 0) return;
  if (limited) icmp_tokens_ -= 1;
  pkt.tailroom = uint32_t(pkt.len + pkt.tailroom - len);  // the error may be shorter or longer
  pkt.len = uint32_t(len);
  emit(pkt, nh);
  ++counters_.icmp_sent;
}

// IPVS's decrement_ttl (__ip_vs_get_out_rt, kernel 4.10 on): a packet sent on to a real server
// is routed, so its TTL (hop limit) drops by one; one that would expire is dropped and answered
// with time exceeded from the VIP, rate limited like the kernel's.
bool Engine::forward_ttl(Packet& pkt, const net::ParsedPacket& p, Nanos now) {
  if (net::decrement_ttl(pkt.data + p.l3_offset, p.family)) return true;
  drop(pkt, DropReason::kTtlExceeded);
  if (!may_answer_with_error(p, pkt.data)) return false;
  const bool v4 = p.family == net::Family::kV4;
  reply_icmp(pkt, p, now, true, [&] {
    return build_icmp_error(pkt.data, pkt.len, pkt.tailroom, p, v4 ? 11 : 3, 0, 0, nullptr);
  });
  return false;
}

size_t Engine::expire(Nanos now, size_t budget) {
  const uint32_t now_tick = TimerWheel::to_tick(now);
  if (!started_) {
    wheel_.start(now_tick);
    icmp_last_ = now;
    started_ = true;
    return 0;
  }
  return wheel_.advance(now_tick, budget, [this](uint32_t ci) { expire_conn(ci); });
}

void Engine::expire_conn(uint32_t ci) {
  if (pending_count_ != 0) flush_pending_links();  // unlink() needs both links in place
  Conn& c = conns_.at(ci);
  Dest& d = *dests_[c.dest];
  if (c.flags & kConnTemplate) {
    // A template outlives its timeout while it controls connections (ip_vs_conn_expire).
    if (c.n_control != 0) {
      wheel_.arm(ci, wheel_.now_tick() + ticks(c.template_timeout));
      return;
    }
    conns_.unlink(ci);
    --d.persist_conns;
    unbind_counts(d);
  } else {
    conns_.unlink(ci);
    if (c.control != kNil) --conns_.at(c.control).n_control;
    if (c.flags & kConnInactive) {
      --d.inactive_conns;
    } else {
      --d.active_conns;
    }
    unbind_counts(d);
    if (c.flags & (kConnFtpCtl | kConnFtpData)) ftp_release(c, ci);
  }
  conns_.free(ci);
  ++counters_.conns_expired;
  if (--d.refcnt == 0 && d.trashed) release_dest(d);
}

// Upper threshold: a server at or over it is overloaded (ip_vs_bind_dest).
void Engine::bind_counts(Dest& d) {
  if (d.u_threshold != 0 && d.active_conns + d.inactive_conns >= d.u_threshold) {
    d.flags |= sched::kDestOverload;
  }
  if (d.svc) d.svc->sched->on_conn_counts(d);
}

// Overload clears below the lower threshold, or below 3/4 of the upper one (ip_vs_unbind_dest).
void Engine::unbind_counts(Dest& d) {
  const uint32_t total = d.active_conns + d.inactive_conns;
  if (d.l_threshold != 0) {
    if (total < d.l_threshold) d.flags &= ~sched::kDestOverload;
  } else if (d.u_threshold != 0) {
    if (uint64_t(total) * 4 < uint64_t(d.u_threshold) * 3) d.flags &= ~sched::kDestOverload;
  } else {
    d.flags &= ~sched::kDestOverload;
  }
  if (d.svc) d.svc->sched->on_conn_counts(d);
}

// ---------------------------------------------------------------------------------------------
// Control path.

Service* Engine::find_service_mut(const ServiceKey& key) const { return index_.find_key(key); }

const Service* Engine::find_service(const ServiceKey& key) const { return find_service_mut(key); }


namespace {

// What IPVS (and FULLNAT's local address rules) refuse in a service whatever it had before.
Status check_service_spec(const ServiceSpec& spec) {
  if (spec.key.fwmark == 0 && spec.key.port == 0 && !spec.persistent()) {
    return Status::error("port 0 (all ports) needs a persistent service");
  }
  if (spec.one_packet && spec.key.fwmark == 0 && spec.key.proto != net::kProtoUdp) {
    return Status::error("one-packet scheduling is for UDP services only");
  }
  if (spec.proxy_protocol && spec.local_addrs.empty()) {
    return Status::error("the PROXY protocol needs FULLNAT local addresses");
  }
  for (const net::IpAddr& a : spec.local_addrs) {
    if (a.family != spec.local_addrs.front().family) {
      return Status::error("local addresses of one service must share a family");
    }
  }
  return {};
}

}  // namespace

// Local addresses join the engine's table (or find their slot there) before anything changes,
// so a full table refuses the edit whole.
Status Engine::set_local_addrs(Service& svc, const ServiceSpec& spec) {
  std::vector<uint16_t> idx;
  for (const net::IpAddr& a : spec.local_addrs) {
    size_t i = 0;
    while (i < laddr_list_.size() && !(laddr_list_[i] == a)) ++i;
    if (i == laddr_list_.size()) {
      if (i == kMaxLocalAddrs) return Status::error("too many FULLNAT local addresses (4096)");
      laddr_list_.push_back(a);
      lport_next_.push_back(0);
      std::memset(laddrs_[i], 0, 16);
      std::memcpy(laddrs_[i], a.data(), a.size());
    }
    idx.push_back(uint16_t(i));
  }
  if (!idx.empty()) {
    for (const sched::Dest* sd : svc.dests) {
      const auto* d = static_cast<const Dest*>(sd);
      if (d->fwd == Fwd::kFullNat && d->addr.family != spec.local_addrs.front().family) {
        return Status::error("local addresses must have the FULLNAT real servers' family");
      }
    }
  } else {
    for (const sched::Dest* sd : svc.dests) {
      if (static_cast<const Dest*>(sd)->fwd == Fwd::kFullNat) {
        return Status::error("FULLNAT real servers need local addresses in their service");
      }
    }
  }
  svc.laddrs = std::move(idx);
  svc.laddr_family = spec.local_addrs.empty() ? net::Family::kNone : spec.local_addrs.front().family;
  svc.proxy_protocol = spec.proxy_protocol;
  svc.one_packet = spec.one_packet;
  return {};
}

Status Engine::add_service(const ServiceSpec& spec) {
  if (find_service_mut(spec.key)) return Status::error("service already exists");
  if (Status st = check_service_spec(spec); !st) return st;
  auto sched = sched::make_scheduler(spec.scheduler, sched::SchedParams{spec.sched_flags, &rng_});
  if (!sched) {
    return Status::error("unknown scheduler '" + spec.scheduler + "' (known: " +
                         sched::scheduler_names() + ")");
  }
  auto svc = std::make_unique<Service>();
  svc->key = spec.key;
  svc->sched_name = spec.scheduler;
  svc->sched_flags = spec.sched_flags;
  svc->sched = std::move(sched);
  svc->sched->init_service(svc->dests);
  set_persistence(*svc, spec);
  if (Status st = set_local_addrs(*svc, spec); !st) return st;
  if (!ftp_ && ftp_candidate(spec.key)) ftp_ = std::make_unique<FtpTables>();
  size_t slot = services_.size();
  if (!free_service_slots_.empty()) {  // the lowest hole, as a scan from the start would find
    std::pop_heap(free_service_slots_.begin(), free_service_slots_.end(), std::greater<>());
    slot = free_service_slots_.back();
    free_service_slots_.pop_back();
  }
  svc->index = uint32_t(slot);
  port0_services_ += spec.key.fwmark == 0 && spec.key.port == 0;
  index_.insert(svc.get());
  if (slot == services_.size()) {
    services_.push_back(std::move(svc));
  } else {
    services_[slot] = std::move(svc);
  }
  return {};
}

void Engine::set_persistence(Service& svc, const ServiceSpec& spec) {
  const uint8_t width = svc.key.addr.is_v6() ? 128 : 32;
  svc.persistence_timeout = spec.persistence_timeout;
  svc.persistence_prefix = std::min(spec.persistence_prefix, width);
}

Status Engine::edit_service(const ServiceSpec& spec) {
  Service* svc = find_service_mut(spec.key);
  if (!svc) return Status::error("no such service");
  if (Status st = check_service_spec(spec); !st) return st;
  std::unique_ptr<sched::Scheduler> sched;
  if (spec.scheduler != svc->sched_name || spec.sched_flags != svc->sched_flags) {
    sched = sched::make_scheduler(spec.scheduler, sched::SchedParams{spec.sched_flags, &rng_});
    if (!sched) {
      return Status::error("unknown scheduler '" + spec.scheduler + "' (known: " +
                           sched::scheduler_names() + ")");
    }
  }
  if (Status st = set_local_addrs(*svc, spec); !st) return st;
  if (sched) {
    svc->sched->done_service();
    svc->sched = std::move(sched);
    svc->sched->init_service(svc->dests);
    svc->sched_name = spec.scheduler;
    svc->sched_flags = spec.sched_flags;
  }
  // Last, so a refused edit changes nothing. Templates already made keep their timeout.
  set_persistence(*svc, spec);
  return {};
}

Status Engine::zero_counters(const ServiceKey* key) {
  Service* only = nullptr;
  if (key != nullptr) {
    only = find_service_mut(*key);
    if (only == nullptr) return Status::error("no such service");
  }
  for (const auto& s : services_) {
    if (!s || (only != nullptr && s.get() != only)) continue;
    s->stats = {};
    for (size_t i = 0; i < s->dests.size(); ++i) s->dest_at(i)->stats = {};
  }
  if (only == nullptr) counters_.total = {};
  return {};
}

Status Engine::del_service(const ServiceKey& key) {
  Service* svc = find_service_mut(key);
  if (!svc) return Status::error("no such service");
  svc->sched->done_service();
  while (!svc->dests.empty()) unlink_dest(*svc, 0);
  // Trashed servers that still carry connections lose their service, not their connections.
  for (uint32_t i : trash_) {
    if (dests_[i]->svc == svc) dests_[i]->svc = nullptr;
  }
  index_.erase(svc);
  port0_services_ -= svc->key.fwmark == 0 && svc->key.port == 0;
  free_service_slots_.push_back(svc->index);
  std::push_heap(free_service_slots_.begin(), free_service_slots_.end(), std::greater<>());
  services_[svc->index].reset();
  return {};
}

void Engine::flush() {
  for (auto& s : services_) {
    if (s) del_service(ServiceKey(s->key));
  }
}

Dest* Engine::find_dest(const Service& svc, const net::IpAddr& addr, uint16_t port,
                        size_t* pos) const {
  for (size_t i = 0; i < svc.dests.size(); ++i) {
    Dest* d = svc.dest_at(i);
    if (d->addr == addr && d->port == port) {
      if (pos) *pos = i;
      return d;
    }
  }
  return nullptr;
}

Dest* Engine::alloc_dest() {
  uint32_t idx;
  if (!free_dests_.empty()) {
    idx = free_dests_.back();
    free_dests_.pop_back();
  } else {
    idx = uint32_t(dests_.size());
    dests_.emplace_back();
  }
  dests_[idx] = std::make_unique<Dest>();
  dests_[idx]->index = idx;
  if (ftp_) ftp_->backends_dirty = true;
  return dests_[idx].get();
}

void Engine::release_dest(Dest& d) {
  const uint32_t idx = d.index;
  if (d.trashed) std::erase(trash_, idx);
  tuple_users_.release(d.addr, d.port, d.tuple_slot);
  dests_[idx].reset();
  free_dests_.push_back(idx);
  if (ftp_) ftp_->backends_dirty = true;
}

namespace {

// NAT and FULLNAT servers have ports of their own; DR and TUN servers take the service's.
uint16_t dest_port(const ServiceKey& key, const DestSpec& spec) {
  return spec.fwd == Fwd::kNat || spec.fwd == Fwd::kFullNat ? spec.port : key.port;
}

Status check_dest_spec(const Service& svc, const DestSpec& spec) {
  if (spec.weight < 0) return Status::error("weight must be >= 0");
  if (spec.fwd == Fwd::kFullNat) {
    if (svc.laddrs.empty()) {
      return Status::error("FULLNAT real servers need local addresses in their service");
    }
    if (spec.addr.family != svc.laddr_family) {
      return Status::error("FULLNAT real server's family differs from the local addresses'");
    }
    return {};
  }
  if (spec.fwd == Fwd::kTun) {
    if (spec.tun_type == TunType::kGue && spec.tun_port == 0) {
      return Status::error("GUE tunnels need the real server's port (--tun-port)");
    }
    if ((spec.tun_flags & kTunFlagRemCsum) && spec.tun_type != TunType::kGue) {
      return Status::error("remote checksum offload is for GUE tunnels only");
    }
    if (spec.tun_flags != 0 && spec.tun_type == TunType::kIpip) {
      return Status::error("tunnel checksum options need a GUE or GRE tunnel");
    }
    return {};  // IPVS tunnels IPv4 in IPv6 and back: any family
  }
  if (spec.addr.family != svc.key.addr.family && svc.key.fwmark == 0) {
    return Status::error("real server address family differs from the service's");
  }
  return {};
}

}  // namespace

Status Engine::add_dest(const ServiceKey& key, const DestSpec& spec) {
  // IPVS (ip_vs_add_dest/ip_vs_edit_dest) refuses a lower threshold above the upper one.
  if (spec.l_threshold > spec.u_threshold) {
    return Status::error("lower threshold above the upper threshold");
  }
  Service* svc = find_service_mut(key);
  if (!svc) return Status::error("no such service");
  if (Status st = check_dest_spec(*svc, spec); !st) return st;
  const uint16_t port = dest_port(key, spec);
  if (find_dest(*svc, spec.addr, port, nullptr)) return Status::error("destination already exists");
  // A server removed while it still had connections comes back as the same entry
  // (ip_vs_trash_get_dest), so its counters keep covering those connections.
  Dest* d = nullptr;
  for (size_t i = 0; i < trash_.size(); ++i) {
    Dest* t = dests_[trash_[i]].get();
    if (t->svc_key == key && t->addr == spec.addr && t->port == port) {
      d = t;
      d->trashed = false;
      trash_[i] = trash_.back();
      trash_.pop_back();
      break;
    }
  }
  if (d == nullptr) {
    d = alloc_dest();
    d->addr = spec.addr;
    d->port = port;
    d->svc_key = key;
    d->tuple_slot = tuple_users_.acquire(d->addr, d->port);
  }
  d->svc = svc;
  d->fwd = spec.fwd;
  d->tun_type = spec.tun_type;
  d->tun_port = spec.tun_port;
  d->tun_flags = spec.tun_flags;
  d->weight = spec.weight;
  d->flags |= sched::kDestAvailable;
  if (spec.u_threshold == 0 || spec.u_threshold > d->u_threshold) d->flags &= ~sched::kDestOverload;
  d->u_threshold = spec.u_threshold;
  d->l_threshold = spec.l_threshold;
  d->list_seq = next_list_seq_++;
  svc->dests.insert(svc->dests.begin(), d);  // IPVS adds at the head of the list
  svc->sched->add_dest(svc->dests, *d, 0);
  return {};
}

Status Engine::edit_dest(const ServiceKey& key, const DestSpec& spec) {
  // IPVS (ip_vs_add_dest/ip_vs_edit_dest) refuses a lower threshold above the upper one.
  if (spec.l_threshold > spec.u_threshold) {
    return Status::error("lower threshold above the upper threshold");
  }
  Service* svc = find_service_mut(key);
  if (!svc) return Status::error("no such service");
  const uint16_t port = dest_port(key, spec);
  Dest* d = find_dest(*svc, spec.addr, port, nullptr);
  if (!d) return Status::error("no such destination");
  if (Status st = check_dest_spec(*svc, spec); !st) return st;
  d->fwd = spec.fwd;  // applies to new connections; live ones keep their method
  d->tun_type = spec.tun_type;
  d->tun_port = spec.tun_port;
  d->tun_flags = spec.tun_flags;
  d->weight = spec.weight;
  if (spec.u_threshold == 0 || spec.u_threshold > d->u_threshold) d->flags &= ~sched::kDestOverload;
  d->u_threshold = spec.u_threshold;
  d->l_threshold = spec.l_threshold;
  svc->sched->upd_dest(svc->dests, *d);
  return {};
}

void Engine::unlink_dest(Service& svc, size_t pos) {
  Dest* d = svc.dest_at(pos);
  svc.dests.erase(svc.dests.begin() + ptrdiff_t(pos));
  d->flags &= ~sched::kDestAvailable;
  svc.sched->del_dest(svc.dests, *d, pos);
  if (d->refcnt == 0) {
    release_dest(*d);
  } else {
    d->trashed = true;
    trash_.push_back(d->index);
  }
}

Status Engine::del_dest(const ServiceKey& key, const net::IpAddr& addr, uint16_t port) {
  Service* svc = find_service_mut(key);
  if (!svc) return Status::error("no such service");
  size_t pos = 0;
  Dest* d = find_dest(*svc, addr, port, &pos);
  if (!d) d = find_dest(*svc, addr, key.port, &pos);  // DR/TUN servers carry the service port
  if (!d) return Status::error("no such destination");
  unlink_dest(*svc, pos);
  return {};
}

std::vector<BackendEndpoint> Engine::nat_backends() const {
  std::vector<BackendEndpoint> out;
  boost::unordered_flat_set<BackendEndpoint, BackendHash> seen;
  for (const auto& d : dests_) {
    if (!d || (d->fwd != Fwd::kNat && d->fwd != Fwd::kFullNat)) continue;
    if (d->trashed && d->refcnt == 0) continue;
    const BackendEndpoint b{d->svc_key.proto, d->addr, d->port};
    if (seen.insert(b).second) out.push_back(b);
    // Active FTP: the server connects from the port below its control port (20 for 21).
    if (d->fwd == Fwd::kNat && d->port > 1 && d->svc_key.fwmark == 0 &&
        d->svc_key.proto == net::kProtoTcp && ftp_port(d->svc_key.port)) {
      const BackendEndpoint data{net::kProtoTcp, d->addr, uint16_t(d->port - 1)};
      if (seen.insert(data).second) out.push_back(data);
    }
  }
  return out;
}

std::vector<ConnSnapshot> Engine::list_conns(bool templates_only, size_t max) const {
  std::vector<ConnSnapshot> out;
  if (max == 0) return out;
  visit_conns(templates_only, [&](const ConnSnapshot& s) {
    out.push_back(s);
    return out.size() < max;
  });
  return out;
}

void Engine::visit_conns(bool templates_only,
                         const std::function<bool(const ConnSnapshot&)>& visit) const {
  const uint32_t now = wheel_.now_tick();
  for (uint32_t i = 0; i < conns_.capacity(); ++i) {
    const Conn& c = conns_.at(i);
    if (!(c.flags & kConnInUse)) continue;
    const bool is_template = c.flags & kConnTemplate;
    if (templates_only && !is_template) continue;
    ConnSnapshot s;
    s.proto = c.proto;
    s.is_template = is_template;
    s.caddr = c.client();
    s.daddr = dests_[c.dest]->addr;  // a tunnel or NAT64 server may be of the other family
    if (is_template && c.proto == 0) {
      s.fwmark = net::load_be32(c.vaddr);
    } else {
      s.vaddr = c.vip();
    }
    s.cport = c.cport;
    s.vport = c.vport;
    s.dport = c.dport;
    if (c.flags & kConnFullNat) {
      s.laddr = laddr_list_[c.laddr];
      s.lport = c.lport;
    }
    s.fwd = Fwd(c.fwd);
    s.state = is_template                     ? "NONE"
              : c.proto == net::kProtoTcp  ? tcp_state_name(c.state)
              : c.proto == net::kProtoSctp ? sctp_state_name(c.state)
                                           : "UDP";
    s.expires_in_s = TimerWheel::before(now, c.expires)
                         ? (c.expires - now + TimerWheel::kTicksPerSec - 1) / TimerWheel::kTicksPerSec
                         : 0;
    s.n_control = is_template ? c.n_control : 0;
    if (!visit(s)) return;
  }
}

std::vector<ServiceSnapshot> Engine::snapshot() const {
  std::vector<ServiceSnapshot> out;
  for (const auto& s : services_) {
    if (!s) continue;
    ServiceSnapshot ss{s->key, s->sched_name, s->sched_flags, s->persistence_timeout,
                       s->persistence_prefix, s->one_packet, s->proxy_protocol, {}, s->stats, {}};
    for (uint16_t li : s->laddrs) ss.local_addrs.push_back(laddr_list_[li]);
    for (size_t i = 0; i < s->dests.size(); ++i) {
      const Dest* d = s->dest_at(i);
      ss.dests.push_back(DestSnapshot{d->addr, d->port, d->fwd, d->tun_type, d->tun_port,
                                      d->tun_flags, d->weight, d->active_conns,
                                      d->inactive_conns, d->persist_conns, d->u_threshold,
                                      d->l_threshold, d->stats});
    }
    out.push_back(std::move(ss));
  }
  return out;
}

}  // namespace lvs::core
