#include "io/netlink.h"
#include "net/packet_builder.h"

#include <gtest/gtest.h>
#include <net/if.h>

#include <chrono>
#include <thread>

#include "netns_thread.h"

namespace lvs::io {
namespace {

using lvs::testing::run_in_new_netns;
using lvs::testing::sh;

TEST(Netlink, SnapshotHasLinksRoutesAndNeighbours) {
  std::string why;
  const bool ran = run_in_new_netns([] {
    ASSERT_EQ(sh("ip link add a0 type veth peer name b0"), 0);
    ASSERT_EQ(sh("ip addr add 198.18.5.1/24 dev a0 && ip link set a0 up && ip link set b0 up"), 0);
    ASSERT_EQ(sh("ip route add 198.18.9.0/24 via 198.18.5.254 dev a0"), 0);
    ASSERT_EQ(sh("ip neigh add 198.18.5.254 lladdr 02:00:00:00:00:fe dev a0 nud permanent"), 0);
    std::string err;
    auto nl = Netlink::open(&err);
    ASSERT_TRUE(nl) << err;
    const Link* a0 = nl->link("a0");
    ASSERT_NE(a0, nullptr);
    EXPECT_TRUE(a0->up);
    auto rt = nl->snapshot({a0->ifindex});
    auto r = rt->lookup(net::ip("198.18.9.7"));
    ASSERT_EQ(r.status, core::RouteStatus::kOk);
    EXPECT_EQ(r.nh.ifindex, a0->ifindex);
    EXPECT_EQ(r.nh.dst.to_string(), "02:00:00:00:00:fe");
    EXPECT_EQ(r.nh.src, a0->mac);
    // Not attached: the same route is refused.
    EXPECT_EQ(nl->snapshot({})->lookup(net::ip("198.18.9.7")).status,
              core::RouteStatus::kNotAttached);
  }, &why);
  if (!ran) GTEST_SKIP() << why;
}

// The kernel resolves a next hop on request (NTF_USE) without lvsd sending anything itself,
// and the notification that follows marks the view dirty.
TEST(Netlink, RequestResolutionMakesTheKernelResolve) {
  std::string why;
  const bool ran = run_in_new_netns([] {
    lvs::testing::PeerNetns peer;
    ASSERT_TRUE(peer.ok());
    ASSERT_EQ(sh("ip link add a0 type veth peer name b0"), 0);
    ASSERT_EQ(sh("ip link set b0 netns " + peer.id()), 0);
    ASSERT_EQ(sh("ip addr add 198.18.5.1/24 dev a0 && ip link set a0 up"), 0);
    ASSERT_EQ(sh(peer.exec("ip addr add 198.18.5.2/24 dev b0")), 0);
    ASSERT_EQ(sh(peer.exec("ip link set b0 up")), 0);
    std::string err;
    auto nl = Netlink::open(&err);
    ASSERT_TRUE(nl) << err;
    const uint32_t a0 = if_nametoindex("a0");
    EXPECT_EQ(nl->snapshot({a0})->lookup(net::ip("198.18.5.2"), true).status,
              core::RouteStatus::kNoNeighbour);
    ASSERT_TRUE(nl->request_resolution(a0, net::ip("198.18.5.2"), &err)) << err;
    bool resolved = false;
    for (int i = 0; i < 50 && !resolved; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (!nl->drain_events()) continue;
      ASSERT_TRUE(nl->refresh(&err)) << err;
      resolved = nl->snapshot({a0})->lookup(net::ip("198.18.5.2"), true).status ==
                 core::RouteStatus::kOk;
    }
    EXPECT_TRUE(resolved);
  }, &why);
  if (!ran) GTEST_SKIP() << why;
}

TEST(Netlink, RequestResolutionWorksForIpv6) {
  std::string why;
  const bool ran = run_in_new_netns([] {
    lvs::testing::PeerNetns peer;
    ASSERT_TRUE(peer.ok());
    // Without DAD the link-local source of the solicitation is usable at once (the kernel
    // sends none while it is tentative, about a second on a new link).
    const std::string no_dad = "sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0";
    ASSERT_EQ(sh(no_dad), 0);
    ASSERT_EQ(sh(peer.exec(no_dad)), 0);
    ASSERT_EQ(sh("ip link add a0 type veth peer name b0"), 0);
    ASSERT_EQ(sh("ip link set b0 netns " + peer.id()), 0);
    ASSERT_EQ(sh("ip -6 addr add 2001:2:5::1/64 dev a0 nodad && ip link set a0 up"), 0);
    ASSERT_EQ(sh(peer.exec("ip -6 addr add 2001:2:5::2/64 dev b0 nodad")), 0);
    ASSERT_EQ(sh(peer.exec("ip link set b0 up")), 0);
    std::string err;
    auto nl = Netlink::open(&err);
    ASSERT_TRUE(nl) << err;
    const uint32_t a0 = if_nametoindex("a0");
    ASSERT_TRUE(nl->request_resolution(a0, net::ip("2001:2:5::2"), &err)) << err;
    bool resolved = false;
    for (int i = 0; i < 100 && !resolved; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (!nl->drain_events()) continue;
      ASSERT_TRUE(nl->refresh(&err)) << err;
      resolved = nl->snapshot({a0})->lookup(net::ip("2001:2:5::2"), true).status ==
                 core::RouteStatus::kOk;
    }
    EXPECT_TRUE(resolved);
  }, &why);
  if (!ran) GTEST_SKIP() << why;
}

// A static entry is the operator's: a resolution request must leave it exactly as it is.
TEST(Netlink, RequestLeavesStaticNeighboursAlone) {
  std::string why;
  const bool ran = run_in_new_netns([] {
    ASSERT_EQ(sh("ip link add a0 type veth peer name b0"), 0);
    ASSERT_EQ(sh("ip addr add 198.18.5.1/24 dev a0 && ip link set a0 up && ip link set b0 up"), 0);
    ASSERT_EQ(sh("ip neigh add 198.18.5.9 lladdr 02:00:00:00:00:09 dev a0 nud permanent"), 0);
    std::string err;
    auto nl = Netlink::open(&err);
    ASSERT_TRUE(nl) << err;
    const uint32_t a0 = if_nametoindex("a0");
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(nl->request_resolution(a0, net::ip("198.18.5.9"), &err)) << err;
    }
    EXPECT_EQ(sh("ip neigh show 198.18.5.9 dev a0 | grep -q 'lladdr 02:00:00:00:00:09 PERMANENT'"), 0);
    ASSERT_TRUE(nl->refresh(&err)) << err;
    EXPECT_EQ(nl->snapshot({a0})->lookup(net::ip("198.18.5.9"), true).status,
              core::RouteStatus::kOk);
  }, &why);
  if (!ran) GTEST_SKIP() << why;
}

}  // namespace
}  // namespace lvs::io
