// Factories of the hash and locality-based schedulers (registry_hash.cc).
#pragma once
#include <memory>

#include "sched/registry.h"

namespace lvs::sched {
}  // namespace lvs::sched
