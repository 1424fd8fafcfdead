#include "core/mark_index.h"

#include <bit>

namespace lvs::core {

void MarkIndex::rebuild(const std::vector<MarkRule>& rules, uint64_t seed) {
  seed_ = seed;
  count_ = 0;
  // At most half full, so probes stay short and always end at an empty slot.
  const size_t cap = std::bit_ceil(std::max<size_t>(16, rules.size() * 2));
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  for (const MarkRule& r : rules) {
    if (r.mark == 0 || r.addr.family == net::Family::kNone) continue;
    uint64_t a0, a1;
    load(r.addr.family, r.addr.data(), a0, a1);
    const uint8_t af = uint8_t(r.addr.family);
    for (size_t i = hash(a0, a1, r.port, r.proto, af) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.mark == 0) {
        s = Slot{a0, a1, r.mark, r.port, r.proto, af};
        ++count_;
        break;
      }
      if (s.a0 == a0 && s.a1 == a1 && s.port == r.port && s.proto == r.proto && s.af == af) break;
    }
  }
}

}  // namespace lvs::core
