// ipvsadm 1.31's listings as text: -L/-l with its format options, -c, --timeout, --daemon and
// -S/--save, byte for byte. Pure: names come from an injected ReverseResolver, never from the OS.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "adm/list_model.h"
#include "net/addr.h"

namespace lvs::adm {

// Reverse lookups for listings without -n. Returning nothing falls back to the number, as
// ipvsadm does when gethostbyaddr/getservbyport fail. The default resolves nothing.
class ReverseResolver {
 public:
  virtual ~ReverseResolver() = default;
  // The canonical host name (gethostbyaddr's h_name).
  virtual std::optional<std::string> host(const net::IpAddr& addr) const;
  // The service name of a port; proto is kProtoTcp, kProtoUdp or kProtoSctp (only those are
  // asked, as ipvsadm's port_to_service).
  virtual std::optional<std::string> service(uint16_t port, uint8_t proto) const;
};

// Selects one service for `-L -t|-u|--sctp-service addr:port` or `-L -f mark [-6]`; matched as
// the kernel's ipvs_get_service does: by mark and family, or by family, protocol, address, port.
struct ServiceKey {
  uint32_t fwmark = 0;
  net::Family fwmark_af = net::Family::kV4;
  uint8_t protocol = kProtoTcp;
  net::IpAddr addr;
  uint16_t port = 0;
};

struct ListOptions {
  bool numeric = false;               // -n
  bool stats = false;                 // --stats
  bool rate = false;                  // --rate
  bool thresholds = false;            // --thresholds
  bool persistent_conn = false;       // --persistent-conn
  bool tun_info = false;              // --tun-info
  bool exact = false;                 // -X/--exact
  bool nosort = false;                // --nosort (--sort is the default and a no-op)
  bool connections = false;           // -c
  bool timeout = false;               // --timeout
  bool daemon = false;                // --daemon
  std::optional<ServiceKey> service;  // -L with a service
};

// What the command prints and how it exits.
struct ListOutput {
  std::string out;
  std::string err;
  int status = 0;
};

// The whole of `ipvsadm -L`: the conflict check, then -c, a single service, --timeout,
// --daemon or the full table, in ipvsadm's order of precedence. A missing service gives
// "No such service" on stderr and status 1, as ipvsadm.
ListOutput list(const ListModel& model, const ListOptions& opts,
                const ReverseResolver* resolver = nullptr);

// The pieces, for callers that dispatch themselves.
std::string list_all(const ListModel& model, const ListOptions& opts,
                     const ReverseResolver* resolver);
// nullopt when no service matches the key.
std::optional<std::string> list_service(const ListModel& model, const ServiceKey& key,
                                        const ListOptions& opts, const ReverseResolver* resolver);
std::string list_connections(const ListModel& model, const ListOptions& opts,
                             const ReverseResolver* resolver);
std::string list_timeout(const Timeouts& t);
std::string list_daemon(const ListModel& model);

// `ipvsadm -S [-n]`: the table as ipvsadm-restore input. Defined in list_save.cc.
std::string save(const ListModel& model, bool numeric, const ReverseResolver* resolver = nullptr);

inline constexpr const char kListConflict[] = "options conflicts in the list command";
inline constexpr const char kNoSuchService[] = "No such service";

namespace detail {
// Shared by list.cc and list_save.cc; exposed for tests.

// printf onto `out`: ipvsadm's formats pad by bytes, which this keeps exactly.
[[gnu::format(printf, 2, 3)]] void appendf(std::string& out, const char* fmt, ...);

// ipvsadm's print_largenum: 9 columns, K/M/G/T above 10^8 unless exact.
std::string largenum(uint64_t n, bool exact);
// ipvsadm's addrport_to_anyname: "addr:port", "[v6]:port", names unless numeric; at most 59
// bytes like its 60-byte buffer.
std::string addrport(const net::IpAddr& addr, uint16_t port, uint8_t proto, bool numeric,
                     const ReverseResolver* resolver);
// print_sched_flags: "sh-fallback,sh-port", "flag-1,flag-3", ... ("" when none apply).
std::string sched_flags(const Service& s);
// Services and servers in libipvs's order (ipvs_cmp_services, ipvs_cmp_dests, qsort);
// returns pointers into the model.
std::vector<const Service*> sorted_services(const ListModel& model, bool nosort);
std::vector<const RealServer*> sorted_servers(const Service& s, bool nosort);
}  // namespace detail

}  // namespace lvs::adm
