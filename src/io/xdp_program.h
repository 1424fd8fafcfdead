// lvs's XDP classifier (bpf/lvs_xdp.bpf.c) on the director's interfaces. The maps are created
// once by lvsd and shared by a program object per interface (so libxdp may put each into that
// interface's dispatcher). Destruction detaches from every interface.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/bpf_maps.h"

struct xdp_program;

namespace lvs::io {

enum class XdpAttachMode { kAuto, kNative, kSkb };

class XdpProgram {
 public:
  // Opens the object file and creates its maps. nullptr with `err` set on failure.
  static std::unique_ptr<XdpProgram> open(const std::string& path, std::string* err);
  ~XdpProgram();
  XdpProgram(const XdpProgram&) = delete;
  XdpProgram& operator=(const XdpProgram&) = delete;

  // Attaches to an interface; kAuto tries native first, then generic (skb) mode.
  bool attach(uint32_t ifindex, const std::string& ifname, XdpAttachMode mode, std::string* err);
  void detach_all();

  int services_fd() const { return services_fd_; }
  int backends_fd() const { return backends_fd_; }
  int locals_fd() const { return locals_fd_; }  // the director's own addresses
  int stats_fd() const { return stats_fd_; }
  int config_fd() const { return config_fd_; }
  // Interface `ifindex` uses row `slot` of lvs_xsks.
  bool set_iface_slot(uint32_t ifindex, uint32_t slot, std::string* err);
  // Socket `fd` receives what arrives on queue `queue` of the interface in `slot`.
  bool set_socket(uint32_t slot, uint32_t queue, int fd, std::string* err);
  std::string attached_mode(uint32_t ifindex) const;

 private:
  struct Attached {
    uint32_t ifindex;
    std::string ifname;
    struct xdp_program* prog;
    int mode;  // enum xdp_attach_mode
  };
  XdpProgram() = default;
  int map_fd(const char* name) const;

  std::string path_;
  std::vector<std::pair<std::string, int>> maps_;  // name, fd (owned)
  std::vector<Attached> attached_;
  int locals_fd_ = -1;
  int services_fd_ = -1, backends_fd_ = -1, stats_fd_ = -1, ifaces_fd_ = -1, xsks_fd_ = -1;
  int config_fd_ = -1;
};

}  // namespace lvs::io
