// IPVS's numbers as ipvsadm and its listings use them (libipvs/ip_vs.h), shared by lvsadm's parts.
#pragma once

#include <cstdint>

namespace lvs::adm {

// IPPROTO_* as IPVS stores them; 0 for fwmark persistence templates.
inline constexpr uint8_t kProtoIp = 0;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoSctp = 132;

// Service flags, IP_VS_SVC_F_*. sh and mh call SCHED1 and SCHED2 "fallback" and "port"; other
// schedulers show them as flag-1..3.
inline constexpr uint32_t kSvcFlagPersistent = 0x0001;
inline constexpr uint32_t kSvcFlagOnePacket = 0x0004;
inline constexpr uint32_t kSvcFlagSched1 = 0x0008;
inline constexpr uint32_t kSvcFlagSched2 = 0x0010;
inline constexpr uint32_t kSvcFlagSched3 = 0x0020;
inline constexpr uint32_t kSvcSchedFlagsMask = kSvcFlagSched1 | kSvcFlagSched2 | kSvcFlagSched3;

}  // namespace lvs::adm
