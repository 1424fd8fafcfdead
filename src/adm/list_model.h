// What an ipvsadm listing shows, as plain data: the IPVS table (services and their real servers),
// the connection entries (-c), the timeouts (--timeout) and the sync daemons (--daemon). lvsadm
// fills it from lvsd's JSON API; list.h turns it into ipvsadm 1.31's text. Independent of the
// engine on purpose: only what ipvsadm gets from the kernel, in the kernel's terms. Each struct
// compares member for member (==), so that tests can hold two readers of lvsd's JSON equal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "adm/ipvs.h"
#include "net/addr.h"

namespace lvs::adm {

// Counters since the service/server was added (or zeroed), 64-bit as in stats64.
struct Stats {
  uint64_t conns = 0;
  uint64_t inpkts = 0;
  uint64_t outpkts = 0;
  uint64_t inbytes = 0;
  uint64_t outbytes = 0;

  bool operator==(const Stats&) const = default;
};

// Estimated rates per second.
struct Rates {
  uint64_t cps = 0;
  uint64_t inpps = 0;
  uint64_t outpps = 0;
  uint64_t inbps = 0;
  uint64_t outbps = 0;

  bool operator==(const Rates&) const = default;
};

// IP_VS_CONN_F_MASQ/LOCALNODE/TUNNEL/DROUTE, plus lvs's FULLNAT, which IPVS lacks.
enum class FwdMethod : uint8_t { kMasq, kLocal, kTunnel, kRoute, kFullNat };

// IP_VS_CONN_F_TUNNEL_TYPE_* and the tunnel checksum choice (--tun-nocsum/-csum/-remcsum).
enum class TunType : uint8_t { kIpip = 0, kGue = 1, kGre = 2 };
enum class TunCsum : uint8_t { kNoCsum = 0, kCsum = 1, kRemCsum = 2 };

struct RealServer {
  net::IpAddr addr;  // its family decides brackets and name truncation, as ipvsadm's e->af
  uint16_t port = 0;
  FwdMethod fwd = FwdMethod::kMasq;
  int32_t weight = 1;
  uint32_t active_conns = 0;
  uint32_t inactive_conns = 0;
  uint32_t persist_conns = 0;
  uint32_t u_threshold = 0;
  uint32_t l_threshold = 0;
  // Meaningful for kTunnel only.
  TunType tun_type = TunType::kIpip;
  uint16_t tun_port = 0;  // GUE's UDP port
  TunCsum tun_csum = TunCsum::kNoCsum;
  Stats stats;
  Rates rates;

  bool operator==(const RealServer&) const = default;
};

struct Service {
  // fwmark != 0: a firewall-mark service (addr and port unused). IPVS reports fwmark services
  // with protocol TCP, which is what real-server port names are then looked up as.
  uint32_t fwmark = 0;
  net::Family fwmark_af = net::Family::kV4;  // fwmark services only (-6)
  uint8_t protocol = kProtoTcp;
  net::IpAddr addr;
  uint16_t port = 0;
  std::string scheduler = "wlc";
  uint32_t sched_flags = 0;  // raw kSvcSched* bits
  bool persistent = false;
  uint32_t persistence_timeout = 0;  // seconds, shown when persistent
  uint32_t netmask_v4 = 0xffffffff;  // IPv4 services: persistence mask, host byte order
  uint8_t prefix_v6 = 128;           // IPv6 services: persistence prefix length
  bool one_packet = false;           // ops
  std::string pe_name;               // persistence engine ("sip"), empty: none
  Stats stats;
  Rates rates;
  std::vector<RealServer> servers;

  net::Family family() const { return fwmark != 0 ? fwmark_af : addr.family; }

  bool operator==(const Service&) const = default;
};

struct Endpoint {
  net::IpAddr addr;
  uint16_t port = 0;

  bool operator==(const Endpoint&) const = default;
};

// One line of /proc/net/ip_vs_conn.
struct Connection {
  uint8_t protocol = kProtoTcp;  // shown by the kernel's name: TCP, UDP, SCTP, IP, ...
  uint32_t expires = 0;          // seconds left
  std::string state;             // the kernel's state name: ESTABLISHED, FIN_WAIT, UDP, NONE, ...
  Endpoint client;  // templates: the client address masked by the persistence netmask, port 0
  Endpoint virt;
  Endpoint dest;
  bool is_template = false;
  // Templates of fwmark services only: the kernel keys them by the mark, so the listing shows
  // protocol IP and the mark as the virtual address (port 0); protocol and virt are ignored.
  uint32_t fwmark = 0;
  // Persistence engine data (--persistent-conn); shown only when both are present.
  std::string pe_name;
  std::string pe_data;

  bool operator==(const Connection&) const = default;
};

struct Timeouts {
  int tcp = 900;
  int tcp_fin = 120;
  int udp = 300;

  bool operator==(const Timeouts&) const = default;
};

enum class SyncRole : uint8_t { kNone, kMaster, kBackup };

struct SyncDaemon {
  SyncRole role = SyncRole::kNone;  // kNone: not running, not listed
  std::string mcast_ifn;
  uint32_t syncid = 0;
  uint32_t sync_maxlen = 0;  // 0: not shown
  net::IpAddr mcast_group;   // family kNone: not shown
  uint16_t mcast_port = 0;   // 0: not shown
  uint8_t mcast_ttl = 0;     // 0: not shown

  bool operator==(const SyncDaemon&) const = default;
};

struct ListModel {
  uint32_t version_code = 0x010201;  // IP_VS_VERSION_CODE: "1.2.1"
  uint32_t conn_tab_size = 4096;     // the "(size=N)" of the version line
  std::vector<Service> services;
  std::vector<Connection> connections;  // in the kernel's (hash) order: -c does not sort
  Timeouts timeouts;
  std::vector<SyncDaemon> daemons;  // master first, then backup, as the kernel reports them

  bool operator==(const ListModel&) const = default;
};

}  // namespace lvs::adm
