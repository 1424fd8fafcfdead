#include "ctl/api_ops.h"

#include <algorithm>
#include <optional>

#include "sched/flags.h"
#include "sched/registry.h"

namespace lvs::ctl {

namespace {

using nlohmann::json;

OpResult fail(OpError e, std::string detail = {}) {
  OpResult r;
  r.error = e;
  r.detail = std::move(detail);
  return r;
}

bool read_addr(const json& j, const char* key, net::IpAddr* out) {
  if (!j.contains(key) || !j[key].is_string()) return false;
  const auto a = net::IpAddr::parse(j[key].get<std::string>());
  if (!a) return false;
  *out = *a;
  return true;
}

template <typename T>
T num(const json& j, const char* key, T dflt) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<T>() : dflt;
}

// A string or boolean member; `dflt` when absent, nullopt when of another type (never throws,
// unlike json::value()).
std::optional<std::string> str(const json& j, const char* key, const char* dflt) {
  const auto it = j.find(key);
  if (it == j.end()) return std::string(dflt);
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}
std::optional<bool> boolean(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return false;
  if (!it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

bool read_key(const json& s, core::ServiceKey* key) {
  const uint32_t mark = num<uint32_t>(s, "fwmark", 0);
  if (mark != 0) {
    *key = core::ServiceKey::fwmark_key(
        num<int>(s, "af", 4) == 6 ? net::Family::kV6 : net::Family::kV4, mark);
    return true;
  }
  key->proto = num<uint8_t>(s, "proto", 0);
  key->port = num<uint16_t>(s, "port", 0);
  key->fwmark = 0;
  return (key->proto == 6 || key->proto == 17 || key->proto == 132) &&
         read_addr(s, "addr", &key->addr);
}

core::Fwd fwd_of(const std::string& name, bool* ok) {
  *ok = true;
  if (name == "Masq") return core::Fwd::kNat;
  if (name == "Route") return core::Fwd::kDr;
  if (name == "Tunnel") return core::Fwd::kTun;
  if (name == "FullNat") return core::Fwd::kFullNat;
  *ok = false;
  return core::Fwd::kDr;
}

// -A/-E: the service's settings as ipvsadm gives them (whole, defaults included).
OpResult set_service(const json& s, VirtualServerConf& vs) {
  const auto sched = str(s, "scheduler", "wlc");
  const auto ops = boolean(s, "ops");
  if (!sched || !ops) {
    return fail(OpError::kBadRequest, "\"scheduler\" is a string, \"ops\" a boolean");
  }
  if (sched::find_scheduler(*sched) == nullptr) {
    return fail(OpError::kNoScheduler, "unknown scheduler '" + *sched + "'");
  }
  const uint8_t width = vs.key.addr.family == net::Family::kV6 ? 128 : 32;
  vs.scheduler = *sched;
  vs.sched_flags = num<uint32_t>(s, "sched_flags", 0) &
                   (sched::kSchedFlag1 | sched::kSchedFlag2 | sched::kSchedFlag3);
  vs.persistence_timeout = num<uint32_t>(s, "timeout", 0);
  vs.persistence_prefix = std::min<uint8_t>(num<uint8_t>(s, "prefix", width), width);
  vs.one_packet = *ops;
  return {};
}

OpResult set_server(const json& d, RealServerConf& rs) {
  bool ok = false;
  const auto fwd = str(d, "fwd", "Route");
  const auto tt = str(d, "tun_type", "ipip");
  if (!fwd || !tt) return fail(OpError::kBadRequest, "\"fwd\" and \"tun_type\" are strings");
  const core::Fwd method = fwd_of(*fwd, &ok);
  if (!ok) return fail(OpError::kBadRequest, "unknown forwarding method");
  if (*tt != "ipip" && *tt != "gue" && *tt != "gre") {
    return fail(OpError::kBadRequest, "unknown tunnel type '" + *tt + "'");
  }
  rs.fwd = method;
  rs.weight = num<int32_t>(d, "weight", 1);
  rs.u_threshold = num<uint32_t>(d, "u_threshold", 0);
  rs.l_threshold = num<uint32_t>(d, "l_threshold", 0);
  rs.tun_type = *tt == "gue"   ? core::TunType::kGue
                : *tt == "gre" ? core::TunType::kGre
                               : core::TunType::kIpip;
  rs.tun_port = num<uint16_t>(d, "tun_port", 0);
  rs.tun_flags = num<uint16_t>(d, "tun_flags", 0);
  return {};
}

}  // namespace

std::string_view op_error_name(OpError e) {
  switch (e) {
    case OpError::kNone:
      return "none";
    case OpError::kBadRequest:
      return "bad-request";
    case OpError::kExists:
      return "exists";
    case OpError::kNoService:
      return "no-service";
    case OpError::kNoServer:
      return "no-server";
    case OpError::kNoScheduler:
      return "no-scheduler";
    case OpError::kInvalid:
      return "invalid";
  }
  return "invalid";
}

OpResult apply_op(const json& req, Config& cfg) {
  if (!req.is_object() || !req.contains("cmd") || !req["cmd"].is_string()) {
    return fail(OpError::kBadRequest, "a JSON object with \"cmd\" is expected");
  }
  const std::string cmd = req["cmd"].get<std::string>();
  // A change made here is not what the file says: no service may keep the file's fingerprint
  // (diff() would skip comparing it).
  // Nor may a reload copy one as the file's.
  for (VirtualServerConf& vs : cfg.services) {
    vs.source_hash = 0;
    vs.source = {};
  }
  if (cmd == "flush") {
    cfg.services.clear();
    return {};
  }
  if (cmd == "set-timeout") {
    const auto tit = req.find("timeouts");
    const json t = tit != req.end() && tit->is_object() ? *tit : json::object();
    // ipvsadm --set: 0 leaves a value as it is.
    if (const uint32_t v = num<uint32_t>(t, "tcp", 0)) cfg.timeouts.tcp[core::kTcpEstablished] = v;
    if (const uint32_t v = num<uint32_t>(t, "tcp_fin", 0)) cfg.timeouts.tcp[core::kTcpFinWait] = v;
    if (const uint32_t v = num<uint32_t>(t, "udp", 0)) cfg.timeouts.udp = v;
    return {};
  }
  const auto sit = req.find("service");
  const json s = sit != req.end() && sit->is_object() ? *sit : json::object();
  core::ServiceKey key;
  const bool has_key = s.is_object() && !s.empty();
  if (has_key && !read_key(s, &key)) return fail(OpError::kBadRequest, "bad service");
  if (cmd == "zero") {
    OpResult r;
    r.zero = true;
    r.zero_all = !has_key;
    r.zero_key = key;
    if (has_key && std::none_of(cfg.services.begin(), cfg.services.end(),
                                [&](const auto& vs) { return vs.key == key; })) {
      return fail(OpError::kNoService);
    }
    return r;
  }
  if (!has_key) return fail(OpError::kBadRequest, "\"service\" is required");
  auto svc = std::find_if(cfg.services.begin(), cfg.services.end(),
                          [&](const auto& vs) { return vs.key == key; });
  if (cmd == "add-service") {
    if (svc != cfg.services.end()) return fail(OpError::kExists);
    VirtualServerConf vs;
    vs.key = key;
    if (OpResult r = set_service(s, vs); !r.ok()) return r;
    cfg.services.push_back(std::move(vs));
    return {};
  }
  if (svc == cfg.services.end()) return fail(OpError::kNoService);
  if (cmd == "edit-service") return set_service(s, *svc);
  if (cmd == "delete-service") {
    cfg.services.erase(svc);
    return {};
  }
  const auto dit = req.find("server");
  const json d = dit != req.end() && dit->is_object() ? *dit : json::object();
  RealServerConf rs;
  if (!read_addr(d, "addr", &rs.addr)) return fail(OpError::kBadRequest, "bad server address");
  rs.port = num<uint16_t>(d, "port", 0);
  auto& list = svc->real_servers;
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const auto& r) { return r.addr == rs.addr && r.port == rs.port; });
  if (cmd == "add-server") {
    if (it != list.end()) return fail(OpError::kExists);
    if (OpResult r = set_server(d, rs); !r.ok()) return r;
    list.push_back(std::move(rs));
    return {};
  }
  if (it == list.end()) return fail(OpError::kNoServer);
  if (cmd == "edit-server") return set_server(d, *it);
  if (cmd == "delete-server") {
    list.erase(it);
    return {};
  }
  return fail(OpError::kBadRequest, "unknown cmd '" + cmd + "'");
}

}  // namespace lvs::ctl
