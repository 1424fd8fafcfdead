// Which real servers a service has in the engine, given its servers' health: keepalived's quorum
// and sorry server logic (keepalived/check/ipwrapper.c), as a pure function of the desired state.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ctl/config.h"

namespace lvs::ctl {

// The quorum and hysteresis keepalived works with: quorum at most the total weight of the real
// servers, hysteresis below quorum (check_data.c validate_check_config()).
struct QuorumRule {
  uint64_t quorum = 0;
  uint64_t hysteresis = 0;
};
QuorumRule quorum_rule(const VirtualServerConf& vs);

// The weight a real server has now: misc_dynamic's, else the configured one, plus FILE_CHECK's
// changes, at least 0 (keepalived's effective_weight and real_weight()).
int32_t effective_weight(const RealServerConf& rs);

// The summed weights of the alive real servers (ipwrapper.c weigh_live_realservers()).
uint64_t live_weight(const VirtualServerConf& vs);

// Whether the service has quorum. Without a previous state (start, reload: set_quorum_states())
// it has it when the live weight reaches quorum + hysteresis; after a health change
// (update_quorum_state()) one that had it keeps it while the live weight is above 0 and at least
// quorum - hysteresis, one that had not gains it at quorum + hysteresis.
bool has_quorum(const VirtualServerConf& vs, std::optional<bool> had_quorum = std::nullopt);

// The servers the engine should hold for `vs`, in config order, the sorry server last:
// - with quorum, or without a sorry server: the alive real servers with their weight; a dead
//   one with inhibit_on_failure with weight 0 (ipvs_cmd() turns its removal into weight 0); a
//   sorry server with sorry_server_inhibit with weight 0;
// - without quorum but with a sorry server: the sorry server with weight 1, and of the real
//   servers only those with inhibit_on_failure, with weight 0 (perform_quorum_state()).
// A sorry server with the address and port of a real server stands for it while in use, and
// leaves it alone otherwise.
// Each with its effective weight.
std::vector<RealServerConf> engine_servers(const VirtualServerConf& vs, bool quorum);
inline std::vector<RealServerConf> engine_servers(const VirtualServerConf& vs) {
  return engine_servers(vs, has_quorum(vs, vs.quorum_state));
}

}  // namespace lvs::ctl
