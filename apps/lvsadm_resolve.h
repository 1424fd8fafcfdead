// lvsadm's name lookups through the C library (NSS: /etc/hosts, DNS, /etc/services, ...), as
// ipvsadm 1.31 makes them. src/adm asks for them through ForwardResolver (command line) and
// ReverseResolver (listings without -n) and keeps ipvsadm's messages for the failures.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "adm/args.h"
#include "adm/list.h"
#include "net/addr.h"

namespace lvs::adm {

// ipvsadm's host_to_addr(): gethostbyname(); only an IPv4 answer counts, its first address.
std::optional<net::IpAddr> host_to_addr(std::string_view name);
// ipvsadm's service_to_port(): getservbyname() for "tcp", "udp" or "sctp" by proto; nullopt
// for any other protocol.
std::optional<uint16_t> service_to_port(std::string_view name, uint8_t proto);
// ipvsadm's addr_to_host(): gethostbyaddr()'s h_name.
std::optional<std::string> addr_to_host(const net::IpAddr& addr);
// ipvsadm's port_to_service(): getservbyport()'s s_name for "tcp", "udp" or "sctp".
std::optional<std::string> port_to_service(uint16_t port, uint8_t proto);

// host_to_addr and service_to_port for parse_args / parse_restore_line.
ForwardResolver os_forward_resolver();

// addr_to_host and port_to_service for the listings. Each address and port is asked once per
// run: a table lists the same servers and ports many times, and each miss may be a DNS query.
class OsReverseResolver final : public ReverseResolver {
 public:
  std::optional<std::string> host(const net::IpAddr& addr) const override;
  std::optional<std::string> service(uint16_t port, uint8_t proto) const override;

 private:
  mutable std::unordered_map<std::string, std::optional<std::string>> hosts_;
  mutable std::unordered_map<uint32_t, std::optional<std::string>> services_;
};

}  // namespace lvs::adm
