#include "core/icmp_too_big.h"

#include <algorithm>
#include <cstring>

#include "net/bytes.h"
#include "net/checksum.h"
#include "net/headers.h"

namespace lvs::core {

namespace {

// icmp_pointers[type].error in net/ipv4/icmp.c, and types it does not know, which icmp_send
// treats as errors too.
bool icmp4_is_error_or_unknown(uint8_t type) {
  switch (type) {
    case 3:   // destination unreachable
    case 4:   // source quench
    case 5:   // redirect
    case 11:  // time exceeded
    case 12:  // parameter problem
      return true;
    default:
      return type > 18 && type != 42 && type != 43;  // past NR_ICMP_TYPES, not extended echo
  }
}

bool v4_source_answerable(const uint8_t* a) {
  if (a[0] == 0 || a[0] == 127 || (a[0] & 0xf0) == 224) return false;  // 0/8, 127/8, 224/4
  return !(a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255);  // limited broadcast
}

bool v6_source_answerable(const uint8_t* a) {
  if (a[0] == 0xff) return false;  // multicast
  for (size_t i = 0; i < 16; ++i) {
    if (a[i] != 0) return true;
  }
  return false;  // unspecified
}

}  // namespace

bool may_answer_with_error(const net::ParsedPacket& p, const uint8_t* frame) {
  const uint8_t* ip = frame + p.l3_offset;
  if (p.family == net::Family::kV4) {
    if (p.l4_proto == net::kProtoIcmp && icmp4_is_error_or_unknown(p.icmp_type)) return false;
    return v4_source_answerable(ip + net::Ipv4View::kSaddr);
  }
  if (p.family == net::Family::kV6) {
    if (p.l4_proto == net::kProtoIcmpv6 && net::icmp6_is_error(p.icmp_type)) return false;
    return v6_source_answerable(ip + net::Ipv6View::kSaddr);
  }
  return false;
}

bool needs_too_big(const net::ParsedPacket& p, const uint8_t* frame, uint32_t mtu) {
  if (p.l3_len <= mtu) return false;
  // IPv4 without DF: fragmented by IPVS, not answered.
  if (p.family == net::Family::kV4 && (frame[p.l3_offset + 6] & 0x40) == 0) return false;
  return may_answer_with_error(p, frame);
}

size_t build_icmp_error(uint8_t* frame, size_t len, size_t tailroom, const net::ParsedPacket& p,
                        uint8_t type, uint8_t code, uint32_t info, const net::IpAddr* src) {
  const bool v4 = p.family == net::Family::kV4;
  if (!v4 && p.family != net::Family::kV6) return 0;
  if (src != nullptr && src->family != p.family) return 0;
  const size_t ip_hdr = v4 ? net::kIpv4MinHdrLen : net::kIpv6HdrLen;
  const size_t hdrs = ip_hdr + net::kIcmpHdrLen;
  // "As much of the invoking packet as possible without the error exceeding" 576 bytes (RFC 1812
  // 4.3.2.3, icmp_send) or the IPv6 minimum MTU (RFC 4443 2.4(c), icmp6_send).
  const size_t limit = (v4 ? 576 : 1280) - hdrs;
  const size_t quote = std::min<size_t>(p.l3_len, limit);
  const size_t l3 = p.l3_offset;
  const size_t new_len = l3 + hdrs + quote;
  if (l3 < net::kEthHdrLen || p.l3_end() > len || new_len > len + tailroom) return 0;

  // Read what the new headers need before the quote moves over the old header.
  const uint8_t* old_ip = frame + l3;
  const size_t alen = v4 ? 4 : 16;
  uint8_t from[16], to[16];
  const uint8_t tos = v4 ? old_ip[1] : 0;
  std::memcpy(to, old_ip + (v4 ? net::Ipv4View::kSaddr : net::Ipv6View::kSaddr), alen);
  if (src != nullptr) {
    std::memcpy(from, src->data(), alen);
  } else {
    std::memcpy(from, old_ip + (v4 ? net::Ipv4View::kDaddr : net::Ipv6View::kDaddr), alen);
  }
  std::memmove(frame + l3 + hdrs, frame + l3, quote);

  uint8_t* ip = frame + l3;
  uint8_t* icmp = ip + ip_hdr;
  std::memset(ip, 0, hdrs);
  icmp[0] = type;
  icmp[1] = code;
  net::store_be32(icmp + 4, info);
  const size_t icmp_len = net::kIcmpHdrLen + quote;
  if (v4) {
    net::store_be16(frame + l3 - 2, net::kEthPIpv4);
    ip[0] = 0x45;
    ip[1] = uint8_t((tos & 0x1e) | 0xc0);  // RT_TOS(tos) | IPTOS_PREC_INTERNETCONTROL
    net::store_be16(ip + 2, uint16_t(hdrs + quote));
    ip[net::Ipv4View::kTtl] = 64;
    ip[net::Ipv4View::kProto] = net::kProtoIcmp;
    std::memcpy(ip + net::Ipv4View::kSaddr, from, 4);
    std::memcpy(ip + net::Ipv4View::kDaddr, to, 4);
    net::store_be16(ip + net::Ipv4View::kCheck, net::checksum(ip, net::kIpv4MinHdrLen));
    net::store_be16(icmp + net::IcmpView::kCheck, net::checksum(icmp, icmp_len));
  } else {
    net::store_be16(frame + l3 - 2, net::kEthPIpv6);
    ip[0] = 0x60;
    net::store_be16(ip + net::Ipv6View::kPayloadLen, uint16_t(icmp_len));
    ip[net::Ipv6View::kNextHdr] = net::kProtoIcmpv6;
    ip[net::Ipv6View::kHopLimit] = 64;
    std::memcpy(ip + net::Ipv6View::kSaddr, from, 16);
    std::memcpy(ip + net::Ipv6View::kDaddr, to, 16);
    const uint32_t sum = net::pseudo_header_sum(net::IpAddr::v6(from), net::IpAddr::v6(to),
                                                net::kProtoIcmpv6, uint32_t(icmp_len));
    net::store_be16(icmp + net::IcmpView::kCheck,
                    uint16_t(~net::csum_fold(net::csum_partial(icmp, icmp_len, sum))));
  }
  return new_len;
}

size_t build_too_big(uint8_t* frame, size_t len, size_t tailroom, const net::ParsedPacket& p,
                     uint32_t mtu, const net::IpAddr* src) {
  if (p.family == net::Family::kV4) {
    return build_icmp_error(frame, len, tailroom, p, net::kIcmpDestUnreach, net::kIcmpFragNeeded,
                            mtu & 0xffff, src);
  }
  return build_icmp_error(frame, len, tailroom, p, net::kIcmp6PacketTooBig, 0, mtu, src);
}

}  // namespace lvs::core
