// The desired state as engine operations: diff() and apply().
#include <fmt/format.h>

#include <algorithm>
#include <boost/unordered/unordered_flat_map.hpp>
#include <map>
#include <utility>

#include "ctl/config.h"
#include "ctl/format.h"
#include "ctl/quorum.h"
#include "ctl/service_id.h"
#include "sched/flags.h"

namespace lvs::ctl {

namespace {

using DestId = std::pair<net::IpAddr, uint16_t>;

using ServiceIndex =
    boost::unordered_flat_map<core::ServiceKey, const VirtualServerConf*, core::ServiceKeyHash>;

ServiceIndex index_services(const Config& c) {
  ServiceIndex m;
  m.reserve(c.services.size());
  for (const auto& vs : c.services) m.emplace(vs.key, &vs);
  return m;
}

// The servers the engine holds for `vs` (engine_servers()), without a copy in the common case
// where that is the configured list: no sorry server and every server alive.
const std::vector<RealServerConf>& held_servers(const VirtualServerConf& vs,
                                                std::vector<RealServerConf>& scratch) {
  const bool as_configured =
      !vs.sorry_server.has_value() &&
      std::all_of(vs.real_servers.begin(), vs.real_servers.end(), [](const RealServerConf& rs) {
        return rs.alive && rs.weight_delta == 0 && !rs.dynamic_weight;
      });
  if (as_configured) return vs.real_servers;
  scratch = engine_servers(vs);
  return scratch;
}

std::map<DestId, const RealServerConf*> index_dests(const std::vector<RealServerConf>& servers) {
  std::map<DestId, const RealServerConf*> m;
  for (const auto& rs : servers) m.emplace(DestId{rs.addr, rs.port}, &rs);
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
  d.tun_type = rs.tun_type;
  d.tun_port = rs.tun_port;
  d.tun_flags = rs.tun_flags;
  return d;
}

// Weight, method, tunnel and thresholds: everything an edit of the server changes.
bool same_settings(const RealServerConf& a, const RealServerConf& b) {
  return dest_spec(a) == dest_spec(b);
}

core::ServiceSpec service_spec(const VirtualServerConf& vs) {
  core::ServiceSpec s;
  s.key = vs.key;
  s.scheduler = vs.scheduler;
  s.sched_flags = vs.sched_flags;
  s.persistence_timeout = vs.persistence_timeout;
  s.persistence_prefix = vs.persistence_prefix;
  s.one_packet = vs.one_packet;
  s.local_addrs = vs.local_addrs;
  s.proxy_protocol = vs.proxy_protocol;
  return s;
}

// What an edit of the service changes: what keepalived's clear_diff_vs() compares, and ops,
// the local addresses and the PROXY protocol (service_spec()'s fields, compared in place).
bool same_service_settings(const VirtualServerConf& a, const VirtualServerConf& b) {
  return a.key == b.key && a.scheduler == b.scheduler && a.sched_flags == b.sched_flags &&
         a.persistence_timeout == b.persistence_timeout &&
         a.persistence_prefix == b.persistence_prefix && a.one_packet == b.one_packet &&
         a.local_addrs == b.local_addrs && a.proxy_protocol == b.proxy_protocol;
}

// The engine gives a service one family of local addresses and keeps a FULLNAT server only
// with local addresses of its family: a change of that family replaces the service.
bool laddr_family_changes(const VirtualServerConf& from, const VirtualServerConf& to) {
  return !from.local_addrs.empty() && !to.local_addrs.empty() &&
         from.local_addrs.front().family != to.local_addrs.front().family;
}

Op service_op(Op::Kind kind, const VirtualServerConf& vs) { return Op{kind, service_spec(vs), {}}; }

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
  if (s.one_packet) out += ", ops";
  if (s.persistent()) {
    out += fmt::format(", persistent {}", s.persistence_timeout);
    const bool v6 = s.key.addr.is_v6();
    const unsigned prefix = s.persistence_prefix;
    if (v6 && prefix < 128) {
      out += fmt::format(", mask {}", prefix);
    } else if (!v6 && prefix < 32) {
      const uint32_t m = prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix);
      out += fmt::format(", mask {}", net::IpAddr::v4(m).to_string());
    }
  }
  // A group may hold thousands: the first few name it well enough in a log line.
  constexpr size_t kShown = 4;
  const auto& la = s.local_addrs;
  for (size_t i = 0; i < la.size() && i < kShown; ++i) {
    out += fmt::format("{}{}", i == 0 ? ", local addresses " : " ", la[i].to_string());
  }
  if (la.size() > kShown) out += fmt::format(" and {} more", la.size() - kShown);
  if (s.proxy_protocol) out += ", proxy protocol v2";
  return out;
}

// "Masq", "Tunnel gue port 6080 csum": the method as ipvsadm names it, with the tunnel's options.
std::string method(const core::DestSpec& d) {
  std::string out(core::fwd_name(d.fwd));
  if (d.fwd != core::Fwd::kTun) return out;
  out += fmt::format(" {}", core::tun_type_name(d.tun_type));
  if (d.tun_port != 0) out += fmt::format(" port {}", d.tun_port);
  if (d.tun_flags & core::kTunFlagCsum) out += " csum";
  if (d.tun_flags & core::kTunFlagRemCsum) out += " remcsum";
  return out;
}

// The service by its key only (config.h): a copy of its local addresses per server is waste.
Op dest_op(Op::Kind kind, const VirtualServerConf& vs, const RealServerConf& rs) {
  Op op{kind, {}, dest_spec(rs)};
  op.service.key = vs.key;
  return op;
}

}  // namespace

std::string Op::to_string() const {
  const std::string svc = service.key.to_string();
  const std::string rs = endpoint(dest.addr, dest.port);
  std::string settings = fmt::format("{}, weight {}", method(dest), dest.weight);
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
  auto old_services = index_services(from);
  const auto new_services = index_services(to);
  for (const auto& vs : from.services) {
    const auto it = new_services.find(vs.key);
    if (it == new_services.end() || laddr_family_changes(vs, *it->second)) {
      ops.push_back(service_op(Op::Kind::kDelService, vs));
      old_services.erase(vs.key);  // added again below
    }
  }
  // Services in both states whose servers changed, with the servers the engine holds for each.
  struct Kept {
    const VirtualServerConf* vs;
    std::vector<RealServerConf> old_servers, servers;
  };
  std::vector<Kept> kept;
  std::vector<const VirtualServerConf*> late_edits;
  std::vector<RealServerConf> scratch, old_scratch;
  for (const auto& vs : to.services) {
    const auto it = old_services.find(vs.key);
    if (it == old_services.end()) {
      ops.push_back(service_op(Op::Kind::kAddService, vs));
      for (const auto& rs : held_servers(vs, scratch)) {
        ops.push_back(dest_op(Op::Kind::kAddDest, vs, rs));
      }
      continue;
    }
    const VirtualServerConf& old = *it->second;
    // Written alike and untouched by health: nothing to compare (a 1% reload of 10,000 services
    // skips 9,900 of them here). The local addresses come from a group outside the block.
    if (vs.source_hash != 0 && vs.source_hash == old.source_hash && !vs.health_touched &&
        !old.health_touched && vs.local_addrs == old.local_addrs) {
#ifndef NDEBUG
      // Debug and sanitizer builds check the contract: whoever changes health says so.
      std::vector<RealServerConf> a, b;
      const auto& x = held_servers(vs, a);
      const auto& y = held_servers(old, b);
      const bool same =
          x.size() == y.size() &&
          std::equal(x.begin(), x.end(), y.begin(),
                     [](const RealServerConf& p, const RealServerConf& q) {
                       return p.addr == q.addr && p.port == q.port && same_settings(p, q);
                     }) &&
          same_service_settings(old, vs);
      if (!same) std::abort();
#endif
      continue;
    }
    // What the engine holds is the real servers as quorum and the sorry server leave them.
    const std::vector<RealServerConf>& servers = held_servers(vs, scratch);
    const std::vector<RealServerConf>& old_servers = held_servers(old, old_scratch);
    if (!same_service_settings(old, vs)) {
      // Without local addresses the engine keeps no FULLNAT server: the edit that drops them
      // waits until those servers have changed method or gone.
      if (!old.local_addrs.empty() && vs.local_addrs.empty()) {
        late_edits.push_back(&vs);
      } else {
        ops.push_back(service_op(Op::Kind::kEditService, vs));
      }
    }
    // Usually the same servers in the same order: compared in step, no index needed.
    const bool in_step = old_servers.size() == servers.size() &&
                         std::equal(servers.begin(), servers.end(), old_servers.begin(),
                                    [](const RealServerConf& a, const RealServerConf& b) {
                                      return a.addr == b.addr && a.port == b.port;
                                    });
    if (in_step) {
      for (size_t i = 0; i < servers.size(); ++i) {
        if (!same_settings(old_servers[i], servers[i])) {
          ops.push_back(dest_op(Op::Kind::kEditDest, vs, servers[i]));
        }
      }
      continue;  // nothing leaves
    }
    const auto old_dests = index_dests(old_servers);
    for (const auto& rs : servers) {
      const auto d = old_dests.find(DestId{rs.addr, rs.port});
      if (d == old_dests.end()) {
        ops.push_back(dest_op(Op::Kind::kAddDest, vs, rs));
      } else if (!same_settings(*d->second, rs)) {
        ops.push_back(dest_op(Op::Kind::kEditDest, vs, rs));
      }
    }
    kept.push_back(Kept{&vs, old_servers, servers});
  }
  // Servers leave last, once their replacements are in.
  for (const Kept& k : kept) {
    const auto new_dests = index_dests(k.servers);
    for (const auto& rs : k.old_servers) {
      if (!new_dests.contains(DestId{rs.addr, rs.port})) {
        ops.push_back(dest_op(Op::Kind::kDelDest, *k.vs, rs));
      }
    }
  }
  for (const VirtualServerConf* vs : late_edits) {
    ops.push_back(service_op(Op::Kind::kEditService, *vs));
  }
  return ops;
}

std::vector<Op> diff_servers(const VirtualServerConf& from, const VirtualServerConf& to) {
  std::vector<Op> ops;
  std::vector<RealServerConf> scratch, old_scratch;
  const std::vector<RealServerConf>& servers = held_servers(to, scratch);
  const std::vector<RealServerConf>& old_servers = held_servers(from, old_scratch);
  const auto old_dests = index_dests(old_servers);
  const auto new_dests = index_dests(servers);
  for (const auto& rs : servers) {
    const auto d = old_dests.find(DestId{rs.addr, rs.port});
    if (d == old_dests.end()) {
      ops.push_back(dest_op(Op::Kind::kAddDest, to, rs));
    } else if (!same_settings(*d->second, rs)) {
      ops.push_back(dest_op(Op::Kind::kEditDest, to, rs));
    }
  }
  for (const auto& rs : old_servers) {
    if (!new_dests.contains(DestId{rs.addr, rs.port})) {
      ops.push_back(dest_op(Op::Kind::kDelDest, to, rs));
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
