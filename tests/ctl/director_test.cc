// lvs's own director block.
#include "ctl/config.h"
#include "test_util.h"

namespace lvs::ctl {
namespace {

using test::expect_errors;
using test::parse_clean;
using ::testing::ElementsAre;

TEST(Director, EveryKeyword) {
  const Config c = parse_clean(
      "director {\n"
      "  interface veth0\n"
      "  interface eth1\n"
      "  io af_packet\n"
      "  xdp_mode skb\n"
      "  workers 4\n"
      "  conn_capacity 65536\n"
      "  expire_nodest_conn on\n"
      "}\n");
  EXPECT_THAT(c.director.interfaces, ElementsAre("veth0", "eth1"));
  EXPECT_EQ(c.director.io, IoBackend::kAfPacket);
  EXPECT_EQ(c.director.xdp_mode, XdpMode::kSkb);
  EXPECT_EQ(c.director.workers, 4u);
  EXPECT_EQ(c.director.conn_capacity, 65536u);
  EXPECT_TRUE(c.director.expire_nodest_conn);
}

TEST(Director, OtherValues) {
  const Config c = parse_clean(
      "director {\n io af_xdp\n xdp_mode native\n workers auto\n expire_nodest_conn off\n}");
  EXPECT_EQ(c.director.io, IoBackend::kAfXdp);
  EXPECT_EQ(c.director.xdp_mode, XdpMode::kNative);
  EXPECT_EQ(c.director.workers, 0u);
  EXPECT_FALSE(c.director.expire_nodest_conn);
  EXPECT_EQ(parse_clean("director { xdp_mode auto }").director.xdp_mode, XdpMode::kAuto);
}

TEST(Director, KeepalivedBooleans) {
  for (const char* on : {"on", "true", "yes"}) {
    EXPECT_TRUE(parse_clean(std::string("director { expire_nodest_conn ") + on + " }")
                    .director.expire_nodest_conn);
  }
  for (const char* off : {"off", "false", "no"}) {
    EXPECT_FALSE(parse_clean(std::string("director { expire_nodest_conn ") + off + " }")
                     .director.expire_nodest_conn);
  }
}

TEST(Director, CapacityBounds) {
  EXPECT_EQ(parse_clean("director { conn_capacity 16 }").director.conn_capacity, 16u);
  EXPECT_EQ(parse_clean("director { worker_rt_priority 0 }").director.worker_rt_priority, 0);
  EXPECT_EQ(parse_clean("director { worker_rt_priority 99 }").director.worker_rt_priority, 99);
  EXPECT_EQ(parse_clean("director { interface x }").director.worker_rt_priority, 1);
  EXPECT_EQ(parse_clean("director { conn_capacity 2147483648 }").director.conn_capacity,
            2147483648u);
}

TEST(Director, FtpPorts) {
  EXPECT_THAT(parse_clean("director { interface x }").director.ftp_ports, ElementsAre(21));
  EXPECT_THAT(parse_clean("director { ftp_ports 21 2121 }").director.ftp_ports,
              ElementsAre(21, 2121));
  EXPECT_TRUE(parse_clean("director { ftp_ports none }").director.ftp_ports.empty());
  EXPECT_THAT(parse_clean("director { ftp_ports 2 3 4 5 6 7 8 9 }").director.ftp_ports,
              ElementsAre(2, 3, 4, 5, 6, 7, 8, 9));
}

TEST(Director, FtpPortsErrors) {
  expect_errors(
      "director {\n"
      "  ftp_ports\n"
      "  ftp_ports 1\n"
      "  ftp_ports 21 21\n"
      "  ftp_ports 2 3 4 5 6 7 8 9 10\n"
      "  ftp_ports none 21\n"
      "  ftp_ports 65536\n"
      "}\n",
      {"t.conf:2:3: 'ftp_ports' needs 1 to 8 ports or 'none'",
       "t.conf:3:13: invalid ftp_ports '1' (expected 2..65535)",
       "t.conf:4:16: ftp_ports: port 21 is listed twice",
       "t.conf:5:29: unexpected '10': 'ftp_ports' takes 1 to 8 ports or 'none'",
       "t.conf:6:13: invalid ftp_ports 'none' (expected 2..65535)",
       "t.conf:7:13: invalid ftp_ports '65536' (expected 2..65535)"});
}

TEST(Director, ValueErrors) {
  expect_errors(
      "director {\n"
      "  io dpdk\n"
      "  xdp_mode hw\n"
      "  workers 0\n"
      "  workers many\n"
      "  workers 5000\n"
      "  conn_capacity 8\n"
      "  conn_capacity 1e6\n"
      "  expire_nodest_conn maybe\n"
      "}\n",
      {"t.conf:2:6: invalid io 'dpdk' (expected af_xdp or af_packet)",
       "t.conf:3:12: invalid xdp_mode 'hw' (expected auto, native or skb)",
       "t.conf:4:11: invalid workers '0' (expected 1..4096)",
       "t.conf:5:11: invalid workers 'many' (expected auto or 1..4096)",
       "t.conf:6:11: invalid workers '5000' (expected 1..4096)",
       "t.conf:7:17: invalid conn_capacity '8' (expected 16..2147483648)",
       "t.conf:8:17: invalid conn_capacity '1e6' (expected 16..2147483648)",
       "t.conf:9:22: invalid expire_nodest_conn 'maybe' (expected on or off)"});
}

TEST(Director, InterfaceNames) {
  expect_errors(
      "director {\n"
      "  interface eth0\n"
      "  interface eth0\n"
      "  interface a/b\n"
      "  interface eth0:1\n"
      "  interface abcdefghijklmnop\n"
      "  interface ..\n"
      "}\n",
      {"t.conf:3:13: interface 'eth0' is listed twice", "t.conf:4:13: invalid interface name 'a/b'",
       "t.conf:5:13: invalid interface name 'eth0:1'",
       "t.conf:6:13: invalid interface name 'abcdefghijklmnop'",
       "t.conf:7:13: invalid interface name '..'"});
  EXPECT_THAT(parse_clean("director { interface abcdefghijklmno }").director.interfaces,
              ElementsAre("abcdefghijklmno"));
}

TEST(Director, ArgumentCountAndBlocks) {
  expect_errors("director {\n  interface\n  io af_xdp af_packet\n  workers 2 {\n  }\n}\n",
                {"t.conf:2:3: 'interface' needs a value",
                 "t.conf:3:13: unexpected 'af_packet': 'io' takes a value",
                 "t.conf:4:13: 'workers' does not take a block"});
}

TEST(Director, UnknownKeyword) {
  expect_errors("director {\n  worker 2\n  lb_algo rr\n}",
                {"t.conf:2:3: unknown keyword 'worker' in director; did you mean 'workers'?",
                 "t.conf:3:3: unknown keyword 'lb_algo' in director"});
}

}  // namespace
}  // namespace lvs::ctl
