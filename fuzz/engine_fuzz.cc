// Fuzzes the engine's data path on a fixed topology: NAT and DR services (rr, wlc), IPv4 and
// IPv6, FULLNAT (UDP) and NAT64 (TCP) services, a fwmark service, an FTP service (its helper's announcements fed back as another
// worker would), a server without a neighbour entry, an interface lvsd does not drive.
//
// Input: a sequence of records, each a 2-byte big-endian prefix and then the frame bytes.
//   prefix & 0x07ff  frame length (cut short by the end of the input)
//   bit 11           end the burst after this frame
//   bits 12-13       clock step at the end of the burst: 1 ms, 1 s, 10 s, 200 s
//   bit 14           firewall mark 7 (the fwmark service)
//   bit 15           received on the inside interface instead of the outside one
// A zero-length record is a control operation between bursts instead, chosen by bits 11-15
// (delete/re-add servers, quiesce, thresholds, scheduler change, flush, timeouts).
//
// After every burst it checks that each packet got exactly one verdict, that transmitted frames
// still parse and leave through an attached interface, that drops carry a reason, that the
// counters add up, that NAT kept valid transport checksums valid, and that connection counts
// stay within the table. At the end the clock jumps past the longest timeout: every connection
// must expire and every real server's counters return to zero.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "core/engine.h"
#include "core/ftp_tables.h"
#include "core/route_table.h"
#include "net/bytes.h"
#include "net/checksum.h"
#include "net/headers.h"
#include "net/packet_builder.h"
#include "net/parse.h"

namespace lvs {
namespace {

using core::Fwd;
using net::ip;

void check(bool ok) {
  if (!ok) std::abort();
}

constexpr uint32_t kExt = 2, kInt = 3, kMgmt = 4;
constexpr uint32_t kCapacity = 64;
constexpr size_t kHeadroom = 64;
constexpr size_t kTailroom = 128;
constexpr size_t kMaxBurst = 80;  // more than Engine::kMaxBurst: bursts are split inside
constexpr size_t kMaxRecords = 1024;

const core::ServiceKey kTcpNat{6, ip("198.18.2.100"), 80, 0};
const core::ServiceKey kUdpNat{17, ip("198.18.2.100"), 53, 0};
const core::ServiceKey kTcpDr{6, ip("198.18.2.101"), 80, 0};
const core::ServiceKey kTcpZero{6, ip("198.18.2.102"), 80, 0};
const core::ServiceKey kTcp6Nat{6, ip("2001:2:2::100"), 443, 0};
const core::ServiceKey kUdp6Dr{17, ip("2001:2:2::100"), 53, 0};
const core::ServiceKey kFwm = core::ServiceKey::fwmark_key(net::Family::kV4, 7);
const core::ServiceKey kFtp{6, ip("198.18.2.103"), 21, 0};
const core::ServiceKey kFnat{17, ip("198.18.2.104"), 53, 0};
const core::ServiceKey kNat64{6, ip("2001:2:2::101"), 80, 0};

const core::RouteTable& routes() {
  static const core::RouteTable table({{kExt, "ext", net::mac(0x02), 1500, true},
                                       {kInt, "int", net::mac(0x03), 1500, true},
                                       {kMgmt, "mgmt", net::mac(0x04), 1500, false}},
                                      {{ip("198.18.2.0"), 24, kExt, {}, 0},
                                       {ip("198.18.1.0"), 24, kInt, {}, 0},
                                       {ip("198.18.3.0"), 24, kMgmt, {}, 0},
                                       {ip("0.0.0.0"), 0, kExt, ip("198.18.2.254"), 0},
                                       {ip("2001:2:2::"), 64, kExt, {}, 0},
                                       {ip("2001:2:1::"), 64, kInt, {}, 0},
                                       {ip("::"), 0, kExt, ip("2001:2:2::254"), 0}},
                                      {{kExt, ip("198.18.2.254"), net::mac(0xfe)},
                                       {kExt, ip("198.18.2.1"), net::mac(0x21)},
                                       {kInt, ip("198.18.1.11"), net::mac(0x11)},
                                       {kInt, ip("198.18.1.12"), net::mac(0x12)},
                                       {kInt, ip("198.18.1.13"), net::mac(0x13)},
                                       {kExt, ip("2001:2:2::254"), net::mac(0xfe)},
                                       {kInt, ip("2001:2:1::11"), net::mac(0x11)},
                                       {kInt, ip("2001:2:1::12"), net::mac(0x12)}});
  return table;
}

core::DestSpec dest(const char* addr, uint16_t port, Fwd fwd, int32_t weight,
                    uint32_t u_threshold = 0) {
  return core::DestSpec{ip(addr), port, fwd, weight, u_threshold, 0};
}

void build_services(core::Engine& e) {
  e.add_service({kTcpNat, "rr", 0});
  e.add_dest(kTcpNat, dest("198.18.1.14", 8080, Fwd::kNat, 1));  // no neighbour entry
  e.add_dest(kTcpNat, dest("198.18.1.12", 8080, Fwd::kNat, 2));
  e.add_dest(kTcpNat, dest("198.18.1.11", 8080, Fwd::kNat, 1));
  e.add_service({kUdpNat, "wlc", 0});
  e.add_dest(kUdpNat, dest("198.18.1.11", 5353, Fwd::kNat, 1));
  e.add_dest(kUdpNat, dest("198.18.1.13", 53, Fwd::kNat, 3));
  e.add_service({kTcpDr, "wlc", 0});
  e.add_dest(kTcpDr, dest("198.18.1.12", 80, Fwd::kDr, 1));
  e.add_dest(kTcpDr, dest("198.18.1.11", 80, Fwd::kDr, 2));
  e.add_service({kTcpZero, "rr", 0});
  e.add_dest(kTcpZero, dest("198.18.1.11", 80, Fwd::kNat, 0));  // quiesced: port unreachable
  e.add_service({kTcp6Nat, "rr", 0});
  e.add_dest(kTcp6Nat, dest("2001:2:1::12", 8443, Fwd::kNat, 1));
  e.add_dest(kTcp6Nat, dest("2001:2:1::11", 8443, Fwd::kNat, 1));
  e.add_service({kUdp6Dr, "wlc", 0});
  e.add_dest(kUdp6Dr, dest("2001:2:1::11", 53, Fwd::kDr, 1));
  e.add_service({kFwm, "rr", 0});
  e.add_dest(kFwm, dest("198.18.1.13", 0, Fwd::kNat, 1));
  e.add_service({kFtp, "rr", 0});
  e.add_dest(kFtp, dest("198.18.1.11", 21, Fwd::kNat, 1));
  core::ServiceSpec fnat{kFnat, "rr", 0};
  fnat.local_addrs = {ip("198.18.1.51")};
  e.add_service(fnat);
  e.add_dest(kFnat, dest("198.18.1.12", 5353, Fwd::kFullNat, 1));
  core::ServiceSpec nat64{kNat64, "rr", 0};
  nat64.local_addrs = {ip("198.18.1.50")};
  e.add_service(nat64);
  e.add_dest(kNat64, dest("198.18.1.11", 8080, Fwd::kFullNat, 1));
}

void control(core::Engine& e, unsigned op) {
  // Results are ignored: operations that make no sense in the current state simply fail.
  switch (op) {
    case 1:
      e.del_dest(kTcpNat, ip("198.18.1.11"), 8080);
      break;
    case 2:
      e.add_dest(kTcpNat, dest("198.18.1.11", 8080, Fwd::kNat, 1));
      break;
    case 3:
      e.edit_dest(kTcpNat, dest("198.18.1.12", 8080, Fwd::kNat, 0));
      break;
    case 4:
      e.edit_dest(kTcpNat, dest("198.18.1.12", 8080, Fwd::kNat, 2));
      break;
    case 5:
      e.set_expire_nodest_conn(!e.config().expire_nodest_conn);
      break;
    case 6:
      e.edit_service({kTcpNat, "wlc", 0});
      break;
    case 7:
      e.edit_service({kTcpNat, "wrr", 0});
      break;
    case 8:
      e.del_service(kUdpNat);
      break;
    case 9:
      e.add_service({kUdpNat, "wlc", 0});
      e.add_dest(kUdpNat, dest("198.18.1.13", 53, Fwd::kNat, 3));
      break;
    case 10:
      e.flush();
      build_services(e);
      break;
    case 11:
      e.edit_dest(kUdpNat, dest("198.18.1.13", 53, Fwd::kNat, 3, 1));
      break;
    case 12:
      e.edit_dest(kUdpNat, dest("198.18.1.13", 53, Fwd::kNat, 3, 0));
      break;
    case 13: {
      core::Timeouts t;
      t.tcp.fill(1);
      t.udp = 1;
      e.set_timeouts(t);
      break;
    }
    case 14:
      e.set_timeouts(core::Timeouts{});
      break;
    case 15:
      e.del_dest(kTcpDr, ip("198.18.1.11"), 80);
      break;
    case 16:
      e.add_dest(kTcpDr, dest("198.18.1.11", 80, Fwd::kDr, 2));
      break;
    case 17:
      e.del_service(kTcpNat);
      break;
    case 18:
      e.add_service({kTcpNat, "rr", 0});
      e.add_dest(kTcpNat, dest("198.18.1.11", 8080, Fwd::kNat, 1));
      break;
    case 19:
      e.edit_service({kTcp6Nat, "wlc", 0});
      break;
    case 20:
      e.del_dest(kTcp6Nat, ip("2001:2:1::11"), 8443);
      break;
    case 21:
      e.add_dest(kTcp6Nat, dest("2001:2:1::11", 8443, Fwd::kNat, 1));
      break;
    default:
      break;
  }
}

// True when the transport checksum of an intact TCP/UDP/ICMP packet verifies (an IPv4 UDP
// checksum of 0 means none and counts as valid).
bool l4_checksum_ok(const uint8_t* f, const net::ParsedPacket& p) {
  const uint8_t* ip_hdr = f + p.l3_offset;
  const uint8_t* l4 = f + p.l4_offset;
  const uint32_t l4_len = p.l4_len();
  const bool v4 = p.family == net::Family::kV4;
  if (p.l4_proto == net::kProtoIcmp) {
    return net::csum_fold(net::csum_partial(l4, l4_len, 0)) == 0xffff;
  }
  if (p.l4_proto == net::kProtoUdp && v4 && net::load_be16(l4 + net::UdpView::kCheck) == 0) {
    return true;
  }
  const net::IpAddr src = v4 ? net::IpAddr::v4(ip_hdr + net::Ipv4View::kSaddr)
                             : net::IpAddr::v6(ip_hdr + net::Ipv6View::kSaddr);
  const net::IpAddr dst = v4 ? net::IpAddr::v4(ip_hdr + net::Ipv4View::kDaddr)
                             : net::IpAddr::v6(ip_hdr + net::Ipv6View::kDaddr);
  const uint32_t sum = net::pseudo_header_sum(src, dst, p.l4_proto, l4_len);
  return net::csum_fold(net::csum_partial(l4, l4_len, sum)) == 0xffff;
}

bool has_checksum(const net::ParsedPacket& p) {
  return p.ok() && (p.is_tcp() || p.is_udp() || p.l4_proto == net::kProtoIcmp ||
                    p.l4_proto == net::kProtoIcmpv6);
}

struct Slot {
  std::vector<uint8_t> buf;
  core::Packet pkt;
  bool csum_ok_before = false;
};

class Harness {
 public:
  Harness() : engine_(config()) {
    engine_.set_routes(&routes());
    build_services(engine_);
  }

  void frame(const uint8_t* data, size_t len, unsigned flags) {
    Slot& s = burst_.emplace_back();
    s.buf.assign(kHeadroom + len + kTailroom, 0);
    if (len) std::memcpy(s.buf.data() + kHeadroom, data, len);
    s.pkt.data = s.buf.data() + kHeadroom;
    s.pkt.len = uint32_t(len);
    s.pkt.headroom = kHeadroom;
    s.pkt.tailroom = kTailroom;
    s.pkt.ifindex = (flags & 0x10) ? kInt : kExt;
    s.pkt.mark = (flags & 0x08) ? 7 : 0;
    const net::ParsedPacket p = net::parse_packet(s.pkt.data, s.pkt.len);
    s.csum_ok_before = has_checksum(p) && l4_checksum_ok(s.pkt.data, p);
    step_ = (flags >> 1) & 3;
    if ((flags & 0x01) || burst_.size() == kMaxBurst) flush();
  }

  void op(unsigned which) {
    flush();
    control(engine_, which);
    check_counts();
  }

  void flush() {
    if (burst_.empty()) return;
    const core::EngineCounters before = engine_.counters();
    std::vector<core::Packet> pkts;
    pkts.reserve(burst_.size());
    for (Slot& s : burst_) pkts.push_back(s.pkt);
    engine_.process(pkts, now_);

    const core::EngineCounters& after = engine_.counters();
    uint64_t n_tx = 0, n_drop = 0, n_steer = 0;
    for (size_t i = 0; i < pkts.size(); ++i) {
      const core::Packet& pkt = pkts[i];
      const Slot& s = burst_[i];
      // The frame stays inside its buffer (NAT64 moves its start either way), and the room
      // around it is what the engine says it is.
      check(pkt.data >= s.buf.data() && pkt.data + pkt.len <= s.buf.data() + s.buf.size());
      check(pkt.headroom == size_t(pkt.data - s.buf.data()));
      check(pkt.data + pkt.len + pkt.tailroom == s.buf.data() + s.buf.size());
      switch (pkt.verdict) {
        case core::Verdict::kTx: {
          ++n_tx;
          const core::Iface* out = routes().iface(pkt.out_ifindex);
          check(out != nullptr && out->attached);
          const net::ParsedPacket p = net::parse_packet(pkt.data, pkt.len);
          check(p.ok());
          check(p.l3_len <= out->mtu);
          check(std::memcmp(pkt.data + 6, out->mac.bytes.data(), 6) == 0);
          // Rewrites keep a valid transport checksum valid; errors we build are valid.
          const bool icmp_reply = p.l4_proto == net::kProtoIcmp || p.l4_proto == net::kProtoIcmpv6;
          if (s.csum_ok_before || icmp_reply) check(l4_checksum_ok(pkt.data, p));
          break;
        }
        case core::Verdict::kDrop:
          ++n_drop;
          check(pkt.reason != core::DropReason::kNone);
          check(pkt.reason < core::DropReason::kCount);
          break;
        case core::Verdict::kSteer:
          ++n_steer;
          break;
        default:
          check(false);  // kPass: no backend here could take it back
      }
    }
    // Exactly one verdict per packet, each counted once. A packet answered with an ICMP error
    // is counted as dropped and as sent.
    const uint64_t icmp = after.icmp_sent - before.icmp_sent;
    check(after.rx_packets - before.rx_packets == pkts.size());
    check(after.tx_packets - before.tx_packets == n_tx);
    check(after.steered - before.steered == n_steer);
    check(after.dropped() - before.dropped() == n_drop + icmp);
    check(after.rx_packets == after.tx_packets + after.dropped() + after.steered - after.icmp_sent);
    check(after.drops[size_t(core::DropReason::kNone)] == 0);
    engine_.drain_neigh_requests([](const core::NeighRequest& r) {
      const core::Iface* i = routes().iface(r.ifindex);
      check(i != nullptr && i->attached);
    });
    // One worker: the helper made its data connections itself; what it announces for others
    // (passive expectations) must be harmless to apply again.
    std::vector<core::FtpDataRequest> reqs;
    engine_.drain_ftp_requests([&](const core::FtpDataRequest& r) { reqs.push_back(r); });
    for (const auto& r : reqs) {
      check(r.passive);
      engine_.add_ftp_data(r);
    }
    burst_.clear();

    static constexpr core::Nanos kSteps[4] = {core::kNanosPerSec / 1000, core::kNanosPerSec,
                                              10 * core::kNanosPerSec, 200 * core::kNanosPerSec};
    now_ += kSteps[step_];
    engine_.expire(now_);
    check_counts();
  }

  void finish() {
    flush();
    // Past the longest timeout (15 minutes, ESTABLISHED) every connection has expired. The wheel
    // walks every tick on the way, so the jump is kept short: it dominates the run time.
    for (int i = 0; i < 2; ++i) {
      now_ += 460 * core::kNanosPerSec;
      engine_.expire(now_, 1u << 20);
    }
    check(engine_.conns().size() == 0);
    check(engine_.ftp_endpoints().empty());
    for (const core::ServiceSnapshot& s : engine_.snapshot()) {
      for (const core::DestSnapshot& d : s.dests) {
        check(d.active_conns == 0 && d.inactive_conns == 0);
      }
    }
    check_counts();
  }

 private:
  static core::EngineConfig config() {
    core::EngineConfig cfg;
    cfg.conn_capacity = kCapacity;
    cfg.hash_seed = 0x5eed;
    return cfg;
  }

  void check_counts() {
    const core::EngineCounters& c = engine_.counters();
    const uint32_t live = engine_.conns().size();
    check(live <= engine_.conns().capacity());
    check(c.total.conns - c.conns_expired == live);
    for (const core::ServiceSnapshot& s : engine_.snapshot()) {
      for (const core::DestSnapshot& d : s.dests) {
        // An underflowing counter would show up as a huge value.
        check(uint64_t(d.active_conns) + d.inactive_conns <= live);
      }
    }
  }

  core::Engine engine_;
  std::vector<Slot> burst_;
  core::Nanos now_ = 1000 * core::kNanosPerSec;
  unsigned step_ = 0;
};

}  // namespace
}  // namespace lvs

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lvs::Harness h;
  size_t records = 0;
  while (size >= 2 && records++ < lvs::kMaxRecords) {
    const uint16_t prefix = lvs::net::load_be16(data);
    data += 2;
    size -= 2;
    const unsigned flags = prefix >> 11;
    size_t len = prefix & 0x07ff;
    if (len == 0) {
      h.op(flags);
      continue;
    }
    if (len > size) len = size;
    h.frame(data, len, flags);
    data += len;
    size -= len;
  }
  h.finish();
  return 0;
}
