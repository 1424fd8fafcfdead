#include "daemon/metrics.h"

#include <fmt/format.h>

#include <map>
#include <vector>

namespace lvs::daemon {

namespace {

// A label value with Prometheus's escapes (backslash, double quote, newline).
std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// One metric family: samples are gathered first so each family is written in one block, as the
// format requires.
class Family {
 public:
  Family(std::string name, std::string type, std::string help)
      : name_(std::move(name)), type_(std::move(type)), help_(std::move(help)) {}
  void add(const std::string& labels, uint64_t v) { samples_.emplace_back(labels, v); }
  void write(std::string& out) const {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, help_, name_, type_);
    for (const auto& [labels, v] : samples_) {
      out += labels.empty() ? fmt::format("{} {}\n", name_, v)
                            : fmt::format("{}{{{}}} {}\n", name_, labels, v);
    }
  }

 private:
  std::string name_, type_, help_;
  std::vector<std::pair<std::string, uint64_t>> samples_;
};

// A family whose samples are an object's numeric members, one label value each (the object is
// copied: a temporary from value() would not outlive the loop).
void labelled(std::string& out, const nlohmann::json& stats, const char* key, const char* name,
              const char* label, const char* help) {
  Family f(name, "counter", help);
  const nlohmann::json obj = stats.value(key, nlohmann::json::object());
  for (const auto& [k, v] : obj.items()) {
    if (v.is_number()) f.add(fmt::format("{}=\"{}\"", label, escape(k)), v.get<uint64_t>());
  }
  f.write(out);
}

uint64_t num(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<uint64_t>() : 0;
}

}  // namespace

std::string metrics_text(const nlohmann::json& stats) {
  // Per service and per real server: IPVS's five counters, then the connection gauges.
  static constexpr std::pair<const char*, const char*> kCounters[] = {
      {"conns", "connections scheduled"},
      {"inpkts", "packets from clients"},
      {"outpkts", "packets to clients"},
      {"inbytes", "bytes from clients"},
      {"outbytes", "bytes to clients"}};
  std::vector<Family> svc, dst;
  for (const auto& [key, help] : kCounters) {
    svc.emplace_back(fmt::format("lvs_service_{}_total", key), "counter",
                     fmt::format("Virtual service: {}.", help));
    dst.emplace_back(fmt::format("lvs_real_server_{}_total", key), "counter",
                     fmt::format("Real server: {}.", help));
  }
  // IPVS's estimator: gauges, as ipvsadm --rate shows them.
  static constexpr std::pair<const char*, const char*> kRates[] = {
      {"cps", "connections per second"},
      {"inpps", "packets per second from clients"},
      {"outpps", "packets per second to clients"},
      {"inbps", "bytes per second from clients"},
      {"outbps", "bytes per second to clients"}};
  std::vector<Family> svc_rate, dst_rate;
  for (const auto& [key, help] : kRates) {
    svc_rate.emplace_back(fmt::format("lvs_service_{}", key), "gauge",
                          fmt::format("Virtual service: {} (IPVS estimator: 2 s samples, EWMA "
                                      "1/4).",
                                      help));
    dst_rate.emplace_back(fmt::format("lvs_real_server_{}", key), "gauge",
                          fmt::format("Real server: {} (IPVS estimator: 2 s samples, EWMA 1/4).",
                                      help));
  }
  Family active("lvs_real_server_active_connections", "gauge",
                "Real server: connections in ESTABLISHED (IPVS ActiveConn).");
  Family inactive("lvs_real_server_inactive_connections", "gauge",
                  "Real server: other connections (IPVS InActConn).");
  Family weight("lvs_real_server_weight", "gauge", "Real server: weight (0: quiesced).");
  for (const auto& s : stats.value("services", nlohmann::json::array())) {
    const std::string sl = fmt::format("service=\"{}\"", escape(s.value("key", "")));
    const auto& st = s.value("stats", nlohmann::json::object());
    for (size_t i = 0; i < svc.size(); ++i) svc[i].add(sl, num(st, kCounters[i].first));
    const auto& sr = s.value("rates", nlohmann::json::object());
    for (size_t i = 0; i < svc_rate.size(); ++i) svc_rate[i].add(sl, num(sr, kRates[i].first));
    for (const auto& d : s.value("dests", nlohmann::json::array())) {
      const std::string addr = d.value("addr", "");
      const std::string server = addr.find(':') != std::string::npos
                                     ? fmt::format("[{}]:{}", addr, num(d, "port"))
                                     : fmt::format("{}:{}", addr, num(d, "port"));
      const std::string dl = fmt::format("{},server=\"{}\"", sl, escape(server));
      const auto& ds = d.value("stats", nlohmann::json::object());
      for (size_t i = 0; i < dst.size(); ++i) dst[i].add(dl, num(ds, kCounters[i].first));
      const auto& dr = d.value("rates", nlohmann::json::object());
      for (size_t i = 0; i < dst_rate.size(); ++i) dst_rate[i].add(dl, num(dr, kRates[i].first));
      active.add(dl, num(d, "active_conns"));
      inactive.add(dl, num(d, "inactive_conns"));
      weight.add(dl, num(d, "weight"));
    }
  }
  std::string out;
  for (const auto& f : svc) f.write(out);
  for (const auto& f : dst) f.write(out);
  for (const auto& f : svc_rate) f.write(out);
  for (const auto& f : dst_rate) f.write(out);
  active.write(out);
  inactive.write(out);
  weight.write(out);

  labelled(out, stats, "drops", "lvs_drops_total", "reason",
           "Packets dropped by the engine, by reason.");

  // Single-sample families.
  const auto one = [&](const char* name, const char* type, const char* help, uint64_t v) {
    Family f(name, type, help);
    f.add("", v);
    f.write(out);
  };
  one("lvs_rx_packets_total", "counter", "Packets the engines received.", num(stats, "rx_packets"));
  one("lvs_tx_packets_total", "counter", "Packets the engines sent.", num(stats, "tx_packets"));
  one("lvs_steered_packets_total", "counter", "Packets handed to the worker owning their flow.",
      num(stats, "steered"));
  one("lvs_icmp_sent_total", "counter", "ICMP errors the director sent.", num(stats, "icmp_sent"));
  one("lvs_connections", "gauge", "Entries in the connection tables (templates included).",
      num(stats, "conns"));
  one("lvs_connection_capacity", "gauge", "Connection table capacity, all workers.",
      num(stats, "conn_capacity"));
  one("lvs_connections_expired_total", "counter", "Connections expired.",
      num(stats, "conns_expired"));
  one("lvs_workers", "gauge", "Worker threads.", num(stats, "workers"));

  labelled(out, stats, "io", "lvs_io_total", "kind",
           "Packet I/O counters of the workers, by kind.");
  labelled(out, stats, "classifier", "lvs_classifier_packets_total", "verdict",
           "Frames seen by the XDP classifier, by verdict.");
  nlohmann::json ftp = stats.value("ftp", nlohmann::json::object());
  const uint64_t ftp_classified = num(ftp, "classified_endpoints");
  ftp.erase("classified_endpoints");
  labelled(out, nlohmann::json{{"ftp", ftp}}, "ftp", "lvs_ftp_total", "kind",
           "FTP helper events, by kind.");
  one("lvs_ftp_classified_endpoints", "gauge",
      "Passive FTP data endpoints the classifier passes to lvsd.", ftp_classified);
  one("lvs_worker_sleeps_total", "counter", "Times a worker slept waiting for frames.",
      num(stats.value("worker", nlohmann::json::object()), "sleeps"));
  return out;
}

}  // namespace lvs::daemon
