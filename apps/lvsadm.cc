// lvsadm: ipvsadm's command line, talking to lvsd's control API instead of the kernel. Parsing
// and listings are src/adm (byte for byte ipvsadm 1.31); this main fetches lvsd's state (and
// every page of its connections for -c) and prints it, or sends a change (POST /v1/ops) and
// prints ipvsadm's message when lvsd refuses it. Host and service names are looked up as
// ipvsadm does (lvsadm_resolve.h): on the command line always, in listings unless -n. The
// socket is $LVSD_SOCKET, else /run/lvsd.sock.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "adm/args.h"
#include "adm/list.h"
#include "adm/state_json.h"
#include "lvsadm_api.h"
#include "lvsadm_resolve.h"

namespace {

using namespace lvs::adm;
using nlohmann::json;

std::string socket_path() {
  const char* env = std::getenv("LVSD_SOCKET");
  return env != nullptr && *env != '\0' ? env : "/run/lvsd.sock";
}

// ipvsadm-like text for an lvsd that is not there.
std::string reach_message(const std::string& path, const std::string& why) {
  return "Can't reach lvsd at " + path + ": " + why + "\nIs lvsd running (lvsd --socket " + path +
         ")?\n";
}

// What to print on stderr (then exit 1) for an answer to GET `target` other than 200.
std::optional<std::string> get_failure(const std::string& path, const std::string& target,
                                       const ApiAnswer& a) {
  if (!a.reached) return reach_message(path, a.error);
  if (a.status != 200) {
    std::string msg =
        "lvsd answered " + std::to_string(a.status) + " to GET " + target + ": " + a.body;
    if (msg.back() != '\n') msg += '\n';
    return msg;
  }
  return std::nullopt;
}

std::string not_json_message(const std::string& target) {
  return "lvsd's answer to GET " + target + " is not JSON\n";
}

// GET `target`: the JSON body, or what to print on stderr (then exit 1).
std::variant<json, std::string> get_json(const std::string& path, const std::string& target) {
  const ApiAnswer a = api_call(path, "GET", target);
  if (auto err = get_failure(path, target, a)) return std::move(*err);
  json out = json::parse(a.body, nullptr, false);
  if (out.is_discarded()) return not_json_message(target);
  return out;
}

// GET /v1/state as the model, read service by service (model_from_state_text, no whole tree),
// or what to print on stderr.
std::variant<ListModel, std::string> get_state(const std::string& path) {
  const std::string target = "/v1/state";
  const ApiAnswer a = api_call(path, "GET", target);
  if (auto err = get_failure(path, target, a)) return std::move(*err);
  std::optional<ListModel> m = model_from_state_text(a.body);
  if (!m) return not_json_message(target);
  return std::move(*m);
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
  auto st = get_state(path);
  if (auto* err = std::get_if<std::string>(&st)) {
    std::fputs(err->c_str(), stderr);
    return 1;
  }
  ListModel& m = std::get<ListModel>(st);
  // Names unless -n, as ipvsadm's addrport_to_anyname (for -S too).
  const OsReverseResolver names;
  const bool numeric = c.format & kFmtNumeric;
  const ReverseResolver* resolver = numeric ? nullptr : &names;
  if (save) {
    std::fputs(lvs::adm::save(m, numeric, resolver).c_str(), stdout);
    return 0;
  }
  const ListOptions o = list_options(c);
  if (o.connections) {
    // Every page of /v1/conns (an older lvsd sends its whole table at once).
    auto err = fetch_connections(m, [&](uint64_t offset) -> std::variant<json, std::string> {
      auto page = get_json(path, conns_target(offset));
      if (auto* e = std::get_if<std::string>(&page)) return std::move(*e);
      return std::move(std::get<json>(page));
    });
    if (err) {
      if (err->empty() || err->back() != '\n') *err += '\n';
      std::fputs(err->c_str(), stderr);
      return 1;
    }
  }
  const ListOutput out = list(m, o, resolver);
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

int run_op(const Command& c) {
  const std::string path = socket_path();
  const json req = op_of(c);
  const ApiAnswer a = api_call(path, "POST", "/v1/ops", req.dump());
  if (!a.reached) {
    std::fputs(reach_message(path, a.error).c_str(), stderr);
    return 1;
  }
  if (a.status == 200) return 0;
  const json err = json::parse(a.body, nullptr, false);
  const std::string error = err.is_object() ? err.value("error", std::string()) : "";
  const std::string detail = err.is_object() ? err.value("detail", std::string()) : a.body;
  std::fprintf(stderr, "%s\n", op_message(c.kind, error, detail).c_str());
  return 255;  // ipvsadm returns libipvs's -1
}

// -R: ipvsadm-restore input on stdin, one command per line.
int run_restore(std::string_view program, const ForwardResolver& resolver) {
  int status = 0;
  char* line = nullptr;
  size_t cap = 0;
  while (getline(&line, &cap, stdin) > 0) {
    const auto r = parse_restore_line(line, program, resolver);
    if (!r) continue;
    if (!r->ok()) {
      std::fputs(r->error().stderr_text().c_str(), stderr);
      status = r->error().exit_code;
      if (r->error().kind != ErrorKind::kPopt) break;
      continue;
    }
    status = run_op(r->command());
  }
  std::free(line);
  return status;
}

// --health (lvs's own; ipvsadm has no checkers): every checker lvsd runs, one line each, and
// the services whose quorum the checks decide.
int run_health() {
  const std::string path = socket_path();
  auto got = get_json(path, "/v1/health");
  if (auto* err = std::get_if<std::string>(&got)) {
    std::fputs(err->c_str(), stderr);
    return 1;
  }
  const json& h = std::get<json>(got);
  std::string out =
      fmt::format("{:<28} {:<24} {:<11} {:<5} {:>9} {:>9} {:>9} {:>6}  {}\n", "Service", "Server",
                  "Checker", "State", "Latency", "Attempts", "Failures", "Flips", "Last result");
  for (const json& c : h.value("checks", json::array())) {
    const json last = c.value("last", json::object());
    const double ms = double(last.value("latency_us", int64_t{0})) / 1000.0;
    std::string detail = last.value("detail", std::string());
    if (detail.empty()) detail = last.value("ok", false) ? "ok" : "failed";
    out += fmt::format("{:<28} {:<24} {:<11} {:<5} {:>7.1f}ms {:>9} {:>9} {:>6}  {}\n",
                       c.value("service", std::string()), c.value("server", std::string()),
                       c.value("checker", std::string()), c.value("up", false) ? "up" : "down", ms,
                       c.value("attempts", uint64_t{0}), c.value("failures", uint64_t{0}),
                       c.value("transitions", uint64_t{0}), detail);
  }
  for (const json& s : h.value("services", json::array())) {
    out += fmt::format("{}: quorum {}, live weight {}{}\n", s.value("service", std::string()),
                       s.value("quorum", false) ? "held" : "lost", s.value("live_weight", 0),
                       s.value("sorry_server_in_use", false) ? ", sorry server in use" : "");
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv, argv + argc);
  if (args.size() == 2 && args[1] == "--health") return run_health();
  // Host and service names as ipvsadm's parse_service: gethostbyname, getservbyname.
  const ForwardResolver resolver = os_forward_resolver();
  const ParseResult r = parse_args(args, resolver);
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
      return run_restore(args[0], resolver);
    case CommandKind::kStartDaemon:
    case CommandKind::kStopDaemon:
      std::fprintf(stderr, "%s: the connection sync daemon is not part of lvsd yet\n",
                   std::string(args[0]).c_str());
      return 2;
    default:
      return run_op(c);
  }
}
