#include "core/timer_wheel.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace lvs::core {

TimerWheel::TimerWheel(Conn* pool)
    : pool_(pool), slots_(static_cast<uint32_t*>(std::malloc(sizeof(uint32_t) * kSlots))) {
  if (!slots_) throw std::bad_alloc();
  std::memset(slots_, 0xff, sizeof(uint32_t) * kSlots);
}

TimerWheel::~TimerWheel() { std::free(slots_); }

void TimerWheel::arm(uint32_t i, uint32_t expires) {
  pool_[i].expires = expires;
  link(i);
  ++armed_;
}

void TimerWheel::link_at(uint32_t i, uint32_t from) {
  Conn& c = pool_[i];
  uint32_t t = c.expires;
  if (!before(from, t)) t = from + 1;                        // due: next tick
  if (t - from >= kSlots) t = from + kSlots - 1;             // beyond the horizon: one more turn
  c.slot_tick = t;
  uint32_t& head = slots_[t & (kSlots - 1)];
  c.t_prev = kNil;
  c.t_next = head;
  if (head != kNil) pool_[head].t_prev = i;
  head = i;
}

void TimerWheel::unlink(uint32_t i) {
  Conn& c = pool_[i];
  if (c.t_prev != kNil) {
    pool_[c.t_prev].t_next = c.t_next;
  } else {
    uint32_t& head = slots_[c.slot_tick & (kSlots - 1)];
    if (head == i) head = c.t_next;
  }
  if (c.t_next != kNil) pool_[c.t_next].t_prev = c.t_prev;
  c.t_prev = c.t_next = kNil;
}

}  // namespace lvs::core
