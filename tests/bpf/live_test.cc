// lvs's BPF programs attached for real, each test in its own network namespace:
//   - lvs_xdp_main through libxdp in native mode on a veth, alone (no bpffs, as on this host) and
//     behind libxdp's dispatcher (bpffs mounted in a private mount namespace);
//   - the XSKMAP redirect with a bound AF_XDP socket: slot and queue select the socket;
//   - lvs_sock_filter on packet sockets and lvs_tc_steal on tc ingress, with frames sent
//     through a veth pair.
// Namespaces are anonymous (unshare in a thread, or in a forked child), so the kernel removes
// them, their veths and every attachment when the test ends, on any path, even a crash.
// Needs root; skipped otherwise.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bpf_test_util.h"
#include "net/packet_builder.h"

namespace lvs::bpftest {
namespace {

using net::ip;
using net::PacketBuilder;

// Runs `cmd` through the shell; its output goes to the test log. Returns the exit status.
int sh(const std::string& cmd) {
  const int rc = std::system((cmd + " 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

bool have_root_and_ip() { return geteuid() == 0 && sh("command -v ip >/dev/null") == 0; }

// Runs `body` on a thread of its own in a fresh network namespace: commands it starts (ip) and
// sockets it opens live there. The namespace dies with the thread and the body's descriptors.
void in_private_netns(const std::function<void()>& body) {
  std::thread t([&] {
    // Pinned to one CPU: frames sent one after the other are then received in that order.
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
    sched_setaffinity(0, sizeof(one), &one);
    if (unshare(CLONE_NEWNET) != 0) {
      ADD_FAILURE() << "unshare(CLONE_NEWNET): " << std::strerror(errno);
      return;
    }
    body();
  });
  t.join();
}

struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

struct XdpProgramCloser {
  void operator()(xdp_program* p) const { xdp_program__close(p); }
};
using XdpProgramPtr = std::unique_ptr<xdp_program, XdpProgramCloser>;

// Which XDP program is attached to `ifindex`, and how.
struct XdpQuery {
  int err = 0;
  uint8_t mode = XDP_ATTACHED_NONE;
  uint32_t prog_id = 0;
};
XdpQuery query_xdp(int ifindex) {
  LIBBPF_OPTS(bpf_xdp_query_opts, opts);
  XdpQuery q;
  q.err = bpf_xdp_query(ifindex, 0, &opts);
  q.mode = opts.attach_mode;
  q.prog_id = opts.drv_prog_id;
  return q;
}

std::string prog_name(uint32_t id) {
  Fd fd(bpf_prog_get_fd_by_id(id));
  if (fd.fd < 0) return "?";
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd.fd, &info, &len) != 0) return "?";
  return info.name;
}

// ---------------------------------------------------------------------------------------------
// XDP attachment

TEST(LiveXdp, AttachesNativeOnVeth) {
  if (!have_root_and_ip()) GTEST_SKIP() << "needs root and iproute2";
  in_private_netns([] {
    ASSERT_EQ(sh("ip link add lvsb0 type veth peer name lvsb1 && ip link set lvsb0 up && "
                 "ip link set lvsb1 up"),
              0);
    const int ifindex = int(if_nametoindex("lvsb0"));
    ASSERT_GT(ifindex, 0);

    xdp_program* raw = xdp_program__open_file(LVS_BPF_XDP_OBJECT, "xdp", nullptr);
    ASSERT_EQ(libxdp_get_error(raw), 0) << "xdp_program__open_file";
    XdpProgramPtr prog(raw);
    ASSERT_EQ(xdp_program__attach(prog.get(), ifindex, XDP_MODE_NATIVE, 0), 0)
        << "native attach (verifier log above, if any)";

    const XdpQuery q = query_xdp(ifindex);
    ASSERT_EQ(q.err, 0);
    EXPECT_EQ(q.mode, XDP_ATTACHED_DRV);
    EXPECT_NE(q.prog_id, 0u);
    // Without a bpffs libxdp loads the program alone (no dispatcher).
    EXPECT_EQ(prog_name(q.prog_id), "lvs_xdp_main");

    // What the verifier made of it, for the record.
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    Fd pfd(bpf_prog_get_fd_by_id(q.prog_id));
    if (pfd.fd >= 0 && bpf_obj_get_info_by_fd(pfd.fd, &info, &len) == 0) {
      ::testing::Test::RecordProperty("xlated_insns", int(info.xlated_prog_len / 8));
      ::testing::Test::RecordProperty("verified_insns", int(info.verified_insns));
      std::printf("lvs_xdp_main: %u instructions, %u verified\n", info.xlated_prog_len / 8,
                  info.verified_insns);
    }

    EXPECT_EQ(xdp_program__detach(prog.get(), ifindex, XDP_MODE_NATIVE, 0), 0);
    EXPECT_EQ(query_xdp(ifindex).mode, XDP_ATTACHED_NONE);
  });
}

// libxdp uses its dispatcher when a bpffs is mounted (as on most hosts): lvs_xdp_main then runs
// as an extension (freplace) of the dispatcher, which the verifier checks anew. Runs in a forked
// child with its own mount and network namespaces; the child reports the first failure on
// stderr and in its exit code.
// libxdp's messages, kept to tell "this kernel cannot run libxdp's dispatcher at all" (its own
// compatibility check fails, before our program is involved) from a failure of ours.
std::string g_libxdp_log;
int capture_libxdp(libxdp_print_level, const char* fmt, va_list args) {
  char buf[512];
  va_list copy;
  va_copy(copy, args);
  std::vsnprintf(buf, sizeof(buf), fmt, copy);
  va_end(copy);
  g_libxdp_log += buf;
  return std::vfprintf(stderr, fmt, args);
}
constexpr int kChildSkip = 77;

std::string attach_through_dispatcher() {
  if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) return std::string("unshare: ") + strerror(errno);
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return std::string("make / private: ") + strerror(errno);
  }
  if (mount("bpf", "/sys/fs/bpf", "bpf", 0, nullptr) != 0) {
    return std::string("mount bpffs: ") + strerror(errno);
  }
  if (sh("ip link add lvsb0 type veth peer name lvsb1 && ip link set lvsb0 up && "
         "ip link set lvsb1 up") != 0) {
    return "ip link add";
  }
  const int ifindex = int(if_nametoindex("lvsb0"));
  xdp_program* prog = xdp_program__open_file(LVS_BPF_XDP_OBJECT, "xdp", nullptr);
  if (libxdp_get_error(prog)) return "xdp_program__open_file";
  XdpProgramPtr owned(prog);
  if (int err = xdp_program__attach(prog, ifindex, XDP_MODE_NATIVE, 0); err != 0) {
    return std::string("attach: ") + strerror(-err);
  }
  xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
  if (libxdp_get_error(mp) || !mp) return "xdp_multiprog__get_from_ifindex";
  std::string problem;
  if (xdp_multiprog__is_legacy(mp)) {
    const bool env =
        g_libxdp_log.find("Compatibility check for dispatcher program failed") != std::string::npos;
    problem = env ? "skip" : "loaded without the dispatcher";
  } else if (xdp_multiprog__attach_mode(mp) != XDP_MODE_NATIVE) {
    problem = "not in native mode";
  } else {
    xdp_program* first = xdp_multiprog__next_prog(nullptr, mp);
    if (!first || std::string(xdp_program__name(first)) != "lvs_xdp_main") {
      problem = "lvs_xdp_main is not the dispatcher's program";
    }
  }
  xdp_multiprog__close(mp);
  if (int err = xdp_program__detach(prog, ifindex, XDP_MODE_NATIVE, 0); err != 0) {
    return std::string("detach: ") + strerror(-err);
  }
  if (query_xdp(ifindex).mode != XDP_ATTACHED_NONE) return "still attached after detach";
  return problem;
}

TEST(LiveXdp, AttachesThroughLibxdpDispatcher) {
  if (!have_root_and_ip()) GTEST_SKIP() << "needs root and iproute2";
  std::fflush(nullptr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0) << "fork";
  if (pid == 0) {
    libxdp_set_print(capture_libxdp);
    const std::string problem = attach_through_dispatcher();
    if (!problem.empty()) std::fprintf(stderr, "dispatcher attach: %s\n", problem.c_str());
    std::fflush(nullptr);
    _exit(problem.empty() ? 0 : problem == "skip" ? kChildSkip : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child died with signal " << WTERMSIG(status);
  if (WEXITSTATUS(status) == kChildSkip) {
    GTEST_SKIP() << "libxdp's dispatcher cannot run here (its own freplace compatibility check "
                    "failed); lvs_xdp_main was loaded alone instead";
  }
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see the child's message above";
}

// ---------------------------------------------------------------------------------------------
// XSKMAP redirect: slot from lvs_ifaces, queue from the context, socket from lvs_xsks

class Umem {
 public:
  bool create() {
    area_ = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area_ == MAP_FAILED) {
      area_ = nullptr;
      return false;
    }
    return xsk_umem__create(&umem_, area_, kSize, &fill_, &comp_, nullptr) == 0;
  }
  xsk_umem* get() { return umem_; }
  ~Umem() {
    if (umem_) xsk_umem__delete(umem_);
    if (area_) munmap(area_, kSize);
  }

 private:
  static constexpr size_t kSize = 4096 * 64;
  void* area_ = nullptr;
  xsk_umem* umem_ = nullptr;
  xsk_ring_prod fill_{};
  xsk_ring_cons comp_{};
};

TEST(LiveXdp, RedirectPicksSocketBySlotAndQueue) {
  if (!have_root_and_ip()) GTEST_SKIP() << "needs root and iproute2";
  in_private_netns([] {
    // 66 queues, so a frame can arrive on queue 64 (past LVS_MAX_QUEUES).
    ASSERT_EQ(sh("ip link add lvsb0 numtxqueues 66 numrxqueues 66 type veth peer name lvsb1 "
                 "numtxqueues 66 numrxqueues 66"),
              0);
    const uint32_t if0 = if_nametoindex("lvsb0"), if1 = if_nametoindex("lvsb1");
    ASSERT_GT(if0, 0u);
    ASSERT_GT(if1, 0u);

    std::string error;
    ObjectPtr obj = load_object(LVS_BPF_XDP_OBJECT, &error);
    ASSERT_TRUE(obj) << error;
    const int prog = prog_fd(obj.get(), "lvs_xdp_main");
    const int stats = map_fd(obj.get(), "lvs_stats");
    const int xsks = map_fd(obj.get(), "lvs_xsks");
    const int ifaces = map_fd(obj.get(), "lvs_ifaces");
    const net::IpAddr vip = ip("198.18.2.100"), client = ip("198.18.0.1"), rs = ip("198.18.1.11");
    ASSERT_EQ(put_endpoint(map_fd(obj.get(), "lvs_services"), endpoint(net::kProtoTcp, vip, 80)),
              0);
    ASSERT_EQ(put_endpoint(map_fd(obj.get(), "lvs_backends"), endpoint(net::kProtoTcp, rs, 80)), 0);

    Umem umem;
    ASSERT_TRUE(umem.create()) << "UMEM: " << std::strerror(errno);
    xsk_socket_config cfg{};
    cfg.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS;
    cfg.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS;
    cfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
    cfg.bind_flags = XDP_COPY;
    xsk_socket* xsk = nullptr;
    xsk_ring_cons rx{};
    ASSERT_EQ(xsk_socket__create(&xsk, "lvsb0", 0, umem.get(), &rx, nullptr, &cfg), 0)
        << "AF_XDP socket";
    std::unique_ptr<xsk_socket, void (*)(xsk_socket*)> xsk_owner(xsk, xsk_socket__delete);
    const int xsk_fd = xsk_socket__fd(xsk);

    // lvsb0 is slot 1. The same socket also sits where a program that ignored lvs_ifaces
    // (index 0) or the queue bound (slot 1, queue 64 -> index 128) would look.
    const lvs_iface slot1{1, 0};
    ASSERT_EQ(bpf_map_update_elem(ifaces, &if0, &slot1, BPF_ANY), 0);
    for (uint32_t index : {1u * LVS_MAX_QUEUES + 0, 0u, 2u * LVS_MAX_QUEUES + 0}) {
      ASSERT_EQ(bpf_map_update_elem(xsks, &index, &xsk_fd, BPF_ANY), 0) << "index " << index;
    }

    const Bytes to_vip = PacketBuilder().ipv4(client, vip).tcp(40000, 80, net::kTcpSyn).build();
    const Bytes other = PacketBuilder().ipv4(client, vip).tcp(40000, 81, net::kTcpSyn).build();
    const Bytes reply = PacketBuilder().ipv4(rs, client).tcp(80, 40000, net::kTcpAck).build();
    struct Step {
      const char* what;
      const Bytes* frame;
      uint32_t ifindex, queue;
      uint32_t retval;
      Stats delta;  // rx, service, backend, pass, no_socket
    };
    const Step steps[] = {
        {"service, slot 1 queue 0", &to_vip, if0, 0, XDP_REDIRECT, {1, 1, 0, 0, 0}},
        {"backend reply, slot 1 queue 0", &reply, if0, 0, XDP_REDIRECT, {1, 0, 1, 0, 0}},
        {"not ours, slot 1 queue 0", &other, if0, 0, XDP_PASS, {1, 0, 0, 1, 0}},
        {"service, slot 1 queue 1: no socket", &to_vip, if0, 1, XDP_PASS, {1, 1, 0, 0, 1}},
        {"service, queue 64 >= LVS_MAX_QUEUES", &to_vip, if0, 64, XDP_PASS, {1, 1, 0, 0, 1}},
        {"service on an interface without slot", &to_vip, if1, 0, XDP_PASS, {1, 1, 0, 0, 1}},
    };
    for (const Step& s : steps) {
      SCOPED_TRACE(s.what);
      xdp_md ctx{};
      ctx.data_end = uint32_t(s.frame->size());
      ctx.ingress_ifindex = s.ifindex;
      ctx.rx_queue_index = s.queue;
      const Stats before = read_stats(stats);
      const RunResult r = test_run(prog, *s.frame, &ctx, sizeof(ctx));
      ASSERT_EQ(r.err, 0) << std::strerror(-r.err);
      EXPECT_EQ(r.retval, s.retval);
      EXPECT_EQ(stats_delta(before, read_stats(stats)), s.delta);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// AF_PACKET backend: socket filter and tc steal on a veth pair

// A packet socket on `ifindex`. With `filter_fd` >= 0: the filter is attached before the socket
// starts receiving (ETH_P_ALL), so nothing unfiltered is ever queued. Without: send only.
int packet_socket(uint32_t ifindex, int filter_fd) {
  const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (filter_fd >= 0 &&
      setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &filter_fd, sizeof(filter_fd)) != 0) {
    ::close(fd);
    return -1;
  }
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = int(ifindex);
  sll.sll_protocol = filter_fd >= 0 ? htons(ETH_P_ALL) : 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_frame(int fd, uint32_t ifindex, const Bytes& frame) {
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = int(ifindex);
  to.sll_halen = ETH_ALEN;
  std::memcpy(to.sll_addr, frame.data(), ETH_ALEN);
  return sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) ==
         ssize_t(frame.size());
}

// The next datagram or frame on `fd` within `timeout_ms`; empty if none.
Bytes receive(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) != 1) return {};
  Bytes buf(2048);
  const ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
  buf.resize(n > 0 ? size_t(n) : 0);
  return buf;
}

net::MacAddr mac_of(const char* ifname) {
  net::MacAddr m;
  Fd s(socket(AF_INET, SOCK_DGRAM, 0));
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
  if (ioctl(s.fd, SIOCGIFHWADDR, &ifr) == 0) std::memcpy(m.bytes.data(), ifr.ifr_hwaddr.sa_data, 6);
  return m;
}

int udp_socket(const net::IpAddr& addr, uint16_t port) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  std::memcpy(&sin.sin_addr, addr.data(), 4);
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(LiveAfPacket, FilterAdmitsOursAndTcStealsIt) {
  if (!have_root_and_ip()) GTEST_SKIP() << "needs root and iproute2";
  in_private_netns([] {
    //   frames from "198.18.0.1" -> lvsb0 ---- veth ---- lvsb1 198.18.0.2/24
    //   services: udp 198.18.0.2:53 (local to lvsb1), udp 198.18.0.3:53 (not local anywhere)
    // lvsb0 has no address, so the client address is not local (it would be a martian source).
    ASSERT_EQ(sh("ip link add lvsb0 type veth peer name lvsb1 && "
                 "ip addr add 198.18.0.2/24 dev lvsb1 && "
                 "ip link set lvsb0 up && ip link set lvsb1 up"),
              0);
    const uint32_t if0 = if_nametoindex("lvsb0"), if1 = if_nametoindex("lvsb1");
    const net::MacAddr mac0 = mac_of("lvsb0"), mac1 = mac_of("lvsb1");
    const net::IpAddr a0 = ip("198.18.0.1"), a1 = ip("198.18.0.2");  // a0: the client

    std::string error;
    ObjectPtr obj = load_object(LVS_BPF_STEAL_OBJECT, &error);
    ASSERT_TRUE(obj) << error;
    const int filter = prog_fd(obj.get(), "lvs_sock_filter");
    const int steal = prog_fd(obj.get(), "lvs_tc_steal");
    const int stats = map_fd(obj.get(), "lvs_stats");
    const net::IpAddr a3 = ip("198.18.0.3");
    for (const net::IpAddr& a : {a1, a3}) {
      ASSERT_EQ(put_endpoint(map_fd(obj.get(), "lvs_services"), endpoint(net::kProtoUdp, a, 53)),
                0);
    }

    auto udp_frame = [&](const net::MacAddr& smac, const net::MacAddr& dmac, const net::IpAddr& dst,
                         uint16_t dport, const char* text, bool tagged = false) {
      PacketBuilder b;
      b.eth(smac, dmac);
      if (tagged) b.vlan(100);
      return b.ipv4(a0, dst).udp(40000, dport).payload(text).build();
    };
    const Bytes svc = udp_frame(mac0, mac1, a1, 53, "svc");
    const Bytes nonsvc = udp_frame(mac0, mac1, a1, 54, "nonsvc");
    const Bytes tagged = udp_frame(mac0, mac1, a1, 53, "tagged", true);

    Fd tx0(packet_socket(if0, -1)), tx1(packet_socket(if1, -1));
    Fd f0(packet_socket(if0, filter)), f1(packet_socket(if1, filter));
    ASSERT_GE(tx0.fd, 0);
    ASSERT_GE(tx1.fd, 0);
    ASSERT_GE(f0.fd, 0) << "SO_ATTACH_BPF: " << std::strerror(errno);
    ASSERT_GE(f1.fd, 0);
    Fd u53(udp_socket(a1, 53)), u54(udp_socket(a1, 54));
    ASSERT_GE(u53.fd, 0);
    ASSERT_GE(u54.fd, 0);

    // Service frames cut inside the IP header and inside the ports: not ours (BPF_PROG_TEST_RUN
    // refuses to build skbs of the first two, so they are tested here).
    std::vector<Bytes> cut;
    for (size_t len : {20, 33, 37}) cut.emplace_back(svc.begin(), svc.begin() + long(len));

    // 1. Filter: of a non-service frame, a VLAN-tagged service frame, truncated service frames
    //    and a service frame, f1 admits only the last (the kernel untags the VLAN frame into
    //    skb->vlan_tci before the taps).
    ASSERT_TRUE(send_frame(tx0.fd, if0, nonsvc));
    ASSERT_TRUE(send_frame(tx0.fd, if0, tagged));
    for (const Bytes& f : cut) ASSERT_TRUE(send_frame(tx0.fd, if0, f));
    ASSERT_TRUE(send_frame(tx0.fd, if0, svc));
    EXPECT_EQ(receive(f1.fd, 2000), svc) << "f1 must admit the service frame, and only it";
    EXPECT_TRUE(receive(f1.fd, 200).empty()) << "f1 admitted a second frame";
    // No tc program yet: the kernel delivers the service datagram too.
    EXPECT_EQ(receive(u53.fd, 2000).size(), 3u) << "kernel should deliver without tc steal";
    EXPECT_EQ(receive(u54.fd, 2000).size(), 6u);

    // 2. f0 saw those three leave lvsb0 (PACKET_OUTGOING) and must have refused them; a
    //    service frame arriving on lvsb0 is admitted.
    const Bytes svc_back = udp_frame(mac1, mac0, a3, 53, "back");
    ASSERT_TRUE(send_frame(tx1.fd, if1, svc_back));
    EXPECT_EQ(receive(f0.fd, 2000), svc_back) << "f0 admitted an outgoing frame";

    // 3. tc steal on lvsb1 ingress: the service frame still reaches f1 (taps run before tc
    //    ingress) but no longer the kernel; other traffic is untouched.
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = int(if1), .attach_point = BPF_TC_INGRESS);
    ASSERT_EQ(bpf_tc_hook_create(&hook), 0);
    LIBBPF_OPTS(bpf_tc_opts, tc, .prog_fd = steal);
    ASSERT_EQ(bpf_tc_attach(&hook, &tc), 0);
    const Stats before = read_stats(stats);
    for (const Bytes& f : cut) ASSERT_TRUE(send_frame(tx0.fd, if0, f));
    ASSERT_TRUE(send_frame(tx0.fd, if0, tagged));  // untagged by the kernel: vlan_present
    ASSERT_TRUE(send_frame(tx0.fd, if0, svc));
    ASSERT_TRUE(send_frame(tx0.fd, if0, nonsvc));
    EXPECT_EQ(receive(f1.fd, 2000), svc) << "the packet tap must see the frame before tc";
    EXPECT_EQ(receive(u54.fd, 2000).size(), 6u) << "tc stole a frame that is not ours";
    EXPECT_TRUE(receive(u53.fd, 200).empty()) << "the kernel got a frame tc should have stolen";
    const Stats delta = stats_delta(before, read_stats(stats));
    EXPECT_EQ(delta[LVS_STAT_SERVICE], 1u);
    EXPECT_EQ(delta[LVS_STAT_BACKEND], 0u);
    EXPECT_GE(delta[LVS_STAT_PASS], 2u + cut.size());
    EXPECT_EQ(delta[LVS_STAT_RX], delta[LVS_STAT_SERVICE] + delta[LVS_STAT_PASS]);
    LIBBPF_OPTS(bpf_tc_opts, detach, .handle = tc.handle, .priority = tc.priority);
    EXPECT_EQ(bpf_tc_detach(&hook, &detach), 0);
    hook.attach_point = bpf_tc_attach_point(BPF_TC_INGRESS | BPF_TC_EGRESS);
    EXPECT_EQ(bpf_tc_hook_destroy(&hook), 0);
  });
}

}  // namespace
}  // namespace lvs::bpftest
