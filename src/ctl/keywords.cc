#include "ctl/keywords.h"

#include <algorithm>
#include <array>
#include <vector>

namespace lvs::ctl {

namespace {

using namespace std::string_view_literals;

// From keepalived's install_keyword_root() calls (keepalived/core, check, vrrp, bfd), without
// the blocks lvsd reads.
constexpr std::array kTop = {
    "SSL"sv,
    "bfd_instance"sv,
    "child_wait_time"sv,
    "garp_group"sv,
    "instance"sv,
    "interface_up_down_delays"sv,
    "linkbeat_interfaces"sv,
    "linkbeat_use_polling"sv,
    "namespace_with_ipsets"sv,
    "net_namespace"sv,
    "net_namespace_ipvs"sv,
    "static_ipaddress"sv,
    "static_routes"sv,
    "static_rules"sv,
    "track_file"sv,
    "track_group"sv,
    "use_pid_dir"sv,
    "vrrp_instance"sv,
    "vrrp_script"sv,
    "vrrp_sync_group"sv,
    "vrrp_track_file"sv,
    "vrrp_track_process"sv,
};

// keepalived/core/global_parser.c init_global_keywords(), without router_id, lvs_timeouts and
// the mail settings (which lvsd reads or accepts).
constexpr std::array kGlobal = {
    "process_names"sv,
    "process_name"sv,
    "vrrp_process_name"sv,
    "checker_process_name"sv,
    "lvs_process_name"sv,
    "bfd_process_name"sv,
    "use_symlink_paths"sv,
    "set_supplementary_groups"sv,
    "startup_script"sv,
    "startup_script_timeout"sv,
    "shutdown_script"sv,
    "shutdown_script_timeout"sv,
    "max_auto_priority"sv,
    "min_auto_priority_delay"sv,
    "checker_log_all_failures"sv,
    "dynamic_interfaces"sv,
    "default_interface"sv,
    "disable_local_igmp"sv,
    "v3_checksum_as_v2"sv,
    "lvs_flush"sv,
    "lvs_flush_on_stop"sv,
    "lvs_flush_onstop"sv,
    "lvs_sync_daemon"sv,
    "vrrp_mcast_group4"sv,
    "vrrp_mcast_group6"sv,
    "vrrp_garp_master_delay"sv,
    "vrrp_garp_master_repeat"sv,
    "vrrp_garp_master_refresh"sv,
    "vrrp_garp_master_refresh_repeat"sv,
    "vrrp_garp_lower_prio_delay"sv,
    "vrrp_garp_lower_prio_repeat"sv,
    "vrrp_down_timer_adverts"sv,
    "vrrp_garp_interval"sv,
    "vrrp_gna_interval"sv,
    "vrrp_min_garp"sv,
    "vrrp_garp_extra_if"sv,
    "vrrp_vmac_garp_intvl"sv,
    "vrrp_lower_prio_no_advert"sv,
    "vrrp_higher_prio_send_advert"sv,
    "vrrp_version"sv,
    "vrrp_iptables"sv,
    "vrrp_ipsets"sv,
    "nftables"sv,
    "nftables_priority"sv,
    "nftables_ifindex"sv,
    "vrrp_check_unicast_src"sv,
    "vrrp_skip_check_adv_addr"sv,
    "vrrp_strict"sv,
    "vrrp_priority"sv,
    "vrrp_no_swap"sv,
    "vrrp_rt_priority"sv,
    "vrrp_cpu_affinity"sv,
    "vrrp_rlimit_rttime"sv,
    "vrrp_rlimit_rtime"sv,
    "nftables_ipvs"sv,
    "nftables_ipvs_priority"sv,
    "nftables_ipvs_start_fwmark"sv,
    "nftables_counters"sv,
    "notify_fifo"sv,
    "notify_fifo_script"sv,
    "vrrp_notify_fifo"sv,
    "vrrp_notify_fifo_script"sv,
    "vrrp_notify_priority_changes"sv,
    "fifo_write_vrrp_states_on_reload"sv,
    "lvs_notify_fifo"sv,
    "lvs_notify_fifo_script"sv,
    "checker_priority"sv,
    "checker_no_swap"sv,
    "checker_rt_priority"sv,
    "checker_cpu_affinity"sv,
    "checker_rlimit_rttime"sv,
    "checker_rlimit_rtime"sv,
    "bfd_priority"sv,
    "bfd_no_swap"sv,
    "bfd_rt_priority"sv,
    "bfd_cpu_affinity"sv,
    "bfd_rlimit_rttime"sv,
    "bfd_rlimit_rtime"sv,
    "snmp_socket"sv,
    "enable_traps"sv,
    "enable_snmp_vrrp"sv,
    "enable_snmp_keepalived"sv,
    "enable_snmp_rfc"sv,
    "enable_snmp_rfcv2"sv,
    "enable_snmp_rfcv3"sv,
    "enable_snmp_checker"sv,
    "snmp_vs_stats_update_interval"sv,
    "snmp_rs_stats_update_interval"sv,
    "enable_dbus"sv,
    "dbus_service_name"sv,
    "dbus_no_interface_name"sv,
    "script_user"sv,
    "enable_script_security"sv,
    "vrrp_netlink_cmd_rcv_bufs"sv,
    "vrrp_netlink_cmd_rcv_bufs_force"sv,
    "vrrp_netlink_monitor_rcv_bufs"sv,
    "vrrp_netlink_monitor_rcv_bufs_force"sv,
    "process_monitor_rcv_bufs"sv,
    "process_monitor_rcv_bufs_force"sv,
    "lvs_netlink_cmd_rcv_bufs"sv,
    "lvs_netlink_cmd_rcv_bufs_force"sv,
    "lvs_netlink_monitor_rcv_bufs"sv,
    "lvs_netlink_monitor_rcv_bufs_force"sv,
    "rs_init_notifies"sv,
    "no_checker_emails"sv,
    "vrrp_rx_bufs_policy"sv,
    "vrrp_rx_bufs_multiplier"sv,
    "vrrp_startup_delay"sv,
    "vrrp_delay_after_boot"sv,
    "log_unknown_vrids"sv,
    "vrrp_owner_ignore_adverts"sv,
    "vmac_prefix"sv,
    "vmac_addr_prefix"sv,
    "umask"sv,
    "random_seed"sv,
    "reload_check_config"sv,
    "reload_time_file"sv,
    "reload_repeat"sv,
    "reload_file"sv,
    "include_check"sv,
    "config_save_dir"sv,
    "tmp_config_directory"sv,
    "data_use_instance"sv,
    "json_version"sv,
    "iproute_usr_dir"sv,
    "iproute_etc_dir"sv,
    "state_dump_file"sv,
    "stats_dump_file"sv,
    "json_dump_file"sv,
};

// keepalived/check/check_parser.c init_check_keywords(), virtual_server level: what lvsd still
// refuses (the other keywords are read, see parser_vs.cc).
constexpr std::array kVs = {
    "persistence_engine"sv,
};

// The real_server level's health checkers (keepalived installs them in check_*.c; read in
// parser_health.cc, BFD_CHECK as "not yet supported"), and track_file.
constexpr std::array kRs = {
    "HTTP_GET"sv,  "SSL_GET"sv,   "TCP_CHECK"sv,  "SMTP_CHECK"sv, "DNS_CHECK"sv,  "MISC_CHECK"sv,
    "BFD_CHECK"sv, "UDP_CHECK"sv, "PING_CHECK"sv, "FILE_CHECK"sv, "track_file"sv,
};

// keepalived/check/check_parser.c lvs_schedulers[].
constexpr std::array kSchedulers = {
    "rr"sv, "wrr"sv, "lc"sv,  "wlc"sv,   "lblc"sv, "sh"sv, "mh"sv,
    "dh"sv, "fo"sv,  "ovf"sv, "lblcr"sv, "sed"sv,  "nq"sv, "twos"sv,
};

char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

// Optimal string alignment distance, ignoring case: a swap of two neighbours ("alog"/"algo")
// counts once.
size_t edit_distance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      }
    }
    prev2.swap(prev);
    prev.swap(cur);
  }
  return prev[m];
}

}  // namespace

std::span<const std::string_view> keepalived_top_keywords() { return kTop; }
std::span<const std::string_view> keepalived_global_keywords() { return kGlobal; }
std::span<const std::string_view> keepalived_vs_keywords() { return kVs; }
std::span<const std::string_view> keepalived_rs_keywords() { return kRs; }
std::span<const std::string_view> keepalived_schedulers() { return kSchedulers; }

bool contains(std::span<const std::string_view> words, std::string_view w) {
  return std::find(words.begin(), words.end(), w) != words.end();
}

std::string_view closest_keyword(std::string_view word,
                                 std::span<const std::span<const std::string_view>> candidates) {
  // Long words get more slack, but never so much that unrelated short keywords match.
  const size_t limit = std::min<size_t>(3, std::max<size_t>(1, word.size() / 4));
  std::string_view best;
  size_t best_d = limit + 1;
  for (const auto& list : candidates) {
    for (std::string_view c : list) {
      if (word.size() > 64) break;  // no typo is that long; keeps the cost bounded
      const size_t d = edit_distance(word, c);
      if (d < best_d) {
        best = c;
        best_d = d;
      }
    }
  }
  return best;
}

}  // namespace lvs::ctl
