// Fluent construction of well-formed frames for tests, fixtures, benchmarks and fuzz seeds:
//   PacketBuilder().eth(a, b).ipv4(c, d).tcp(1234, 80, kTcpSyn).payload("x").build()
// Lengths and checksums are computed at build(); setters after that only change the spec.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "net/addr.h"
#include "net/headers.h"

namespace lvs::net {

class PacketBuilder {
 public:
  PacketBuilder& eth(const MacAddr& src, const MacAddr& dst);
  PacketBuilder& vlan(uint16_t tci, uint16_t tpid = kEthPVlan);
  PacketBuilder& ipv4(const IpAddr& src, const IpAddr& dst);
  PacketBuilder& ipv6(const IpAddr& src, const IpAddr& dst);
  PacketBuilder& ttl(uint8_t ttl);
  PacketBuilder& ip_id(uint16_t id);
  PacketBuilder& tos(uint8_t tos);
  PacketBuilder& dont_fragment(bool df);
  // Appends an IPv6 extension header of `type` with `len` bytes (a multiple of 8, >= 8).
  PacketBuilder& ipv6_ext(uint8_t type, size_t len);
  PacketBuilder& tcp(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq = 1,
                     uint32_t ack = 0);
  PacketBuilder& udp(uint16_t sport, uint16_t dport);
  // ICMP (v4) or ICMPv6, chosen by the IP family at build(), so the call order does not matter;
  // `rest` is the 4 bytes after the checksum.
  PacketBuilder& icmp(uint8_t type, uint8_t code, uint32_t rest = 0);
  // Any transport, TCP/UDP/ICMP included: the payload follows the IP header as is, with no
  // header or checksum added (for truncated and hand-made transport headers).
  PacketBuilder& raw_l4(uint8_t proto);
  PacketBuilder& payload(std::span<const uint8_t> bytes);
  PacketBuilder& payload(std::string_view text);
  // Leaves the UDP checksum at 0 (IPv4 "no checksum").
  PacketBuilder& no_udp_checksum();

  // The whole frame, Ethernet included (a zero-MAC Ethernet header if eth() was not called).
  std::vector<uint8_t> build() const;
  // The IP packet alone, for quoting inside ICMP errors or tunnels.
  std::vector<uint8_t> build_ip() const;

 private:
  struct Ext {
    uint8_t type;
    size_t len;
  };
  MacAddr eth_src_{}, eth_dst_{};
  std::vector<std::pair<uint16_t, uint16_t>> vlans_;  // (tpid, tci)
  IpAddr src_{}, dst_{};
  uint8_t ttl_ = 64;
  uint16_t ip_id_ = 0;
  uint8_t tos_ = 0;
  bool df_ = true;
  std::vector<Ext> exts_;
  uint8_t l4_proto_ = kProtoUdp;
  bool raw_l4_ = false;
  uint16_t sport_ = 0, dport_ = 0;
  uint8_t tcp_flags_ = 0;
  uint32_t seq_ = 0, ack_ = 0;
  uint8_t icmp_type_ = 0, icmp_code_ = 0;
  uint32_t icmp_rest_ = 0;
  bool udp_csum_ = true;
  std::vector<uint8_t> payload_;
};

// Handy test addresses from the benchmarking ranges (RFC 2544 / RFC 5180).
inline MacAddr mac(uint8_t last) { return MacAddr{{0x02, 0, 0, 0, 0, last}}; }
IpAddr ip(std::string_view text);  // aborts on malformed text: for tests and tools only

}  // namespace lvs::net
