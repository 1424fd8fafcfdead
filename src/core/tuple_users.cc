#include "core/tuple_users.h"

#include <boost/unordered/unordered_flat_map.hpp>
#include <cstring>

namespace lvs::core {

namespace {

struct Endpoint {
  net::IpAddr addr;
  uint16_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct EndpointHash {
  size_t operator()(const Endpoint& e) const {
    uint64_t h = (uint64_t(e.port) << 8 | uint8_t(e.addr.family)) * 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < 16; i += 8) {
      uint64_t w;
      std::memcpy(&w, e.addr.bytes.data() + i, 8);
      h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    }
    return size_t(h ^ (h >> 31));
  }
};

}  // namespace

struct TupleUsers::Slots {
  boost::unordered_flat_map<Endpoint, uint32_t, EndpointHash> map;
};

TupleUsers::TupleUsers() : slots_(std::make_unique<Slots>()) {}
TupleUsers::~TupleUsers() = default;

uint32_t TupleUsers::acquire(const net::IpAddr& addr, uint16_t port) {
  auto [it, fresh] = slots_->map.try_emplace(Endpoint{addr, port}, 0);
  if (fresh) {
    if (!free_.empty()) {
      it->second = free_.back();
      free_.pop_back();
    } else {
      it->second = uint32_t(users_.size());
      users_.push_back(0);
    }
  }
  ++users_[it->second];
  return it->second;
}

void TupleUsers::release(const net::IpAddr& addr, uint16_t port, uint32_t slot) {
  if (--users_[slot] != 0) return;
  slots_->map.erase(Endpoint{addr, port});
  free_.push_back(slot);
}

}  // namespace lvs::core
