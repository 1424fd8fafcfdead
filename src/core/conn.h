// A connection entry: 100 bytes for either family, keyed both ways (client side for packets from
// the client, real-server side for replies). IPVS's ip_vs_conn is over 300 bytes.
// Persistence templates (IPVS IP_VS_CONN_F_TEMPLATE) are entries too: keyed on the client side
// only, by <proto, client network, 0, VIP or fwmark, service port or 0>, pinning a client to a
// real server while they control live connections or until their timeout.
#pragma once

#include <cstdint>
#include <cstring>

#include "net/addr.h"

namespace lvs::core {

inline constexpr uint32_t kNil = 0xffffffff;

// Connection flags.
inline constexpr uint16_t kConnInUse = 0x0001;     // allocated
inline constexpr uint16_t kConnInactive = 0x0002;  // counted in the dest's inactive_conns
inline constexpr uint16_t kConnNoOutput = 0x0004;  // replies bypass the director (DR/TUN)
inline constexpr uint16_t kConnTemplate = 0x0008;  // a persistence template
inline constexpr uint16_t kConnUnhashed = 0x0010;  // an invalidated template: no longer found
inline constexpr uint16_t kConnOnePacket = 0x0020;  // ONE-PACKET (UDP): never found client side
inline constexpr uint16_t kConnNat64 = 0x0040;      // FULLNAT with an IPv4 real-server side
inline constexpr uint16_t kConnProxyV2 = 0x0080;    // FULLNAT: a PROXY v2 header opens the stream
inline constexpr uint16_t kConnFullNat = 0x0100;    // real-server side keyed by local address
inline constexpr uint16_t kConnFtpCtl = 0x0200;     // an FTP control connection with the helper
inline constexpr uint16_t kConnFtpData = 0x0400;    // a passive FTP data connection (endpoint use)

struct Conn {
  uint32_t in_next;  // hash chain, client side; free-list link when not in use
  union {
    uint32_t out_next;          // hash chain, real-server side
    uint32_t template_timeout;  // templates (never on that side): seconds they last
  };
  uint8_t proto;
  uint8_t af;  // 4 or 6
  uint8_t state;
  uint8_t fwd;  // core::Fwd
  uint16_t flags;
  uint16_t cport;  // ports in host order
  uint16_t vport;
  uint16_t dport;
  uint32_t dest;       // index of the real server in the engine's dest pool
  uint8_t caddr[16];   // client
  uint8_t vaddr[16];   // virtual address
  uint8_t daddr[16];   // real server
  uint32_t expires;    // timer tick at which it expires
  uint32_t slot_tick;  // tick of the wheel slot it is linked in
  uint32_t t_prev;     // timer wheel links
  uint32_t t_next;
  union {
    uint32_t control;    // connections: the template that scheduled it, or kNil
    uint32_t n_control;  // templates: live connections they control
  };
  // FULLNAT: the local address (an index into the engine's local address table) and port that
  // replace the client's on the real-server side.
  uint16_t laddr;
  uint16_t lport;
  // FULLNAT with PROXY v2: the client's initial sequence number; the header is inserted at
  // isn + 1, and later client bytes move up by its length.
  uint32_t isn;

  net::Family family() const { return af == 6 ? net::Family::kV6 : net::Family::kV4; }
  net::IpAddr client() const { return make(caddr); }
  net::IpAddr vip() const { return make(vaddr); }
  net::IpAddr real() const { return make(daddr); }

 private:
  net::IpAddr make(const uint8_t* a) const {
    return af == 6 ? net::IpAddr::v6(a) : net::IpAddr::v4(a);
  }
};
static_assert(sizeof(Conn) == 100, "Conn layout changed: check the memory budget per connection");

}  // namespace lvs::core
