// Connection expiry: a hashed timing wheel with lazy re-arming. A packet only stores a new expiry
// in its connection; the entry stays in its slot unless the expiry moved earlier than that slot.
// When a slot comes due, entries whose expiry is still ahead move to their real slot. Timeouts
// beyond the wheel's horizon (512 s) simply take another turn.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/conn.h"
#include "core/types.h"

namespace lvs::core {

class TimerWheel {
 public:
  static constexpr uint32_t kTicksPerSec = 16;
  static constexpr Nanos kTickNs = kNanosPerSec / kTicksPerSec;
  static constexpr uint32_t kSlots = 8192;

  explicit TimerWheel(Conn* pool);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;
  ~TimerWheel();

  static uint32_t to_tick(Nanos now) { return uint32_t(now / kTickNs); }
  static bool before(uint32_t a, uint32_t b) { return int32_t(a - b) < 0; }

  // The first call fixes the wheel's notion of "now"; later calls to advance() move it on.
  void start(uint32_t now_tick) { cur_ = now_tick; }
  uint32_t now_tick() const { return cur_; }

  // Arms entry `i` (not armed yet) to expire at `expires`.
  void arm(uint32_t i, uint32_t expires);
  // Sets a new expiry for an armed entry; re-links only if it moved before its slot.
  void rearm(uint32_t i, uint32_t expires) {
    Conn& c = pool_[i];
    c.expires = expires;
    if (before(expires, c.slot_tick)) {
      unlink(i);
      link(i);
    }
  }
  void disarm(uint32_t i) {
    unlink(i);
    --armed_;
  }
  size_t armed() const { return armed_; }

  // Runs due slots up to `now_tick`, calling on_expire(i) for each entry whose expiry passed
  // (the entry is already disarmed; the callback may arm it again, but must not disarm other
  // entries). Stops after `budget` expirations; the rest run on the next call. Returns the
  // number expired.
  template <typename F>
  size_t advance(uint32_t now_tick, size_t budget, F&& on_expire) {
    size_t expired = 0;
    // Nothing armed: no slot can be due, so a long idle gap costs nothing.
    if (armed_ == 0 && before(cur_, now_tick)) cur_ = now_tick;
    while (before(cur_, now_tick)) {
      const uint32_t t = cur_ + 1;
      // Detach the slot and run it with cur_ = t, so entries (re-)armed meanwhile land in
      // later slots, never in the one being walked.
      uint32_t i = slots_[t & (kSlots - 1)];
      slots_[t & (kSlots - 1)] = kNil;
      cur_ = t;
      while (i != kNil) {
        if (expired == budget) {  // put the rest back and resume there next time
          pool_[i].t_prev = kNil;
          slots_[t & (kSlots - 1)] = i;
          cur_ = t - 1;
          return expired;
        }
        Conn& c = pool_[i];
        const uint32_t next = c.t_next;
        if (next != kNil) pool_[next].t_prev = kNil;
        c.t_prev = c.t_next = kNil;
        if (before(t, c.expires)) {
          link_at(i, t);
        } else {
          ++expired;
          --armed_;
          on_expire(i);
        }
        i = next;
      }
    }
    return expired;
  }

 private:
  void link(uint32_t i) { link_at(i, cur_); }
  // Links i into the slot of its expiry as seen from tick `from` (clamped to the horizon).
  void link_at(uint32_t i, uint32_t from);
  void unlink(uint32_t i);

  Conn* pool_;
  uint32_t* slots_;
  uint32_t cur_ = 0;    // last tick fully processed
  size_t armed_ = 0;    // entries linked in the wheel
};

}  // namespace lvs::core
