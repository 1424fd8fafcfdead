// Keeping the classifier maps (lvs_services, lvs_backends) equal to a desired set, shared by
// the XDP object and the AF_PACKET steal object, which define the same maps.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "bpf/lvs_shared.h"
#include "net/addr.h"

namespace lvs::io {

lvs_endpoint make_endpoint(uint8_t proto, const net::IpAddr& addr, uint16_t port_host_order);

// Makes the hash map `fd` hold exactly `want` (value 0 each): removes the others, adds the
// missing. Returns an error text, empty on success.
std::string sync_endpoints(int fd, const std::vector<lvs_endpoint>& want);

// Adds one entry (value 0) to the hash map `fd`. Returns an error text, empty on success.
std::string add_endpoint(int fd, const lvs_endpoint& ep);

// Writes lvs_config's single entry (LVS_CFG_* flags).
std::string set_config(int fd, uint32_t flags);

// Sums the per-CPU lvs_stats array.
std::array<uint64_t, LVS_STAT_MAX> read_stats(int fd);

// Routes libbpf and libxdp messages through spdlog (warnings as warnings, the rest as debug).
void route_bpf_logs();

}  // namespace lvs::io
