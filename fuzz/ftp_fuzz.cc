// Fuzzes the FTP helper. The input as a payload: every parser, both families and modes; a match
// must lie inside the payload and its rewrite must fit the bound it promises. The input as a TCP
// header: tcp_seq_fix must keep the header's one's complement sum (its checksum stays valid).
// The input as a frame: a passive reply found in a TCP frame is rewritten in place and the
// result must parse with a valid TCP checksum.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/ftp_helper.h"
#include "net/bytes.h"
#include "net/checksum.h"
#include "net/parse.h"

namespace lvs::core {
namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_match(const FtpMatch& m, size_t len, net::Family af) {
  check(m.status <= FtpStatus::kMalformed);
  check(m.error < FtpError::kCount && !ftp_error_name(m.error).empty());
  check((m.status == FtpStatus::kMalformed) == (m.error != FtpError::kNone));
  if (!m.ok()) return;
  check(m.start < m.end && m.end <= len);
  if (m.kind == FtpKind::k227 || m.kind == FtpKind::kPort) check(m.addr.is_v4());
  if (m.kind == FtpKind::kEprt ||
      (m.kind == FtpKind::k229 && m.addr.family != net::Family::kNone)) {
    check(m.addr.family == af && m.port != 0);
  }
}

// Rewrites `m` into a buffer of every size around the exact one: fits exactly, never beyond.
void check_rewrite(const uint8_t* p, size_t len, const FtpMatch& m, const net::IpAddr& vip) {
  const bool rewritable = m.ok() && (m.kind == FtpKind::k227 || m.kind == FtpKind::k229);
  std::vector<uint8_t> out(len + kFtpMaxGrowth + 1);
  const FtpRewrite full = ftp_rewrite(p, len, m, vip, m.port, out.data(), out.size());
  check(full.ok == rewritable);
  if (!full.ok) return;
  check(full.len <= len + kFtpMaxGrowth);
  check(int64_t(full.len) - int64_t(len) == full.delta);
  check(std::memcmp(out.data(), p, m.start) == 0);
  check(std::memcmp(out.data() + full.len - (len - m.end), p + m.end, len - m.end) == 0);
  // The rewritten text parses back to the new address (227) or port.
  if (m.kind == FtpKind::k227) {
    const FtpMatch again = ftp_parse_227(out.data(), full.len);
    check(again.ok() && again.addr == vip && again.port == m.port);
  }
  for (size_t cap : {size_t(full.len) - 1, size_t(full.len)}) {
    std::vector<uint8_t> small(cap);  // exact-size heap buffer: ASan sees any overrun
    const FtpRewrite r = ftp_rewrite(p, len, m, vip, m.port, small.data(), cap);
    check(r.ok == (cap >= full.len));
  }
}

// One's complement sum of a header, with 0 and 0xffff the same number.
uint16_t ones_sum(const uint8_t* p, size_t len) {
  uint16_t s = net::csum_fold(net::csum_partial(p, len, 0));
  return s == 0 ? 0xffff : s;
}

void run(const uint8_t* data, size_t size) {
  // An exact-size heap copy: ASan then flags any read past the end.
  std::vector<uint8_t> buf(data, data + size);
  const uint8_t* b = buf.data();
  const net::IpAddr vip4 = net::IpAddr::v4(0xc612000a);  // 198.18.0.10
  uint8_t v6raw[16] = {0x20, 0x01, 0x00, 0x02};
  v6raw[15] = 0x10;
  const net::IpAddr vip6 = net::IpAddr::v6(v6raw);  // 2001:2::10

  for (net::Family af : {net::Family::kV4, net::Family::kV6}) {
    const net::IpAddr& vip = af == net::Family::kV4 ? vip4 : vip6;
    const FtpMatch m227 = ftp_parse_227(b, size);
    check_match(m227, size, af);
    check_rewrite(b, size, m227, vip4);
    const FtpMatch m229 = ftp_parse_229(b, size, af);
    check_match(m229, size, af);
    check_rewrite(b, size, m229, vip);
    check_match(ftp_parse_port(b, size), size, af);
    check_match(ftp_parse_eprt(b, size, af), size, af);
    for (FtpMode mode : {FtpMode::kActive, FtpMode::kPasv, FtpMode::kEpsv}) {
      const FtpMatch m = ftp_server_reply(mode, af, b, size);
      check_match(m, size, af);
      check(mode != FtpMode::kActive || m.status == FtpStatus::kNoMatch);
    }
    const FtpClientResult c = ftp_client_command(af, b, size);
    check_match(c.match, size, af);
    check((c.command == FtpCommand::kPort || c.command == FtpCommand::kEprt) == c.match.ok());
    if (c.match.ok()) {
      FtpCtl ctl;
      ctl.vport = 21;
      ctl.dport = 21;
      const FtpExpect x = ftp_expect(ctl, c.match);
      check(!x.passive && x.caddr == c.match.addr && x.cport == c.match.port && x.vport == 20);
    }
  }

  // The input as a TCP header: sequence numbers from its own bytes, so wraparound cases come up.
  if (size >= 32) {
    SeqAdjust a, s;
    seq_update(a, net::load_be32(b + 20), int32_t(net::load_be32(b + 24)));
    seq_update(s, net::load_be32(b + 28), int32_t(int8_t(b[0])));
    std::vector<uint8_t> h(b, b + size);
    const uint16_t before = ones_sum(h.data(), h.size() & ~size_t(1));
    tcp_seq_fix(h.data(), h.size(), s, a, (b[1] & 1) != 0);
    check(ones_sum(h.data(), h.size() & ~size_t(1)) == before);
    check(std::memcmp(h.data(), b, 4) == 0 && std::memcmp(h.data() + 12, b + 12, 4) == 0);
  }

  // The input as a frame carrying a passive reply.
  net::ParsedPacket p0 = net::parse_packet(b, size);
  if (!p0.ok() || !p0.is_tcp()) return;
  const size_t off = p0.l4_offset + size_t(b[p0.l4_offset + 12] >> 4) * 4;
  for (FtpMode mode : {FtpMode::kPasv, FtpMode::kEpsv}) {
    const FtpMatch m = ftp_server_reply(mode, p0.family, b + off, p0.l3_end() - off);
    if (!m.ok()) continue;
    for (size_t room : {size_t(0), size_t(b[1] & 0x0f), kFtpMaxGrowth}) {
      net::ParsedPacket p = p0;
      std::vector<uint8_t> f(b, b + size);
      f.resize(size + room);
      const net::IpAddr& vip = p.family == net::Family::kV4 ? vip4 : vip6;
      const FtpRewrite r = ftp_mangle(f.data(), f.size(), p, m, vip, m.port);
      const bool can = !(m.kind == FtpKind::k227 && p.family == net::Family::kV6) &&
                       p.l3_len + kFtpMaxGrowth <= 0xffff;
      check(r.ok || !can || room < kFtpMaxGrowth);  // the promised bound is enough room
      if (!r.ok) {
        check(std::memcmp(f.data(), b, size) == 0 && p.l3_len == p0.l3_len);  // untouched
        continue;
      }
      check(r.len <= f.size());
      const net::ParsedPacket q = net::parse_packet(f.data(), r.len);
      check(q.ok() && q.is_tcp() && q.l3_end() == r.len && q.l3_len == p.l3_len);
      const uint32_t l4_len = q.l3_end() - q.l4_offset;
      const uint8_t* ip = f.data() + q.l3_offset;
      const net::IpAddr src =
          q.family == net::Family::kV4 ? net::IpAddr::v4(ip + 12) : net::IpAddr::v6(ip + 8);
      const net::IpAddr dst =
          q.family == net::Family::kV4 ? net::IpAddr::v4(ip + 16) : net::IpAddr::v6(ip + 24);
      const uint32_t sum = net::csum_partial(f.data() + q.l4_offset, l4_len,
                                             net::pseudo_header_sum(src, dst, 6, l4_len));
      check(net::csum_fold(sum) == 0xffff);
    }
  }
}

}  // namespace
}  // namespace lvs::core

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lvs::core::run(data, size);
  return 0;
}
