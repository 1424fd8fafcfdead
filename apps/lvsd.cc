// lvsd: the lvs director daemon.
//   lvsd -f FILE [-i IFACE]...        start, detach once serving (logs to syslog)
//   lvsd -n|--foreground -f FILE ...  stay in the foreground (logs to stderr; systemd, tests)
//   lvsd -t -f FILE                   check the configuration only
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "ctl/config.h"
#include "daemon/detach.h"
#include "daemon/director.h"
#include "daemon/reload_memory.h"
#include "io/bpf_maps.h"

#ifndef LVS_BPF_INSTALL_DIR
#define LVS_BPF_INSTALL_DIR ""
#endif
#ifndef LVS_VERSION
#define LVS_VERSION "0"
#endif

int main(int argc, char** argv) {
  lvs::daemon::keep_reload_memory();
  CLI::App app{"lvsd: the lvs director (Linux Virtual Server in user space)"};
  std::string config = "/etc/lvs/lvs.conf";
  std::vector<std::string> interfaces;
  bool test_only = false;
  std::string stats_file;
  std::string log_level = "info";
  std::string bpf_dir;
  std::string api_socket = lvs::daemon::default_api_socket();
  std::string api_listen;
  bool foreground = false;
  std::string log_to;
  std::string pid_file;
  app.add_option("-f,--config", config, "configuration file (keepalived.conf dialect)")
      ->capture_default_str();
  app.add_option("-i,--interface", interfaces, "attach this interface (repeatable)");
  app.add_flag("-t,--test", test_only, "check the configuration file and exit");
  app.add_option("--stats-file", stats_file,
                 "write statistics as JSON to this file every second, on SIGUSR1 and at exit");
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--bpf-dir", bpf_dir, "directory holding lvs_xdp.bpf.o and lvs_steal.bpf.o");
  app.add_option("--socket", api_socket,
                 "control API socket (HTTP on a Unix socket; lvsadm talks to it); '' for none; "
                 "default $LVSD_SOCKET or /run/lvsd.sock")
      ->capture_default_str();
  app.add_option("--listen", api_listen,
                 "also serve the API read-only (GET: state, connections, /metrics) on TCP "
                 "ADDR:PORT or [IPV6]:PORT; changes stay on the control socket");
  app.add_flag("-n,--foreground,--dont-fork", foreground,
               "stay in the foreground (default: detach once serving)");
  app.add_option("--log", log_to,
                 "where logs go: stderr or syslog (default: stderr in the foreground, syslog "
                 "when detached)")
      ->check(CLI::IsMember({"stderr", "syslog"}));
  app.add_option("--pid-file", pid_file,
                 "write the pid here (default when detached: /run/lvsd.pid; '' for none)");
  app.set_version_flag("-V,--version", std::string("lvsd ") + LVS_VERSION);
  CLI11_PARSE(app, argc, argv);

  if (log_to.empty()) log_to = foreground ? "stderr" : "syslog";
  if (!foreground && app.count("--pid-file") == 0) pid_file = "/run/lvsd.pid";
  // Detached, startup messages go to the terminal too: whoever started lvsd sees why it failed.
  std::vector<spdlog::sink_ptr> sinks;
  if (log_to == "stderr" || !foreground) {
    sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  }
  if (log_to == "syslog") {
    sinks.push_back(
        std::make_shared<spdlog::sinks::syslog_sink_mt>("lvsd", LOG_PID, LOG_DAEMON, true));
  }
  auto logger = std::make_shared<spdlog::logger>("lvsd", sinks.begin(), sinks.end());
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(log_level));
  if (log_to == "syslog") {
    // syslog stamps its own time and level.
    sinks.back()->set_pattern("%v");
  }
  lvs::io::route_bpf_logs();

  lvs::ctl::ParseResult parsed = lvs::ctl::parse_config_file(config);
  for (const auto& d : parsed.diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
  if (test_only) {
    if (parsed.ok()) std::fprintf(stderr, "configuration file %s is valid\n", config.c_str());
    return parsed.ok() ? 0 : 1;
  }
  if (!parsed.ok()) return 1;
  // With no interface lvsd runs the control plane alone, which needs no privilege.
  const bool control_only = interfaces.empty() && parsed.config->director.interfaces.empty();
  if (!control_only && geteuid() != 0) {
    spdlog::error("lvsd needs root (CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW)");
    return 1;
  }

  // Paths as given, made absolute: a detached lvsd works from /, and reloads read the file again.
  const auto absolute = [](std::string& path) {
    if (!path.empty()) path = std::filesystem::absolute(path).lexically_normal().string();
  };
  for (std::string* p : {&config, &stats_file, &api_socket, &pid_file, &bpf_dir}) absolute(*p);

  lvs::daemon::DirectorOptions opts;
  opts.config_path = config;
  opts.extra_interfaces = interfaces;
  opts.stats_file = stats_file;
  opts.api_socket = api_socket;
  opts.api_listen = api_listen;
  opts.bpf_dir = bpf_dir.empty() ? lvs::daemon::locate_bpf_dir(LVS_BPF_INSTALL_DIR) : bpf_dir;

  std::string err;
  if (!foreground) {
    if (!lvs::daemon::detach(&err)) {  // before any thread starts
      spdlog::error("{}", err);
      return 1;
    }
    if (chdir("/") != 0) spdlog::warn("cannot change to /");
  }
  lvs::daemon::Director::block_signals();  // before any thread starts: signals go to signalfd
  lvs::daemon::Director director(opts);
  if (!director.start(*parsed.config, &err) ||
      (!pid_file.empty() && !lvs::daemon::write_pid_file(pid_file, &err))) {
    spdlog::error("{}", err);
    director.stop();
    lvs::daemon::detach_failed();
    return 1;
  }
  parsed.config.reset();  // the director keeps its own copy
  lvs::daemon::notify_systemd("READY=1\nMAINPID=" + std::to_string(getpid()));
  lvs::daemon::detach_ready();
  director.run();
  lvs::daemon::notify_systemd("STOPPING=1");
  director.stop();
  lvs::daemon::remove_pid_file(pid_file);
  spdlog::info("stopped");
  return 0;
}
