// ipvsadm 1.31's command line as a pure parser: argv in, a Command or ipvsadm's exact error
// (message and exit status) out. Mirrors ipvsadm.c's parse_options()/process_options() on top of
// popt 1.19's option semantics, without popt and without any OS call: host names and service
// names go to caller-supplied callbacks, or stay as text for the caller to resolve.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "adm/ipvs.h"
#include "core/types.h"
#include "net/addr.h"

namespace lvs::adm {

// ipvsadm's CMD_* in its order (the rows of commands_v_options), then -h and -v, which ipvsadm
// handles at once (usage_exit / version_exit, status 0).
enum class CommandKind : uint8_t {
  kAddService = 0,  // -A
  kEditService,     // -E
  kDeleteService,   // -D
  kFlush,           // -C
  kList,            // -L / -l (and no argument at all)
  kAddServer,       // -a
  kDeleteServer,    // -d
  kEditServer,      // -e
  kSetTimeout,      // --set
  kStartDaemon,     // --start-daemon
  kStopDaemon,      // --stop-daemon
  kRestore,         // -R
  kSave,            // -S
  kZero,            // -Z
  kHelp,            // -h: print usage_text(program) to stdout, exit 0
  kVersion,         // -v: print version_text() to stdout, exit 0
};
inline constexpr int kNumTableCommands = 14;  // kAddService..kZero
// ipvsadm's cmdnames[]: "add-service", ..., "zero" (kHelp/kVersion: "help", "version").
std::string_view command_name(CommandKind k);

// ipvsadm's OPTC_* bit numbers (columns of commands_v_options).
enum class Opt : uint8_t {
  kNumeric = 0,
  kConnection,
  kService,
  kScheduler,
  kPersistent,
  kNetmask,
  kServer,
  kForward,
  kWeight,
  kUThreshold,
  kLThreshold,
  kMcast,
  kTimeout,
  kDaemon,
  kStats,
  kRate,
  kThresholds,
  kPersistentConn,
  kNoSort,
  kSyncId,
  kExact,
  kOnePacket,
  kPersistenceEngine,
  kSchedFlags,
  kMcastGroup,
  kMcastPort,
  kMcastTtl,
  kSyncMaxlen,
  kTunInfo,
  kTunType,
  kTunPort,
  kTunNoCsum,
  kTunCsum,
  kTunRemCsum,
};
inline constexpr int kNumOpts = 34;
// ipvsadm's optnames[]: "numeric", "connection", "service-address", ...
std::string_view opt_name(Opt o);
inline constexpr uint64_t opt_bit(Opt o) { return uint64_t{1} << static_cast<unsigned>(o); }

// ipvsadm's commands_v_options cell: '+' compulsory, 'x' illegal, '1' exclusive, ' ' optional.
char command_option_rule(CommandKind k, Opt o);

// ipvsadm's FMT_* listing flags (FMT_RULE is added by the caller for -S, as process_options).
inline constexpr unsigned kFmtNumeric = 0x0001;
inline constexpr unsigned kFmtRule = 0x0002;
inline constexpr unsigned kFmtStats = 0x0004;
inline constexpr unsigned kFmtRate = 0x0008;
inline constexpr unsigned kFmtThresholds = 0x0010;
inline constexpr unsigned kFmtPersistentConn = 0x0020;
inline constexpr unsigned kFmtNoSort = 0x0040;
inline constexpr unsigned kFmtExact = 0x0080;
inline constexpr unsigned kFmtTunInfo = 0x0100;

inline constexpr const char* kDefaultScheduler = "wlc";  // DEF_SCHED
inline constexpr const char* kDefaultMcastIfn = "eth0";  // DEF_MCAST_IFN
// IPVS_SVC_PERSISTENT_TIMEOUT (libipvs.h: 6*60). ipvsadm(8) says 300, the code uses 360.
inline constexpr uint32_t kDefaultPersistentTimeout = 360;
inline constexpr uint32_t kMaxTimeout = 86400 * 31;  // MAX_TIMEOUT
inline constexpr uint32_t kDefaultNetmask = 0xffffffff;

// Name lookups the parser may not do itself. Both optional.
struct ForwardResolver {
  // gethostbyname's role in parse_service/parse_netmask: a name to an IPv4 address, nullopt
  // when unknown (ipvsadm's failure message follows). Unset: names are kept unresolved
  // (HostPort::addr empty) and the caller resolves them, failing as ipvsadm would.
  std::function<std::optional<net::IpAddr>(std::string_view host)> host;
  // getservbyname's role: a service name ("http") to a port for proto (kProto*), nullopt when
  // unknown. Unset: numeric ports only.
  std::function<std::optional<uint16_t>(std::string_view name, uint8_t proto)> service;
};

// A host[:port] as parse_service() reads it.
struct HostPort {
  std::string host;                 // the address or name text, without brackets or port
  std::optional<net::IpAddr> addr;  // numeric, or resolved by ForwardResolver::host; empty: a name
  net::Family family = net::Family::kNone;  // kV6 for IPv6 literals, kV4 otherwise (names too)
  bool has_port = false;                    // a ":port" was given (SERVICE_PORT)
  std::string port_text;                    // as given, when has_port
  uint16_t port = 0;                        // numeric or resolved; 0 when !has_port
};

struct ServiceArgs {
  uint8_t protocol = 0;  // kProto*; kProtoTcp for -f (ipvsadm's "sane value"); 0: none given
  net::Family af = net::Family::kNone;  // kV4 for -f unless -6
  HostPort endpoint;                    // -t/-u/--sctp-service
  uint16_t port = 0;                    // == endpoint.port
  uint32_t fwmark = 0;                  // -f
  std::string scheduler;                // -s (truncated to 15 chars); kDefaultScheduler for -A/-E
  uint32_t flags = 0;                   // kSvcFlag*
  uint32_t timeout = 0;                 // -p seconds
  // -M: an IPv4 mask in host order (default 0xffffffff), or an IPv6 prefix length (128 set by
  // an IPv6 -t/-u/--sctp-service or by -6, then -M 1..128): ipvsadm's svc.netmask.
  uint32_t netmask = kDefaultNetmask;
  std::string netmask_host;  // -M text when it is a name left unresolved (netmask then unset)
  std::string pe_name;       // --pe (truncated to 16 chars)
};

struct DestArgs {
  HostPort endpoint;  // -r
  net::Family af = net::Family::kNone;
  // Final destination port as ipvsadm hands it to the kernel: the service's port for -g/-i
  // (unless fwmark), the -r port otherwise, the service port seen at -r time when -r had none.
  uint16_t port = 0;
  core::Fwd fwd = core::Fwd::kDr;  // -g default
  int32_t weight = 1;
  int32_t u_threshold = 0;
  int32_t l_threshold = 0;
  core::TunType tun_type = core::TunType::kIpip;
  uint16_t tun_port = 0;
  uint16_t tun_flags = 0;  // core::kTunFlag* (--tun-nocsum is 0)
};

struct TimeoutArgs {  // --set tcp tcpfin udp
  uint32_t tcp = 0;
  uint32_t tcp_fin = 0;
  uint32_t udp = 0;
};

enum class DaemonState : uint8_t { kNone = 0, kMaster = 1, kBackup = 2 };  // IP_VS_STATE_*

struct DaemonArgs {
  DaemonState state = DaemonState::kNone;
  std::string mcast_ifn;  // truncated to 15 chars; kDefaultMcastIfn for --start-daemon
  int syncid = 0;
  std::optional<net::IpAddr> mcast_group;
  uint16_t mcast_port = 0;
  uint8_t mcast_ttl = 0;
  uint16_t sync_maxlen = 0;
};

struct Command {
  CommandKind kind = CommandKind::kList;
  uint64_t options = 0;  // opt_bit(Opt) of every option given
  unsigned format = 0;   // kFmt*
  ServiceArgs svc;
  DestArgs dest;
  TimeoutArgs timeout;
  DaemonArgs daemon;
  bool has(Opt o) const { return (options & opt_bit(o)) != 0; }
};

// How ipvsadm ends on the error. kFail: fail(2, ...); kTryHelp: tryhelp_exit(argv[0], -1);
// kPopt: popt reported a bad option, process_options returned -1 (exit 255; under -R the next
// line is still read, as restore_table ignores it). Only kPopt is not an immediate exit().
enum class ErrorKind : uint8_t { kFail, kTryHelp, kPopt };

struct ParseError {
  ErrorKind kind = ErrorKind::kFail;
  int exit_code = 2;    // the process status: 2, or 255 for exit(-1) / return -1
  std::string message;  // the text before the final '\n' ipvsadm writes to stderr
  std::string stderr_text() const { return message + "\n"; }
};

class ParseResult {
 public:
  ParseResult(Command c) : v_(std::move(c)) {}     // NOLINT: implicit by design
  ParseResult(ParseError e) : v_(std::move(e)) {}  // NOLINT
  bool ok() const { return std::holds_alternative<Command>(v_); }
  const Command& command() const { return std::get<Command>(v_); }
  const ParseError& error() const { return std::get<ParseError>(v_); }

 private:
  std::variant<Command, ParseError> v_;
};

// argv[0] is the program name (used in "Try `%s -h' ..."). Only argv[0]: ipvsadm lists the
// table, so this returns kList with no options.
ParseResult parse_args(std::span<const std::string_view> argv,
                       const ForwardResolver& resolver = {});

// -R: one line of restore input, split as config_stream_read() does (on space, tab, CR, LF;
// every token equal to "ipvsadm" dropped; no comment syntax: its '#' test never matches).
// nullopt when the line has no token (ipvsadm skips it). `program` is the outer argv[0]; a -R
// inside the input is ipvsadm's tryhelp_exit. Each returned error ends the restore unless its
// kind is kPopt; -h/-v end it too, after printing.
std::vector<std::string> split_restore_line(std::string_view line);
std::optional<ParseResult> parse_restore_line(std::string_view line, std::string_view program,
                                              const ForwardResolver& resolver = {});

// Building blocks, exposed for tests and for the listing code.

// string_to_number(): strtol base 10 over the whole text, within [min, max]; nullopt otherwise.
std::optional<long> string_to_number(std::string_view s, long min, long max);
// parse_service(): host[:port], [v6]:port, v6 (no port); nullopt when ipvsadm's result lacks
// SERVICE_ADDR. proto picks the service-name lookup (none for 0).
std::optional<HostPort> parse_endpoint(std::string_view text, uint8_t proto,
                                       const ForwardResolver& resolver);
// parse_sched_flags(): the kSvcFlagSched* bits, or the error message.
std::variant<uint32_t, std::string> parse_sched_flags(std::string_view scheduler,
                                                      std::string_view flags);

// usage_exit()'s text (program substituted) and version()'s line, both with trailing newline.
std::string usage_text(std::string_view program);
std::string version_text();

}  // namespace lvs::adm
