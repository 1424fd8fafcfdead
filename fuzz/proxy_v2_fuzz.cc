// Fuzzes the PROXY v2 parser and writer. The parser on the input and on every prefix of it: a
// result must describe bytes inside the buffer, a complete header's prefixes must all ask for
// more, and a parsed TCP/UDP header must be what the writer writes for the same addresses. The
// writer on addresses and ports taken from the input: what it writes must parse back.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "net/bytes.h"
#include "net/proxy_v2.h"

namespace lvs::net {
namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_result(const uint8_t* buf, size_t len, const ProxyV2Result& r) {
  check(r.status < ProxyV2Status::kCount);
  check(!proxy_v2_status_name(r.status).empty());
  if (!r.ok()) return;
  check(r.header_len >= kProxyV2FixedLen && r.header_len <= len);
  check(r.header_len == kProxyV2FixedLen + load_be16(buf + 14));
  check(r.tlv_offset >= kProxyV2FixedLen && r.tlv_offset <= r.header_len);
  check(std::memcmp(buf, kProxyV2Sig, sizeof(kProxyV2Sig)) == 0);
  check(r.fam == buf[13]);
  if (r.src.family != Family::kNone) {
    check(r.command == ProxyV2Command::kProxy);
    check(r.src.family == r.dst.family);
    check(r.proto == 6 || r.proto == 17);
    // Same addresses through the writer give the same bytes, but for the length field (the
    // writer adds no TLVs).
    uint8_t out[kProxyV2MaxWriteLen];
    const size_t n = proxy_v2_write(out, sizeof(out), r.src, r.sport, r.dst, r.dport, r.proto);
    check(n == r.tlv_offset);
    check(std::memcmp(out, buf, 14) == 0);
    check(std::memcmp(out + 16, buf + 16, n - 16) == 0);
  } else {
    check(r.proto == 0);
  }
}

void run(const uint8_t* data, size_t size) {
  // An exact-size heap copy: ASan then flags any read past the end.
  std::vector<uint8_t> buf(data, data + size);
  const uint8_t* b = buf.data();
  const ProxyV2Result r = parse_proxy_v2(b, size);
  check_result(b, size, r);
  // Prefixes: a complete header's are all kNeedMore; an error seen on a prefix stays.
  const size_t limit = size < 300 ? size : 300;
  for (size_t n = 0; n < limit; ++n) {
    std::vector<uint8_t> pre(b, b + n);
    const ProxyV2Result q = parse_proxy_v2(pre.data(), n);
    check_result(pre.data(), n, q);
    if (r.ok() && n < r.header_len) check(q.status == ProxyV2Status::kNeedMore);
    if (q.status != ProxyV2Status::kOk && q.status != ProxyV2Status::kNeedMore) {
      check(q.status == r.status);
    }
  }

  // The writer: addresses and ports from the input, then parse what it wrote.
  if (size >= 37) {
    const bool src6 = b[0] & 1, dst6 = b[0] & 2;
    const uint8_t proto = (b[0] & 4) ? 17 : 6;
    const IpAddr src = src6 ? IpAddr::v6(b + 1) : IpAddr::v4(b + 1);
    const IpAddr dst = dst6 ? IpAddr::v6(b + 17) : IpAddr::v4(b + 17);
    const uint16_t sport = load_be16(b + 33), dport = load_be16(b + 35);
    uint8_t out[kProxyV2MaxWriteLen + 1];
    const size_t cap = (b[0] & 8) ? size_t(b[0] >> 4) * 4 : sizeof(out);  // sometimes too small
    const size_t n = proxy_v2_write(out, cap, src, sport, dst, dport, proto);
    const Family af = proxy_v2_family(src, dst);
    check(n == (cap >= proxy_v2_size(af) ? proxy_v2_size(af) : 0));
    if (n > 0) {
      const ProxyV2Result w = parse_proxy_v2(out, n);
      check(w.ok() && w.header_len == n && w.sport == sport && w.dport == dport &&
            w.proto == proto && w.src.family == af);
      if (src.family == af) check(w.src == src);
      if (dst.family == af) check(w.dst == dst);
    }
  }
}

}  // namespace
}  // namespace lvs::net

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lvs::net::run(data, size);
  return 0;
}
