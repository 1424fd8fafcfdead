#include "daemon/director.h"

#include <fmt/format.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "ctl/api_ops.h"
#include "ctl/quorum.h"
#include "daemon/metrics.h"
#include "io/af_packet_io.h"
#include "io/af_xdp_io.h"
#include "io/ifaces.h"
#include "io/nft_marks.h"
#include "io/null_io.h"

namespace lvs::daemon {

namespace {

struct IpHash {
  size_t operator()(const net::IpAddr& a) const {
    return core::BackendHash{}(core::BackendEndpoint{0, a, 0});
  }
};

// Every address of this host's interfaces (its network namespace), as the kernel has them now.
std::vector<net::IpAddr> host_addresses() {
  std::vector<net::IpAddr> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    if (i->ifa_addr->sa_family == AF_INET) {
      out.push_back(net::IpAddr::v4(reinterpret_cast<const uint8_t*>(
          &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr)));
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      out.push_back(net::IpAddr::v6(reinterpret_cast<const uint8_t*>(
          &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr)));
    }
  }
  freeifaddrs(list);
  return out;
}

uint64_t random_u64() {
  uint64_t v = 0;
  if (getrandom(&v, sizeof(v), 0) != sizeof(v)) v = uint64_t(time(nullptr)) * 0x9e3779b97f4a7c15ull;
  return v;
}

std::vector<std::string> interface_names(const ctl::Config& cfg, const DirectorOptions& opts) {
  std::vector<std::string> names;
  for (const auto& list : {cfg.director.interfaces, opts.extra_interfaces}) {
    for (const auto& n : list) {
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
  }
  return names;
}

nlohmann::json counters_json(const core::Counters& c) {
  return {{"conns", c.conns},
          {"inpkts", c.inpkts},
          {"outpkts", c.outpkts},
          {"inbytes", c.inbytes},
          {"outbytes", c.outbytes}};
}

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

std::string locate_bpf_dir(const std::string& install_dir) {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  if (const char* env = getenv("LVS_BPF_DIR")) candidates.emplace_back(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path().parent_path() / "bpf");
  if (!install_dir.empty()) candidates.emplace_back(install_dir);
  for (const auto& c : candidates) {
    if (fs::exists(c / "lvs_xdp.bpf.o", ec)) return c.string();
  }
  return {};
}

Director::Director(DirectorOptions opts) : opts_(std::move(opts)) {
  neigh_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

Director::~Director() {
  stop();
  if (neigh_fd_ >= 0) ::close(neigh_fd_);
}

void Director::block_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

bool Director::start(const ctl::Config& given, std::string* err) {
  start_time_ = std::chrono::steady_clock::now();
  // Servers whose checkers start them dead (alpha) are not in the first table either.
  ctl::Config cfg = given;
  overlay_health(cfg);
  const auto names = interface_names(cfg, opts_);
  if (names.empty()) return start_control_only(cfg, err);
  if (names.size() > LVS_MAX_IFACES) {
    *err = "at most " + std::to_string(LVS_MAX_IFACES) + " interfaces can be attached";
    return false;
  }
  netlink_ = io::Netlink::open(err);
  if (!netlink_) return false;
  uint32_t max_queues = 1;
  for (const auto& n : names) {
    const uint32_t idx = io::ifindex_of(n);
    if (idx == 0) {
      *err = "no interface named " + n;
      return false;
    }
    const uint32_t q = io::rx_queue_count(n);
    if (q > LVS_MAX_QUEUES) {
      *err = n + " has " + std::to_string(q) + " queues; lvsd drives at most " +
             std::to_string(LVS_MAX_QUEUES);
      return false;
    }
    attached_.push_back({n, idx, q});
    max_queues = std::max(max_queues, q);
  }
  const bool xdp = cfg.director.io == ctl::IoBackend::kAfXdp;
  uint32_t workers = cfg.director.workers ? cfg.director.workers : max_queues;
  if (xdp && workers > max_queues) {
    spdlog::warn("workers {} > {} queues: AF_XDP needs a queue per worker, using {}", workers,
                 max_queues, max_queues);
    workers = max_queues;
  }

  // The classifier first: without it no socket can receive.
  if (opts_.bpf_dir.empty()) {
    *err =
        "BPF objects not found (looked in $LVS_BPF_DIR, next to lvsd, and the install "
        "directory); set LVS_BPF_DIR";
    return false;
  }
  if (xdp) {
    xdp_ = io::XdpProgram::open(opts_.bpf_dir + "/lvs_xdp.bpf.o", err);
    if (!xdp_) return false;
    const auto mode = cfg.director.xdp_mode == ctl::XdpMode::kNative ? io::XdpAttachMode::kNative
                      : cfg.director.xdp_mode == ctl::XdpMode::kSkb  ? io::XdpAttachMode::kSkb
                                                                     : io::XdpAttachMode::kAuto;
    for (uint32_t slot = 0; slot < attached_.size(); ++slot) {
      const Attached& a = attached_[slot];
      if (!xdp_->set_iface_slot(a.ifindex, slot, err)) return false;
      if (!xdp_->attach(a.ifindex, a.name, mode, err)) {
        *err += "; `io af_packet` in the director block runs without XDP";
        xdp_.reset();  // detaches the interfaces done so far
        return false;
      }
      spdlog::info("attached XDP to {} ({} mode, {} queue{})", a.name,
                   xdp_->attached_mode(a.ifindex), a.queues, a.queues == 1 ? "" : "s");
    }
  } else {
    steal_ = io::StealProgram::open(opts_.bpf_dir + "/lvs_steal.bpf.o", err);
    if (!steal_) return false;
    for (const Attached& a : attached_) {
      if (!steal_->attach_tc(a.ifindex, a.name, err)) {
        steal_.reset();
        return false;
      }
      spdlog::info("attached AF_PACKET and tc ingress to {}", a.name);
    }
  }

  mesh_ = std::make_unique<Mesh>(uint16_t(workers));
  const uint64_t steer_seed = random_u64();
  const uint16_t fanout_base = uint16_t(random_u64());
  std::vector<Worker*> raw;
  for (uint32_t w = 0; w < workers; ++w) {
    std::unique_ptr<io::PacketIo> pio;
    if (xdp) {
      std::vector<io::XskBinding> bindings;
      for (uint32_t slot = 0; slot < attached_.size(); ++slot) {
        for (uint32_t q = w; q < attached_[slot].queues; q += workers) {
          bindings.push_back({attached_[slot].ifindex, attached_[slot].name, q, slot});
        }
      }
      pio = io::AfXdpIo::create(bindings, io::AfXdpOptions{}, *xdp_, err);
    } else {
      std::vector<io::PacketBinding> bindings;
      for (const Attached& a : attached_) bindings.push_back({a.ifindex, a.name});
      io::AfPacketOptions po;
      po.worker_index = uint16_t(w);
      po.worker_count = uint16_t(workers);
      po.fanout_base = fanout_base;
      pio = io::AfPacketIo::create(bindings, po, *steal_, err);
    }
    if (!pio) {
      workers_.clear();
      xdp_.reset();
      steal_.reset();
      return false;
    }
    core::EngineConfig ec;
    ec.conn_capacity = (cfg.director.conn_capacity + workers - 1) / workers;
    ec.hash_seed = random_u64();
    ec.worker_index = uint16_t(w);
    ec.worker_count = uint16_t(workers);
    ec.steer_seed = steer_seed;
    ec.expire_nodest_conn = cfg.director.expire_nodest_conn;
    ec.ftp_ports = cfg.director.ftp_ports;
    workers_.push_back(std::make_unique<Worker>(uint16_t(w), std::move(pio), ec, *mesh_, *this,
                                                cfg.director.worker_rt_priority));
    raw.push_back(workers_.back().get());
  }
  mesh_->set_workers(raw);

  // Services, routes and the classifier before the first packet is taken.
  if (!apply_services(ctl::Config{}, cfg, err)) {
    workers_.clear();
    xdp_.reset();
    steal_.reset();
    return false;
  }
  cfg_ = cfg;
  publish_routes();
  refresh_marks();
  if (!sync_classifier(err)) {
    workers_.clear();
    xdp_.reset();
    steal_.reset();
    return false;
  }
  for (auto& w : workers_) w->start();
  resolve_next_hops(true);
  start_health();
  update_monitor();
  if (!start_api(err)) {
    stop();
    return false;
  }
  spdlog::info("lvsd forwarding: {} service{}, {} worker{}, {} backend; ready in {:.1f} ms",
               cfg.services.size(), cfg.services.size() == 1 ? "" : "s", workers,
               workers == 1 ? "" : "s", xdp ? "af_xdp" : "af_packet", ms_since(start_time_));
  write_stats_file();
  return true;
}

bool Director::start_api(std::string* err) {
  if (opts_.api_socket.empty() && opts_.api_listen.empty()) return true;
  if (!api_.start(
          opts_.api_socket, opts_.api_listen, [this](const ApiRequest& r) { return handle_api(r); },
          err)) {
    return false;
  }
  if (!opts_.api_listen.empty()) spdlog::info("API (read-only) on tcp {}", opts_.api_listen);
  return true;
}

// No interface: one worker whose engine holds the services and answers the API, and no packet
// path at all (no classifier, no sockets, no neighbour resolution: nothing leaves the host).
bool Director::start_control_only(const ctl::Config& cfg, std::string* err) {
  control_only_ = true;
  netlink_ = io::Netlink::open(err);
  if (!netlink_) return false;
  mesh_ = std::make_unique<Mesh>(uint16_t(1));
  core::EngineConfig ec;
  ec.conn_capacity = 1024;  // no packet ever arrives: no connection table worth the name
  ec.hash_seed = random_u64();
  ec.steer_seed = random_u64();
  ec.expire_nodest_conn = cfg.director.expire_nodest_conn;
  ec.ftp_ports = cfg.director.ftp_ports;
  workers_.push_back(
      std::make_unique<Worker>(uint16_t(0), std::make_unique<io::NullIo>(), ec, *mesh_, *this, 0));
  mesh_->set_workers({workers_.back().get()});
  if (!apply_services(ctl::Config{}, cfg, err)) {
    workers_.clear();
    return false;
  }
  cfg_ = cfg;
  workers_.back()->start();
  start_health();
  update_monitor();
  if (!start_api(err)) {
    stop();
    return false;
  }
  spdlog::info(
      "lvsd control plane only (no interface attached): {} service{}, API on {}; ready "
      "in {:.1f} ms",
      cfg.services.size(), cfg.services.size() == 1 ? "" : "s",
      opts_.api_socket.empty() ? "nothing" : opts_.api_socket, ms_since(start_time_));
  write_stats_file();
  return true;
}

void Director::for_each_worker(const Worker::Command& cmd) {
  for (auto& w : workers_) {
    if (!w->call(cmd)) spdlog::error("worker {} did not answer within 5 s", w->index());
  }
}

bool Director::apply_services(const ctl::Config& from, const ctl::Config& to, std::string* err,
                              const std::vector<ctl::Op>* planned) {
  const std::vector<ctl::Op> ops = planned != nullptr ? *planned : ctl::diff(from, to);
  bool ok = true;
  for_each_worker([&](core::Engine& e, io::PacketIo&) {
    e.set_timeouts(to.timeouts);
    e.set_expire_nodest_conn(to.director.expire_nodest_conn);
    const core::Status st = ctl::apply(e, ops);
    if (!st.ok() && ok) {
      ok = false;
      *err = st.message();
    }
  });
  for (const auto& op : ops) spdlog::debug("applied {}", op.to_string());
  return ok;
}

// Re-reads the nftables ruleset when fwmark services exist and hands the engines what their
// marking rules would set. True when the rules changed (the classifier must follow).
bool Director::refresh_marks() {
  if (control_only_) return true;
  std::vector<core::MarkRule> rules;
  std::vector<std::string> warnings;
  bool any_fwmark = false;
  for (const auto& vs : cfg_.services) any_fwmark |= vs.key.fwmark != 0;
  if (any_fwmark) {
    std::string err;
    const std::optional<io::MarkRules> got = io::read_nft_marks(&err);
    if (!got) {
      warnings.push_back("cannot read the nftables ruleset for fwmark services: " + err);
    } else {
      warnings = got->warnings;
      for (const io::MarkEntry& m : got->entries) {
        // Entries for one input interface would apply on every interface here: left out.
        if (!m.iif.empty()) {
          if (m.mark != 0) {
            warnings.push_back(
                fmt::format("fwmark {}: the mark for {} port {} is set on interface {} only; lvsd "
                            "leaves it out",
                            m.mark, m.addr.to_string(), m.port, m.iif));
          }
          continue;
        }
        bool served = false;
        for (const auto& vs : cfg_.services) {
          served |= vs.key.fwmark == m.mark && vs.key.addr.family == m.addr.family;
        }
        if (!served) continue;
        // An every-port entry with exceptions (ports the rules leave unmarked) would take the
        // exceptions too: conservatively left out.
        bool excepted = false;
        if (m.port == 0) {
          for (const io::MarkEntry& x : got->entries) {
            excepted |= x.mark == 0 && x.iif.empty() && x.addr == m.addr && x.proto == m.proto;
          }
        }
        if (excepted) {
          warnings.push_back(fmt::format(
              "fwmark {}: every port of {} but some: lvsd only serves marks that cover whole "
              "ports lists or all ports; left out",
              m.mark, m.addr.to_string()));
          continue;
        }
        rules.push_back(core::MarkRule{m.addr, m.proto, m.port, m.mark});
      }
    }
  }
  if (warnings != mark_warnings_) {
    for (const std::string& w : warnings) spdlog::warn("{}", w);
    mark_warnings_ = warnings;
  }
  if (rules == marks_) return false;
  spdlog::info("fwmark services: {} marked endpoints from the nftables ruleset", rules.size());
  marks_ = std::move(rules);
  for_each_worker([&](core::Engine& e, io::PacketIo&) { e.set_mark_rules(marks_); });
  return true;
}

bool Director::sync_classifier(std::string* err, const ctl::Config* also) {
  if (!xdp_ && !steal_) return true;  // control plane only
  std::vector<lvs_endpoint> services;
  std::vector<const ctl::VirtualServerConf*> all;
  for (const auto& vs : cfg_.services) all.push_back(&vs);
  if (also != nullptr) {
    for (const auto& vs : also->services) all.push_back(&vs);
  }
  for (const ctl::VirtualServerConf* vsp : all) {
    const ctl::VirtualServerConf& vs = *vsp;
    if (vs.key.fwmark != 0) continue;  // reached through the marked endpoints below
    services.push_back(io::make_endpoint(vs.key.proto, vs.key.addr, vs.key.port));
    // Active FTP: clients answer the server's connection from the port below.
    const auto& ports = cfg_.director.ftp_ports;
    if (vs.key.proto == net::kProtoTcp && vs.key.port > 1 &&
        std::find(ports.begin(), ports.end(), vs.key.port) != ports.end()) {
      services.push_back(io::make_endpoint(vs.key.proto, vs.key.addr, uint16_t(vs.key.port - 1)));
    }
  }
  for (const core::MarkRule& m : marks_) {
    services.push_back(io::make_endpoint(m.proto, m.addr, m.port));
  }
  std::vector<core::BackendEndpoint> backends;
  boost::unordered_flat_set<core::BackendEndpoint, core::BackendHash> seen_backends;
  boost::unordered_flat_set<core::FtpEndpoint, core::FtpHash> ftp_live;
  for_each_worker([&](core::Engine& e, io::PacketIo&) {
    for (const auto& b : e.nat_backends()) {
      if (seen_backends.insert(b).second) backends.push_back(b);
    }
    for (const auto& f : e.ftp_endpoints()) ftp_live.insert(f);
  });
  // During a change, the NAT servers the engines are about to get: their first reply must not
  // reach the kernel before the next sync.
  if (also != nullptr) {
    for (const auto& vs : also->services) {
      for (const auto& rs : ctl::engine_servers(vs)) {
        if (rs.fwd != core::Fwd::kNat && rs.fwd != core::Fwd::kFullNat) continue;
        const core::BackendEndpoint b{vs.key.fwmark != 0 ? uint8_t(0) : vs.key.proto, rs.addr,
                                      rs.port};
        if (seen_backends.insert(b).second) backends.push_back(b);
      }
    }
  }
  // The director's own addresses: a real server's packet to one of them answers the kernel (a
  // health check), not a client. FULLNAT's local addresses stay lvsd's.
  std::vector<lvs_endpoint> locals;
  {
    boost::unordered_flat_set<net::IpAddr, IpHash> laddrs;
    for (const ctl::VirtualServerConf* vs : all)
      laddrs.insert(vs->local_addrs.begin(), vs->local_addrs.end());
    for (const net::IpAddr& a : host_addresses()) {
      if (!laddrs.contains(a)) locals.push_back(io::make_endpoint(0, a, 0));
    }
  }
  std::vector<lvs_endpoint> be;
  for (const auto& b : backends) {
    for (uint8_t proto : {uint8_t(6), uint8_t(17), uint8_t(132)}) {
      if (b.proto == 0 || b.proto == proto) be.push_back(io::make_endpoint(proto, b.addr, b.port));
    }
  }
  uint32_t flags = 0;
  for (const ctl::VirtualServerConf* vs : all) {
    if (vs->key.fwmark == 0 && vs->key.port == 0) flags |= LVS_CFG_PORT0_SERVICES;
  }
  for (const core::MarkRule& m : marks_) {
    if (m.port == 0) flags |= LVS_CFG_PORT0_SERVICES;
  }
  for (const auto& b : backends) {
    if (b.port == 0) flags |= LVS_CFG_PORT0_BACKENDS;
  }
  const int sfd = xdp_ ? xdp_->services_fd() : steal_->services_fd();
  const int bfd = xdp_ ? xdp_->backends_fd() : steal_->backends_fd();
  const int cfd = xdp_ ? xdp_->config_fd() : steal_->config_fd();
  // Passive FTP endpoints stay while an engine uses them and a grace period after (a worker may
  // have added one after its engine was asked).
  std::lock_guard lock(ftp_mu_);
  const auto now = std::chrono::steady_clock::now();
  for (auto& [ep, seen] : ftp_dyn_) {
    if (ftp_live.contains(ep)) seen = now;
  }
  boost::unordered::erase_if(
      ftp_dyn_, [&](const auto& d) { return now - d.second > std::chrono::seconds(10); });
  for (const auto& [ep, seen] : ftp_dyn_) {
    services.push_back(io::make_endpoint(net::kProtoTcp, ep.vaddr, ep.vport));
    be.push_back(io::make_endpoint(net::kProtoTcp, ep.daddr, ep.dport));
  }
  // Flags first when entries are added (the wildcard lookups then find them), entries first
  // when they go: in between, traffic is only ever classified more generously.
  std::string e = io::set_config(cfd, flags | LVS_CFG_PORT0_SERVICES | LVS_CFG_PORT0_BACKENDS);
  if (e.empty()) e = io::sync_endpoints(sfd, services);
  if (e.empty()) e = io::sync_endpoints(xdp_ ? xdp_->locals_fd() : steal_->locals_fd(), locals);
  if (e.empty()) e = io::sync_endpoints(bfd, be);
  if (e.empty()) e = io::set_config(cfd, flags);
  if (!e.empty()) {
    *err = e;
    return false;
  }
  return true;
}

// A worker's engine rewrote a 227/229 reply: the client's connection to vaddr:vport and the
// server's packets from daddr:dport must reach lvsd before the reply leaves.
void Director::ftp_data(const core::FtpDataRequest& r) {
  const core::FtpEndpoint ep{r.expect.vaddr, r.expect.vport, r.expect.daddr, r.expect.dport};
  std::lock_guard lock(ftp_mu_);
  const auto now = std::chrono::steady_clock::now();
  const auto it = ftp_dyn_.find(ep);
  if (it != ftp_dyn_.end()) {
    it->second = now;
    return;
  }
  const int sfd = xdp_ ? xdp_->services_fd() : steal_->services_fd();
  const int bfd = xdp_ ? xdp_->backends_fd() : steal_->backends_fd();
  std::string e = io::add_endpoint(sfd, io::make_endpoint(net::kProtoTcp, ep.vaddr, ep.vport));
  if (e.empty()) e = io::add_endpoint(bfd, io::make_endpoint(net::kProtoTcp, ep.daddr, ep.dport));
  if (!e.empty()) {
    spdlog::warn("FTP data {}:{}: {}", ep.vaddr.to_string(), ep.vport, e);
    return;
  }
  ftp_dyn_.emplace(ep, now);
}

void Director::publish_routes() {
  std::vector<uint32_t> idx;
  for (const Attached& a : attached_) idx.push_back(a.ifindex);
  routes_ = netlink_->snapshot(idx);
  for (auto& w : workers_) w->set_routes(routes_);
}

void Director::request(const core::NeighRequest& r) {
  {
    std::lock_guard lock(neigh_mu_);
    neigh_pending_.push_back(r);
  }
  const uint64_t one = 1;
  if (write(neigh_fd_, &one, sizeof(one)) < 0) {
    // Saturated counter: the control loop is being woken anyway.
  }
}

void Director::handle_neigh_requests() {
  uint64_t v;
  while (read(neigh_fd_, &v, sizeof(v)) > 0) {
  }
  std::vector<core::NeighRequest> reqs;
  {
    std::lock_guard lock(neigh_mu_);
    reqs.swap(neigh_pending_);
  }
  const auto now = std::chrono::steady_clock::now();
  for (const auto& r : reqs) {
    auto& last = neigh_last_[{r.ifindex, r.addr}];
    if (now - last < std::chrono::seconds(1)) continue;  // one request per second and address
    last = now;
    std::string err;
    if (netlink_->request_resolution(r.ifindex, r.addr, &err)) {
      spdlog::debug("resolving {} on ifindex {}", r.addr.to_string(), r.ifindex);
    } else {
      spdlog::warn("{}", err);
    }
  }
}

// Real servers' next hops, and the gateways of routes through attached interfaces, are asked
// for ahead of traffic; with `all`, also those already resolved, which keeps them fresh (lvsd's
// packets bypass the kernel, so the kernel never confirms them itself).
void Director::resolve_next_hops(bool all) {
  if (!routes_ || control_only_) return;
  std::set<std::pair<uint32_t, net::IpAddr>> hops;
  for (const auto& vs : cfg_.services) {
    for (const auto& rs : ctl::engine_servers(vs)) {  // the sorry server when it stands in
      const core::RouteResult r = routes_->lookup(rs.addr, rs.fwd == core::Fwd::kDr);
      if (r.status == core::RouteStatus::kNoNeighbour ||
          (all && r.status == core::RouteStatus::kOk)) {
        hops.insert({r.resolve_ifindex, r.resolve});
      }
    }
  }
  for (const core::Route& rt : routes_->routes()) {
    if (rt.gateway.family == net::Family::kNone) continue;
    const core::RouteResult r = routes_->lookup(rt.gateway, true);
    if (r.status == core::RouteStatus::kNoNeighbour ||
        (all && r.status == core::RouteStatus::kOk)) {
      hops.insert({r.resolve_ifindex, r.resolve});
    }
  }
  for (const auto& [ifindex, addr] : hops) {
    std::string err;
    if (netlink_->request_resolution(ifindex, addr, &err)) {
      spdlog::debug("asked the kernel to resolve {} (ifindex {})", addr.to_string(), ifindex);
    } else {
      spdlog::debug("{}", err);
    }
  }
}

bool Director::reload(std::string* err) {
  const auto t0 = std::chrono::steady_clock::now();
  // The running services read from the same bytes are copied, not parsed again.
  ctl::ParseResult pr = ctl::parse_config_file(opts_.config_path, &cfg_);
  const double parse_ms = ms_since(t0);
  for (const auto& d : pr.diagnostics) {
    if (d.warning) spdlog::warn("{}", d.to_string());
  }
  if (!pr.ok()) {
    *err = "configuration not reloaded, the running one stays:";
    for (const auto& d : pr.diagnostics) {
      if (!d.warning) *err += "\n  " + d.to_string();
    }
    return false;
  }
  ctl::Config next = std::move(*pr.config);
  const size_t reused = pr.reused;
  const size_t services = next.services.size();
  const auto& a = cfg_.director;
  const auto& b = next.director;
  if (a.interfaces != b.interfaces || a.io != b.io || a.xdp_mode != b.xdp_mode ||
      a.workers != b.workers || a.conn_capacity != b.conn_capacity ||
      a.worker_rt_priority != b.worker_rt_priority || a.ftp_ports != b.ftp_ports) {
    spdlog::warn(
        "changes to interfaces, io, xdp_mode, workers, conn_capacity, "
        "worker_rt_priority or ftp_ports take effect when lvsd restarts");
  }
  next.director.interfaces = a.interfaces;
  next.director.io = a.io;
  next.director.xdp_mode = a.xdp_mode;
  next.director.workers = a.workers;
  next.director.conn_capacity = a.conn_capacity;
  next.director.worker_rt_priority = a.worker_rt_priority;
  next.director.ftp_ports = a.ftp_ports;
  overlay_health(next);
  const auto tc = std::chrono::steady_clock::now();
  const std::vector<ctl::Op> ops = ctl::diff(cfg_, next);
  const size_t nops = ops.size();
  const double compare_ms = ms_since(tc);
  const auto t1 = std::chrono::steady_clock::now();
  // Whatever an engine would refuse is found before any engine changes: all or nothing.
  if (std::string why = validate_changes(next, ops); !why.empty()) {
    *err = "configuration not reloaded, the running one stays: " + why;
    return false;
  }
  if (!apply_config(std::move(next), err, &ops)) return false;
  spdlog::info(
      "configuration reloaded: {} change{} in {:.1f} ms (reading {:.1f} ms, {} of {} services "
      "as before; comparing {:.1f} ms, applying {:.1f} ms)",
      nops, nops == 1 ? "" : "s", ms_since(t0), parse_ms, reused, services, compare_ms,
      ms_since(t1));
  return true;
}

// What an engine refuses in `next`, tried on a scratch engine from an empty table: a change is
// applied whole or not at all.
std::string Director::validate(const ctl::Config& next) const {
  core::EngineConfig ec;
  ec.conn_capacity = 16;
  ec.ftp_ports = cfg_.director.ftp_ports;
  core::Engine scratch(ec);
  const core::Status st = ctl::apply(scratch, ctl::diff(ctl::Config{}, next));
  return st.ok() ? std::string() : st.message();
}

// validate() for the services `ops` add or change, alone: what an engine refuses lies in a
// service's own settings, so a 1% reload checks 1% of the table.
std::string Director::validate_changes(const ctl::Config& next,
                                       const std::vector<ctl::Op>& ops) const {
  boost::unordered_flat_set<core::ServiceKey, core::ServiceKeyHash> touched;
  for (const ctl::Op& op : ops) {
    if (op.kind != ctl::Op::Kind::kDelService && op.kind != ctl::Op::Kind::kDelDest) {
      touched.insert(op.service.key);
    }
  }
  if (touched.empty()) return {};
  ctl::Config part;  // the services alone matter to an engine; no copy of the whole table
  part.timeouts = next.timeouts;
  part.director = next.director;
  for (const auto& vs : next.services) {
    if (touched.contains(vs.key)) part.services.push_back(vs);
  }
  return validate(part);
}

// Makes `next` the running configuration: the classifier learns new services first, the
// engines get the difference, then the classifier forgets what went.
bool Director::apply_config(ctl::Config next, std::string* err, const std::vector<ctl::Op>* ops) {
  // Classify the new services' traffic before the engines know them: such packets are then
  // dropped as "no service" for a moment rather than answered by the kernel.
  sync_classifier(err, &next);
  if (!apply_services(cfg_, next, err, ops)) return false;
  retire(std::exchange(cfg_, std::move(next)));
  refresh_marks();
  update_monitor();
  if (!sync_classifier(err)) return false;
  resolve_next_hops(false);
  return true;
}

std::vector<core::ServiceSnapshot> Director::merged_snapshot(core::EngineCounters* total,
                                                             io::IoCounters* io_total,
                                                             uint64_t* conns) {
  std::vector<core::ServiceSnapshot> merged;
  for_each_worker([&](core::Engine& e, io::PacketIo& io) {
    if (total != nullptr) *total += e.counters();
    if (io_total != nullptr) *io_total += io.counters();
    if (conns != nullptr) *conns += e.conns().size();
    merge_snapshot(merged, e.snapshot());
  });
  return merged;
}

nlohmann::json Director::globals_object(std::vector<core::ServiceSnapshot>* services_out) {
  core::EngineCounters total;
  io::IoCounters io_total;
  uint64_t conns = 0;
  std::vector<core::ServiceSnapshot> merged = merged_snapshot(&total, &io_total, &conns);
  nlohmann::json j;
  j["total"] = counters_json(total.total);
  j["rx_packets"] = total.rx_packets;
  j["tx_packets"] = total.tx_packets;
  j["steered"] = total.steered;
  j["icmp_sent"] = total.icmp_sent;
  j["conns"] = conns;
  j["conns_expired"] = total.conns_expired;
  j["nat_tuple"] = {{"moved", total.nat_tuple_moved}, {"shared", total.nat_tuple_shared}};
  nlohmann::json drops = nlohmann::json::object();
  for (size_t i = 1; i < total.drops.size(); ++i) {
    drops[std::string(core::drop_reason_name(core::DropReason(i)))] = total.drops[i];
  }
  j["drops"] = drops;
  j["workers"] = workers_.size();
  uint64_t ring_full = 0, steered_in = 0, ftp_handed_on = 0;
  for (const auto& w : workers_) {
    ring_full += w->counters().steer_ring_full;
    steered_in += w->counters().steered_in;
    io_total.sleeps += w->counters().sleeps;
    ftp_handed_on += w->counters().ftp_handed_on;
  }
  size_t ftp_classified = 0;
  {
    std::lock_guard lock(ftp_mu_);
    ftp_classified = ftp_dyn_.size();
  }
  const core::FtpCounters& f = total.ftp;
  j["ftp"] = {{"control", f.control},         {"untracked", f.untracked},
              {"passive", f.passive},         {"active", f.active},
              {"data_conns", f.data_conns},   {"malformed", f.malformed},
              {"expect_full", f.expect_full}, {"requests_lost", f.requests_lost},
              {"handed_on", ftp_handed_on},   {"classified_endpoints", ftp_classified}};
  j["io"] = {{"rx_frames", io_total.rx_frames},       {"tx_frames", io_total.tx_frames},
             {"tx_ring_full", io_total.tx_ring_full}, {"tx_no_socket", io_total.tx_no_socket},
             {"alloc_failed", io_total.alloc_failed}, {"tx_errors", io_total.tx_errors},
             {"rx_dropped", io_total.rx_dropped},     {"rx_ring_full", io_total.rx_ring_full},
             {"fill_empty", io_total.fill_empty},     {"steered_in", steered_in},
             {"steer_ring_full", ring_full}};
  // How the workers spend idle time: moves with time, not traffic.
  j["worker"] = {{"sleeps", io_total.sleeps}};
  const int stats_fd = xdp_ ? xdp_->stats_fd() : steal_ ? steal_->stats_fd() : -1;
  if (stats_fd >= 0) {
    const auto st = io::read_stats(stats_fd);
    j["classifier"] = {{"rx", st[LVS_STAT_RX]},
                       {"service", st[LVS_STAT_SERVICE]},
                       {"backend", st[LVS_STAT_BACKEND]},
                       {"pass", st[LVS_STAT_PASS]},
                       {"no_socket", st[LVS_STAT_NO_SOCKET]}};
  }
  j["conn_capacity"] = cfg_.director.conn_capacity;
  j["timeouts"] = {{"tcp", cfg_.timeouts.tcp[core::kTcpEstablished]},
                   {"tcp_fin", cfg_.timeouts.tcp[core::kTcpFinWait]},
                   {"udp", cfg_.timeouts.udp}};
  *services_out = std::move(merged);
  return j;
}

namespace {

template <typename Out>
void append_counters(Out out, const core::Counters& c) {
  fmt::format_to(out,
                 "\"stats\":{{\"conns\":{},\"inbytes\":{},\"inpkts\":{},\"outbytes\":{},"
                 "\"outpkts\":{}}}",
                 c.conns, c.inbytes, c.inpkts, c.outbytes, c.outpkts);
}

template <typename Out>
void append_rates(Out out, const core::Rates& r) {
  fmt::format_to(out,
                 "\"rates\":{{\"cps\":{},\"inbps\":{},\"inpps\":{},\"outbps\":{},"
                 "\"outpps\":{}}}",
                 r.cps, r.inbps, r.inpps, r.outbps, r.outpps);
}

}  // namespace

// The statistics document: globals_object() with the services written straight out (with
// 10,000 services of 10 servers a DOM costs seconds, this a fraction). Every string written is
// an address, a key or a fixed name, none of which needs escaping.
std::string Director::stats_json() {
  std::vector<core::ServiceSnapshot> merged;
  const std::string rest = globals_object(&merged).dump();
  std::string out;
  out.reserve(merged.size() * 512 + rest.size() + 32);
  auto it = std::back_inserter(out);
  out += "{\"services\":[";
  for (size_t i = 0; i < merged.size(); ++i) {
    const core::ServiceSnapshot& s = merged[i];
    if (i > 0) out += ',';
    const char* proto = s.key.fwmark                    ? "FWM"
                        : s.key.proto == net::kProtoTcp ? "TCP"
                        : s.key.proto == net::kProtoUdp ? "UDP"
                                                        : "SCTP";
    fmt::format_to(it,
                   "{{\"addr\":\"{}\",\"fwmark\":{},\"key\":\"{}\",\"one_packet\":{},"
                   "\"persistence_prefix\":{},\"persistence_timeout\":{},\"port\":{},"
                   "\"proto\":\"{}\",",
                   s.key.addr.to_string(), s.key.fwmark, s.key.to_string(), s.one_packet,
                   s.persistence_prefix, s.persistence_timeout, s.key.port, proto);
    append_rates(it, rates_.service(s.key));
    fmt::format_to(it, ",\"sched_flags\":{},\"scheduler\":\"{}\",", s.sched_flags, s.sched_name);
    append_counters(it, s.stats);
    out += ",\"dests\":[";
    for (size_t k = 0; k < s.dests.size(); ++k) {
      const core::DestSnapshot& d = s.dests[k];
      if (k > 0) out += ',';
      fmt::format_to(it,
                     "{{\"active_conns\":{},\"addr\":\"{}\",\"fwd\":\"{}\","
                     "\"inactive_conns\":{},\"l_threshold\":{},\"persist_conns\":{},"
                     "\"port\":{},",
                     d.active_conns, d.addr.to_string(), core::fwd_name(d.fwd), d.inactive_conns,
                     d.l_threshold, d.persist_conns, d.port);
      append_rates(it, rates_.dest(s.key, d.addr, d.port));
      out += ',';
      append_counters(it, d.stats);
      fmt::format_to(it,
                     ",\"tun_flags\":{},\"tun_port\":{},\"tun_type\":\"{}\","
                     "\"u_threshold\":{},\"weight\":{}}}",
                     d.tun_flags, d.tun_port, core::tun_type_name(d.tun_type), d.u_threshold,
                     d.weight);
    }
    out += "]}";
  }
  out += ']';
  if (rest.size() > 2) {
    out += ',';
    out.append(rest, 1, std::string::npos);
  } else {
    out += '}';
  }
  return out;
}

// A page of every worker's connections and templates that match `q`, as ipvsadm -Lc lists
// them: {"conns": [...], "matched": M, "next_offset": N or null}.
nlohmann::json Director::conns_object(const ConnQuery& q) {
  nlohmann::json out = nlohmann::json::array();
  size_t matched = 0;
  for_each_worker([&](core::Engine& e, io::PacketIo&) {
    e.visit_conns(false, [&](const core::ConnSnapshot& c) {
      if (!q.matches(c)) return true;
      if (matched++ < q.offset || out.size() >= q.limit) return true;
      nlohmann::json j = {
          {"proto", c.proto},
          {"template", c.is_template},
          {"caddr", c.caddr.to_string()},
          {"cport", c.cport},
          {"vaddr", c.vaddr.family == net::Family::kNone ? "" : c.vaddr.to_string()},
          {"vport", c.vport},
          {"daddr", c.daddr.to_string()},
          {"dport", c.dport},
          {"fwmark", c.fwmark},
          {"fwd", std::string(core::fwd_name(c.fwd))},
          {"state", std::string(c.state)},
          {"expires", c.expires_in_s}};
      if (c.laddr.family != net::Family::kNone) {
        j["laddr"] = c.laddr.to_string();
        j["lport"] = c.lport;
      }
      out.push_back(std::move(j));
      return true;
    });
  });
  const size_t next = q.offset + out.size();
  return {{"conns", std::move(out)},
          {"matched", matched},
          {"next_offset", next < matched ? nlohmann::json(next) : nlohmann::json(nullptr)}};
}

// The control API (GET /v1/state, /v1/conns, /metrics; POST /v1/reload), run on the API
// thread with the control loop held off.
ApiResponse Director::handle_api(const ApiRequest& r) {
  std::lock_guard lock(ctl_mu_);
  const std::string path = r.target.substr(0, r.target.find('?'));
  const bool get = r.method == "GET";
  if (path == "/v1/state") {
    if (!get) return {405, "text/plain", "use GET\n"};
    return {200, "application/json", stats_json() + "\n"};
  }
  if (path == "/v1/conns") {
    if (!get) return {405, "text/plain", "use GET\n"};
    const size_t qm = r.target.find('?');
    std::string why;
    const auto q = parse_conn_query(
        qm == std::string::npos ? std::string_view{} : std::string_view(r.target).substr(qm + 1),
        &why);
    if (!q) {
      return {400, "application/json",
              nlohmann::json{{"error", "bad_request"}, {"detail", why}}.dump() + "\n"};
    }
    return {200, "application/json", conns_object(*q).dump() + "\n"};
  }
  if (path == "/metrics") {
    if (!get) return {405, "text/plain", "use GET\n"};
    std::vector<core::ServiceSnapshot> merged;
    const nlohmann::json globals = globals_object(&merged);
    std::vector<MetricsService> services;
    services.reserve(merged.size());
    for (const auto& s : merged) {
      // Keys and addresses hold no character a label value escapes.
      MetricsService& ms = services.emplace_back(
          MetricsService{s.key.to_string(), s.stats, rates_.service(s.key), {}});
      ms.servers.reserve(s.dests.size());
      for (const auto& d : s.dests) {
        ms.servers.push_back({server_label(d.addr.to_string(), d.port), d.stats,
                              rates_.dest(s.key, d.addr, d.port), d.active_conns, d.inactive_conns,
                              uint64_t(std::max(d.weight, 0))});
      }
    }
    return {200, "text/plain; version=0.0.4", metrics_text(globals, services) + health_metrics()};
  }
  if (path == "/v1/ops") {
    if (r.method != "POST") return {405, "text/plain", "use POST\n"};
    const nlohmann::json req = nlohmann::json::parse(r.body, nullptr, false);
    ctl::Config next = cfg_;
    ctl::OpResult res = req.is_discarded() ? ctl::OpResult{ctl::OpError::kBadRequest, "not JSON"}
                                           : ctl::apply_op(req, next);
    if (res.ok() && !res.zero) {
      if (std::string why = validate(next); !why.empty()) res = {ctl::OpError::kInvalid, why};
    }
    if (!res.ok()) {
      const unsigned code = res.error == ctl::OpError::kBadRequest ? 400 : 409;
      return {code, "application/json",
              nlohmann::json{{"error", std::string(ctl::op_error_name(res.error))},
                             {"detail", res.detail}}
                      .dump() +
                  "\n"};
    }
    if (res.zero) {
      for_each_worker([&](core::Engine& e, io::PacketIo&) {
        e.zero_counters(res.zero_all ? nullptr : &res.zero_key);
      });
      rates_.zeroed(res.zero_all ? nullptr : &res.zero_key);
    } else {
      std::string err;
      if (!apply_config(std::move(next), &err)) {
        return {500, "application/json",
                nlohmann::json{{"error", "invalid"}, {"detail", err}}.dump() + "\n"};
      }
      spdlog::info("control API: {}", req.value("cmd", std::string()));
    }
    return {200, "application/json", "{\"ok\":true}\n"};
  }
  if (path == "/v1/health") {
    if (!get) return {405, "text/plain", "use GET\n"};
    return {200, "application/json", health_object().dump() + "\n"};
  }
  if (path == "/v1/reload") {
    if (r.method != "POST") return {405, "text/plain", "use POST\n"};
    std::string err;
    if (!reload(&err))
      return {400, "application/json", nlohmann::json{{"error", err}}.dump() + "\n"};
    return {200, "application/json", "{\"reloaded\":true}\n"};
  }
  if (path == "/v1/check") {
    if (r.method != "POST") return {405, "text/plain", "use POST\n"};
    return {200, "application/json", check_config(r.body).dump() + "\n"};
  }
  return {404, "text/plain", "no such resource: " + path + "\n"};
}

// What a reload would say, without reloading: the configuration file (empty body) or the text
// in the body (no include: it has no directory) parsed and tried whole on a scratch engine.
nlohmann::json Director::check_config(const std::string& body) {
  const ctl::ParseResult pr = body.empty() ? ctl::parse_config_file(opts_.config_path)
                                           : ctl::parse_config_text(body, "request");
  nlohmann::json diags = nlohmann::json::array();
  for (const auto& d : pr.diagnostics) {
    diags.push_back({{"file", d.loc.file.str()},
                     {"line", d.loc.line},
                     {"column", d.loc.column},
                     {"message", d.message},
                     {"warning", d.warning},
                     {"text", d.to_string()}});
  }
  std::string engine_error;
  if (pr.ok()) engine_error = validate(*pr.config);
  if (!engine_error.empty()) {
    diags.push_back({{"file", body.empty() ? opts_.config_path : "request"},
                     {"line", 0},
                     {"column", 0},
                     {"message", engine_error},
                     {"warning", false},
                     {"text", engine_error}});
  }
  return {{"ok", pr.ok() && engine_error.empty()},
          {"services", pr.ok() ? pr.config->services.size() : 0},
          {"diagnostics", std::move(diags)}};
}

bool Director::write_stats_file() {
  if (opts_.stats_file.empty()) return true;
  const std::string tmp = opts_.stats_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << stats_json() << "\n";
    if (!out) {
      spdlog::warn("cannot write {}", tmp);
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, opts_.stats_file, ec);
  if (ec) spdlog::warn("cannot rename {}: {}", tmp, ec.message());
  return !ec;
}

void Director::run() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&set, s);
  const int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  const int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  itimerspec its{};
  its.it_interval.tv_sec = 1;
  its.it_value.tv_sec = 1;
  timerfd_settime(tfd, 0, &its, nullptr);
  pollfd fds[5] = {{sfd, POLLIN, 0},
                   {netlink_->event_fd(), POLLIN, 0},
                   {neigh_fd_, POLLIN, 0},
                   {tfd, POLLIN, 0},
                   {health_fd_, POLLIN, 0}};
  bool routes_dirty = false;
  auto last_refresh = std::chrono::steady_clock::now();
  unsigned ticks = 0;
  while (!stopping_) {
    int timeout = -1;
    if (routes_dirty) timeout = 20;  // coalesce bursts of notifications
    poll(fds, 5, timeout);
    std::lock_guard lock(ctl_mu_);
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si{};
      while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
          spdlog::info("signal {}: stopping", si.ssi_signo == SIGTERM ? "TERM" : "INT");
          stopping_ = true;
        } else if (si.ssi_signo == SIGHUP) {
          std::string err;
          if (!reload(&err)) spdlog::error("{}", err);
          write_stats_file();
        } else if (si.ssi_signo == SIGUSR1) {
          write_stats_file();
        }
      }
    }
    if (fds[1].revents & POLLIN) routes_dirty |= netlink_->drain_events();
    if (routes_dirty &&
        std::chrono::steady_clock::now() - last_refresh >= std::chrono::milliseconds(20)) {
      std::string err;
      if (netlink_->refresh(&err)) {
        publish_routes();
      } else {
        spdlog::warn("{}", err);
      }
      routes_dirty = false;
      last_refresh = std::chrono::steady_clock::now();
    }
    if (fds[2].revents & POLLIN) handle_neigh_requests();
    if (fds[4].revents & POLLIN) handle_health_events();
    if (fds[3].revents & POLLIN) {
      uint64_t exp;
      if (read(tfd, &exp, sizeof(exp)) < 0) {
        // Nothing to do: the next tick comes anyway.
      }
      ++ticks;
      if (ticks % core::RateEstimator::kIntervalSeconds == 0) rates_.sample(merged_snapshot());
      write_stats_file();
      if (ticks % 5 == 0) {
        refresh_marks();
        std::string err;
        if (!sync_classifier(&err)) spdlog::warn("{}", err);  // drained servers leave the map
      }
      if (ticks % 10 == 0) resolve_next_hops(true);
    }
  }
  ::close(sfd);
  ::close(tfd);
}

// The replaced configuration is freed on a thread of its own: at 10,000 services that is 100,000
// real servers' worth of frees, which the reload need not wait for.
void Director::retire(ctl::Config old) {
  if (reaper_.joinable()) reaper_.join();
  reaper_ = std::thread([gone = std::move(old)]() mutable { gone = ctl::Config{}; });
}

void Director::stop() {
  api_.stop();  // no request may reach a director that is going away
  if (reaper_.joinable()) reaper_.join();
  if (monitor_) run_omega_scripts();
  stop_health();
  if (workers_.empty() && !xdp_ && !steal_) return;
  if (!workers_.empty()) write_stats_file();
  for (auto& w : workers_) w->stop();
  workers_.clear();  // closes the sockets before the program goes
  mesh_.reset();
  xdp_.reset();
  steal_.reset();
}

}  // namespace lvs::daemon
