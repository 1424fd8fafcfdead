// PROXY protocol v2 on FULLNAT TCP connections: the real server reads the client's address from
// a header that opens the stream, as nginx's `listen ... proxy_protocol` expects. The director
// inserts it in front of the client's first bytes (sequence number isn + 1) and then keeps both
// sides' sequence spaces consistent: later client bytes move up by the header's length, and the
// real server's acknowledgements (and SACK blocks) move down by it. Its SYN-ACK's MSS shrinks
// by the same length so that a full client segment plus the header still fits the path.
// A retransmitted first segment gets the same header again: identical bytes at identical
// sequence numbers, which TCP accepts.
#pragma once

#include <cstdint>

#include "core/conn.h"
#include "core/types.h"
#include "net/parse.h"

namespace lvs::core {

// Client -> real server, before fnat_in. The frame may move into its headroom (pkt.data, len and
// p.l3_len change). False when there is no headroom for the header.
bool proxy_v2_in(Packet& pkt, net::ParsedPacket& p, const Conn& c);
// Real server -> client, before fnat_out.
void proxy_v2_out(uint8_t* frame, const net::ParsedPacket& p, const Conn& c);

}  // namespace lvs::core
