// lvs-inject: writes raw Ethernet frames, well formed or deliberately broken, on one interface
// through an AF_PACKET socket. The end-to-end tests use it to send the director frames that no
// real client produces (bad checksums, truncated headers, ...) and then check that each lands
// under its own drop reason.
//
//   lvs-inject --list
//   lvs-inject -i r-dir --dst-mac 02:..:01 [-n 10] [--src 198.18.0.1] [--dst 198.18.2.100]
//              [--src6 2001:2::1] [--dst6 2001:2:2::100] [--sport 40000] [--dport 80] KIND...
//   lvs-inject --probe-af-xdp          exit 0 when the kernel has AF_XDP sockets, 1 when not
//
// Every frame is built with net::PacketBuilder and then damaged byte by byte; before anything
// is sent, each frame is parsed again with net::parse_packet and must yield the parse status
// its kind promises, so the tool cannot silently send something else than it claims.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "net/bytes.h"
#include "net/checksum.h"
#include "net/crc32c.h"
#include "net/headers.h"
#include "net/packet_builder.h"
#include "net/parse.h"

namespace {

using lvs::net::IpAddr;
using lvs::net::MacAddr;
using lvs::net::PacketBuilder;
using lvs::net::ParseStatus;
using Frame = std::vector<uint8_t>;

constexpr size_t kL3 = lvs::net::kEthHdrLen;  // IP header offset of an untagged frame
constexpr size_t kL4 = kL3 + lvs::net::kIpv4MinHdrLen;

struct Opts {
  std::string iface;
  MacAddr src_mac{}, dst_mac{};
  bool have_src_mac = false, have_dst_mac = false;
  IpAddr src = lvs::net::ip("198.18.0.1");
  IpAddr dst = lvs::net::ip("198.18.2.100");
  IpAddr src6 = lvs::net::ip("2001:2::1");
  IpAddr dst6 = lvs::net::ip("2001:2:2::100");
  uint16_t sport = 40000;
  uint16_t dport = 80;
  int count = 1;
  int gap_us = 100;
  std::vector<std::string> kinds;
};

// ---- helpers that damage a well-formed IPv4 frame and keep the rest consistent ----

void fix_ip_csum(Frame& f) {
  lvs::net::store_be16(&f[kL3 + 10], 0);
  const size_t ihl = size_t(f[kL3] & 0x0f) * 4;
  lvs::net::store_be16(&f[kL3 + 10], lvs::net::checksum(&f[kL3], ihl));
}

void set_ip_total_len(Frame& f, uint16_t len) {
  lvs::net::store_be16(&f[kL3 + 2], len);
  fix_ip_csum(f);
}

// Recomputes the TCP/UDP checksum of an untagged IPv4 frame over `l4_len` bytes at kL4.
void fix_l4_csum(Frame& f, size_t check_off, size_t l4_len) {
  const IpAddr src = IpAddr::v4(&f[kL3 + 12]);
  const IpAddr dst = IpAddr::v4(&f[kL3 + 16]);
  lvs::net::store_be16(&f[kL4 + check_off], 0);
  uint32_t sum = lvs::net::pseudo_header_sum(src, dst, f[kL3 + 9], uint32_t(l4_len));
  uint16_t c = uint16_t(~lvs::net::csum_fold(lvs::net::csum_partial(&f[kL4], l4_len, sum)));
  lvs::net::store_be16(&f[kL4 + check_off], c);
}

Frame syn(const Opts& o, uint16_t sport) {
  return PacketBuilder()
      .eth(o.src_mac, o.dst_mac)
      .ipv4(o.src, o.dst)
      .tcp(sport, o.dport, lvs::net::kTcpSyn, 1000)
      .build();
}

Frame udp(const Opts& o, uint16_t sport) {
  return PacketBuilder()
      .eth(o.src_mac, o.dst_mac)
      .ipv4(o.src, o.dst)
      .udp(sport, o.dport)
      .payload("lvs-inject")
      .build();
}

Frame syn6(const Opts& o, uint16_t sport) {
  return PacketBuilder()
      .eth(o.src_mac, o.dst_mac)
      .ipv6(o.src6, o.dst6)
      .tcp(sport, o.dport, lvs::net::kTcpSyn, 1000)
      .build();
}

// ---- the catalogue ----

struct Kind {
  const char* name;
  ParseStatus parse;   // what net::parse_packet must say about the frame
  const char* reason;  // the drop reason the engine counts it under ("none": forwarded)
  const char* what;
  std::function<Frame(const Opts&, uint16_t)> build;
};

const std::vector<Kind>& kinds() {
  static const std::vector<Kind> k = {
      {"valid_syn", ParseStatus::kOk, "none", "well-formed TCP SYN to VIP:dport (control)", syn},
      {"bad_ip_checksum", ParseStatus::kBadIpChecksum, "bad_ip_checksum",
       "IPv4 header checksum off by a flipped byte",
       [](const Opts& o, uint16_t sp) {
         Frame f = syn(o, sp);
         f[kL3 + 10] ^= 0xff;
         return f;
       }},
      {"bad_ip_version", ParseStatus::kBadIpVersion, "bad_ip_version",
       "EtherType IPv4 carrying a version-6 header",
       [](const Opts& o, uint16_t sp) {
         Frame f = syn(o, sp);
         f[kL3] = 0x65;
         fix_ip_csum(f);
         return f;
       }},
      {"bad_ihl", ParseStatus::kBadIpHeaderLen, "bad_ip_header_len", "IPv4 IHL 4 (16 bytes)",
       [](const Opts& o, uint16_t sp) {
         Frame f = syn(o, sp);
         f[kL3] = 0x44;
         return f;
       }},
      {"ip_len_too_long", ParseStatus::kBadIpLength, "bad_ip_length",
       "IPv4 total length 20 bytes past the end of the frame",
       [](const Opts& o, uint16_t sp) {
         Frame f = syn(o, sp);
         set_ip_total_len(f, uint16_t(f.size() - kL3 + 20));
         return f;
       }},
      {"ip_len_too_short", ParseStatus::kBadIpLength, "bad_ip_length",
       "IPv4 total length 19, below the header length",
       [](const Opts& o, uint16_t sp) {
         Frame f = syn(o, sp);
         set_ip_total_len(f, 19);
         return f;
       }},
      {"truncated_ip", ParseStatus::kTruncatedL3, "truncated_l3",
       "frame ends 10 bytes into the IPv4 header",
       [](const Opts& o, uint16_t sp) {
         Frame f = syn(o, sp);
         f.resize(kL3 + 10);
         return f;
       }},
      {"truncated_tcp", ParseStatus::kTruncatedL4, "truncated_l4",
       "TCP header cut to 12 bytes (IP length agrees)",
       [](const Opts& o, uint16_t sp) {
         Frame f = syn(o, sp);
         f.resize(kL4 + 12);
         set_ip_total_len(f, 20 + 12);
         return f;
       }},
      {"tcp_doff_short", ParseStatus::kBadL4Header, "bad_l4_header",
       "TCP data offset 4 (16 bytes), checksum correct",
       [](const Opts& o, uint16_t sp) {
         Frame f = syn(o, sp);
         f[kL4 + 12] = 0x40;
         fix_l4_csum(f, lvs::net::TcpView::kCheck, 20);
         return f;
       }},
      {"tcp_doff_long", ParseStatus::kBadL4Header, "bad_l4_header",
       "TCP data offset 15 (60 bytes) in a 20-byte segment",
       [](const Opts& o, uint16_t sp) {
         Frame f = syn(o, sp);
         f[kL4 + 12] = 0xf0;
         fix_l4_csum(f, lvs::net::TcpView::kCheck, 20);
         return f;
       }},
      {"udp_len_too_long", ParseStatus::kBadL4Header, "bad_l4_header",
       "UDP length 10 bytes past the IP payload",
       [](const Opts& o, uint16_t sp) {
         Frame f = udp(o, sp);
         const size_t l4_len = f.size() - kL4;
         lvs::net::store_be16(&f[kL4 + 4], uint16_t(l4_len + 10));
         fix_l4_csum(f, lvs::net::UdpView::kCheck, l4_len);
         return f;
       }},
      {"udp_len_too_short", ParseStatus::kBadL4Header, "bad_l4_header", "UDP length 4 (below 8)",
       [](const Opts& o, uint16_t sp) {
         Frame f = udp(o, sp);
         lvs::net::store_be16(&f[kL4 + 4], 4);
         fix_l4_csum(f, lvs::net::UdpView::kCheck, f.size() - kL4);
         return f;
       }},
      {"fragment", ParseStatus::kFragment, "fragment",
       "first fragment of a TCP SYN (MF set, offset 0)",
       [](const Opts& o, uint16_t sp) {
         Frame f = syn(o, sp);
         lvs::net::store_be16(&f[kL3 + 6], 0x2000);
         f[kL3 + 4] = uint8_t(sp >> 8);  // distinct IP ids: separate reassembly queues
         f[kL3 + 5] = uint8_t(sp);
         fix_ip_csum(f);
         return f;
       }},
      {"vlan_tagged", ParseStatus::kOk, "vlan_tagged",
       "well-formed TCP SYN in an 802.1Q tag (VID 100)",
       [](const Opts& o, uint16_t sp) {
         return PacketBuilder()
             .eth(o.src_mac, o.dst_mac)
             .vlan(100)
             .ipv4(o.src, o.dst)
             .tcp(sp, o.dport, lvs::net::kTcpSyn, 1000)
             .build();
       }},
      {"tcp_ack_no_conn", ParseStatus::kOk, "no_connection",
       "TCP ACK to VIP:dport that belongs to no connection",
       [](const Opts& o, uint16_t sp) {
         return PacketBuilder()
             .eth(o.src_mac, o.dst_mac)
             .ipv4(o.src, o.dst)
             .tcp(sp, o.dport, lvs::net::kTcpAck, 1000, 2000)
             .build();
       }},
      {"sctp", ParseStatus::kOk, "unsupported_l4",
       "SCTP (protocol 132) to the VIP, a transport no service balances",
       [](const Opts& o, uint16_t sp) {
         // A well-formed INIT: common header, then a 20-byte INIT chunk.
         const std::vector<uint8_t> l4 = {
             uint8_t(sp >> 8), uint8_t(sp), uint8_t(o.dport >> 8), uint8_t(o.dport),
             0, 0, 0, 0, 0, 0, 0, 0,                                 // vtag 0, checksum
             1, 0, 0, 20, 0, 0, 0, 1, 0, 1, 0, 0, 0, 10, 0, 10, 0, 0, 0, 1};  // INIT
         Frame f = PacketBuilder().eth(o.src_mac, o.dst_mac).ipv4(o.src, o.dst)
                       .raw_l4(lvs::net::kProtoSctp).payload(l4).build();
         lvs::net::sctp_csum_set(&f[kL4], f.size() - kL4);
         return f;
       }},
      {"no_service_port", ParseStatus::kOk, "no_service",
       "TCP SYN to VIP:dport+1, a port without a service",
       [](const Opts& o, uint16_t sp) {
         Opts p = o;
         p.dport = uint16_t(o.dport + 1);
         return syn(p, sp);
       }},
      {"ipv6_bad_ext", ParseStatus::kBadExtHeader, "bad_ext_header",
       "IPv6 hop-by-hop header whose length runs past the packet",
       [](const Opts& o, uint16_t sp) {
         Frame f = PacketBuilder()
                       .eth(o.src_mac, o.dst_mac)
                       .ipv6(o.src6, o.dst6)
                       .ipv6_ext(lvs::net::kProtoHopByHop, 8)
                       .tcp(sp, o.dport, lvs::net::kTcpSyn, 1000)
                       .build();
         f[kL3 + lvs::net::kIpv6HdrLen + 1] = 10;  // (10 + 1) * 8 = 88 bytes
         return f;
       }},
      {"ipv6_long_ext_chain", ParseStatus::kBadExtHeader, "bad_ext_header",
       "IPv6 with nine destination-options headers before TCP",
       [](const Opts& o, uint16_t sp) {
         PacketBuilder b;
         b.eth(o.src_mac, o.dst_mac).ipv6(o.src6, o.dst6);
         for (int i = 0; i < 9; ++i) b.ipv6_ext(lvs::net::kProtoDstOpts, 8);
         return b.tcp(sp, o.dport, lvs::net::kTcpSyn, 1000).build();
       }},
      {"ipv6_len_too_long", ParseStatus::kBadIpLength, "bad_ip_length",
       "IPv6 payload length 20 bytes past the end of the frame",
       [](const Opts& o, uint16_t sp) {
         Frame f = syn6(o, sp);
         lvs::net::store_be16(&f[kL3 + 4], uint16_t(f.size() - kL3 - lvs::net::kIpv6HdrLen + 20));
         return f;
       }},
      {"ipv6_ext_past_payload", ParseStatus::kBadExtHeader, "bad_ext_header",
       "IPv6 payload length 4 ends inside the hop-by-hop header (the frame has the rest)",
       [](const Opts& o, uint16_t sp) {
         Frame f = PacketBuilder()
                       .eth(o.src_mac, o.dst_mac)
                       .ipv6(o.src6, o.dst6)
                       .ipv6_ext(lvs::net::kProtoHopByHop, 8)
                       .tcp(sp, o.dport, lvs::net::kTcpSyn, 1000)
                       .build();
         lvs::net::store_be16(&f[kL3 + 4], 4);
         return f;
       }},
      {"ipv6_truncated", ParseStatus::kTruncatedL3, "truncated_l3",
       "frame ends 20 bytes into the IPv6 header",
       [](const Opts& o, uint16_t sp) {
         Frame f = syn6(o, sp);
         f.resize(kL3 + 20);
         return f;
       }},
  };
  return k;
}

const Kind* find_kind(std::string_view name) {
  for (const auto& k : kinds()) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "lvs-inject: %s\n", msg.c_str());
  std::exit(2);
}

void usage() {
  std::fprintf(stderr,
               "usage: lvs-inject -i IFACE --dst-mac MAC [--src-mac MAC] [-n COUNT] [--gap-us N]\n"
               "                  [--src IP] [--dst IP] [--src6 IP6] [--dst6 IP6]\n"
               "                  [--sport PORT] [--dport PORT] KIND...\n"
               "       lvs-inject --list\n"
               "       lvs-inject --probe-af-xdp\n");
  std::exit(2);
}

std::optional<MacAddr> iface_mac(int fd, const std::string& name) {
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) return std::nullopt;
  MacAddr m;
  std::memcpy(m.bytes.data(), ifr.ifr_hwaddr.sa_data, 6);
  return m;
}

Opts parse_args(int argc, char** argv) {
  Opts o;
  auto need = [&](int& i) -> std::string_view {
    if (i + 1 >= argc) usage();
    return argv[++i];
  };
  auto addr = [](std::string_view s) {
    auto a = IpAddr::parse(s);
    if (!a) die("bad address: " + std::string(s));
    return *a;
  };
  auto num = [](std::string_view s, long lo, long hi) {
    char* end = nullptr;
    const std::string str(s);
    long v = std::strtol(str.c_str(), &end, 10);
    if (end == str.c_str() || *end != '\0' || v < lo || v > hi) die("bad number: " + str);
    return v;
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-i" || a == "--iface") {
      o.iface = need(i);
    } else if (a == "--src-mac" || a == "--dst-mac") {
      auto m = MacAddr::parse(need(i));
      if (!m) die("bad MAC: " + std::string(argv[i]));
      (a == "--src-mac" ? o.src_mac : o.dst_mac) = *m;
      (a == "--src-mac" ? o.have_src_mac : o.have_dst_mac) = true;
    } else if (a == "--src") {
      o.src = addr(need(i));
    } else if (a == "--dst") {
      o.dst = addr(need(i));
    } else if (a == "--src6") {
      o.src6 = addr(need(i));
    } else if (a == "--dst6") {
      o.dst6 = addr(need(i));
    } else if (a == "--sport") {
      o.sport = uint16_t(num(need(i), 1, 65535));
    } else if (a == "--dport") {
      o.dport = uint16_t(num(need(i), 1, 65534));
    } else if (a == "-n" || a == "--count") {
      o.count = int(num(need(i), 1, 100000));
    } else if (a == "--gap-us") {
      o.gap_us = int(num(need(i), 0, 1000000));
    } else if (!a.empty() && a[0] == '-') {
      usage();
    } else {
      if (!find_kind(a)) die("unknown kind: " + std::string(a) + " (see --list)");
      o.kinds.emplace_back(a);
    }
  }
  if (!o.src.is_v4() || !o.dst.is_v4() || !o.src6.is_v6() || !o.dst6.is_v6()) {
    die("--src/--dst take IPv4 addresses, --src6/--dst6 IPv6 ones");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--list") {
    for (const auto& k : kinds()) std::printf("%-22s %-18s %s\n", k.name, k.reason, k.what);
    return 0;
  }
  if (argc == 2 && std::string_view(argv[1]) == "--probe-af-xdp") {
    int fd = socket(44 /* AF_XDP */, SOCK_RAW, 0);
    if (fd < 0) {
      std::fprintf(stderr, "lvs-inject: no AF_XDP sockets: %s\n", std::strerror(errno));
      return 1;
    }
    close(fd);
    return 0;
  }
  Opts o = parse_args(argc, argv);
  if (o.iface.empty() || !o.have_dst_mac || o.kinds.empty()) usage();

  const int fd = socket(AF_PACKET, SOCK_RAW, 0);  // protocol 0: send only, receives nothing
  if (fd < 0) die(std::string("socket(AF_PACKET): ") + std::strerror(errno));
  const unsigned ifindex = if_nametoindex(o.iface.c_str());
  if (ifindex == 0) die("no interface " + o.iface);
  if (!o.have_src_mac) {
    auto m = iface_mac(fd, o.iface);
    if (!m) die("cannot read the MAC of " + o.iface);
    o.src_mac = *m;
  }
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = int(ifindex);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
    die(std::string("bind: ") + std::strerror(errno));
  }

  // Build everything first, so a frame that does not parse as promised sends nothing at all.
  std::vector<std::pair<const Kind*, std::vector<Frame>>> plan;
  for (const auto& name : o.kinds) {
    const Kind* k = find_kind(name);
    std::vector<Frame> frames;
    for (int i = 0; i < o.count; ++i) {
      Frame f = k->build(o, uint16_t(o.sport + i));
      const auto parsed = lvs::net::parse_packet(f.data(), f.size());
      if (parsed.status != k->parse) {
        die(std::string(k->name) + ": frame parses as " +
            std::string(lvs::net::parse_status_name(parsed.status)) + ", expected " +
            std::string(lvs::net::parse_status_name(k->parse)));
      }
      frames.push_back(std::move(f));
    }
    plan.emplace_back(k, std::move(frames));
  }

  for (const auto& [k, frames] : plan) {
    for (const auto& f : frames) {
      if (send(fd, f.data(), f.size(), 0) != ssize_t(f.size())) {
        die(std::string(k->name) + ": send: " + std::strerror(errno));
      }
      if (o.gap_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(o.gap_us));
    }
    std::printf("%s reason=%s sent=%zu\n", k->name, k->reason, frames.size());
  }
  close(fd);
  return 0;
}
