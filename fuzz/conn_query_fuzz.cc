// Fuzzes GET /v1/conns's query string: any bytes are parsed, and either refused with a reason
// naming what was wrong or accepted with a page inside the limits; matching a connection with
// an accepted query never fails.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/conn_query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string err;
  const auto q = lvs::daemon::parse_conn_query(in, &err);
  if (!q) {
    if (err.empty()) std::abort();
    return 0;
  }
  if (q->limit < 1 || q->limit > lvs::daemon::ConnQuery::kMaxLimit) std::abort();
  lvs::core::ConnSnapshot c;
  c.proto = 6;
  c.caddr = *lvs::net::IpAddr::parse("198.18.2.5");
  c.vaddr = *lvs::net::IpAddr::parse("198.18.0.10");
  c.daddr = *lvs::net::IpAddr::parse("2001:2::1");
  c.state = "ESTABLISHED";
  (void)q->matches(c);
  return 0;
}
