// VS/TUN, director side: the client's IP packet is wrapped in an outer IP header to the real
// server, as IPVS's ip_vs_tunnel_xmit / ip_vs_tunnel_xmit_v6 do (net/netfilter/ipvs/ip_vs_xmit.c),
// with a GUE (UDP + GUE header) or GRE header between them for those tunnel types.
//
// Outer header fields, as IPVS sets them:
//   - family: the real server's (outer_dst); either family may carry either (4in6, 6in4).
//   - TOS / traffic class: the inner one with ECN encapsulated as INET_ECN_encapsulate does
//     (RFC 3168 full functionality: ECN bits copied, except CE which becomes ECT(0)). Flow label 0.
//   - TTL / hop limit: the inner one as found. IPVS decrements the inner TTL in its route step
//     (decrement_ttl, for every forwarding method) before it copies it; the caller does that step.
//   - IPv4 DF: copied from an IPv4 inner packet (pmtu_disc=1, IPVS's default), clear for IPv6 in
//     IPv4. IP ID: 0 when DF is set (ip_select_ident), else TunParams::ip_id.
//   - GUE: UDP destination port tun_port; source port a hash of the inner flow in 49152..65535
//     (tun_src_port); GUE version 0, proto/ctype 4 (IPv4 inner) or 41 (IPv6 inner).
//     UDP checksum: 0 for nocsum, also over IPv6 (udp6_set_csum(nocheck): an RFC 6935 zero
//     checksum, which the receiver must accept); full checksum with csum or remcsum.
//     The remcsum option (private flags + start/offset) is added only when the inner transport
//     checksum is partial, as IPVS adds it only for CHECKSUM_PARTIAL skbs: frames the engine
//     receives always carry complete checksums, so remcsum then behaves as csum.
//   - GRE: flags 0 or C (0x8000 + checksum and reserved word), protocol 0x0800 / 0x86DD.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/types.h"
#include "net/addr.h"
#include "net/parse.h"

namespace lvs::core {

struct TunParams {
  TunType type = TunType::kIpip;
  uint16_t port = 0;      // GUE: the real server's UDP port (host order)
  uint16_t flags = 0;     // kTunFlagCsum, kTunFlagRemCsum
  net::IpAddr outer_src;  // the director's address towards the real server
  net::IpAddr outer_dst;  // the real server
  // IP ID of an IPv4 outer header without DF (the kernel draws it from its ip_idents generator;
  // the caller keeps a counter). Unused when DF is set: the ID is then 0.
  uint16_t ip_id = 0;
  // The inner TCP/UDP checksum holds only the pseudo-header sum (skb CHECKSUM_PARTIAL): with
  // kTunFlagRemCsum the GUE remote checksum offload option is added so the real server
  // completes it. Never set for frames received from the wire.
  bool inner_csum_partial = false;
};

// Bytes tun_encap adds in front of the inner IP packet (outer IP + UDP/GUE or GRE), for MTU
// checks. The same for either inner family; the remcsum option counts only when it is added.
uint32_t tun_overhead(const TunParams& t, net::Family inner);

// The largest inner packet that fits a path MTU towards the real server, as __ip_vs_get_out_rt
// computes it (path MTU minus tun_overhead). 0 when below 68 (IPv4 outer) or 1280 (IPv6 outer):
// IPVS drops such packets without an ICMP error.
uint32_t tun_inner_mtu(uint32_t path_mtu, const TunParams& t, net::Family inner);

// GUE source port for the inner flow. With the inner source and destination addresses read as
// little-endian 64-bit words a0..a3 (one word, a0, for IPv4) and w = proto << 32 | sport << 16 |
// dport: h = murmur3 fmix64(a0 * 0x9e3779b97f4a7c15 + a1 * 0xc2b2ae3d27d4eb4f +
// a2 * 0x165667b19e3779f9 + a3 * 0xd6e8feb86659fd93 + w * 0xff51afd7ed558ccd) (mod 2^64); its low
// 32 bits are reduced into 49152..65535 the way udp_flow_src_port does (h ^= h << 16;
// 49152 + (h * 16384 >> 32)). Unkeyed and deterministic, so every packet of a flow, on any worker
// or director, takes the same port (the kernel keys its flow hash per boot).
uint16_t tun_src_port(const uint8_t* frame, const net::ParsedPacket& p);

// Encapsulates the parsed frame in place. The inner IP packet stays where it is; the outer
// headers are written in front of it and the L2 header (Ethernet and any VLAN tags, l3_offset
// bytes) is moved back into the headroom, its EtherType set for the outer family. `frame` is
// moved back to the new start. Bytes past the inner packet's IP length (Ethernet padding) are
// dropped. Returns the new frame length, or 0 with the frame untouched when the headroom is
// smaller than tun_overhead, the outer addresses are not of one family, or the result would
// exceed 65535 bytes of IP. The Ethernet addresses are left to set_l2.
size_t tun_encap(uint8_t*& frame, size_t len, size_t headroom, const net::ParsedPacket& p,
                 const TunParams& t);

}  // namespace lvs::core
