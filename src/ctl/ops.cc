// The desired state as engine operations: diff() and apply().
#include <fmt/format.h>

#include <map>
#include <utility>

#include "ctl/config.h"
#include "ctl/format.h"
#include "ctl/service_id.h"
#include "sched/flags.h"

namespace lvs::ctl {

namespace {

using DestId = std::pair<net::IpAddr, uint16_t>;

std::map<ServiceId, const VirtualServerConf*> index_services(const Config& c) {
  std::map<ServiceId, const VirtualServerConf*> m;
  for (const auto& vs : c.services) m.emplace(service_id(vs.key), &vs);
  return m;
}

std::map<DestId, const RealServerConf*> index_dests(const VirtualServerConf& vs) {
  std::map<DestId, const RealServerConf*> m;
  for (const auto& rs : vs.real_servers) m.emplace(DestId{rs.addr, rs.port}, &rs);
  return m;
}

core::DestSpec dest_spec(const RealServerConf& rs) {
  core::DestSpec d;
  d.addr = rs.addr;
  d.port = rs.port;
  d.fwd = rs.fwd;
  d.weight = rs.weight;
  d.u_threshold = rs.u_threshold;
  d.l_threshold = rs.l_threshold;
  return d;
}

bool same_settings(const RealServerConf& a, const RealServerConf& b) {
  return a.fwd == b.fwd && a.weight == b.weight && a.u_threshold == b.u_threshold &&
         a.l_threshold == b.l_threshold;
}

// What an edit of the service changes (keepalived's clear_diff_vs() compares the same).
bool same_service_settings(const VirtualServerConf& a, const VirtualServerConf& b) {
  return a.scheduler == b.scheduler && a.sched_flags == b.sched_flags &&
         a.persistence_timeout == b.persistence_timeout &&
         a.persistence_prefix == b.persistence_prefix;
}

Op service_op(Op::Kind kind, const VirtualServerConf& vs) {
  Op op{kind, {}, {}};
  op.service.key = vs.key;
  op.service.scheduler = vs.scheduler;
  op.service.sched_flags = vs.sched_flags;
  op.service.persistence_timeout = vs.persistence_timeout;
  op.service.persistence_prefix = vs.persistence_prefix;
  return op;
}

// "sh, sh-port, persistent 360, mask 255.255.255.0": the scheduler with its flags named as the
// scheduler knows them, and persistence as ipvsadm -L shows it.
std::string service_settings(const core::ServiceSpec& s) {
  std::string out = s.scheduler;
  const bool sh = s.scheduler == "sh", mh = s.scheduler == "mh";
  const struct {
    uint32_t bit;
    const char* name;
  } flags[] = {
      {sched::kSchedFlag1, sh   ? "sh-fallback"
                           : mh ? "mh-fallback"
                                : "flag-1"},
      {sched::kSchedFlag2, sh   ? "sh-port"
                           : mh ? "mh-port"
                                : "flag-2"},
      {sched::kSchedFlag3, "flag-3"},
  };
  for (const auto& f : flags) {
    if (s.sched_flags & f.bit) out += fmt::format(", {}", f.name);
  }
  if (!s.persistent()) return out;
  out += fmt::format(", persistent {}", s.persistence_timeout);
  const bool v6 = s.key.addr.is_v6();
  const unsigned prefix = s.persistence_prefix;
  if (v6 && prefix < 128) {
    out += fmt::format(", mask {}", prefix);
  } else if (!v6 && prefix < 32) {
    const uint32_t m = prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix);
    out += fmt::format(", mask {}", net::IpAddr::v4(m).to_string());
  }
  return out;
}

Op dest_op(Op::Kind kind, const VirtualServerConf& vs, const RealServerConf& rs) {
  Op op = service_op(kind, vs);
  op.dest = dest_spec(rs);
  return op;
}

}  // namespace

std::string Op::to_string() const {
  const std::string svc = service.key.to_string();
  const std::string rs = endpoint(dest.addr, dest.port);
  std::string settings = fmt::format("{}, weight {}", core::fwd_name(dest.fwd), dest.weight);
  if (dest.u_threshold != 0) settings += fmt::format(", uthreshold {}", dest.u_threshold);
  if (dest.l_threshold != 0) settings += fmt::format(", lthreshold {}", dest.l_threshold);
  switch (kind) {
    case Kind::kAddService:
      return fmt::format("add service {} ({})", svc, service_settings(service));
    case Kind::kEditService:
      return fmt::format("edit service {} ({})", svc, service_settings(service));
    case Kind::kDelService:
      return fmt::format("delete service {}", svc);
    case Kind::kAddDest:
      return fmt::format("add real server {} to {} ({})", rs, svc, settings);
    case Kind::kEditDest:
      return fmt::format("edit real server {} of {} ({})", rs, svc, settings);
    case Kind::kDelDest:
      return fmt::format("delete real server {} from {}", rs, svc);
  }
  return "?";
}

std::vector<Op> diff(const Config& from, const Config& to) {
  std::vector<Op> ops;
  const auto old_services = index_services(from);
  const auto new_services = index_services(to);
  for (const auto& vs : from.services) {
    if (!new_services.contains(service_id(vs.key)))
      ops.push_back(service_op(Op::Kind::kDelService, vs));
  }
  std::vector<std::pair<const VirtualServerConf*, const VirtualServerConf*>> kept;  // old, new
  for (const auto& vs : to.services) {
    const auto it = old_services.find(service_id(vs.key));
    if (it == old_services.end()) {
      ops.push_back(service_op(Op::Kind::kAddService, vs));
      for (const auto& rs : vs.real_servers) ops.push_back(dest_op(Op::Kind::kAddDest, vs, rs));
      continue;
    }
    const VirtualServerConf& old = *it->second;
    kept.emplace_back(&old, &vs);
    if (!same_service_settings(old, vs)) ops.push_back(service_op(Op::Kind::kEditService, vs));
    const auto old_dests = index_dests(old);
    for (const auto& rs : vs.real_servers) {
      const auto d = old_dests.find(DestId{rs.addr, rs.port});
      if (d == old_dests.end()) {
        ops.push_back(dest_op(Op::Kind::kAddDest, vs, rs));
      } else if (!same_settings(*d->second, rs)) {
        ops.push_back(dest_op(Op::Kind::kEditDest, vs, rs));
      }
    }
  }
  // Servers leave last, once their replacements are in.
  for (const auto& [old, vs] : kept) {
    const auto new_dests = index_dests(*vs);
    for (const auto& rs : old->real_servers) {
      if (!new_dests.contains(DestId{rs.addr, rs.port})) {
        ops.push_back(dest_op(Op::Kind::kDelDest, *vs, rs));
      }
    }
  }
  return ops;
}

core::Status apply(core::Engine& engine, const std::vector<Op>& ops) {
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    const core::ServiceKey& key = op.service.key;
    core::Status st;
    switch (op.kind) {
      case Op::Kind::kAddService:
        st = engine.add_service(op.service);
        break;
      case Op::Kind::kEditService:
        st = engine.edit_service(op.service);
        break;
      case Op::Kind::kDelService:
        st = engine.del_service(key);
        break;
      case Op::Kind::kAddDest:
        st = engine.add_dest(key, op.dest);
        break;
      case Op::Kind::kEditDest:
        st = engine.edit_dest(key, op.dest);
        break;
      case Op::Kind::kDelDest:
        st = engine.del_dest(key, op.dest.addr, op.dest.port);
        break;
    }
    if (!st.ok()) {
      return core::Status::error(fmt::format("operation {} of {} failed: {}: {}", i + 1, ops.size(),
                                             op.to_string(), st.message()));
    }
  }
  return {};
}

}  // namespace lvs::ctl
