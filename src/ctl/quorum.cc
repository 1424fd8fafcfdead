#include "ctl/quorum.h"

#include <algorithm>
#include <limits>

namespace lvs::ctl {

namespace {

bool same_dest(const RealServerConf& a, const RealServerConf& b) {
  return a.addr == b.addr && a.port == b.port;
}

uint64_t weight_of(const RealServerConf& rs) { return uint64_t(effective_weight(rs)); }

}  // namespace

int32_t effective_weight(const RealServerConf& rs) {
  const int64_t w = int64_t(rs.dynamic_weight.value_or(rs.weight)) + rs.weight_delta;
  return int32_t(std::clamp<int64_t>(w, 0, std::numeric_limits<int32_t>::max()));
}

QuorumRule quorum_rule(const VirtualServerConf& vs) {
  // The configured weights, as keepalived's validate_check_config() adjusts quorum at load.
  uint64_t total = 0;
  for (const auto& rs : vs.real_servers) total += rs.weight < 0 ? 0 : uint64_t(rs.weight);
  QuorumRule r;
  r.quorum = std::min<uint64_t>(vs.quorum, total);
  // keepalived sets hysteresis to quorum - 1 when it is not below quorum (unsigned: with quorum
  // 0 the threshold can never be reached, which has_quorum() says directly).
  r.hysteresis = r.quorum == 0 ? 0 : std::min<uint64_t>(vs.hysteresis, r.quorum - 1);
  return r;
}

uint64_t live_weight(const VirtualServerConf& vs) {
  uint64_t sum = 0;
  for (const auto& rs : vs.real_servers) {
    if (rs.alive) sum += weight_of(rs);
  }
  return sum;
}

bool has_quorum(const VirtualServerConf& vs, std::optional<bool> had_quorum) {
  const QuorumRule r = quorum_rule(vs);
  if (r.quorum == 0) return false;  // no weight at all: never
  const uint64_t sum = live_weight(vs);
  if (had_quorum.value_or(false)) return sum != 0 && sum >= r.quorum - r.hysteresis;
  return sum >= r.quorum + r.hysteresis;
}

std::vector<RealServerConf> engine_servers(const VirtualServerConf& vs, bool quorum) {
  std::vector<RealServerConf> out;
  const bool sorry_in_use = !quorum && vs.sorry_server.has_value();
  for (const auto& rs : vs.real_servers) {
    if (sorry_in_use && same_dest(rs, *vs.sorry_server)) continue;  // the sorry server stands
    const bool in_service = rs.alive && !sorry_in_use;
    if (in_service) {
      out.push_back(rs);
      out.back().weight = effective_weight(rs);
    } else if (rs.inhibit_on_failure) {
      out.push_back(rs);
      out.back().weight = 0;
    }
  }
  if (vs.sorry_server) {
    RealServerConf s = *vs.sorry_server;
    const bool shadowed = std::any_of(out.begin(), out.end(),
                                      [&](const RealServerConf& rs) { return same_dest(rs, s); });
    if (sorry_in_use) {
      s.weight = 1;
      out.push_back(std::move(s));
    } else if (vs.sorry_server_inhibit && !shadowed) {
      s.weight = 0;
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace lvs::ctl
