// NAT64 for FULLNAT (DPVS's NAT64): an IPv6 virtual service whose real servers are IPv4. Both
// endpoints change, as in fnat_in/fnat_out, and so does the IP header: pure header translation
// after RFC 7915 (SIIT), with the addresses taken from the connection instead of a prefix.
//   client -> real server: [caddr]:cport -> [vaddr]:vport becomes laddr:lport -> daddr:dport
//   real server -> client: daddr:dport -> laddr:lport becomes [vaddr]:vport -> [caddr]:cport
// The transport header and payload never move: the Ethernet header (VLAN tags included) moves
// forward by 20 bytes plus the extension headers on the way in, and back by 20 bytes into the
// headroom on the way out. Transport checksums are patched incrementally (pseudo-header addresses
// and ports), except an IPv4 UDP datagram without checksum, which gets a full one since IPv6
// requires it. TCP, UDP and SCTP (CRC32c: ports only) are translated.
//
// Choices, where RFC 7915 leaves room or where lvs differs from it:
// - IPv4 header: ID 0 and DF set on every translated packet (as RFC 6145 did, and DPVS does).
//   RFC 7915 clears DF for packets up to 1260 bytes so that IPv4 links narrower than 1260 can
//   fragment them; such a non-atomic datagram needs an ID unique per (src, dst, proto) (RFC 6864),
//   i.e. per-flow state this pure transform does not keep. The IPv4 side here is the operator's
//   own network between director and real servers, and the packet shrinks by at least 20 bytes,
//   so whatever reached the director over IPv6 fits an IPv4 path of the same MTU. With DF set,
//   the packet is an atomic datagram, whose ID means nothing (RFC 6864).
// - TTL: the way in copies the hop limit (the engine has already taken the director's hop off,
//   forward_ttl); the way out decrements it, as fnat_out does, and refuses a packet whose TTL
//   would reach 0.
// - Traffic class <-> TOS copied both ways, flow label 0. IPv4 options are dropped.
// - Refused (return 0, the caller drops): IPv4 fragments and any IPv6 Fragment header (atomic
//   fragments included), AH, a Routing header with segments left, any other extension header
//   than hop-by-hop, destination options and routing (those three are dropped), IPv6 UDP with
//   checksum 0 (illegal, RFC 8200 section 8.1: the IPv6 receiver would have discarded it),
//   transports other than TCP/UDP/SCTP.
// - ICMP errors quoting a connection are translated by xmit_nat64_icmp.h.
//
// Frames may carry bytes past the IP length (Ethernet padding): they are cut off, so the
// returned length is exactly L2 + new IP header + transport. The ParsedPacket is stale afterwards
// (family, l3_len, l4_offset); nat64_in_l3_len/nat64_out_l3_len give the new IP length ahead of
// the call, for the MTU check. Ethernet addresses written by set_l2 before the call move with the
// header, so set_l2 may run before or after.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/conn.h"
#include "core/types.h"
#include "net/headers.h"
#include "net/parse.h"

namespace lvs::core {

enum class Nat64Status : uint8_t {
  kOk = 0,
  kUntranslatable,  // see the refusals above
  kNoHeadroom,      // out: no room in front of the frame for the longer header
  kTtlExceeded,     // out: the TTL would reach 0 (DropReason::kTtlExceeded)
};

// Client (IPv6) -> real server (IPv4). `laddr4` is the connection's local IPv4 address (4 bytes).
// Returns the new frame length (also stored in pkt.len; pkt.data and pkt.headroom move forward),
// or 0 with the frame untouched if the packet cannot be translated.
size_t nat64_in(Packet& pkt, const net::ParsedPacket& p, const Conn& c, const uint8_t* laddr4,
                Nat64Status* status = nullptr);

// Real server (IPv4) -> client (IPv6). Returns the new frame length (pkt.data moves back into the
// headroom), or 0 with the frame untouched: TTL expiry, no headroom, or untranslatable.
size_t nat64_out(Packet& pkt, const net::ParsedPacket& p, const Conn& c,
                 Nat64Status* status = nullptr);

// The IP length after translation (for the egress MTU check before translating).
inline uint32_t nat64_in_l3_len(const net::ParsedPacket& p) {
  return uint32_t(net::kIpv4MinHdrLen) + p.l4_len();
}
inline uint32_t nat64_out_l3_len(const net::ParsedPacket& p) {
  return uint32_t(net::kIpv6HdrLen) + p.l4_len();
}

}  // namespace lvs::core
