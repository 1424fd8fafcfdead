#include "daemon/conn_query.h"

#include <gtest/gtest.h>

namespace lvs::daemon {
namespace {

core::ConnSnapshot conn() {
  core::ConnSnapshot c;
  c.proto = 6;
  c.caddr = *net::IpAddr::parse("198.18.2.5");
  c.cport = 40000;
  c.vaddr = *net::IpAddr::parse("198.18.0.10");
  c.vport = 80;
  c.daddr = *net::IpAddr::parse("198.18.1.1");
  c.dport = 8080;
  c.state = "ESTABLISHED";
  return c;
}

TEST(ConnQuery, DefaultsMatchEverything) {
  std::string err;
  const auto q = parse_conn_query("", &err);
  ASSERT_TRUE(q) << err;
  EXPECT_EQ(q->offset, 0u);
  EXPECT_EQ(q->limit, ConnQuery::kDefaultLimit);
  EXPECT_TRUE(q->matches(conn()));
}

TEST(ConnQuery, EachFilter) {
  std::string err;
  const core::ConnSnapshot c = conn();
  for (const char* yes : {"proto=tcp", "proto=TCP", "template=0", "caddr=198.18.2.5",
                          "cport=40000", "vaddr=198.18.0.10", "vport=80", "daddr=198.18.1.1",
                          "dport=8080", "state=established", "vport=80&dport=8080&limit=5"}) {
    const auto q = parse_conn_query(yes, &err);
    ASSERT_TRUE(q) << yes << ": " << err;
    EXPECT_TRUE(q->matches(c)) << yes;
  }
  for (const char* no : {"proto=udp", "template=1", "caddr=198.18.2.6", "cport=1", "vport=81",
                         "daddr=2001:2::1", "dport=80", "fwmark=3", "state=TIME_WAIT",
                         "vport=80&dport=1"}) {
    const auto q = parse_conn_query(no, &err);
    ASSERT_TRUE(q) << no << ": " << err;
    EXPECT_FALSE(q->matches(c)) << no;
  }
}

TEST(ConnQuery, PercentEscapesAndPaging) {
  std::string err;
  const auto q = parse_conn_query("vaddr=2001%3A2%3A%3A10&offset=20&limit=100000", &err);
  ASSERT_TRUE(q) << err;
  EXPECT_EQ(q->vaddr->to_string(), "2001:2::10");
  EXPECT_EQ(q->offset, 20u);
  EXPECT_EQ(q->limit, 100000u);
}

TEST(ConnQuery, ErrorsNameTheParameter) {
  const std::pair<const char*, const char*> cases[] = {
      {"limit=0", "invalid limit '0' (expected 1..100000)"},
      {"limit=100001", "invalid limit '100001' (expected 1..100000)"},
      {"offset=-1", "invalid offset '-1' (expected a count)"},
      {"proto=icmp", "invalid proto 'icmp' (expected tcp, udp, sctp or fwm)"},
      {"vport=65536", "invalid vport '65536' (expected 0..65535)"},
      {"caddr=198.18.2", "invalid caddr '198.18.2' (expected an IP address)"},
      {"template=yes", "invalid template 'yes' (expected 0 or 1)"},
      {"fwmark=0", "invalid fwmark '0' (expected 1..4294967295)"},
      {"vaddr=%zz", "bad percent escape in 'vaddr=%zz'"},
      {"vaddr=%4", "bad percent escape in 'vaddr=%4'"},
      {"sort=1",
       "unknown parameter 'sort' (offset, limit, proto, template, caddr, cport, vaddr, vport, "
       "daddr, dport, fwmark, state)"},
  };
  for (const auto& [query, want] : cases) {
    std::string err;
    EXPECT_FALSE(parse_conn_query(query, &err)) << query;
    EXPECT_EQ(err, want) << query;
  }
}

}  // namespace
}  // namespace lvs::daemon
