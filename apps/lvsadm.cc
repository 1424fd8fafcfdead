// lvsadm: ipvsadm's command line, talking to lvsd's control API instead of the kernel. Parsing
// and listings are src/adm (byte for byte ipvsadm 1.31); this main fetches lvsd's state and
// prints it, or sends a change (POST /v1/ops) and prints ipvsadm's message when lvsd refuses
// it. The socket is $LVSD_SOCKET, else /run/lvsd.sock.
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "adm/args.h"
#include "adm/list.h"
#include "lvsadm_api.h"

namespace {

using namespace lvs::adm;
using nlohmann::json;

std::string socket_path() {
  const char* env = std::getenv("LVSD_SOCKET");
  return env != nullptr && *env != '\0' ? env : "/run/lvsd.sock";
}

lvs::net::IpAddr addr_of(const json& j, const char* key) {
  const auto a = lvs::net::IpAddr::parse(j.value(key, std::string()));
  return a ? *a : lvs::net::IpAddr{};
}

FwdMethod fwd_of(const std::string& name) {
  if (name == "Masq") return FwdMethod::kMasq;
  if (name == "Tunnel") return FwdMethod::kTunnel;
  if (name == "FullNat") return FwdMethod::kFullNat;
  if (name == "Local") return FwdMethod::kLocal;
  return FwdMethod::kRoute;
}

Stats stats_of(const json& j) {
  Stats s;
  s.conns = j.value("conns", uint64_t{0});
  s.inpkts = j.value("inpkts", uint64_t{0});
  s.outpkts = j.value("outpkts", uint64_t{0});
  s.inbytes = j.value("inbytes", uint64_t{0});
  s.outbytes = j.value("outbytes", uint64_t{0});
  return s;
}

// lvsd's state document (GET /v1/state) as the listing model.
ListModel model_of(const json& st) {
  ListModel m;
  m.conn_tab_size = st.value("conn_capacity", uint32_t{4096});
  const json t = st.value("timeouts", json::object());
  m.timeouts.tcp = t.value("tcp", 900);
  m.timeouts.tcp_fin = t.value("tcp_fin", 120);
  m.timeouts.udp = t.value("udp", 300);
  for (const json& js : st.value("services", json::array())) {
    Service s;
    const std::string proto = js.value("proto", std::string("TCP"));
    s.fwmark = js.value("fwmark", uint32_t{0});
    s.addr = addr_of(js, "addr");
    s.fwmark_af = s.addr.is_v6() ? lvs::net::Family::kV6 : lvs::net::Family::kV4;
    s.protocol = proto == "UDP" ? kProtoUdp : proto == "SCTP" ? kProtoSctp : kProtoTcp;
    s.port = js.value("port", uint16_t{0});
    s.scheduler = js.value("scheduler", std::string("wlc"));
    s.sched_flags = js.value("sched_flags", uint32_t{0});
    s.persistence_timeout = js.value("persistence_timeout", uint32_t{0});
    s.persistent = s.persistence_timeout != 0;
    const unsigned prefix = js.value("persistence_prefix", 128u);
    if (s.family() == lvs::net::Family::kV6) {
      s.prefix_v6 = uint8_t(prefix);
    } else {
      const unsigned p = prefix > 32 ? 32 : prefix;
      s.netmask_v4 = p == 0 ? 0 : uint32_t(0xffffffffu << (32 - p));
    }
    s.one_packet = js.value("one_packet", false);
    s.stats = stats_of(js.value("stats", json::object()));
    for (const json& jd : js.value("dests", json::array())) {
      RealServer d;
      d.addr = addr_of(jd, "addr");
      d.port = jd.value("port", uint16_t{0});
      d.fwd = fwd_of(jd.value("fwd", std::string()));
      d.weight = jd.value("weight", 1);
      d.active_conns = jd.value("active_conns", 0u);
      d.inactive_conns = jd.value("inactive_conns", 0u);
      d.persist_conns = jd.value("persist_conns", 0u);
      d.u_threshold = jd.value("u_threshold", 0u);
      d.l_threshold = jd.value("l_threshold", 0u);
      const std::string tt = jd.value("tun_type", std::string("ipip"));
      d.tun_type = tt == "gue" ? TunType::kGue : tt == "gre" ? TunType::kGre : TunType::kIpip;
      d.tun_port = jd.value("tun_port", uint16_t{0});
      const unsigned flags = jd.value("tun_flags", 0u);
      d.tun_csum = (flags & 2)   ? TunCsum::kRemCsum
                   : (flags & 1) ? TunCsum::kCsum
                                 : TunCsum::kNoCsum;
      d.stats = stats_of(jd.value("stats", json::object()));
      s.servers.push_back(std::move(d));
    }
    m.services.push_back(std::move(s));
  }
  return m;
}

void add_connections(ListModel& m, const json& conns) {
  for (const json& jc : conns) {
    Connection c;
    c.protocol = jc.value("proto", uint8_t{kProtoTcp});
    c.expires = jc.value("expires", 0u);
    c.state = jc.value("state", std::string());
    c.client = {addr_of(jc, "caddr"), jc.value("cport", uint16_t{0})};
    c.virt = {addr_of(jc, "vaddr"), jc.value("vport", uint16_t{0})};
    c.dest = {addr_of(jc, "daddr"), jc.value("dport", uint16_t{0})};
    c.is_template = jc.value("template", false);
    c.fwmark = jc.value("fwmark", 0u);
    m.connections.push_back(std::move(c));
  }
}

int fail_reach(const std::string& path, const std::string& why) {
  std::fprintf(stderr, "Can't reach lvsd at %s: %s\nIs lvsd running (lvsd --socket %s)?\n",
               path.c_str(), why.c_str(), path.c_str());
  return 1;
}

// GET `target`; the JSON body, or an exit status after printing why.
int get_json(const std::string& path, const std::string& target, json* out) {
  const ApiAnswer a = api_call(path, "GET", target);
  if (!a.reached) return fail_reach(path, a.error);
  if (a.status != 200) {
    std::fprintf(stderr, "lvsd answered %u to GET %s: %s", a.status, target.c_str(),
                 a.body.c_str());
    return 1;
  }
  *out = json::parse(a.body, nullptr, false);
  if (out->is_discarded()) {
    std::fprintf(stderr, "lvsd's answer to GET %s is not JSON\n", target.c_str());
    return 1;
  }
  return 0;
}

ListOptions list_options(const Command& c) {
  ListOptions o;
  o.numeric = c.format & kFmtNumeric;
  o.stats = c.format & kFmtStats;
  o.rate = c.format & kFmtRate;
  o.thresholds = c.format & kFmtThresholds;
  o.persistent_conn = c.format & kFmtPersistentConn;
  o.tun_info = c.format & kFmtTunInfo;
  o.exact = c.format & kFmtExact;
  o.nosort = c.format & kFmtNoSort;
  o.connections = c.has(Opt::kConnection);
  o.timeout = c.has(Opt::kTimeout);
  o.daemon = c.has(Opt::kDaemon);
  if (c.has(Opt::kService)) {
    ServiceKey k;
    k.fwmark = c.svc.fwmark;
    k.fwmark_af = c.svc.af == lvs::net::Family::kV6 ? lvs::net::Family::kV6 : lvs::net::Family::kV4;
    k.protocol = c.svc.protocol;
    if (c.svc.endpoint.addr) k.addr = *c.svc.endpoint.addr;
    k.port = c.svc.port;
    o.service = k;
  }
  return o;
}

int run_list(const Command& c, bool save) {
  const std::string path = socket_path();
  json st;
  if (const int rc = get_json(path, "/v1/state", &st)) return rc;
  ListModel m = model_of(st);
  if (save) {
    std::fputs(lvs::adm::save(m, c.format & kFmtNumeric).c_str(), stdout);
    return 0;
  }
  const ListOptions o = list_options(c);
  if (o.connections) {
    json conns;
    if (const int rc = get_json(path, "/v1/conns", &conns)) return rc;
    add_connections(m, conns);
  }
  const ListOutput out = list(m, o);
  std::fputs(out.out.c_str(), stdout);
  std::fputs(out.err.c_str(), stderr);
  return out.status;
}

// -A -E -D -a -e -d -C -Z --set as one POST /v1/ops request.
json op_of(const Command& c) {
  json req;
  switch (c.kind) {
    case CommandKind::kAddService:
      req["cmd"] = "add-service";
      break;
    case CommandKind::kEditService:
      req["cmd"] = "edit-service";
      break;
    case CommandKind::kDeleteService:
      req["cmd"] = "delete-service";
      break;
    case CommandKind::kAddServer:
      req["cmd"] = "add-server";
      break;
    case CommandKind::kEditServer:
      req["cmd"] = "edit-server";
      break;
    case CommandKind::kDeleteServer:
      req["cmd"] = "delete-server";
      break;
    case CommandKind::kFlush:
      req["cmd"] = "flush";
      break;
    case CommandKind::kZero:
      req["cmd"] = "zero";
      break;
    case CommandKind::kSetTimeout:
      req["cmd"] = "set-timeout";
      req["timeouts"] = {
          {"tcp", c.timeout.tcp}, {"tcp_fin", c.timeout.tcp_fin}, {"udp", c.timeout.udp}};
      return req;
    default:
      return req;
  }
  if (c.has(Opt::kService)) {
    const ServiceArgs& v = c.svc;
    const bool v6 = v.af == lvs::net::Family::kV6;
    json s = {{"proto", v.protocol},
              {"port", v.port},
              {"fwmark", v.fwmark},
              {"af", v6 ? 6 : 4},
              {"scheduler", v.scheduler},
              {"sched_flags", v.flags & kSvcSchedFlagsMask},
              {"ops", (v.flags & kSvcFlagOnePacket) != 0}};
    if (v.endpoint.addr) s["addr"] = v.endpoint.addr->to_string();
    if (v.flags & kSvcFlagPersistent) {
      s["timeout"] = v.timeout;
      // ipvsadm's netmask: an IPv4 mask in host order, or an IPv6 prefix length.
      unsigned prefix = v.netmask;
      if (!v6) {
        prefix = 0;
        for (uint32_t m = v.netmask; m & 0x80000000u; m <<= 1) ++prefix;
      }
      s["prefix"] = prefix;
    }
    req["service"] = s;
  }
  if (c.has(Opt::kServer)) {
    const DestArgs& d = c.dest;
    static constexpr const char* kFwd[] = {"Masq", "Route", "Tunnel", "FullNat"};
    json r = {{"port", d.port},
              {"fwd", kFwd[size_t(d.fwd)]},
              {"weight", d.weight},
              {"u_threshold", d.u_threshold},
              {"l_threshold", d.l_threshold},
              {"tun_type", d.tun_type == lvs::core::TunType::kGue   ? "gue"
                           : d.tun_type == lvs::core::TunType::kGre ? "gre"
                                                                    : "ipip"},
              {"tun_port", d.tun_port},
              {"tun_flags", d.tun_flags}};
    if (d.endpoint.addr) r["addr"] = d.endpoint.addr->to_string();
    req["server"] = r;
  }
  return req;
}

// ipvs_strerror's text for what lvsd refused, per command (libipvs's table).
std::string op_message(CommandKind k, const std::string& error, const std::string& detail) {
  const bool server = k == CommandKind::kAddServer || k == CommandKind::kEditServer ||
                      k == CommandKind::kDeleteServer;
  if (error == "exists") return server ? "Destination already exists" : "Service already exists";
  if (error == "no-service") return server ? "Service not defined" : "No such service";
  if (error == "no-server") return "No such destination";
  if (error == "no-scheduler") return "Scheduler or persistence engine not found";
  return "Invalid operation: " + detail;
}

int run_op(const Command& c, std::string_view program) {
  const std::string path = socket_path();
  const json req = op_of(c);
  if (req.contains("service") && !req["service"].contains("addr") && c.svc.fwmark == 0) {
    std::fprintf(stderr, "%s: host names are not resolved yet: give addresses\n",
                 std::string(program).c_str());
    return 2;
  }
  const ApiAnswer a = api_call(path, "POST", "/v1/ops", req.dump());
  if (!a.reached) return fail_reach(path, a.error);
  if (a.status == 200) return 0;
  const json err = json::parse(a.body, nullptr, false);
  const std::string error = err.is_object() ? err.value("error", std::string()) : "";
  const std::string detail = err.is_object() ? err.value("detail", std::string()) : a.body;
  std::fprintf(stderr, "%s\n", op_message(c.kind, error, detail).c_str());
  return 255;  // ipvsadm returns libipvs's -1
}

// -R: ipvsadm-restore input on stdin, one command per line.
int run_restore(std::string_view program) {
  int status = 0;
  char* line = nullptr;
  size_t cap = 0;
  while (getline(&line, &cap, stdin) > 0) {
    const auto r = parse_restore_line(line, program);
    if (!r) continue;
    if (!r->ok()) {
      std::fputs(r->error().stderr_text().c_str(), stderr);
      status = r->error().exit_code;
      if (r->error().kind != ErrorKind::kPopt) break;
      continue;
    }
    status = run_op(r->command(), program);
  }
  std::free(line);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv, argv + argc);
  const ParseResult r = parse_args(args);
  if (!r.ok()) {
    std::fputs(r.error().stderr_text().c_str(), stderr);
    return r.error().exit_code;
  }
  const Command& c = r.command();
  switch (c.kind) {
    case CommandKind::kHelp:
      std::fputs(usage_text(args[0]).c_str(), stdout);
      return 0;
    case CommandKind::kVersion:
      std::fputs(version_text().c_str(), stdout);
      return 0;
    case CommandKind::kList:
      return run_list(c, false);
    case CommandKind::kSave:
      return run_list(c, true);
    case CommandKind::kRestore:
      return run_restore(args[0]);
    case CommandKind::kStartDaemon:
    case CommandKind::kStopDaemon:
      std::fprintf(stderr, "%s: the connection sync daemon is not part of lvsd yet\n",
                   std::string(args[0]).c_str());
      return 2;
    default:
      return run_op(c, args[0]);
  }
}
