#include <array>

#include "sched/factories_hash.h"
#include "sched/registry.h"

namespace lvs::sched {

namespace {
// Schedulers that choose by hashing packet fields or by locality tables.
constexpr std::array<SchedInfo, 0> kHashSchedulers = {};
}  // namespace

std::span<const SchedInfo> hash_schedulers() { return kHashSchedulers; }

}  // namespace lvs::sched
