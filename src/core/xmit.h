// Forwarding transforms, applied in place to a parsed frame. One file per method, named as IPVS
// names them (ip_vs_xmit.c): xmit_nat.cc, xmit_dr.cc; icmp_reply.cc builds errors the director
// itself sends.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/conn.h"
#include "core/route_table.h"
#include "net/parse.h"

namespace lvs::core {

// VS/NAT, client -> real server: destination address and port become the real server's.
void nat_in(uint8_t* frame, const net::ParsedPacket& p, const Conn& c);
// VS/NAT, real server -> client: source becomes the virtual service; the TTL (hop limit) drops
// by one since the reply is routed. False when it would reach zero.
bool nat_out(uint8_t* frame, const net::ParsedPacket& p, const Conn& c);
// VS/DR and every method's last step: Ethernet addresses for the next hop.
void set_l2(uint8_t* frame, const NextHop& nh);

// Rewrites the frame into an ICMP (v6) port unreachable error to the packet's sender, quoting
// the packet as the kernel does (up to 576 bytes for IPv4, 1280 for IPv6). Returns the new frame
// length, or 0 when the frame has no room. The Ethernet addresses are left to set_l2.
size_t build_port_unreachable(uint8_t* frame, size_t len, size_t tailroom,
                              const net::ParsedPacket& p);

}  // namespace lvs::core
