#include "core/ftp_helper.h"

#include <cstring>

#include "net/bytes.h"
#include "net/checksum.h"
#include "net/headers.h"

namespace lvs::core {

// --- Sequence adjustment

uint32_t fix_seq(const SeqAdjust& s, uint32_t seq) {
  if (!s.set || (s.delta == 0 && s.previous_delta == 0)) return seq;
  return seq + uint32_t(seq_after(seq, s.init_seq) ? s.delta : s.previous_delta);
}

uint32_t fix_ack(const SeqAdjust& s, uint32_t ack) {
  if (!s.set || (s.delta == 0 && s.previous_delta == 0)) return ack;
  // The acknowledgement counts bytes of the far side's (adjusted) stream, hence init_seq + delta.
  return ack -
         uint32_t(seq_after(ack, s.init_seq + uint32_t(s.delta)) ? s.delta : s.previous_delta);
}

void seq_update(SeqAdjust& s, uint32_t seq, int32_t diff) {
  if (diff == 0) return;
  if (!s.set || seq_after(seq, s.init_seq)) {
    s.previous_delta = s.delta;
    s.delta = int32_t(uint32_t(s.delta) + uint32_t(diff));  // wraps as the kernel's int does
    s.init_seq = seq;
    s.set = true;
  }
}

namespace {

constexpr size_t kTcpOptEol = 0, kTcpOptNop = 1, kTcpOptSack = 5;
constexpr size_t kSackPerBlock = 8;

// Replaces `n` bytes at `off` of the TCP header and accounts for it in `d`. A field at an odd
// offset straddles checksum words, so the delta is taken over the even-aligned window around it.
void replace_field(uint8_t* tcp, size_t off, const uint8_t* value, size_t n, net::CsumDelta& d) {
  uint8_t old_w[8], new_w[8];
  const size_t a = off & ~size_t(1);
  const size_t e = (off + n + 1) & ~size_t(1);
  std::memcpy(old_w, tcp + a, e - a);
  std::memcpy(new_w, old_w, e - a);
  std::memcpy(new_w + (off - a), value, n);
  d.replace_bytes(old_w, new_w, e - a);
  std::memcpy(tcp + off, value, n);
}

void fix_field(uint8_t* tcp, size_t off, uint32_t (*fix)(const SeqAdjust&, uint32_t),
               const SeqAdjust& s, net::CsumDelta& d) {
  const uint32_t old_v = net::load_be32(tcp + off);
  const uint32_t new_v = fix(s, old_v);
  if (new_v == old_v) return;
  uint8_t b[4];
  net::store_be32(b, new_v);
  replace_field(tcp, off, b, 4, d);
}

}  // namespace

void tcp_seq_fix(uint8_t* tcp, size_t avail, const SeqAdjust& for_seq, const SeqAdjust& for_ack,
                 bool adjust_sack) {
  if (avail < net::kTcpMinHdrLen) return;
  net::CsumDelta d;
  if (for_seq.set) fix_field(tcp, 4, fix_seq, for_seq, d);
  if (for_ack.set) fix_field(tcp, 8, fix_ack, for_ack, d);
  const size_t doff = size_t(tcp[12] >> 4) * 4;
  if (adjust_sack && for_ack.set && doff > net::kTcpMinHdrLen && doff <= avail) {
    // The option walk of conntrack's nf_ct_sack_adjust.
    size_t off = net::kTcpMinHdrLen;
    while (off < doff) {
      const uint8_t kind = tcp[off];
      if (kind == kTcpOptEol) break;
      if (kind == kTcpOptNop) {
        ++off;
        continue;
      }
      if (off + 1 == doff) break;
      const size_t olen = tcp[off + 1];
      if (olen < 2 || off + olen > doff) break;
      if (kind == kTcpOptSack && olen >= 2 + kSackPerBlock && (olen - 2) % kSackPerBlock == 0) {
        for (size_t e = off + 2; e < off + olen; e += 4) fix_field(tcp, e, fix_ack, for_ack, d);
      }
      off += olen;
    }
  }
  if (!d.empty()) net::csum_apply_at(tcp + net::TcpView::kCheck, d);
}

// --- Parsing

namespace {

bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? uint8_t(c + 32) : c; }

// Case-insensitive compare of `n` bytes with a lower-case pattern.
bool ci_equal(const uint8_t* p, const char* pattern, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (lower(p[i]) != uint8_t(pattern[i])) return false;
  }
  return true;
}

FtpMatch fail(FtpKind kind, FtpStatus status, FtpError error = FtpError::kNone) {
  FtpMatch m;
  m.kind = kind;
  m.status = status;
  m.error = error;
  return m;
}

// The pattern at the start of the payload: kOk, kNoMatch, or kTruncated for a payload that is a
// prefix of it (IPVS's "partial match").
FtpStatus match_pattern(const uint8_t* p, size_t len, const char* pattern, size_t plen) {
  if (len < plen) return ci_equal(p, pattern, len) ? FtpStatus::kTruncated : FtpStatus::kNoMatch;
  return ci_equal(p, pattern, plen) ? FtpStatus::kOk : FtpStatus::kNoMatch;
}

// ip_vs_ftp_get_addrport, classic form: the pattern, anything up to `skip` (then past every
// repeat of it) or the first digit, then h1,h2,h3,h4,p1,p2 ended by any other character.
FtpMatch parse_six(const uint8_t* p, size_t len, FtpKind kind, const char* pattern, size_t plen,
                   uint8_t skip) {
  const FtpStatus st = match_pattern(p, len, pattern, plen);
  if (st != FtpStatus::kOk) return fail(kind, st);
  size_t s = plen;
  bool found = false;
  for (;; ++s) {
    if (s == len) return fail(kind, FtpStatus::kTruncated);
    if (!found) {
      if (is_digit(p[s])) break;
      if (p[s] == skip) found = true;
    } else if (p[s] != skip) {
      break;
    }
  }
  uint32_t v[6] = {};
  size_t i = 0, digits = 0, d = s;
  for (;; ++d) {
    if (d == len) return fail(kind, FtpStatus::kTruncated);
    const uint8_t c = p[d];
    if (is_digit(c)) {
      v[i] = v[i] * 10 + (c - '0');
      if (v[i] > 255) return fail(kind, FtpStatus::kMalformed, FtpError::kNumberTooBig);
      ++digits;
      continue;
    }
    if (digits == 0) return fail(kind, FtpStatus::kMalformed, FtpError::kEmptyNumber);
    if (c == ',' && i < 5) {
      ++i;
      digits = 0;
      continue;
    }
    break;  // the terminator
  }
  if (i != 5) return fail(kind, FtpStatus::kMalformed, FtpError::kWrongCount);
  FtpMatch m;
  m.status = FtpStatus::kOk;
  m.kind = kind;
  const uint8_t a[4] = {uint8_t(v[0]), uint8_t(v[1]), uint8_t(v[2]), uint8_t(v[3])};
  m.addr = net::IpAddr::v4(a);
  m.port = uint16_t(v[4] << 8 | v[5]);
  m.start = uint32_t(s);
  m.end = uint32_t(d);
  return m;
}

// The kernel's in4_pton: four decimal fields up to 255, none empty, separated by dots.
bool parse_v4(const uint8_t* p, size_t len, uint8_t out[4]) {
  size_t i = 0, digits = 0;
  uint32_t v = 0;
  for (size_t k = 0; k <= len; ++k) {
    if (k < len && is_digit(p[k])) {
      v = v * 10 + (p[k] - '0');
      if (v > 255) return false;
      ++digits;
      continue;
    }
    if (digits == 0 || i == 4) return false;
    out[i++] = uint8_t(v);
    v = 0;
    digits = 0;
    if (k < len && p[k] != '.') return false;
  }
  return i == 4;
}

// ip_vs_ftp_get_addrport, extended form (EPRT, 229): the pattern, anything up to `skip`, past
// every repeat of it, then <d>af<d>addr<d>port<d> or (229 only) <d><d><d>port<d>.
FtpMatch parse_ext(const uint8_t* p, size_t len, FtpKind kind, const char* pattern, size_t plen,
                   uint8_t skip, net::Family af) {
  const FtpStatus st = match_pattern(p, len, pattern, plen);
  if (st != FtpStatus::kOk) return fail(kind, st);
  const FtpMatch truncated = fail(kind, FtpStatus::kTruncated);
  size_t s = plen;
  bool found = false;
  for (;; ++s) {
    if (s == len) return truncated;
    if (!found) {
      if (p[s] == skip) found = true;
    } else if (p[s] != skip) {
      break;
    }
  }
  FtpMatch m;
  m.kind = kind;
  m.start = uint32_t(s);
  const uint8_t delim = p[s++];
  if (delim < 33 || delim > 126) return fail(kind, FtpStatus::kMalformed, FtpError::kBadDelimiter);
  if (s == len) return truncated;
  if (p[s] == delim) {
    // No family and no address: the usual 229 reply; the client reuses the control address.
    if (kind != FtpKind::k229) return fail(kind, FtpStatus::kMalformed, FtpError::kMissingFamily);
    if (++s == len) return truncated;
    if (p[s] != delim) return fail(kind, FtpStatus::kMalformed, FtpError::kBadDelimiter);
    ++s;
  } else {
    // Only the control connection's own family, as IPVS.
    const bool v4 = af == net::Family::kV4;
    if ((!v4 && af != net::Family::kV6) || p[s] != (v4 ? '1' : '2')) {
      return fail(kind, FtpStatus::kMalformed, FtpError::kWrongFamily);
    }
    if (++s == len) return truncated;
    if (p[s] != delim) return fail(kind, FtpStatus::kMalformed, FtpError::kBadDelimiter);
    if (++s == len) return truncated;
    // The address runs to the next delimiter (the longest IPv6 text is 45 characters).
    size_t e = s;
    while (e < len && p[e] != delim && e - s <= 45) ++e;
    if (e == len) return truncated;
    if (p[e] != delim) return fail(kind, FtpStatus::kMalformed, FtpError::kBadAddress);
    if (v4) {
      uint8_t a[4];
      if (!parse_v4(p + s, e - s, a)) {
        return fail(kind, FtpStatus::kMalformed, FtpError::kBadAddress);
      }
      m.addr = net::IpAddr::v4(a);
    } else {
      const auto a =
          net::IpAddr::parse(std::string_view(reinterpret_cast<const char*>(p + s), e - s));
      if (!a || !a->is_v6()) return fail(kind, FtpStatus::kMalformed, FtpError::kBadAddress);
      m.addr = *a;
    }
    s = e + 1;
  }
  uint32_t port = 0;
  for (;; ++s) {
    if (s == len) return truncated;
    if (!is_digit(p[s])) break;
    port = port * 10 + (p[s] - '0');
    if (port > 65535) return fail(kind, FtpStatus::kMalformed, FtpError::kBadPort);
  }
  if (port == 0) return fail(kind, FtpStatus::kMalformed, FtpError::kBadPort);
  if (p[s] != delim) return fail(kind, FtpStatus::kMalformed, FtpError::kBadDelimiter);
  m.status = FtpStatus::kOk;
  m.port = uint16_t(port);
  m.end = uint32_t(s + 1);
  return m;
}

}  // namespace

std::string_view ftp_error_name(FtpError e) {
  switch (e) {
    case FtpError::kNone:
      return "none";
    case FtpError::kEmptyNumber:
      return "empty_number";
    case FtpError::kNumberTooBig:
      return "number_too_big";
    case FtpError::kWrongCount:
      return "wrong_count";
    case FtpError::kBadDelimiter:
      return "bad_delimiter";
    case FtpError::kWrongFamily:
      return "wrong_family";
    case FtpError::kMissingFamily:
      return "missing_family";
    case FtpError::kBadAddress:
      return "bad_address";
    case FtpError::kBadPort:
      return "bad_port";
    case FtpError::kEpsvFamily:
      return "epsv_family";
    case FtpError::kCount:
      break;
  }
  return "";
}

FtpMatch ftp_parse_227(const uint8_t* p, size_t len) {
  return parse_six(p, len, FtpKind::k227, "227 ", 4, '(');
}

FtpMatch ftp_parse_229(const uint8_t* p, size_t len, net::Family af) {
  return parse_ext(p, len, FtpKind::k229, "229 ", 4, '(', af);
}

FtpMatch ftp_parse_port(const uint8_t* p, size_t len) {
  return parse_six(p, len, FtpKind::kPort, "port", 4, ' ');
}

FtpMatch ftp_parse_eprt(const uint8_t* p, size_t len, net::Family af) {
  return parse_ext(p, len, FtpKind::kEprt, "eprt", 4, ' ', af);
}

FtpClientResult ftp_client_command(net::Family af, const uint8_t* p, size_t len) {
  FtpClientResult r;
  if (len == 0) return r;  // ip_vs_ftp_in: no payload, nothing to look at
  // "PASV\r\n" (IPv4 only) or "EPSV" anywhere: ip_vs_ftp_in's scan, which stops at the first.
  for (size_t i = 0; len >= 6 && i <= len - 6; ++i) {
    if (af == net::Family::kV4 && ci_equal(p + i, "pasv\r\n", 6)) {
      r.command = FtpCommand::kPasv;
      return r;
    }
    if (ci_equal(p + i, "epsv", 4) && (p[i + 4] == ' ' || p[i + 4] == '\r')) {
      if (p[i + 4] == ' ') {
        // "EPSV 1" / "EPSV 2" for the connection's own family; "EPSV ALL" is not supported.
        if (i + 6 >= len) {
          r.match.status = FtpStatus::kTruncated;
          return r;
        }
        const uint8_t proto = p[i + 5];
        const bool same =
            (af == net::Family::kV6 && proto == '2') || (af == net::Family::kV4 && proto == '1');
        if (p[i + 6] != '\r' || !same) {
          r.match.status = FtpStatus::kMalformed;
          r.match.error = FtpError::kEpsvFamily;
          return r;
        }
      }
      r.command = FtpCommand::kEpsv;
      return r;
    }
  }
  FtpMatch port;
  if (af == net::Family::kV4) {
    port = ftp_parse_port(p, len);
    if (port.ok()) {
      r.command = FtpCommand::kPort;
      r.match = port;
      return r;
    }
  }
  const FtpMatch eprt = ftp_parse_eprt(p, len, af);
  if (eprt.ok()) r.command = FtpCommand::kEprt;
  r.match = (eprt.ok() || port.status == FtpStatus::kNoMatch) ? eprt : port;
  return r;
}

FtpMatch ftp_server_reply(FtpMode mode, net::Family af, const uint8_t* p, size_t len) {
  if (len == 0) return FtpMatch{};  // ip_vs_ftp_out: no payload, nothing to look at
  switch (mode) {
    case FtpMode::kPasv:
      return ftp_parse_227(p, len);
    case FtpMode::kEpsv:
      return ftp_parse_229(p, len, af);
    case FtpMode::kActive:
      break;
  }
  return FtpMatch{};
}

FtpExpect ftp_expect(const FtpCtl& ctl, const FtpMatch& m) {
  FtpExpect x;
  x.vaddr = ctl.vaddr;
  if (m.kind == FtpKind::k227 || m.kind == FtpKind::k229) {
    x.passive = true;
    x.caddr = ctl.caddr;
    x.any_cport = true;
    x.vport = m.port;
    x.daddr = m.addr.family == net::Family::kNone ? ctl.daddr : m.addr;
    x.dport = m.port;
  } else {
    x.caddr = m.addr;
    x.cport = m.port;
    x.vport = uint16_t(ctl.vport - 1);
    x.daddr = ctl.daddr;
    x.dport = uint16_t(ctl.dport - 1);
  }
  return x;
}

// --- Rewriting

namespace {

size_t put_uint(char* out, unsigned v) {
  char tmp[10];
  size_t n = 0;
  do {
    tmp[n++] = char('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

// The text and the length change for a match inside a payload of `len` bytes; 0 when unusable.
size_t replacement(const FtpMatch& m, size_t len, const net::IpAddr& addr, uint16_t port,
                   char* text) {
  if (!m.ok() || m.start > m.end || m.end > len) return 0;
  return ftp_reply_text(m.kind, addr, port, text);
}

}  // namespace

size_t ftp_reply_text(FtpKind kind, const net::IpAddr& addr, uint16_t port, char* out) {
  size_t n = 0;
  if (kind == FtpKind::k227) {
    if (!addr.is_v4()) return 0;
    for (size_t i = 0; i < 4; ++i) {
      n += put_uint(out + n, addr.bytes[i]);
      out[n++] = ',';
    }
    n += put_uint(out + n, port >> 8);
    out[n++] = ',';
    n += put_uint(out + n, port & 0xff);
    return n;
  }
  if (kind == FtpKind::k229) {
    std::memcpy(out, "|||", 3);
    n = 3 + put_uint(out + 3, port);
    out[n++] = '|';
    return n;
  }
  return 0;
}

FtpRewrite ftp_rewrite(const uint8_t* payload, size_t len, const FtpMatch& m,
                       const net::IpAddr& addr, uint16_t port, uint8_t* out, size_t out_cap) {
  FtpRewrite r;
  char text[kFtpMaxReplacement];
  const size_t tlen = replacement(m, len, addr, port, text);
  if (tlen == 0) return r;
  const size_t new_len = len - (m.end - m.start) + tlen;
  if (new_len > out_cap) return r;
  std::memcpy(out, payload, m.start);
  std::memcpy(out + m.start, text, tlen);
  std::memcpy(out + m.start + tlen, payload + m.end, len - m.end);
  r.ok = true;
  r.len = uint32_t(new_len);
  r.delta = int32_t(new_len) - int32_t(len);
  return r;
}

FtpRewrite ftp_rewrite_227(const uint8_t* payload, size_t len, const net::IpAddr& new_addr,
                           uint16_t new_port, uint8_t* out, size_t out_cap) {
  return ftp_rewrite(payload, len, ftp_parse_227(payload, len), new_addr, new_port, out, out_cap);
}

FtpRewrite ftp_mangle(uint8_t* frame, size_t cap, net::ParsedPacket& p, const FtpMatch& m,
                      const net::IpAddr& addr, uint16_t port) {
  FtpRewrite r;
  if (!p.ok() || !p.is_tcp() || p.l3_end() > cap) return r;
  uint8_t* ip = frame + p.l3_offset;
  uint8_t* tcp = frame + p.l4_offset;
  const size_t payload_off = p.l4_offset + net::TcpView(tcp).header_len();
  if (payload_off > p.l3_end()) return r;
  const size_t len = p.l3_end() - payload_off;
  char text[kFtpMaxReplacement];
  const size_t tlen = replacement(m, len, addr, port, text);
  if (tlen == 0) return r;
  const int32_t delta = int32_t(tlen) - int32_t(m.end - m.start);
  const int64_t new_l3_len = int64_t(p.l3_len) + delta;
  const size_t new_frame_len = size_t(int64_t(p.l3_end()) + delta);
  if (new_l3_len > 0xffff || new_frame_len > cap) return r;

  uint8_t* payload = frame + payload_off;
  std::memmove(payload + m.start + tlen, payload + m.end, len - m.end);
  std::memcpy(payload + m.start, text, tlen);

  net::IpAddr src, dst;
  if (p.family == net::Family::kV4) {
    net::CsumDelta d;
    d.replace16(p.l3_len, uint16_t(new_l3_len));
    net::store_be16(ip + 2, uint16_t(new_l3_len));
    net::csum_apply_at(ip + net::Ipv4View::kCheck, d);
    src = net::IpAddr::v4(ip + net::Ipv4View::kSaddr);
    dst = net::IpAddr::v4(ip + net::Ipv4View::kDaddr);
  } else {
    const uint16_t plen = net::load_be16(ip + net::Ipv6View::kPayloadLen);
    net::store_be16(ip + net::Ipv6View::kPayloadLen, uint16_t(plen + delta));
    src = net::IpAddr::v6(ip + net::Ipv6View::kSaddr);
    dst = net::IpAddr::v6(ip + net::Ipv6View::kDaddr);
  }
  p.l3_len = uint16_t(new_l3_len);
  const uint32_t l4_len = p.l3_end() - p.l4_offset;
  net::store_be16(tcp + net::TcpView::kCheck, 0);
  const uint32_t sum =
      net::csum_partial(tcp, l4_len, net::pseudo_header_sum(src, dst, net::kProtoTcp, l4_len));
  net::store_be16(tcp + net::TcpView::kCheck, uint16_t(~net::csum_fold(sum)));

  r.ok = true;
  r.len = uint32_t(new_frame_len);
  r.delta = delta;
  return r;
}

}  // namespace lvs::core
