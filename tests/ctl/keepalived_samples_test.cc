// keepalived's documented sample configurations (doc/samples/keepalived.conf.*), addresses moved
// to 198.18.0.0/15 and 2001:2::/48: they load unchanged, with the services and servers keepalived
// would set up and a warning for each part lvsd has not built yet.
#include <netinet/in.h>

#include "ctl/quorum.h"
#include "test_util.h"

namespace lvs::ctl::test {
namespace {

using ::testing::ElementsAre;

const char* kMail =
    "global_defs {\n"                                             // 1
    "   notification_email {\n"                                   // 2
    "     acassen\n"                                              // 3
    "   }\n"                                                      // 4
    "   notification_email_from Alexandre.Cassen@firewall.loc\n"  // 5
    "   smtp_server 198.18.200.1\n"                               // 6
    "   smtp_connect_timeout 30\n"                                // 7
    "   router_id LVS_DEVEL\n"                                    // 8
    "}\n";                                                        // 9

const std::vector<std::string> kMailWarnings = {
    "t.conf:2:4: warning: \"notification_email\" is not used by lvsd; ignored",
    "t.conf:5:4: warning: \"notification_email_from\" is not used by lvsd; ignored",
    "t.conf:6:4: warning: \"smtp_server\" is not used by lvsd; ignored",
    "t.conf:7:4: warning: \"smtp_connect_timeout\" is not used by lvsd; ignored",
};

std::vector<std::string> with_mail(std::vector<std::string> rest) {
  std::vector<std::string> out = kMailWarnings;
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

const char* kHttpGet =
    "        HTTP_GET {\n"
    "            url {\n"
    "              path /testurl3/test.jsp\n"
    "              digest 640205b7b0fc66c1ea91c463fac6334d\n"
    "            }\n"
    "            connect_timeout 3\n"
    "            retry 3\n"
    "            delay_before_retry 3\n"
    "        }\n";

Config load(const std::string& text, const std::vector<std::string>& expected) {
  const ParseResult r = parse(text);
  EXPECT_TRUE(r.ok()) << text;
  EXPECT_THAT(messages(r), ::testing::ElementsAreArray(expected));
  return r.config.value_or(Config{});
}

// keepalived.conf.sample: VRRP, a sorry server, an HTTP_GET checker.
TEST(KeepalivedSamples, Sample) {
  const Config c = load(std::string(kMail) +
                            "vrrp_instance VI_1 {\n"  // 10
                            "    interface eth0\n"
                            "    virtual_router_id 50\n"
                            "    nopreempt\n"
                            "    priority 100\n"
                            "    advert_int 1\n"
                            "    virtual_ipaddress {\n"
                            "        198.18.200.11\n"
                            "        198.18.200.12\n"
                            "        198.18.200.13\n"
                            "    }\n"
                            "}\n"
                            "virtual_server 198.18.10.2 1358 {\n"  // 22
                            "    delay_loop 6\n"
                            "    lb_algo rr\n"
                            "    lb_kind NAT\n"
                            "    persistence_timeout 50\n"
                            "    protocol TCP\n"
                            "    sorry_server 198.18.200.200 1358\n"
                            "    real_server 198.18.200.2 1358 {\n"  // 29
                            "        weight 1\n" +
                            kHttpGet +  // 31
                            "    }\n"
                            "}\n",
                        with_mail({"t.conf:10:1: warning: \"vrrp_instance\" is not yet supported "
                                   "(VRRP); block skipped"}));
  EXPECT_EQ(c.router_id, "LVS_DEVEL");
  ASSERT_EQ(c.services.size(), 1u);
  const VirtualServerConf& vs = c.services[0];
  EXPECT_EQ(vs.key.to_string(), "TCP 198.18.10.2:1358");
  EXPECT_EQ(vs.scheduler, "rr");
  EXPECT_EQ(vs.persistence_timeout, 50u);
  EXPECT_EQ(vs.delay_loop, 6u);
  ASSERT_TRUE(vs.sorry_server.has_value());
  EXPECT_EQ(vs.sorry_server->addr, ip("198.18.200.200"));
  ASSERT_EQ(vs.real_servers.size(), 1u);
  ASSERT_EQ(vs.real_servers[0].checkers.size(), 1u);
  const CheckerConf& http = vs.real_servers[0].checkers[0];
  EXPECT_EQ(http.keyword, "HTTP_GET");
  EXPECT_EQ(http.kind, CheckKind::kHttp);
  ASSERT_EQ(http.urls.size(), 1u);
  EXPECT_EQ(http.urls[0].path, "/testurl3/test.jsp");
  ASSERT_TRUE(http.urls[0].digest.has_value());
  EXPECT_EQ((*http.urls[0].digest)[0], 0x64);
  EXPECT_EQ((*http.urls[0].digest)[15], 0x4d);
  EXPECT_TRUE(http.urls[0].status_codes.empty());  // 200-299
  EXPECT_EQ(http.connect_ip, ip("198.18.200.2"));
  EXPECT_EQ(http.connect_port, 1358);
  EXPECT_EQ(http.connect_timeout_ms, 3000u);
  EXPECT_EQ(http.retry, 3u);
  EXPECT_EQ(http.delay_before_retry_ms, 3000u);
  EXPECT_EQ(http.delay_loop_ms, 6000u);
  // The real server is alive (no checker runs yet): no sorry server in the engine.
  EXPECT_EQ(engine_servers(vs).size(), 1u);
}

// keepalived.conf.virtual_server_group.
TEST(KeepalivedSamples, VirtualServerGroup) {
  const Config c = load(std::string(kMail) +
                            "virtual_server_group VSG_1 {\n"  // 10
                            "\t198.18.0.1 8080\n"
                            "\t198.18.0.2 80\n"
                            "\t198.18.200.1 1358\n"
                            "\t198.18.200.3-10 80\n"
                            "\tfwmark 1\n"
                            "\tfwmark 2\n"
                            "}\n"
                            "virtual_server group VSG_1 {\n"  // 18
                            "    delay_loop 6\n"
                            "    lb_algo rr\n"
                            "    lb_kind NAT\n"
                            "    persistence_timeout 50\n"
                            "    protocol TCP\n"
                            "    real_server 198.18.200.1 1358 {\n"  // 24
                            "        weight 1\n" +
                            kHttpGet +  // 26
                            "    }\n"
                            "    real_server 198.18.200.2 1358 {\n"  // 36
                            "        weight 1\n" +
                            kHttpGet +  // 38
                            "    }\n"
                            "}\n",
                        with_mail({}));
  // 3 addresses, 8 in the range, 2 marks.
  ASSERT_EQ(c.services.size(), 13u);
  EXPECT_EQ(c.services[0].key.to_string(), "TCP 198.18.0.1:8080");
  EXPECT_EQ(c.services[3].key.to_string(), "TCP 198.18.200.3:80");
  EXPECT_EQ(c.services[10].key.to_string(), "TCP 198.18.200.10:80");
  EXPECT_EQ(c.services[11].key.to_string(), "FWM 1");
  EXPECT_EQ(c.services[12].key.to_string(), "FWM 2");
  for (const auto& vs : c.services) {
    EXPECT_EQ(vs.real_servers.size(), 2u);
    EXPECT_EQ(vs.group, "VSG_1");
  }
}

// keepalived.conf.vrrp.lvs_syncd: VRRP instances and a sync group around one service.
TEST(KeepalivedSamples, VrrpLvsSyncd) {
  const Config c = load(
      "vrrp_sync_group VG1 {\n  VI_2\n  VI_3\n}\n"  // 1
      "vrrp_instance VI_1 {\n"                      // 5
      "    state MASTER\n    interface eth0\n    lvs_sync_daemon_interface eth1\n"
      "    virtual_router_id 51\n    priority 150\n    advert_int 1\n"
      "    authentication {\n        auth_type PASS\n        auth_pass grr02\n    }\n"
      "    virtual_ipaddress {\n        198.18.200.16\n    }\n"
      "}\n"
      "vrrp_instance VI_2 {\n"  // 20
      "    interface eth0\n    virtual_router_id 52\n    priority 100\n"
      "    virtual_ipaddress {\n        198.18.200.19\n    }\n"
      "}\n"
      "virtual_server 198.18.200.19 80 {\n"  // 28
      "    delay_loop 20\n    lb_algo rr\n    lb_kind NAT\n    persistence_timeout 50\n"
      "    protocol TCP\n"
      "    real_server 198.18.201.100 80 {\n"  // 34
      "        weight 1\n"
      "        TCP_CHECK {\n            connect_timeout 3\n        }\n"  // 36
      "    }\n"
      "}\n",
      {"t.conf:1:1: warning: \"vrrp_sync_group\" is not yet supported (VRRP); block skipped",
       "t.conf:5:1: warning: \"vrrp_instance\" is not yet supported (VRRP); block skipped",
       "t.conf:20:1: warning: \"vrrp_instance\" is not yet supported (VRRP); block skipped"});
  ASSERT_EQ(c.services.size(), 1u);
  EXPECT_EQ(c.services[0].delay_loop, 20u);
}

// keepalived.conf.quorum: alpha, omega, quorum 7, hysteresis 2, quorum scripts, ten servers.
TEST(KeepalivedSamples, Quorum) {
  std::string text =
      "virtual_server 198.18.1.1 80 {\n"
      "  delay_loop 6\n  lb_algo wrr\n  lb_kind NAT\n  persistence_timeout 900\n"
      "  protocol TCP\n  alpha\n  omega\n  quorum 7\n  hysteresis 2\n"
      "  quorum_up /usr/local/sbin/quorum-up.sh\n"
      "  quorum_down /usr/local/sbin/quorum-down.sh\n";
  for (int i = 1; i <= 10; ++i) {
    text += "  real_server 198.18.0." + std::to_string(i) +
            " 8080 {\n    weight 1\n    TCP_CHECK {\n      connect_port    80\n"
            "      connect_timeout 3\n    }\n  }\n";
  }
  text += "}\n";
  const Config c = load(text, {});
  const VirtualServerConf& vs = c.services.at(0);
  EXPECT_EQ(vs.quorum, 7u);
  EXPECT_EQ(vs.hysteresis, 2u);
  EXPECT_TRUE(vs.alpha && vs.omega);
  EXPECT_EQ(vs.quorum_up, "/usr/local/sbin/quorum-up.sh");
  EXPECT_TRUE(vs.real_servers[0].checkers.at(0).alpha);  // taken from the service
  // The checker: its own port and timeout, alpha from the service, the rest keepalived's.
  const CheckerConf& tcp = vs.real_servers[9].checkers.at(0);
  EXPECT_EQ(tcp.kind, CheckKind::kTcp);
  EXPECT_EQ(tcp.connect_ip, ip("198.18.0.10"));
  EXPECT_EQ(tcp.connect_port, 80);
  EXPECT_EQ(tcp.connect_timeout_ms, 3000u);
  EXPECT_TRUE(tcp.alpha);
  EXPECT_EQ(tcp.delay_loop_ms, 6000u);
  EXPECT_EQ(tcp.retry, 1u);
  EXPECT_EQ(tcp.delay_before_retry_ms, 1000u);
  EXPECT_EQ(tcp.warmup_ms, 6000u);  // keepalived: warmup defaults to delay_loop
  // Ten alive servers of weight 1 reach 7 + 2.
  EXPECT_TRUE(has_quorum(vs));
}

// keepalived.conf.inhibit.
TEST(KeepalivedSamples, Inhibit) {
  const Config c = load(std::string(kMail) +
                            "virtual_server 198.18.10.2 1358 {\n"  // 10
                            "    delay_loop 6\n    lb_algo rr\n    lb_kind NAT\n"
                            "    persistence_timeout 50\n    protocol TCP\n"
                            "    real_server 198.18.200.2 1358 {\n"  // 16
                            "        weight 1\n"
                            "        inhibit_on_failure        ! set weight to 0 instead of "
                            "removing service\n" +
                            kHttpGet +  // 19
                            "    }\n}\n",
                        with_mail({}));
  EXPECT_TRUE(c.services.at(0).real_servers.at(0).inhibit_on_failure);
}

// keepalived.conf.fwmark.
TEST(KeepalivedSamples, Fwmark) {
  const Config c = load(
      "global_defs {\n  router_id io\n}\n"
      "virtual_server fwmark 1 {\n"  // 4
      "  delay_loop 6\n  lb_algo rr\n  lb_kind NAT\n  persistence_timeout 900\n"
      "  protocol TCP\n"  // 9
      "  real_server 198.18.201.100 {\n    weight 1\n"
      "    TCP_CHECK {\n      connect_port    80\n      connect_timeout 3\n    }\n  }\n"
      "  real_server 198.18.201.101 {\n    weight 1\n"  // 17
      "    TCP_CHECK {\n      connect_port    80\n      connect_timeout 3\n    }\n  }\n"
      "}\n",
      {"t.conf:9:3: warning: protocol is ignored for fwmark services"});
  EXPECT_EQ(c.services.at(0).key.to_string(), "FWM 1");
  // A fwmark service's servers have no port: the checker has its connect_port.
  EXPECT_EQ(c.services[0].real_servers.at(1).checkers.at(0).connect_port, 80);
  EXPECT_EQ(c.services[0].real_servers.size(), 2u);
}

// keepalived.conf.SMTP_CHECK-like and IPv6: other checkers, an IPv6 service, a DR sorry server.
TEST(KeepalivedSamples, SmtpCheckIPv6) {
  const Config c = load(
      "virtual_server 2001:2::1 25 {\n"
      "    delay_loop 15\n    lb_algo wlc\n    lb_kind DR\n    protocol TCP\n"
      "    sorry_server 2001:2::99 25\n    sorry_server_inhibit\n"
      "    real_server 2001:2::10 25 {\n"  // 8
      "        weight 1\n"
      "        SMTP_CHECK {\n            connect_timeout 10\n            retry 2\n"
      "            helo_name foo.example.org\n        }\n"  // 10
      "    }\n"
      "}\n",
      {});
  const VirtualServerConf& vs = c.services.at(0);
  const CheckerConf& smtp = vs.real_servers.at(0).checkers.at(0);
  EXPECT_EQ(smtp.kind, CheckKind::kSmtp);
  EXPECT_EQ(smtp.helo_name, "foo.example.org");
  EXPECT_EQ(smtp.retry, 2u);
  EXPECT_EQ(smtp.connect_timeout_ms, 10000u);
  EXPECT_EQ(smtp.connect_ip, ip("2001:2::10"));
  EXPECT_EQ(smtp.connect_port, 25);
  EXPECT_EQ(vs.sorry_server->fwd, core::Fwd::kDr);
  // The inhibited sorry server sits at weight 0 beside the live server.
  const auto in_engine = engine_servers(vs);
  ASSERT_EQ(in_engine.size(), 2u);
  EXPECT_EQ(in_engine[1].weight, 0);
}

}  // namespace
}  // namespace lvs::ctl::test
