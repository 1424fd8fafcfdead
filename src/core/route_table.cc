#include "core/route_table.h"

#include <algorithm>
#include <bit>

namespace lvs::core {

namespace {

uint64_t neigh_hash(uint32_t ifindex, const net::IpAddr& a) {
  uint64_t w0 = 0, w1 = 0;
  std::memcpy(&w0, a.data(), a.is_v4() ? 4 : 8);
  if (!a.is_v4()) std::memcpy(&w1, a.data() + 8, 8);
  uint64_t h = (w0 ^ (uint64_t(ifindex) << 32)) * 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 29) ^ w1) * 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 32);
}

// A mask of `bits` leading one bits, as it lies in memory (network order) in a word of `width`.
uint32_t mask32(unsigned bits) { return bits == 0 ? 0 : __builtin_bswap32(~0u << (32 - bits)); }
uint64_t mask64(unsigned bits) {
  return bits == 0 ? 0 : __builtin_bswap64(bits >= 64 ? ~0ull : ~(~0ull >> bits));
}

bool same_addr(const net::IpAddr& a, const net::IpAddr& b) {
  uint64_t x[2], y[2];
  std::memcpy(x, a.bytes.data(), 16);
  std::memcpy(y, b.bytes.data(), 16);
  return a.family == b.family && ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
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
           !(neigh_[i].ifindex == n.ifindex && same_addr(neigh_[i].addr, n.addr))) {
      i = (i + 1) & mask;
    }
    if (neigh_[i].ifindex == 0) ++neigh_count_;
    NextHop nh{n.ifindex, {}, n.mac, 1500};
    if (const Iface* out = iface(n.ifindex)) {
      nh.src = out->mac;
      nh.mtu = out->mtu;
    }
    neigh_[i] = Slot{n.ifindex, n.addr, nh};
  }
  route_iface_.resize(routes_.size());
  via_.resize(routes_.size());
  for (uint32_t i = 0; i < routes_.size(); ++i) {
    const Route& rt = routes_[i];
    const Iface* out = iface(rt.ifindex);
    route_iface_[i] = (out && out->attached) ? out : nullptr;
    if (out && rt.gateway.family != net::Family::kNone) via_[i] = find_neigh(out->ifindex, rt.gateway);
    if (rt.prefix.is_v4()) {
      const unsigned bits = std::min<unsigned>(rt.prefix_len, 32);
      uint32_t a;
      std::memcpy(&a, rt.prefix.data(), 4);
      v4_.push_back({a & mask32(bits), mask32(bits), i});
    } else if (rt.prefix.is_v6()) {
      const unsigned bits = std::min<unsigned>(rt.prefix_len, 128);
      uint64_t a[2];
      std::memcpy(a, rt.prefix.data(), 16);
      const uint64_t m0 = mask64(std::min(bits, 64u));
      const uint64_t m1 = mask64(bits > 64 ? bits - 64 : 0);
      v6_.push_back({a[0] & m0, a[1] & m1, m0, m1, i});
    }
  }
}

int RouteTable::match(const net::IpAddr& dst) const {
  if (dst.is_v4()) {
    uint32_t a;
    std::memcpy(&a, dst.data(), 4);
    for (const Prefix4& p : v4_) {
      if ((a & p.mask) == p.net) return int(p.route);
    }
    return -1;
  }
  uint64_t a[2];
  std::memcpy(a, dst.data(), 16);
  for (const Prefix6& p : v6_) {
    if ((a[0] & p.mask0) == p.net0 && (a[1] & p.mask1) == p.net1) return int(p.route);
  }
  return -1;
}

const RouteTable::Slot* RouteTable::find_neigh(uint32_t ifindex, const net::IpAddr& addr) const {
  if (neigh_.empty()) return nullptr;
  const size_t mask = neigh_.size() - 1;
  for (size_t i = neigh_hash(ifindex, addr) & mask;; i = (i + 1) & mask) {
    const Slot& s = neigh_[i];
    if (s.ifindex == 0) return nullptr;
    if (s.ifindex == ifindex && same_addr(s.addr, addr)) return &s;
  }
}

const Iface* RouteTable::iface(uint32_t ifindex) const {
  for (const Iface& i : ifaces_) {
    if (i.ifindex == ifindex) return &i;
  }
  return nullptr;
}

const NextHop* RouteTable::find(const net::IpAddr& dst, bool on_link, RouteResult* miss) const {
  const int r = match(dst);
  if (r < 0) {
    miss->status = RouteStatus::kNoRoute;
    return nullptr;
  }
  const Iface* out = route_iface_[size_t(r)];
  if (out == nullptr) {
    miss->status = RouteStatus::kNotAttached;
    return nullptr;
  }
  const Route& rt = routes_[size_t(r)];
  const bool via_gateway = !on_link && rt.gateway.family != net::Family::kNone;
  const Slot* n = via_gateway ? via_[size_t(r)] : find_neigh(out->ifindex, dst);
  if (n == nullptr) {
    miss->status = RouteStatus::kNoNeighbour;
    miss->resolve = via_gateway ? rt.gateway : dst;
    miss->resolve_ifindex = out->ifindex;
    return nullptr;
  }
  return &n->nh;
}

RouteResult RouteTable::lookup(const net::IpAddr& dst, bool on_link) const {
  RouteResult r;
  const NextHop* nh = find(dst, on_link, &r);
  if (nh == nullptr) return r;
  r.status = RouteStatus::kOk;
  r.nh = *nh;
  const int i = match(dst);
  const Route& rt = routes_[size_t(i)];
  r.resolve = (!on_link && rt.gateway.family != net::Family::kNone) ? rt.gateway : dst;
  r.resolve_ifindex = nh->ifindex;
  return r;
}

}  // namespace lvs::core
