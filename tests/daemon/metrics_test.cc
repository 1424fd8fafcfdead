#include "daemon/metrics.h"

#include <gtest/gtest.h>

namespace lvs::daemon {
namespace {

TEST(Metrics, CountersAndRatesPerServiceAndServer) {
  const auto stats = nlohmann::json::parse(R"({
    "services": [{"key": "TCP 198.18.0.10:80",
                  "stats": {"conns": 7, "inpkts": 70, "outpkts": 60, "inbytes": 7000,
                            "outbytes": 9000},
                  "rates": {"cps": 3, "inpps": 30, "outpps": 20, "inbps": 3000, "outbps": 4000},
                  "dests": [{"addr": "2001:2::1", "port": 80, "weight": 2, "active_conns": 1,
                             "inactive_conns": 4,
                             "stats": {"conns": 7},
                             "rates": {"cps": 3}}]}],
    "drops": {"no_service": 5}, "conns": 12})");
  const std::string m = metrics_text(stats);
  const auto has = [&](const char* line) { return m.find(line) != std::string::npos; };
  EXPECT_TRUE(has("# TYPE lvs_service_conns_total counter\n"));
  EXPECT_TRUE(has("lvs_service_conns_total{service=\"TCP 198.18.0.10:80\"} 7\n"));
  EXPECT_TRUE(has("# HELP lvs_service_cps Virtual service: connections per second"));
  EXPECT_TRUE(has("# TYPE lvs_service_cps gauge\n"));
  EXPECT_TRUE(has("lvs_service_outbps{service=\"TCP 198.18.0.10:80\"} 4000\n"));
  EXPECT_TRUE(has("lvs_real_server_cps{service=\"TCP 198.18.0.10:80\",server=\"[2001:2::1]:80\"} "
                  "3\n"));
  EXPECT_TRUE(has("lvs_real_server_inpps{service=\"TCP 198.18.0.10:80\",server=\"[2001:2::1]:80\"} "
                  "0\n"));
  EXPECT_TRUE(has("lvs_drops_total{reason=\"no_service\"} 5\n"));
  EXPECT_TRUE(has("lvs_connections 12\n"));
  // Every family has its HELP and TYPE right before its samples, once.
  size_t families = 0;
  for (size_t at = m.find("# HELP "); at != std::string::npos; at = m.find("# HELP ", at + 1)) {
    ++families;
  }
  size_t types = 0;
  for (size_t at = m.find("# TYPE "); at != std::string::npos; at = m.find("# TYPE ", at + 1)) {
    ++types;
  }
  EXPECT_EQ(families, types);
  EXPECT_GT(families, 25u);
}

TEST(Metrics, LabelValuesAreEscaped) {
  const auto stats = nlohmann::json::parse(R"({"drops": {"a\"b\\c": 1}})");
  EXPECT_NE(metrics_text(stats).find("lvs_drops_total{reason=\"a\\\"b\\\\c\"} 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace lvs::daemon
