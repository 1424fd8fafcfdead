// VS/NAT keeps the client's address and port, so the real server sees (client:port, server:port)
// and nothing of the virtual service. Two services that share a real server's address and port
// (VIP:80 and VIP:8080 both on RS:80, a fwmark service over several ports) hand it the same
// 4-tuple when one client reaches both from one source port, which a client's kernel does freely
// since the destinations differ. The server takes the second SYN for the first connection: it
// answers with a challenge ACK, the new client resets it, and the reset, in sequence, ends the
// established connection. IPVS lets that happen. lvs asks the scheduler for another server
// first, and when there is none drops the new TCP or SCTP packet (counted nat_tuple_busy; the
// client retries) rather than end a live connection. UDP has no handshake to break and no end
// the director could see: with no other server it shares the tuple as IPVS does (counted).
#include "core/engine.h"
#include "core/sctp_states.h"
#include "net/headers.h"

namespace lvs::core {

namespace {

// Whether the real server still holds the 4-tuple of `c`: not once both sides closed it
// (TIME_WAIT there accepts a new SYN) or it was reset.
bool holds_tuple(const Conn& c) {
  if (c.flags & (kConnTemplate | kConnNoOutput | kConnFullNat)) return false;
  if (c.proto == net::kProtoTcp) return c.state != kTcpTimeWait && c.state != kTcpClose;
  if (c.proto == net::kProtoSctp) return c.state != kSctpClosed && c.state != kSctpRejected;
  return true;
}

// What the scheduler would try again at most: a few servers in one service sharing a client's
// tuple is already rare.
constexpr size_t kMaxTupleRetries = 4;

}  // namespace

bool Engine::nat_tuple_busy(const Dest& d, uint16_t dport, const net::ParsedPacket& p,
                            const uint8_t* caddr, uint8_t af) const {
  const ConnKey k{d.addr.data(), caddr, dport, p.sport, p.l4_proto, af};
  const uint64_t h = conns_.hash(k);
  for (uint32_t i = conns_.find_out(h, k); i != kNil; i = conns_.find_out_after(i, k)) {
    if (holds_tuple(conns_.at(i))) return true;
  }
  // Connections made earlier in this burst are not linked on that side yet.
  for (size_t i = 0; i < pending_count_; ++i) {
    const PendingLink& l = pending_links_[i];
    if (l.hash == h && conns_.out_matches(conns_.at(l.ci), k) && holds_tuple(conns_.at(l.ci))) {
      return true;
    }
  }
  return false;
}

Dest* Engine::schedule_nat_tuple(Service& svc, const sched::SchedPacket& sp, Dest* first,
                                 const net::ParsedPacket& p, const uint8_t* caddr, uint8_t af,
                                 bool* busy) {
  *busy = false;
  const auto busy_at = [&](const Dest& d) {
    return d.fwd == Fwd::kNat && tuple_shared(d) &&
           nat_tuple_busy(d, d.port != 0 ? d.port : p.dport, p, caddr, af);
  };
  if (!busy_at(*first)) return first;
  // Marked overloaded, a server is one every scheduler passes over (IPVS DEST_F_OVERLOAD);
  // the marks come off before the packet goes on.
  std::array<Dest*, kMaxTupleRetries> marked{};
  size_t n = 0;
  Dest* d = first;
  while (d != nullptr && busy_at(*d)) {
    if (n == marked.size() || d->overloaded()) {
      d = nullptr;
      break;
    }
    d->flags |= sched::kDestOverload;
    svc.sched->on_conn_counts(*d);
    marked[n++] = d;
    d = static_cast<Dest*>(svc.sched->schedule(svc.dests, sp));
  }
  for (size_t i = 0; i < n; ++i) {
    marked[i]->flags &= ~sched::kDestOverload;
    svc.sched->on_conn_counts(*marked[i]);
  }
  if (d == nullptr) {
    *busy = true;
    return first;
  }
  ++counters_.nat_tuple_moved;
  return d;
}

}  // namespace lvs::core
