// Prometheus text exposition (format 0.0.4) of lvsd's statistics document (Director's stats
// object): per service and per real server counters and gauges, drops by reason, the engine's,
// the classifier's and the I/O's counters, each family with HELP and TYPE lines.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace lvs::daemon {

std::string metrics_text(const nlohmann::json& stats);

}  // namespace lvs::daemon
