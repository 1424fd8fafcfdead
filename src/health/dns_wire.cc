#include "health/dns_wire.h"

#include <fmt/format.h>

namespace lvs::health::dns {
namespace {

void put16(std::vector<uint8_t>* out, uint16_t v) {
  out->push_back(uint8_t(v >> 8));
  out->push_back(uint8_t(v));
}

uint16_t get16(std::span<const uint8_t> b, size_t at) { return uint16_t(b[at] << 8 | b[at + 1]); }

}  // namespace

bool build_query(uint16_t id, std::string_view name, uint16_t type, std::vector<uint8_t>* out,
                 std::string* error) {
  out->clear();
  put16(out, id);
  put16(out, kFlagRd);  // dns_make_query: DNS_SET_RD(flags, 1), nothing else
  put16(out, 1);        // QDCOUNT
  put16(out, 0);
  put16(out, 0);
  put16(out, 0);
  // "" and "." are the root; one trailing dot is the same name without it.
  std::string_view rest = name;
  if (rest == ".") rest = {};
  if (!rest.empty() && rest.back() == '.') rest.remove_suffix(1);
  size_t wire_len = 1;  // the root label
  while (!rest.empty()) {
    const size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (label.empty()) {
      *error = fmt::format("dns_name '{}': empty label", name);
      return false;
    }
    if (label.size() > 63) {
      *error = fmt::format("dns_name '{}': label longer than 63 bytes", name);
      return false;
    }
    wire_len += 1 + label.size();
    if (wire_len > 255) {
      *error = fmt::format("dns_name '{}': longer than 255 bytes on the wire", name);
      return false;
    }
    out->push_back(uint8_t(label.size()));
    out->insert(out->end(), label.begin(), label.end());
    rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
    if (dot != std::string_view::npos && rest.empty()) {  // "a.." ends in an empty label
      *error = fmt::format("dns_name '{}': empty label", name);
      return false;
    }
  }
  out->push_back(0);
  put16(out, type);
  put16(out, kClassIn);
  return true;
}

ReplyVerdict judge_reply(uint16_t id, std::span<const uint8_t> reply) {
  ReplyVerdict v;
  if (reply.size() < kHeaderSize) {
    v.why = fmt::format("shorter than a header ({} bytes)", reply.size());
    return v;
  }
  const uint16_t got_id = get16(reply, 0);
  if (got_id != id) {
    v.why = fmt::format("ID {:#06x}, not {:#06x}", got_id, id);
    return v;
  }
  const uint16_t flags = get16(reply, 2);
  if (!(flags & kFlagQr)) {
    v.why = "a query, not a response";
    return v;
  }
  v.rcode = flags & 0x000f;
  if (v.rcode != 0) {
    v.kind = ReplyVerdict::Kind::kFail;
    const std::string_view n = rcode_name(v.rcode);
    v.why = n.empty() ? fmt::format("rcode {}", v.rcode) : fmt::format("rcode {} ({})", v.rcode, n);
    return v;
  }
  v.kind = ReplyVerdict::Kind::kPass;
  return v;
}

std::string_view rcode_name(int rcode) {
  switch (rcode) {
    case 0:
      return "NOERROR";
    case 1:
      return "FORMERR";
    case 2:
      return "SERVFAIL";
    case 3:
      return "NXDOMAIN";
    case 4:
      return "NOTIMP";
    case 5:
      return "REFUSED";
    default:
      return "";
  }
}

}  // namespace lvs::health::dns
