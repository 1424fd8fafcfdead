// What the kernel knows about next hops, read over rtnetlink: links, main-table routes and
// neighbours, turned into core::RouteTable snapshots for the workers. Notifications only mark
// the view dirty; the control loop re-reads it (the tables a director has are small). Unresolved
// next hops are resolved by asking the kernel (RTM_NEWNEIGH with NTF_USE, as `ip neigh ... use`),
// so lvsd never sends a packet of its own for it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/route_table.h"
#include "net/addr.h"

struct mnl_socket;

namespace lvs::io {

struct Link {
  uint32_t ifindex = 0;
  std::string name;
  net::MacAddr mac;
  uint32_t mtu = 1500;
  bool up = false;
  net::IpAddr addr4, addr6;  // first global address of each family; unset if none
};

class Netlink {
 public:
  static std::unique_ptr<Netlink> open(std::string* err);
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  // Readable when the kernel reports a change.
  int event_fd() const;
  // Consumes pending notifications; true if any concerned links, routes or neighbours.
  bool drain_events();
  // Re-reads links, routes and neighbours.
  bool refresh(std::string* err);
  // A snapshot in which the interfaces in `attached` are marked as lvsd's.
  std::shared_ptr<const core::RouteTable> snapshot(const std::vector<uint32_t>& attached) const;
  // Asks the kernel to resolve `addr` on `ifindex`.
  bool request_resolution(uint32_t ifindex, const net::IpAddr& addr, std::string* err);

  const std::vector<Link>& links() const { return links_; }
  const Link* link(const std::string& name) const;

 private:
  Netlink() = default;
  bool dump(int type, int family, std::string* err);

  mnl_socket* events_ = nullptr;
  mnl_socket* requests_ = nullptr;
  uint32_t seq_ = 1;
  std::vector<Link> links_;
  std::vector<core::Route> routes_;
  std::vector<core::Neigh> neighs_;
  std::vector<uint16_t> neigh_states_;  // NUD_* of neighs_[i]
};

}  // namespace lvs::io
