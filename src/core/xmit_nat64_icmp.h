// ICMP errors about NAT64 connections (FULLNAT from an IPv6 VIP to IPv4 real servers): the error
// changes family with the connection, after RFC 7915 sections 4.2 (ICMPv4 -> ICMPv6) and 5.2
// (ICMPv6 -> ICMPv4), and its quote becomes the packet the other side sent, translated as
// nat64_in/nat64_out translate it.
//   from the IPv4 side, quoting laddr:lport -> daddr:dport (a request the director sent on):
//     ICMPv6 from [vaddr] to [caddr], quoting [caddr]:cport -> [vaddr]:vport
//   from the IPv6 side, quoting [vaddr]:vport -> [caddr]:cport (a reply the director sent on):
//     ICMPv4 from laddr to daddr, quoting daddr:dport -> laddr:lport
//
// Types and codes (RFC 7915): v4 destination unreachable 0,1,5-8,11,12 -> v6 no route (1/0),
// 2 -> parameter problem "next header" (4/1, pointer 6), 3 -> port unreachable (1/4), 4 -> packet
// too big (2/0, MTU + 20, at least 1280), 9,10,13,15 -> administratively prohibited (1/1); time
// exceeded (11) -> 3 with its code; parameter problem 0 and 2 -> 4/0 with the pointer mapped.
// v6 destination unreachable 0,2,3 -> host unreachable (3/1), 1 -> 3/10, 4 -> 3/3; packet too big
// -> 3/4 with MTU - 20; time exceeded (3) -> 11 with its code; parameter problem 0 -> 12/0 with the
// pointer mapped, 1 -> protocol unreachable (3/2). Everything else (source quench, redirects, the
// codes without a counterpart, a pointer into an address the other family lacks) is dropped.
//
// The quoted transport checksum is left as it was, as IPVS leaves it; an IPv6 error is cut to
// 1280 bytes. Outer headers: the hop limit / TTL of the routed error drops by one on the way to
// the client (the engine's forward_ttl has done it on the way to the server), traffic class and
// TOS are copied, IPv4 ID 0 without DF as the kernel sends errors.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/conn.h"
#include "core/types.h"
#include "core/xmit_icmp.h"
#include "core/xmit_nat64.h"
#include "net/parse.h"

namespace lvs::core {

// ICMPv4 from the real server's side to the IPv6 client. Returns the new frame length (pkt.data
// moves back into the headroom), or 0 with the frame untouched: kUntranslatable (a type without
// counterpart), kTtlExceeded, kNoHeadroom.
size_t icmp_nat64_out(Packet& pkt, const net::ParsedPacket& outer, const IcmpError& e,
                      const Conn& c, Nat64Status* status = nullptr);

// ICMPv6 from the client's side to the IPv4 real server, from the local address `laddr4`.
// Returns the new frame length (pkt.data moves forward), or 0 with the frame untouched.
size_t icmp_nat64_in(Packet& pkt, const net::ParsedPacket& outer, const IcmpError& e,
                     const Conn& c, const uint8_t* laddr4, Nat64Status* status = nullptr);

}  // namespace lvs::core
