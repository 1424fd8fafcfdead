#include "core/types.h"

#include <fmt/format.h>

namespace lvs::core {

std::string_view fwd_name(Fwd f) {
  switch (f) {
    case Fwd::kNat: return "Masq";
    case Fwd::kDr: return "Route";
    case Fwd::kTun: return "Tunnel";
    case Fwd::kFullNat: return "FullNat";
  }
  return "?";
}

std::string_view tun_type_name(TunType t) {
  switch (t) {
    case TunType::kIpip: return "ipip";
    case TunType::kGue: return "gue";
    case TunType::kGre: return "gre";
  }
  return "?";
}

std::string_view drop_reason_name(DropReason r) {
  switch (r) {
    case DropReason::kNone: return "none";
    case DropReason::kTruncatedL2: return "truncated_l2";
    case DropReason::kNotIp: return "not_ip";
    case DropReason::kTruncatedL3: return "truncated_l3";
    case DropReason::kBadIpVersion: return "bad_ip_version";
    case DropReason::kBadIpHeaderLen: return "bad_ip_header_len";
    case DropReason::kBadIpChecksum: return "bad_ip_checksum";
    case DropReason::kBadIpLength: return "bad_ip_length";
    case DropReason::kBadExtHeader: return "bad_ext_header";
    case DropReason::kFragment: return "fragment";
    case DropReason::kTruncatedL4: return "truncated_l4";
    case DropReason::kBadL4Header: return "bad_l4_header";
    case DropReason::kVlanTagged: return "vlan_tagged";
    case DropReason::kUnsupportedL4: return "unsupported_l4";
    case DropReason::kNoService: return "no_service";
    case DropReason::kNoConnection: return "no_connection";
    case DropReason::kNoRealServer: return "no_real_server";
    case DropReason::kTableFull: return "table_full";
    case DropReason::kDestUnavailable: return "dest_unavailable";
    case DropReason::kNoRoute: return "no_route";
    case DropReason::kRouteNotAttached: return "route_not_attached";
    case DropReason::kNoNeighbour: return "no_neighbour";
    case DropReason::kTtlExceeded: return "ttl_exceeded";
    case DropReason::kMtuExceeded: return "mtu_exceeded";
    case DropReason::kNoLocalPort: return "no_local_port";
    case DropReason::kNatTupleBusy: return "nat_tuple_busy";
    case DropReason::kIcmpNotRelayed: return "icmp_not_relayed";
    case DropReason::kIcmpBadChecksum: return "icmp_bad_checksum";
    case DropReason::kIcmpBadQuote: return "icmp_bad_quote";
    case DropReason::kIcmpNoConnection: return "icmp_no_connection";
    case DropReason::kIcmpNat64: return "icmp_nat64";
    case DropReason::kNat64Untranslatable: return "nat64_untranslatable";
    case DropReason::kFtpNoRoom: return "ftp_no_room";
    case DropReason::kCount: break;
  }
  return "unknown";
}

std::string ServiceKey::to_string() const {
  if (fwmark != 0) return fmt::format("FWM {}{}", fwmark, addr.is_v6() ? " IPv6" : "");
  const char* p = proto == 6 ? "TCP" : proto == 17 ? "UDP" : proto == 132 ? "SCTP" : "IP";
  if (addr.is_v6()) return fmt::format("{} [{}]:{}", p, addr.to_string(), port);
  return fmt::format("{} {}:{}", p, addr.to_string(), port);
}

}  // namespace lvs::core
