#include "core/xmit.h"

#include "net/checksum.h"
#include "net/crc32c.h"
#include "net/headers.h"
#include "net/ttl.h"

namespace lvs::core {

namespace {

// Rewrites one address and one port of the frame and patches the IPv4 header and transport
// checksums incrementally (RFC 1624), as IPVS's tcp/udp_fast_csum_update do.
void rewrite(uint8_t* frame, const net::ParsedPacket& p, size_t addr_off, const uint8_t* addr,
             size_t port_off, uint16_t port, net::CsumDelta ip_extra) {
  uint8_t* ip = frame + p.l3_offset;
  uint8_t* l4 = frame + p.l4_offset;
  const bool v4 = p.family == net::Family::kV4;
  const size_t alen = v4 ? 4 : 16;

  net::CsumDelta addr_delta;
  addr_delta.replace_bytes(ip + addr_off, addr, alen);
  net::CsumDelta l4_delta = addr_delta;
  l4_delta.replace16(net::load_be16(l4 + port_off), port);

  if (v4) {
    // Header checksum covers the address and whatever else changed (TTL on the reply path).
    net::CsumDelta hdr = ip_extra;
    hdr.add(addr_delta);
    net::csum_apply_at(ip + net::Ipv4View::kCheck, hdr);
  }
  std::memcpy(ip + addr_off, addr, alen);
  if (p.l4_proto == net::kProtoSctp) {
    // CRC32c covers the ports, not the addresses: patched for the new port alone.
    const uint16_t sport = port_off == 0 ? port : net::load_be16(l4);
    const uint16_t dport = port_off == 2 ? port : net::load_be16(l4 + 2);
    net::sctp_set_ports(l4, p.l4_len(), sport, dport);
    return;
  }
  net::store_be16(l4 + port_off, port);
  if (p.l4_proto == net::kProtoTcp) {
    net::csum_apply_at(l4 + net::TcpView::kCheck, l4_delta);
  } else if (p.l4_proto == net::kProtoUdp) {
    net::udp_csum_apply_at(l4 + net::UdpView::kCheck, l4_delta, v4);
  }
}

}  // namespace

void nat_in(uint8_t* frame, const net::ParsedPacket& p, const Conn& c) {
  const size_t daddr_off =
      p.family == net::Family::kV4 ? net::Ipv4View::kDaddr : net::Ipv6View::kDaddr;
  rewrite(frame, p, daddr_off, c.daddr, 2, c.dport, net::CsumDelta{});
}

bool nat_out(uint8_t* frame, const net::ParsedPacket& p, const Conn& c) {
  net::CsumDelta ttl_delta;
  if (!net::decrement_ttl(frame + p.l3_offset, p.family, &ttl_delta)) return false;
  const size_t saddr_off =
      p.family == net::Family::kV4 ? net::Ipv4View::kSaddr : net::Ipv6View::kSaddr;
  rewrite(frame, p, saddr_off, c.vaddr, 0, c.vport, ttl_delta);
  return true;
}

}  // namespace lvs::core
