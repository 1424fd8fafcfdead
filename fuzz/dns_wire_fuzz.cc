// Fuzzes DNS_CHECK's message code: any datagram is judged against a query ID without reading
// outside it (a pass or fail carries its reason, an ignored one why), and any name either builds
// a query within RFC 1035's limits that judges its own reply, or is refused with a reason.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "health/dns_wire.h"

namespace dns = lvs::health::dns;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint16_t id = uint16_t(data[0] << 8 | data[1]);
  const std::span<const uint8_t> reply(data + 2, size - 2);
  const dns::ReplyVerdict v = dns::judge_reply(id, reply);
  if (v.kind != dns::ReplyVerdict::Kind::kPass && v.why.empty()) std::abort();
  if (reply.size() < dns::kHeaderSize && v.kind != dns::ReplyVerdict::Kind::kIgnore) std::abort();

  const std::string_view name(reinterpret_cast<const char*>(data + 2), size - 2);
  std::vector<uint8_t> q;
  std::string err;
  if (!dns::build_query(id, name, uint16_t(size), &q, &err)) {
    if (err.empty()) std::abort();
    return 0;
  }
  // Header, at most 255 bytes of name, type and class.
  if (q.size() < dns::kHeaderSize + 5 || q.size() > dns::kHeaderSize + 255 + 4) std::abort();
  // Our own query with QR set is a passing reply to itself.
  q[2] |= 0x80;
  if (dns::judge_reply(id, q).kind != dns::ReplyVerdict::Kind::kPass) std::abort();
  return 0;
}
