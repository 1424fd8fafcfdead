// ICMP on the director, as IPVS does it (net/netfilter/ipvs/ip_vs_core.c): errors about a
// connection are relayed to the other side of it (ip_vs_in_icmp / ip_vs_out_icmp, and their _v6
// forms), NAT-translated for VS/NAT connections (ip_vs_nat_icmp / ip_vs_nat_icmp_v6); echo
// requests to a virtual address are answered, as the director's kernel would.
//
// The quoted packet of an error is one that crossed the director, so its flow reads backwards:
//   error from the real server's side (RS, or a router before it), about a request the director
//   sent on:        quote = client:cport -> RS:dport       (relayed to the client)
//   error from the client's side, about a reply the director sent on:
//                   quote = VIP:vport -> client:cport      (relayed to the real server)
// Reversed, the quote is the packet the flow itself would carry in that direction: a reply
// (RS -> client, the real-server-side index) or a request (client -> VIP, the client-side
// index). IcmpError::key is that reversed view, so the engine looks it up exactly as it looks up
// TCP/UDP packets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/conn.h"
#include "core/conn_table.h"
#include "net/parse.h"

namespace lvs::core {

// Why an ICMP packet is not relayed or answered; the engine counts each under its name.
enum class IcmpDrop : uint8_t {
  kNone = 0,
  kNotIcmp,           // the outer packet is not ICMP (IPv4) / ICMPv6 (IPv6): a caller error
  kNotRelayed,        // informational (echo, ...) or an error type IPVS does not relay
  kFragmentedError,   // ICMPv6 behind a fragment header: errors are never fragmented (IPVS)
  kQuoteTruncated,    // quoted IP header, or the 4 port bytes after it, cut short
  kQuoteMalformed,    // quoted IP header invalid: version, IHL, length, extension header chain
  kInnerFragment,     // the quote is a non-first fragment: it carries no ports
  kNestedError,       // the quote is itself an ICMP error
  kInnerUnsupported,  // the quoted transport is not TCP, UDP or SCTP
  kBadChecksum,       // ICMP checksum wrong (IPVS checks it before translating)
  kNoConnection,      // no connection matches the quoted flow (decided by the engine)
  kCount,
};
std::string_view icmp_drop_name(IcmpDrop r);  // "icmp_not_relayed", ...

// An ICMP / ICMPv6 error the director may relay. Offsets are from the frame start.
struct IcmpError {
  IcmpDrop status = IcmpDrop::kNotIcmp;
  uint8_t type = 0;
  uint8_t code = 0;
  uint16_t icmp_offset = 0;      // outer ICMP header
  uint16_t icmp_end = 0;         // end of the ICMP message: end of the outer IP packet
  uint16_t inner_l3_offset = 0;  // quoted IP header (icmp_offset + 8)
  uint16_t inner_l4_offset = 0;  // quoted transport header, after any IPv6 extension headers
  // The quoted packet as parse_ip(quoted=true) sees it, with status kOk and its ports filled in
  // for every accepted quote (first fragments and SCTP included).
  net::ParsedPacket inner;
  // The quote reversed: a = its destination, b = its source, ports likewise (host order),
  // pointing into the frame. Look it up before translating: translation rewrites those bytes.
  //   real-server side (find_out): a = RS,     a_port = dport, b = client, b_port = cport
  //   client side      (find_in):  a = client, a_port = cport, b = VIP,    b_port = vport
  // The client endpoint (flow_owner) is b for the first, a for the second.
  ConnKey key{};
};

// True for an ICMP error IPVS relays: IPv4 destination unreachable, source quench and time
// exceeded (ip_vs_in_icmp / ip_vs_out_icmp; not parameter problem, not redirect); any ICMPv6
// error, i.e. a type below 128 (destination unreachable, packet too big, time exceeded,
// parameter problem). The quote must hold its IP header and the 4 bytes of ports, and the
// ICMP checksum must verify. `outer` is parse_packet's result for `frame`, status kOk; only the
// bytes of the outer IP packet are read (Ethernet padding is ignored). False with out.status
// telling why.
bool classify_icmp_error(const uint8_t* frame, size_t len, const net::ParsedPacket& outer,
                         IcmpError& out);

// VS/NAT, error from the real server's side about connection `c` (found with find_out), relayed
// to the client: ip_vs_nat_icmp(inout=1) from handle_response_icmp. The outer source becomes the
// VIP, the quote's destination RS:dport becomes VIP:vport; the outer IPv4 header checksum, the
// quoted IPv4 header checksum and the ICMP checksum (for ICMPv6 with its pseudo-header) are
// fixed. The quoted TCP/UDP/SCTP checksum is left as it is, as IPVS leaves it. The TTL (hop
// limit) drops by one as for every routed reply (nat_out); false, frame untouched, when it would
// reach zero.
bool icmp_nat_out(uint8_t* frame, const net::ParsedPacket& outer, const IcmpError& e,
                  const Conn& c);

// VS/NAT, error from the client's side (a router on the client's path: fragmentation needed,
// time exceeded, ...) about a reply of connection `c` (found with find_in), relayed to the real
// server: ip_vs_nat_icmp(inout=0) from ip_vs_icmp_xmit. The outer destination becomes the real
// server, the quote's source VIP:vport becomes RS:dport; checksums as for icmp_nat_out. The TTL
// is left as nat_in leaves it.
void icmp_nat_in(uint8_t* frame, const net::ParsedPacket& outer, const IcmpError& e, const Conn& c);

// FULLNAT, error from the real server's side about a request of connection `c` (the quote is
// laddr:lport -> RS:dport), relayed to the client: the outer packet goes VIP -> client, the quote
// becomes client:cport -> VIP:vport, the packet the client sent. TTL and checksums as
// icmp_nat_out; false, frame untouched, when the TTL would reach zero. Same family on both sides
// only (not NAT64).
bool icmp_fnat_out(uint8_t* frame, const net::ParsedPacket& outer, const IcmpError& e,
                   const Conn& c);
// FULLNAT, error from the client's side about a reply of `c` (the quote is VIP:vport ->
// client:cport), relayed to the real server: the outer packet goes local address -> RS (the
// server routes only to the local address), the quote becomes RS:dport -> laddr:lport, the
// packet the server sent. `laddr` is the connection's local address (its family's bytes).
void icmp_fnat_in(uint8_t* frame, const net::ParsedPacket& outer, const IcmpError& e,
                  const Conn& c, const uint8_t* laddr);

// Turns an ICMP echo request / ICMPv6 echo request (to a virtual address) into its reply in
// place: addresses swapped, type 0 / 129, TTL (hop limit) 64, checksums updated incrementally;
// identifier, sequence, data and IP options are kept. The Ethernet addresses are left to the
// caller (set_l2). Returns the frame length (unchanged), or 0, frame untouched, if `p` is not an
// echo request whose ICMP checksum verifies.
size_t icmp_echo_reply(uint8_t* frame, size_t len, const net::ParsedPacket& p);

}  // namespace lvs::core
