#include "core/service.h"

#include <bit>
#include <cstring>

namespace lvs::core {

uint64_t ServiceIndex::hash(uint8_t proto, net::Family af, const uint8_t* addr, uint16_t port,
                            uint32_t mark) const {
  uint64_t w0, w1;
  std::memcpy(&w0, addr, 8);
  std::memcpy(&w1, addr + 8, 8);
  if (af == net::Family::kV4) w0 &= 0xffffffffull, w1 = 0;
  uint64_t h = seed_ ^ (uint64_t(proto) << 56) ^ (uint64_t(af) << 48) ^ (uint64_t(port) << 32) ^
               mark;
  h = (h ^ w0) * 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 31) ^ w1) * 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 29);
}

void ServiceIndex::rebuild(const std::vector<std::unique_ptr<Service>>& services, uint64_t seed) {
  seed_ = seed;
  size_t live = 0;
  for (const auto& s : services) live += s != nullptr;
  slots_.assign(std::bit_ceil(std::max<size_t>(8, live * 2)), Slot{});
  mask_ = slots_.size() - 1;
  for (const auto& s : services) {
    if (!s) continue;
    const ServiceKey& k = s->key;
    size_t i = hash(k.proto, k.addr.family, k.addr.data(), k.port, k.fwmark) & mask_;
    while (slots_[i].svc != nullptr) i = (i + 1) & mask_;
    slots_[i].svc = s.get();
  }
}

Service* ServiceIndex::find(uint8_t proto, net::Family af, const uint8_t* addr,
                            uint16_t port) const {
  uint8_t padded[16] = {};
  std::memcpy(padded, addr, af == net::Family::kV4 ? 4 : 16);
  for (size_t i = hash(proto, af, padded, port, 0) & mask_;; i = (i + 1) & mask_) {
    Service* s = slots_[i].svc;
    if (s == nullptr) return nullptr;
    const ServiceKey& k = s->key;
    if (k.fwmark == 0 && k.port == port && k.proto == proto && k.addr.family == af &&
        std::memcmp(k.addr.data(), padded, 16) == 0) {
      return s;
    }
  }
}

Service* ServiceIndex::find_fwmark(net::Family af, uint32_t mark) const {
  const uint8_t zero[16] = {};
  for (size_t i = hash(0, af, zero, 0, mark) & mask_;; i = (i + 1) & mask_) {
    Service* s = slots_[i].svc;
    if (s == nullptr) return nullptr;
    if (s->key.fwmark == mark && s->key.addr.family == af) return s;
  }
}

}  // namespace lvs::core
