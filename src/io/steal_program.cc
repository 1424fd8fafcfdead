#include "io/steal_program.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace lvs::io {

namespace {
// A distinctive filter handle and priority, so lvsd finds (and removes) only its own filter.
constexpr uint32_t kTcHandle = 0x1c5;
constexpr uint32_t kTcPriority = 1;
std::string errstr(int e) { return std::strerror(e < 0 ? -e : e); }
}  // namespace

std::unique_ptr<StealProgram> StealProgram::open(const std::string& path, std::string* err) {
  if (!std::filesystem::exists(path)) {
    *err = "BPF object " + path + " not found";
    return nullptr;
  }
  std::unique_ptr<StealProgram> self(new StealProgram());
  self->obj_ = bpf_object__open_file(path.c_str(), nullptr);
  if (!self->obj_) {
    *err = "cannot open BPF object " + path + ": " + errstr(errno);
    return nullptr;
  }
  if (int rc = bpf_object__load(self->obj_)) {
    *err = "cannot load BPF object " + path + ": " + errstr(rc);
    return nullptr;
  }
  auto prog_fd = [&](const char* name) {
    bpf_program* p = bpf_object__find_program_by_name(self->obj_, name);
    return p ? bpf_program__fd(p) : -1;
  };
  auto map_fd = [&](const char* name) {
    bpf_map* m = bpf_object__find_map_by_name(self->obj_, name);
    return m ? bpf_map__fd(m) : -1;
  };
  self->sock_prog_fd_ = prog_fd("lvs_sock_filter");
  self->tc_prog_fd_ = prog_fd("lvs_tc_steal");
  self->services_fd_ = map_fd("lvs_services");
  self->backends_fd_ = map_fd("lvs_backends");
  self->stats_fd_ = map_fd("lvs_stats");
  self->config_fd_ = map_fd("lvs_config");
  self->locals_fd_ = map_fd("lvs_locals");
  if (self->sock_prog_fd_ < 0 || self->tc_prog_fd_ < 0 || self->services_fd_ < 0 ||
      self->backends_fd_ < 0 || self->stats_fd_ < 0 || self->config_fd_ < 0 ||
      self->locals_fd_ < 0) {
    *err = "BPF object " + path + " lacks lvs_sock_filter, lvs_tc_steal or a classifier map";
    return nullptr;
  }
  return self;
}

StealProgram::~StealProgram() {
  detach_all();
  if (obj_) bpf_object__close(obj_);
}

bool StealProgram::attach_tc(uint32_t ifindex, const std::string& ifname, std::string* err) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = int(ifindex), .attach_point = BPF_TC_INGRESS);
  int rc = bpf_tc_hook_create(&hook);
  const bool created = rc == 0;
  if (rc != 0 && rc != -EEXIST) {
    *err = "cannot create the tc ingress hook on " + ifname + ": " + errstr(rc);
    return false;
  }
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = tc_prog_fd_, .flags = BPF_TC_F_REPLACE,
              .handle = kTcHandle, .priority = kTcPriority);
  rc = bpf_tc_attach(&hook, &opts);
  if (rc != 0) {
    *err = "cannot attach the tc ingress program on " + ifname + ": " + errstr(rc);
    if (created) {
      hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
      bpf_tc_hook_destroy(&hook);
    }
    return false;
  }
  hooked_.push_back({ifindex, created});
  return true;
}

void StealProgram::detach_all() {
  for (const Hooked& h : hooked_) {
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = int(h.ifindex), .attach_point = BPF_TC_INGRESS);
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
    bpf_tc_detach(&hook, &opts);
    if (h.created_qdisc) {  // only remove the clsact qdisc if lvsd made it
      hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
      bpf_tc_hook_destroy(&hook);
    }
  }
  hooked_.clear();
}

}  // namespace lvs::io
