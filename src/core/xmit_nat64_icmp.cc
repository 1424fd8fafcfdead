#include "core/xmit_nat64_icmp.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "net/bytes.h"
#include "net/checksum.h"
#include "net/headers.h"

namespace lvs::core {

namespace {

inline size_t fail(Nat64Status* out, Nat64Status s) {
  if (out != nullptr) *out = s;
  return 0;
}

struct IcmpHead {
  uint8_t type = 0;
  uint8_t code = 0;
  uint32_t info = 0;  // the 32-bit word after the checksum
};

// RFC 7915 Figure 3: a pointer into the IPv4 header, as a pointer into the IPv6 header.
int v4_pointer_to_v6(uint8_t p) {
  if (p <= 1) return p;        // version/IHL, TOS -> version/traffic class
  if (p <= 3) return 4;        // total length -> payload length
  if (p == 8) return 7;        // TTL -> hop limit
  if (p == 9) return 6;        // protocol -> next header
  if (p >= 12 && p <= 15) return 8;   // source address
  if (p >= 16 && p <= 19) return 24;  // destination address
  return -1;                   // ID, flags, fragment offset, checksum: no counterpart
}

// RFC 7915 Figure 6: a pointer into the IPv6 header, as a pointer into the IPv4 header.
int v6_pointer_to_v4(uint32_t p) {
  if (p <= 1) return int(p);
  if (p == 4 || p == 5) return 2;
  if (p == 6) return 9;
  if (p == 7) return 8;
  if (p >= 8 && p <= 23) return 12;
  if (p >= 24 && p <= 39) return 16;
  return -1;  // flow label, beyond the header
}

bool map_v4_to_v6(const uint8_t* icmp, IcmpHead& h) {
  const uint8_t code = icmp[1];
  switch (icmp[0]) {
    case net::kIcmpDestUnreach:
      switch (code) {
        case 0: case 1: case 5: case 6: case 7: case 8: case 11: case 12:
          h = {1, 0, 0};
          return true;
        case 2:
          h = {4, 1, 6};  // protocol unreachable: parameter problem at the next header field
          return true;
        case 3:
          h = {1, 4, 0};
          return true;
        case 4: {
          // Fragmentation needed: the IPv6 packet may be 20 bytes longer than the IPv4 one.
          const uint32_t mtu = uint32_t(net::load_be16(icmp + 6)) + 20;
          h = {2, 0, std::max<uint32_t>(mtu, 1280)};
          return true;
        }
        case 9: case 10: case 13: case 15:
          h = {1, 1, 0};
          return true;
        default:
          return false;  // 14 (host precedence violation) and unknown codes
      }
    case 11:
      h = {3, code, 0};
      return true;
    case 12: {
      if (code != 0 && code != 2) return false;
      const int p = v4_pointer_to_v6(icmp[4]);
      if (p < 0) return false;
      h = {4, 0, uint32_t(p)};
      return true;
    }
    default:
      return false;  // source quench, redirect, ...
  }
}

bool map_v6_to_v4(const uint8_t* icmp, IcmpHead& h) {
  const uint8_t code = icmp[1];
  switch (icmp[0]) {
    case net::kIcmp6DestUnreach:
      switch (code) {
        case 0: case 2: case 3: h = {3, 1, 0}; return true;
        case 1: h = {3, 10, 0}; return true;
        case 4: h = {3, 3, 0}; return true;
        default: return false;
      }
    case 2: {  // packet too big: the IPv4 packet is 20 bytes shorter
      const uint32_t mtu6 = net::load_be32(icmp + 4);
      const uint32_t mtu4 = mtu6 > 20 ? std::min<uint32_t>(mtu6 - 20, 0xffff) : 0;
      h = {3, 4, mtu4};
      return true;
    }
    case 3:
      h = {11, code, 0};
      return true;
    case 4:
      if (code == 1) {
        h = {3, 2, 0};  // unrecognized next header: protocol unreachable
        return true;
      }
      if (code == 0) {
        const int p = v6_pointer_to_v4(net::load_be32(icmp + 4));
        if (p < 0) return false;
        h = {12, 0, uint32_t(p) << 24};
        return true;
      }
      return false;
    default:
      return false;
  }
}

// Puts the `n` bytes of the new IP packet `ip` behind the frame's Ethernet header, the frame
// growing into its tailroom, then its headroom. False when neither has the room.
bool place(Packet& pkt, size_t l3_offset, uint16_t ethertype, const uint8_t* ip, size_t n) {
  const size_t need = l3_offset + n;
  uint8_t* const end = pkt.data + pkt.len + pkt.tailroom;
  uint8_t* data = pkt.data;
  if (need > size_t(end - data)) {
    const size_t back = need - size_t(end - data);
    if (back > pkt.headroom) return false;
    data -= back;
    std::memmove(data, pkt.data, l3_offset);
    pkt.headroom -= uint32_t(back);
  }
  net::store_be16(data + l3_offset - 2, ethertype);
  std::memcpy(data + l3_offset, ip, n);
  pkt.data = data;
  pkt.len = uint32_t(need);
  pkt.tailroom = uint32_t(end - (data + need));
  return true;
}

}  // namespace

size_t icmp_nat64_out(Packet& pkt, const net::ParsedPacket& outer, const IcmpError& e,
                      const Conn& c, Nat64Status* status) {
  const uint8_t* f = pkt.data;
  const uint8_t* ip4 = f + outer.l3_offset;
  const uint8_t* icmp = f + e.icmp_offset;
  IcmpHead h;
  if (!map_v4_to_v6(icmp, h)) return fail(status, Nat64Status::kUntranslatable);
  const uint8_t ttl = ip4[net::Ipv4View::kTtl];
  if (ttl <= 1) return fail(status, Nat64Status::kTtlExceeded);

  const uint8_t* q4 = f + e.inner_l3_offset;
  const size_t q4_ihl = size_t(q4[0] & 0x0f) * 4;
  constexpr size_t kHdrs = net::kIpv6HdrLen + net::kIcmpHdrLen + net::kIpv6HdrLen;
  const size_t tb = std::min<size_t>(e.icmp_end - e.inner_l4_offset, 1280 - kHdrs);
  std::array<uint8_t, 1280> buf{};
  uint8_t* o6 = buf.data();
  uint8_t* m = o6 + net::kIpv6HdrLen;
  uint8_t* q6 = m + net::kIcmpHdrLen;
  const size_t icmp_len = net::kIcmpHdrLen + net::kIpv6HdrLen + tb;

  // The quote: what the client sent, [caddr]:cport -> [vaddr]:vport.
  const uint8_t tos = q4[1];
  const uint16_t tot = net::load_be16(q4 + 2);
  q6[0] = uint8_t(0x60 | tos >> 4);
  q6[1] = uint8_t(tos << 4);
  net::store_be16(q6 + net::Ipv6View::kPayloadLen, uint16_t(tot > q4_ihl ? tot - q4_ihl : 0));
  q6[net::Ipv6View::kNextHdr] = q4[net::Ipv4View::kProto];
  q6[net::Ipv6View::kHopLimit] = q4[net::Ipv4View::kTtl];
  std::memcpy(q6 + net::Ipv6View::kSaddr, c.caddr, 16);
  std::memcpy(q6 + net::Ipv6View::kDaddr, c.vaddr, 16);
  uint8_t* ports = q6 + net::kIpv6HdrLen;
  std::memcpy(ports, f + e.inner_l4_offset, tb);
  net::store_be16(ports, c.cport);
  net::store_be16(ports + 2, c.vport);

  // The error, from the VIP to the client.
  const uint8_t otos = ip4[1];
  o6[0] = uint8_t(0x60 | otos >> 4);
  o6[1] = uint8_t(otos << 4);
  net::store_be16(o6 + net::Ipv6View::kPayloadLen, uint16_t(icmp_len));
  o6[net::Ipv6View::kNextHdr] = net::kProtoIcmpv6;
  o6[net::Ipv6View::kHopLimit] = uint8_t(ttl - 1);
  std::memcpy(o6 + net::Ipv6View::kSaddr, c.vaddr, 16);
  std::memcpy(o6 + net::Ipv6View::kDaddr, c.caddr, 16);
  m[0] = h.type;
  m[1] = h.code;
  net::store_be32(m + 4, h.info);
  const uint32_t sum = net::pseudo_header_sum(net::IpAddr::v6(c.vaddr), net::IpAddr::v6(c.caddr),
                                              net::kProtoIcmpv6, uint32_t(icmp_len));
  net::store_be16(m + 2, uint16_t(~net::csum_fold(net::csum_partial(m, icmp_len, sum))));

  if (!place(pkt, outer.l3_offset, net::kEthPIpv6, buf.data(), net::kIpv6HdrLen + icmp_len)) {
    return fail(status, Nat64Status::kNoHeadroom);
  }
  return pkt.len;
}

size_t icmp_nat64_in(Packet& pkt, const net::ParsedPacket& outer, const IcmpError& e,
                     const Conn& c, const uint8_t* laddr4, Nat64Status* status) {
  const uint8_t* f = pkt.data;
  const uint8_t* ip6 = f + outer.l3_offset;
  const uint8_t* icmp = f + e.icmp_offset;
  IcmpHead h;
  if (!map_v6_to_v4(icmp, h)) return fail(status, Nat64Status::kUntranslatable);

  const uint8_t* q6 = f + e.inner_l3_offset;
  const size_t ext = e.inner_l4_offset - e.inner_l3_offset - net::kIpv6HdrLen;
  const size_t tb = e.icmp_end - e.inner_l4_offset;
  std::array<uint8_t, 1280> buf{};
  constexpr size_t kHdrs = net::kIpv4MinHdrLen + net::kIcmpHdrLen + net::kIpv4MinHdrLen;
  if (kHdrs + tb > buf.size()) return fail(status, Nat64Status::kUntranslatable);
  uint8_t* o4 = buf.data();
  uint8_t* m = o4 + net::kIpv4MinHdrLen;
  uint8_t* q4 = m + net::kIcmpHdrLen;
  const size_t icmp_len = net::kIcmpHdrLen + net::kIpv4MinHdrLen + tb;

  // The quote: what the real server sent, daddr:dport -> laddr:lport, headed as nat64_out would
  // have sent it on (ID 0, DF).
  const uint16_t plen = net::load_be16(q6 + net::Ipv6View::kPayloadLen);
  q4[0] = 0x45;
  q4[1] = uint8_t((q6[0] & 0x0f) << 4 | q6[1] >> 4);
  net::store_be16(q4 + 2, uint16_t(net::kIpv4MinHdrLen + (plen > ext ? plen - ext : 0)));
  net::store_be16(q4 + 6, 0x4000);
  q4[net::Ipv4View::kTtl] = q6[net::Ipv6View::kHopLimit];
  q4[net::Ipv4View::kProto] = e.inner.l4_proto;
  std::memcpy(q4 + net::Ipv4View::kSaddr, c.daddr, 4);
  std::memcpy(q4 + net::Ipv4View::kDaddr, laddr4, 4);
  net::store_be16(q4 + net::Ipv4View::kCheck, net::checksum(q4, net::kIpv4MinHdrLen));
  uint8_t* ports = q4 + net::kIpv4MinHdrLen;
  std::memcpy(ports, f + e.inner_l4_offset, tb);
  net::store_be16(ports, c.dport);
  net::store_be16(ports + 2, c.lport);

  // The error, from the local address to the real server.
  o4[0] = 0x45;
  o4[1] = uint8_t((ip6[0] & 0x0f) << 4 | ip6[1] >> 4);
  net::store_be16(o4 + 2, uint16_t(net::kIpv4MinHdrLen + icmp_len));
  o4[net::Ipv4View::kTtl] = ip6[net::Ipv6View::kHopLimit];
  o4[net::Ipv4View::kProto] = net::kProtoIcmp;
  std::memcpy(o4 + net::Ipv4View::kSaddr, laddr4, 4);
  std::memcpy(o4 + net::Ipv4View::kDaddr, c.daddr, 4);
  net::store_be16(o4 + net::Ipv4View::kCheck, net::checksum(o4, net::kIpv4MinHdrLen));
  m[0] = h.type;
  m[1] = h.code;
  net::store_be32(m + 4, h.info);
  net::store_be16(m + 2, net::checksum(m, icmp_len));

  if (!place(pkt, outer.l3_offset, net::kEthPIpv4, buf.data(), net::kIpv4MinHdrLen + icmp_len)) {
    return fail(status, Nat64Status::kNoHeadroom);
  }
  return pkt.len;
}

}  // namespace lvs::core
