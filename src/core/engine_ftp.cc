// The FTP helper in the engine (IPVS ip_vs_ftp.c with ip_vs_app.c's sequence bookkeeping): NAT
// connections to an FTP port are control connections; the client's PORT/EPRT makes the active
// data connection, the server's 227/229 reply is rewritten to name the VIP and makes a passive
// expectation, and every later segment of the control connection has its sequence numbers moved
// by what the rewrites added.
//
// Where this differs from IPVS, on purpose:
//  - A PORT/EPRT naming an address other than the control connection's client is refused
//    (counted as malformed, forwarded unchanged): IPVS would let a client make the real server
//    connect anywhere (the FTP bounce); netfilter's FTP helper refuses it too.
//  - A passive data connection goes to the real server that sent the reply, whatever address a
//    227 names (a server with pasv_address set to the VIP or a public address still works).
//  - The data connection is not tied to its control connection (IPVS's control/n_control): it
//    may live on another worker. Each expires on its own timeouts.
#include <algorithm>

#include "core/engine.h"
#include "core/engine_frame.h"
#include "core/ftp_tables.h"
#include "net/bytes.h"

namespace lvs::core {

namespace {

// Where the TCP payload starts in the frame, and how long it is; 0 when there is none.
uint32_t tcp_payload(const uint8_t* frame, const net::ParsedPacket& p, uint32_t* off) {
  const uint32_t doff = uint32_t(frame[p.l4_offset + 12] >> 4) * 4;
  *off = p.l4_offset + doff;
  const uint32_t end = p.l3_end();
  return *off < end ? end - *off : 0;
}

}  // namespace

bool Engine::ftp_port(uint16_t port) const {
  return std::find(cfg_.ftp_ports.begin(), cfg_.ftp_ports.end(), port) != cfg_.ftp_ports.end();
}

// A service whose connections may reach an FTP port: a TCP service on one, or one that takes
// every port (port 0, fwmark).
bool Engine::ftp_candidate(const ServiceKey& key) const {
  if (cfg_.ftp_ports.empty()) return false;
  if (key.fwmark != 0) return true;
  return key.proto == net::kProtoTcp && (key.port == 0 || ftp_port(key.port));
}

// A new NAT connection to an FTP port (ip_vs_bind_app: the application is found by vport).
void Engine::ftp_bind(Conn& c, uint32_t ci) {
  if (!ftp_ || c.proto != net::kProtoTcp || c.fwd != uint8_t(Fwd::kNat) || !ftp_port(c.vport)) {
    return;
  }
  if (ftp_->ctl.size() >= FtpTables::kMaxControl) {
    ++counters_.ftp.untracked;
    return;
  }
  ftp_->ctl.insert_or_assign(ci, FtpCtlState{});
  c.flags |= kConnFtpCtl;
  ++counters_.ftp.control;
}

void Engine::ftp_release(const Conn& c, uint32_t ci) {
  if (c.flags & kConnFtpCtl) ftp_->ctl.erase(ci);
  if (c.flags & kConnFtpData) {
    const FtpEndpoint ep{c.vip(), c.vport, c.real(), c.dport};
    const auto it = ftp_->endpoints.find(ep);
    if (it != ftp_->endpoints.end() && --it->second == 0) ftp_->endpoints.erase(it);
  }
}

// Client -> server (app_tcp_pkt_in + ip_vs_ftp_in), before the NAT rewrite; the state has moved.
void Engine::ftp_in(Packet& pkt, net::ParsedPacket& p, Conn& c, uint32_t ci) {
  const auto it = ftp_->ctl.find(ci);
  if (it == ftp_->ctl.end()) return;
  FtpCtlState& st = it->second;
  uint8_t* tcp = pkt.data + p.l4_offset;
  if (st.in_seq.set || st.out_seq.set) {
    tcp_seq_fix(tcp, p.l3_end() - p.l4_offset, st.in_seq, st.out_seq, true);
  }
  if (c.state != kTcpEstablished) return;
  uint32_t off = 0;
  const uint32_t len = tcp_payload(pkt.data, p, &off);
  if (len == 0) return;
  const FtpClientResult r = ftp_client_command(c.family(), pkt.data + off, len);
  // A refused PORT/EPRT/EPSV comes back as kNone with the parser's verdict: IPVS passes it on.
  if (r.match.status == FtpStatus::kMalformed) ++counters_.ftp.malformed;
  switch (r.command) {
    case FtpCommand::kNone:
      break;
    case FtpCommand::kPasv:
      st.mode = FtpMode::kPasv;
      break;
    case FtpCommand::kEpsv:
      st.mode = FtpMode::kEpsv;
      break;
    case FtpCommand::kPort:
    case FtpCommand::kEprt: {
      st.mode = FtpMode::kActive;
      if (!(r.match.addr == c.client())) {
        ++counters_.ftp.malformed;  // a third party's address: no bounce through the director
        break;
      }
      const FtpCtl ctl{c.client(), c.vip(), c.real(), c.cport, c.vport, c.dport};
      const FtpExpect e = ftp_expect(ctl, r.match);
      ++counters_.ftp.active;
      const Dest& d = *dests_[c.dest];
      FtpDataRequest req{false, 0, e, d.svc_key, d.addr, d.port};
      req.owner =
          flow_owner(e.caddr.data(), e.caddr.family, e.cport, cfg_.steer_seed, cfg_.worker_count);
      if (req.owner == cfg_.worker_index) {
        add_ftp_data(req);
      } else {
        ftp_announce(req);
      }
      break;
    }
  }
}

// Server -> client (app_tcp_pkt_out + ip_vs_ftp_out), before the NAT rewrite. False when the
// packet was dropped.
bool Engine::ftp_out(Packet& pkt, net::ParsedPacket& p, Conn& c, uint32_t ci) {
  const auto it = ftp_->ctl.find(ci);
  if (it == ftp_->ctl.end()) return true;
  FtpCtlState& st = it->second;
  uint8_t* tcp = pkt.data + p.l4_offset;
  const uint32_t seq = net::load_be32(tcp + 4);  // the original: what seq_update records
  if (st.out_seq.set || st.in_seq.set) {
    tcp_seq_fix(tcp, p.l3_end() - p.l4_offset, st.out_seq, st.in_seq, true);
  }
  if (st.mode == FtpMode::kActive || c.state != kTcpEstablished) return true;
  uint32_t off = 0;
  const uint32_t len = tcp_payload(pkt.data, p, &off);
  if (len == 0) return true;
  const FtpMatch m = ftp_server_reply(st.mode, c.family(), pkt.data + off, len);
  if (!m.ok()) {
    if (m.status == FtpStatus::kMalformed) ++counters_.ftp.malformed;
    return true;
  }
  // The data connection goes to this real server, whatever address a 227 names.
  FtpMatch own = m;
  own.addr = c.real();
  const FtpCtl ctl{c.client(), c.vip(), c.real(), c.cport, c.vport, c.dport};
  const FtpExpect e = ftp_expect(ctl, own);
  const uint32_t room = pkt.len + pkt.tailroom;
  const FtpRewrite rw = ftp_mangle(pkt.data, room, p, m, e.vaddr, e.vport);
  if (!rw.ok) {
    drop(pkt, DropReason::kFtpNoRoom);
    return false;
  }
  pkt.len = rw.len;
  pkt.tailroom = room - rw.len;
  if (rw.delta != 0) seq_update(st.out_seq, seq, rw.delta);
  st.mode = FtpMode::kActive;
  ++counters_.ftp.passive;
  const Dest& d = *dests_[c.dest];
  const FtpDataRequest req{true, cfg_.worker_index, e, d.svc_key, d.addr, d.port};
  add_ftp_data(req);
  ftp_announce(req);
  return true;
}

void Engine::ftp_announce(const FtpDataRequest& r) {
  if (ftp_req_count_ == kMaxFtpRequests) {
    ++counters_.ftp.requests_lost;
    return;
  }
  ftp_req_[ftp_req_count_++] = r;
}

// The control connection's real server, found by what names it in every engine.
Dest* Engine::ftp_dest(const ServiceKey& svc, const net::IpAddr& addr, uint16_t port) const {
  for (const auto& d : dests_) {
    if (d && d->svc_key == svc && d->addr == addr && d->port == port) return d.get();
  }
  return nullptr;
}

void Engine::add_ftp_data(const FtpDataRequest& r) {
  if (!ftp_) return;
  const uint32_t now_tick = wheel_.now_tick();
  if (r.passive) {
    const FtpExpectKey key{r.expect.caddr, r.expect.vaddr, r.expect.vport};
    if (ftp_->expect.size() >= FtpTables::kMaxExpect && !ftp_->expect.contains(key) &&
        ftp_->purge(now_tick) == 0) {
      ++counters_.ftp.expect_full;
      return;
    }
    // IPVS gives the waiting entry the LISTEN timeout (ip_vs_tcp_conn_listen).
    ftp_->expect.insert_or_assign(
        key, FtpExpectTarget{r.expect.daddr, r.expect.dport, r.svc, r.dest_addr, r.dest_port,
                             now_tick + ticks(timeouts_.tcp[kTcpListen])});
    return;
  }
  if (r.owner != cfg_.worker_index) return;
  Dest* d = ftp_dest(r.svc, r.dest_addr, r.dest_port);
  if (d == nullptr) return;  // the real server went away meanwhile
  const FtpExpect& e = r.expect;
  const uint8_t af = e.caddr.is_v4() ? 4 : 6;
  const ConnKey k{e.caddr.data(), e.vaddr.data(), e.cport, e.vport, net::kProtoTcp, af};
  if (conns_.find_in(conns_.hash(k), k) != kNil) return;  // IPVS: reuse what is there
  ftp_data_conn(e, *d, false, now_tick);
}

// A data connection to `d`'s server at e.daddr:e.dport (ip_vs_conn_new with cp->dest). Active
// ones wait in LISTEN for the server's SYN; passive ones are made by the client's SYN and take
// their state from it.
uint32_t Engine::ftp_data_conn(const FtpExpect& e, Dest& d, bool passive, uint32_t now_tick) {
  const uint32_t ci = conns_.alloc();
  if (ci == kNil) return kNil;
  Conn& c = conns_.at(ci);
  c.proto = net::kProtoTcp;
  c.af = e.caddr.is_v4() ? 4 : 6;
  c.state = passive ? kTcpNone : kTcpListen;
  c.fwd = uint8_t(Fwd::kNat);
  c.flags |= kConnInactive;
  std::memcpy(c.caddr, e.caddr.data(), e.caddr.size());
  std::memcpy(c.vaddr, e.vaddr.data(), e.vaddr.size());
  std::memcpy(c.daddr, e.daddr.data(), e.daddr.size());
  c.cport = e.cport;
  c.vport = e.vport;
  c.dport = e.dport;
  c.dest = d.index;
  conns_.link_in(ci);
  conns_.link_out(ci, conns_.out_hash(ci));
  wheel_.arm(ci, now_tick + ticks(passive ? kNewConnTimeoutSec : timeouts_.tcp[kTcpListen]));
  if (passive) {
    c.flags |= kConnFtpData;
    const FtpEndpoint ep{e.vaddr, e.vport, e.daddr, e.dport};
    ++ftp_->endpoints[ep];
  }
  ++d.refcnt;
  ++d.inactive_conns;
  bind_counts(d);
  // Counted as connections of the control connection's service and server (IPVS counts only
  // scheduled ones; a data connection is as much the server's work).
  ++d.stats.conns;
  if (d.svc != nullptr) ++d.svc->stats.conns;
  ++counters_.total.conns;
  ++counters_.ftp.data_conns;
  return ci;
}

// A client packet to a data port (no service there): the expectation a 227/229 left makes the
// connection, the client's port filled in (ip_vs_conn_fill_cport). TCP SYN only, like any new
// connection.
uint32_t Engine::ftp_expected_conn(const Packet& pkt, const net::ParsedPacket& p,
                                   uint32_t now_tick) {
  if (!p.is_tcp() || (p.tcp_flags & (net::kTcpSyn | net::kTcpAck)) != net::kTcpSyn) return kNil;
  const uint8_t af = af_of(p);
  const FtpExpectKey key{addr_of(saddr_of(pkt.data, p), af), addr_of(daddr_of(pkt.data, p), af),
                         p.dport};
  const auto it = ftp_->expect.find(key);
  if (it == ftp_->expect.end()) return kNil;
  const FtpExpectTarget t = it->second;
  ftp_->expect.erase(it);
  if (int32_t(t.expires - now_tick) <= 0) return kNil;
  Dest* d = ftp_dest(t.svc, t.dest_addr, t.dest_port);
  if (d == nullptr) return kNil;
  FtpExpect e;
  e.caddr = key.caddr;
  e.vaddr = key.vaddr;
  e.cport = p.sport;
  e.vport = key.vport;
  e.daddr = t.daddr;
  e.dport = t.dport;
  e.passive = true;
  return ftp_data_conn(e, *d, true, now_tick);
}

// With FTP data ports in play a packet matching no service may be a client's (to a data port)
// as well as a server's reply: a reply comes from a real server.
bool Engine::ftp_client_side(const Packet& pkt, const net::ParsedPacket& p) {
  if (ftp_->backends_dirty) {
    ftp_->backend_addrs.clear();
    for (const auto& d : dests_) {
      // Every method: a server switched from NAT to DR still has NAT connections draining.
      if (!d || (d->trashed && d->refcnt == 0)) continue;
      ftp_->backend_addrs.insert(d->addr);
    }
    ftp_->backends_dirty = false;
  }
  return !ftp_->backend_addrs.contains(addr_of(saddr_of(pkt.data, p), af_of(p)));
}

std::vector<FtpEndpoint> Engine::ftp_endpoints() const {
  std::vector<FtpEndpoint> out;
  if (!ftp_) return out;
  const uint32_t now_tick = wheel_.now_tick();
  for (const auto& [k, t] : ftp_->expect) {
    if (int32_t(t.expires - now_tick) > 0) out.push_back({k.vaddr, k.vport, t.daddr, t.dport});
  }
  for (const auto& [ep, n] : ftp_->endpoints) out.push_back(ep);
  std::sort(out.begin(), out.end(), [](const FtpEndpoint& a, const FtpEndpoint& b) {
    return std::tie(a.vaddr.bytes, a.vport, a.daddr.bytes, a.dport) <
           std::tie(b.vaddr.bytes, b.vport, b.daddr.bytes, b.dport);
  });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace lvs::core
