#include "core/route_table.h"

#include <algorithm>
#include <bit>

namespace lvs::core {

namespace {
uint64_t neigh_hash(uint32_t ifindex, const net::IpAddr& a) {
  uint64_t h = 0x9e3779b97f4a7c15ull * (ifindex + 1);
  for (size_t i = 0; i < a.size(); i += 4) {
    uint32_t w;
    std::memcpy(&w, a.data() + i, 4);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 29;
  }
  return h;
}
}  // namespace

RouteTable::RouteTable(std::vector<Iface> ifaces, std::vector<Route> routes,
                       std::vector<Neigh> neighs)
    : ifaces_(std::move(ifaces)), routes_(std::move(routes)) {
  std::stable_sort(routes_.begin(), routes_.end(), [](const Route& a, const Route& b) {
    if (a.prefix_len != b.prefix_len) return a.prefix_len > b.prefix_len;
    return a.priority < b.priority;
  });
  neigh_.resize(std::bit_ceil(std::max<size_t>(16, neighs.size() * 2)));
  const size_t mask = neigh_.size() - 1;
  for (const Neigh& n : neighs) {
    if (n.ifindex == 0) continue;
    size_t i = neigh_hash(n.ifindex, n.addr) & mask;
    while (neigh_[i].ifindex != 0 &&
           !(neigh_[i].ifindex == n.ifindex && neigh_[i].addr == n.addr)) {
      i = (i + 1) & mask;
    }
    if (neigh_[i].ifindex == 0) ++neigh_count_;
    neigh_[i] = Slot{n.ifindex, n.addr, n.mac};
  }
  via_.resize(routes_.size());
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (routes_[i].gateway.family != net::Family::kNone) {
      via_[i] = resolve(routes_[i], routes_[i].gateway);
    }
  }
}

RouteResult RouteTable::resolve(const Route& route, const net::IpAddr& hop) const {
  RouteResult r;
  const Iface* out = iface(route.ifindex);
  if (out == nullptr || !out->attached) {
    r.status = RouteStatus::kNotAttached;
    return r;
  }
  r.resolve = hop;
  r.resolve_ifindex = out->ifindex;
  const Slot* n = find_neigh(out->ifindex, hop);
  if (n == nullptr) {
    r.status = RouteStatus::kNoNeighbour;
    return r;
  }
  r.status = RouteStatus::kOk;
  r.nh = NextHop{out->ifindex, out->mac, n->mac, out->mtu};
  return r;
}

const RouteTable::Slot* RouteTable::find_neigh(uint32_t ifindex, const net::IpAddr& addr) const {
  if (neigh_.empty()) return nullptr;
  const size_t mask = neigh_.size() - 1;
  for (size_t i = neigh_hash(ifindex, addr) & mask;; i = (i + 1) & mask) {
    const Slot& s = neigh_[i];
    if (s.ifindex == 0) return nullptr;
    if (s.ifindex == ifindex && s.addr.family == addr.family) {
      uint64_t x[2], y[2];
      std::memcpy(x, s.addr.bytes.data(), 16);
      std::memcpy(y, addr.bytes.data(), 16);
      if (((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0) return &s;
    }
  }
}

const Iface* RouteTable::iface(uint32_t ifindex) const {
  for (const Iface& i : ifaces_) {
    if (i.ifindex == ifindex) return &i;
  }
  return nullptr;
}

RouteResult RouteTable::lookup(const net::IpAddr& dst, bool on_link) const {
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Route& rt = routes_[i];
    if (!dst.in_prefix(rt.prefix, rt.prefix_len)) continue;
    if (!on_link && rt.gateway.family != net::Family::kNone) return via_[i];
    return resolve(rt, dst);
  }
  RouteResult r;
  r.status = RouteStatus::kNoRoute;
  return r;
}

}  // namespace lvs::core
