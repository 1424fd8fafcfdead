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
                                   "(VRRP); block skipped",
                                   "t.conf:31:9: warning: \"HTTP_GET\" health checks are not yet "
                                   "supported; 198.18.200.2:1358 stays in service"}));
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
  EXPECT_EQ(vs.real_servers[0].checkers[0].keyword, "HTTP_GET");
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
                        with_mail({"t.conf:26:9: warning: \"HTTP_GET\" health checks are not yet "
                                   "supported; 198.18.200.1:1358 stays in service",
                                   "t.conf:38:9: warning: \"HTTP_GET\" health checks are not yet "
                                   "supported; 198.18.200.2:1358 stays in service"}));
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
       "t.conf:20:1: warning: \"vrrp_instance\" is not yet supported (VRRP); block skipped",
       "t.conf:36:9: warning: \"TCP_CHECK\" health checks are not yet supported; "
       "198.18.201.100:80 stays in service"});
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
  std::vector<std::string> warnings;
  for (int i = 1; i <= 10; ++i) {
    const int line = 13 + (i - 1) * 7;
    text += "  real_server 198.18.0." + std::to_string(i) +
            " 8080 {\n    weight 1\n    TCP_CHECK {\n      connect_port    80\n"
            "      connect_timeout 3\n    }\n  }\n";
    warnings.push_back("t.conf:" + std::to_string(line + 2) +
                       ":5: warning: \"TCP_CHECK\" health checks are not yet supported; "
                       "198.18.0." +
                       std::to_string(i) + ":8080 stays in service");
  }
  text += "}\n";
  const Config c = load(text, warnings);
  const VirtualServerConf& vs = c.services.at(0);
  EXPECT_EQ(vs.quorum, 7u);
  EXPECT_EQ(vs.hysteresis, 2u);
  EXPECT_TRUE(vs.alpha && vs.omega);
  EXPECT_EQ(vs.quorum_up, "/usr/local/sbin/quorum-up.sh");
  EXPECT_TRUE(vs.real_servers[0].alpha);  // taken from the service
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
                        with_mail({"t.conf:19:9: warning: \"HTTP_GET\" health checks are not yet "
                                   "supported; 198.18.200.2:1358 stays in service"}));
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
      {"t.conf:12:5: warning: \"TCP_CHECK\" health checks are not yet supported; 198.18.201.100 "
       "stays in service",
       "t.conf:19:5: warning: \"TCP_CHECK\" health checks are not yet supported; 198.18.201.101 "
       "stays in service",
       "t.conf:9:3: warning: protocol is ignored for fwmark services"});
  EXPECT_EQ(c.services.at(0).key.to_string(), "FWM 1");
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
      {"t.conf:10:9: warning: \"SMTP_CHECK\" health checks are not yet supported; "
       "[2001:2::10]:25 stays in service"});
  const VirtualServerConf& vs = c.services.at(0);
  EXPECT_EQ(vs.sorry_server->fwd, core::Fwd::kDr);
  // The inhibited sorry server sits at weight 0 beside the live server.
  const auto in_engine = engine_servers(vs);
  ASSERT_EQ(in_engine.size(), 2u);
  EXPECT_EQ(in_engine[1].weight, 0);
}

}  // namespace
}  // namespace lvs::ctl::test
