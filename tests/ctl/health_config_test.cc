// Health checker blocks: every kind's keywords, the effective values they inherit, and each error
// with its place.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ctl/test_util.h"

namespace lvs::ctl {
namespace {

using test::expect_errors;
using test::ip;
using test::messages;
using test::parse;
using test::parse_clean;

// A service around one real server's body.
std::string svc(std::string_view rs_body, std::string_view vs_extra = "",
                std::string_view top = "") {
  return std::string(top) + "virtual_server 198.18.0.1 80 {\n  protocol TCP\n" +
         std::string(vs_extra) + "  real_server 198.18.1.10 8080 {\n" + std::string(rs_body) +
         "  }\n}\n";
}

const CheckerConf& only_checker(const Config& c) {
  return c.services.at(0).real_servers.at(0).checkers.at(0);
}

TEST(HealthConfig, InheritsFromServerAndService) {
  const Config c =
      parse_clean(svc("    retry 4\n    delay_before_retry 2\n"
                      "    TCP_CHECK {\n      warmup 0\n    }\n",
                      "  delay_loop 7\n  connect_timeout 2.5\n  alpha\n"));
  const CheckerConf& k = only_checker(c);
  EXPECT_EQ(k.connect_ip, ip("198.18.1.10"));
  EXPECT_EQ(k.connect_port, 8080);
  EXPECT_EQ(k.delay_loop_ms, 7000u);
  EXPECT_EQ(k.connect_timeout_ms, 2500u);
  EXPECT_EQ(k.retry, 4u);
  EXPECT_EQ(k.delay_before_retry_ms, 2000u);
  EXPECT_EQ(k.warmup_ms, 0u);
  EXPECT_TRUE(k.alpha);
  EXPECT_EQ(k.rise, 1u);
}

TEST(HealthConfig, CheckerSettingsWin) {
  const Config c = parse_clean(
      svc("    alpha\n    retry 4\n"
          "    TCP_CHECK {\n      connect_ip 198.18.1.99\n      connect_port 81\n"
          "      bindto 198.18.0.2\n      bind_port 5000\n      bind_if eth1\n      fwmark 9\n"
          "      connect_timeout 0.25\n      retry 2\n      delay_before_retry 0.5\n"
          "      warmup 3\n      delay_loop 1.5\n      alpha off\n      log_all_failures\n"
          "      rise 3\n    }\n"));
  const CheckerConf& k = only_checker(c);
  EXPECT_EQ(k.connect_ip, ip("198.18.1.99"));
  EXPECT_EQ(k.connect_port, 81);
  EXPECT_EQ(k.bindto, ip("198.18.0.2"));
  EXPECT_EQ(k.bind_port, 5000);
  EXPECT_EQ(k.bind_if, "eth1");
  EXPECT_EQ(k.fwmark, 9u);
  EXPECT_EQ(k.connect_timeout_ms, 250u);
  EXPECT_EQ(k.retry, 2u);
  EXPECT_EQ(k.delay_before_retry_ms, 500u);
  EXPECT_EQ(k.warmup_ms, 3000u);
  EXPECT_EQ(k.delay_loop_ms, 1500u);
  EXPECT_FALSE(k.alpha);
  EXPECT_TRUE(k.log_all_failures);
  EXPECT_EQ(k.rise, 3u);
}

TEST(HealthConfig, KindDefaults) {
  // check_http.c: delay_before_retry 3 s; check_dns.c: retry 3, delay_before_retry delay_loop,
  // type SOA of the root.
  const Config c =
      parse_clean(svc("    HTTP_GET {\n      url {\n        path /\n      }\n    }\n"
                      "    DNS_CHECK {\n    }\n"
                      "    UDP_CHECK {\n    }\n"
                      "    PING_CHECK {\n    }\n",
                      "  delay_loop 10\n"));
  const auto& k = c.services[0].real_servers[0].checkers;
  ASSERT_EQ(k.size(), 4u);
  EXPECT_EQ(k[0].delay_before_retry_ms, 3000u);
  EXPECT_EQ(k[0].retry, 1u);
  EXPECT_EQ(k[0].http_protocol, "1.0");
  EXPECT_EQ(k[1].kind, CheckKind::kDns);
  EXPECT_EQ(k[1].retry, 3u);
  EXPECT_EQ(k[1].delay_before_retry_ms, 10000u);
  EXPECT_EQ(k[1].dns_type, 6);
  EXPECT_EQ(k[1].dns_name, ".");
  EXPECT_EQ(k[2].kind, CheckKind::kUdp);
  EXPECT_FALSE(k[2].require_reply);
  EXPECT_EQ(k[3].kind, CheckKind::kPing);
}

TEST(HealthConfig, HttpAndSsl) {
  const Config c = parse_clean(svc(
      "    virtualhost rs.example.org\n"
      "    SSL_GET {\n"
      "      url {\n        path /health\n"
      "        digest 9b3a9a3f2e7cde1e4b0dd0b0b2f3c4d5\n"
      "        status_code 200 301-303\n        virtualhost url.example.org\n      }\n"
      "      url {\n        path /two\n      }\n"
      "      http_protocol 1.1\n      enable_sni\n      sni_name sni.example.org\n"
      "      tls_compliant\n      fast_recovery\n    }\n"
      "    HTTP_GET {\n      url {\n        path /\n      }\n      virtualhost chk.example.org\n"
      "      http_protocol 1.0c\n    }\n"));
  const auto& k = c.services[0].real_servers[0].checkers;
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0].kind, CheckKind::kSsl);
  ASSERT_EQ(k[0].urls.size(), 2u);
  EXPECT_EQ(k[0].urls[0].path, "/health");
  EXPECT_EQ((*k[0].urls[0].digest)[0], 0x9b);
  EXPECT_EQ((*k[0].urls[0].digest)[15], 0xd5);
  using Range = std::pair<uint16_t, uint16_t>;
  EXPECT_THAT(k[0].urls[0].status_codes, ::testing::ElementsAre(Range{200, 200}, Range{301, 303}));
  EXPECT_EQ(k[0].urls[0].virtualhost, "url.example.org");
  EXPECT_EQ(k[0].urls[1].path, "/two");
  EXPECT_FALSE(k[0].urls[1].digest.has_value());
  EXPECT_EQ(k[0].virtualhost, "rs.example.org");  // the real server's
  EXPECT_EQ(k[0].http_protocol, "1.1");
  EXPECT_TRUE(k[0].enable_sni && k[0].tls_compliant && k[0].fast_recovery);
  EXPECT_EQ(k[0].sni_name, "sni.example.org");
  EXPECT_EQ(k[1].virtualhost, "chk.example.org");
  EXPECT_EQ(k[1].http_protocol, "1.0C");
}

TEST(HealthConfig, SmtpDnsUdpMisc) {
  const Config c =
      parse_clean(svc("    SMTP_CHECK {\n      helo_name lvs.example.org\n    }\n"
                      "    DNS_CHECK {\n      type aaaa\n      name www.example.org\n    }\n"
                      "    UDP_CHECK {\n      payload 01 02 a\n      require_reply 0102\n"
                      "      min_reply_length 2\n      max_reply_length 512\n    }\n"
                      "    MISC_CHECK {\n      misc_path \"/usr/bin/check.sh 198.18.1.10\"\n"
                      "      misc_timeout 4\n      misc_dynamic\n      user nobody\n    }\n"));
  const auto& k = c.services[0].real_servers[0].checkers;
  ASSERT_EQ(k.size(), 4u);
  EXPECT_EQ(k[0].helo_name, "lvs.example.org");
  EXPECT_EQ(k[1].dns_type, 28);
  EXPECT_EQ(k[1].dns_name, "www.example.org");
  EXPECT_THAT(k[2].payload, ::testing::ElementsAre(0x01, 0x02, 0x0a));
  EXPECT_TRUE(k[2].require_reply);
  EXPECT_THAT(k[2].reply_prefix, ::testing::ElementsAre(0x01, 0x02));
  EXPECT_EQ(k[2].min_reply_length, 2u);
  EXPECT_EQ(k[2].max_reply_length, 512u);
  EXPECT_EQ(k[3].misc_path, "/usr/bin/check.sh 198.18.1.10");
  EXPECT_EQ(k[3].misc_timeout_ms, 4000u);
  EXPECT_TRUE(k[3].misc_dynamic);
  EXPECT_EQ(k[3].user, "nobody");
  EXPECT_EQ(k[3].retry, 0u);
}

TEST(HealthConfig, FileCheckTakesItsTrackFile) {
  const std::string top =
      "track_file up_file {\n  file /run/lvs/up\n  weight -10 reverse\n}\n"
      "track_file other {\n  file /run/lvs/other\n}\n";
  const Config c =
      parse_clean(svc("    FILE_CHECK {\n      track_file up_file\n    }\n"
                      "    FILE_CHECK {\n      track_file other\n      weight 5\n    }\n",
                      "", top));
  const auto& k = c.services[0].real_servers[0].checkers;
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0].file_path, "/run/lvs/up");
  EXPECT_EQ(k[0].file_weight, -10);
  EXPECT_TRUE(k[0].file_reverse);
  EXPECT_EQ(k[0].retry, 0u);
  EXPECT_EQ(k[1].file_path, "/run/lvs/other");
  EXPECT_EQ(k[1].file_weight, 5);  // the checker's own
  EXPECT_FALSE(k[1].file_reverse);
}

TEST(HealthConfig, ErrorsNameTheirPlace) {
  expect_errors(svc("    HTTP_GET {\n      url {\n        path /\n        digest abc\n      }\n"
                    "    }\n"),
                {"t.conf:7:16: invalid digest 'abc' (expected an MD5 digest: 32 hex digits)"});
  expect_errors(svc("    HTTP_GET {\n      url {\n        path /\n        status_code 200 99 "
                    "300-200\n      }\n    }\n"),
                {"t.conf:7:25: invalid HTTP status code '99' (expected 100..599, or a range such "
                 "as 200-299)",
                 "t.conf:7:28: invalid HTTP status code '300-200' (expected 100..599, or a "
                 "range such as 200-299)"});
  expect_errors(svc("    HTTP_GET {\n      url {\n        path /\n        regex ok\n      }\n"
                    "    }\n"),
                {"t.conf:7:9: 'regex' (body regex matching) is not supported by lvsd"});
  expect_errors(svc("    HTTP_GET {\n      connect_timeout 1\n    }\n"),
                {"t.conf:4:5: HTTP_GET needs at least one url { path ... }"});
  expect_errors(svc("    HTTP_GET {\n      url {\n        digest "
                    "9b3a9a3f2e7cde1e4b0dd0b0b2f3c4d5\n      }\n    }\n"),
                {"t.conf:5:7: url needs a path"});
  expect_errors(svc("    HTTP_GET {\n      url {\n        path /\n      }\n"
                    "      http_protocol 2\n    }\n"),
                {"t.conf:8:21: invalid http_protocol '2' (expected 1.0, 1.0C or 1.1)"});
  expect_errors(svc("    MISC_CHECK {\n      misc_timeout 3\n    }\n"),
                {"t.conf:4:5: MISC_CHECK needs misc_path"});
  expect_errors(svc("    DNS_CHECK {\n      type PTR\n    }\n"),
                {"t.conf:5:12: unknown DNS type 'PTR' (expected A, NS, CNAME, SOA, MX, TXT or "
                 "AAAA)"});
  expect_errors(svc("    UDP_CHECK {\n      payload 0g\n    }\n"),
                {"t.conf:5:15: invalid hex string '0g' for payload (at 'g')"});
  expect_errors(svc("    UDP_CHECK {\n      require_reply 01xx\n    }\n"),
                {"t.conf:5:21: '01xx': wildcards in require_reply are not supported by lvsd"});
  expect_errors(svc("    TCP_CHECK {\n      conect_port 80\n    }\n"),
                {"t.conf:5:7: unknown keyword 'conect_port' in TCP_CHECK; did you mean "
                 "'connect_port'?"});
  expect_errors(svc("    TCP_CHECK {\n      helo_name x\n    }\n"),
                {"t.conf:5:7: unknown keyword 'helo_name' in TCP_CHECK"});
  expect_errors(svc("    TCP_CHECK {\n      bindto 2001:2::1\n    }\n"),
                {"t.conf:4:5: TCP_CHECK: bindto 2001:2::1 and the address checked "
                 "(198.18.1.10) are of different families"});
  expect_errors(svc("    TCP_CHECK {\n      rise 0\n    }\n"),
                {"t.conf:5:12: invalid rise '0' (expected 1..1000)"});
  expect_errors(svc("    FILE_CHECK {\n      track_file nosuch\n    }\n"),
                {"t.conf:5:18: track_file 'nosuch' is not defined (it must come before the "
                 "FILE_CHECK that names it, as in keepalived)"});
  expect_errors(svc("    FILE_CHECK {\n      track_file f\n      weight 300\n    }\n", "",
                    "track_file f {\n  file /x\n}\n"),
                {"t.conf:9:14: invalid weight '300' (expected -253..253)"});
  expect_errors("track_file f {\n  weight 1\n}\n" + svc(""),
                {"t.conf:1:12: track_file 'f' needs a file"});
  expect_errors(svc("    SMTP_CHECK {\n      host {\n        connect_ip 198.18.1.11\n      }\n"
                    "    }\n"),
                {"t.conf:5:7: SMTP_CHECK 'host' blocks are not supported by lvsd; write one "
                 "SMTP_CHECK per address (connect_ip, connect_port)"});
}

TEST(HealthConfig, FwmarkServersNeedAConnectPort) {
  expect_errors(
      "virtual_server fwmark 3 {\n  real_server 198.18.1.10 {\n    TCP_CHECK {\n    }\n"
      "    PING_CHECK {\n    }\n  }\n}\n",
      {"t.conf:3:5: TCP_CHECK of 198.18.1.10 needs connect_port: the real server has no port "
       "of its own here"});
}

TEST(HealthConfig, ABrokenCheckerRefusesTheFile) {
  const ParseResult r = parse(svc("    TCP_CHECK {\n      connect_timeout -1\n    }\n"));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.config.has_value());
}

}  // namespace
}  // namespace lvs::ctl
