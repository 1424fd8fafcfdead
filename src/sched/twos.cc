// Power of two choices, as IPVS ip_vs_twos.c. Over the servers that are not overloaded and have
// a weight, W = sum of weights; two random numbers r1, r2 uniform in [0, W] each walk
// the list subtracting weights and pick the first server where they reach <= 0. So the first
// server is drawn with odds (w1 + 1) / (W + 1), every other one with wi / (W + 1), as in the
// kernel. The second pick wins only if strictly less loaded by overhead / weight
// (w2 * oh1 > w1 * oh2); overhead = active * 256 + inactive.
//
// Randomness comes from SchedParams::random: the high 32 bits of next() stand for the kernel's
// get_random_u32(), reduced to [0, W] without bias as get_random_u32_below() does (multiply and
// keep the high half, redrawing the rare low values that would skew it). Without a random
// source twos does not invent one: it falls back to weighted least-connection over the same
// servers (both "random" picks become the least loaded one, ties to the first in list order),
// so a service still gets a server and the choice stays deterministic.
#include <cstdint>

#include "sched/factories_hash.h"

namespace lvs::sched {

namespace {

bool eligible(const Dest& d) { return !d.overloaded() && d.weight > 0; }

class TwoChoices final : public Scheduler {
 public:
  explicit TwoChoices(RandomSource* random) : random_(random) {}
  std::string_view name() const override { return "twos"; }

  Dest* schedule(DestList dests, const SchedPacket&) override {
    uint64_t total = 0;  // IPVS sums in an int; 64 bits cannot overflow with int32 weights
    Dest* choice1 = nullptr;
    for (Dest* d : dests) {
      if (eligible(*d)) {
        total += uint64_t(d->weight);
        choice1 = d;
      }
    }
    if (choice1 == nullptr) return nullptr;
    if (random_ == nullptr) return least_loaded(dests);

    // "Add 1 to total_weight so that the random weights are inclusive from 0 to total_weight".
    ++total;
    int64_t r1 = int64_t(below(total));
    int64_t r2 = int64_t(below(total));

    Dest* choice2 = nullptr;
    int64_t weight1 = -1, weight2 = -1, overhead1 = 0, overhead2 = 0;
    for (Dest* d : dests) {
      if (!eligible(*d)) continue;
      r1 -= d->weight;
      r2 -= d->weight;
      if (r1 <= 0 && weight1 == -1) {
        choice1 = d;
        weight1 = d->weight;
        overhead1 = conn_overhead(*d);
      }
      if (r2 <= 0 && weight2 == -1) {
        choice2 = d;
        weight2 = d->weight;
        overhead2 = conn_overhead(*d);
      }
      if (weight1 != -1 && weight2 != -1) break;
    }
    if (choice2 != nullptr && weight2 * overhead1 > weight1 * overhead2) choice1 = choice2;
    return choice1;
  }

 private:
  uint32_t random_u32() { return uint32_t(random_->next() >> 32); }

  // __get_random_u32_below (Lemire's method). A sum of weights past 32 bits (an int overflow in
  // the kernel) takes a 64-bit modulo instead.
  uint64_t below(uint64_t ceil) {
    if (ceil > UINT32_MAX) return random_->next() % ceil;
    uint64_t mult = ceil * random_u32();
    if (uint32_t(mult) < ceil) {
      const uint32_t bound = uint32_t(-uint32_t(ceil)) % uint32_t(ceil);
      while (uint32_t(mult) < bound) mult = ceil * random_u32();
    }
    return mult >> 32;
  }

  // ip_vs_wlc's comparison: h1/w1 > h2/w2 as h1*w2 > h2*w1.
  static Dest* least_loaded(DestList dests) {
    Dest* least = nullptr;
    int64_t loh = 0;
    for (Dest* d : dests) {
      if (!eligible(*d)) continue;
      const int64_t doh = conn_overhead(*d);
      if (least == nullptr || loh * d->weight > doh * least->weight) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }

  RandomSource* random_;
};

}  // namespace

std::unique_ptr<Scheduler> make_twos(const SchedParams& params) {
  return std::make_unique<TwoChoices>(params.random);
}

}  // namespace lvs::sched
