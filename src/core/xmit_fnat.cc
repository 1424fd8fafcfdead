#include "core/xmit_fnat.h"

#include "net/checksum.h"
#include "net/crc32c.h"
#include "net/headers.h"
#include "net/ttl.h"

namespace lvs::core {

namespace {

// Rewrites source and destination (addresses and ports) with one checksum delta, and drops the
// TTL by one when `routed`. False if the TTL would reach zero (nothing is written then).
bool rewrite_both(uint8_t* frame, const net::ParsedPacket& p, const uint8_t* saddr,
                  uint16_t sport, const uint8_t* daddr, uint16_t dport, bool routed) {
  uint8_t* ip = frame + p.l3_offset;
  uint8_t* l4 = frame + p.l4_offset;
  const bool v4 = p.family == net::Family::kV4;
  const size_t alen = v4 ? 4 : 16;
  const size_t s_off = v4 ? net::Ipv4View::kSaddr : net::Ipv6View::kSaddr;
  const size_t d_off = v4 ? net::Ipv4View::kDaddr : net::Ipv6View::kDaddr;

  net::CsumDelta ip_delta;
  if (routed && !net::decrement_ttl(ip, p.family, &ip_delta)) return false;
  net::CsumDelta addr_delta;
  addr_delta.replace_bytes(ip + s_off, saddr, alen);
  addr_delta.replace_bytes(ip + d_off, daddr, alen);
  net::CsumDelta l4_delta = addr_delta;
  l4_delta.replace16(net::load_be16(l4), sport);
  l4_delta.replace16(net::load_be16(l4 + 2), dport);
  if (v4) {
    ip_delta.add(addr_delta);
    net::csum_apply_at(ip + net::Ipv4View::kCheck, ip_delta);
  }
  std::memcpy(ip + s_off, saddr, alen);
  std::memcpy(ip + d_off, daddr, alen);
  if (p.l4_proto == net::kProtoSctp) {
    net::sctp_set_ports(l4, p.l4_len(), sport, dport);  // CRC32c: ports only
    return true;
  }
  net::store_be16(l4, sport);
  net::store_be16(l4 + 2, dport);
  if (p.l4_proto == net::kProtoTcp) {
    net::csum_apply_at(l4 + net::TcpView::kCheck, l4_delta);
  } else if (p.l4_proto == net::kProtoUdp) {
    net::udp_csum_apply_at(l4 + net::UdpView::kCheck, l4_delta, v4);
  }
  return true;
}

}  // namespace

void fnat_in(uint8_t* frame, const net::ParsedPacket& p, const Conn& c, const uint8_t* laddr) {
  rewrite_both(frame, p, laddr, c.lport, c.daddr, c.dport, false);
}

bool fnat_out(uint8_t* frame, const net::ParsedPacket& p, const Conn& c) {
  return rewrite_both(frame, p, c.vaddr, c.vport, c.caddr, c.cport, true);
}

}  // namespace lvs::core
