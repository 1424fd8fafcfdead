// The control API's changes (POST /v1/ops) on a configuration: each command, each refusal.
#include "ctl/api_ops.h"

#include <gtest/gtest.h>

namespace lvs::ctl {
namespace {

using nlohmann::json;

const json kSvc = {{"proto", 6}, {"addr", "198.18.2.100"}, {"port", 80}};

Config with_service() {
  Config c;
  EXPECT_TRUE(apply_op({{"cmd", "add-service"}, {"service", kSvc}}, c).ok());
  return c;
}

TEST(ApiOps, AddServiceWithIpvsadmDefaultsAndPersistence) {
  Config c;
  json s = kSvc;
  s["timeout"] = 360;
  s["prefix"] = 24;
  ASSERT_TRUE(apply_op({{"cmd", "add-service"}, {"service", s}}, c).ok());
  ASSERT_EQ(c.services.size(), 1u);
  EXPECT_EQ(c.services[0].key.to_string(), "TCP 198.18.2.100:80");
  EXPECT_EQ(c.services[0].scheduler, "wlc");  // ipvsadm's default
  EXPECT_EQ(c.services[0].persistence_timeout, 360u);
  EXPECT_EQ(c.services[0].persistence_prefix, 24);
  EXPECT_EQ(apply_op({{"cmd", "add-service"}, {"service", kSvc}}, c).error, OpError::kExists);
}

TEST(ApiOps, ServersAddEditDelete) {
  Config c = with_service();
  const json rs = {{"addr", "198.18.1.11"}, {"port", 8080}, {"fwd", "Masq"}, {"weight", 3}};
  ASSERT_TRUE(apply_op({{"cmd", "add-server"}, {"service", kSvc}, {"server", rs}}, c).ok());
  EXPECT_EQ(apply_op({{"cmd", "add-server"}, {"service", kSvc}, {"server", rs}}, c).error,
            OpError::kExists);
  json edit = rs;
  edit["weight"] = 0;
  edit["fwd"] = "Tunnel";
  edit["tun_type"] = "gue";
  edit["tun_port"] = 6080;
  ASSERT_TRUE(apply_op({{"cmd", "edit-server"}, {"service", kSvc}, {"server", edit}}, c).ok());
  const RealServerConf& r = c.services[0].real_servers.at(0);
  EXPECT_EQ(r.weight, 0);
  EXPECT_EQ(r.fwd, core::Fwd::kTun);
  EXPECT_EQ(r.tun_type, core::TunType::kGue);
  EXPECT_EQ(r.tun_port, 6080);
  ASSERT_TRUE(apply_op({{"cmd", "delete-server"}, {"service", kSvc}, {"server", rs}}, c).ok());
  EXPECT_EQ(apply_op({{"cmd", "delete-server"}, {"service", kSvc}, {"server", rs}}, c).error,
            OpError::kNoServer);
}

TEST(ApiOps, Refusals) {
  Config c = with_service();
  json other = kSvc;
  other["port"] = 81;
  const json rs = {{"addr", "198.18.1.11"}, {"port", 80}};
  EXPECT_EQ(apply_op({{"cmd", "add-server"}, {"service", other}, {"server", rs}}, c).error,
            OpError::kNoService);
  EXPECT_EQ(apply_op({{"cmd", "delete-service"}, {"service", other}}, c).error,
            OpError::kNoService);
  json bad_sched = kSvc;
  bad_sched["scheduler"] = "nosuch";
  EXPECT_EQ(apply_op({{"cmd", "edit-service"}, {"service", bad_sched}}, c).error,
            OpError::kNoScheduler);
  EXPECT_EQ(apply_op({{"cmd", "nosuch"}, {"service", kSvc}}, c).error, OpError::kBadRequest);
  EXPECT_EQ(apply_op(json::array(), c).error, OpError::kBadRequest);
  json bad_type = {{"addr", "198.18.1.11"}, {"port", 80}, {"tun_type", 80}};
  EXPECT_EQ(apply_op({{"cmd", "add-server"}, {"service", kSvc}, {"server", bad_type}}, c).error,
            OpError::kBadRequest);
  json bad_proto = kSvc;
  bad_proto["proto"] = 1;
  EXPECT_EQ(apply_op({{"cmd", "add-service"}, {"service", bad_proto}}, c).error,
            OpError::kBadRequest);
  EXPECT_EQ(c.services.size(), 1u);  // nothing of the refused ones stayed
  EXPECT_EQ(c.services[0].scheduler, "wlc");
}

TEST(ApiOps, FlushTimeoutsAndZero) {
  Config c = with_service();
  ASSERT_TRUE(
      apply_op({{"cmd", "set-timeout"}, {"timeouts", {{"tcp", 600}, {"tcp_fin", 0}, {"udp", 30}}}},
               c)
          .ok());
  EXPECT_EQ(c.timeouts.tcp[core::kTcpEstablished], 600u);
  EXPECT_EQ(c.timeouts.tcp[core::kTcpFinWait], 120u);  // 0 leaves it, as ipvsadm --set
  EXPECT_EQ(c.timeouts.udp, 30u);
  const OpResult z = apply_op({{"cmd", "zero"}, {"service", kSvc}}, c);
  EXPECT_TRUE(z.ok() && z.zero && !z.zero_all);
  EXPECT_TRUE(apply_op({{"cmd", "zero"}}, c).zero_all);
  ASSERT_TRUE(apply_op({{"cmd", "flush"}}, c).ok());
  EXPECT_TRUE(c.services.empty());
  EXPECT_EQ(apply_op({{"cmd", "zero"}, {"service", kSvc}}, c).error, OpError::kNoService);
}

TEST(ApiOps, FwmarkServices) {
  Config c;
  const json s = {{"fwmark", 7}, {"af", 6}, {"scheduler", "mh"}, {"sched_flags", 0x18}};
  ASSERT_TRUE(apply_op({{"cmd", "add-service"}, {"service", s}}, c).ok());
  EXPECT_EQ(c.services[0].key.fwmark, 7u);
  EXPECT_EQ(c.services[0].key.addr.family, net::Family::kV6);
  EXPECT_EQ(c.services[0].sched_flags, 0x18u);
  EXPECT_EQ(c.services[0].persistence_prefix, 128);
}

}  // namespace
}  // namespace lvs::ctl
