#include "core/service.h"

#include <bit>
#include <cstring>

namespace lvs::core {

void ServiceIndex::rebuild(const std::vector<std::unique_ptr<Service>>& services, uint64_t seed) {
  seed_ = seed;
  size_t live = 0;
  for (const auto& s : services) live += s != nullptr;
  slots_.assign(std::bit_ceil(std::max<size_t>(8, live * 2)), Slot{});
  mask_ = slots_.size() - 1;
  for (const auto& s : services) {
    if (!s) continue;
    const ServiceKey& k = s->key;
    Slot slot;
    if (k.fwmark == 0) load(k.addr.family, k.addr.data(), slot.a0, slot.a1);
    slot.mark = k.fwmark;
    slot.port = k.port;
    slot.proto = k.proto;
    slot.af = uint8_t(k.addr.family);
    slot.svc = s.get();
    size_t i = hash(slot.a0, slot.a1, slot.port, slot.proto, slot.af, slot.mark) & mask_;
    while (slots_[i].svc != nullptr) i = (i + 1) & mask_;
    slots_[i] = slot;
  }
}

}  // namespace lvs::core
