// lvsadm's C-library lookups (apps/lvsadm_resolve.cc) against this system's own files: only
// names that /etc/hosts and /etc/services answer, so no test sends a DNS query. A system
// without those entries skips the test.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "adm/args.h"
#include "lvsadm_resolve.h"

namespace lvs::adm {
namespace {

net::IpAddr ip(const char* s) { return *net::IpAddr::parse(s); }

bool services_have_http() {
  return port_to_service(80, kProtoTcp) == std::optional<std::string>("http");
}

// The first 127.0.0.1 line names localhost first (gethostbyaddr's h_name).
bool hosts_have_localhost() {
  std::ifstream f("/etc/hosts");
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream words(line);
    std::string addr;
    std::string name;
    if (words >> addr >> name && addr == "127.0.0.1") return name == "localhost";
  }
  return false;
}

TEST(OsResolver, Services) {
  if (!services_have_http()) GTEST_SKIP() << "/etc/services has no http 80/tcp";
  EXPECT_EQ(service_to_port("http", kProtoTcp), 80);
  EXPECT_EQ(service_to_port("www", kProtoTcp), 80);  // an alias, as getservbyname
  EXPECT_EQ(service_to_port("domain", kProtoUdp), 53);
  EXPECT_EQ(port_to_service(53, kProtoUdp), "domain");
  EXPECT_EQ(service_to_port("no-such-service-lvsadm", kProtoTcp), std::nullopt);
  // ipvsadm asks only for tcp, udp and sctp.
  EXPECT_EQ(service_to_port("http", kProtoIp), std::nullopt);
  EXPECT_EQ(port_to_service(80, kProtoIp), std::nullopt);
}

TEST(OsResolver, Hosts) {
  if (!hosts_have_localhost()) GTEST_SKIP() << "/etc/hosts has no 127.0.0.1 localhost";
  EXPECT_EQ(host_to_addr("localhost"), ip("127.0.0.1"));
  EXPECT_EQ(addr_to_host(ip("127.0.0.1")), "localhost");
  EXPECT_EQ(addr_to_host(net::IpAddr{}), std::nullopt);
}

TEST(OsResolver, ParseArgsWithNames) {
  if (!services_have_http() || !hosts_have_localhost()) GTEST_SKIP() << "no http or localhost";
  const std::string_view args[] = {"lvsadm",        "-a", "-t", "localhost:http", "-r",
                                   "localhost:www", "-m"};
  const ParseResult r = parse_args(args, os_forward_resolver());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.command().svc.endpoint.addr, ip("127.0.0.1"));
  EXPECT_EQ(r.command().svc.port, 80);
  EXPECT_EQ(r.command().dest.endpoint.addr, ip("127.0.0.1"));
  EXPECT_EQ(r.command().dest.port, 80);
  const std::string_view bad[] = {"lvsadm", "-A", "-t", "localhost:no-such-service-lvsadm"};
  const ParseResult e = parse_args(bad, os_forward_resolver());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().stderr_text(), "illegal virtual server address[:port] specified\n");
  EXPECT_EQ(e.error().exit_code, 2);
}

TEST(OsResolver, ReverseResolverRemembers) {
  if (!services_have_http() || !hosts_have_localhost()) GTEST_SKIP() << "no http or localhost";
  const OsReverseResolver r;
  const ReverseResolver& base = r;
  EXPECT_EQ(base.host(ip("127.0.0.1")), "localhost");
  EXPECT_EQ(base.host(ip("127.0.0.1")), "localhost");
  EXPECT_EQ(base.service(80, kProtoTcp), "http");
  EXPECT_EQ(base.service(80, kProtoTcp), "http");
  EXPECT_EQ(base.service(80, kProtoIp), std::nullopt);
}

}  // namespace
}  // namespace lvs::adm
