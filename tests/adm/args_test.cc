// ipvsadm 1.31's command line (ipvsadm.c parse_options/process_options over popt 1.19): every
// command and option, the defaults, and the exact error texts and exit statuses.
#include "adm/args.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace lvs::adm {
namespace {

ParseResult parse(std::initializer_list<std::string_view> args, const ForwardResolver& r = {}) {
  std::vector<std::string_view> argv{"ipvsadm"};
  argv.insert(argv.end(), args.begin(), args.end());
  return parse_args(argv, r);
}

Command ok(std::initializer_list<std::string_view> args, const ForwardResolver& r = {}) {
  auto res = parse(args, r);
  if (!res.ok()) {
    ADD_FAILURE() << "unexpected error: " << res.error().message;
    return Command{};
  }
  return res.command();
}

ParseError err(std::initializer_list<std::string_view> args, const ForwardResolver& r = {}) {
  auto res = parse(args, r);
  if (res.ok()) {
    ADD_FAILURE() << "expected an error";
    return ParseError{};
  }
  return res.error();
}

// fail(2, ...): the message, exit status 2.
void expect_fail(std::initializer_list<std::string_view> args, std::string_view msg,
                 const ForwardResolver& r = {}) {
  auto e = err(args, r);
  EXPECT_EQ(e.kind, ErrorKind::kFail) << msg;
  EXPECT_EQ(e.exit_code, 2) << msg;
  EXPECT_EQ(e.message, msg);
}

void expect_popt(std::initializer_list<std::string_view> args, std::string_view msg) {
  auto e = err(args);
  EXPECT_EQ(e.kind, ErrorKind::kPopt) << msg;
  EXPECT_EQ(e.exit_code, 255) << msg;
  EXPECT_EQ(e.message, msg);
}

constexpr std::string_view kTryHelp = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.";

void expect_tryhelp(std::initializer_list<std::string_view> args) {
  auto e = err(args);
  EXPECT_EQ(e.kind, ErrorKind::kTryHelp);
  EXPECT_EQ(e.exit_code, 255);
  EXPECT_EQ(e.message, kTryHelp);
}

net::IpAddr v4(const char* s) { return *net::IpAddr::parse(s); }

// ---- Commands ----

TEST(AdmArgs, NoArgumentListsTheTable) {
  std::vector<std::string_view> argv{"ipvsadm"};
  auto r = parse_args(argv);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.command().kind, CommandKind::kList);
  EXPECT_EQ(r.command().options, 0u);
}

TEST(AdmArgs, EveryCommandShortAndLong) {
  struct Case {
    std::vector<std::string_view> args;
    CommandKind kind;
  };
  const std::vector<Case> cases = {
      {{"-A", "-t", "1.2.3.4:80"}, CommandKind::kAddService},
      {{"--add-service", "-t", "1.2.3.4:80"}, CommandKind::kAddService},
      {{"-E", "-t", "1.2.3.4:80"}, CommandKind::kEditService},
      {{"--edit-service", "-t", "1.2.3.4:80"}, CommandKind::kEditService},
      {{"-D", "-t", "1.2.3.4:80"}, CommandKind::kDeleteService},
      {{"--delete-service", "-t", "1.2.3.4:80"}, CommandKind::kDeleteService},
      {{"-C"}, CommandKind::kFlush},
      {{"--clear"}, CommandKind::kFlush},
      {{"-R"}, CommandKind::kRestore},
      {{"--restore"}, CommandKind::kRestore},
      {{"-S"}, CommandKind::kSave},
      {{"--save"}, CommandKind::kSave},
      {{"-a", "-t", "1.2.3.4:80", "-r", "10.0.0.1"}, CommandKind::kAddServer},
      {{"--add-server", "-t", "1.2.3.4:80", "-r", "10.0.0.1"}, CommandKind::kAddServer},
      {{"-e", "-t", "1.2.3.4:80", "-r", "10.0.0.1"}, CommandKind::kEditServer},
      {{"--edit-server", "-t", "1.2.3.4:80", "-r", "10.0.0.1"}, CommandKind::kEditServer},
      {{"-d", "-t", "1.2.3.4:80", "-r", "10.0.0.1"}, CommandKind::kDeleteServer},
      {{"--delete-server", "-t", "1.2.3.4:80", "-r", "10.0.0.1"}, CommandKind::kDeleteServer},
      {{"-L"}, CommandKind::kList},
      {{"-l"}, CommandKind::kList},
      {{"--list"}, CommandKind::kList},
      {{"-Z"}, CommandKind::kZero},
      {{"--zero"}, CommandKind::kZero},
      {{"--set", "1", "2", "3"}, CommandKind::kSetTimeout},
      {{"--start-daemon", "master"}, CommandKind::kStartDaemon},
      {{"--stop-daemon", "master"}, CommandKind::kStopDaemon},
      {{"-h"}, CommandKind::kHelp},
      {{"--help"}, CommandKind::kHelp},
      {{"-v"}, CommandKind::kVersion},
      {{"--version"}, CommandKind::kVersion},
  };
  for (const auto& c : cases) {
    std::vector<std::string_view> argv{"ipvsadm"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = parse_args(argv);
    ASSERT_TRUE(r.ok()) << c.args[0] << ": " << r.error().message;
    EXPECT_EQ(r.command().kind, c.kind) << c.args[0];
  }
}

TEST(AdmArgs, HelpAndVersionEndParsingAtOnce) {
  // usage_exit() runs before anything after -h is looked at.
  EXPECT_EQ(ok({"-h", "--bogus", "extra"}).kind, CommandKind::kHelp);
  EXPECT_EQ(ok({"-v", "-w", "x"}).kind, CommandKind::kVersion);
}

TEST(AdmArgs, CommandNames) {
  EXPECT_EQ(command_name(CommandKind::kAddService), "add-service");
  EXPECT_EQ(command_name(CommandKind::kFlush), "flush");
  EXPECT_EQ(command_name(CommandKind::kSetTimeout), "set");
  EXPECT_EQ(command_name(CommandKind::kZero), "zero");
  EXPECT_EQ(opt_name(Opt::kForward), "forwarding-method");
  EXPECT_EQ(opt_name(Opt::kService), "service-address");
  EXPECT_EQ(opt_name(Opt::kNoSort), "nosort");
  EXPECT_EQ(opt_name(Opt::kTunRemCsum), "tun-remcsum");
}

TEST(AdmArgs, CommandsVOptionsTable) {
  EXPECT_EQ(command_option_rule(CommandKind::kAddService, Opt::kService), '+');
  EXPECT_EQ(command_option_rule(CommandKind::kAddService, Opt::kScheduler), ' ');
  EXPECT_EQ(command_option_rule(CommandKind::kAddService, Opt::kForward), 'x');
  EXPECT_EQ(command_option_rule(CommandKind::kList, Opt::kConnection), '1');
  EXPECT_EQ(command_option_rule(CommandKind::kList, Opt::kDaemon), '1');
  EXPECT_EQ(command_option_rule(CommandKind::kList, Opt::kTunInfo), ' ');
  EXPECT_EQ(command_option_rule(CommandKind::kList, Opt::kSyncMaxlen), 'x');
  EXPECT_EQ(command_option_rule(CommandKind::kAddServer, Opt::kServer), '+');
  EXPECT_EQ(command_option_rule(CommandKind::kAddServer, Opt::kTunRemCsum), ' ');
  EXPECT_EQ(command_option_rule(CommandKind::kDeleteServer, Opt::kWeight), 'x');
  EXPECT_EQ(command_option_rule(CommandKind::kStartDaemon, Opt::kMcast), ' ');
  EXPECT_EQ(command_option_rule(CommandKind::kStartDaemon, Opt::kSyncMaxlen), ' ');
  EXPECT_EQ(command_option_rule(CommandKind::kStopDaemon, Opt::kSyncId), ' ');
  EXPECT_EQ(command_option_rule(CommandKind::kStopDaemon, Opt::kMcast), 'x');
  EXPECT_EQ(command_option_rule(CommandKind::kSave, Opt::kNumeric), ' ');
  EXPECT_EQ(command_option_rule(CommandKind::kZero, Opt::kService), ' ');
  EXPECT_EQ(command_option_rule(CommandKind::kRestore, Opt::kNumeric), 'x');
}

// ---- Services ----

TEST(AdmArgs, AddServiceDefaults) {
  auto c = ok({"-A", "-t", "192.0.2.1:80"});
  EXPECT_EQ(c.kind, CommandKind::kAddService);
  EXPECT_EQ(c.svc.protocol, kProtoTcp);
  EXPECT_EQ(c.svc.af, net::Family::kV4);
  EXPECT_EQ(c.svc.endpoint.addr, v4("192.0.2.1"));
  EXPECT_EQ(c.svc.endpoint.host, "192.0.2.1");
  EXPECT_EQ(c.svc.port, 80);
  EXPECT_EQ(c.svc.scheduler, "wlc");
  EXPECT_EQ(c.svc.netmask, 0xffffffffu);
  EXPECT_EQ(c.svc.flags, 0u);
  EXPECT_EQ(c.svc.timeout, 0u);
  EXPECT_EQ(c.options, opt_bit(Opt::kService));
  EXPECT_EQ(ok({"-E", "-t", "192.0.2.1:80"}).svc.scheduler, "wlc");
}

TEST(AdmArgs, ServiceProtocols) {
  EXPECT_EQ(ok({"-A", "-u", "192.0.2.1:53"}).svc.protocol, kProtoUdp);
  EXPECT_EQ(ok({"-A", "--udp-service", "192.0.2.1:53"}).svc.protocol, kProtoUdp);
  EXPECT_EQ(ok({"-A", "--tcp-service", "192.0.2.1:53"}).svc.protocol, kProtoTcp);
  EXPECT_EQ(ok({"-A", "--sctp-service", "192.0.2.1:53"}).svc.protocol, kProtoSctp);
  EXPECT_EQ(ok({"-A", "--sctp-service=192.0.2.1:53"}).svc.port, 53);
  EXPECT_EQ(ok({"-A", "--tcp-service=192.0.2.1:8080"}).svc.port, 8080);
}

TEST(AdmArgs, SchedulerForms) {
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "-s", "rr"}).svc.scheduler, "rr");
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "--scheduler", "sh"}).svc.scheduler, "sh");
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "--scheduler=mh"}).svc.scheduler, "mh");
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "-srr"}).svc.scheduler, "rr");
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "-s=lc"}).svc.scheduler, "lc");
  // IP_VS_SCHEDNAME_MAXLEN: 15 characters kept.
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "-s", "abcdefghijklmnopqrst"}).svc.scheduler,
            "abcdefghijklmno");
  // A required value takes the next word, even one that looks like an option.
  auto c = ok({"-A", "-t", "192.0.2.1:80", "-s", "-p"});
  EXPECT_EQ(c.svc.scheduler, "-p");
  EXPECT_FALSE(c.has(Opt::kPersistent));
}

TEST(AdmArgs, PersistentOptionalArgument) {
  auto bare = ok({"-A", "-t", "192.0.2.1:80", "-p"});
  EXPECT_EQ(bare.svc.timeout, kDefaultPersistentTimeout);
  EXPECT_EQ(bare.svc.timeout, 360u);  // IPVS_SVC_PERSISTENT_TIMEOUT
  EXPECT_EQ(bare.svc.flags & kSvcFlagPersistent, kSvcFlagPersistent);
  EXPECT_TRUE(bare.has(Opt::kPersistent));
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "-p", "600"}).svc.timeout, 600u);
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "-p600"}).svc.timeout, 600u);
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "-p=601"}).svc.timeout, 601u);
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "--persistent", "602"}).svc.timeout, 602u);
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "--persistent=603"}).svc.timeout, 603u);
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "--persistent"}).svc.timeout, 360u);
  // A following option is not taken as the timeout.
  auto c = ok({"-A", "-t", "192.0.2.1:80", "-p", "-s", "rr"});
  EXPECT_EQ(c.svc.timeout, 360u);
  EXPECT_EQ(c.svc.scheduler, "rr");
  EXPECT_EQ(ok({"-A", "-p", "-t", "192.0.2.1:80"}).svc.timeout, 360u);
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "-p", "2678400"}).svc.timeout, 2678400u);
  expect_fail({"-A", "-t", "192.0.2.1:80", "-p", "2678401"},
              "invalid timeout value `2678401' specified");
  expect_fail({"-A", "-t", "192.0.2.1:80", "-p", "0"}, "invalid timeout value `0' specified");
  expect_fail({"-A", "-t", "192.0.2.1:80", "-p", "abc"}, "invalid timeout value `abc' specified");
  expect_fail({"-A", "-t", "192.0.2.1:80", "-p", ""}, "invalid timeout value `' specified");
  expect_fail({"-A", "-t", "192.0.2.1:80", "--persistent="}, "invalid timeout value `' specified");
}

TEST(AdmArgs, ZeroPortNeedsPersistence) {
  expect_fail({"-A", "-t", "192.0.2.1"}, "Zero port specified for non-persistent service");
  expect_fail({"-E", "-t", "192.0.2.1:0"}, "Zero port specified for non-persistent service");
  auto c = ok({"-A", "-t", "192.0.2.1", "-p"});
  EXPECT_EQ(c.svc.port, 0);
  EXPECT_FALSE(c.svc.endpoint.has_port);
  EXPECT_EQ(ok({"-A", "-f", "1"}).svc.fwmark, 1u);
  // -D has no such check.
  EXPECT_TRUE(parse({"-D", "-t", "192.0.2.1"}).ok());
}

TEST(AdmArgs, Fwmark) {
  auto c = ok({"-A", "-f", "7"});
  EXPECT_EQ(c.svc.fwmark, 7u);
  EXPECT_EQ(c.svc.af, net::Family::kV4);
  EXPECT_EQ(c.svc.protocol, kProtoTcp);
  EXPECT_EQ(ok({"-A", "--fwmark-service", "8"}).svc.fwmark, 8u);
  EXPECT_EQ(ok({"-A", "--fwmark-service=9"}).svc.fwmark, 9u);
  EXPECT_EQ(ok({"-A", "-f", "4294967295"}).svc.fwmark, 4294967295u);
  expect_fail({"-A", "-f", "0"}, "invalid fwmark value `0' specified");
  expect_fail({"-A", "-f", "-1"}, "invalid fwmark value `-1' specified");
  expect_fail({"-A", "-f", "4294967296"}, "invalid fwmark value `4294967296' specified");
  expect_fail({"-A", "-f", "1x"}, "invalid fwmark value `1x' specified");
}

TEST(AdmArgs, Ipv6Fwmark) {
  auto c = ok({"-A", "-f", "7", "-6"});
  EXPECT_EQ(c.svc.af, net::Family::kV6);
  EXPECT_EQ(c.svc.netmask, 128u);
  EXPECT_EQ(ok({"-A", "-f", "7", "--ipv6"}).svc.af, net::Family::kV6);
  EXPECT_EQ(ok({"-L", "-f", "7", "-6"}).svc.af, net::Family::kV6);
  // ipvsadm's message ends in its own "\n" before fail() adds one.
  expect_fail({"-A", "-6", "-f", "7"}, "-6 used before -f\n");
  EXPECT_EQ(err({"-A", "-6", "-f", "7"}).stderr_text(), "-6 used before -f\n\n");
  expect_fail({"-A", "-t", "192.0.2.1:80", "-6"}, "-6 used before -f\n");
}

TEST(AdmArgs, ServiceAddresses) {
  auto v6 = ok({"-A", "-t", "[2001:db8::1]:443"});
  EXPECT_EQ(v6.svc.af, net::Family::kV6);
  EXPECT_EQ(v6.svc.endpoint.addr, net::IpAddr::parse("2001:db8::1"));
  EXPECT_EQ(v6.svc.endpoint.host, "2001:db8::1");
  EXPECT_EQ(v6.svc.port, 443);
  EXPECT_EQ(v6.svc.netmask, 128u);
  // Bare IPv6 has no port.
  auto bare = ok({"-A", "-t", "2001:db8::1", "-p"});
  EXPECT_EQ(bare.svc.af, net::Family::kV6);
  EXPECT_EQ(bare.svc.port, 0);
  // inet_aton's forms.
  EXPECT_EQ(ok({"-A", "-t", "127.1:80"}).svc.endpoint.addr, v4("127.0.0.1"));
  EXPECT_EQ(ok({"-A", "-t", "0x7f.0.0.2:80"}).svc.endpoint.addr, v4("127.0.0.2"));
  // A port text is kept as given; strtol accepts a sign.
  auto c = ok({"-A", "-t", "192.0.2.1:+81"});
  EXPECT_EQ(c.svc.port, 81);
  EXPECT_EQ(c.svc.endpoint.port_text, "+81");
  const char* kBad = "illegal virtual server address[:port] specified";
  expect_fail({"-A", "-t", "80"}, kBad);  // all digits
  expect_fail({"-A", "-t", ""}, kBad);
  expect_fail({"-A", "-t", "[2001:db8::1]"}, kBad);  // brackets need a port
  expect_fail({"-A", "-t", "[2001:db8::1:80"}, kBad);
  expect_fail({"-A", "-t", "192.0.2.1:65536"}, kBad);
  expect_fail({"-A", "-t", "192.0.2.1:"}, kBad);
  expect_fail({"-A", "-t", ":80"}, kBad);
  expect_fail({"-A", "-u", "192.0.2.1:domain"}, kBad);  // no service resolver
  // parse_service's quirk: "[1.2.3.4]:80" looks for the port inside the brackets.
  expect_fail({"-A", "-t", "[192.0.2.1]:80"}, "Zero port specified for non-persistent service");
}

TEST(AdmArgs, HostNamesStayTextWithoutResolver) {
  auto c = ok({"-A", "-t", "www.example.com:80"});
  EXPECT_EQ(c.svc.endpoint.host, "www.example.com");
  EXPECT_FALSE(c.svc.endpoint.addr.has_value());
  EXPECT_EQ(c.svc.af, net::Family::kV4);
  EXPECT_EQ(c.svc.port, 80);
}

TEST(AdmArgs, ResolverCallbacks) {
  std::vector<std::pair<std::string, uint8_t>> services;
  ForwardResolver r;
  r.host = [](std::string_view h) -> std::optional<net::IpAddr> {
    if (h == "web") return net::IpAddr::parse("198.51.100.7");
    if (h == "mask") return net::IpAddr::parse("255.255.0.0");
    return std::nullopt;
  };
  r.service = [&](std::string_view name, uint8_t proto) -> std::optional<uint16_t> {
    services.emplace_back(std::string(name), proto);
    if (name == "http") return 80;
    return std::nullopt;
  };
  auto c = ok({"-A", "-t", "web:http", "-M", "mask", "-p"}, r);
  EXPECT_EQ(c.svc.endpoint.addr, v4("198.51.100.7"));
  EXPECT_EQ(c.svc.endpoint.host, "web");
  EXPECT_EQ(c.svc.endpoint.port_text, "http");
  EXPECT_EQ(c.svc.port, 80);
  EXPECT_EQ(c.svc.netmask, 0xffff0000u);
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0].second, kProtoTcp);
  EXPECT_EQ(ok({"-A", "--sctp-service", "web:http"}, r).svc.port, 80);
  EXPECT_EQ(services.back().second, kProtoSctp);
  expect_fail({"-A", "-t", "nowhere:80"}, "illegal virtual server address[:port] specified", r);
  expect_fail({"-A", "-t", "web:nope"}, "illegal virtual server address[:port] specified", r);
  expect_fail({"-A", "-t", "web:80", "-M", "nomask"},
              "illegal virtual server persistent mask specified", r);
  // -r before -t: the service's protocol is still unset, so no service name lookup.
  expect_fail({"-a", "-r", "web:http", "-t", "web:80"},
              "illegal real server address[:port] specified", r);
}

TEST(AdmArgs, Netmask) {
  auto c = ok({"-A", "-t", "192.0.2.1:80", "-p", "-M", "255.255.255.0"});
  EXPECT_EQ(c.svc.netmask, 0xffffff00u);
  EXPECT_TRUE(c.has(Opt::kNetmask));
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "--netmask=255.255.0.0"}).svc.netmask, 0xffff0000u);
  EXPECT_EQ(ok({"-A", "-t", "[2001:db8::1]:80", "-M", "64"}).svc.netmask, 64u);
  EXPECT_EQ(ok({"-A", "-t", "[2001:db8::1]:80", "-M", "48xyz"}).svc.netmask, 48u);  // atoi
  expect_fail({"-A", "-t", "[2001:db8::1]:80", "-M", "0"}, "illegal ipv6 netmask specified");
  expect_fail({"-A", "-t", "[2001:db8::1]:80", "-M", "129"}, "illegal ipv6 netmask specified");
  // An IPv6 service given after -M resets the mask to 128, as parse_service does.
  EXPECT_EQ(ok({"-A", "-M", "255.0.0.0", "-t", "[2001:db8::1]:80"}).svc.netmask, 128u);
  // Without a host resolver a name is left to the caller.
  auto named = ok({"-A", "-t", "192.0.2.1:80", "-M", "masks"});
  EXPECT_EQ(named.svc.netmask_host, "masks");
  expect_fail({"-A", "-t", "192.0.2.1:80", "-M", ""},
              "illegal virtual server persistent mask specified");
}

TEST(AdmArgs, OnePacketScheduling) {
  auto c = ok({"-A", "-u", "192.0.2.1:53", "-o"});
  EXPECT_EQ(c.svc.flags & kSvcFlagOnePacket, kSvcFlagOnePacket);
  EXPECT_TRUE(ok({"-A", "-u", "192.0.2.1:53", "--ops"}).has(Opt::kOnePacket));
  EXPECT_TRUE(ok({"-A", "-f", "3", "-o"}).has(Opt::kOnePacket));
  expect_fail({"-A", "-t", "192.0.2.1:80", "-o"},
              "One-Packet Scheduling is only for UDP virtual services");
  expect_fail({"-E", "--sctp-service", "192.0.2.1:80", "-o"},
              "One-Packet Scheduling is only for UDP virtual services");
}

TEST(AdmArgs, PersistenceEngine) {
  auto c = ok({"-A", "-u", "192.0.2.1:5060", "-p", "--pe", "sip"});
  EXPECT_EQ(c.svc.pe_name, "sip");
  EXPECT_EQ(ok({"-A", "-u", "192.0.2.1:5060", "--pe=sip"}).svc.pe_name, "sip");
  EXPECT_EQ(ok({"-A", "-u", "192.0.2.1:5060", "--pe", "0123456789abcdefXYZ"}).svc.pe_name,
            "0123456789abcdef");  // IP_VS_PENAME_MAXLEN
}

TEST(AdmArgs, SchedFlags) {
  auto c = ok({"-A", "-t", "192.0.2.1:80", "-b", "flag-1,flag-3"});
  EXPECT_EQ(c.svc.flags, kSvcFlagSched1 | kSvcFlagSched3);
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "--sched-flags", "flag-2"}).svc.flags, kSvcFlagSched2);
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "--sched-flags=,flag-2,,"}).svc.flags, kSvcFlagSched2);
  // Checked against -s wherever it stands.
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "-b", "sh-fallback,sh-port", "-s", "sh"}).svc.flags,
            kSvcFlagSched1 | kSvcFlagSched2);
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "-s", "mh", "-b", "mh-port"}).svc.flags,
            kSvcFlagSched2);
  EXPECT_EQ(ok({"-A", "-t", "192.0.2.1:80", "-p", "-b", "flag-1"}).svc.flags,
            kSvcFlagPersistent | kSvcFlagSched1);
  // An empty -b is given but sets nothing.
  auto empty = ok({"-A", "-t", "192.0.2.1:80", "-b", ""});
  EXPECT_TRUE(empty.has(Opt::kSchedFlags));
  EXPECT_EQ(empty.svc.flags, 0u);
  expect_fail({"-A", "-t", "192.0.2.1:80", "-b", "sh-port"},
              "incompatible scheduler flag `sh-port'");
  expect_fail({"-A", "-t", "192.0.2.1:80", "-s", "sh", "-b", "mh-fallback"},
              "incompatible scheduler flag `mh-fallback'");
  expect_fail({"-A", "-t", "192.0.2.1:80", "-b", "flag-1,flag-4"},
              "invalid scheduler flag `flag-4'");
  EXPECT_EQ(std::get<uint32_t>(parse_sched_flags("", "flag-3")), kSvcFlagSched3);
  EXPECT_EQ(std::get<std::string>(parse_sched_flags("", "sh-fallback")),
            "incompatible scheduler flag `sh-fallback'");
}

TEST(AdmArgs, ServiceCommandsRejectServerOptions) {
  expect_fail({"-A", "-t", "192.0.2.1:80", "-m"},
              "Illegal 'forwarding-method' option with the 'add-service' command");
  expect_fail({"-E", "-t", "192.0.2.1:80", "-w", "3"},
              "Illegal 'weight' option with the 'edit-service' command");
  expect_fail({"-A", "-t", "192.0.2.1:80", "-n"},
              "Illegal 'numeric' option with the 'add-service' command");
  expect_fail({"-A", "-t", "192.0.2.1:80", "-r", "10.0.0.1"},
              "Illegal 'real-server' option with the 'add-service' command");
  expect_fail({"-D", "-t", "192.0.2.1:80", "-s", "rr"},
              "Illegal 'scheduler' option with the 'delete-service' command");
  expect_fail({"-D", "-t", "192.0.2.1:80", "-p"},
              "Illegal 'persistent' option with the 'delete-service' command");
  expect_fail({"-A", "-s", "rr"},
              "You need to supply the 'service-address' option for the 'add-service' command");
  expect_fail({"-D"},
              "You need to supply the 'service-address' option for the 'delete-service' command");
  expect_fail({"-C", "-t", "192.0.2.1:80"},
              "Illegal 'service-address' option with the 'flush' command");
}

TEST(AdmArgs, MultipleOptions) {
  expect_fail({"-A", "-t", "192.0.2.1:80", "-s", "rr", "-s", "wlc"},
              "multiple 'scheduler' options specified");
  expect_fail({"-A", "-t", "192.0.2.1:80", "-f", "1"},
              "multiple 'service-address' options specified");
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-m", "-g"},
              "multiple 'forwarding-method' options specified");
  expect_fail({"-L", "-n", "--numeric"}, "multiple 'numeric' options specified");
  // Checked as options arrive, before the command's table.
  expect_fail({"-D", "-t", "192.0.2.1:80", "-s", "a", "-s", "b"},
              "multiple 'scheduler' options specified");
}

// ---- Real servers ----

TEST(AdmArgs, AddServerDefaults) {
  auto c = ok({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1:8080"});
  EXPECT_EQ(c.dest.fwd, core::Fwd::kDr);  // -g
  EXPECT_EQ(c.dest.weight, 1);
  EXPECT_EQ(c.dest.endpoint.addr, v4("10.0.0.1"));
  EXPECT_EQ(c.dest.af, net::Family::kV4);
  EXPECT_EQ(c.dest.port, 80);  // DR keeps the virtual port
  EXPECT_EQ(c.dest.endpoint.port, 8080);
  EXPECT_EQ(c.dest.tun_type, core::TunType::kIpip);
  EXPECT_EQ(c.dest.u_threshold, 0);
  EXPECT_EQ(c.dest.l_threshold, 0);
  EXPECT_EQ(c.svc.scheduler, "");  // only -A/-E get the default scheduler
}

TEST(AdmArgs, ForwardingMethods) {
  auto m = ok({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1:8080", "-m"});
  EXPECT_EQ(m.dest.fwd, core::Fwd::kNat);
  EXPECT_EQ(m.dest.port, 8080);
  EXPECT_EQ(ok({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1:8080", "--masquerading"}).dest.fwd,
            core::Fwd::kNat);
  auto i = ok({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1:8080", "-i"});
  EXPECT_EQ(i.dest.fwd, core::Fwd::kTun);
  EXPECT_EQ(i.dest.port, 80);
  EXPECT_EQ(ok({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "--ipip"}).dest.fwd, core::Fwd::kTun);
  EXPECT_EQ(ok({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-g"}).dest.fwd, core::Fwd::kDr);
  EXPECT_EQ(ok({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "--gatewaying"}).dest.fwd,
            core::Fwd::kDr);
  auto f = ok({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1:8080", "--fullnat"});
  EXPECT_EQ(f.dest.fwd, core::Fwd::kFullNat);
  EXPECT_EQ(f.dest.port, 8080);
  EXPECT_TRUE(f.has(Opt::kForward));
  // A fwmark service keeps the real server's own port even for DR.
  EXPECT_EQ(ok({"-a", "-f", "1", "-r", "10.0.0.1:25"}).dest.port, 25);
  // No -r port: the virtual port as known when -r is read.
  EXPECT_EQ(ok({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-m"}).dest.port, 80);
  EXPECT_EQ(ok({"-a", "-r", "10.0.0.1", "-t", "192.0.2.1:80", "-m"}).dest.port, 0);
  expect_fail({"-A", "-t", "192.0.2.1:80", "--fullnat"},
              "Illegal 'forwarding-method' option with the 'add-service' command");
}

TEST(AdmArgs, ServerAddresses) {
  auto c = ok({"-a", "-t", "[2001:db8::1]:80", "-r", "[2001:db8::2]:81", "-m"});
  EXPECT_EQ(c.dest.af, net::Family::kV6);
  EXPECT_EQ(c.dest.port, 81);
  EXPECT_EQ(ok({"-a", "-t", "192.0.2.1:80", "--real-server=10.0.0.9"}).dest.endpoint.addr,
            v4("10.0.0.9"));
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10"},
              "illegal real server address[:port] specified");
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1:99999"},
              "illegal real server address[:port] specified");
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "[2001:db8::2]", "-m"},
              "illegal real server address[:port] specified");
}

TEST(AdmArgs, AddressFamilies) {
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "[2001:db8::2]:80", "-m"},
              "Different address family is allowed only for tunneling servers");
  expect_fail({"-e", "-t", "[2001:db8::1]:80", "-r", "10.0.0.1"},
              "Different address family is allowed only for tunneling servers");
  EXPECT_TRUE(parse({"-a", "-t", "192.0.2.1:80", "-r", "[2001:db8::2]:80", "-i"}).ok());
  // lvs: FULLNAT may translate families.
  EXPECT_TRUE(parse({"-a", "-t", "[2001:db8::1]:80", "-r", "10.0.0.1", "--fullnat"}).ok());
  // -d is not checked.
  EXPECT_TRUE(parse({"-d", "-t", "[2001:db8::1]:80", "-r", "10.0.0.1"}).ok());
}

TEST(AdmArgs, WeightAndThresholds) {
  auto c = ok({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-w", "0", "-x", "100", "-y", "10"});
  EXPECT_EQ(c.dest.weight, 0);
  EXPECT_EQ(c.dest.u_threshold, 100);
  EXPECT_EQ(c.dest.l_threshold, 10);
  auto l = ok({"-e", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "--weight=65535", "--u-threshold",
               "2147483647", "--l-threshold=0"});
  EXPECT_EQ(l.dest.weight, 65535);
  EXPECT_EQ(l.dest.u_threshold, 2147483647);
  EXPECT_EQ(ok({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-w5"}).dest.weight, 5);
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-w", "65536"},
              "illegal weight specified");
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-w", "-1"},
              "illegal weight specified");
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-w", "1.5"},
              "illegal weight specified");
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-x", "2147483648"},
              "illegal u_threshold specified");
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-y", "x"},
              "illegal l_threshold specified");
}

TEST(AdmArgs, ServerCommandRules) {
  expect_fail({"-a", "-t", "192.0.2.1:80"},
              "You need to supply the 'real-server' option for the 'add-server' command");
  expect_fail({"-e", "-t", "192.0.2.1:80"},
              "You need to supply the 'real-server' option for the 'edit-server' command");
  expect_fail({"-d", "-t", "192.0.2.1:80"},
              "You need to supply the 'real-server' option for the 'delete-server' command");
  expect_fail({"-a", "-r", "10.0.0.1"},
              "You need to supply the 'service-address' option for the 'add-server' command");
  expect_fail({"-d", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-w", "2"},
              "Illegal 'weight' option with the 'delete-server' command");
  expect_fail({"-d", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-m"},
              "Illegal 'forwarding-method' option with the 'delete-server' command");
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-s", "rr"},
              "Illegal 'scheduler' option with the 'add-server' command");
  auto d = ok({"-d", "-t", "192.0.2.1:80", "-r", "10.0.0.1:8080"});
  EXPECT_EQ(d.dest.port, 8080);  // no DR rewrite for -d
}

TEST(AdmArgs, TunnelOptions) {
  auto gue = ok({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-i", "--tun-type", "gue",
                 "--tun-port", "6080", "--tun-remcsum"});
  EXPECT_EQ(gue.dest.tun_type, core::TunType::kGue);
  EXPECT_EQ(gue.dest.tun_port, 6080);
  EXPECT_EQ(gue.dest.tun_flags, core::kTunFlagRemCsum);
  auto gre =
      ok({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-i", "--tun-type=gre", "--tun-csum"});
  EXPECT_EQ(gre.dest.tun_type, core::TunType::kGre);
  EXPECT_EQ(gre.dest.tun_flags, core::kTunFlagCsum);
  auto nocsum =
      ok({"-e", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-i", "--tun-type", "gre", "--tun-nocsum"});
  EXPECT_EQ(nocsum.dest.tun_flags, 0);
  EXPECT_TRUE(nocsum.has(Opt::kTunNoCsum));
  EXPECT_EQ(
      ok({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-i", "--tun-type", "ipip"}).dest.tun_type,
      core::TunType::kIpip);
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-i", "--tun-type", "vxlan"},
              "illegal tunnel type specified");
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-i", "--tun-port", "0"},
              "illegal tunnel port specified");
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-i", "--tun-type", "gue"},
              "You need to supply the 'tun-port' option for the 'gue' tunnel type");
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-i", "--tun-port", "5"},
              "Illegal 'tun-port' option with the 'ipip' tunnel type");
  expect_fail(
      {"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-i", "--tun-type", "gre", "--tun-remcsum"},
      "Illegal 'tun-remcsum' option with the 'gre' tunnel type");
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-i", "--tun-type", "gue",
               "--tun-port", "5", "--tun-nocsum", "--tun-csum"},
              "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel "
              "type");
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-m", "--tun-csum"},
              "Tunnel options conflict with forward method");
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "--tun-type", "gre"},
              "Tunnel options conflict with forward method");
  expect_fail({"-A", "-t", "192.0.2.1:80", "--tun-type", "gre"},
              "Illegal 'tun-type' option with the 'add-service' command");
}

// ---- Listing, zero, save ----

TEST(AdmArgs, ListOptions) {
  auto c = ok({"-L", "-n", "--stats", "--exact", "--nosort", "--tun-info"});
  EXPECT_EQ(c.format, kFmtNumeric | kFmtStats | kFmtExact | kFmtNoSort | kFmtTunInfo);
  EXPECT_EQ(ok({"-L", "--rate", "--thresholds", "--persistent-conn"}).format,
            kFmtRate | kFmtThresholds | kFmtPersistentConn);
  EXPECT_EQ(ok({"-L", "-X"}).format, kFmtExact);
  EXPECT_EQ(ok({"-L", "--numeric"}).format, kFmtNumeric);
  auto s = ok({"-L", "--sort"});
  EXPECT_EQ(s.options, 0u);  // a no-op
  EXPECT_TRUE(ok({"-L", "-c"}).has(Opt::kConnection));
  EXPECT_TRUE(ok({"-l", "--connection"}).has(Opt::kConnection));
  EXPECT_TRUE(ok({"-L", "--timeout"}).has(Opt::kTimeout));
  EXPECT_TRUE(ok({"-L", "--daemon"}).has(Opt::kDaemon));
  auto svc = ok({"-L", "-t", "192.0.2.1:80"});
  EXPECT_TRUE(svc.has(Opt::kService));
  EXPECT_EQ(svc.svc.port, 80);
  EXPECT_TRUE(ok({"-L", "-c", "--persistent-conn"}).has(Opt::kPersistentConn));
}

TEST(AdmArgs, ListConflicts) {
  expect_fail({"-L", "-c", "-t", "192.0.2.1:80"},
              "The option 'service-address' conflicts with the 'connection' option in the "
              "'list' command");
  expect_fail({"-L", "--daemon", "--timeout"},
              "The option 'daemon' conflicts with the 'timeout' option in the 'list' command");
  expect_fail({"-L", "--timeout", "--stats"}, "options conflicts in the list command");
  expect_fail({"-L", "-c", "--rate"}, "options conflicts in the list command");
  expect_fail({"-L", "--daemon", "--persistent-conn"}, "options conflicts in the list command");
  expect_fail({"-L", "-s", "rr"}, "Illegal 'scheduler' option with the 'list' command");
  expect_fail({"-L", "--sync-maxlen", "1"}, "Illegal 'sync-maxlen' option with the 'list' command");
  // The table allows --syncid with -L (and ipvsadm ignores it there).
  EXPECT_TRUE(ok({"-L", "--syncid", "1"}).has(Opt::kSyncId));
}

TEST(AdmArgs, ZeroAndSave) {
  EXPECT_FALSE(ok({"-Z"}).has(Opt::kService));
  EXPECT_EQ(ok({"-Z", "-t", "192.0.2.1:80"}).svc.port, 80);
  expect_fail({"-Z", "-n"}, "Illegal 'numeric' option with the 'zero' command");
  EXPECT_EQ(ok({"-S", "-n"}).format, kFmtNumeric);
  expect_fail({"-S", "-c"}, "Illegal 'connection' option with the 'save' command");
  expect_fail({"-R", "-n"}, "Illegal 'numeric' option with the 'restore' command");
}

// ---- --set and the daemon ----

TEST(AdmArgs, SetTimeouts) {
  auto c = ok({"--set", "900", "120", "300"});
  EXPECT_EQ(c.timeout.tcp, 900u);
  EXPECT_EQ(c.timeout.tcp_fin, 120u);
  EXPECT_EQ(c.timeout.udp, 300u);
  EXPECT_EQ(ok({"--set", "0", "0", "2678400"}).timeout.udp, 2678400u);
  expect_fail({"--set", "1", "2"}, "--set option requires 3 timeout values");
  expect_fail({"--set"}, "--set option requires 3 timeout values");
  expect_fail({"--set", "1", "x", "3"}, "invalid timeout value `x' specified");
  expect_fail({"--set", "1", "2", "2678401"}, "invalid timeout value `2678401' specified");
  expect_fail({"--set", "1", "2", "3", "4"}, "unexpected argument 4");
  expect_fail({"--set", "1", "2", "3", "-n"}, "Illegal 'numeric' option with the 'set' command");
  // popt permutes: the values may surround options.
  expect_fail({"--set", "1", "-n", "2", "3"}, "Illegal 'numeric' option with the 'set' command");
}

TEST(AdmArgs, StartDaemon) {
  auto c = ok({"--start-daemon", "master"});
  EXPECT_EQ(c.daemon.state, DaemonState::kMaster);
  EXPECT_EQ(c.daemon.mcast_ifn, "eth0");
  auto b =
      ok({"--start-daemon=backup", "--mcast-interface", "bond0", "--syncid", "7", "--sync-maxlen",
          "1400", "--mcast-group", "224.0.0.81", "--mcast-port", "8848", "--mcast-ttl", "1"});
  EXPECT_EQ(b.daemon.state, DaemonState::kBackup);
  EXPECT_EQ(b.daemon.mcast_ifn, "bond0");
  EXPECT_EQ(b.daemon.syncid, 7);
  EXPECT_EQ(b.daemon.sync_maxlen, 1400);
  EXPECT_EQ(b.daemon.mcast_group, v4("224.0.0.81"));
  EXPECT_EQ(b.daemon.mcast_port, 8848);
  EXPECT_EQ(b.daemon.mcast_ttl, 1);
  auto v6 =
      ok({"--start-daemon", "master", "--mcast-group=ff02::1", "--syncid=0", "--mcast-ttl=255",
          "--mcast-port=65535", "--sync-maxlen=65507", "--mcast-interface=0123456789abcdefgh"});
  EXPECT_EQ(v6.daemon.mcast_group, net::IpAddr::parse("ff02::1"));
  EXPECT_EQ(v6.daemon.syncid, 0);
  EXPECT_EQ(v6.daemon.mcast_ttl, 255);
  EXPECT_EQ(v6.daemon.sync_maxlen, 65507);
  EXPECT_EQ(v6.daemon.mcast_ifn, "0123456789abcde");  // IP_VS_IFNAME_MAXLEN - 1
  expect_fail({"--start-daemon", "slave"}, "illegal start-daemon parameter specified");
  expect_fail({"--start-daemon", "master", "--syncid", "256"}, "illegal syncid specified");
  expect_fail({"--start-daemon", "master", "--mcast-port", "0"}, "illegal mcast-port specified");
  expect_fail({"--start-daemon", "master", "--mcast-ttl", "256"}, "illegal mcast-ttl specified");
  expect_fail({"--start-daemon", "master", "--sync-maxlen", "65508"},
              "illegal sync-maxlen specified");
  expect_fail({"--start-daemon", "master", "--mcast-group", "10.0.0.1"},
              "invalid IPv4 mcast-group `10.0.0.1'");
  expect_fail({"--start-daemon", "master", "--mcast-group", "2001:db8::1"},
              "invalid IPv6 mcast-group `2001:db8::1'");
  expect_fail({"--start-daemon", "master", "--mcast-group", "nonsense"},
              "invalid IPv4 mcast-group `nonsense'");
  expect_fail({"--start-daemon", "master", "-n"},
              "Illegal 'numeric' option with the 'start-daemon' command");
}

TEST(AdmArgs, StopDaemon) {
  auto c = ok({"--stop-daemon", "backup", "--syncid", "3"});
  EXPECT_EQ(c.daemon.state, DaemonState::kBackup);
  EXPECT_EQ(c.daemon.syncid, 3);
  EXPECT_EQ(c.daemon.mcast_ifn, "");  // the default is for --start-daemon only
  expect_fail({"--stop-daemon", "both"}, "illegal start_daemon specified");
  expect_fail({"--stop-daemon", "master", "--mcast-interface", "eth1"},
              "Illegal 'mcast-interface' option with the 'stop-daemon' command");
}

// ---- popt semantics and its errors ----

TEST(AdmArgs, CombinedShortOptions) {
  auto c = ok({"-Ln"});
  EXPECT_EQ(c.kind, CommandKind::kList);
  EXPECT_EQ(c.format, kFmtNumeric);
  EXPECT_TRUE(ok({"-lnc"}).has(Opt::kConnection));
  // A value-taking letter takes the rest of the word, or the next word.
  EXPECT_EQ(ok({"-At192.0.2.1:80"}).svc.port, 80);
  EXPECT_EQ(ok({"-At", "192.0.2.1:81"}).svc.port, 81);
  auto a = ok({"-at", "192.0.2.1:80", "-mr", "10.0.0.1:8080", "-w2"});
  EXPECT_EQ(a.dest.fwd, core::Fwd::kNat);
  EXPECT_EQ(a.dest.port, 8080);
  EXPECT_EQ(a.dest.weight, 2);
  // -p's optional value is the rest of its word too.
  expect_fail({"-A", "-t", "192.0.2.1:80", "-ps", "rr"}, "invalid timeout value `s' specified");
  // popt 1.19 skips one '=' after a letter: "-n=c" is -n -c.
  EXPECT_TRUE(ok({"-L", "-n=c"}).has(Opt::kConnection));
}

TEST(AdmArgs, PoptErrors) {
  expect_popt({"-L", "--bogus"}, "--bogus: unknown option");
  expect_popt({"-L", "-nQ"}, "-nQ: unknown option");
  expect_popt({"-L", "--num"}, "--num: unknown option");  // no abbreviations
  // No single-dash long names: "-numeric" is -n -u "meric".
  ForwardResolver none;
  none.host = [](std::string_view) { return std::optional<net::IpAddr>(); };
  expect_fail({"-L", "-numeric"}, "illegal virtual server address[:port] specified", none);
  EXPECT_EQ(ok({"-L", "-numeric"}).svc.endpoint.host, "meric");
  expect_popt({"-A", "-t"}, "-t: missing argument");
  expect_popt({"-A", "--tcp-service"}, "--tcp-service: missing argument");
  expect_popt({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-mw"}, "-mw: missing argument");
  expect_popt({"-L", "--numeric=1"}, "--numeric=1: option does not take an argument");
  expect_popt({"-L", "--stats="}, "--stats=: option does not take an argument");
  expect_popt({"-L", "-n=="}, "-n==: option does not take an argument");
  expect_popt({"-L", "-n="}, "-n=: unknown option");
  // Errors of options met first win over later popt errors; the table is checked after.
  expect_popt({"-L", "-s", "rr", "--bogus"}, "--bogus: unknown option");
  expect_fail({"-A", "-s", "a", "-s", "b", "--bogus"}, "multiple 'scheduler' options specified");
}

TEST(AdmArgs, FirstOptionMustBeACommand) {
  expect_tryhelp({"-t", "192.0.2.1:80", "-A"});
  expect_tryhelp({"-n"});
  expect_tryhelp({"--bogus"});
  expect_tryhelp({"foo"});
  expect_tryhelp({"--", "-L"});
  expect_tryhelp({"--start-daemon"});  // popt's missing argument, on the first call
  expect_tryhelp({"-Q"});
  std::vector<std::string_view> argv{"/sbin/lvsadm", "-x"};
  auto r = parse_args(argv);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "Try `/sbin/lvsadm -h' or '/sbin/lvsadm --help' for more information.");
  EXPECT_EQ(r.error().stderr_text(),
            "Try `/sbin/lvsadm -h' or '/sbin/lvsadm --help' for more information.\n");
}

TEST(AdmArgs, LaterCommandsAreInvalidOptions) {
  expect_fail({"-A", "-E"}, "invalid option `-E'");
  expect_fail({"-L", "-h"}, "invalid option `-h'");
  expect_fail({"-L", "--version"}, "invalid option `--version'");
  expect_fail({"-LA"}, "invalid option `-LA'");
  expect_fail({"-a", "-t", "192.0.2.1:80", "-r", "10.0.0.1", "-Aw"}, "invalid option `-Aw'");
  expect_fail({"-C", "--set"}, "invalid option `--set'");
  // poptBadOption() names the last word read, here --start-daemon's value.
  expect_fail({"-L", "--start-daemon", "master"}, "invalid option `master'");
  expect_fail({"-L", "--stop-daemon=backup"}, "invalid option `--stop-daemon=backup'");
}

TEST(AdmArgs, UnexpectedArguments) {
  expect_fail({"-C", "foo"}, "unexpected argument foo");
  expect_fail({"foo", "-C"}, "unexpected argument foo");
  expect_fail({"-L", "--", "-n"}, "unexpected argument -n");
  expect_fail({"-L", "-"}, "unexpected argument -");
  // Before the command's option table is checked.
  expect_fail({"-C", "-n", "x"}, "unexpected argument x");
}

// ---- -R input ----

TEST(AdmArgs, SplitRestoreLine) {
  EXPECT_EQ(split_restore_line("-A -t 192.0.2.1:80 -s wlc"),
            (std::vector<std::string>{"-A", "-t", "192.0.2.1:80", "-s", "wlc"}));
  EXPECT_EQ(split_restore_line("  ipvsadm\t-a  -t 1.2.3.4:80\r\n"),
            (std::vector<std::string>{"-a", "-t", "1.2.3.4:80"}));
  EXPECT_EQ(split_restore_line("-A -t x:80 -s ipvsadm"),
            (std::vector<std::string>{"-A", "-t", "x:80", "-s"}));
  EXPECT_TRUE(split_restore_line("").empty());
  EXPECT_TRUE(split_restore_line(" \t\r\n").empty());
  EXPECT_EQ(split_restore_line("# comment"), (std::vector<std::string>{"#", "comment"}));
}

TEST(AdmArgs, RestoreLines) {
  EXPECT_FALSE(parse_restore_line("", "ipvsadm").has_value());
  EXPECT_FALSE(parse_restore_line("ipvsadm", "ipvsadm").has_value());
  auto a = parse_restore_line("-A -t 192.0.2.1:80 -s rr -p 120", "ipvsadm");
  ASSERT_TRUE(a.has_value() && a->ok());
  EXPECT_EQ(a->command().kind, CommandKind::kAddService);
  EXPECT_EQ(a->command().svc.scheduler, "rr");
  EXPECT_EQ(a->command().svc.timeout, 120u);
  auto b = parse_restore_line("-a -t 192.0.2.1:80 -r 10.0.0.1:80 -m -w 1\n", "ipvsadm");
  ASSERT_TRUE(b.has_value() && b->ok());
  EXPECT_EQ(b->command().dest.fwd, core::Fwd::kNat);
  // The same errors as on the command line.
  auto e = parse_restore_line("-A -t 192.0.2.1", "ipvsadm");
  ASSERT_TRUE(e.has_value() && !e->ok());
  EXPECT_EQ(e->error().message, "Zero port specified for non-persistent service");
  auto p = parse_restore_line("-L --bogus", "ipvsadm");
  ASSERT_TRUE(p.has_value() && !p->ok());
  EXPECT_EQ(p->error().kind, ErrorKind::kPopt);  // restore_table reads on
  // No nested -R, and the outer program name in the hint.
  auto r = parse_restore_line("-R", "/usr/sbin/lvsadm");
  ASSERT_TRUE(r.has_value() && !r->ok());
  EXPECT_EQ(r->error().kind, ErrorKind::kTryHelp);
  EXPECT_EQ(r->error().message,
            "Try `/usr/sbin/lvsadm -h' or '/usr/sbin/lvsadm --help' for more information.");
  // '#' is not a comment in ipvsadm's reader.
  auto c = parse_restore_line("# saved rules", "ipvsadm");
  ASSERT_TRUE(c.has_value() && !c->ok());
  EXPECT_EQ(c->error().kind, ErrorKind::kTryHelp);
  auto h = parse_restore_line("-h", "ipvsadm");
  ASSERT_TRUE(h.has_value() && h->ok());
  EXPECT_EQ(h->command().kind, CommandKind::kHelp);
}

// ---- Helpers ----

TEST(AdmArgs, StringToNumber) {
  EXPECT_EQ(string_to_number("42", 0, 100), 42);
  EXPECT_EQ(string_to_number(" 42", 0, 100), 42);  // strtol skips leading blanks
  EXPECT_EQ(string_to_number("-0", 0, 100), 0);
  EXPECT_FALSE(string_to_number("", 0, 100));
  EXPECT_FALSE(string_to_number("42 ", 0, 100));
  EXPECT_FALSE(string_to_number("101", 0, 100));
  EXPECT_FALSE(string_to_number("99999999999999999999", 0, 100));
}

TEST(AdmArgs, UsageAndVersion) {
  EXPECT_EQ(version_text(), "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n");
  const std::string u = usage_text("ipvsadm");
  EXPECT_EQ(u.rfind(version_text() + "Usage:\n  ipvsadm -A|E virtual-service [-s scheduler] "
                                     "[-p [timeout]] [-M netmask] [--pe persistence_engine] "
                                     "[-b sched-flags]\n  ipvsadm -D virtual-service\n",
                    0),
            0u);
  EXPECT_NE(u.find("  ipvsadm -h\n\nCommands:\nEither long or short options are allowed.\n"),
            std::string::npos);
  EXPECT_NE(u.find("  --scheduler    -s scheduler         one of "
                   "rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,\n"
                   "                                      the default scheduler is wlc.\n"),
            std::string::npos);
  EXPECT_NE(u.find("greater than zero\n\nOptions:\n"), std::string::npos);
  EXPECT_NE(u.find("(comma-separated)\nDaemon Options:\n"), std::string::npos);
  EXPECT_NE(u.find("  --tun-type      type                one of ipip|gue|gre,\n"
                   "                                      the default tunnel type is ipip.\n"),
            std::string::npos);
  EXPECT_TRUE(u.ends_with(
      "(default=8848)\n  --mcast-ttl ttl                     Multicast TTL (default=1)\n"));
  EXPECT_NE(usage_text("lvsadm").find("  lvsadm --stop-daemon {master|backup}\n"),
            std::string::npos);
}

}  // namespace
}  // namespace lvs::adm
