// An immutable snapshot of what the kernel knows about getting a packet to its next hop:
// interfaces, routes (main table) and resolved neighbours. The control thread builds one from
// rtnetlink and hands it to the workers between bursts; the engine only reads it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net/addr.h"

namespace lvs::core {

struct Iface {
  uint32_t ifindex = 0;
  std::string name;
  net::MacAddr mac;
  uint32_t mtu = 1500;
  bool attached = false;  // lvsd sends and receives on it
  net::IpAddr addr4, addr6;  // its first global address per family: source of our own packets
};

struct Route {
  net::IpAddr prefix;
  uint8_t prefix_len = 0;
  uint32_t ifindex = 0;
  net::IpAddr gateway;  // family kNone: directly connected
  uint32_t priority = 0;
};

struct Neigh {
  uint32_t ifindex = 0;
  net::IpAddr addr;
  net::MacAddr mac;
};

struct NextHop {
  uint32_t ifindex = 0;
  net::MacAddr src;
  net::MacAddr dst;
  uint32_t mtu = 1500;
};

enum class RouteStatus : uint8_t { kOk, kNoRoute, kNotAttached, kNoNeighbour };

struct RouteResult {
  RouteStatus status = RouteStatus::kNoRoute;
  NextHop nh;
  // The next hop's address and interface (whenever a route was found): with kNoNeighbour, what
  // must be resolved.
  net::IpAddr resolve;
  uint32_t resolve_ifindex = 0;
};

class RouteTable {
 public:
  RouteTable() = default;
  RouteTable(std::vector<Iface> ifaces, std::vector<Route> routes, std::vector<Neigh> neighs);

  // Where a packet for `dst` goes next. With `on_link` (VS/DR) the next hop is `dst` itself on
  // the route's interface, as IPVS's DR transmitter uses the real server's own MAC.
  RouteResult lookup(const net::IpAddr& dst, bool on_link = false) const;
  // The same for the packet path: a pointer to a next hop computed when the table was built,
  // or nullptr with `miss` saying why (status, and what to resolve).
  const NextHop* find(const net::IpAddr& dst, bool on_link, RouteResult* miss) const;

  const Iface* iface(uint32_t ifindex) const;
  const std::vector<Iface>& ifaces() const { return ifaces_; }
  const std::vector<Route>& routes() const { return routes_; }
  size_t neigh_count() const { return neigh_count_; }

 private:
  struct Slot {
    uint32_t ifindex = 0;  // 0: empty
    net::IpAddr addr;
    NextHop nh;  // the interface's MAC and MTU joined in when the table is built
  };
  // A route's prefix as masked words in memory order: a match is (addr & mask) == net.
  struct Prefix4 {
    uint32_t net, mask;
    uint32_t route;
  };
  struct Prefix6 {
    uint64_t net0, net1, mask0, mask1;
    uint32_t route;
  };
  int match(const net::IpAddr& dst) const;
  const Slot* find_neigh(uint32_t ifindex, const net::IpAddr& addr) const;

  std::vector<Iface> ifaces_;
  std::vector<Route> routes_;  // longest prefix first, then lowest priority
  std::vector<Prefix4> v4_;
  std::vector<Prefix6> v6_;
  std::vector<const Iface*> route_iface_;  // per route: its interface if attached, else null
  std::vector<const Slot*> via_;           // per route with a gateway: the gateway's neighbour
  std::vector<Slot> neigh_;                // open addressing, power-of-two size
  size_t neigh_count_ = 0;
};

}  // namespace lvs::core
