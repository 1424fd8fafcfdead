#include "net/parse.h"

#include <cstring>

#include "net/bytes.h"
#include "net/checksum.h"
#include "net/headers.h"
#include "net/sctp.h"

namespace lvs::net {

namespace {

// The IPv4 header checksum verifies when the ones-complement sum of the header is 0xffff, a
// value that reads the same in either byte order: so sum native 32-bit words (IHL is a count of
// them) and fold, instead of the general 16-bit big-endian loop.
inline bool ipv4_header_sum_ok(const uint8_t* p, size_t ihl) {
  uint64_t acc = 0;
  for (size_t i = 0; i + 4 <= ihl; i += 4) {
    uint32_t w;
    std::memcpy(&w, p + i, 4);
    acc += w;
  }
  acc = (acc & 0xffffffff) + (acc >> 32);
  acc = (acc & 0xffffffff) + (acc >> 32);
  uint32_t a = uint32_t(acc);
  a = (a & 0xffff) + (a >> 16);
  a = (a & 0xffff) + (a >> 16);
  return a == 0xffff;
}


constexpr unsigned kMaxIpv6ExtHeaders = 8;

// Parses the transport header at out.l4_offset; `end` is where the IP payload ends.
void parse_l4(const uint8_t* buf, size_t end, bool quoted, ParsedPacket& out) {
  const size_t off = out.l4_offset;
  const size_t avail = end > off ? end - off : 0;
  const uint8_t* p = buf + off;
  switch (out.l4_proto) {
    case kProtoTcp: {
      if (quoted) {
        if (avail < 8) {
          out.status = ParseStatus::kTruncatedL4;
          return;
        }
        out.sport = load_be16(p);
        out.dport = load_be16(p + 2);
        return;
      }
      if (avail < kTcpMinHdrLen) {
        out.status = ParseStatus::kTruncatedL4;
        return;
      }
      const size_t doff = size_t(p[12] >> 4) * 4;
      if (doff < kTcpMinHdrLen || doff > avail) {
        out.status = ParseStatus::kBadL4Header;
        return;
      }
      out.sport = load_be16(p);
      out.dport = load_be16(p + 2);
      out.tcp_flags = p[13];
      return;
    }
    case kProtoUdp: {
      if (avail < kUdpHdrLen) {
        out.status = ParseStatus::kTruncatedL4;
        return;
      }
      if (!quoted) {
        const uint16_t ulen = load_be16(p + 4);
        if (ulen < kUdpHdrLen || ulen > avail) {
          out.status = ParseStatus::kBadL4Header;
          return;
        }
      }
      out.sport = load_be16(p);
      out.dport = load_be16(p + 2);
      return;
    }
    case kProtoIcmp:
    case kProtoIcmpv6: {
      if (avail < kIcmpHdrLen) {
        out.status = ParseStatus::kTruncatedL4;
        return;
      }
      out.icmp_type = p[0];
      out.icmp_code = p[1];
      const bool echo = out.l4_proto == kProtoIcmp
                            ? (p[0] == kIcmpEchoRequest || p[0] == kIcmpEchoReply)
                            : (p[0] == kIcmp6EchoRequest || p[0] == kIcmp6EchoReply);
      if (echo) out.sport = out.dport = load_be16(p + 4);
      return;
    }
    case kProtoSctp: {
      // Quoted: ports and verification tag, the 8 bytes every ICMP error quotes (RFC 792).
      if (avail < (quoted ? 8 : kSctpHdrLen)) {
        out.status = ParseStatus::kTruncatedL4;
        return;
      }
      if (!quoted && avail > kSctpHdrLen) {
        // The first chunk decides scheduling and the state transition: its header must be
        // whole, and the length it states must lie inside the packet.
        const size_t left = avail - kSctpHdrLen;
        const size_t clen = left >= kSctpChunkHdrLen ? load_be16(p + kSctpHdrLen + 2) : 0;
        if (clen < kSctpChunkHdrLen || clen > left) {
          out.status = ParseStatus::kBadL4Header;
          return;
        }
        out.sctp_chunk = p[kSctpHdrLen];
      }
      out.sport = load_be16(p);
      out.dport = load_be16(p + 2);
      return;
    }
    default:
      return;  // other transports (GRE, ESP, ...) are classified, not parsed here
  }
}

void parse_ipv4(const uint8_t* buf, size_t len, bool quoted, ParsedPacket& out) {
  const size_t off = out.l3_offset;
  if (len < off + kIpv4MinHdrLen) {
    out.status = ParseStatus::kTruncatedL3;
    return;
  }
  const uint8_t* p = buf + off;
  if ((p[0] >> 4) != 4) {
    out.status = ParseStatus::kBadIpVersion;
    return;
  }
  const size_t ihl = size_t(p[0] & 0x0f) * 4;
  if (ihl < kIpv4MinHdrLen) {
    out.status = ParseStatus::kBadIpHeaderLen;
    return;
  }
  if (len < off + ihl) {
    out.status = ParseStatus::kTruncatedL3;
    return;
  }
  const size_t total = load_be16(p + 2);
  if (total < ihl || (!quoted && off + total > len)) {
    out.status = ParseStatus::kBadIpLength;
    return;
  }
  // A correct header, checksum field included, sums to 0xffff (one's complement zero).
  if (!quoted && !ipv4_header_sum_ok(p, ihl)) {
    out.status = ParseStatus::kBadIpChecksum;
    return;
  }
  out.family = Family::kV4;
  out.l3_len = uint16_t(total);
  out.l4_proto = p[9];
  out.l4_offset = uint16_t(off + ihl);
  const uint16_t frag = load_be16(p + 6);
  if ((frag & 0x3fff) != 0) {  // MF set or offset non-zero
    out.status = ParseStatus::kFragment;
    return;
  }
  out.status = ParseStatus::kOk;
  const size_t end = off + total < len ? off + total : len;
  parse_l4(buf, end, quoted, out);
}

void parse_ipv6(const uint8_t* buf, size_t len, bool quoted, ParsedPacket& out) {
  const size_t off = out.l3_offset;
  if (len < off + kIpv6HdrLen) {
    out.status = ParseStatus::kTruncatedL3;
    return;
  }
  const uint8_t* p = buf + off;
  if ((p[0] >> 4) != 6) {
    out.status = ParseStatus::kBadIpVersion;
    return;
  }
  const size_t total = kIpv6HdrLen + load_be16(p + 4);
  if (!quoted && off + total > len) {
    out.status = ParseStatus::kBadIpLength;
    return;
  }
  if (total > 0xffff) {
    out.status = ParseStatus::kBadIpLength;  // jumbograms are not for this path
    return;
  }
  out.family = Family::kV6;
  out.l3_len = uint16_t(total);
  const size_t end = off + total < len ? off + total : len;
  uint8_t next = p[6];
  size_t cur = off + kIpv6HdrLen;
  for (unsigned n = 0;; ++n) {
    if (next != kProtoHopByHop && next != kProtoRouting && next != kProtoDstOpts &&
        next != kProtoFragment && next != kProtoAh) {
      break;
    }
    if (n == kMaxIpv6ExtHeaders || cur + 8 > end) {
      out.status = ParseStatus::kBadExtHeader;
      return;
    }
    const uint8_t* h = buf + cur;
    size_t hlen;
    if (next == kProtoFragment) {
      hlen = 8;
      const uint16_t fo = load_be16(h + 2);
      if ((fo & 0xfff9) != 0) {  // offset non-zero or M flag
        out.l4_proto = h[0];
        out.l4_offset = uint16_t(cur + hlen);
        out.status = ParseStatus::kFragment;
        return;
      }
    } else if (next == kProtoAh) {
      hlen = (size_t(h[1]) + 2) * 4;
    } else {
      hlen = (size_t(h[1]) + 1) * 8;
    }
    if (cur + hlen > end) {
      out.status = ParseStatus::kBadExtHeader;
      return;
    }
    next = h[0];
    cur += hlen;
  }
  out.l4_proto = next;
  out.l4_offset = uint16_t(cur);
  out.status = ParseStatus::kOk;
  parse_l4(buf, end, quoted, out);
}

}  // namespace

void parse_ip(const uint8_t* buf, size_t len, size_t l3_offset, Family family, bool quoted,
              ParsedPacket& out) {
  if (len > 0xffff) {  // offsets are 16-bit, as in parse_packet
    out.status = ParseStatus::kBadIpLength;
    return;
  }
  out.l3_offset = uint16_t(l3_offset);
  if (family == Family::kV4) {
    parse_ipv4(buf, len, quoted, out);
  } else {
    parse_ipv6(buf, len, quoted, out);
  }
}

ParsedPacket parse_packet(const uint8_t* frame, size_t len) {
  ParsedPacket out;
  if (len > 0xffff) {
    out.status = ParseStatus::kBadIpLength;
    return out;
  }
  if (len < kEthHdrLen) {
    out.status = ParseStatus::kTruncatedL2;
    return out;
  }
  size_t off = 12;
  uint16_t type = load_be16(frame + off);
  while (type == kEthPVlan || type == kEthPQinQ) {
    if (out.vlan_count == 2 || len < off + 2 + kVlanHdrLen) {
      out.status = out.vlan_count == 2 ? ParseStatus::kNotIp : ParseStatus::kTruncatedL2;
      return out;
    }
    out.vlan_tci = load_be16(frame + off + 2);
    ++out.vlan_count;
    off += kVlanHdrLen;
    type = load_be16(frame + off);
  }
  off += 2;
  if (type == kEthPIpv4) {
    parse_ip(frame, len, off, Family::kV4, false, out);
  } else if (type == kEthPIpv6) {
    parse_ip(frame, len, off, Family::kV6, false, out);
  } else {
    out.l3_offset = uint16_t(off);
    out.status = ParseStatus::kNotIp;
  }
  return out;
}

std::string_view parse_status_name(ParseStatus s) {
  switch (s) {
    case ParseStatus::kOk: return "ok";
    case ParseStatus::kTruncatedL2: return "truncated_l2";
    case ParseStatus::kNotIp: return "not_ip";
    case ParseStatus::kTruncatedL3: return "truncated_l3";
    case ParseStatus::kBadIpVersion: return "bad_ip_version";
    case ParseStatus::kBadIpHeaderLen: return "bad_ip_header_len";
    case ParseStatus::kBadIpChecksum: return "bad_ip_checksum";
    case ParseStatus::kBadIpLength: return "bad_ip_length";
    case ParseStatus::kBadExtHeader: return "bad_ext_header";
    case ParseStatus::kFragment: return "fragment";
    case ParseStatus::kTruncatedL4: return "truncated_l4";
    case ParseStatus::kBadL4Header: return "bad_l4_header";
    case ParseStatus::kCount: break;
  }
  return "unknown";
}

}  // namespace lvs::net
