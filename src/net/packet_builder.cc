#include "net/packet_builder.h"

#include <cstdlib>

#include "net/bytes.h"
#include "net/checksum.h"

namespace lvs::net {

PacketBuilder& PacketBuilder::eth(const MacAddr& src, const MacAddr& dst) {
  eth_src_ = src;
  eth_dst_ = dst;
  return *this;
}
PacketBuilder& PacketBuilder::vlan(uint16_t tci, uint16_t tpid) {
  vlans_.emplace_back(tpid, tci);
  return *this;
}
PacketBuilder& PacketBuilder::ipv4(const IpAddr& src, const IpAddr& dst) {
  src_ = src;
  dst_ = dst;
  return *this;
}
PacketBuilder& PacketBuilder::ipv6(const IpAddr& src, const IpAddr& dst) {
  src_ = src;
  dst_ = dst;
  return *this;
}
PacketBuilder& PacketBuilder::ttl(uint8_t ttl) {
  ttl_ = ttl;
  return *this;
}
PacketBuilder& PacketBuilder::ip_id(uint16_t id) {
  ip_id_ = id;
  return *this;
}
PacketBuilder& PacketBuilder::tos(uint8_t tos) {
  tos_ = tos;
  return *this;
}
PacketBuilder& PacketBuilder::dont_fragment(bool df) {
  df_ = df;
  return *this;
}
PacketBuilder& PacketBuilder::ipv6_ext(uint8_t type, size_t len) {
  exts_.push_back({type, len});
  return *this;
}
PacketBuilder& PacketBuilder::tcp(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
                                  uint32_t ack) {
  l4_proto_ = kProtoTcp;
  raw_l4_ = false;
  sport_ = sport;
  dport_ = dport;
  tcp_flags_ = flags;
  seq_ = seq;
  ack_ = ack;
  return *this;
}
PacketBuilder& PacketBuilder::udp(uint16_t sport, uint16_t dport) {
  l4_proto_ = kProtoUdp;
  raw_l4_ = false;
  sport_ = sport;
  dport_ = dport;
  return *this;
}
PacketBuilder& PacketBuilder::icmp(uint8_t type, uint8_t code, uint32_t rest) {
  l4_proto_ = kProtoIcmp;  // becomes kProtoIcmpv6 at build() for an IPv6 packet
  raw_l4_ = false;
  icmp_type_ = type;
  icmp_code_ = code;
  icmp_rest_ = rest;
  return *this;
}
PacketBuilder& PacketBuilder::raw_l4(uint8_t proto) {
  l4_proto_ = proto;
  raw_l4_ = true;
  return *this;
}
PacketBuilder& PacketBuilder::payload(std::span<const uint8_t> bytes) {
  payload_.assign(bytes.begin(), bytes.end());
  return *this;
}
PacketBuilder& PacketBuilder::payload(std::string_view text) {
  payload_.assign(text.begin(), text.end());
  return *this;
}
PacketBuilder& PacketBuilder::no_udp_checksum() {
  udp_csum_ = false;
  return *this;
}

std::vector<uint8_t> PacketBuilder::build_ip() const {
  uint8_t proto = l4_proto_;
  if (!raw_l4_ && proto == kProtoIcmp && src_.is_v6()) proto = kProtoIcmpv6;
  std::vector<uint8_t> l4;
  if (!raw_l4_) {
    switch (proto) {
      case kProtoTcp:
        l4.resize(kTcpMinHdrLen);
        store_be16(&l4[0], sport_);
        store_be16(&l4[2], dport_);
        store_be32(&l4[4], seq_);
        store_be32(&l4[8], ack_);
        l4[12] = 5 << 4;
        l4[13] = tcp_flags_;
        store_be16(&l4[14], 64240);  // window
        break;
      case kProtoUdp:
        l4.resize(kUdpHdrLen);
        store_be16(&l4[0], sport_);
        store_be16(&l4[2], dport_);
        store_be16(&l4[4], uint16_t(kUdpHdrLen + payload_.size()));
        break;
      case kProtoIcmp:
      case kProtoIcmpv6:
        l4.resize(kIcmpHdrLen);
        l4[0] = icmp_type_;
        l4[1] = icmp_code_;
        store_be32(&l4[4], icmp_rest_);
        break;
      default:
        break;
    }
  }
  l4.insert(l4.end(), payload_.begin(), payload_.end());

  // Transport checksum over the pseudo header (ICMPv4 has none); raw_l4 bytes stay as given.
  const uint32_t l4_len = uint32_t(l4.size());
  const bool pseudo =
      proto == kProtoTcp || (proto == kProtoUdp && udp_csum_) || proto == kProtoIcmpv6;
  if (!raw_l4_ && pseudo) {
    const size_t off = proto == kProtoTcp   ? TcpView::kCheck
                       : proto == kProtoUdp ? UdpView::kCheck
                                            : IcmpView::kCheck;
    uint32_t sum = pseudo_header_sum(src_, dst_, proto, l4_len);
    uint16_t c = uint16_t(~csum_fold(csum_partial(l4.data(), l4.size(), sum)));
    if (proto == kProtoUdp && c == 0) c = 0xffff;
    store_be16(&l4[off], c);
  } else if (!raw_l4_ && proto == kProtoIcmp) {
    store_be16(&l4[IcmpView::kCheck], checksum(l4.data(), l4.size()));
  }

  std::vector<uint8_t> out;
  if (src_.is_v4()) {
    out.resize(kIpv4MinHdrLen);
    out[0] = 0x45;
    out[1] = tos_;
    store_be16(&out[2], uint16_t(kIpv4MinHdrLen + l4.size()));
    store_be16(&out[4], ip_id_);
    store_be16(&out[6], df_ ? 0x4000 : 0);
    out[8] = ttl_;
    out[9] = proto;
    std::memcpy(&out[12], src_.data(), 4);
    std::memcpy(&out[16], dst_.data(), 4);
    store_be16(&out[10], checksum(out.data(), kIpv4MinHdrLen));
  } else {
    size_t ext_len = 0;
    for (const auto& e : exts_) ext_len += e.len;
    out.resize(kIpv6HdrLen + ext_len);
    out[0] = 0x60 | (tos_ >> 4);
    out[1] = uint8_t(tos_ << 4);
    store_be16(&out[4], uint16_t(ext_len + l4.size()));
    out[6] = exts_.empty() ? proto : exts_[0].type;
    out[7] = ttl_;
    std::memcpy(&out[8], src_.data(), 16);
    std::memcpy(&out[24], dst_.data(), 16);
    size_t off = kIpv6HdrLen;
    for (size_t i = 0; i < exts_.size(); ++i) {
      const auto& e = exts_[i];
      out[off] = i + 1 < exts_.size() ? exts_[i + 1].type : proto;
      if (e.type == kProtoAh) {
        out[off + 1] = uint8_t(e.len / 4 - 2);
      } else if (e.type != kProtoFragment) {
        out[off + 1] = uint8_t(e.len / 8 - 1);
      }
      off += e.len;
    }
  }
  out.insert(out.end(), l4.begin(), l4.end());
  return out;
}

std::vector<uint8_t> PacketBuilder::build() const {
  std::vector<uint8_t> frame(12);
  std::memcpy(&frame[0], eth_dst_.bytes.data(), 6);
  std::memcpy(&frame[6], eth_src_.bytes.data(), 6);
  for (const auto& [tpid, tci] : vlans_) {
    const uint8_t tag[4] = {uint8_t(tpid >> 8), uint8_t(tpid), uint8_t(tci >> 8), uint8_t(tci)};
    frame.insert(frame.end(), tag, tag + 4);
  }
  const uint16_t type = src_.is_v6() ? kEthPIpv6 : kEthPIpv4;
  frame.push_back(uint8_t(type >> 8));
  frame.push_back(uint8_t(type));
  const auto ip_pkt = build_ip();
  frame.insert(frame.end(), ip_pkt.begin(), ip_pkt.end());
  return frame;
}

IpAddr ip(std::string_view text) {
  auto a = IpAddr::parse(text);
  if (!a) std::abort();
  return *a;
}

}  // namespace lvs::net
