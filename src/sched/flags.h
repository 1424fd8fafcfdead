// Scheduler flags as IPVS numbers them (IP_VS_SVC_F_SCHED1..3), so ipvsadm's -b and
// keepalived's flag keywords map one to one.
#pragma once

#include <cstdint>

namespace lvs::sched {

inline constexpr uint32_t kSchedFlag1 = 0x0008;  // sh-fallback, mh-fallback (flag-1)
inline constexpr uint32_t kSchedFlag2 = 0x0010;  // sh-port, mh-port (flag-2)
inline constexpr uint32_t kSchedFlag3 = 0x0020;  // flag-3
inline constexpr uint32_t kSchedFlagsMask = kSchedFlag1 | kSchedFlag2 | kSchedFlag3;

inline constexpr uint32_t kShFallback = kSchedFlag1;
inline constexpr uint32_t kShPort = kSchedFlag2;
inline constexpr uint32_t kMhFallback = kSchedFlag1;
inline constexpr uint32_t kMhPort = kSchedFlag2;

}  // namespace lvs::sched
