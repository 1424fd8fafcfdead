// VS/TUN encapsulation (see xmit_tun.h for the header fields and where they come from).
#include "core/xmit_tun.h"

#include <bit>
#include <cstring>

#include "net/bytes.h"
#include "net/checksum.h"
#include "net/headers.h"

namespace lvs::core {

namespace {

constexpr size_t kGueHdrLen = 4;
constexpr size_t kGueRemCsumOptLen = 8;  // GUE_LEN_PRIV + GUE_PLEN_REMCSUM
constexpr size_t kGreHdrLen = 4;
constexpr size_t kGreCsumLen = 4;  // checksum + reserved1
constexpr uint16_t kGreFlagCsum = 0x8000;
constexpr uint16_t kGueFlagPriv = 0x0001;
constexpr uint32_t kGuePFlagRemCsum = 0x80000000u;
constexpr uint32_t kSrcPortMin = 49152;
constexpr uint32_t kSrcPortRange = 65536 - kSrcPortMin;

// INET_ECN_encapsulate(ds, ds): the ECN field is copied, except CE, which must not leak into the
// outer header as congestion the tunnel did not see: it becomes ECT(0).
inline uint8_t ecn_encapsulate(uint8_t ds) { return (ds & 3) == 3 ? uint8_t((ds & ~3) | 2) : ds; }

inline bool remcsum_option(const TunParams& t) {
  return t.type == TunType::kGue && (t.flags & kTunFlagRemCsum) && t.inner_csum_partial;
}

// Encapsulation header length between the outer IP header and the inner packet.
inline size_t encap_len(const TunParams& t, bool remcsum_opt) {
  switch (t.type) {
    case TunType::kGue:
      return net::kUdpHdrLen + kGueHdrLen + (remcsum_opt ? kGueRemCsumOptLen : 0);
    case TunType::kGre:
      return kGreHdrLen + ((t.flags & kTunFlagCsum) ? kGreCsumLen : 0);
    case TunType::kIpip:
      break;
  }
  return 0;
}

// Flow hash constants: odd multipliers (golden ratio, xxHash/murmur3 primes) and murmur3's fmix64.
constexpr uint64_t kMul[5] = {0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull,
                              0xd6e8feb86659fd93ull, 0xff51afd7ed558ccdull};

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

inline uint64_t fmix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

}  // namespace

uint32_t tun_overhead(const TunParams& t, net::Family /*inner*/) {
  const size_t ip = t.outer_dst.is_v6() ? net::kIpv6HdrLen : net::kIpv4MinHdrLen;
  return uint32_t(ip + encap_len(t, remcsum_option(t)));
}

uint32_t tun_inner_mtu(uint32_t path_mtu, const TunParams& t, net::Family inner) {
  const uint32_t over = tun_overhead(t, inner);
  const uint32_t floor = t.outer_dst.is_v6() ? 1280 : 68;
  if (path_mtu < over || path_mtu - over < floor) return 0;
  return path_mtu - over;
}

uint16_t tun_src_port(const uint8_t* frame, const net::ParsedPacket& p) {
  // The addresses are contiguous in both headers (source, then destination): one 64-bit word
  // for IPv4, four for IPv6. Independent products keep the multiplies in flight together.
  const uint8_t* ip = frame + p.l3_offset;
  const uint64_t ports = uint64_t(p.l4_proto) << 32 | uint64_t(p.sport) << 16 | p.dport;
  uint64_t h;
  if (p.family == net::Family::kV4) {
    h = load_le64(ip + net::Ipv4View::kSaddr) * kMul[0] + ports * kMul[4];
  } else {
    const uint8_t* a = ip + net::Ipv6View::kSaddr;
    h = load_le64(a) * kMul[0] + load_le64(a + 8) * kMul[1] + load_le64(a + 16) * kMul[2] +
        load_le64(a + 24) * kMul[3] + ports * kMul[4];
  }
  uint32_t h32 = uint32_t(fmix64(h));
  h32 ^= h32 << 16;  // as udp_flow_src_port
  return uint16_t(kSrcPortMin + ((uint64_t(h32) * kSrcPortRange) >> 32));
}

size_t tun_encap(uint8_t*& frame, size_t len, size_t headroom, const net::ParsedPacket& p,
                 const TunParams& t) {
  const bool in4 = p.family == net::Family::kV4;
  const bool out4 = t.outer_dst.is_v4();
  if ((!in4 && p.family != net::Family::kV6) || (!out4 && !t.outer_dst.is_v6()) ||
      t.outer_src.family != t.outer_dst.family || p.l3_end() > len) {
    return 0;
  }
  const bool opt = remcsum_option(t) && (p.is_tcp() || p.is_udp());
  const size_t ip_len = out4 ? net::kIpv4MinHdrLen : net::kIpv6HdrLen;
  const size_t enc_len = encap_len(t, opt);
  const size_t add = ip_len + enc_len;
  const size_t l2 = p.l3_offset;
  const size_t inner_len = p.l3_len;
  if (headroom < add || add + inner_len > 0xffff) return 0;

  // What the outer header inherits from the inner one (ip_vs_prepare_tunneled_skb).
  const uint8_t* inner = frame + l2;
  uint8_t ds, ttl;
  bool df = false;
  if (in4) {
    ds = inner[1];
    ttl = inner[net::Ipv4View::kTtl];
    df = (inner[6] & 0x40) != 0;
  } else {
    ds = uint8_t((inner[0] & 0x0f) << 4 | inner[1] >> 4);
    ttl = inner[net::Ipv6View::kHopLimit];
  }
  ds = ecn_encapsulate(ds);
  const uint8_t inner_proto = in4 ? net::kProtoIpip : net::kProtoIpv6;

  uint8_t* out = frame - add;
  if (l2 == net::kEthHdrLen) {
    std::memcpy(out, frame, net::kEthHdrLen);  // disjoint (add >= 20), and a fixed-size copy
  } else {
    std::memmove(out, frame, l2);  // VLAN tags: up to 22 bytes, may overlap
  }
  net::store_be16(out + l2 - 2, out4 ? net::kEthPIpv4 : net::kEthPIpv6);
  uint8_t* oip = out + l2;
  uint8_t* enc = oip + ip_len;

  uint8_t proto = inner_proto;
  if (t.type == TunType::kGue) {
    uint8_t* gue = enc + net::kUdpHdrLen;
    net::store_be16(enc, tun_src_port(frame, p));
    net::store_be16(enc + 2, t.port);
    net::store_be16(enc + 4, uint16_t(enc_len + inner_len));
    net::store_be16(enc + 6, 0);
    // Version 0, C 0, hlen in 32-bit words of options; proto/ctype; flags.
    gue[0] = opt ? uint8_t(kGueRemCsumOptLen / 4) : 0;
    gue[1] = inner_proto;
    net::store_be16(gue + 2, opt ? kGueFlagPriv : 0);
    if (opt) {
      // Remote checksum offload: where the inner checksum starts and where it is stored,
      // relative to the inner packet (ipvs_gue_encap).
      const uint16_t start = uint16_t(p.l4_offset - p.l3_offset);
      net::store_be32(gue + 4, kGuePFlagRemCsum);
      net::store_be16(gue + 8, start);
      net::store_be16(gue + 10,
                      uint16_t(start + (p.is_tcp() ? net::TcpView::kCheck : net::UdpView::kCheck)));
    }
    proto = net::kProtoUdp;
  } else if (t.type == TunType::kGre) {
    const bool csum = (t.flags & kTunFlagCsum) != 0;
    net::store_be16(enc, csum ? kGreFlagCsum : 0);
    net::store_be16(enc + 2, in4 ? net::kEthPIpv4 : net::kEthPIpv6);
    if (csum) {
      net::store_be32(enc + 4, 0);
      net::store_be16(enc + 4, net::checksum(enc, enc_len + inner_len));
    }
    proto = net::kProtoGre;
  }

  if (out4) {
    oip[0] = 0x45;
    oip[1] = ds;
    net::store_be16(oip + 2, uint16_t(add + inner_len));
    net::store_be16(oip + 4, df ? 0 : t.ip_id);
    net::store_be16(oip + 6, df ? 0x4000 : 0);
    oip[net::Ipv4View::kTtl] = ttl;
    oip[net::Ipv4View::kProto] = proto;
    const uint8_t* s = t.outer_src.data();
    const uint8_t* d = t.outer_dst.data();
    std::memcpy(oip + net::Ipv4View::kSaddr, s, 4);
    std::memcpy(oip + net::Ipv4View::kDaddr, d, 4);
    // The header checksum from the values just written, without reading them back.
    const uint32_t sum = (0x4500u | ds) + uint32_t(add + inner_len) + (df ? 0 : t.ip_id) +
                         (df ? 0x4000u : 0) + (uint32_t(ttl) << 8 | proto) + net::load_be16(s) +
                         net::load_be16(s + 2) + net::load_be16(d) + net::load_be16(d + 2);
    net::store_be16(oip + net::Ipv4View::kCheck, uint16_t(~net::csum_fold(sum)));
  } else {
    net::store_be32(oip, 0x60000000u | uint32_t(ds) << 20);
    net::store_be16(oip + net::Ipv6View::kPayloadLen, uint16_t(enc_len + inner_len));
    oip[net::Ipv6View::kNextHdr] = proto;
    oip[net::Ipv6View::kHopLimit] = ttl;
    std::memcpy(oip + net::Ipv6View::kSaddr, t.outer_src.data(), 16);
    std::memcpy(oip + net::Ipv6View::kDaddr, t.outer_dst.data(), 16);
  }

  if (t.type == TunType::kGue && (t.flags & (kTunFlagCsum | kTunFlagRemCsum))) {
    const size_t udp_len = enc_len + inner_len;
    uint32_t sum =
        net::pseudo_header_sum(t.outer_src, t.outer_dst, net::kProtoUdp, uint32_t(udp_len));
    uint16_t check = uint16_t(~net::csum_fold(net::csum_partial(enc, udp_len, sum)));
    if (check == 0) check = 0xffff;  // 0 would mean "no checksum"
    net::store_be16(enc + 6, check);
  }

  frame = out;
  return l2 + add + inner_len;
}

}  // namespace lvs::core
