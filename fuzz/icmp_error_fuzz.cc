// Fuzzes ICMP handling (core/xmit_icmp.h): the input is an Ethernet frame; parse_packet, then
// classify_icmp_error, then, on exact-size copies, both NAT translations and the echo reply;
// all of it twice, the second time with the ICMP checksum recomputed so mutated quotes get deep.
// Checks that a classified error describes bytes inside the IP packet, that a translated error
// still parses, classifies again with every checksum valid and carries the new addresses and
// ports, that a refused translation leaves the frame alone, and that an echo reply verifies.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/conn.h"
#include "core/types.h"
#include "core/xmit_icmp.h"
#include "net/bytes.h"
#include "net/checksum.h"
#include "net/headers.h"
#include "net/parse.h"

namespace lvs::core {
namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool inside(const uint8_t* p, size_t n, const uint8_t* buf, size_t end) {
  return p >= buf && p + n <= buf + end;
}

bool icmp_sum_ok(const uint8_t* f, const net::ParsedPacket& p) {
  const size_t n = p.l3_end() - p.l4_offset;
  uint32_t sum = 0;
  if (p.family == net::Family::kV6) {
    sum = net::pseudo_header_sum(net::IpAddr::v6(f + p.l3_offset + net::Ipv6View::kSaddr),
                                 net::IpAddr::v6(f + p.l3_offset + net::Ipv6View::kDaddr),
                                 net::kProtoIcmpv6, uint32_t(n));
  }
  return net::csum_fold(net::csum_partial(f + p.l4_offset, n, sum)) == 0xffff;
}

// Translates a copy one way and checks the result.
void translate(const std::vector<uint8_t>& orig, const IcmpError& e, bool out_dir) {
  const bool v4 = e.key.af == 4;
  const size_t alen = v4 ? 4 : 16;
  // A connection the quote belongs to, with addresses and ports that differ from the quote's.
  Conn c{};
  c.proto = e.key.proto;
  c.af = e.key.af;
  c.fwd = uint8_t(Fwd::kNat);
  std::memcpy(c.caddr, e.key.b_addr, alen);
  for (size_t i = 0; i < alen; ++i) {
    c.vaddr[i] = uint8_t(0xc6 + i);
    c.daddr[i] = uint8_t(e.key.a_addr[i] ^ 0x5a);
  }
  c.vport = uint16_t(e.key.b_port ^ 0x1234);
  c.dport = uint16_t(e.key.a_port + 1);

  std::vector<uint8_t> f = orig;  // exact size: ASan flags any access past it
  const net::ParsedPacket p = net::parse_packet(f.data(), f.size());
  check(p.ok());
  IcmpError e2;
  check(classify_icmp_error(f.data(), f.size(), p, e2));
  if (out_dir) {
    if (!icmp_nat_out(f.data(), p, e2, c)) {
      check(f == orig);  // TTL would expire: untouched
      return;
    }
  } else {
    icmp_nat_in(f.data(), p, e2, c);
  }
  const net::ParsedPacket q = net::parse_packet(f.data(), f.size());
  check(q.ok());  // the outer IPv4 header checksum is still right
  check(icmp_sum_ok(f.data(), q));
  IcmpError r;
  check(classify_icmp_error(f.data(), f.size(), q, r));
  check(r.icmp_offset == e.icmp_offset && r.inner_l4_offset == e.inner_l4_offset);
  const uint8_t* ip = f.data() + q.l3_offset;
  const uint8_t* cip = f.data() + r.inner_l3_offset;
  if (v4) {
    check(net::csum_fold(net::csum_partial(cip, size_t(cip[0] & 0x0f) * 4, 0)) == 0xffff);
  }
  const size_t saddr = v4 ? net::Ipv4View::kSaddr : net::Ipv6View::kSaddr;
  const size_t daddr = v4 ? net::Ipv4View::kDaddr : net::Ipv6View::kDaddr;
  if (out_dir) {
    check(std::memcmp(ip + saddr, c.vaddr, alen) == 0);
    check(std::memcmp(r.key.a_addr, c.vaddr, alen) == 0 && r.key.a_port == c.vport);
  } else {
    check(std::memcmp(ip + daddr, c.daddr, alen) == 0);
    check(std::memcmp(r.key.b_addr, c.daddr, alen) == 0 && r.key.b_port == c.dport);
  }
  // Nothing past the ports of the quote moved but the checksums the translation owns.
  const size_t keep_from = size_t(e.inner_l4_offset) + 4;
  check(std::memcmp(f.data() + keep_from, orig.data() + keep_from, f.size() - keep_from) == 0);
}

void exercise(const std::vector<uint8_t>& buf) {
  const size_t size = buf.size();
  const net::ParsedPacket p = net::parse_packet(buf.data(), buf.size());
  if (!p.ok()) return;

  IcmpError e;
  const bool ok = classify_icmp_error(buf.data(), buf.size(), p, e);
  check(ok == (e.status == IcmpDrop::kNone));
  check(e.status < IcmpDrop::kCount && icmp_drop_name(e.status) != "unknown");
  if (ok) {
    const size_t end = p.l3_end();
    check(end <= size && e.icmp_end == end);
    check(e.icmp_offset == p.l4_offset && e.inner_l3_offset == e.icmp_offset + 8);
    check(e.inner_l4_offset >= e.inner_l3_offset + (e.key.af == 4 ? 20 : 40));
    check(size_t(e.inner_l4_offset) + 4 <= end);  // the ports are quoted
    check(e.inner.ok());
    check(e.key.proto == net::kProtoTcp || e.key.proto == net::kProtoUdp ||
          e.key.proto == net::kProtoSctp);
    check(e.key.a_port == net::load_be16(buf.data() + e.inner_l4_offset + 2));
    check(e.key.b_port == net::load_be16(buf.data() + e.inner_l4_offset));
    const size_t alen = e.key.af == 4 ? 4 : 16;
    check(inside(e.key.a_addr, alen, buf.data(), end) &&
          inside(e.key.b_addr, alen, buf.data(), end));
    check(icmp_sum_ok(buf.data(), p));
    translate(buf, e, true);
    translate(buf, e, false);
  }

  std::vector<uint8_t> echo = buf;
  const size_t n = icmp_echo_reply(echo.data(), echo.size(), p);
  if (n == 0) {
    check(echo == buf);
  } else {
    check(n == size);
    const net::ParsedPacket q = net::parse_packet(echo.data(), echo.size());
    check(q.ok() && (q.icmp_type == net::kIcmpEchoReply || q.icmp_type == net::kIcmp6EchoReply));
    check(icmp_sum_ok(echo.data(), q));
  }
}

void run(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> buf(data, data + size);
  exercise(buf);
  // Again with the ICMP checksum made right, so that mutated quotes get past the checksum test
  // and reach the translations.
  const net::ParsedPacket p = net::parse_packet(buf.data(), buf.size());
  const bool icmp = p.ok() && (p.family == net::Family::kV4 ? p.l4_proto == net::kProtoIcmp
                                                            : p.l4_proto == net::kProtoIcmpv6);
  if (!icmp || size_t(p.l4_offset) + net::kIcmpHdrLen > p.l3_end()) return;
  std::vector<uint8_t> fixed = buf;
  uint8_t* ic = fixed.data() + p.l4_offset;
  net::store_be16(ic + 2, 0);
  const size_t n = p.l3_end() - p.l4_offset;
  uint32_t sum = 0;
  if (p.family == net::Family::kV6) {
    sum = net::pseudo_header_sum(net::IpAddr::v6(fixed.data() + p.l3_offset + 8),
                                 net::IpAddr::v6(fixed.data() + p.l3_offset + 24),
                                 net::kProtoIcmpv6, uint32_t(n));
  }
  net::store_be16(ic + 2, uint16_t(~net::csum_fold(net::csum_partial(ic, n, sum))));
  exercise(fixed);
}

}  // namespace
}  // namespace lvs::core

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lvs::core::run(data, size);
  return 0;
}
