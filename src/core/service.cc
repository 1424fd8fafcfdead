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
  live_ = 0;
  for (const auto& s : services) {
    if (s) place(slot_of(s->key, s.get()));
  }
}

void ServiceIndex::place(const Slot& s) {
  size_t i = home(s);
  while (slots_[i].svc != nullptr) i = (i + 1) & mask_;
  slots_[i] = s;
  ++live_;
}

void ServiceIndex::grow() {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(old.size() * 2, Slot{});
  mask_ = slots_.size() - 1;
  live_ = 0;
  for (const Slot& s : old) {
    if (s.svc != nullptr) place(s);
  }
}

void ServiceIndex::insert(Service* svc) {
  if ((live_ + 1) * 2 > slots_.size()) grow();
  place(slot_of(svc->key, svc));
}

void ServiceIndex::erase(const Service* svc) {
  const Slot key = slot_of(svc->key, nullptr);
  size_t i = home(key);
  while (slots_[i].svc != svc) {
    if (slots_[i].svc == nullptr) return;  // not indexed
    i = (i + 1) & mask_;
  }
  slots_[i] = Slot{};
  --live_;
  // Backward shift: pull later entries of the run into the hole when their home allows, so no
  // probe stops early at it.
  for (size_t j = (i + 1) & mask_; slots_[j].svc != nullptr; j = (j + 1) & mask_) {
    const size_t h = home(slots_[j]);
    const bool movable = i <= j ? (h <= i || h > j) : (h <= i && h > j);
    if (movable) {
      slots_[i] = slots_[j];
      slots_[j] = Slot{};
      i = j;
    }
  }
}

}  // namespace lvs::core
