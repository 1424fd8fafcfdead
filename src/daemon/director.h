// lvsd's runtime: it attaches the classifier to the director's interfaces, starts one worker
// per queue, turns the configuration into engine operations for every worker, keeps the
// workers' route snapshots current from rtnetlink, resolves next hops through the kernel, and
// runs the control loop (signals: TERM/INT stop, HUP reload, USR1 stats).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/ftp_tables.h"
#include "ctl/config.h"
#include "daemon/api_server.h"
#include "daemon/conn_query.h"
#include "daemon/stats_book.h"
#include "daemon/worker.h"
#include "health/monitor.h"
#include "io/netlink.h"
#include "io/steal_program.h"
#include "io/xdp_program.h"
#include "net/headers.h"

namespace lvs::daemon {

struct DirectorOptions {
  std::string config_path;
  std::vector<std::string> extra_interfaces;  // -i on the command line
  std::string stats_file;                     // empty: none
  std::string api_socket;                     // the control API's Unix socket; empty: none
  std::string api_listen;                     // ADDR:PORT for the read-only TCP API; empty: none
  std::string bpf_dir;                        // where lvs_xdp.bpf.o and lvs_steal.bpf.o are
};

class Director final : public NeighSink {
 public:
  explicit Director(DirectorOptions opts);
  ~Director() override;

  // Brings the data path up for `cfg`. False with `err` when it cannot; nothing is left attached.
  bool start(const ctl::Config& given, std::string* err);
  // The control loop; returns when a stop signal arrives. The signals must be blocked in every
  // thread (block_signals() before start()).
  void run();
  void stop();

  // Re-reads the configuration file and applies the difference; the old state stays on error.
  bool reload(std::string* err);
  // The statistics as a JSON document (also what --stats-file holds).
  std::string stats_json();
  bool write_stats_file();
  // The control API's requests (api_server.h), on the API thread.
  ApiResponse handle_api(const ApiRequest& r);

  void request(const core::NeighRequest& r) override;
  void ftp_data(const core::FtpDataRequest& r) override;
  static void block_signals();

 private:
  struct Attached {
    std::string name;
    uint32_t ifindex;
    uint32_t queues;
  };
  bool start_api(std::string* err);
  bool start_control_only(const ctl::Config& cfg, std::string* err);
  // The statistics but the services, as a DOM; the services are handed over as snapshots
  // (stats_json and /metrics write them themselves).
  nlohmann::json globals_object(std::vector<core::ServiceSnapshot>* services_out);
  // Every worker's services and servers summed; the totals too when asked.
  std::vector<core::ServiceSnapshot> merged_snapshot(core::EngineCounters* total = nullptr,
                                                     io::IoCounters* io_total = nullptr,
                                                     uint64_t* conns = nullptr);
  // `ops`: diff(cfg_, next) when the caller has it already.
  bool apply_config(ctl::Config next, std::string* err, const std::vector<ctl::Op>* ops = nullptr);
  std::string validate(const ctl::Config& next) const;
  std::string validate_changes(const ctl::Config& next, const std::vector<ctl::Op>& ops) const;
  nlohmann::json conns_object(const ConnQuery& q);
  nlohmann::json check_config(const std::string& body);
  bool apply_services(const ctl::Config& from, const ctl::Config& to, std::string* err,
                      const std::vector<ctl::Op>* planned = nullptr);
  // Brings the classifier's maps to cfg_'s services (and `also`'s, during a change).
  bool sync_classifier(std::string* err, const ctl::Config* also = nullptr);
  bool refresh_marks();
  void publish_routes();
  void resolve_next_hops(bool all);
  void handle_neigh_requests();
  void for_each_worker(const Worker::Command& cmd);
  // Health checks (director_health.cc).
  void start_health();
  void stop_health();
  void run_omega_scripts();
  void overlay_health(ctl::Config& cfg) const;
  void update_monitor();
  void handle_health_events();
  nlohmann::json health_object();
  std::string health_metrics();
  void retire(ctl::Config old);

  DirectorOptions opts_;
  ctl::Config cfg_;
  std::vector<Attached> attached_;
  std::unique_ptr<io::Netlink> netlink_;
  std::unique_ptr<io::XdpProgram> xdp_;
  std::unique_ptr<io::StealProgram> steal_;
  std::unique_ptr<Mesh> mesh_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::shared_ptr<const core::RouteTable> routes_;
  // The marks fwmark services need, compiled from the nftables ruleset (XDP runs before it).
  std::vector<core::MarkRule> marks_;
  std::vector<std::string> mark_warnings_;
  int neigh_fd_ = -1;  // eventfd: workers have next hops to resolve
  std::mutex neigh_mu_;
  std::vector<core::NeighRequest> neigh_pending_;
  std::map<std::pair<uint32_t, net::IpAddr>, std::chrono::steady_clock::time_point> neigh_last_;
  // Passive FTP data endpoints in the classifier, with when an engine last had them in use
  // (they leave a while after none does). Guarded: workers add them from their threads.
  std::mutex ftp_mu_;
  boost::unordered_flat_map<core::FtpEndpoint, std::chrono::steady_clock::time_point, core::FtpHash>
      ftp_dyn_;
  StatsBook rates_;  // sampled every 2 s by the control loop
  std::chrono::steady_clock::time_point start_time_;
  bool control_only_ = false;  // started with no interface
  bool stopping_ = false;
  // The checkers, their verdicts on the way to the control loop (health_fd_ wakes it), and the
  // last verdict per server (kept across reloads while the server is).
  std::unique_ptr<health::Monitor> monitor_;
  int health_fd_ = -1;
  std::mutex health_mu_;
  std::vector<health::ServerEvent> health_pending_;
  std::map<health::TargetKey, health::ServerEvent> health_state_;
  std::thread reaper_;  // frees the configuration a change replaced (retire())
  // Held by the control loop while it handles events and by the API thread while it serves a
  // request: the two never touch the director's state at once.
  std::mutex ctl_mu_;
  ApiServer api_;
};

// Where the BPF objects are: $LVS_BPF_DIR, then next to the binary (build tree: <build>/bpf),
// then the install directory. Empty when none holds lvs_xdp.bpf.o.
std::string locate_bpf_dir(const std::string& install_dir);

}  // namespace lvs::daemon
