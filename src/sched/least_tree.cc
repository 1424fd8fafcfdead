#include "sched/least_tree.h"

#include <bit>
#include <numeric>

namespace lvs::sched {

namespace {

// lcm(a, b), or 0 when it exceeds `max`.
uint64_t lcm_at_most(uint64_t a, uint64_t b, uint64_t max) {
  const uint64_t x = a / std::gcd(a, b);
  return x > max / b ? 0 : x * b;
}

}  // namespace

void LeastTree::clear() {
  cap_ = 1;
  first_leaf_ = 0;
  groups_.assign(1, Group{});
  slots_.assign(1, Slot{});
  free_.assign(1, 0);
  slot_of_.clear();
  dens_.clear();
  scale_ = 1;
}

void LeastTree::add(const Dest& d, Load load) {
  uint32_t slot = slot_of_.find(&d);
  if (slot != kNoSlot) return update(d, load);
  if (free_.empty()) grow();
  slot = free_.back();
  free_.pop_back();
  slots_[slot] = Slot{const_cast<Dest*>(&d), load.num, 0, 0};
  slot_of_.insert(&d, slot);
  change_den(slot, load.den);
}

void LeastTree::remove(const Dest& d) {
  const uint32_t slot = slot_of_.find(&d);
  if (slot == kNoSlot) return;
  slots_[slot].num = Load::kNoneNum;
  change_den(slot, 0);
  slots_[slot] = Slot{};
  free_.push_back(slot);
  slot_of_.erase(&d);
}

void LeastTree::change_den(uint32_t slot, uint32_t den) {
  Slot& s = slots_[slot];
  const uint32_t old = s.den;
  s.den = den;
  // In before out: at most one rescale each way, and a single rebuild.
  bool rescaled = den != 0 && count_den(den, true);
  rescaled = (old != 0 && count_den(old, false)) || rescaled;
  if (rescaled) return rebuild();
  s.factor = scale_ != 0 && den != 0 ? uint32_t(scale_ / den) : 0;
  set_leaf(slot, s.dest->list_seq);
}

bool LeastTree::count_den(uint32_t den, bool in) {
  const uint64_t before = scale_;
  if (in) {
    if (dens_[den]++ > 0 || scale_ == 0 || scale_ % den == 0) return false;
    scale_ = lcm_at_most(scale_, den, kMaxScale);
    if (scale_ == 0) {
      // The common multiple kept so far may be larger than the least one: start over.
      scale_ = 1;
      for (const auto& [d, n] : dens_) {
        scale_ = lcm_at_most(scale_, d, kMaxScale);
        if (scale_ == 0) break;
      }
    }
    return scale_ != before;
  }
  auto it = dens_.find(den);
  if (--it->second > 0) return false;
  dens_.erase(it);
  // A common multiple stays one when a denominator leaves; only unscaled keys try again.
  if (scale_ != 0) return false;
  scale_ = 1;
  for (const auto& [d, n] : dens_) {
    scale_ = lcm_at_most(scale_, d, kMaxScale);
    if (scale_ == 0) return false;
  }
  return true;
}

LeastTree::Key LeastTree::leaf_key(uint32_t slot) const {
  const Slot& s = slots_[slot];
  if (s.dest == nullptr || s.num == Load::kNoneNum || s.den == 0) return Key{};
  if (scale_ != 0) return Key{s.num * s.factor, s.dest->list_seq, 1, slot};
  return Key{s.num, s.dest->list_seq, s.den, slot};
}

void LeastTree::rebuild() {
  for (uint32_t slot = 0; slot < cap_; ++slot) {
    Slot& s = slots_[slot];
    s.factor = scale_ != 0 && s.den != 0 ? uint32_t(scale_ / s.den) : 0;
    node(first_leaf_ + slot) = leaf_key(slot);
  }
  if (scale_ != 0) {
    recompute_inner<true>();
  } else {
    recompute_inner<false>();
  }
}

template <bool kScaled>
void LeastTree::recompute_inner() {
  for (size_t n = first_leaf_; n-- > 0;) {
    const Key* m = &node(kArity * n + 1);
    for (size_t k = 2; k <= kArity; ++k) m = &least_of<kScaled>(*m, node(kArity * n + k));
    node(n) = *m;
  }
}

// One more level: kArity times the leaves, the old leaves copied to the new bottom row and every
// inner node recomputed (O(n), amortized over the adds that filled the old row).
void LeastTree::grow() {
  const size_t old_cap = cap_;
  const size_t old_first = first_leaf_;
  std::vector<Group> old;
  old.swap(groups_);
  cap_ = old_cap * kArity;
  first_leaf_ = (cap_ - 1) / (kArity - 1);
  groups_.assign((first_leaf_ + cap_ + kRoot + kArity - 1) / kArity, Group{});
  for (size_t s = 0; s < old_cap; ++s) {
    const size_t from = old_first + s + kRoot;
    node(first_leaf_ + s) = old[from / kArity].keys[from % kArity];
  }
  if (scale_ != 0) {
    recompute_inner<true>();
  } else {
    recompute_inner<false>();
  }
  slots_.resize(cap_);
  // Lowest slots first, so a service fills its leaves from the left.
  for (size_t s = cap_; s-- > old_cap;) free_.push_back(uint32_t(s));
}

void LeastTree::SlotMap::clear() {
  table_.assign(8, Entry{});
  mask_ = 7;
  shift_ = 64 - 3;
  size_ = 0;
}

void LeastTree::SlotMap::insert(const Dest* d, uint32_t slot) {
  if (2 * (size_ + 1) > table_.size()) {
    std::vector<Entry> old;
    old.swap(table_);
    table_.assign(old.size() * 2, Entry{});
    mask_ = table_.size() - 1;
    shift_ = 64 - unsigned(std::countr_zero(table_.size()));
    for (const Entry& e : old) {
      if (e.dest == nullptr) continue;
      size_t i = home(e.dest);
      while (table_[i].dest != nullptr) i = (i + 1) & mask_;
      table_[i] = e;
    }
  }
  size_t i = home(d);
  while (table_[i].dest != nullptr) i = (i + 1) & mask_;
  table_[i] = Entry{d, slot};
  ++size_;
}

// Backward-shift deletion: entries after the hole move into it unless their home lies
// (cyclically) between the hole and themselves, so every probe chain stays unbroken.
void LeastTree::SlotMap::erase(const Dest* d) {
  size_t hole = home(d);
  while (table_[hole].dest != d) {
    if (table_[hole].dest == nullptr) return;
    hole = (hole + 1) & mask_;
  }
  for (size_t j = (hole + 1) & mask_; table_[j].dest != nullptr; j = (j + 1) & mask_) {
    const size_t h = home(table_[j].dest);
    // Distance from home to j versus from hole to j, both cyclic.
    if (((j - h) & mask_) >= ((j - hole) & mask_)) {
      table_[hole] = table_[j];
      hole = j;
    }
  }
  table_[hole] = Entry{};
  --size_;
}

}  // namespace lvs::sched
