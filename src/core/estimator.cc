#include "core/estimator.h"

namespace lvs::core {

namespace {

// avg += (rate - avg) / 4, with the kernel's arithmetic shift.
void fold(int64_t& avg, uint64_t delta, unsigned shift) {
  const int64_t rate = int64_t(delta << shift);
  avg += (rate - avg) >> 2;
}

}  // namespace

void RateEstimator::reset(const Counters& now) {
  *this = RateEstimator{};
  last_ = now;
}

void RateEstimator::sample(const Counters& now) {
  if (now.conns < last_.conns || now.inpkts < last_.inpkts || now.outpkts < last_.outpkts ||
      now.inbytes < last_.inbytes || now.outbytes < last_.outbytes) {
    reset(now);
    return;
  }
  // Growth over 2 s scaled by 2^10 is growth << 9; bytes scaled by 2^5 likewise << 4.
  fold(cps_, now.conns - last_.conns, 9);
  fold(inpps_, now.inpkts - last_.inpkts, 9);
  fold(outpps_, now.outpkts - last_.outpkts, 9);
  fold(inbps_, now.inbytes - last_.inbytes, 4);
  fold(outbps_, now.outbytes - last_.outbytes, 4);
  last_ = now;
}

Rates RateEstimator::rates() const {
  // ip_vs_read_estimator: round to nearest on the way out.
  auto out = [](int64_t v, int64_t half, unsigned shift) {
    return v <= 0 ? uint64_t{0} : uint64_t(v + half) >> shift;
  };
  return {out(cps_, 0x1ff, 10), out(inpps_, 0x1ff, 10), out(outpps_, 0x1ff, 10),
          out(inbps_, 0xf, 5), out(outbps_, 0xf, 5)};
}

}  // namespace lvs::core
