#include "io/bpf_maps.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <xdp/libxdp.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <set>

namespace lvs::io {

namespace {
struct EndpointLess {
  bool operator()(const lvs_endpoint& a, const lvs_endpoint& b) const {
    return std::memcmp(&a, &b, sizeof(a)) < 0;
  }
};

template <typename Level>
int log_vprintf(Level level, const char* fmt, va_list args) {
  char buf[512];
  const int n = std::vsnprintf(buf, sizeof(buf), fmt, args);
  std::string_view msg(buf, n > 0 ? std::min<size_t>(size_t(n), sizeof(buf) - 1) : 0);
  while (!msg.empty() && msg.back() == '\n') msg.remove_suffix(1);
  spdlog::log(level, "{}", msg);
  return n;
}
}  // namespace

lvs_endpoint make_endpoint(uint8_t proto, const net::IpAddr& addr, uint16_t port) {
  lvs_endpoint e{};
  std::memcpy(e.addr, addr.data(), addr.size());
  e.port = htons(port);
  e.proto = proto;
  e.family = addr.is_v4() ? LVS_FAMILY_V4 : LVS_FAMILY_V6;
  return e;
}

std::string sync_endpoints(int fd, const std::vector<lvs_endpoint>& want) {
  std::set<lvs_endpoint, EndpointLess> wanted(want.begin(), want.end());
  std::vector<lvs_endpoint> stale;
  lvs_endpoint key{}, next{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    // Present and wanted: nothing to write (a sync of 100,000 entries is mostly these).
    if (wanted.erase(next) == 0) stale.push_back(next);
    key = next;
    prev = &key;
  }
  for (const auto& k : stale) {
    if (bpf_map_delete_elem(fd, &k) != 0 && errno != ENOENT) {
      return std::string("removing a classifier entry: ") + std::strerror(errno);
    }
  }
  const uint32_t value = 0;
  for (const auto& k : wanted) {
    if (bpf_map_update_elem(fd, &k, &value, BPF_ANY) != 0) {
      return std::string("adding a classifier entry: ") + std::strerror(errno);
    }
  }
  return {};
}

std::string add_endpoint(int fd, const lvs_endpoint& ep) {
  const uint32_t value = 0;
  if (bpf_map_update_elem(fd, &ep, &value, BPF_ANY) != 0) {
    return std::string("adding a classifier entry: ") + std::strerror(errno);
  }
  return {};
}

std::string set_config(int fd, uint32_t flags) {
  const uint32_t key = 0;
  const lvs_config cfg{flags, 0};
  if (bpf_map_update_elem(fd, &key, &cfg, BPF_ANY) != 0) {
    return std::string("setting the classifier's flags: ") + std::strerror(errno);
  }
  return {};
}

std::array<uint64_t, LVS_STAT_MAX> read_stats(int fd) {
  std::array<uint64_t, LVS_STAT_MAX> out{};
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return out;
  std::vector<uint64_t> vals(static_cast<size_t>(ncpu));
  for (uint32_t i = 0; i < LVS_STAT_MAX; ++i) {
    if (bpf_map_lookup_elem(fd, &i, vals.data()) != 0) continue;
    for (uint64_t v : vals) out[i] += v;
  }
  return out;
}

void route_bpf_logs() {
  libbpf_set_print([](enum libbpf_print_level level, const char* fmt, va_list args) {
    return log_vprintf(level == LIBBPF_WARN ? spdlog::level::warn : spdlog::level::debug, fmt,
                       args);
  });
  // libxdp's warnings are mostly about falling back (no bpffs: single program, no dispatcher),
  // which is a normal mode for lvsd: keep them at debug.
  libxdp_set_print([](enum libxdp_print_level, const char* fmt, va_list args) {
    return log_vprintf(spdlog::level::debug, fmt, args);
  });
}

}  // namespace lvs::io
