// Prometheus text exposition (format 0.0.4) of lvsd's statistics: per service and per real
// server counters, rates and gauges, drops by reason, the engine's, the classifier's and the
// I/O's counters, each family with HELP and TYPE lines.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/estimator.h"
#include "core/stats.h"

namespace lvs::daemon {

// One real server's figures, its label value already escaped.
struct MetricsServer {
  std::string server;  // "198.18.1.1:80", "[2001:2::1]:80"
  core::Counters stats;
  core::Rates rates;
  uint64_t active = 0;
  uint64_t inactive = 0;
  uint64_t weight = 0;
};

struct MetricsService {
  std::string key;  // "TCP 198.18.0.10:80"
  core::Counters stats;
  core::Rates rates;
  std::vector<MetricsServer> servers;
};

// The statistics document without its services (Director::stats_object) and the services
// apart: with 10,000 services of 10 servers, this writes 1.4 million lines without a DOM.
std::string metrics_text(const nlohmann::json& stats, const std::vector<MetricsService>& services);
// The whole document, services included (as --stats-file holds it).
std::string metrics_text(const nlohmann::json& stats);

// "[v6]:port" or "v4:port", as the server label reads.
std::string server_label(const std::string& addr, uint64_t port);

}  // namespace lvs::daemon
