// FULLNAT (as DPVS and Alibaba's LVS do it): both addresses change, so the director may sit
// anywhere in the network and replies come back to it by routing alone.
//   client -> real server: <caddr:cport -> vaddr:vport> becomes <laddr:lport -> daddr:dport>
//   real server -> client: <daddr:dport -> laddr:lport> becomes <vaddr:vport -> caddr:cport>
#pragma once

#include <cstdint>

#include "core/conn.h"
#include "net/parse.h"

namespace lvs::core {

// Client -> real server, same family on both sides. `laddr` is the connection's local address.
void fnat_in(uint8_t* frame, const net::ParsedPacket& p, const Conn& c, const uint8_t* laddr);
// Real server -> client; the TTL (hop limit) drops by one since the reply is routed. False when
// it would reach zero.
bool fnat_out(uint8_t* frame, const net::ParsedPacket& p, const Conn& c);

}  // namespace lvs::core
