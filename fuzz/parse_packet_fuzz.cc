// Fuzzes the packet parser: parse_packet on the input as an Ethernet frame, parse_ip in quoted
// mode on the input as a bare IP packet (both families), and on the packet an ICMP error quotes.
// Any result that describes bytes outside the buffer aborts.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "net/bytes.h"
#include "net/headers.h"
#include "net/parse.h"

namespace lvs::net {
namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Invariants of one result over buf[0, len).
void check_result(const uint8_t* buf, size_t len, const ParsedPacket& p, bool quoted) {
  check(p.status < ParseStatus::kCount);
  check(!parse_status_name(p.status).empty());
  if (p.status == ParseStatus::kFragment) {
    check(p.l4_offset <= len);
    check(p.sport == 0 && p.dport == 0);
  }
  if (!p.ok()) return;
  check(p.family == Family::kV4 || p.family == Family::kV6);
  check(p.vlan_count <= 2);
  const size_t min_l3 = p.family == Family::kV4 ? kIpv4MinHdrLen : kIpv6HdrLen;
  const size_t l3_end = p.l3_end();  // may exceed len (and 65535) in quoted mode
  check(p.l3_offset + min_l3 <= len);
  check(p.l3_len >= min_l3);
  check(p.l4_offset >= p.l3_offset + min_l3);
  check(p.l4_offset <= len);
  check(p.l4_offset <= l3_end);
  if (!quoted) check(l3_end <= len);
  const size_t end = quoted ? std::min(l3_end, len) : l3_end;
  // The transport bytes the parser read must lie inside the IP packet and the buffer.
  size_t need = 0;
  if (p.l4_proto == kProtoTcp) need = quoted ? 8 : kTcpMinHdrLen;
  if (p.l4_proto == kProtoUdp) need = kUdpHdrLen;
  if (p.l4_proto == kProtoIcmp || p.l4_proto == kProtoIcmpv6) need = kIcmpHdrLen;
  check(p.l4_offset + need <= end);
  const uint8_t* l4 = buf + p.l4_offset;
  if (p.l4_proto == kProtoTcp || p.l4_proto == kProtoUdp) {
    check(p.sport == load_be16(l4) && p.dport == load_be16(l4 + 2));
  }
  if (p.l4_proto == kProtoTcp && !quoted) {
    const size_t doff = size_t(l4[12] >> 4) * 4;
    check(doff >= kTcpMinHdrLen && p.l4_offset + doff <= end);
    check(p.tcp_flags == l4[13]);
  }
  if (p.l4_proto == kProtoUdp && !quoted) {
    const size_t ulen = load_be16(l4 + 4);
    check(ulen >= kUdpHdrLen && p.l4_offset + ulen <= end);
  }
  if (p.l4_proto == kProtoIcmp || p.l4_proto == kProtoIcmpv6) {
    check(p.icmp_type == l4[0] && p.icmp_code == l4[1]);
  }
  if (p.family == Family::kV4) {
    check((buf[p.l3_offset] >> 4) == 4);
    check(p.l4_proto == buf[p.l3_offset + Ipv4View::kProto]);
  } else {
    check((buf[p.l3_offset] >> 4) == 6);
  }
}

void run(const uint8_t* data, size_t size) {
  // An exact-size heap copy: ASan then flags any read past the end.
  std::vector<uint8_t> buf(data, data + size);
  const uint8_t* b = buf.data();

  const ParsedPacket p = parse_packet(b, size);
  check_result(b, size, p, false);
  if (p.ok()) {
    check(p.l3_offset == 14 + 4 * p.vlan_count);
    // Parsing is a pure function of the bytes.
    const ParsedPacket a = parse_packet(b, size);
    check(a.status == p.status && a.family == p.family && a.l4_proto == p.l4_proto &&
          a.vlan_count == p.vlan_count && a.vlan_tci == p.vlan_tci && a.l3_offset == p.l3_offset &&
          a.l4_offset == p.l4_offset && a.l3_len == p.l3_len && a.sport == p.sport &&
          a.dport == p.dport && a.tcp_flags == p.tcp_flags && a.icmp_type == p.icmp_type &&
          a.icmp_code == p.icmp_code);
  }

  // The packet quoted in an ICMP error, as the engine would look at it.
  if (p.ok() && (p.l4_proto == kProtoIcmp || p.l4_proto == kProtoIcmpv6)) {
    ParsedPacket q;
    const size_t inner = size_t(p.l4_offset) + kIcmpHdrLen;
    parse_ip(b, p.l3_end(), inner, p.family, true, q);
    check_result(b, p.l3_end(), q, true);
    check(!q.ok() || q.l3_offset == inner);
  }

  // The input as a bare IP packet, quoted, at offset 0 and (if it fits) 14.
  for (Family af : {Family::kV4, Family::kV6}) {
    for (size_t off : {size_t(0), size_t(14)}) {
      if (off > size) continue;
      ParsedPacket q;
      parse_ip(b, size, off, af, true, q);
      check_result(b, size, q, true);
      ParsedPacket n;  // and not quoted: then the whole packet must be in the buffer
      parse_ip(b, size, off, af, false, n);
      check_result(b, size, n, false);
    }
  }
}

}  // namespace
}  // namespace lvs::net

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lvs::net::run(data, size);
  return 0;
}
