// parse_args(): ipvsadm.c's parse_options() and the checks of process_options(), over a small
// re-implementation of the popt 1.19 behaviour ipvsadm sees (poptGetNextOpt, poptGetArg,
// poptBadOption(POPT_BADOPTION_NOALIAS), poptStrerror).
#include "adm/args.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <array>
#include <climits>
#include <cstdlib>

namespace lvs::adm {
namespace {

// Option identities; short options use their letter, as ipvsadm's popt table does.
enum Tag : int {
  kTagSet = 128,
  kTagStartDaemon,
  kTagStopDaemon,
  kTagMcastInterface,
  kTagTimeout,
  kTagDaemon,
  kTagStats,
  kTagRate,
  kTagThresholds,
  kTagPersistentConn,
  kTagSort,
  kTagNoSort,
  kTagPe,
  kTagSctpService,
  kTagMcastGroup,
  kTagMcastPort,
  kTagMcastTtl,
  kTagSyncMaxlen,
  kTagTunInfo,
  kTagTunType,
  kTagTunPort,
  kTagTunNoCsum,
  kTagTunCsum,
  kTagTunRemCsum,
  kTagSyncId,
  kTagFullNat,
};

enum class ArgKind : uint8_t { kNone, kRequired, kOptional };

struct OptionDef {
  std::string_view long_name;
  char short_name;
  ArgKind arg;
  int tag;
};

// ipvsadm's options_table, plus lvs's --fullnat.
constexpr std::array kOptions = {
    OptionDef{"add-service", 'A', ArgKind::kNone, 'A'},
    OptionDef{"edit-service", 'E', ArgKind::kNone, 'E'},
    OptionDef{"delete-service", 'D', ArgKind::kNone, 'D'},
    OptionDef{"clear", 'C', ArgKind::kNone, 'C'},
    OptionDef{"list", 'L', ArgKind::kNone, 'L'},
    OptionDef{"list", 'l', ArgKind::kNone, 'l'},
    OptionDef{"zero", 'Z', ArgKind::kNone, 'Z'},
    OptionDef{"add-server", 'a', ArgKind::kNone, 'a'},
    OptionDef{"edit-server", 'e', ArgKind::kNone, 'e'},
    OptionDef{"delete-server", 'd', ArgKind::kNone, 'd'},
    OptionDef{"set", '\0', ArgKind::kNone, kTagSet},
    OptionDef{"help", 'h', ArgKind::kNone, 'h'},
    OptionDef{"version", 'v', ArgKind::kNone, 'v'},
    OptionDef{"restore", 'R', ArgKind::kNone, 'R'},
    OptionDef{"save", 'S', ArgKind::kNone, 'S'},
    OptionDef{"start-daemon", '\0', ArgKind::kRequired, kTagStartDaemon},
    OptionDef{"stop-daemon", '\0', ArgKind::kRequired, kTagStopDaemon},
    OptionDef{"tcp-service", 't', ArgKind::kRequired, 't'},
    OptionDef{"udp-service", 'u', ArgKind::kRequired, 'u'},
    OptionDef{"sctp-service", '\0', ArgKind::kRequired, kTagSctpService},
    OptionDef{"fwmark-service", 'f', ArgKind::kRequired, 'f'},
    OptionDef{"scheduler", 's', ArgKind::kRequired, 's'},
    OptionDef{"persistent", 'p', ArgKind::kOptional, 'p'},
    OptionDef{"netmask", 'M', ArgKind::kRequired, 'M'},
    OptionDef{"real-server", 'r', ArgKind::kRequired, 'r'},
    OptionDef{"masquerading", 'm', ArgKind::kNone, 'm'},
    OptionDef{"ipip", 'i', ArgKind::kNone, 'i'},
    OptionDef{"gatewaying", 'g', ArgKind::kNone, 'g'},
    // lvs's own: FULLNAT forwarding. ipvsadm has no such option (nor a short letter for it).
    OptionDef{"fullnat", '\0', ArgKind::kNone, kTagFullNat},
    OptionDef{"weight", 'w', ArgKind::kRequired, 'w'},
    OptionDef{"u-threshold", 'x', ArgKind::kRequired, 'x'},
    OptionDef{"l-threshold", 'y', ArgKind::kRequired, 'y'},
    OptionDef{"numeric", 'n', ArgKind::kNone, 'n'},
    OptionDef{"connection", 'c', ArgKind::kNone, 'c'},
    OptionDef{"mcast-interface", '\0', ArgKind::kRequired, kTagMcastInterface},
    OptionDef{"syncid", '\0', ArgKind::kRequired, kTagSyncId},
    OptionDef{"timeout", '\0', ArgKind::kNone, kTagTimeout},
    OptionDef{"daemon", '\0', ArgKind::kNone, kTagDaemon},
    OptionDef{"stats", '\0', ArgKind::kNone, kTagStats},
    OptionDef{"rate", '\0', ArgKind::kNone, kTagRate},
    OptionDef{"thresholds", '\0', ArgKind::kNone, kTagThresholds},
    OptionDef{"persistent-conn", '\0', ArgKind::kNone, kTagPersistentConn},
    OptionDef{"nosort", '\0', ArgKind::kNone, kTagNoSort},
    OptionDef{"sort", '\0', ArgKind::kNone, kTagSort},
    OptionDef{"exact", 'X', ArgKind::kNone, 'X'},
    OptionDef{"ipv6", '6', ArgKind::kNone, '6'},
    OptionDef{"ops", 'o', ArgKind::kNone, 'o'},
    OptionDef{"pe", '\0', ArgKind::kRequired, kTagPe},
    OptionDef{"sched-flags", 'b', ArgKind::kRequired, 'b'},
    OptionDef{"mcast-group", '\0', ArgKind::kRequired, kTagMcastGroup},
    OptionDef{"mcast-port", '\0', ArgKind::kRequired, kTagMcastPort},
    OptionDef{"mcast-ttl", '\0', ArgKind::kRequired, kTagMcastTtl},
    OptionDef{"sync-maxlen", '\0', ArgKind::kRequired, kTagSyncMaxlen},
    OptionDef{"tun-info", '\0', ArgKind::kNone, kTagTunInfo},
    OptionDef{"tun-type", '\0', ArgKind::kRequired, kTagTunType},
    OptionDef{"tun-port", '\0', ArgKind::kRequired, kTagTunPort},
    OptionDef{"tun-nocsum", '\0', ArgKind::kNone, kTagTunNoCsum},
    OptionDef{"tun-csum", '\0', ArgKind::kNone, kTagTunCsum},
    OptionDef{"tun-remcsum", '\0', ArgKind::kNone, kTagTunRemCsum},
};

// poptStrerror() texts of the errors this table can produce.
enum class PoptError { kNoArg, kBadOpt, kUnwantedArg };
std::string_view popt_strerror(PoptError e) {
  switch (e) {
    case PoptError::kNoArg:
      return "missing argument";
    case PoptError::kBadOpt:
      return "unknown option";
    case PoptError::kUnwantedArg:
      return "option does not take an argument";
  }
  return "";
}

struct PoptEvent {
  enum Type { kOption, kEnd, kError } type = kEnd;
  int tag = 0;
  std::optional<std::string> arg;  // nullopt: none (POPT_ARG_NONE, or -p without a value)
  PoptError error = PoptError::kBadOpt;
};

// popt 1.19's poptGetNextOpt() for this table: exact long names ("--name", "--name=value"; no
// abbreviations, no single-dash long names), short clusters ("-Ln", "-s=rr", "-srr"), "--" ends
// options, other words are leftovers (popt permutes). A required value takes the next word
// whatever it looks like; the optional one (-p) does not take a word starting with '-'.
class Popt {
 public:
  explicit Popt(std::span<const std::string_view> argv) : argv_(argv) {}

  PoptEvent next() {
    while (true) {
      const OptionDef* opt = nullptr;
      std::optional<std::string_view> long_arg;
      if (!char_rest_) {
        if (next_ >= argv_.size()) return {};
        const std::string_view s = argv_[next_++];
        if (rest_leftover_ || s.empty() || s[0] != '-' || s == "-") {
          leftovers_.push_back(s);
          continue;
        }
        if (s == "--") {
          rest_leftover_ = true;
          continue;
        }
        if (s[1] == '-') {
          std::string_view name = s.substr(2);
          if (const size_t eq = name.find('='); eq != std::string_view::npos) {
            long_arg = name.substr(eq + 1);
            name = name.substr(0, eq);
          }
          opt = find_long(name);
          if (!opt) return error(PoptError::kBadOpt);
        } else {
          char_rest_ = s.substr(1);
        }
      }
      if (char_rest_) {
        std::string_view rest = *char_rest_;
        char_rest_.reset();
        opt = rest.empty() ? nullptr : find_short(rest[0]);
        if (!opt) return error(PoptError::kBadOpt);
        rest.remove_prefix(1);
        if (!rest.empty()) char_rest_ = rest[0] == '=' ? rest.substr(1) : rest;
      }
      PoptEvent ev;
      ev.type = PoptEvent::kOption;
      ev.tag = opt->tag;
      if (opt->arg == ArgKind::kNone) {
        if (long_arg || (char_rest_ && !char_rest_->empty() && (*char_rest_)[0] == '='))
          return error(PoptError::kUnwantedArg);
        return ev;
      }
      if (long_arg) {
        ev.arg = std::string(*long_arg);
      } else if (char_rest_) {
        std::string_view rest = *char_rest_;
        char_rest_.reset();
        if (!rest.empty() && rest[0] == '=') rest.remove_prefix(1);
        ev.arg = std::string(rest);
      } else if (next_ >= argv_.size()) {
        if (opt->arg != ArgKind::kOptional) return error(PoptError::kNoArg);
      } else if (opt->arg == ArgKind::kOptional && !argv_[next_].empty() &&
                 argv_[next_][0] == '-') {
        // -p followed by another option: no timeout given.
      } else {
        ev.arg = std::string(argv_[next_++]);
      }
      return ev;
    }
  }

  // poptBadOption(con, POPT_BADOPTION_NOALIAS): the last word consumed.
  std::string_view bad_option() const { return next_ > 0 ? argv_[next_ - 1] : ""; }

  // poptGetArg().
  std::optional<std::string_view> take_leftover() {
    if (next_leftover_ >= leftovers_.size()) return std::nullopt;
    return leftovers_[next_leftover_++];
  }

 private:
  static const OptionDef* find_long(std::string_view name) {
    for (const auto& o : kOptions)
      if (o.long_name == name) return &o;
    return nullptr;
  }
  static const OptionDef* find_short(char c) {
    if (c == '\0') return nullptr;
    for (const auto& o : kOptions)
      if (o.short_name == c) return &o;
    return nullptr;
  }
  PoptEvent error(PoptError e) {
    PoptEvent ev;
    ev.type = PoptEvent::kError;
    ev.error = e;
    return ev;
  }

  std::span<const std::string_view> argv_;
  size_t next_ = 1;                            // argv[0] is the program
  std::optional<std::string_view> char_rest_;  // popt's nextCharArg
  bool rest_leftover_ = false;
  std::vector<std::string_view> leftovers_;
  size_t next_leftover_ = 0;
};

// ipvsadm's commands_v_options, one row per CommandKind up to kZero, one column per Opt:
// '+' compulsory, 'x' illegal, '1' exclusive, ' ' optional.
//                                 n c svc s p M r fwd w x y mc tot dmn st rt thr pc srt sid
//                                 ex ops pe b grp port ttl size tinf type tprt nocs csum remc
constexpr std::array<std::string_view, kNumTableCommands> kCommandsVOptions = {
    "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",  // add-service
    "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",  // edit-service
    "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  // delete-service
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  // flush
    " 11xxxxxxxxx11       xxxxxxx xxxxx",  // list
    "xx+xxx+    xxxxxxxxxxxxxxxxxx     ",  // add-server
    "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",  // delete-server
    "xx+xxx+    xxxxxxxxxxxxxxxxxx     ",  // edit-server
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  // set
    "xxxxxxxxxxx xxxxxxx xxxx    xxxxxx",  // start-daemon
    "xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx",  // stop-daemon
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  // restore
    " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  // save
    "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  // zero
};
constexpr bool table_widths_ok() {
  for (auto row : kCommandsVOptions)
    if (row.size() != kNumOpts) return false;
  return true;
}
static_assert(table_widths_ok());

constexpr std::array<std::string_view, kNumOpts> kOptNames = {
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
};

constexpr std::array<std::string_view, kNumTableCommands + 2> kCommandNames = {
    "add-service", "edit-service", "delete-service", "flush",
    "list",        "add-server",   "delete-server",  "edit-server",
    "set",         "start-daemon", "stop-daemon",    "restore",
    "save",        "zero",         "help",           "version",
};

// tunnel_types_v_options: rows ipip, gue, gre; columns tun-port, tun-nocsum, tun-csum,
// tun-remcsum.
constexpr std::array<std::string_view, 3> kTunnelTypesVOptions = {"xxxx", "+111", "x11x"};
constexpr std::array<Opt, 4> kTunOpts = {Opt::kTunPort, Opt::kTunNoCsum, Opt::kTunCsum,
                                         Opt::kTunRemCsum};
constexpr std::array<std::string_view, 3> kTunNames = {"ipip", "gue", "gre"};

ParseError fail(std::string msg) { return ParseError{ErrorKind::kFail, 2, std::move(msg)}; }

ParseError tryhelp(std::string_view program) {
  return ParseError{ErrorKind::kTryHelp, 255,
                    fmt::format("Try `{0} -h' or '{0} --help' for more information.", program)};
}

// generic_opt_check().
std::optional<ParseError> generic_opt_check(CommandKind cmd, uint64_t options) {
  const auto row = kCommandsVOptions[static_cast<size_t>(cmd)];
  const auto cname = command_name(cmd);
  int count = 0;
  size_t last = 0;
  for (size_t j = 0; j < kNumOpts; ++j) {
    const bool given = options & (uint64_t{1} << j);
    if (!given) {
      if (row[j] == '+')
        return fail(fmt::format("You need to supply the '{}' option for the '{}' command",
                                kOptNames[j], cname));
      continue;
    }
    if (row[j] == 'x')
      return fail(fmt::format("Illegal '{}' option with the '{}' command", kOptNames[j], cname));
    if (row[j] == '1') {
      if (++count == 1) {
        last = j;
        continue;
      }
      return fail(fmt::format("The option '{}' conflicts with the '{}' option in the '{}' command",
                              kOptNames[j], kOptNames[last], cname));
    }
  }
  return std::nullopt;
}

// tunnel_opt_check().
std::optional<ParseError> tunnel_opt_check(core::TunType type, uint64_t options) {
  const size_t i = static_cast<size_t>(type);
  int count = 0;
  Opt last = Opt::kTunPort;
  for (size_t j = 0; j < kTunOpts.size(); ++j) {
    const Opt k = kTunOpts[j];
    const char rule = kTunnelTypesVOptions[i][j];
    if (!(options & opt_bit(k))) {
      if (rule == '+')
        return fail(fmt::format("You need to supply the '{}' option for the '{}' tunnel type",
                                opt_name(k), kTunNames[i]));
      continue;
    }
    if (rule == 'x')
      return fail(
          fmt::format("Illegal '{}' option with the '{}' tunnel type", opt_name(k), kTunNames[i]));
    if (rule == '1') {
      if (++count == 1) {
        last = k;
        continue;
      }
      return fail(
          fmt::format("The option '{}' conflicts with the '{}' option in the '{}' tunnel type",
                      opt_name(k), opt_name(last), kTunNames[i]));
    }
  }
  return std::nullopt;
}

// parse_timeout(): NULL (a bare -p) is the default persistence timeout.
std::variant<uint32_t, ParseError> parse_timeout(const std::optional<std::string>& s, long min,
                                                 long max) {
  if (!s) return kDefaultPersistentTimeout;
  if (auto n = string_to_number(*s, min, max)) return static_cast<uint32_t>(*n);
  return fail(fmt::format("invalid timeout value `{}' specified", *s));
}

// parse_fwmark(): strtol into an unsigned long, 1..UINT_MAX.
std::optional<uint32_t> parse_fwmark(const std::string& s) {
  char* end = nullptr;
  errno = 0;
  const unsigned long l = static_cast<unsigned long>(std::strtol(s.c_str(), &end, 10));
  if (*end != '\0' || end == s.c_str() || errno == ERANGE || l == 0 || l > UINT_MAX)
    return std::nullopt;
  return static_cast<uint32_t>(l);
}

// --mcast-group: IPv6 when the text has a ':', and multicast in either family.
std::optional<net::IpAddr> parse_mcast_group(const std::string& s) {
  if (s.find(':') != std::string::npos) {
    in6_addr a6;
    if (inet_pton(AF_INET6, s.c_str(), &a6) <= 0 || a6.s6_addr[0] != 0xff) return std::nullopt;
    return net::IpAddr::v6(a6.s6_addr);
  }
  in_addr a4;
  if (inet_pton(AF_INET, s.c_str(), &a4) <= 0) return std::nullopt;
  const auto* b = reinterpret_cast<const uint8_t*>(&a4.s_addr);
  if ((b[0] & 0xf0) != 0xe0) return std::nullopt;  // IN_MULTICAST
  return net::IpAddr::v4(b);
}

std::string truncated(const std::string& s, size_t n) { return s.substr(0, n); }

class Parser {
 public:
  Parser(std::span<const std::string_view> argv, const ForwardResolver& resolver,
         bool reading_stdin)
      : argv_(argv), popt_(argv), resolver_(resolver), reading_stdin_(reading_stdin) {}

  ParseResult run() {
    const std::string_view program = argv_.empty() ? std::string_view("ipvsadm") : argv_[0];
    if (argv_.size() <= 1) return ce_;  // main(): no argument lists the table
    if (auto e = parse_options(program)) return *e;
    if (ce_.kind == CommandKind::kHelp || ce_.kind == CommandKind::kVersion) return ce_;
    if (auto e = process_checks(program)) return *e;
    return ce_;
  }

 private:
  // parse_options(): the first option must be the command.
  std::optional<ParseError> parse_options(std::string_view program) {
    PoptEvent ev = popt_.next();
    if (ev.type != PoptEvent::kOption) return tryhelp(program);
    switch (ev.tag) {
      case 'A':
        ce_.kind = CommandKind::kAddService;
        break;
      case 'E':
        ce_.kind = CommandKind::kEditService;
        break;
      case 'D':
        ce_.kind = CommandKind::kDeleteService;
        break;
      case 'a':
        ce_.kind = CommandKind::kAddServer;
        break;
      case 'e':
        ce_.kind = CommandKind::kEditServer;
        break;
      case 'd':
        ce_.kind = CommandKind::kDeleteServer;
        break;
      case 'C':
        ce_.kind = CommandKind::kFlush;
        break;
      case 'L':
      case 'l':
        ce_.kind = CommandKind::kList;
        break;
      case 'Z':
        ce_.kind = CommandKind::kZero;
        break;
      case kTagSet:
        ce_.kind = CommandKind::kSetTimeout;
        break;
      case 'R':
        ce_.kind = CommandKind::kRestore;
        break;
      case 'S':
        ce_.kind = CommandKind::kSave;
        break;
      case kTagStartDaemon:
      case kTagStopDaemon: {
        const bool start = ev.tag == kTagStartDaemon;
        ce_.kind = start ? CommandKind::kStartDaemon : CommandKind::kStopDaemon;
        if (*ev.arg == "master") {
          ce_.daemon.state = DaemonState::kMaster;
        } else if (*ev.arg == "backup") {
          ce_.daemon.state = DaemonState::kBackup;
        } else {
          // Both texts are ipvsadm's, the second with its underscore.
          return fail(start ? "illegal start-daemon parameter specified"
                            : "illegal start_daemon specified");
        }
        break;
      }
      case 'h':
        ce_.kind = CommandKind::kHelp;
        return std::nullopt;
      case 'v':
        ce_.kind = CommandKind::kVersion;
        return std::nullopt;
      default:
        return tryhelp(program);
    }

    std::string sched_flags_arg;
    while (true) {
      ev = popt_.next();
      if (ev.type == PoptEvent::kEnd) break;
      if (ev.type == PoptEvent::kError)
        return ParseError{ErrorKind::kPopt, 255,
                          fmt::format("{}: {}", popt_.bad_option(), popt_strerror(ev.error))};
      if (auto e = handle_option(ev, sched_flags_arg)) return e;
    }

    if (ce_.kind == CommandKind::kSetTimeout) {
      auto tcp = popt_.take_leftover();
      auto fin = tcp ? popt_.take_leftover() : std::nullopt;
      auto udp = fin ? popt_.take_leftover() : std::nullopt;
      if (!udp) return fail("--set option requires 3 timeout values");
      uint32_t* dst[] = {&ce_.timeout.tcp, &ce_.timeout.tcp_fin, &ce_.timeout.udp};
      const std::string_view* src[] = {&*tcp, &*fin, &*udp};
      for (int i = 0; i < 3; ++i) {
        auto t = parse_timeout(std::string(*src[i]), 0, kMaxTimeout);
        if (auto* e = std::get_if<ParseError>(&t)) return *e;
        *dst[i] = std::get<uint32_t>(t);
      }
    }
    if (auto extra = popt_.take_leftover())
      return fail(fmt::format("unexpected argument {}", *extra));

    if (!sched_flags_arg.empty()) {
      auto bits = parse_sched_flags(ce_.svc.scheduler, sched_flags_arg);
      if (auto* msg = std::get_if<std::string>(&bits)) return fail(*msg);
      ce_.svc.flags = (ce_.svc.flags & ~kSvcSchedFlagsMask) | std::get<uint32_t>(bits);
    }
    return std::nullopt;
  }

  // set_option().
  std::optional<ParseError> set_option(Opt o) {
    if (ce_.has(o)) return fail(fmt::format("multiple '{}' options specified", opt_name(o)));
    ce_.options |= opt_bit(o);
    return std::nullopt;
  }
  std::optional<ParseError> set_format(Opt o, unsigned fmt) {
    ce_.format |= fmt;
    return set_option(o);
  }

  std::optional<ParseError> number(Opt o, const std::string& s, long min, long max,
                                   std::string_view what, long& out) {
    if (auto e = set_option(o)) return e;
    auto n = string_to_number(s, min, max);
    if (!n) return fail(fmt::format("illegal {} specified", what));
    out = *n;
    return std::nullopt;
  }

  std::optional<ParseError> handle_option(const PoptEvent& ev, std::string& sched_flags_arg) {
    const std::string arg = ev.arg.value_or("");
    auto& svc = ce_.svc;
    auto& dest = ce_.dest;
    long n = 0;
    std::optional<ParseError> e;
    switch (ev.tag) {
      case 't':
      case 'u':
      case kTagSctpService: {
        if ((e = set_option(Opt::kService))) return e;
        svc.protocol = ev.tag == 't' ? kProtoTcp : ev.tag == 'u' ? kProtoUdp : kProtoSctp;
        auto ep = parse_endpoint(arg, svc.protocol, resolver_);
        if (!ep) return fail("illegal virtual server address[:port] specified");
        svc.af = ep->family;
        if (ep->family == net::Family::kV6) svc.netmask = 128;
        if (ep->has_port) svc.port = ep->port;
        svc.endpoint = std::move(*ep);
        return std::nullopt;
      }
      case 'f': {
        if ((e = set_option(Opt::kService))) return e;
        svc.af = net::Family::kV4;
        svc.protocol = kProtoTcp;
        auto mark = parse_fwmark(arg);
        if (!mark) return fail(fmt::format("invalid fwmark value `{}' specified", arg));
        svc.fwmark = *mark;
        return std::nullopt;
      }
      case 's':
        if ((e = set_option(Opt::kScheduler))) return e;
        svc.scheduler = truncated(arg, 15);  // IP_VS_SCHEDNAME_MAXLEN - 1
        return std::nullopt;
      case 'p': {
        if ((e = set_option(Opt::kPersistent))) return e;
        svc.flags |= kSvcFlagPersistent;
        auto t = parse_timeout(ev.arg, 1, kMaxTimeout);
        if (auto* err = std::get_if<ParseError>(&t)) return *err;
        svc.timeout = std::get<uint32_t>(t);
        return std::nullopt;
      }
      case 'M':
        if ((e = set_option(Opt::kNetmask))) return e;
        return parse_netmask(arg);
      case 'r': {
        if ((e = set_option(Opt::kServer))) return e;
        auto ep = parse_endpoint(arg, svc.protocol, resolver_);
        if (!ep) return fail("illegal real server address[:port] specified");
        dest.af = ep->family;
        dest.port = ep->has_port ? ep->port : svc.port;  // vport when none given
        dest.endpoint = std::move(*ep);
        return std::nullopt;
      }
      case 'i':
      case 'g':
      case 'm':
      case kTagFullNat:
        if ((e = set_option(Opt::kForward))) return e;
        dest.fwd = ev.tag == 'i'   ? core::Fwd::kTun
                   : ev.tag == 'g' ? core::Fwd::kDr
                   : ev.tag == 'm' ? core::Fwd::kNat
                                   : core::Fwd::kFullNat;
        return std::nullopt;
      case 'w':
        if ((e = number(Opt::kWeight, arg, 0, 65535, "weight", n))) return e;
        dest.weight = static_cast<int32_t>(n);
        return std::nullopt;
      case 'x':
        if ((e = number(Opt::kUThreshold, arg, 0, INT_MAX, "u_threshold", n))) return e;
        dest.u_threshold = static_cast<int32_t>(n);
        return std::nullopt;
      case 'y':
        if ((e = number(Opt::kLThreshold, arg, 0, INT_MAX, "l_threshold", n))) return e;
        dest.l_threshold = static_cast<int32_t>(n);
        return std::nullopt;
      case 'c':
        return set_option(Opt::kConnection);
      case 'n':
        return set_format(Opt::kNumeric, kFmtNumeric);
      case kTagMcastInterface:
        if ((e = set_option(Opt::kMcast))) return e;
        ce_.daemon.mcast_ifn = truncated(arg, 15);  // IP_VS_IFNAME_MAXLEN - 1
        return std::nullopt;
      case kTagSyncId:
        if ((e = number(Opt::kSyncId, arg, 0, 255, "syncid", n))) return e;
        ce_.daemon.syncid = static_cast<int>(n);
        return std::nullopt;
      case kTagTimeout:
        return set_option(Opt::kTimeout);
      case kTagDaemon:
        return set_option(Opt::kDaemon);
      case kTagStats:
        return set_format(Opt::kStats, kFmtStats);
      case kTagRate:
        return set_format(Opt::kRate, kFmtRate);
      case kTagThresholds:
        return set_format(Opt::kThresholds, kFmtThresholds);
      case kTagPersistentConn:
        return set_format(Opt::kPersistentConn, kFmtPersistentConn);
      case kTagNoSort:
        return set_format(Opt::kNoSort, kFmtNoSort);
      case kTagSort:
        return std::nullopt;  // sorting is the default; accepted for compatibility
      case 'X':
        return set_format(Opt::kExact, kFmtExact);
      case '6':
        if (!svc.fwmark) return fail("-6 used before -f\n");  // sic: fail() adds another
        svc.af = net::Family::kV6;
        svc.netmask = 128;
        return std::nullopt;
      case 'o':
        if ((e = set_option(Opt::kOnePacket))) return e;
        svc.flags |= kSvcFlagOnePacket;
        return std::nullopt;
      case kTagPe:
        if ((e = set_option(Opt::kPersistenceEngine))) return e;
        svc.pe_name = truncated(arg, 16);  // IP_VS_PENAME_MAXLEN
        return std::nullopt;
      case 'b':
        if ((e = set_option(Opt::kSchedFlags))) return e;
        sched_flags_arg = truncated(arg, 127);  // parsed once -s is known
        return std::nullopt;
      case kTagMcastGroup: {
        if ((e = set_option(Opt::kMcastGroup))) return e;
        auto g = parse_mcast_group(arg);
        if (!g)
          return fail(fmt::format("invalid {} mcast-group `{}'",
                                  arg.find(':') != std::string::npos ? "IPv6" : "IPv4", arg));
        ce_.daemon.mcast_group = g;
        return std::nullopt;
      }
      case kTagMcastPort:
        if ((e = number(Opt::kMcastPort, arg, 1, 65535, "mcast-port", n))) return e;
        ce_.daemon.mcast_port = static_cast<uint16_t>(n);
        return std::nullopt;
      case kTagMcastTtl:
        if ((e = number(Opt::kMcastTtl, arg, 1, 255, "mcast-ttl", n))) return e;
        ce_.daemon.mcast_ttl = static_cast<uint8_t>(n);
        return std::nullopt;
      case kTagSyncMaxlen:
        if ((e = number(Opt::kSyncMaxlen, arg, 1, 65535 - 20 - 8, "sync-maxlen", n))) return e;
        ce_.daemon.sync_maxlen = static_cast<uint16_t>(n);
        return std::nullopt;
      case kTagTunInfo:
        return set_format(Opt::kTunInfo, kFmtTunInfo);
      case kTagTunType:
        if ((e = set_option(Opt::kTunType))) return e;
        if (arg == "ipip") {
          dest.tun_type = core::TunType::kIpip;
        } else if (arg == "gue") {
          dest.tun_type = core::TunType::kGue;
        } else if (arg == "gre") {
          dest.tun_type = core::TunType::kGre;
        } else {
          return fail("illegal tunnel type specified");
        }
        return std::nullopt;
      case kTagTunPort:
        if ((e = number(Opt::kTunPort, arg, 1, 65535, "tunnel port", n))) return e;
        dest.tun_port = static_cast<uint16_t>(n);
        return std::nullopt;
      case kTagTunNoCsum:
        return set_option(Opt::kTunNoCsum);  // IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM is 0
      case kTagTunCsum:
        if ((e = set_option(Opt::kTunCsum))) return e;
        dest.tun_flags |= core::kTunFlagCsum;
        return std::nullopt;
      case kTagTunRemCsum:
        if ((e = set_option(Opt::kTunRemCsum))) return e;
        dest.tun_flags |= core::kTunFlagRemCsum;
        return std::nullopt;
      default:  // a command, -h or -v after the command
        return fail(fmt::format("invalid option `{}'", popt_.bad_option()));
    }
  }

  // parse_netmask() for IPv4 services (inet_aton, then gethostbyname), a prefix length (atoi)
  // once the service is IPv6.
  std::optional<ParseError> parse_netmask(const std::string& arg) {
    auto& svc = ce_.svc;
    if (svc.af != net::Family::kV6) {
      in_addr a4;
      if (inet_aton(arg.c_str(), &a4) != 0) {
        svc.netmask = ntohl(a4.s_addr);
        return std::nullopt;
      }
      if (resolver_.host) {
        auto a = resolver_.host(arg);
        if (!a || !a->is_v4()) return fail("illegal virtual server persistent mask specified");
        const auto* b = a->data();
        svc.netmask = uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
        return std::nullopt;
      }
      if (arg.empty()) return fail("illegal virtual server persistent mask specified");
      svc.netmask_host = arg;  // a name: the caller resolves it
      return std::nullopt;
    }
    const long v = std::strtol(arg.c_str(), nullptr, 10);  // atoi
    if (v < 1 || v > 128) return fail("illegal ipv6 netmask specified");
    svc.netmask = static_cast<uint32_t>(v);
    return std::nullopt;
  }

  // The checks process_options() makes before acting.
  std::optional<ParseError> process_checks(std::string_view program) {
    if (auto e = generic_opt_check(ce_.kind, ce_.options)) return e;
    auto& svc = ce_.svc;
    auto& dest = ce_.dest;
    const auto k = ce_.kind;
    if (k == CommandKind::kAddService || k == CommandKind::kEditService) {
      if (!svc.fwmark && !svc.port && !(svc.flags & kSvcFlagPersistent))
        return fail("Zero port specified for non-persistent service");
      if ((svc.flags & kSvcFlagOnePacket) && !svc.fwmark && svc.protocol != kProtoUdp)
        return fail("One-Packet Scheduling is only for UDP virtual services");
      if (svc.scheduler.empty()) svc.scheduler = kDefaultScheduler;
    }
    if (k == CommandKind::kStartDaemon && ce_.daemon.mcast_ifn.empty())
      ce_.daemon.mcast_ifn = kDefaultMcastIfn;
    if (k == CommandKind::kAddServer || k == CommandKind::kEditServer) {
      // DR and TUN cannot change the port.
      if (!svc.fwmark && (dest.fwd == core::Fwd::kTun || dest.fwd == core::Fwd::kDr))
        dest.port = svc.port;
      // lvs: FULLNAT may cross families too (NAT64), as tunnels do in ipvsadm.
      if (dest.af != svc.af && dest.fwd != core::Fwd::kTun && dest.fwd != core::Fwd::kFullNat)
        return fail("Different address family is allowed only for tunneling servers");
      constexpr uint64_t kTunOptBits = opt_bit(Opt::kTunType) | opt_bit(Opt::kTunPort) |
                                       opt_bit(Opt::kTunNoCsum) | opt_bit(Opt::kTunCsum) |
                                       opt_bit(Opt::kTunRemCsum);
      if ((ce_.options & kTunOptBits) && dest.fwd != core::Fwd::kTun)
        return fail("Tunnel options conflict with forward method");
      if (auto e = tunnel_opt_check(dest.tun_type, ce_.options)) return e;
    }
    if (k == CommandKind::kList) {
      const uint64_t o = ce_.options;
      const uint64_t what =
          opt_bit(Opt::kConnection) | opt_bit(Opt::kTimeout) | opt_bit(Opt::kDaemon);
      const uint64_t details =
          opt_bit(Opt::kStats) | opt_bit(Opt::kRate) | opt_bit(Opt::kThresholds);
      const uint64_t td = opt_bit(Opt::kTimeout) | opt_bit(Opt::kDaemon);
      if (((o & what) && (o & details)) || ((o & td) && (o & opt_bit(Opt::kPersistentConn))))
        return fail("options conflicts in the list command");
    }
    if (k == CommandKind::kRestore && reading_stdin_) return tryhelp(program);  // no recursion
    return std::nullopt;
  }

  std::span<const std::string_view> argv_;
  Popt popt_;
  const ForwardResolver& resolver_;
  bool reading_stdin_;
  Command ce_;
};

}  // namespace

std::string_view command_name(CommandKind k) { return kCommandNames[static_cast<size_t>(k)]; }
std::string_view opt_name(Opt o) { return kOptNames[static_cast<size_t>(o)]; }

char command_option_rule(CommandKind k, Opt o) {
  if (static_cast<int>(k) >= kNumTableCommands) return 'x';
  return kCommandsVOptions[static_cast<size_t>(k)][static_cast<size_t>(o)];
}

ParseResult parse_args(std::span<const std::string_view> argv, const ForwardResolver& resolver) {
  return Parser(argv, resolver, false).run();
}

std::optional<ParseResult> parse_restore_line(std::string_view line, std::string_view program,
                                              const ForwardResolver& resolver) {
  const std::vector<std::string> tokens = split_restore_line(line);
  if (tokens.empty()) return std::nullopt;
  std::vector<std::string_view> argv;
  argv.reserve(tokens.size() + 1);
  argv.push_back(program);  // config_stream_read's first_element
  for (const auto& t : tokens) argv.push_back(t);
  return Parser(argv, resolver, true).run();
}

}  // namespace lvs::adm
