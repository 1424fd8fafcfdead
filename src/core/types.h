// Types shared by the engine, the control plane and the I/O backends. Small and include-light.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/addr.h"

namespace lvs::core {

// Forwarding method, bound to a connection when it is created (IPVS ip_vs_bind_xmit).
enum class Fwd : uint8_t { kNat = 0, kDr = 1, kTun = 2, kFullNat = 3 };
std::string_view fwd_name(Fwd f);  // "Masq", "Route", "Tunnel", "FullNat" (ipvsadm's words)

// VS/TUN encapsulation, as ipvsadm --tun-type (IP_VS_CONN_F_TUNNEL_TYPE_*): ipip is IPv4-in-IPv4,
// IPv6-in-IPv6 or either in the other, following the real server's address family.
enum class TunType : uint8_t { kIpip = 0, kGue = 1, kGre = 2 };
std::string_view tun_type_name(TunType t);  // "ipip", "gue", "gre"
// --tun-nocsum (0), --tun-csum, --tun-remcsum (IP_VS_TUNNEL_ENCAP_FLAG_*): checksums of the
// GUE UDP header / the GRE header.
inline constexpr uint16_t kTunFlagCsum = 1u << 0;
inline constexpr uint16_t kTunFlagRemCsum = 1u << 1;

enum class Verdict : uint8_t {
  kDrop = 0,  // counted under Packet::reason
  kTx,        // send the (rewritten) frame out of Packet::out_ifindex
  kPass,      // not ours: leave it to the kernel (only backends that can hand it back)
  kSteer,     // belongs to another worker's connection table: hand it to Packet::steer_to
};

// Every packet the engine does not forward is counted under one of these.
enum class DropReason : uint8_t {
  kNone = 0,
  // Parse failures, one per net::ParseStatus.
  kTruncatedL2,
  kNotIp,
  kTruncatedL3,
  kBadIpVersion,
  kBadIpHeaderLen,
  kBadIpChecksum,
  kBadIpLength,
  kBadExtHeader,
  kFragment,
  kTruncatedL4,
  kBadL4Header,
  // Decisions.
  kVlanTagged,      // 802.1Q frames: VLAN sub-interfaces are not attached yet
  kUnsupportedL4,   // a service address, but a transport the engine does not balance
  kNoService,       // neither a virtual service nor a reply of a known connection
  kNoConnection,    // TCP segment other than SYN for a service, without a connection
  kNoRealServer,    // the scheduler found no available real server
  kTableFull,       // connection table at capacity
  kDestUnavailable, // real server removed and expire_nodest_conn set
  kNoRoute,         // no route to the next hop
  kRouteNotAttached,// the route leaves through an interface lvsd does not drive
  kNoNeighbour,     // next hop's MAC not resolved yet (resolution was requested)
  kTtlExceeded,     // reply path: TTL/hop limit would reach 0
  kMtuExceeded,     // frame too large for the egress interface
  kNoLocalPort,     // FULLNAT: every local address:port towards that real server is in use
  kNatTupleBusy,    // NAT: the real server's 4-tuple is a live connection's, no other server
  // ICMP errors about connections (the classifier passes only those quoting a service or a
  // real server; echo and the rest stay with the kernel).
  kIcmpNotRelayed,    // an ICMP type IPVS does not relay
  kIcmpBadChecksum,   // ICMP checksum wrong
  kIcmpBadQuote,      // quoted packet cut short, malformed, a fragment, nested or not TCP/UDP/SCTP
  kIcmpNoConnection,  // no connection matches the quoted flow
  kIcmpNat64,         // about a NAT64 connection, of a type with no counterpart in the other family
  kNat64Untranslatable,  // NAT64: a header SIIT cannot carry (fragment, AH, routing, ...)
  kFtpNoRoom,            // FTP helper: the rewritten 227/229 reply does not fit the frame
  kCount,
};
std::string_view drop_reason_name(DropReason r);

// One frame of a burst. The I/O backend fills the input fields; Engine::process fills the rest.
// The engine may move `data` back into the headroom or grow `len` into the tailroom.
struct Packet {
  uint8_t* data = nullptr;
  uint32_t len = 0;
  uint32_t headroom = 0;  // writable bytes before data
  uint32_t tailroom = 0;  // writable bytes after data + len
  uint32_t ifindex = 0;   // ingress interface
  uint32_t mark = 0;      // firewall mark from the classifier, 0 if none
  // Output.
  Verdict verdict = Verdict::kDrop;
  DropReason reason = DropReason::kNone;
  uint16_t steer_to = 0;
  uint32_t out_ifindex = 0;
};

// A virtual service: (protocol, VIP, port) or, with fwmark != 0, (family, fwmark).
struct ServiceKey {
  uint8_t proto = 0;  // IPPROTO_TCP / IPPROTO_UDP; 0 for fwmark services
  net::IpAddr addr;   // for fwmark services: zero address of the service's family
  uint16_t port = 0;
  uint32_t fwmark = 0;

  static ServiceKey fwmark_key(net::Family af, uint32_t mark) {
    ServiceKey k;
    k.addr.family = af;
    k.fwmark = mark;
    return k;
  }
  friend bool operator==(const ServiceKey&, const ServiceKey&) = default;
  std::string to_string() const;  // "TCP 198.18.0.10:80", "FWM 7"
};

// For hash maps keyed by service on the control path.
struct ServiceKeyHash {
  size_t operator()(const ServiceKey& k) const {
    uint64_t h = ((uint64_t(k.proto) << 48) | (uint64_t(k.port) << 32) | k.fwmark) *
                 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < 16; i += 8) {
      uint64_t w = 0;
      for (size_t j = 0; j < 8; ++j) w = (w << 8) | k.addr.bytes[i + j];
      h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    }
    return size_t(h ^ (h >> 31) ^ uint8_t(k.addr.family));
  }
};

struct ServiceSpec {
  ServiceKey key;
  std::string scheduler = "wlc";  // ipvsadm's default
  uint32_t sched_flags = 0;       // sched::kSchedFlag1..3
  // Persistence (ipvsadm -p / -M, keepalived persistence_timeout / persistence_granularity):
  // a timeout of 0 means not persistent. The granularity is a prefix length over the client
  // address (32 or 128 for one client, shorter to pin whole networks).
  uint32_t persistence_timeout = 0;  // seconds
  uint8_t persistence_prefix = 128;  // clamped to the family's width
  // ONE-PACKET scheduling (ipvsadm -o, UDP only): every datagram is scheduled on its own.
  bool one_packet = false;
  // FULLNAT: the director's own addresses that replace the client's (DPVS's local address
  // group), and whether the client's address travels to the real server in a PROXY v2 header.
  std::vector<net::IpAddr> local_addrs;
  bool proxy_protocol = false;
  bool persistent() const { return persistence_timeout != 0; }
  friend bool operator==(const ServiceSpec&, const ServiceSpec&) = default;
};

struct DestSpec {
  net::IpAddr addr;
  uint16_t port = 0;  // 0: keep the client's destination port (fwmark / port-0 services)
  Fwd fwd = Fwd::kNat;
  int32_t weight = 1;
  uint32_t u_threshold = 0;
  uint32_t l_threshold = 0;
  // VS/TUN only.
  TunType tun_type = TunType::kIpip;
  uint16_t tun_port = 0;   // GUE: the real server's UDP port, required
  uint16_t tun_flags = 0;  // kTunFlag*
  friend bool operator==(const DestSpec&, const DestSpec&) = default;
};

// The result of a control operation: empty on success, otherwise why not.
class Status {
 public:
  Status() = default;
  static Status error(std::string msg) { return Status(std::move(msg)); }
  bool ok() const { return msg_.empty(); }
  explicit operator bool() const { return ok(); }
  const std::string& message() const { return msg_; }

 private:
  explicit Status(std::string msg) : msg_(std::move(msg)) {}
  std::string msg_;
};

// Wall-clock-free time: nanoseconds from an arbitrary epoch, passed in by the caller.
using Nanos = uint64_t;
inline constexpr Nanos kNanosPerSec = 1'000'000'000;

}  // namespace lvs::core
