#include <algorithm>

#include "core/xmit.h"
#include "net/checksum.h"
#include "net/headers.h"

namespace lvs::core {

size_t build_port_unreachable(uint8_t* frame, size_t len, size_t tailroom,
                              const net::ParsedPacket& p) {
  const bool v4 = p.family == net::Family::kV4;
  const size_t ip_hdr = v4 ? net::kIpv4MinHdrLen : net::kIpv6HdrLen;
  const size_t hdrs = ip_hdr + net::kIcmpHdrLen;
  // The kernel quotes up to 576 (IPv4) or 1280 (IPv6) bytes of error in total.
  const size_t limit = (v4 ? 576 : 1280) - hdrs;
  const size_t quote = std::min<size_t>(p.l3_len, limit);
  const size_t l3 = net::kEthHdrLen;  // VLAN-tagged frames never get here
  const size_t new_len = l3 + hdrs + quote;
  if (p.l3_offset != l3 || new_len > len + tailroom) return 0;

  // Addresses of the offending packet, read before the quote moves over them.
  uint8_t src[16], dst[16];
  const uint8_t* old_ip = frame + p.l3_offset;
  if (v4) {
    std::memcpy(src, old_ip + net::Ipv4View::kSaddr, 4);
    std::memcpy(dst, old_ip + net::Ipv4View::kDaddr, 4);
  } else {
    std::memcpy(src, old_ip + net::Ipv6View::kSaddr, 16);
    std::memcpy(dst, old_ip + net::Ipv6View::kDaddr, 16);
  }
  std::memmove(frame + l3 + hdrs, frame + p.l3_offset, quote);

  uint8_t* ip = frame + l3;
  uint8_t* icmp = ip + ip_hdr;
  std::memset(ip, 0, hdrs);
  if (v4) {
    net::store_be16(frame + 12, net::kEthPIpv4);
    ip[0] = 0x45;
    net::store_be16(ip + 2, uint16_t(hdrs + quote));
    ip[net::Ipv4View::kTtl] = 64;
    ip[net::Ipv4View::kProto] = net::kProtoIcmp;
    std::memcpy(ip + net::Ipv4View::kSaddr, dst, 4);  // from the address the client tried
    std::memcpy(ip + net::Ipv4View::kDaddr, src, 4);
    net::store_be16(ip + net::Ipv4View::kCheck, net::checksum(ip, net::kIpv4MinHdrLen));
    icmp[0] = net::kIcmpDestUnreach;
    icmp[1] = net::kIcmpPortUnreach;
    net::store_be16(icmp + 2, net::checksum(icmp, net::kIcmpHdrLen + quote));
  } else {
    net::store_be16(frame + 12, net::kEthPIpv6);
    ip[0] = 0x60;
    net::store_be16(ip + net::Ipv6View::kPayloadLen, uint16_t(net::kIcmpHdrLen + quote));
    ip[net::Ipv6View::kNextHdr] = net::kProtoIcmpv6;
    ip[net::Ipv6View::kHopLimit] = 64;
    std::memcpy(ip + net::Ipv6View::kSaddr, dst, 16);
    std::memcpy(ip + net::Ipv6View::kDaddr, src, 16);
    icmp[0] = net::kIcmp6DestUnreach;
    icmp[1] = net::kIcmp6PortUnreach;
    const uint32_t sum = net::pseudo_header_sum(net::IpAddr::v6(dst), net::IpAddr::v6(src),
                                                net::kProtoIcmpv6,
                                                uint32_t(net::kIcmpHdrLen + quote));
    net::store_be16(icmp + 2, uint16_t(~net::csum_fold(
                                  net::csum_partial(icmp, net::kIcmpHdrLen + quote, sum))));
  }
  return new_len;
}

}  // namespace lvs::core
