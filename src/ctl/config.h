// The configuration lvsd reads: the keepalived.conf dialect (global_defs, virtual_server,
// real_server) plus lvs's own `director` block, parsed into a desired state, and that state as
// engine operations. docs/CONFIG.md describes the grammar, its defaults and the error format.
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/engine.h"
#include "core/proto_states.h"
#include "core/types.h"
#include "net/addr.h"

namespace lvs::ctl {

// A file name that every location in the file shares: a 10,000-service file has a million
// tokens, and copying a location copies a pointer. Names are interned for the life of the
// process (a configuration names a handful of files, the same ones at every reload), so the
// copy needs neither an allocation nor an atomic count.
class FileName {
 public:
  FileName() = default;
  FileName(const std::string& name) : name_(intern(name)) {}
  FileName(const char* name) : name_(intern(name)) {}
  const std::string& str() const { return name_ != nullptr ? *name_ : no_name(); }
  operator const std::string&() const { return str(); }
  bool empty() const { return str().empty(); }
  friend bool operator==(const FileName& a, const FileName& b) { return a.str() == b.str(); }
  friend bool operator==(const FileName& a, const std::string& b) { return a.str() == b; }
  friend bool operator==(const FileName& a, const char* b) { return a.str() == b; }

 private:
  static const std::string* intern(const std::string& name);
  static const std::string& no_name() {
    static const std::string e;
    return e;
  }
  const std::string* name_ = nullptr;
};

// line and column are 1-based; column counts bytes. line 0: the file as a whole.
struct SourceLoc {
  FileName file;
  int line = 0;
  int column = 0;
  friend bool operator==(const SourceLoc&, const SourceLoc&) = default;
};

// The texts a configuration was read from: its files, and the few words lexing rewrites (\#
// stands for #). A deque, so that what is added never moves what is there.
using TextStore = std::deque<std::string>;

// Where a block stands in the texts it was read from (Config::sources): the text, and the bytes
// from its keyword to its closing brace. length 0: unknown.
struct SourceSpan {
  uint32_t text = 0;
  uint32_t offset = 0;
  uint32_t length = 0;
  friend bool operator==(const SourceSpan&, const SourceSpan&) = default;
};

struct Diagnostic {
  SourceLoc loc;
  std::string message;
  bool warning = false;
  // "file:line:col: message", "file:line:col: warning: message"; "file: message" for line 0.
  std::string to_string() const;
};

enum class IoBackend { kAfXdp, kAfPacket };
enum class XdpMode { kAuto, kNative, kSkb };

struct DirectorConf {
  std::vector<std::string> interfaces;
  IoBackend io = IoBackend::kAfXdp;
  XdpMode xdp_mode = XdpMode::kAuto;
  uint32_t workers = 0;  // 0: one per queue
  uint32_t conn_capacity = 1u << 20;
  bool expire_nodest_conn = false;
  // TCP ports whose NAT connections get the FTP helper (ip_vs_ftp's `ports`); empty: none.
  std::vector<uint16_t> ftp_ports = {21};
  // SCHED_FIFO priority of the workers (0: normal scheduling). Real time so a worker woken by
  // arriving frames runs at once, even beside a threaded NAPI on its CPU; workers sleep whenever
  // idle, so they cannot starve the rest.
  int worker_rt_priority = 1;
};

// A health checker block of a real_server (keepalived's TCP_CHECK, HTTP_GET, ... in
// keepalived/check/check_*.c). Every value is the effective one: the parser resolves what the
// block leaves out from the real server, the virtual server and keepalived's defaults, so the
// health checkers (src/health) never look anything up.
enum class CheckKind : uint8_t { kTcp, kHttp, kSsl, kSmtp, kDns, kUdp, kPing, kMisc, kFile };

// One `url { ... }` of HTTP_GET / SSL_GET: the check passes when every url passes.
struct HttpUrlConf {
  std::string path = "/";
  std::optional<std::array<uint8_t, 16>> digest;  // MD5 of the body
  // Accepted status codes as inclusive ranges; empty: 200-299 (keepalived's default).
  std::vector<std::pair<uint16_t, uint16_t>> status_codes;
  std::string virtualhost;  // Host header; empty: the checker's, else the address
  SourceLoc loc;
  friend bool operator==(const HttpUrlConf&, const HttpUrlConf&) = default;
};

struct CheckerConf {
  CheckKind kind = CheckKind::kTcp;
  std::string keyword;  // as written: "TCP_CHECK", "HTTP_GET", ...
  // Where the probe goes: connect_ip/connect_port, else the real server's address and port.
  net::IpAddr connect_ip;
  uint16_t connect_port = 0;
  std::optional<net::IpAddr> bindto;  // source address; nullopt: the kernel's choice
  uint16_t bind_port = 0;
  std::string bind_if;                    // SO_BINDTODEVICE; empty: none
  uint32_t fwmark = 0;                    // SO_MARK on the probe's socket; 0: none
  uint64_t connect_timeout_ms = 5000;     // one attempt's budget (HTTP_GET/SSL_GET: per url)
  uint64_t delay_loop_ms = 60000;         // between checks while the result holds
  uint32_t retry = 1;                     // failed attempts in a row before the server is down
  uint64_t delay_before_retry_ms = 1000;  // between the attempts of one failing check
  uint64_t warmup_ms = 0;  // the first check waits a random time up to this (spreads a start)
  bool alpha = false;      // the checker starts failed: the server needs a success to come in
  bool log_all_failures = false;
  // lvs: successes in a row before a failed server comes back (flap damping); keepalived: 1.
  uint32_t rise = 1;

  // HTTP_GET / SSL_GET
  std::vector<HttpUrlConf> urls;
  std::string virtualhost;            // the checker's (else the real server's) virtualhost
  std::string http_protocol = "1.0";  // "1.0", "1.0C" (Connection: close) or "1.1"
  bool enable_sni = false;            // SSL_GET: send SNI (sni_name, else the virtualhost)
  std::string sni_name;
  bool tls_compliant = false;  // send a TLS close_notify when done (keepalived: no quiet shutdown)
  bool fast_recovery = false;  // one success brings the server back after a failure

  // SMTP_CHECK
  std::string helo_name;  // empty: this host's name

  // DNS_CHECK
  uint16_t dns_type = 6;  // the query type (check_dns.c: SOA)
  std::string dns_name = ".";

  // UDP_CHECK
  std::vector<uint8_t> payload;  // sent as is; empty: keepalived's 32-byte default text
  bool require_reply = false;
  std::vector<uint8_t> reply_prefix;  // require_reply's bytes, when given
  uint32_t min_reply_length = 0;
  uint32_t max_reply_length = 0;  // 0: no limit

  // MISC_CHECK
  std::string misc_path;         // a command line run through /bin/sh -c
  uint64_t misc_timeout_ms = 0;  // 0: delay_loop
  bool misc_dynamic = false;     // exit status 2..255 sets the weight to status - 2
  std::string user;              // run as this user; empty: root

  // FILE_CHECK (with a top-level track_file block)
  std::string track_file;   // the block's name
  std::string file_path;    // its file: a number in it, times weight, adjusts the real server
  int32_t file_weight = 1;  // the checker's weight (else the track_file block's)
  bool file_reverse = false;

  SourceLoc loc;
  friend bool operator==(const CheckerConf&, const CheckerConf&) = default;
};

struct RealServerConf {
  net::IpAddr addr;
  // The port IPVS uses: the service's port for DR, and for NAT when the config omits it;
  // 0 for fwmark services where the client's destination port is kept.
  uint16_t port = 0;
  int32_t weight = 1;
  core::Fwd fwd = core::Fwd::kNat;  // the service's lb_kind unless the server sets lvs_method
  // VS/TUN only (ipip, 0, 0 otherwise): encapsulation, the real server's GUE port, kTunFlag*.
  // Taken with fwd from the service's lb_kind when the server sets no lvs_method.
  core::TunType tun_type = core::TunType::kIpip;
  uint16_t tun_port = 0;
  uint16_t tun_flags = 0;
  uint32_t u_threshold = 0;  // 0: no limit
  uint32_t l_threshold = 0;
  // Health, as lvsd's checkers last said (runtime state, not read from the file): alive, and
  // the weight changes FILE_CHECK (a delta) and MISC_CHECK's misc_dynamic (a new weight) ask
  // for. ctl::engine_servers() (quorum.h) decides from them what the engine gets.
  bool alive = true;
  int32_t weight_delta = 0;
  std::optional<int32_t> dynamic_weight;
  // keepalived's inhibit_on_failure, the server's or else the service's: dead, it is kept in the
  // engine with weight 0, not removed. (Its other checker settings, alpha, retry, delay_loop,
  // ..., are resolved into its checkers by the parser: a large file has 100,000 servers.)
  bool inhibit_on_failure = false;
  std::string notify_up;  // command lines; empty: none
  std::string notify_down;
  std::vector<CheckerConf> checkers;  // in file order
  SourceLoc loc;
  friend bool operator==(const RealServerConf&, const RealServerConf&) = default;
};

struct VirtualServerConf {
  core::ServiceKey key;              // port 0 (all ports) only with persistence, as IPVS requires
  std::string scheduler = "wlc";     // keepalived's IPVS_DEF_SCHED
  uint32_t sched_flags = 0;          // sched::kSchedFlag1..3: flag-1..3, sh-/mh-fallback, -port
  uint32_t persistence_timeout = 0;  // seconds; 0: not persistent
  // persistence_granularity as a prefix length over the client address. The parser sets the
  // family's width (32 or 128: one client) when it is not given, so equal settings compare equal.
  uint8_t persistence_prefix = 128;
  core::Fwd fwd = core::Fwd::kNat;                // lb_kind: the default of its real servers
  core::TunType tun_type = core::TunType::kIpip;  // lb_kind TUN's options, likewise
  uint16_t tun_port = 0;
  uint16_t tun_flags = 0;
  bool one_packet = false;  // ops: UDP (or fwmark) services only
  // FULLNAT: laddr_group_name, and that group's addresses, all of the FULLNAT real servers'
  // family. Empty unless the service or one of its real servers uses FNAT.
  std::string laddr_group;
  std::vector<net::IpAddr> local_addrs;
  bool proxy_protocol = false;  // proxy_protocol v2 (FULLNAT only)
  uint32_t delay_loop = 60;     // seconds; for health checks
  std::vector<RealServerConf> real_servers;
  // sorry_server: in the engine instead of the real servers while the service lacks quorum
  // (quorum.h). Weight 1, the service's method unless sorry_server_lvs_method says otherwise.
  std::optional<RealServerConf> sorry_server;
  bool sorry_server_inhibit = false;  // kept in the engine with weight 0 while not in use
  // keepalived's quorum: the alive real servers' weights must add up to quorum + hysteresis to
  // gain it and stay at quorum - hysteresis (and above 0) to keep it. The parser stores them as
  // keepalived uses them: quorum at most the total weight, hysteresis below quorum.
  uint32_t quorum = 1;
  uint32_t hysteresis = 0;
  std::string quorum_up;  // command lines; empty: none
  std::string quorum_down;
  bool alpha = false;               // real servers start dead until checked
  bool omega = false;               // quorum_down and notify_down run at shutdown too
  bool inhibit_on_failure = false;  // the default of its real servers
  bool ha_suspend = false;          // checkers pause while the VIP is not here (VRRP)
  std::optional<uint32_t> retry;    // defaults of its real servers' checkers
  uint64_t connect_timeout_ms = 5000;
  std::optional<uint64_t> delay_before_retry_ms;
  std::optional<uint64_t> warmup_ms;
  std::string virtualhost;
  std::string snmp_name;
  // `virtual_server group NAME`: the virtual_server_group this service was expanded from (one
  // service per address and per fwmark of the group, all with these settings); empty otherwise.
  std::string group;
  SourceLoc loc;  // the virtual_server line (also for services expanded from a group)
  // Runtime: whether the service had quorum when its servers' health last changed; nullopt
  // after a start or reload, when keepalived's set_quorum_states() rule applies (quorum.h).
  std::optional<bool> quorum_state;
  // A hash of the block's text as written (0: unknown, e.g. a file with includes or a service
  // made by the API). Two services of one key with the same hash were written alike, so diff()
  // need not compare their servers one by one, unless health changed one (health_touched).
  uint64_t source_hash = 0;
  bool health_touched = false;  // runtime: a real server is dead or its weight changed
  // The block in Config::sources, when it reads the same wherever it stands (no error or
  // warning, no group, local addresses or track file from elsewhere): a reload that finds the
  // same bytes copies this service instead of parsing them again. Unset (length 0) otherwise.
  SourceSpan source;
  friend bool operator==(const VirtualServerConf&, const VirtualServerConf&) = default;
};

// Back to what the file says: the runtime fields above (health, quorum) as a parse leaves them.
void clear_runtime(VirtualServerConf& vs);

// One address of a local_address_group (a range line gives one per address), with the
// interface keepalived-DPVS would put it on. lvsd does not configure the address itself.
struct LocalAddressConf {
  net::IpAddr addr;
  std::string interface;  // empty when the line names none
  SourceLoc loc;
};

// local_address_group NAME { ... }: FULLNAT's local addresses, as keepalived-DPVS writes them.
struct LocalAddressGroupConf {
  std::string name;
  std::vector<LocalAddressConf> addrs;
  SourceLoc loc;
};

// One line of a virtual_server_group: an address or range with a port, or a fwmark.
struct GroupEntryConf {
  bool fwmark = false;
  net::IpAddr first;   // addresses: the first of the range
  uint32_t count = 1;  // addresses in the range (within the last byte, group or bits)
  uint16_t port = 0;   // 0: all ports
  uint32_t mark = 0;   // fwmark entries
  net::Family mark_family = net::Family::kNone;  // `fwmark N inet|inet6`; kNone: the service's
  SourceLoc loc;
};

// virtual_server_group NAME { ... }.
struct VirtualServerGroupConf {
  std::string name;
  std::vector<GroupEntryConf> entries;
  SourceLoc loc;
};

struct Config {
  std::string router_id;
  core::Timeouts timeouts;
  DirectorConf director;
  std::vector<LocalAddressGroupConf> local_address_groups;    // in file order
  std::vector<VirtualServerGroupConf> virtual_server_groups;  // in file order
  std::vector<VirtualServerConf> services;
  // The texts the configuration was read from, kept for the next reload (VirtualServerConf::
  // source); null for a configuration not read from text.
  std::shared_ptr<const TextStore> sources;
};

struct ParseResult {
  std::optional<Config> config;         // set only when there is no error
  std::vector<Diagnostic> diagnostics;  // errors and warnings, in the order found
  size_t reused = 0;  // services copied from the previous configuration, not parsed again
  bool ok() const { return config.has_value(); }
};

// Reads `path` and the files it includes (glob patterns, relative to the including file).
// `previous`, the configuration running, lets a reload copy each of its services whose block
// reads byte for byte as before instead of parsing it again; the result is the same either way.
ParseResult parse_config_file(const std::string& path, const Config* previous = nullptr);
// Parses text named `name` in diagnostics; `include` is refused (there is no directory).
ParseResult parse_config_text(std::string_view text, const std::string& name,
                              const Config* previous = nullptr);

// One engine control operation.
struct Op {
  enum class Kind { kAddService, kEditService, kDelService, kAddDest, kEditDest, kDelDest };
  Kind kind;
  core::ServiceSpec service;  // key only for kDelService and the dest kinds
  core::DestSpec dest;        // unused for the service kinds
  std::string to_string() const;
};

// The operations that turn the state `from` into `to`; diff(Config{}, c) sets c up from
// nothing. A service's servers are those engine_servers() (quorum.h) gives: its real servers as
// health, quorum and inhibit_on_failure leave them, and its sorry server. Order: the services that
// go (and those whose FULLNAT local addresses change family: they are replaced); then per service
// of `to`, in config order, its addition (with its servers) or its edit (scheduler, scheduler
// flags, persistence, ops, local addresses, PROXY protocol), new servers and edited servers
// (weight, method, tunnel, thresholds); then the servers that go from services that stay; last the
// edits of services that lose their local addresses, once their FULLNAT servers are gone. So during
// a reload a service keeps the servers that stay, and gets its new ones before it loses its old
// ones.
std::vector<Op> diff(const Config& from, const Config& to);
// The operations that bring one service's servers from `from` to `to`, a service with the same
// key and settings whose servers' health changed: additions and edits first, removals last.
std::vector<Op> diff_servers(const VirtualServerConf& from, const VirtualServerConf& to);

// Applies `ops` in order; stops at the first failure and names the failing op. Call it as
// ctl::apply: unqualified, argument-dependent lookup also finds std::apply, which wins.
core::Status apply(core::Engine& engine, const std::vector<Op>& ops);

}  // namespace lvs::ctl

template <>
struct fmt::formatter<lvs::ctl::FileName> : fmt::formatter<std::string_view> {
  template <typename Ctx>
  auto format(const lvs::ctl::FileName& f, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(f.str(), ctx);
  }
};
