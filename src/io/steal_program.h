// The AF_PACKET backend's classifier (bpf/lvs_steal.bpf.c): a socket filter that admits only
// lvsd's traffic to its packet sockets, and a tc ingress program that keeps the kernel from
// handling that traffic too (packet taps see a frame before tc ingress does).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/bpf_maps.h"

struct bpf_object;

namespace lvs::io {

class StealProgram {
 public:
  static std::unique_ptr<StealProgram> open(const std::string& path, std::string* err);
  ~StealProgram();
  StealProgram(const StealProgram&) = delete;
  StealProgram& operator=(const StealProgram&) = delete;

  bool attach_tc(uint32_t ifindex, const std::string& ifname, std::string* err);
  void detach_all();

  int socket_filter_fd() const { return sock_prog_fd_; }
  int services_fd() const { return services_fd_; }
  int backends_fd() const { return backends_fd_; }
  int locals_fd() const { return locals_fd_; }  // the director's own addresses
  int stats_fd() const { return stats_fd_; }
  int config_fd() const { return config_fd_; }

 private:
  struct Hooked {
    uint32_t ifindex;
    bool created_qdisc;
  };
  StealProgram() = default;
  bpf_object* obj_ = nullptr;
  int sock_prog_fd_ = -1, tc_prog_fd_ = -1;
  int services_fd_ = -1, backends_fd_ = -1, stats_fd_ = -1, config_fd_ = -1, locals_fd_ = -1;
  std::vector<Hooked> hooked_;
};

}  // namespace lvs::io
