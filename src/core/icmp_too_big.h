// ICMP "fragmentation needed" (IPv4 type 3 code 4) and ICMPv6 "packet too big" (type 2) for a
// packet that does not fit the path to its real server, as IPVS sends them from
// ensure_mtu_is_adequate (net/netfilter/ipvs/ip_vs_xmit.c) with the reduced MTU (path MTU minus
// tunnel overhead for VS/TUN, see tun_inner_mtu).
#pragma once

#include <cstddef>
#include <cstdint>

#include "net/addr.h"
#include "net/parse.h"

namespace lvs::core {

// True when the packet must be answered with a too-big error instead of being forwarded:
// IPv4 with DF set and longer than `mtu`, or IPv6 longer than `mtu` (routers never fragment
// IPv6). False for packets that fit, for IPv4 without DF (IPVS fragments those; the engine drops
// them under kMtuExceeded), for ICMP errors (never answered with an error; IPVS checks
// ip_vs_iph_icmp) and for senders an error cannot go to: IPv4 0/8, 127/8, 224/4 and
// 255.255.255.255 (martian sources the kernel drops on input), IPv6 :: and ff00::/8 (icmp6_send).
bool needs_too_big(const net::ParsedPacket& p, const uint8_t* frame, uint32_t mtu);

// True when the kernel would answer the packet with an ICMP error at all: it is not itself an
// ICMP error and its source is one an error can go to (the sender checks of needs_too_big).
bool may_answer_with_error(const net::ParsedPacket& p, const uint8_t* frame);

// Rewrites the frame in place into the too-big error to the packet's sender: next-hop MTU (IPv4,
// low 16 bits of the 32-bit word after the checksum) or MTU (IPv6) `mtu`. The error comes from
// `src`, or, when null, from the packet's destination (the VIP): the kernel's icmp_send and
// icmp6_send answer from the offending packet's destination when it is a local address, which
// the VIP is on an IPVS director. Returns the new frame length, or 0 when the frame lacks the
// room or `src` is of the other family.
size_t build_too_big(uint8_t* frame, size_t len, size_t tailroom, const net::ParsedPacket& p,
                     uint32_t mtu, const net::IpAddr* src = nullptr);

// The part every ICMP error the director sends has in common, as the kernel builds it: a new IP
// header (IPv4: TOS (inner & 0x1e) | 0xc0, ID 0, no DF, TTL 64; IPv6: traffic class 0, flow
// label 0, hop limit 64) and ICMP header (type, code, the 32-bit word `info`) in front of a quote
// of the offending IP packet, as much as fits in 576 (IPv4) or 1280 (IPv6) bytes in total, with
// the checksums. The L2 header (l3_offset bytes) stays, its EtherType set for the family; the
// Ethernet addresses are left to set_l2. build_port_unreachable (icmp_reply.cc) is one.
size_t build_icmp_error(uint8_t* frame, size_t len, size_t tailroom, const net::ParsedPacket& p,
                        uint8_t type, uint8_t code, uint32_t info, const net::IpAddr* src);

}  // namespace lvs::core
