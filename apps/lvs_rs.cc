// lvs-rs: prepares a Linux host to be a real server of an LVS director in VS/DR or VS/TUN, and
// undoes it.
//   lvs-rs --vip ADDR [--vip ADDR ...] --mode dr|tun [--tun-type ipip|gue|gre] [--tun-port N]
//          [--dev IFACE]
//   lvs-rs --down [same options]
//
// What the LVS HOWTO asks of a real server, done in-process (rtnetlink through libmnl, /proc/sys,
// libbpf's tc API):
//   - every VIP on lo as /32 or /128, so the host accepts packets for it (an address already there
//     is left, and left in place by --down);
//   - arp_ignore=1 and arp_announce=2 on all, lo and --dev, so the host neither answers ARP for
//     the VIP nor uses it as an ARP source: only the director may own the VIP on the LAN (IPv6
//     needs nothing: the kernel answers neighbour solicitations only for addresses of the
//     receiving interface);
//   - tun: rp_filter=0 on all and --dev, since decapsulated packets carry the client's source on
//     an interface the reverse path may disagree with; and the decapsulator (bpf/lvs_rs.bpf.c) on
//     --dev's tc ingress (clsact made if missing), since the tunnel modules may be absent. Its
//     maps hold --dev's addresses (outer destinations), the VIPs (inner destinations) and the
//     tunnel type and port.
// Every change is recorded in a state file (/run/lvs-rs/<dev>.json, directory LVS_RS_STATE_DIR)
// as it is made: a failure half-way undoes what was done, and --down restores exactly the
// recorded previous values and removes only what lvs-rs added. The tc program outlives lvs-rs
// (the filter holds it); --down finds it on the device by handle, priority and name.
//
// Exit status: 0 done, 1 failure (after rolling back), 2 usage error.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bpf/lvs_rs_decap.h"

#ifndef LVS_BPF_INSTALL_DIR
#define LVS_BPF_INSTALL_DIR ""
#endif
#ifndef LVS_VERSION
#define LVS_VERSION "0"
#endif

namespace lvs::rs {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kObjectName = "lvs_rs.bpf.o";
constexpr const char* kProgName = "lvs_rs_decap";
// The filter's place on tc ingress: priority 1 runs first, the handle tells it from others'.
constexpr uint32_t kTcHandle = 0x7273;  // "rs"
constexpr uint32_t kTcPriority = 1;
constexpr const char* kDefaultStateDir = "/run/lvs-rs";

std::string errstr(int e) { return std::strerror(e < 0 ? -e : e); }

void say(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fputs("lvs-rs: ", stderr);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
}

// An error the user made on the command line: exit 2.
struct UsageError {
  std::string message;
};

// ---------------------------------------------------------------------------------------------
// Addresses

struct Addr {
  int family = 0;  // AF_INET, AF_INET6
  uint8_t bytes[16] = {};
  size_t size() const { return family == AF_INET ? 4 : 16; }
  int host_prefix() const { return family == AF_INET ? 32 : 128; }
  bool operator==(const Addr& o) const {
    return family == o.family && std::memcmp(bytes, o.bytes, size()) == 0;
  }
  std::string str() const {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, bytes, buf, sizeof(buf));
    return buf;
  }
  static std::optional<Addr> parse(const std::string& text) {
    Addr a;
    if (inet_pton(AF_INET, text.c_str(), a.bytes) == 1) {
      a.family = AF_INET;
      return a;
    }
    if (inet_pton(AF_INET6, text.c_str(), a.bytes) == 1) {
      a.family = AF_INET6;
      return a;
    }
    return std::nullopt;
  }
  lvs_rs_addr key() const {
    lvs_rs_addr k{};
    k.family = family == AF_INET ? LVS_RS_V4 : LVS_RS_V6;
    std::memcpy(k.addr, bytes, size());
    return k;
  }
};

struct IfAddr {
  Addr addr;
  int prefix = 0;
};

// The attributes of a message, by type (those up to kMaxAttr).
constexpr int kMaxAttr = 64;
struct Attrs {
  const nlattr* tb[kMaxAttr + 1] = {};
  Attrs(const nlmsghdr* m, size_t header) {
    mnl_attr_parse(
        m, unsigned(header),
        [](const nlattr* a, void* data) {
          const int type = mnl_attr_get_type(a);
          if (type > 0 && type <= kMaxAttr) static_cast<const nlattr**>(data)[type] = a;
          return int(MNL_CB_OK);
        },
        tb);
  }
  const nlattr* operator[](int type) const { return type <= kMaxAttr ? tb[type] : nullptr; }
};

// ---------------------------------------------------------------------------------------------
// rtnetlink

class Rtnl {
 public:
  bool open(std::string* err) {
    sock_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!sock_ || mnl_socket_bind(sock_, 0, MNL_SOCKET_AUTOPID) < 0) {
      *err = std::string("cannot open rtnetlink: ") + std::strerror(errno);
      return false;
    }
    seq_ = uint32_t(time(nullptr));
    return true;
  }
  ~Rtnl() {
    if (sock_) mnl_socket_close(sock_);
  }
  int last_errno() const { return last_errno_; }  // of the last failed request

  // Addresses of interface `ifindex`, both families.
  bool addresses(uint32_t ifindex, std::vector<IfAddr>* out, std::string* err) {
    char buf[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr* nlh = header(buf, RTM_GETADDR, NLM_F_DUMP);
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = AF_UNSPEC;
    return run(nlh, err, [&](const nlmsghdr* m) {
      if (m->nlmsg_type != RTM_NEWADDR) return;
      const auto* a = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(m));
      if (a->ifa_index != ifindex || (a->ifa_family != AF_INET && a->ifa_family != AF_INET6)) {
        return;
      }
      const Attrs tb(m, sizeof(*a));
      const nlattr* use = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
      IfAddr ia;
      ia.addr.family = a->ifa_family;
      if (!use || mnl_attr_get_payload_len(use) != ia.addr.size()) return;
      std::memcpy(ia.addr.bytes, mnl_attr_get_payload(use), ia.addr.size());
      ia.prefix = a->ifa_prefixlen;
      out->push_back(ia);
    });
  }

  // Adds (or deletes) `a`/host-prefix on `ifindex`, scope global (as `ip addr add` would).
  bool change_address(bool add, uint32_t ifindex, const Addr& a, int prefix, std::string* err) {
    char buf[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr* nlh = header(buf, add ? RTM_NEWADDR : RTM_DELADDR,
                           NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0));
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = uint8_t(a.family);
    ifa->ifa_prefixlen = uint8_t(prefix);
    ifa->ifa_flags = a.family == AF_INET6 ? IFA_F_NODAD : 0;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = ifindex;
    mnl_attr_put(nlh, IFA_LOCAL, a.size(), a.bytes);
    mnl_attr_put(nlh, IFA_ADDRESS, a.size(), a.bytes);
    return run(nlh, err, nullptr);
  }

  // The interface of the main table's default route, IPv4 first; 0 if there is none.
  bool default_route_ifindex(uint32_t* ifindex, std::string* err) {
    *ifindex = 0;
    for (int family : {AF_INET, AF_INET6}) {
      char buf[MNL_SOCKET_BUFFER_SIZE];
      nlmsghdr* nlh = header(buf, RTM_GETROUTE, NLM_F_DUMP);
      auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
      rtm->rtm_family = uint8_t(family);
      uint32_t found = 0;
      const bool ok = run(nlh, err, [&](const nlmsghdr* m) {
        if (m->nlmsg_type != RTM_NEWROUTE || found) return;
        const auto* r = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(m));
        if (r->rtm_dst_len != 0 || r->rtm_type != RTN_UNICAST) return;
        const Attrs tb(m, sizeof(*r));
        const uint32_t table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : r->rtm_table;
        const uint32_t oif = tb[RTA_OIF] ? mnl_attr_get_u32(tb[RTA_OIF]) : 0;
        if (table == RT_TABLE_MAIN && oif) found = oif;
      });
      if (!ok) return false;
      if (found) {
        *ifindex = found;
        return true;
      }
    }
    return true;
  }

  // Number of tc filters under `parent` (clsact ingress or egress) of `ifindex`.
  bool count_filters(uint32_t ifindex, uint32_t parent, int* count, std::string* err) {
    *count = 0;
    char buf[MNL_SOCKET_BUFFER_SIZE];
    nlmsghdr* nlh = header(buf, RTM_GETTFILTER, NLM_F_DUMP);
    auto* tcm = static_cast<tcmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(tcmsg)));
    tcm->tcm_family = AF_UNSPEC;
    tcm->tcm_ifindex = int(ifindex);
    tcm->tcm_parent = parent;
    return run(nlh, err, [&](const nlmsghdr* m) {
      if (m->nlmsg_type != RTM_NEWTFILTER) return;
      // A classifier instance is reported once on its own (handle 0), then once per filter.
      if (static_cast<const tcmsg*>(mnl_nlmsg_get_payload(m))->tcm_handle != 0) ++*count;
    });
  }

 private:
  nlmsghdr* header(char* buf, uint16_t type, uint16_t flags) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = uint16_t(NLM_F_REQUEST | flags);
    nlh->nlmsg_seq = ++seq_;
    return nlh;
  }

  // Sends one request; `each` sees every reply message (dumps). Errors come back as errno.
  bool run(nlmsghdr* nlh, std::string* err, const std::function<void(const nlmsghdr*)>& each) {
    last_errno_ = 0;
    if (mnl_socket_sendto(sock_, nlh, nlh->nlmsg_len) < 0) {
      last_errno_ = errno;
      *err = std::string("rtnetlink: ") + std::strerror(errno);
      return false;
    }
    static char buf[32768];
    const uint32_t portid = mnl_socket_get_portid(sock_);
    for (;;) {
      const ssize_t n = mnl_socket_recvfrom(sock_, buf, sizeof(buf));
      if (n < 0) {
        last_errno_ = errno;
        *err = std::string("rtnetlink: ") + std::strerror(errno);
        return false;
      }
      const int rc = mnl_cb_run(
          buf, size_t(n), nlh->nlmsg_seq, portid,
          [](const nlmsghdr* m, void* data) {
            auto* f = static_cast<const std::function<void(const nlmsghdr*)>*>(data);
            if (*f) (*f)(m);
            return int(MNL_CB_OK);
          },
          const_cast<std::function<void(const nlmsghdr*)>*>(&each));
      if (rc == MNL_CB_STOP) return true;
      if (rc < 0) {
        last_errno_ = errno;
        *err = std::strerror(errno);
        return false;
      }
      if (!(nlh->nlmsg_flags & NLM_F_DUMP)) return true;  // the ACK was in this batch
    }
  }

  mnl_socket* sock_ = nullptr;
  uint32_t seq_ = 1;
  int last_errno_ = 0;
};

// ---------------------------------------------------------------------------------------------
// sysctl

// Keys are paths under /proc/sys ("net/ipv4/conf/eth0/arp_ignore"): interface names may hold
// dots, which sysctl(8)'s dotted form would split.
std::string sysctl_path(const std::string& key) { return "/proc/sys/" + key; }

bool sysctl_read(const std::string& key, std::string* value, std::string* err) {
  std::ifstream in(sysctl_path(key));
  if (!in || !std::getline(in, *value)) {
    *err = "cannot read " + key + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool sysctl_write(const std::string& key, const std::string& value, std::string* err) {
  FILE* f = std::fopen(sysctl_path(key).c_str(), "w");
  if (!f) {
    *err = "cannot write " + key + ": " + std::strerror(errno);
    return false;
  }
  const bool ok = std::fputs(value.c_str(), f) >= 0;
  const int close_rc = std::fclose(f);  // the kernel reports a refused value here
  if (!ok || close_rc != 0) {
    *err = "cannot set " + key + "=" + value + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// What was done: the state file

struct SysctlChange {
  std::string key, previous, value;
};

struct State {
  std::string dev;
  uint32_t ifindex = 0;
  std::string mode, tun_type;
  uint16_t tun_port = 0;
  std::vector<std::string> vips;
  std::vector<std::string> vips_present;  // found on lo already: not ours to remove
  std::vector<SysctlChange> sysctls;      // in the order they were made
  std::vector<std::string> added;         // "ADDR/PREFIX" added to lo
  bool tc_attached = false, tc_created_clsact = false;
  uint32_t tc_handle = kTcHandle, tc_priority = kTcPriority;
  std::vector<std::string> decap_local;  // outer destinations given to the decapsulator

  json to_json() const {
    json j;
    j["version"] = 1;
    j["dev"] = dev;
    j["ifindex"] = ifindex;
    j["mode"] = mode;
    if (mode == "tun") {
      j["tun_type"] = tun_type;
      if (tun_port) j["tun_port"] = tun_port;
    }
    j["vips"] = vips;
    j["vips_already_present"] = vips_present;
    j["addresses_added"] = added;
    j["sysctls"] = json::array();
    for (const auto& s : sysctls) {
      j["sysctls"].push_back({{"key", s.key}, {"previous", s.previous}, {"set", s.value}});
    }
    j["tc"] = {{"attached", tc_attached}, {"created_clsact", tc_created_clsact},
               {"handle", tc_handle},     {"priority", tc_priority},
               {"program", kProgName},    {"outer_destinations", decap_local}};
    return j;
  }

  static State from_json(const json& j) {
    State s;
    s.dev = j.at("dev").get<std::string>();
    s.ifindex = j.at("ifindex").get<uint32_t>();
    s.mode = j.at("mode").get<std::string>();
    s.tun_type = j.value("tun_type", "");
    s.tun_port = j.value("tun_port", uint16_t(0));
    s.vips = j.at("vips").get<std::vector<std::string>>();
    s.vips_present = j.value("vips_already_present", std::vector<std::string>{});
    s.added = j.at("addresses_added").get<std::vector<std::string>>();
    for (const auto& c : j.at("sysctls")) {
      s.sysctls.push_back({c.at("key").get<std::string>(), c.at("previous").get<std::string>(),
                           c.at("set").get<std::string>()});
    }
    const json& tc = j.at("tc");
    s.tc_attached = tc.at("attached").get<bool>();
    s.tc_created_clsact = tc.at("created_clsact").get<bool>();
    s.tc_handle = tc.at("handle").get<uint32_t>();
    s.tc_priority = tc.at("priority").get<uint32_t>();
    s.decap_local = tc.value("outer_destinations", std::vector<std::string>{});
    return s;
  }
};

fs::path state_dir() {
  const char* env = getenv("LVS_RS_STATE_DIR");
  return env && *env ? fs::path(env) : fs::path(kDefaultStateDir);
}

fs::path state_file(const std::string& dev) { return state_dir() / (dev + ".json"); }

// Written whole to a temporary file, then renamed over the old one: never half a record.
bool save_state(const State& s, std::string* err) {
  std::error_code ec;
  fs::create_directories(state_dir(), ec);
  if (ec) {
    *err = "cannot create " + state_dir().string() + ": " + ec.message();
    return false;
  }
  const fs::path path = state_file(s.dev);
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << s.to_json().dump(2) << "\n";
    out.flush();
    if (!out) {
      *err = "cannot write " + tmp.string() + ": " + std::strerror(errno);
      return false;
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    *err = "cannot write " + path.string() + ": " + ec.message();
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The decapsulator

std::string locate_object() {
  // LVS_BPF_DIR, when set, is the only place looked at; else next to the binary's build tree
  // (build/apps/lvs-rs -> build/bpf), then the install directory.
  if (const char* env = getenv("LVS_BPF_DIR")) return (fs::path(env) / kObjectName).string();
  std::vector<fs::path> candidates;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path().parent_path() / "bpf");
  if (*LVS_BPF_INSTALL_DIR) candidates.emplace_back(LVS_BPF_INSTALL_DIR);
  for (const auto& c : candidates) {
    if (fs::exists(c / kObjectName, ec)) return (c / kObjectName).string();
  }
  return candidates.empty() ? kObjectName : (candidates.back() / kObjectName).string();
}

struct ObjectCloser {
  void operator()(bpf_object* o) const { bpf_object__close(o); }
};
using ObjectPtr = std::unique_ptr<bpf_object, ObjectCloser>;

// libbpf's warnings (a verifier log, a kernel's refusal) help when something fails; while
// lvs-rs only asks whether a tc slot is taken, the kernel's "no such qdisc" is not news.
bool g_libbpf_quiet = false;
int libbpf_print(libbpf_print_level level, const char* fmt, va_list ap) {
  if (level == LIBBPF_WARN && !g_libbpf_quiet) return std::vfprintf(stderr, fmt, ap);
  return 0;
}

ObjectPtr load_decapsulator(std::string* err) {
  const std::string path = locate_object();
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    *err = "BPF object " + path + " not found (set LVS_BPF_DIR)";
    return nullptr;
  }
  ObjectPtr obj(bpf_object__open_file(path.c_str(), nullptr));
  if (!obj) {
    *err = "cannot open " + path + ": " + errstr(errno);
    return nullptr;
  }
  if (int rc = bpf_object__load(obj.get())) {
    *err = "cannot load " + path + ": " + errstr(rc);
    return nullptr;
  }
  return obj;
}

int obj_map_fd(bpf_object* obj, const char* name) {
  bpf_map* m = bpf_object__find_map_by_name(obj, name);
  return m ? bpf_map__fd(m) : -1;
}

bool fill_maps(bpf_object* obj, const lvs_rs_config& cfg, const std::vector<Addr>& local,
               const std::vector<Addr>& vips, std::string* err) {
  const int cfg_fd = obj_map_fd(obj, "lvs_rs_config");
  const int local_fd = obj_map_fd(obj, "lvs_rs_local");
  const int vips_fd = obj_map_fd(obj, "lvs_rs_vips");
  if (cfg_fd < 0 || local_fd < 0 || vips_fd < 0) {
    *err = std::string(kObjectName) + " lacks lvs_rs_config, lvs_rs_local or lvs_rs_vips";
    return false;
  }
  const uint32_t zero = 0;
  if (int rc = bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY)) {
    *err = "cannot write lvs_rs_config: " + errstr(rc);
    return false;
  }
  for (const auto* set : {&local, &vips}) {
    const int fd = set == &local ? local_fd : vips_fd;
    for (const Addr& a : *set) {
      const lvs_rs_addr key = a.key();
      if (int rc = bpf_map_update_elem(fd, &key, &zero, BPF_ANY)) {
        *err = "cannot add " + a.str() + " to the decapsulator's maps: " + errstr(rc);
        return false;
      }
    }
  }
  return true;
}

// The id of the program in our tc slot, 0 if the slot is empty; its name in *name.
uint32_t tc_slot_program(uint32_t ifindex, uint32_t handle, uint32_t priority, std::string* name) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = int(ifindex), .attach_point = BPF_TC_INGRESS);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = priority);
  g_libbpf_quiet = true;
  const int rc = bpf_tc_query(&hook, &opts);
  g_libbpf_quiet = false;
  if (rc != 0) return 0;
  name->clear();
  const int fd = bpf_prog_get_fd_by_id(opts.prog_id);
  if (fd >= 0) {
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) *name = info.name;
    close(fd);
  }
  return opts.prog_id;
}

// Sums the decapsulator's counters, reached through the attached program's maps.
bool read_counters(uint32_t prog_id, std::vector<uint64_t>* out) {
  const int fd = bpf_prog_get_fd_by_id(prog_id);
  if (fd < 0) return false;
  uint32_t ids[16] = {};
  bpf_prog_info info{};
  info.nr_map_ids = 16;
  info.map_ids = uint64_t(uintptr_t(ids));
  uint32_t len = sizeof(info);
  const int rc = bpf_obj_get_info_by_fd(fd, &info, &len);
  close(fd);
  if (rc != 0) return false;
  for (uint32_t i = 0; i < std::min<uint32_t>(info.nr_map_ids, 16); ++i) {
    const int mfd = bpf_map_get_fd_by_id(ids[i]);
    if (mfd < 0) continue;
    bpf_map_info minfo{};
    uint32_t mlen = sizeof(minfo);
    if (bpf_obj_get_info_by_fd(mfd, &minfo, &mlen) == 0 &&
        std::strcmp(minfo.name, "lvs_rs_stats") == 0) {
      const int ncpu = libbpf_num_possible_cpus();
      std::vector<uint64_t> per_cpu(ncpu > 0 ? size_t(ncpu) : 1);
      out->assign(LVS_RS_STAT_MAX, 0);
      for (uint32_t k = 0; k < LVS_RS_STAT_MAX; ++k) {
        if (bpf_map_lookup_elem(mfd, &k, per_cpu.data()) != 0) continue;
        for (uint64_t v : per_cpu) (*out)[k] += v;
      }
      close(mfd);
      return true;
    }
    close(mfd);
  }
  return false;
}

std::string counters_line(const std::vector<uint64_t>& c) {
  static const char* const kNames[LVS_RS_STAT_MAX] = {
      "parsed",      "not_tunnel",  "truncated",   "outer_ip",  "fragment", "udp",
      "gue_version", "gue_control", "gue_flags",   "gue_proto", "remcsum",  "gre_flags",
      "gre_proto",   "inner",       "rx",          "not_local", "not_vip",  "decap_ipip",
      "decap_gue",   "decap_gre",   "decap_failed"};
  std::string s;
  for (uint32_t i = 0; i < c.size() && i < LVS_RS_STAT_MAX; ++i) {
    if (i == LVS_RS_STAT_RX || i == LVS_RS_NOT_TUNNEL || i == LVS_RS_DECAP) continue;
    if (c[i] || i >= LVS_RS_STAT_DECAP_IPIP) {
      s += std::string(s.empty() ? "" : " ") + kNames[i] + "=" + std::to_string(c[i]);
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Undo: what --down and a failed set-up both run. Returns false if something could not be
// undone; what is left stays in `s`.

bool undo(Rtnl& nl, State& s) {
  bool ok = true;
  std::string err;
  if (s.tc_attached) {
    std::string name;
    const uint32_t id = tc_slot_program(s.ifindex, s.tc_handle, s.tc_priority, &name);
    if (id == 0) {
      say("warning: no decapsulator found on %s tc ingress (removed by someone else?)",
          s.dev.c_str());
    } else if (name != kProgName) {
      say("warning: %s tc ingress handle 0x%x priority %u holds program '%s', not %s: left alone",
          s.dev.c_str(), s.tc_handle, s.tc_priority, name.c_str(), kProgName);
    } else {
      std::vector<uint64_t> counters;
      if (read_counters(id, &counters)) {
        say("decapsulator on %s: %s", s.dev.c_str(), counters_line(counters).c_str());
      }
      LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = int(s.ifindex), .attach_point = BPF_TC_INGRESS);
      LIBBPF_OPTS(bpf_tc_opts, opts, .handle = s.tc_handle, .priority = s.tc_priority);
      if (int rc = bpf_tc_detach(&hook, &opts)) {
        say("cannot detach the decapsulator from %s: %s", s.dev.c_str(), errstr(rc).c_str());
        ok = false;
      }
    }
    if (ok) s.tc_attached = false;
  }
  if (!s.tc_attached && s.tc_created_clsact) {
    // Made by lvs-rs, but other filters may have been added since: keep it for them.
    int in = 0, out = 0;
    if (!nl.count_filters(s.ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), &in, &err) ||
        !nl.count_filters(s.ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), &out, &err)) {
      say("cannot list %s's tc filters (%s): clsact left in place", s.dev.c_str(), err.c_str());
    } else if (in + out > 0) {
      say("warning: %s's clsact qdisc (made by lvs-rs) now holds %d other filter(s): left in "
          "place",
          s.dev.c_str(), in + out);
    } else {
      LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = int(s.ifindex),
                  .attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
      if (int rc = bpf_tc_hook_destroy(&hook); rc != 0 && rc != -ENOENT) {
        say("cannot remove %s's clsact qdisc: %s", s.dev.c_str(), errstr(rc).c_str());
        ok = false;
      }
    }
    if (ok) s.tc_created_clsact = false;
  }

  const uint32_t lo = if_nametoindex("lo");
  std::vector<std::string> left;
  for (auto it = s.added.rbegin(); it != s.added.rend(); ++it) {
    const std::string& text = *it;
    const size_t slash = text.find('/');
    const auto a = Addr::parse(text.substr(0, slash));
    const int prefix = slash == std::string::npos ? 0 : std::atoi(text.c_str() + slash + 1);
    if (!a || !nl.change_address(false, lo, *a, prefix, &err)) {
      if (a && nl.last_errno() == EADDRNOTAVAIL) {
        say("warning: %s was no longer on lo", text.c_str());
        continue;
      }
      say("cannot remove %s from lo: %s", text.c_str(), err.c_str());
      left.insert(left.begin(), text);
      ok = false;
    }
  }
  s.added = left;

  std::vector<SysctlChange> kept;
  for (auto it = s.sysctls.rbegin(); it != s.sysctls.rend(); ++it) {
    std::string now;
    if (sysctl_read(it->key, &now, &err) && now != it->value) {
      say("warning: %s is %s, not the %s lvs-rs set; restoring %s", it->key.c_str(), now.c_str(),
          it->value.c_str(), it->previous.c_str());
    }
    if (!sysctl_write(it->key, it->previous, &err)) {
      say("%s", err.c_str());
      kept.insert(kept.begin(), *it);
      ok = false;
    }
  }
  s.sysctls = kept;
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Up

struct Options {
  std::vector<std::string> vips;
  std::string mode;
  std::string tun_type;
  uint32_t tun_port = 0;
  std::string dev;
  bool down = false;
};

struct Plan {
  std::vector<Addr> vips;
  std::string dev;
  uint32_t ifindex = 0;
  lvs_rs_config cfg{};
};

// Checks the options against each other and against the host (interface); throws UsageError.
Plan make_plan(const Options& o, Rtnl& nl) {
  Plan p;
  if (!o.down) {
    if (o.vips.empty()) throw UsageError{"--vip: at least one virtual IP address is required"};
    if (o.mode.empty()) throw UsageError{"--mode: required (dr or tun)"};
  }
  for (const std::string& v : o.vips) {
    const auto a = Addr::parse(v);
    if (!a) throw UsageError{"--vip: not an IPv4 or IPv6 address: " + v};
    if (std::find(p.vips.begin(), p.vips.end(), *a) == p.vips.end()) p.vips.push_back(*a);
  }
  if (o.mode != "tun" && !o.tun_type.empty() && !o.down) {
    throw UsageError{"--tun-type: only with --mode tun"};
  }
  const std::string tun_type = o.tun_type.empty() ? "ipip" : o.tun_type;
  if (o.mode == "tun" && tun_type == "gue" && o.tun_port == 0 && !o.down) {
    throw UsageError{"--tun-port: required with --tun-type gue"};
  }
  if (o.tun_port != 0 && (o.mode != "tun" || tun_type != "gue") && !o.down) {
    throw UsageError{"--tun-port: only with --tun-type gue"};
  }
  p.cfg.tun_mask = tun_type == "ipip"  ? LVS_RS_TUN_IPIP
                   : tun_type == "gue" ? LVS_RS_TUN_GUE
                                       : LVS_RS_TUN_GRE;
  p.cfg.gue_port = uint16_t(tun_type == "gue" ? o.tun_port : 0);

  p.dev = o.dev;
  if (p.dev.empty()) {
    std::string err;
    uint32_t idx = 0;
    if (!nl.default_route_ifindex(&idx, &err)) throw UsageError{"--dev: " + err};
    char name[IF_NAMESIZE] = {};
    if (idx == 0 || !if_indextoname(idx, name)) {
      throw UsageError{"--dev: no default route to take the interface from; name it"};
    }
    p.dev = name;
  }
  if (p.dev == "lo") throw UsageError{"--dev: the interface towards the director, not lo"};
  p.ifindex = if_nametoindex(p.dev.c_str());
  if (p.ifindex == 0) throw UsageError{"--dev: no such interface: " + p.dev};
  return p;
}

int up(const Options& o, Rtnl& nl, const Plan& p) {
  std::string err;
  const fs::path path = state_file(p.dev);
  std::error_code ec;
  if (fs::exists(path, ec)) {
    say("%s is already set up (state in %s): run lvs-rs --down first", p.dev.c_str(), path.c_str());
    return 1;
  }
  const uint32_t lo = if_nametoindex("lo");
  std::vector<IfAddr> on_lo, on_dev;
  if (!nl.addresses(lo, &on_lo, &err) || !nl.addresses(p.ifindex, &on_dev, &err)) {
    say("%s", err.c_str());
    return 1;
  }

  // Everything that can fail without touching the host comes first.
  const bool tun = o.mode == "tun";
  ObjectPtr obj;
  std::vector<Addr> local;
  if (tun) {
    for (const IfAddr& a : on_dev) local.push_back(a.addr);
    if (local.empty()) {
      say("%s has no address: the director's tunnels would have nowhere to arrive", p.dev.c_str());
      return 1;
    }
    obj = load_decapsulator(&err);
    if (!obj || !fill_maps(obj.get(), p.cfg, local, p.vips, &err)) {
      say("%s", err.c_str());
      return 1;
    }
  }

  State s;
  s.dev = p.dev;
  s.ifindex = p.ifindex;
  s.mode = o.mode;
  if (tun) {
    s.tun_type = o.tun_type.empty() ? "ipip" : o.tun_type;
    s.tun_port = p.cfg.gue_port;
  }
  for (const Addr& a : p.vips) s.vips.push_back(a.str());
  if (!save_state(s, &err)) {
    say("%s", err.c_str());
    return 1;
  }

  auto fail = [&](const std::string& what) {
    say("%s; undoing what was done", what.c_str());
    if (undo(nl, s)) {
      fs::remove(path, ec);
    } else {
      save_state(s, &err);
      say("could not undo everything: what is left is recorded in %s", path.c_str());
    }
    return 1;
  };

  // Sysctls: ARP for DR and TUN, reverse path filter for TUN.
  std::vector<std::pair<std::string, std::string>> want;
  for (const std::string& dev : {std::string("all"), std::string("lo"), p.dev}) {
    want.push_back({"net/ipv4/conf/" + dev + "/arp_ignore", "1"});
    want.push_back({"net/ipv4/conf/" + dev + "/arp_announce", "2"});
  }
  if (tun) {
    want.push_back({"net/ipv4/conf/all/rp_filter", "0"});
    want.push_back({"net/ipv4/conf/" + p.dev + "/rp_filter", "0"});
  }
  for (const auto& [key, value] : want) {
    std::string now;
    if (!sysctl_read(key, &now, &err)) return fail(err);
    if (now == value) continue;
    if (!sysctl_write(key, value, &err)) return fail(err);
    s.sysctls.push_back({key, now, value});
    if (!save_state(s, &err)) return fail(err);
  }

  // VIPs on lo.
  for (const Addr& v : p.vips) {
    const bool present =
        std::any_of(on_lo.begin(), on_lo.end(), [&](const IfAddr& a) { return a.addr == v; });
    if (present) {
      s.vips_present.push_back(v.str());
      continue;
    }
    if (!nl.change_address(true, lo, v, v.host_prefix(), &err)) {
      return fail("cannot add " + v.str() + " to lo: " + err);
    }
    s.added.push_back(v.str() + "/" + std::to_string(v.host_prefix()));
    if (!save_state(s, &err)) return fail(err);
  }

  // The decapsulator.
  if (tun) {
    std::string name;
    if (tc_slot_program(p.ifindex, kTcHandle, kTcPriority, &name) != 0 && name != kProgName) {
      return fail(p.dev + " tc ingress handle 0x7273 priority 1 is taken by program '" + name +
                  "'");
    }
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = int(p.ifindex), .attach_point = BPF_TC_INGRESS);
    int rc = bpf_tc_hook_create(&hook);
    if (rc != 0 && rc != -EEXIST) {
      return fail("cannot create the clsact qdisc on " + p.dev + ": " + errstr(rc));
    }
    s.tc_created_clsact = rc == 0;
    if (!save_state(s, &err)) return fail(err);
    bpf_program* prog = bpf_object__find_program_by_name(obj.get(), kProgName);
    LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog ? bpf_program__fd(prog) : -1,
                .flags = BPF_TC_F_REPLACE, .handle = kTcHandle, .priority = kTcPriority);
    rc = bpf_tc_attach(&hook, &opts);
    if (rc != 0) return fail("cannot attach the decapsulator to " + p.dev + ": " + errstr(rc));
    s.tc_attached = true;
    for (const Addr& a : local) s.decap_local.push_back(a.str());
    if (!save_state(s, &err)) return fail(err);
  }

  std::string vips;
  for (const Addr& v : p.vips) {
    const bool had =
        std::find(s.vips_present.begin(), s.vips_present.end(), v.str()) != s.vips_present.end();
    vips += (vips.empty() ? "" : ", ") + v.str() + (had ? " (already there)" : "");
  }
  std::string mode = o.mode;
  if (tun) {
    mode += " " + s.tun_type;
    if (s.tun_port) mode += " port " + std::to_string(s.tun_port);
  }
  say("%s up (%s): VIPs on lo: %s; %zu sysctl(s) changed%s; state in %s", p.dev.c_str(),
      mode.c_str(), vips.c_str(), s.sysctls.size(), tun ? "; decapsulator on tc ingress" : "",
      path.c_str());
  return 0;
}

int down(const Options& o, Rtnl& nl, const Plan& p) {
  const fs::path path = state_file(p.dev);
  std::ifstream in(path);
  if (!in) {
    say("--down: no state file %s: lvs-rs has not set up %s (or --dev/LVS_RS_STATE_DIR differ)",
        path.c_str(), p.dev.c_str());
    return 1;
  }
  State s;
  try {
    s = State::from_json(json::parse(in));
  } catch (const std::exception& e) {
    say("--down: cannot read %s: %s", path.c_str(), e.what());
    return 1;
  }
  if (!o.mode.empty() && o.mode != s.mode) {
    say("warning: --mode %s, but %s was set up in %s mode: undoing that", o.mode.c_str(),
        s.dev.c_str(), s.mode.c_str());
  }
  if (s.ifindex != p.ifindex) {
    say("warning: %s has another index than when it was set up (%u, was %u)", s.dev.c_str(),
        p.ifindex, s.ifindex);
    s.ifindex = p.ifindex;
  }
  const size_t sysctls = s.sysctls.size(), added = s.added.size();
  const bool had_tc = s.tc_attached;
  std::string err;
  if (!undo(nl, s)) {
    if (!save_state(s, &err)) say("%s", err.c_str());
    say("%s: could not undo everything; what is left is recorded in %s", s.dev.c_str(),
        path.c_str());
    return 1;
  }
  std::error_code ec;
  fs::remove(path, ec);
  say("%s down: %zu sysctl(s) restored, %zu address(es) removed from lo%s", s.dev.c_str(), sysctls,
      added, had_tc ? ", decapsulator detached" : "");
  return 0;
}

}  // namespace
}  // namespace lvs::rs

int main(int argc, char** argv) {
  using namespace lvs::rs;
  CLI::App app{
      "lvs-rs: set up (or, with --down, undo) a real server for an LVS director's VS/DR or "
      "VS/TUN"};
  Options o;
  app.add_option("--vip", o.vips, "virtual IP address (repeatable), IPv4 or IPv6")
      ->type_name("ADDR");
  app.add_option("--mode", o.mode, "forwarding method the director uses for this server")
      ->check(CLI::IsMember({"dr", "tun"}));
  app.add_option("--tun-type", o.tun_type, "tunnel type (tun mode; default ipip)")
      ->check(CLI::IsMember({"ipip", "gue", "gre"}));
  app.add_option("--tun-port", o.tun_port, "GUE's UDP port (with --tun-type gue)")
      ->check(CLI::Range(1, 65535));
  app.add_option("--dev", o.dev,
                 "interface towards the director (default: that of the default route)")
      ->type_name("IFACE");
  app.add_flag("--down", o.down, "undo what lvs-rs did on this interface");
  app.set_version_flag("-V,--version", std::string("lvs-rs ") + LVS_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    say("%s", e.what());
    std::fprintf(stderr, "Run with --help for more information.\n");
    return 2;
  }
  libbpf_set_print(libbpf_print);

  Rtnl nl;
  std::string err;
  if (!nl.open(&err)) {
    say("%s", err.c_str());
    return 1;
  }
  Plan plan;
  try {
    plan = make_plan(o, nl);
  } catch (const UsageError& e) {
    say("%s", e.message.c_str());
    return 2;
  }
  if (geteuid() != 0) {
    say("needs root (CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN)");
    return 1;
  }
  return o.down ? down(o, nl, plan) : up(o, nl, plan);
}
