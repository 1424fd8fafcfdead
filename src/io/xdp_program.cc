#include "io/xdp_program.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace lvs::io {

namespace {
std::string errstr(int err) { return std::strerror(err < 0 ? -err : err); }
const char* const kMapNames[] = {"lvs_services", "lvs_backends", "lvs_stats", "lvs_ifaces",
                                 "lvs_xsks",     "lvs_config",   "lvs_locals"};
constexpr const char* kProgName = "lvs_xdp_main";

// Removes an lvs program a previous lvsd left behind (killed before it could detach: the
// single-program attach is not tied to the process). Programs of anyone else are left alone.
bool remove_leftover(uint32_t ifindex) {
  xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(int(ifindex));
  if (libxdp_get_error(mp) || mp == nullptr) return false;
  bool removed = false;
  if (xdp_multiprog__is_legacy(mp)) {
    xdp_program* main = xdp_multiprog__main_prog(mp);
    if (main && std::strcmp(xdp_program__name(main), kProgName) == 0) {
      removed = xdp_multiprog__detach(mp) == 0;
    }
  } else {
    for (xdp_program* p = xdp_multiprog__next_prog(nullptr, mp); p;
         p = xdp_multiprog__next_prog(p, mp)) {
      if (std::strcmp(xdp_program__name(p), kProgName) == 0) {
        removed = xdp_program__detach(p, int(ifindex), xdp_multiprog__attach_mode(mp), 0) == 0;
        break;
      }
    }
  }
  xdp_multiprog__close(mp);
  return removed;
}

}  // namespace

std::unique_ptr<XdpProgram> XdpProgram::open(const std::string& path, std::string* err) {
  if (!std::filesystem::exists(path)) {
    *err = "BPF object " + path + " not found";
    return nullptr;
  }
  std::unique_ptr<XdpProgram> self(new XdpProgram());
  self->path_ = path;
  bpf_object* tmpl = bpf_object__open_file(path.c_str(), nullptr);
  if (!tmpl) {
    *err = "cannot open BPF object " + path + ": " + errstr(errno);
    return nullptr;
  }
  // Create every map once, from the object's own definitions; each per-interface program object
  // then reuses these descriptors instead of creating its own.
  bpf_map* m;
  bpf_object__for_each_map(m, tmpl) {
    if (bpf_map__is_internal(m)) continue;
    LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = bpf_map__map_flags(m));
    const int fd = bpf_map_create(bpf_map__type(m), bpf_map__name(m), bpf_map__key_size(m),
                                  bpf_map__value_size(m), bpf_map__max_entries(m), &opts);
    if (fd < 0) {
      *err = std::string("cannot create BPF map ") + bpf_map__name(m) + ": " + errstr(errno);
      bpf_object__close(tmpl);
      return nullptr;
    }
    self->maps_.emplace_back(bpf_map__name(m), fd);
  }
  bpf_object__close(tmpl);
  for (const char* name : kMapNames) {
    if (self->map_fd(name) < 0) {
      *err = std::string("BPF object ") + path + " has no map " + name;
      return nullptr;
    }
  }
  self->services_fd_ = self->map_fd("lvs_services");
  self->backends_fd_ = self->map_fd("lvs_backends");
  self->stats_fd_ = self->map_fd("lvs_stats");
  self->ifaces_fd_ = self->map_fd("lvs_ifaces");
  self->xsks_fd_ = self->map_fd("lvs_xsks");
  self->config_fd_ = self->map_fd("lvs_config");
  self->locals_fd_ = self->map_fd("lvs_locals");
  return self;
}

XdpProgram::~XdpProgram() {
  detach_all();
  for (auto& [name, fd] : maps_) ::close(fd);
}

int XdpProgram::map_fd(const char* name) const {
  for (const auto& [n, fd] : maps_) {
    if (n == name) return fd;
  }
  return -1;
}

bool XdpProgram::attach(uint32_t ifindex, const std::string& ifname, XdpAttachMode mode,
                        std::string* err) {
  xdp_program* prog = xdp_program__open_file(path_.c_str(), "xdp", nullptr);
  if (const long e = libxdp_get_error(prog)) {
    *err = "cannot open XDP program in " + path_ + ": " + errstr(int(e));
    return false;
  }
  bpf_object* obj = xdp_program__bpf_obj(prog);
  for (const auto& [name, fd] : maps_) {
    bpf_map* m = bpf_object__find_map_by_name(obj, name.c_str());
    if (m && bpf_map__reuse_fd(m, fd) != 0) {
      *err = "cannot share map " + name + ": " + errstr(errno);
      xdp_program__close(prog);
      return false;
    }
  }
  std::vector<xdp_attach_mode> tries;
  if (mode != XdpAttachMode::kSkb) tries.push_back(XDP_MODE_NATIVE);
  if (mode != XdpAttachMode::kNative) tries.push_back(XDP_MODE_SKB);
  int rc = 0;
  for (int round = 0; round < 2; ++round) {
    for (xdp_attach_mode m : tries) {
      rc = xdp_program__attach(prog, int(ifindex), m, 0);
      if (rc == 0) {
        attached_.push_back({ifindex, ifname, prog, int(m)});
        return true;
      }
    }
    if (round == 0 && !remove_leftover(ifindex)) break;
  }
  *err = "cannot attach XDP to " + ifname + ": " + errstr(rc) +
         (rc == -EEXIST || rc == -EBUSY ? " (another XDP program is attached)" : "");
  xdp_program__close(prog);
  return false;
}

void XdpProgram::detach_all() {
  for (auto& a : attached_) {
    xdp_program__detach(a.prog, int(a.ifindex), xdp_attach_mode(a.mode), 0);
    xdp_program__close(a.prog);
  }
  attached_.clear();
}

std::string XdpProgram::attached_mode(uint32_t ifindex) const {
  for (const auto& a : attached_) {
    if (a.ifindex == ifindex) return a.mode == XDP_MODE_NATIVE ? "native" : "skb";
  }
  return "none";
}

bool XdpProgram::set_iface_slot(uint32_t ifindex, uint32_t slot, std::string* err) {
  const lvs_iface v{slot, 0};
  if (bpf_map_update_elem(ifaces_fd_, &ifindex, &v, BPF_ANY) != 0) {
    *err = "lvs_ifaces update: " + errstr(errno);
    return false;
  }
  return true;
}

bool XdpProgram::set_socket(uint32_t slot, uint32_t queue, int fd, std::string* err) {
  if (slot >= LVS_MAX_IFACES || queue >= LVS_MAX_QUEUES) {
    *err = "interface slot or queue beyond the XSKMAP";
    return false;
  }
  const uint32_t key = slot * LVS_MAX_QUEUES + queue;
  if (bpf_map_update_elem(xsks_fd_, &key, &fd, BPF_ANY) != 0) {
    *err = "lvs_xsks update: " + errstr(errno);
    return false;
  }
  return true;
}

}  // namespace lvs::io
