// lvs-pktgen: a UDP traffic generator for the forwarding benchmarks. It runs pktgen.bpf.c with
// BPF_PROG_RUN in live-frame mode (BPF_F_TEST_XDP_LIVE_FRAMES): the kernel hands the program
// page-pool frames in batches, the program writes one packet per frame and XDP_REDIRECTs it to
// the target interface (a veth whose peer is the device under test). Several Mpps from one core
// on veth, where trafgen manages ~0.35 Mpps. Bounded by --seconds and --count; prints the number
// of packets offered (the program ran and redirected; drops beyond that show as the peer's
// rx_dropped).
//
//   ip netns exec gen lvs-pktgen --dev g-out --dst-mac 02:..:01 --src-ip 198.18.0.10
//       --src-ip-count 16 --dst-ip 198.18.2.100 --dport 9 --sport 1024 --sport-count 4096
//       --seconds 5 --idle-dev g-idle
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "pktgen_shared.h"

// The BPF object, embedded by pktgen_obj.S.
extern "C" const unsigned char lvs_pktgen_bpf_obj[];
extern "C" const unsigned char lvs_pktgen_bpf_obj_end[];

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

bool parse_mac(const std::string& s, uint8_t out[6]) {
  unsigned v[6];
  char tail;
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                  &tail) != 6) {
    return false;
  }
  for (int i = 0; i < 6; ++i) {
    if (v[i] > 0xff) return false;
    out[i] = uint8_t(v[i]);
  }
  return true;
}

bool parse_ip4(const std::string& s, uint32_t& host_order) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return false;
  host_order = ntohl(a.s_addr);
  return true;
}

bool iface_mac(const std::string& name, uint8_t out[6]) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name.c_str());
  const bool ok = ioctl(fd, SIOCGIFHWADDR, &ifr) == 0;
  close(fd);
  if (ok) std::memcpy(out, ifr.ifr_hwaddr.sa_data, 6);
  return ok;
}

// Keeps an XDP program attached to an interface for the object's lifetime.
class IdleAttach {
 public:
  IdleAttach() = default;
  IdleAttach(const IdleAttach&) = delete;
  IdleAttach& operator=(const IdleAttach&) = delete;
  ~IdleAttach() {
    if (ifindex_ != 0) bpf_xdp_detach(int(ifindex_), flags_, nullptr);
  }
  int attach(unsigned ifindex, int prog_fd) {
    // Native mode first (veth supports it), generic otherwise; never replace a program.
    for (uint32_t mode : {uint32_t(XDP_FLAGS_DRV_MODE), uint32_t(XDP_FLAGS_SKB_MODE)}) {
      const uint32_t flags = mode | XDP_FLAGS_UPDATE_IF_NOEXIST;
      const int err = bpf_xdp_attach(int(ifindex), prog_fd, flags, nullptr);
      if (err == 0) {
        ifindex_ = ifindex;
        flags_ = mode;
        return 0;
      }
      if (err == -EBUSY || err == -EEXIST) return err;
    }
    return -EOPNOTSUPP;
  }

 private:
  unsigned ifindex_ = 0;
  uint32_t flags_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lvs-pktgen: UDP load through BPF_PROG_RUN live frames (bounded in time and count)"};
  std::string dev, idle_dev, dst_mac_s, src_mac_s, src_ip_s, dst_ip_s;
  uint32_t src_ip_count = 1;
  uint16_t sport = 1024, dport = 9;
  uint32_t sport_count = 1024;
  uint32_t size = 64;
  double seconds = 5;
  uint64_t count = 0;
  uint32_t batch = 64;
  uint32_t repeat = 1u << 18;
  uint32_t ttl = 64;
  double rate_mpps = 0;
  bool json = false;
  app.add_option("--dev", dev, "interface to send on (XDP_REDIRECT target)")->required();
  app.add_option("--dst-mac", dst_mac_s, "destination MAC (the peer's)")->required();
  app.add_option("--src-mac", src_mac_s, "source MAC (default: --dev's)");
  app.add_option("--src-ip", src_ip_s, "first source IPv4 address")->required();
  app.add_option("--src-ip-count", src_ip_count, "number of consecutive source addresses")
      ->check(CLI::Range(1u, 1u << 24));
  app.add_option("--dst-ip", dst_ip_s, "destination IPv4 address")->required();
  app.add_option("--sport", sport, "first source port");
  app.add_option("--sport-count", sport_count, "number of consecutive source ports")
      ->check(CLI::Range(1u, 65535u));
  app.add_option("--dport", dport, "destination port");
  app.add_option("--size", size, "frame size in bytes (Ethernet header to end of payload)")
      ->check(CLI::Range(60u, 1514u));
  app.add_option("--ttl", ttl, "IP TTL")->check(CLI::Range(1u, 255u));
  app.add_option("--seconds", seconds, "stop after this long")->check(CLI::Range(0.01, 3600.0));
  app.add_option("--count", count, "stop after this many packets (0: only --seconds)");
  app.add_option("--batch", batch, "frames per kernel batch (BPF_PROG_RUN batch_size)")
      ->check(CLI::Range(1u, 256u));
  app.add_option("--repeat", repeat, "packets per BPF_PROG_RUN call")
      ->check(CLI::Range(1u, 1u << 24));
  app.add_option("--rate", rate_mpps,
                 "offer at most this many Mpps (0: as fast as possible); paced per millisecond")
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--idle-dev", idle_dev,
                 "idle interface (no XDP program on it) to attach the generator's program to while "
                 "running: without it every BPF_PROG_RUN call waits ~25 ms in synchronize_rcu");
  app.add_flag("--json", json, "print the result as one JSON object");
  CLI11_PARSE(app, argc, argv);

  if (uint64_t(sport) + sport_count - 1 > 65535) {
    std::fprintf(stderr, "lvs-pktgen: --sport + --sport-count exceeds 65535\n");
    return 2;
  }
  pktgen_cfg cfg{};
  if (!parse_mac(dst_mac_s, cfg.dst_mac)) {
    std::fprintf(stderr, "lvs-pktgen: bad --dst-mac '%s'\n", dst_mac_s.c_str());
    return 2;
  }
  if (!src_mac_s.empty() ? !parse_mac(src_mac_s, cfg.src_mac) : !iface_mac(dev, cfg.src_mac)) {
    std::fprintf(stderr, "lvs-pktgen: no source MAC (--src-mac or --dev's address)\n");
    return 2;
  }
  if (!parse_ip4(src_ip_s, cfg.saddr) || !parse_ip4(dst_ip_s, cfg.daddr)) {
    std::fprintf(stderr, "lvs-pktgen: bad --src-ip or --dst-ip\n");
    return 2;
  }
  const unsigned ifindex = if_nametoindex(dev.c_str());
  if (ifindex == 0) {
    std::fprintf(stderr, "lvs-pktgen: no interface '%s' in this namespace\n", dev.c_str());
    return 2;
  }
  cfg.saddr_count = src_ip_count;
  cfg.sport = sport;
  cfg.sport_count = uint16_t(sport_count);
  cfg.dport = dport;
  cfg.frame_len = uint16_t(size);
  cfg.ifindex = ifindex;
  cfg.ttl = ttl;
  // The payload is zero and stays so (nobody on the path writes it): its sum is 0.
  cfg.payload_sum = 0;
  std::vector<uint8_t> frame(size, 0);

  libbpf_set_print(nullptr);
  const size_t obj_len = size_t(lvs_pktgen_bpf_obj_end - lvs_pktgen_bpf_obj);
  LIBBPF_OPTS(bpf_object_open_opts, oopts, .object_name = "lvs_pktgen");
  bpf_object* obj = bpf_object__open_mem(lvs_pktgen_bpf_obj, obj_len, &oopts);
  if (obj == nullptr || bpf_object__load(obj) != 0) {
    std::fprintf(stderr, "lvs-pktgen: loading the BPF program failed: %s\n", std::strerror(errno));
    if (obj) bpf_object__close(obj);
    return 1;
  }
  int rc = 0;
  {
    IdleAttach idle;
    const int prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "pktgen"));
    const int cfg_fd = bpf_map__fd(bpf_object__find_map_by_name(obj, "pktgen_cfg"));
    const uint32_t zero = 0;
    const unsigned idle_ifindex = idle_dev.empty() ? 0 : if_nametoindex(idle_dev.c_str());
    if (!idle_dev.empty() && idle_ifindex == 0) {
      std::fprintf(stderr, "lvs-pktgen: no interface '%s' for --idle-dev\n", idle_dev.c_str());
      bpf_object__close(obj);
      return 2;
    }
    cfg.idle_ifindex = idle_ifindex;
    if (bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY) != 0) {
      std::fprintf(stderr, "lvs-pktgen: writing the configuration failed: %s\n",
                   std::strerror(errno));
      bpf_object__close(obj);
      return 1;
    }
    if (idle_ifindex != 0) {
      const int err = idle.attach(idle_ifindex, prog_fd);
      if (err != 0) {
        std::fprintf(stderr, "lvs-pktgen: cannot attach the idle XDP program to '%s': %s\n",
                     idle_dev.c_str(), std::strerror(-err));
        bpf_object__close(obj);
        return 1;
      }
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    const auto deadline =
        t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    uint64_t offered = 0;
    uint64_t calls = 0;
    // With --rate: calls of one millisecond's worth of packets, each started no earlier than
    // its share of the schedule allows.
    const double pps = rate_mpps * 1e6;
    const uint32_t chunk = pps > 0 ? uint32_t(std::max(64.0, pps / 1000)) : repeat;
    while (!g_stop && Clock::now() < deadline && (count == 0 || offered < count)) {
      uint32_t n = std::min(chunk, repeat);
      if (count != 0 && count - offered < n) n = uint32_t(count - offered);
      if (pps > 0) {
        const auto due = t0 + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(double(offered) / pps));
        if (due > deadline) break;
        std::this_thread::sleep_until(due);
      }
      LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = frame.data(),
                  .data_size_in = uint32_t(frame.size()), .repeat = int(n),
                  .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = batch);
      const int err = bpf_prog_test_run_opts(prog_fd, &topts);
      if (err != 0) {
        if (errno == EINTR || g_stop) break;
        std::fprintf(stderr, "lvs-pktgen: BPF_PROG_RUN failed: %s\n", std::strerror(errno));
        rc = 1;
        break;
      }
      offered += n;
      ++calls;
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    const double mpps = elapsed > 0 ? double(offered) / elapsed / 1e6 : 0;
    const uint64_t flows = uint64_t(src_ip_count) * sport_count;
    if (json) {
      std::printf(
          "{\"offered\": %llu, \"seconds\": %.3f, \"mpps\": %.3f, \"flows\": %llu, "
          "\"frame_len\": %u, \"calls\": %llu, \"dev\": \"%s\"}\n",
          (unsigned long long)offered, elapsed, mpps, (unsigned long long)flows, size,
          (unsigned long long)calls, dev.c_str());
    } else {
      std::printf("offered=%llu seconds=%.3f mpps=%.3f flows=%llu frame_len=%u dev=%s\n",
                  (unsigned long long)offered, elapsed, mpps, (unsigned long long)flows, size,
                  dev.c_str());
    }
  }
  bpf_object__close(obj);
  return rc;
}
