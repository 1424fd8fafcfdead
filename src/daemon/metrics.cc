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

std::string server_label(const std::string& addr, uint64_t port) {
  return addr.find(':') != std::string::npos ? fmt::format("[{}]:{}", addr, port)
                                             : fmt::format("{}:{}", addr, port);
}

std::string metrics_text(const nlohmann::json& stats) {
  std::vector<MetricsService> services;
  const auto counters = [](const nlohmann::json& j) {
    return core::Counters{num(j, "conns"), num(j, "inpkts"), num(j, "outpkts"), num(j, "inbytes"),
                          num(j, "outbytes")};
  };
  const auto rates = [](const nlohmann::json& j) {
    return core::Rates{num(j, "cps"), num(j, "inpps"), num(j, "outpps"), num(j, "inbps"),
                       num(j, "outbps")};
  };
  for (const auto& s : stats.value("services", nlohmann::json::array())) {
    MetricsService ms;
    ms.key = escape(s.value("key", ""));
    ms.stats = counters(s.value("stats", nlohmann::json::object()));
    ms.rates = rates(s.value("rates", nlohmann::json::object()));
    for (const auto& d : s.value("dests", nlohmann::json::array())) {
      ms.servers.push_back({escape(server_label(d.value("addr", ""), num(d, "port"))),
                            counters(d.value("stats", nlohmann::json::object())),
                            rates(d.value("rates", nlohmann::json::object())),
                            num(d, "active_conns"), num(d, "inactive_conns"), num(d, "weight")});
    }
    services.push_back(std::move(ms));
  }
  return metrics_text(stats, services);
}

std::string metrics_text(const nlohmann::json& stats, const std::vector<MetricsService>& services) {
  std::string out;
  size_t servers = 0;
  for (const auto& s : services) servers += s.servers.size();
  out.reserve(4096 + services.size() * 1024 + servers * 1100);
  auto it = std::back_inserter(out);
  // One family per figure, per service and then per real server; each written in one pass.
  const auto family = [&](std::string_view name, std::string_view type, std::string_view help,
                          bool per_server, auto value) {
    fmt::format_to(it, "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (const auto& s : services) {
      if (!per_server) {
        fmt::format_to(it, "{}{{service=\"{}\"}} {}\n", name, s.key, value(s.stats, s.rates, nullptr));
        continue;
      }
      for (const auto& d : s.servers) {
        fmt::format_to(it, "{}{{service=\"{}\",server=\"{}\"}} {}\n", name, s.key, d.server,
                       value(d.stats, d.rates, &d));
      }
    }
  };
  using C = core::Counters;
  using R = core::Rates;
  using D = const MetricsServer*;
  static constexpr std::pair<const char*, const char*> kCounters[] = {
      {"conns", "connections scheduled"},
      {"inpkts", "packets from clients"},
      {"outpkts", "packets to clients"},
      {"inbytes", "bytes from clients"},
      {"outbytes", "bytes to clients"}};
  static constexpr uint64_t C::*kCounterFields[] = {&C::conns, &C::inpkts, &C::outpkts,
                                                    &C::inbytes, &C::outbytes};
  // IPVS's estimator: gauges, as ipvsadm --rate shows them.
  static constexpr std::pair<const char*, const char*> kRates[] = {
      {"cps", "connections per second"},
      {"inpps", "packets per second from clients"},
      {"outpps", "packets per second to clients"},
      {"inbps", "bytes per second from clients"},
      {"outbps", "bytes per second to clients"}};
  static constexpr uint64_t R::*kRateFields[] = {&R::cps, &R::inpps, &R::outpps, &R::inbps,
                                                 &R::outbps};
  for (bool per_server : {false, true}) {
    const char* who = per_server ? "real_server" : "service";
    const char* whom = per_server ? "Real server" : "Virtual service";
    for (size_t i = 0; i < 5; ++i) {
      family(fmt::format("lvs_{}_{}_total", who, kCounters[i].first), "counter",
             fmt::format("{}: {}.", whom, kCounters[i].second), per_server,
             [f = kCounterFields[i]](const C& c, const R&, D) { return c.*f; });
    }
  }
  for (bool per_server : {false, true}) {
    const char* who = per_server ? "real_server" : "service";
    const char* whom = per_server ? "Real server" : "Virtual service";
    for (size_t i = 0; i < 5; ++i) {
      family(fmt::format("lvs_{}_{}", who, kRates[i].first), "gauge",
             fmt::format("{}: {} (IPVS estimator: 2 s samples, EWMA 1/4).", whom,
                         kRates[i].second),
             per_server, [f = kRateFields[i]](const C&, const R& r, D) { return r.*f; });
    }
  }
  family("lvs_real_server_active_connections", "gauge",
         "Real server: connections in ESTABLISHED (IPVS ActiveConn).", true,
         [](const C&, const R&, D d) { return d->active; });
  family("lvs_real_server_inactive_connections", "gauge",
         "Real server: other connections (IPVS InActConn).", true,
         [](const C&, const R&, D d) { return d->inactive; });
  family("lvs_real_server_weight", "gauge", "Real server: weight (0: quiesced).", true,
         [](const C&, const R&, D d) { return d->weight; });

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
  labelled(out, stats, "nat_tuple", "lvs_nat_tuple_total", "kind",
           "NAT connections whose real-server 4-tuple a live connection held: moved to another "
           "server, or shared (UDP, no other server).");

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
