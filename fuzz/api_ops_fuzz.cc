// Fuzzes the control API's change requests (POST /v1/ops): any bytes as JSON, applied to a
// configuration with one service and one real server. A request is applied or refused with a
// reason; applied or not, services stay unique by key and real servers unique in a service.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "ctl/api_ops.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

lvs::ctl::Config base() {
  lvs::ctl::Config c;
  lvs::ctl::VirtualServerConf vs;
  vs.key = lvs::core::ServiceKey{6, *lvs::net::IpAddr::parse("198.18.2.100"), 80, 0};
  vs.scheduler = "rr";
  lvs::ctl::RealServerConf rs;
  rs.addr = *lvs::net::IpAddr::parse("198.18.1.11");
  rs.port = 80;
  vs.real_servers.push_back(rs);
  c.services.push_back(vs);
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto req = nlohmann::json::parse(data, data + size, nullptr, false);
  if (req.is_discarded()) return 0;
  lvs::ctl::Config cfg = base();
  const lvs::ctl::OpResult r = lvs::ctl::apply_op(req, cfg);
  check(r.ok() == (r.error == lvs::ctl::OpError::kNone));
  check(!lvs::ctl::op_error_name(r.error).empty());
  std::set<std::string> keys;
  for (const auto& vs : cfg.services) {
    check(keys.insert(vs.key.to_string()).second);
    std::set<std::string> servers;
    for (const auto& rs : vs.real_servers) {
      check(servers.insert(rs.addr.to_string() + ":" + std::to_string(rs.port)).second);
    }
  }
  return 0;
}
