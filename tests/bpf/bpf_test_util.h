// Helpers for the BPF tests: load an object with libbpf, fill its maps, run a program on a frame
// through BPF_PROG_TEST_RUN and read the per-CPU counters.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bpf/lvs_shared.h"
#include "net/addr.h"

namespace lvs::bpftest {

using Bytes = std::vector<uint8_t>;
using Stats = std::array<uint64_t, LVS_STAT_MAX>;

struct ObjectCloser {
  void operator()(bpf_object* o) const { bpf_object__close(o); }
};
using ObjectPtr = std::unique_ptr<bpf_object, ObjectCloser>;

// Opens and loads the object at `path` (the verifier log goes to stderr on failure); null and
// `*error` set when that fails.
inline ObjectPtr load_object(const char* path, std::string* error) {
  bpf_object* obj = bpf_object__open_file(path, nullptr);
  if (!obj) {
    *error = std::string("open ") + path + ": " + std::strerror(errno);
    return nullptr;
  }
  ObjectPtr owned(obj);
  if (int err = bpf_object__load(obj); err != 0) {
    *error = std::string("load ") + path + ": " + std::strerror(-err);
    return nullptr;
  }
  return owned;
}

inline int prog_fd(bpf_object* obj, const char* name) {
  bpf_program* p = bpf_object__find_program_by_name(obj, name);
  return p ? bpf_program__fd(p) : -1;
}

inline int map_fd(bpf_object* obj, const char* name) {
  bpf_map* m = bpf_object__find_map_by_name(obj, name);
  return m ? bpf_map__fd(m) : -1;
}

// A map key as lvsd writes it: zero-filled, port in network byte order.
inline lvs_endpoint endpoint(uint8_t proto, const net::IpAddr& addr, uint16_t port) {
  lvs_endpoint e{};
  std::memcpy(e.addr, addr.data(), addr.size());
  e.port = uint16_t(port >> 8 | port << 8);
  e.proto = proto;
  e.family = addr.is_v4() ? LVS_FAMILY_V4 : LVS_FAMILY_V6;
  return e;
}

inline int put_endpoint(int fd, const lvs_endpoint& e) {
  const uint32_t flags = 0;
  return bpf_map_update_elem(fd, &e, &flags, BPF_ANY);
}

// lvs_stats summed over the CPUs.
inline Stats read_stats(int fd) {
  Stats out{};
  const int ncpu = libbpf_num_possible_cpus();
  std::vector<uint64_t> per_cpu(ncpu > 0 ? size_t(ncpu) : 1);
  for (uint32_t i = 0; i < LVS_STAT_MAX; ++i) {
    if (bpf_map_lookup_elem(fd, &i, per_cpu.data()) != 0) continue;
    for (uint64_t v : per_cpu) out[i] += v;
  }
  return out;
}

inline Stats stats_delta(const Stats& before, const Stats& after) {
  Stats d{};
  for (size_t i = 0; i < d.size(); ++i) d[i] = after[i] - before[i];
  return d;
}

struct RunResult {
  int err = 0;          // test-run syscall result: 0, or -errno
  uint32_t retval = 0;  // the program's return value
};

// One BPF_PROG_TEST_RUN of `frame`; `ctx` optionally sets the program's context (xdp_md).
inline RunResult test_run(int fd, std::span<const uint8_t> frame, void* ctx = nullptr,
                          size_t ctx_size = 0) {
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
              .data_size_in = uint32_t(frame.size()), .ctx_in = ctx,
              .ctx_size_in = uint32_t(ctx_size), .repeat = 1);
  RunResult r;
  r.err = bpf_prog_test_run_opts(fd, &opts);  // libbpf >= 1.0: -errno
  r.retval = opts.retval;
  return r;
}

}  // namespace lvs::bpftest
