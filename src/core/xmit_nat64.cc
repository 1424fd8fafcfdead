#include "core/xmit_nat64.h"

#include <cstring>

#include "net/bytes.h"
#include "net/checksum.h"
#include "net/crc32c.h"

namespace lvs::core {

namespace {

inline void set_status(Nat64Status* out, Nat64Status s) {
  if (out != nullptr) *out = s;
}

inline bool translatable_l4(uint8_t proto) {
  return proto == net::kProtoTcp || proto == net::kProtoUdp || proto == net::kProtoSctp;
}

// Replaces the address `old_a` (`old_len` bytes) by `new_a` (`new_len` bytes) in a pseudo-header
// sum: the shorter one reads as zero words past its end, which add nothing.
inline void replace_addr(net::CsumDelta& d, const uint8_t* old_a, size_t old_len,
                         const uint8_t* new_a, size_t new_len) {
  const size_t n = old_len > new_len ? old_len : new_len;
  for (size_t i = 0; i < n; i += 2) {
    const uint16_t o = i < old_len ? net::load_be16(old_a + i) : 0;
    const uint16_t v = i < new_len ? net::load_be16(new_a + i) : 0;
    d.replace16(o, v);
  }
}

// New ports and the transport checksum. The pseudo-header's length and protocol are the same
// numbers in both families (the upper-layer length excludes extension headers and IPv4 options),
// so only its addresses are in `d`. An IPv4 UDP datagram without checksum gets a full one over
// the IPv6 pseudo-header (`v6_src`/`v6_dst`), since IPv6 requires it.
void rewrite_l4(uint8_t* l4, size_t l4_len, uint8_t proto, net::CsumDelta d, uint16_t sport,
                uint16_t dport, const uint8_t* v6_src, const uint8_t* v6_dst) {
  if (proto == net::kProtoSctp) {
    net::sctp_set_ports(l4, l4_len, sport, dport);  // CRC32c covers no addresses
    return;
  }
  d.replace16(net::load_be16(l4), sport);
  d.replace16(net::load_be16(l4 + 2), dport);
  net::store_be16(l4, sport);
  net::store_be16(l4 + 2, dport);
  if (proto == net::kProtoTcp) {
    net::csum_apply_at(l4 + net::TcpView::kCheck, d);
    return;
  }
  uint8_t* check = l4 + net::UdpView::kCheck;
  if (v6_src != nullptr && net::load_be16(check) == 0) {
    const uint16_t ulen = net::load_be16(l4 + net::UdpView::kLen);
    uint32_t sum = net::csum_partial(v6_src, 16, 0);
    sum = net::csum_partial(v6_dst, 16, sum);
    sum = net::csum_partial(l4, ulen, sum + net::kProtoUdp + ulen);
    const uint16_t v = uint16_t(~net::csum_fold(sum));
    net::store_be16(check, v == 0 ? 0xffff : v);
    return;
  }
  net::udp_csum_apply_at(check, d, false);  // a result of 0 is sent as 0xffff
}

}  // namespace

size_t nat64_in(Packet& pkt, const net::ParsedPacket& p, const Conn& c, const uint8_t* laddr4,
                Nat64Status* status) {
  set_status(status, Nat64Status::kUntranslatable);
  const size_t l3 = p.l3_offset;
  const size_t l4 = p.l4_offset;
  if (!p.ok() || p.family != net::Family::kV6 || !translatable_l4(p.l4_proto) ||
      l4 < l3 + net::kIpv6HdrLen || p.l3_end() > pkt.len) {
    return 0;
  }
  uint8_t* f = pkt.data;
  const uint8_t* ip6 = f + l3;
  // Extension headers: hop-by-hop and destination options carry nothing IPv4 has, and a routing
  // header with no segments left is done with; all three are dropped (RFC 7915 section 5.1).
  uint8_t next = ip6[net::Ipv6View::kNextHdr];
  for (size_t off = l3 + net::kIpv6HdrLen; off != l4;) {
    if (off + 8 > l4) return 0;
    const uint8_t* h = f + off;
    if (next == net::kProtoRouting) {
      if (h[3] != 0) return 0;  // segments left: not for us to skip
    } else if (next != net::kProtoHopByHop && next != net::kProtoDstOpts) {
      return 0;  // Fragment (atomic or not), AH, ESP, ...
    }
    next = h[0];
    off += (size_t(h[1]) + 1) * 8;
    if (off > l4) return 0;
  }
  if (next != p.l4_proto) return 0;
  uint8_t* t = f + l4;
  const size_t l4_len = p.l4_len();
  if (p.l4_proto == net::kProtoUdp && net::load_be16(t + net::UdpView::kCheck) == 0) return 0;

  const uint8_t tclass = uint8_t(ip6[0] << 4 | ip6[1] >> 4);
  const uint8_t hop_limit = ip6[net::Ipv6View::kHopLimit];
  net::CsumDelta d;
  replace_addr(d, ip6 + net::Ipv6View::kSaddr, 16, laddr4, 4);
  replace_addr(d, ip6 + net::Ipv6View::kDaddr, 16, c.daddr, 4);
  rewrite_l4(t, l4_len, p.l4_proto, d, c.lport, c.dport, nullptr, nullptr);

  // The IPv4 header ends where the transport starts; it overwrites the IPv6 header's tail.
  uint8_t* ip4 = t - net::kIpv4MinHdrLen;
  ip4[0] = 0x45;
  ip4[1] = tclass;
  net::store_be16(ip4 + net::Ipv4View::kTotLen, uint16_t(net::kIpv4MinHdrLen + l4_len));
  net::store_be16(ip4 + 4, 0);       // ID: an atomic datagram's
  net::store_be16(ip4 + 6, 0x4000);  // DF, no fragment
  ip4[net::Ipv4View::kTtl] = hop_limit;
  ip4[net::Ipv4View::kProto] = p.l4_proto;
  net::store_be16(ip4 + net::Ipv4View::kCheck, 0);
  std::memcpy(ip4 + net::Ipv4View::kSaddr, laddr4, 4);
  std::memcpy(ip4 + net::Ipv4View::kDaddr, c.daddr, 4);
  net::store_be16(ip4 + net::Ipv4View::kCheck, net::checksum(ip4, net::kIpv4MinHdrLen));

  // The link-layer header follows it forward; the regions do not overlap the new IPv4 header.
  const size_t shrink = l4 - net::kIpv4MinHdrLen - l3;
  std::memmove(f + shrink, f, l3);
  net::store_be16(f + shrink + l3 - 2, net::kEthPIpv4);

  const size_t new_len = l3 + net::kIpv4MinHdrLen + l4_len;
  pkt.tailroom += uint32_t(pkt.len - (shrink + new_len));  // trailing padding is freed too
  pkt.data = f + shrink;
  pkt.headroom += uint32_t(shrink);
  pkt.len = uint32_t(new_len);
  set_status(status, Nat64Status::kOk);
  return new_len;
}

size_t nat64_out(Packet& pkt, const net::ParsedPacket& p, const Conn& c, Nat64Status* status) {
  set_status(status, Nat64Status::kUntranslatable);
  const size_t l3 = p.l3_offset;
  const size_t l4 = p.l4_offset;
  if (!p.ok() || p.family != net::Family::kV4 || !translatable_l4(p.l4_proto) ||
      p.l3_end() > pkt.len) {
    return 0;
  }
  uint8_t* f = pkt.data;
  const uint8_t* ip4 = f + l3;
  const size_t ihl = size_t(ip4[0] & 0x0f) * 4;
  if (ihl < net::kIpv4MinHdrLen || l3 + ihl != l4) return 0;
  if ((net::load_be16(ip4 + 6) & 0x3fff) != 0) return 0;  // MF or an offset: a fragment
  const uint8_t ttl = ip4[net::Ipv4View::kTtl];
  if (ttl <= 1) {
    set_status(status, Nat64Status::kTtlExceeded);
    return 0;
  }
  // The IPv6 header replaces the IPv4 one and its options: the frame grows by 40 - IHL bytes
  // (shrinks when the options are longer than 20 bytes).
  const ptrdiff_t grow = ptrdiff_t(net::kIpv6HdrLen) - ptrdiff_t(ihl);
  if (grow > 0 && pkt.headroom < size_t(grow)) {
    set_status(status, Nat64Status::kNoHeadroom);
    return 0;
  }
  const uint8_t tos = ip4[1];
  uint8_t* t = f + l4;
  const size_t l4_len = p.l4_len();
  net::CsumDelta d;
  replace_addr(d, ip4 + net::Ipv4View::kSaddr, 4, c.vaddr, 16);
  replace_addr(d, ip4 + net::Ipv4View::kDaddr, 4, c.caddr, 16);
  rewrite_l4(t, l4_len, p.l4_proto, d, c.vport, c.cport, c.vaddr, c.caddr);

  // Link-layer header first (it moves back over bytes the IPv6 header then covers).
  uint8_t* nf = f - grow;
  std::memmove(nf, f, l3);
  net::store_be16(nf + l3 - 2, net::kEthPIpv6);
  uint8_t* ip6 = nf + l3;  // == t - 40
  ip6[0] = uint8_t(0x60 | tos >> 4);
  ip6[1] = uint8_t(tos << 4);  // flow label 0
  ip6[2] = 0;
  ip6[3] = 0;
  net::store_be16(ip6 + net::Ipv6View::kPayloadLen, uint16_t(l4_len));
  ip6[net::Ipv6View::kNextHdr] = p.l4_proto;
  ip6[net::Ipv6View::kHopLimit] = uint8_t(ttl - 1);
  std::memcpy(ip6 + net::Ipv6View::kSaddr, c.vaddr, 16);
  std::memcpy(ip6 + net::Ipv6View::kDaddr, c.caddr, 16);

  // The frame now ends where the IP packet ended; trailing padding becomes tailroom.
  const size_t new_len = l3 + net::kIpv6HdrLen + l4_len;
  pkt.tailroom += uint32_t(pkt.len - p.l3_end());
  pkt.data = nf;
  pkt.headroom = uint32_t(ptrdiff_t(pkt.headroom) - grow);
  pkt.len = uint32_t(new_len);
  set_status(status, Nat64Status::kOk);
  return new_len;
}

}  // namespace lvs::core
