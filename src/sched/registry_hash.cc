#include <array>

#include "sched/factories_hash.h"
#include "sched/registry.h"

namespace lvs::sched {

namespace {
// Schedulers that choose by hashing packet fields or by locality tables, plus twos (random).
constexpr std::array kHashSchedulers = {
    SchedInfo{"lblc", "locality-based least-connection", &make_lblc},
    SchedInfo{"lblcr", "locality-based least-connection with replication", &make_lblcr},
    SchedInfo{"dh", "destination hashing", &make_dh},
    SchedInfo{"sh", "source hashing", &make_sh},
    SchedInfo{"mh", "maglev hashing", &make_mh},
    SchedInfo{"twos", "weighted random twos choice", &make_twos},
};
}  // namespace

std::span<const SchedInfo> hash_schedulers() { return kHashSchedulers; }

}  // namespace lvs::sched
