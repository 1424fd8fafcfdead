#include "net/proxy_v2.h"

#include <cstring>

#include "net/bytes.h"

namespace lvs::net {

namespace {

constexpr uint8_t kVersion2 = 0x20;
constexpr uint8_t kFamUnspec = 0x0, kFamInet = 0x1, kFamInet6 = 0x2, kFamUnix = 0x3;
constexpr uint8_t kTransStream = 0x1, kTransDgram = 0x2;
constexpr size_t kTlvHdrLen = 3;  // type, length_hi, length_lo

// An address in the header's family: IPv4 as is, or as ::ffff:a.b.c.d inside an IPv6 header.
void put_addr(uint8_t* out, const IpAddr& a, Family header_af) {
  if (header_af == Family::kV4) {
    std::memcpy(out, a.data(), 4);
  } else if (a.is_v6()) {
    std::memcpy(out, a.data(), 16);
  } else {
    std::memset(out, 0, 10);
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out + 12, a.data(), 4);
  }
}

// Size of the address block for a family/transport byte, 0 when it is not known.
size_t addr_block_len(uint8_t fam) {
  const uint8_t family = fam >> 4;
  const uint8_t trans = fam & 0x0f;
  if (trans != kTransStream && trans != kTransDgram) return 0;
  switch (family) {
    case kFamInet:
      return kProxyV2Inet4AddrLen;
    case kFamInet6:
      return kProxyV2Inet6AddrLen;
    case kFamUnix:
      return kProxyV2UnixAddrLen;
    default:
      return 0;
  }
}

}  // namespace

Family proxy_v2_family(const IpAddr& src, const IpAddr& dst) {
  if (src.family == Family::kNone || dst.family == Family::kNone) return Family::kNone;
  return (src.is_v6() || dst.is_v6()) ? Family::kV6 : Family::kV4;
}

size_t proxy_v2_size(Family af) {
  switch (af) {
    case Family::kV4:
      return kProxyV2FixedLen + kProxyV2Inet4AddrLen;
    case Family::kV6:
      return kProxyV2FixedLen + kProxyV2Inet6AddrLen;
    case Family::kNone:
      break;
  }
  return 0;
}

size_t proxy_v2_write(uint8_t* out, size_t cap, const IpAddr& src, uint16_t sport,
                      const IpAddr& dst, uint16_t dport, uint8_t proto) {
  if (proto != 6 && proto != 17) return 0;
  const Family af = proxy_v2_family(src, dst);
  const size_t size = proxy_v2_size(af);
  if (size == 0 || cap < size) return 0;
  const bool v4 = af == Family::kV4;
  const size_t alen = v4 ? 4 : 16;

  std::memcpy(out, kProxyV2Sig, sizeof(kProxyV2Sig));
  out[12] = kVersion2 | uint8_t(ProxyV2Command::kProxy);
  out[13] = uint8_t((v4 ? kFamInet : kFamInet6) << 4 | (proto == 6 ? kTransStream : kTransDgram));
  store_be16(out + 14, uint16_t(size - kProxyV2FixedLen));
  uint8_t* a = out + kProxyV2FixedLen;
  put_addr(a, src, af);
  put_addr(a + alen, dst, af);
  store_be16(a + 2 * alen, sport);
  store_be16(a + 2 * alen + 2, dport);
  return size;
}

std::string_view proxy_v2_status_name(ProxyV2Status s) {
  switch (s) {
    case ProxyV2Status::kOk:
      return "ok";
    case ProxyV2Status::kNeedMore:
      return "need_more";
    case ProxyV2Status::kNotProxyV2:
      return "not_proxy_v2";
    case ProxyV2Status::kBadVersion:
      return "bad_version";
    case ProxyV2Status::kBadCommand:
      return "bad_command";
    case ProxyV2Status::kBadFamily:
      return "bad_family";
    case ProxyV2Status::kShortAddress:
      return "short_address";
    case ProxyV2Status::kBadTlv:
      return "bad_tlv";
    case ProxyV2Status::kCount:
      break;
  }
  return "";
}

ProxyV2Result parse_proxy_v2(const uint8_t* p, size_t len) {
  ProxyV2Result r;
  // The signature first, on whatever part of it is there: a mismatch is final at once.
  const size_t sig_have = len < sizeof(kProxyV2Sig) ? len : sizeof(kProxyV2Sig);
  if (sig_have > 0 && std::memcmp(p, kProxyV2Sig, sig_have) != 0) {
    r.status = ProxyV2Status::kNotProxyV2;
    return r;
  }
  r.status = ProxyV2Status::kNeedMore;
  if (len < 13) return r;
  if ((p[12] & 0xf0) != kVersion2) {
    r.status = ProxyV2Status::kBadVersion;
    return r;
  }
  const uint8_t cmd = p[12] & 0x0f;
  if (cmd > uint8_t(ProxyV2Command::kProxy)) {
    r.status = ProxyV2Status::kBadCommand;
    return r;
  }
  r.command = ProxyV2Command(cmd);
  const bool proxy = r.command == ProxyV2Command::kProxy;
  if (len < 14) return r;
  r.fam = p[13];
  // LOCAL: the family "is ignored" (spec), so only PROXY validates it.
  if (proxy && ((r.fam >> 4) > kFamUnix || (r.fam & 0x0f) > kTransDgram)) {
    r.status = ProxyV2Status::kBadFamily;
    return r;
  }
  if (len < kProxyV2FixedLen) return r;
  const size_t body = load_be16(p + 14);
  r.header_len = kProxyV2FixedLen + body;
  const size_t alen = proxy ? addr_block_len(r.fam) : 0;
  if (body < alen) {
    r.status = ProxyV2Status::kShortAddress;
    return r;
  }
  if (len < r.header_len) return r;

  r.tlv_offset = r.header_len;
  if (alen == 0) {  // LOCAL, or UNSPEC family/transport: addresses and TLVs are not looked at
    r.status = ProxyV2Status::kOk;
    return r;
  }
  const uint8_t* a = p + kProxyV2FixedLen;
  const uint8_t family = r.fam >> 4;
  if (family == kFamInet || family == kFamInet6) {
    const size_t n = family == kFamInet ? 4 : 16;
    r.src = family == kFamInet ? IpAddr::v4(a) : IpAddr::v6(a);
    r.dst = family == kFamInet ? IpAddr::v4(a + n) : IpAddr::v6(a + n);
    r.sport = load_be16(a + 2 * n);
    r.dport = load_be16(a + 2 * n + 2);
    r.proto = (r.fam & 0x0f) == kTransStream ? 6 : 17;
  }
  // TLVs: type, 16-bit length, value; each must end inside the header.
  size_t off = kProxyV2FixedLen + alen;
  r.tlv_offset = off;
  while (off < r.header_len) {
    if (r.header_len - off < kTlvHdrLen) {
      r.status = ProxyV2Status::kBadTlv;
      return r;
    }
    const size_t vlen = load_be16(p + off + 1);
    if (r.header_len - off - kTlvHdrLen < vlen) {
      r.status = ProxyV2Status::kBadTlv;
      return r;
    }
    off += kTlvHdrLen + vlen;
    ++r.tlv_count;
  }
  r.status = ProxyV2Status::kOk;
  return r;
}

}  // namespace lvs::net
