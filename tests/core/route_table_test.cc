#include "core/route_table.h"

#include <gtest/gtest.h>

#include "fixtures/topology.h"

namespace lvs::core {
namespace {

using namespace fixtures;

TEST(RouteTable, LongestPrefixAndGateway) {
  auto rt = make_routes();
  auto r = rt->lookup(kRs1);
  ASSERT_EQ(r.status, RouteStatus::kOk);
  EXPECT_EQ(r.nh.ifindex, kInt);
  EXPECT_EQ(r.nh.dst, kRs1Mac);
  EXPECT_EQ(r.nh.src, kIntMac);
  r = rt->lookup(kClient);  // default route via the router
  ASSERT_EQ(r.status, RouteStatus::kOk);
  EXPECT_EQ(r.nh.ifindex, kExt);
  EXPECT_EQ(r.nh.dst, kRouterMac);
  r = rt->lookup(kClient6);
  ASSERT_EQ(r.status, RouteStatus::kOk);
  EXPECT_EQ(r.nh.dst, kRouterMac);
}

TEST(RouteTable, MissingNeighbourNamesTheAddressToResolve) {
  auto rt = make_routes();
  auto r = rt->lookup(net::ip("198.18.1.99"));
  EXPECT_EQ(r.status, RouteStatus::kNoNeighbour);
  EXPECT_EQ(r.resolve, net::ip("198.18.1.99"));
  EXPECT_EQ(r.resolve_ifindex, kInt);
}

TEST(RouteTable, OnLinkUsesTheDestinationItself) {
  std::vector<Iface> ifaces = {{3, "int", kIntMac, 1500, true}};
  std::vector<Route> routes = {{net::ip("0.0.0.0"), 0, 3, net::ip("198.18.1.254"), 0}};
  std::vector<Neigh> neighs = {{3, net::ip("198.18.1.254"), net::mac(0xfe)},
                               {3, kRs1, kRs1Mac}};
  RouteTable rt(ifaces, routes, neighs);
  EXPECT_EQ(rt.lookup(kRs1).nh.dst, net::mac(0xfe));
  EXPECT_EQ(rt.lookup(kRs1, true).nh.dst, kRs1Mac);
}

TEST(RouteTable, NotAttachedAndNoRoute) {
  std::vector<Iface> ifaces = {{3, "int", kIntMac, 1500, false}};
  std::vector<Route> routes = {{net::ip("198.18.1.0"), 24, 3, {}, 0},
                               {net::ip("198.18.9.0"), 24, 9, {}, 0}};
  RouteTable rt(ifaces, routes, {});
  EXPECT_EQ(rt.lookup(kRs1).status, RouteStatus::kNotAttached);
  EXPECT_EQ(rt.lookup(net::ip("198.18.9.1")).status, RouteStatus::kNotAttached);
  EXPECT_EQ(rt.lookup(net::ip("198.19.0.1")).status, RouteStatus::kNoRoute);
  EXPECT_EQ(RouteTable().lookup(kRs1).status, RouteStatus::kNoRoute);
}

TEST(RouteTable, PriorityBreaksTiesAndFamiliesDoNotMix) {
  std::vector<Iface> ifaces = {{2, "a", net::mac(2), 1500, true}, {3, "b", net::mac(3), 1500, true}};
  std::vector<Route> routes = {{net::ip("198.18.0.0"), 16, 3, {}, 200},
                               {net::ip("198.18.0.0"), 16, 2, {}, 100},
                               {net::ip("::"), 0, 3, {}, 0}};
  std::vector<Neigh> neighs = {{2, net::ip("198.18.5.5"), net::mac(9)},
                               {3, net::ip("198.18.5.5"), net::mac(8)}};
  RouteTable rt(ifaces, routes, neighs);
  EXPECT_EQ(rt.lookup(net::ip("198.18.5.5")).nh.ifindex, 2u);
  EXPECT_EQ(rt.lookup(net::ip("2001:2::5")).status, RouteStatus::kNoNeighbour);
}

}  // namespace
}  // namespace lvs::core
