#include "core/xmit_icmp.h"

#include <algorithm>

#include "net/bytes.h"
#include "net/checksum.h"
#include "net/headers.h"
#include "net/ttl.h"

namespace lvs::core {

namespace {

bool fail(IcmpError& out, IcmpDrop r) {
  out.status = r;
  return false;
}

// The error types ip_vs_in_icmp / ip_vs_out_icmp handle; ICMPv6: everything without the
// informational bit (ICMPV6_INFOMSG_MASK), as ip_vs_in_icmp_v6 / ip_vs_out_icmp_v6.
bool relayed_type(bool v4, uint8_t type) {
  if (v4) {
    return type == net::kIcmpDestUnreach || type == net::kIcmpSourceQuench ||
           type == net::kIcmpTimeExceeded;
  }
  return type < 128;
}

// Error messages in the RFC 1122 sense (no error is sent, or relayed, about one of them).
bool error_type(bool v4, uint8_t type) {
  if (v4) return net::icmp_is_error(type) || type == 5;  // 5: redirect
  return net::icmp6_is_error(type);
}

// True when the outer IPv6 packet carries a fragment header before its ICMPv6 header. parse_packet
// already drops real fragments; this catches atomic ones (offset 0, M clear), which IPVS drops
// too (IP6_FH_F_FRAG). The chain was validated by the parser; the bounds are checked again
// anyway.
bool has_fragment_header(const uint8_t* frame, const net::ParsedPacket& p) {
  const size_t end = p.l4_offset;
  uint8_t next = frame[p.l3_offset + net::Ipv6View::kNextHdr];
  size_t cur = size_t(p.l3_offset) + net::kIpv6HdrLen;
  while (cur + 8 <= end) {
    if (next == net::kProtoFragment) return true;
    const uint8_t* h = frame + cur;
    cur += next == net::kProtoAh ? (size_t(h[1]) + 2) * 4 : (size_t(h[1]) + 1) * 8;
    next = h[0];
  }
  return false;
}

bool icmp_sum_ok(const uint8_t* frame, const net::ParsedPacket& p, size_t icmp_len) {
  const uint8_t* icmp = frame + p.l4_offset;
  uint32_t sum = 0;
  if (p.family == net::Family::kV6) {
    const uint8_t* ip = frame + p.l3_offset;
    sum = net::pseudo_header_sum(net::IpAddr::v6(ip + net::Ipv6View::kSaddr),
                                 net::IpAddr::v6(ip + net::Ipv6View::kDaddr), net::kProtoIcmpv6,
                                 uint32_t(icmp_len));
  }
  return net::csum_fold(net::csum_partial(icmp, icmp_len, sum)) == 0xffff;
}

// New values for the outer addresses and the quote's endpoints; nullptr keeps one as it is.
struct Rewrite {
  const uint8_t* outer_src = nullptr;
  const uint8_t* outer_dst = nullptr;
  const uint8_t* quote_src = nullptr;
  uint16_t quote_sport = 0;
  const uint8_t* quote_dst = nullptr;
  uint16_t quote_dport = 0;
};

// ip_vs_nat_icmp / ip_vs_nat_icmp_v6 (and FULLNAT's both-ends form): the addresses and ports in
// `r` replace those in the frame. IPVS recomputes the outer and quoted IPv4 header checksums
// (ip_send_check) and the whole ICMP checksum. Here the outer header (verified by the parser) and
// the ICMP checksum (verified by classify_icmp_error) are patched incrementally, which yields the
// same bytes; the quoted header is summed afresh, as IPVS does, since nothing vouches for its old
// checksum. The quoted transport checksum is not touched: IPVS writes the ports and nothing else.
void translate(uint8_t* frame, const net::ParsedPacket& outer, const IcmpError& e,
               const Rewrite& r, const net::CsumDelta& outer_extra) {
  const bool v4 = outer.family == net::Family::kV4;
  const size_t alen = v4 ? 4 : 16;
  const size_t saddr = v4 ? net::Ipv4View::kSaddr : net::Ipv6View::kSaddr;
  const size_t daddr = v4 ? net::Ipv4View::kDaddr : net::Ipv6View::kDaddr;
  uint8_t* ip = frame + outer.l3_offset;
  uint8_t* icmp = frame + e.icmp_offset;
  uint8_t* cip = frame + e.inner_l3_offset;
  uint8_t* ports = frame + e.inner_l4_offset;

  net::CsumDelta outer_addr;
  if (r.outer_src) outer_addr.replace_bytes(ip + saddr, r.outer_src, alen);
  if (r.outer_dst) outer_addr.replace_bytes(ip + daddr, r.outer_dst, alen);
  net::CsumDelta icmp_delta;
  if (!v4) icmp_delta.add(outer_addr);  // the ICMPv6 pseudo-header holds the outer addresses
  if (r.quote_src) {
    icmp_delta.replace_bytes(cip + saddr, r.quote_src, alen);
    icmp_delta.replace16(net::load_be16(ports), r.quote_sport);
  }
  if (r.quote_dst) {
    icmp_delta.replace_bytes(cip + daddr, r.quote_dst, alen);
    icmp_delta.replace16(net::load_be16(ports + 2), r.quote_dport);
  }
  if (v4) {
    net::CsumDelta hdr = outer_extra;
    hdr.add(outer_addr);
    net::csum_apply_at(ip + net::Ipv4View::kCheck, hdr);
  }
  if (r.outer_src) std::memcpy(ip + saddr, r.outer_src, alen);
  if (r.outer_dst) std::memcpy(ip + daddr, r.outer_dst, alen);
  if (r.quote_src) {
    std::memcpy(cip + saddr, r.quote_src, alen);
    net::store_be16(ports, r.quote_sport);
  }
  if (r.quote_dst) {
    std::memcpy(cip + daddr, r.quote_dst, alen);
    net::store_be16(ports + 2, r.quote_dport);
  }
  if (v4) {
    const size_t ihl = size_t(cip[0] & 0x0f) * 4;
    const uint16_t old_check = net::load_be16(cip + net::Ipv4View::kCheck);
    net::store_be16(cip + net::Ipv4View::kCheck, 0);
    const uint16_t new_check = net::checksum(cip, ihl);
    net::store_be16(cip + net::Ipv4View::kCheck, new_check);
    icmp_delta.replace16(old_check, new_check);
  }
  net::csum_apply_at(icmp + 2, icmp_delta);
}

}  // namespace

std::string_view icmp_drop_name(IcmpDrop r) {
  switch (r) {
    case IcmpDrop::kNone: return "none";
    case IcmpDrop::kNotIcmp: return "icmp_not_icmp";
    case IcmpDrop::kNotRelayed: return "icmp_not_relayed";
    case IcmpDrop::kFragmentedError: return "icmp_fragmented_error";
    case IcmpDrop::kQuoteTruncated: return "icmp_quote_truncated";
    case IcmpDrop::kQuoteMalformed: return "icmp_quote_malformed";
    case IcmpDrop::kInnerFragment: return "icmp_inner_fragment";
    case IcmpDrop::kNestedError: return "icmp_nested_error";
    case IcmpDrop::kInnerUnsupported: return "icmp_inner_unsupported";
    case IcmpDrop::kBadChecksum: return "icmp_bad_checksum";
    case IcmpDrop::kNoConnection: return "icmp_no_connection";
    case IcmpDrop::kCount: break;
  }
  return "unknown";
}

bool classify_icmp_error(const uint8_t* frame, size_t len, const net::ParsedPacket& outer,
                         IcmpError& out) {
  out = IcmpError{};
  const bool v4 = outer.family == net::Family::kV4;
  if (!outer.ok() || (!v4 && outer.family != net::Family::kV6) ||
      outer.l4_proto != (v4 ? net::kProtoIcmp : net::kProtoIcmpv6)) {
    return fail(out, IcmpDrop::kNotIcmp);
  }
  // Only the outer IP packet counts: a short frame's Ethernet padding is no part of the quote.
  const size_t end = outer.l3_end();
  if (end > len || size_t(outer.l4_offset) + net::kIcmpHdrLen > end) {
    return fail(out, IcmpDrop::kQuoteTruncated);  // parse_packet guarantees both
  }
  const uint8_t* icmp = frame + outer.l4_offset;
  out.type = icmp[0];
  out.code = icmp[1];
  if (!relayed_type(v4, out.type)) return fail(out, IcmpDrop::kNotRelayed);
  if (!v4 && has_fragment_header(frame, outer)) return fail(out, IcmpDrop::kFragmentedError);

  const size_t inner_l3 = size_t(outer.l4_offset) + net::kIcmpHdrLen;
  net::ParsedPacket& q = out.inner;
  net::parse_ip(frame, end, inner_l3, outer.family, true, q);
  switch (q.status) {
    case net::ParseStatus::kOk:
    case net::ParseStatus::kTruncatedL4:  // fewer than 8 transport bytes: the 4 of ports will do
    case net::ParseStatus::kFragment:
      break;
    case net::ParseStatus::kTruncatedL3:
      return fail(out, IcmpDrop::kQuoteTruncated);
    default:
      return fail(out, IcmpDrop::kQuoteMalformed);
  }
  // Where the quote's transport bytes end: its IP length, or the end of what was quoted.
  const size_t l4_end = std::min<size_t>(q.l3_end(), end);
  const size_t avail = l4_end > q.l4_offset ? l4_end - q.l4_offset : 0;
  const uint8_t* l4 = frame + q.l4_offset;
  // A fragment with a non-zero offset carries no transport header; the first fragment (MF set,
  // offset 0) does and is relayed (ip_vs_in_icmp checks IP_OFFSET only; ip_vs_in_icmp_v6 fragoffs).
  bool later_fragment = false;
  if (q.status == net::ParseStatus::kFragment) {
    if (v4) {
      later_fragment = (net::load_be16(frame + inner_l3 + 6) & 0x1fff) != 0;
    } else {
      later_fragment = (net::load_be16(frame + q.l4_offset - 8 + 2) & 0xfff8) != 0;
    }
  }
  // As IPVS: first the protocol (ip_vs_proto_get), then the fragment offset.
  const uint8_t proto = q.l4_proto;
  if (proto != net::kProtoTcp && proto != net::kProtoUdp && proto != net::kProtoSctp) {
    const bool icmp_quote = proto == (v4 ? net::kProtoIcmp : net::kProtoIcmpv6);
    if (icmp_quote && !later_fragment && avail >= 1 && error_type(v4, l4[0])) {
      return fail(out, IcmpDrop::kNestedError);
    }
    return fail(out, IcmpDrop::kInnerUnsupported);
  }
  if (later_fragment) return fail(out, IcmpDrop::kInnerFragment);
  // IPVS needs the ports alone (skb_ensure_writable(offset + 2 * sizeof(__u16))).
  if (avail < 4) return fail(out, IcmpDrop::kQuoteTruncated);
  q.status = net::ParseStatus::kOk;
  q.sport = net::load_be16(l4);
  q.dport = net::load_be16(l4 + 2);

  // ip_vs_in_icmp and handle_response_icmp check the ICMP checksum before anything else is done.
  if (!icmp_sum_ok(frame, outer, end - outer.l4_offset)) return fail(out, IcmpDrop::kBadChecksum);

  out.status = IcmpDrop::kNone;
  out.icmp_offset = outer.l4_offset;
  out.icmp_end = uint16_t(end);
  out.inner_l3_offset = uint16_t(inner_l3);
  out.inner_l4_offset = q.l4_offset;
  const uint8_t* cip = frame + inner_l3;
  out.key = ConnKey{cip + (v4 ? net::Ipv4View::kDaddr : net::Ipv6View::kDaddr),
                    cip + (v4 ? net::Ipv4View::kSaddr : net::Ipv6View::kSaddr),
                    q.dport,
                    q.sport,
                    proto,
                    uint8_t(v4 ? 4 : 6)};
  return true;
}

bool icmp_nat_out(uint8_t* frame, const net::ParsedPacket& outer, const IcmpError& e,
                  const Conn& c) {
  net::CsumDelta ttl_delta;
  if (!net::decrement_ttl(frame + outer.l3_offset, outer.family, &ttl_delta)) return false;
  Rewrite r;
  r.outer_src = c.vaddr;
  r.quote_dst = c.vaddr;
  r.quote_dport = c.vport;
  translate(frame, outer, e, r, ttl_delta);
  return true;
}

void icmp_nat_in(uint8_t* frame, const net::ParsedPacket& outer, const IcmpError& e,
                 const Conn& c) {
  Rewrite r;
  r.outer_dst = c.daddr;
  r.quote_src = c.daddr;
  r.quote_sport = c.dport;
  translate(frame, outer, e, r, net::CsumDelta{});
}

bool icmp_fnat_out(uint8_t* frame, const net::ParsedPacket& outer, const IcmpError& e,
                   const Conn& c) {
  net::CsumDelta ttl_delta;
  if (!net::decrement_ttl(frame + outer.l3_offset, outer.family, &ttl_delta)) return false;
  Rewrite r;
  r.outer_src = c.vaddr;
  r.outer_dst = c.caddr;
  r.quote_src = c.caddr;
  r.quote_sport = c.cport;
  r.quote_dst = c.vaddr;
  r.quote_dport = c.vport;
  translate(frame, outer, e, r, ttl_delta);
  return true;
}

void icmp_fnat_in(uint8_t* frame, const net::ParsedPacket& outer, const IcmpError& e,
                  const Conn& c, const uint8_t* laddr) {
  Rewrite r;
  r.outer_src = laddr;
  r.outer_dst = c.daddr;
  r.quote_src = c.daddr;
  r.quote_sport = c.dport;
  r.quote_dst = laddr;
  r.quote_dport = c.lport;
  translate(frame, outer, e, r, net::CsumDelta{});
}

size_t icmp_echo_reply(uint8_t* frame, size_t len, const net::ParsedPacket& p) {
  const bool v4 = p.family == net::Family::kV4;
  if (!p.ok() || (!v4 && p.family != net::Family::kV6) ||
      p.l4_proto != (v4 ? net::kProtoIcmp : net::kProtoIcmpv6)) {
    return 0;
  }
  const size_t end = p.l3_end();
  if (end > len || size_t(p.l4_offset) + net::kIcmpHdrLen > end) return 0;
  uint8_t* icmp = frame + p.l4_offset;
  if (icmp[0] != (v4 ? net::kIcmpEchoRequest : net::kIcmp6EchoRequest)) return 0;
  // The kernel's icmp_rcv / icmpv6_rcv drop a message whose checksum fails before answering it.
  if (!icmp_sum_ok(frame, p, end - p.l4_offset)) return 0;

  // Swapping source and destination leaves every sum unchanged, the ICMPv6 pseudo-header's too;
  // the type changes the ICMP checksum, the TTL the IPv4 header checksum.
  uint8_t* ip = frame + p.l3_offset;
  const uint8_t reply = v4 ? net::kIcmpEchoReply : net::kIcmp6EchoReply;
  net::CsumDelta type_delta;
  type_delta.replace16(uint16_t(icmp[0] << 8 | icmp[1]), uint16_t(reply << 8 | icmp[1]));
  icmp[0] = reply;
  net::csum_apply_at(icmp + 2, type_delta);
  // An ICMPv4 echo reply can be all zeros (identifier, sequence and data 0): its sum is then
  // +0, whose checksum is 0xffff, where the incremental form yields 0x0000 (RFC 1624 section 3).
  // ICMPv6 never gets here: its pseudo-header holds a non-zero next header.
  if (v4 && net::load_be16(icmp + 2) == 0 &&
      std::all_of(icmp, frame + end, [](uint8_t b) { return b == 0; })) {
    net::store_be16(icmp + 2, 0xffff);
  }
  if (v4) {
    std::swap_ranges(ip + net::Ipv4View::kSaddr, ip + net::Ipv4View::kSaddr + 4,
                     ip + net::Ipv4View::kDaddr);
    const uint16_t old_word = uint16_t(ip[net::Ipv4View::kTtl] << 8 | ip[net::Ipv4View::kProto]);
    const uint16_t new_word = uint16_t(64 << 8 | ip[net::Ipv4View::kProto]);
    ip[net::Ipv4View::kTtl] = 64;
    net::CsumDelta hdr;
    hdr.replace16(old_word, new_word);
    net::csum_apply_at(ip + net::Ipv4View::kCheck, hdr);
  } else {
    std::swap_ranges(ip + net::Ipv6View::kSaddr, ip + net::Ipv6View::kSaddr + 16,
                     ip + net::Ipv6View::kDaddr);
    ip[net::Ipv6View::kHopLimit] = 64;
  }
  return len;
}

}  // namespace lvs::core
