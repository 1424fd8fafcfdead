// The DNS messages of DNS_CHECK (keepalived's check_dns.c), built and judged without I/O: one
// query with one question, and the few header fields keepalived looks at in a reply.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lvs::health::dns {

inline constexpr size_t kHeaderSize = 12;
inline constexpr uint16_t kFlagQr = 0x8000;
inline constexpr uint16_t kFlagTc = 0x0200;
inline constexpr uint16_t kFlagRd = 0x0100;
inline constexpr uint16_t kClassIn = 1;

// The query keepalived's dns_make_query() sends: header with `id`, only RD set, QDCOUNT 1; QNAME
// from `name` (labels split at dots; "", "." and a trailing dot all end at the root); QTYPE
// `type`; QCLASS IN. Returns false and sets *error ("dns_name 'a..b': empty label") when the name
// cannot be encoded (keepalived does not check; RFC 1035 limits: labels of 1..63 bytes, 255 in
// all).
bool build_query(uint16_t id, std::string_view name, uint16_t type, std::vector<uint8_t>* out,
                 std::string* error);

// What one received datagram means for a query sent with `id`, as keepalived's dns_recv_thread()
// judges it: shorter than a header, another ID, or QR clear: not our answer, keep waiting;
// RCODE not 0: the check fails; else it passes (ANCOUNT, TC and the question are not looked at).
struct ReplyVerdict {
  enum class Kind { kIgnore, kPass, kFail };
  Kind kind = Kind::kIgnore;
  int rcode = 0;
  std::string why;  // kIgnore: "shorter than a header (5 bytes)"; kFail: "rcode 3 (NXDOMAIN)"
};
ReplyVerdict judge_reply(uint16_t id, std::span<const uint8_t> reply);

// "NXDOMAIN" for 3, ...; "rcode 12" style numbers are left to the caller when unknown ("").
std::string_view rcode_name(int rcode);

}  // namespace lvs::health::dns
