// lvsd: the lvs director daemon.
//   lvsd -f FILE [-i IFACE]... [--stats-file FILE]   run in the foreground
//   lvsd -t -f FILE                                   check the configuration only
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "ctl/config.h"
#include "daemon/director.h"
#include "io/bpf_maps.h"

#ifndef LVS_BPF_INSTALL_DIR
#define LVS_BPF_INSTALL_DIR ""
#endif
#ifndef LVS_VERSION
#define LVS_VERSION "0"
#endif

int main(int argc, char** argv) {
  CLI::App app{"lvsd: the lvs director (Linux Virtual Server in user space)"};
  std::string config = "/etc/lvs/lvs.conf";
  std::vector<std::string> interfaces;
  bool test_only = false;
  std::string stats_file;
  std::string log_level = "info";
  std::string bpf_dir;
  std::string api_socket = lvs::daemon::default_api_socket();
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
  app.set_version_flag("-V,--version", std::string("lvsd ") + LVS_VERSION);
  CLI11_PARSE(app, argc, argv);

  auto logger = spdlog::stderr_color_mt("lvsd");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(log_level));
  lvs::io::route_bpf_logs();

  const lvs::ctl::ParseResult parsed = lvs::ctl::parse_config_file(config);
  for (const auto& d : parsed.diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
  if (test_only) {
    if (parsed.ok()) std::fprintf(stderr, "configuration file %s is valid\n", config.c_str());
    return parsed.ok() ? 0 : 1;
  }
  if (!parsed.ok()) return 1;
  if (geteuid() != 0) {
    spdlog::error("lvsd needs root (CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW)");
    return 1;
  }

  lvs::daemon::DirectorOptions opts;
  opts.config_path = config;
  opts.extra_interfaces = interfaces;
  opts.stats_file = stats_file;
  opts.api_socket = api_socket;
  opts.bpf_dir = bpf_dir.empty() ? lvs::daemon::locate_bpf_dir(LVS_BPF_INSTALL_DIR) : bpf_dir;

  lvs::daemon::Director::block_signals();  // before any thread starts: signals go to signalfd
  lvs::daemon::Director director(opts);
  std::string err;
  if (!director.start(*parsed.config, &err)) {
    spdlog::error("{}", err);
    return 1;
  }
  director.run();
  director.stop();
  spdlog::info("stopped");
  return 0;
}
