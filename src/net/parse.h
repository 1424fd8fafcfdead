// Packet classification: one pass over Ethernet, VLAN tags, IPv4/IPv6 (with the IPv6 extension
// header walk) and the transport header. It reads only bytes it has proved are there and reports
// what is wrong with a packet as a status, so the engine can count it under a named reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/addr.h"
#include "net/sctp.h"

namespace lvs::net {

enum class ParseStatus : uint8_t {
  kOk = 0,
  kTruncatedL2,     // shorter than the Ethernet header and its VLAN tags
  kNotIp,           // ARP, LLDP, ...: well formed, not for the IP path
  kTruncatedL3,     // IP header cut short
  kBadIpVersion,    // version nibble disagrees with the EtherType
  kBadIpHeaderLen,  // IPv4 IHL below 5
  kBadIpChecksum,   // IPv4 header checksum wrong
  kBadIpLength,     // IP length field shorter than the header or longer than the frame
  kBadExtHeader,    // IPv6 extension header chain cut short or too long
  kFragment,        // an IP fragment: no complete transport header to key a flow on
  kTruncatedL4,     // TCP/UDP/ICMP/SCTP header cut short
  kBadL4Header,     // TCP data offset below 5 or past the packet, UDP length inconsistent,
                    // SCTP first chunk header cut short or its length below 4 or past the packet
  kCount,
};

std::string_view parse_status_name(ParseStatus s);

struct ParsedPacket {
  ParseStatus status = ParseStatus::kTruncatedL2;
  Family family = Family::kNone;
  uint8_t l4_proto = 0;     // transport protocol after the extension header walk
  uint8_t vlan_count = 0;   // 0, 1 or 2 (802.1ad + 802.1Q)
  uint16_t vlan_tci = 0;    // innermost tag
  uint16_t l3_offset = 0;   // IP header start
  uint16_t l4_offset = 0;   // transport header start
  uint16_t l3_len = 0;      // IP header + payload, as the IP header states it
  uint16_t sport = 0;       // TCP/UDP ports; ICMP echo identifier in both for echo messages
  uint16_t dport = 0;
  uint8_t tcp_flags = 0;
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
  // SCTP: type of the first chunk (net/sctp.h), 0 when the packet has none (has_sctp_chunk()).
  // Not set in quoted mode. A field of its own rather than a union with tcp_flags: it fills a
  // padding byte, and code reading tcp_flags without checking the protocol stays harmless.
  uint8_t sctp_chunk = 0;

  bool ok() const { return status == ParseStatus::kOk; }
  uint16_t l4_len() const { return uint16_t(l3_offset + l3_len - l4_offset); }
  // Where the IP packet ends as its header states it. In quoted mode that may lie past the buffer
  // and past 65535, hence 32 bits.
  uint32_t l3_end() const { return uint32_t(l3_offset) + l3_len; }
  bool is_tcp() const { return l4_proto == 6; }
  bool is_udp() const { return l4_proto == 17; }
  bool is_sctp() const { return l4_proto == 132; }
  // An SCTP packet may be a bare common header: IPVS then creates no connection (drops it) and
  // changes no state. Meaningful for parsed (not quoted) packets only.
  bool has_sctp_chunk() const { return l4_len() >= kSctpHdrLen + kSctpChunkHdrLen; }
};

// Parses an Ethernet frame. Frames longer than 65535 bytes are refused as kBadIpLength.
ParsedPacket parse_packet(const uint8_t* frame, size_t len);

// Parses an IP packet starting at `l3_offset` of `buf` (used for the frame and for the packet
// quoted inside ICMP errors). With `quoted` set, the IP length may exceed the buffer (an ICMP
// error quotes only the start of the offending packet) and only the first 8 transport bytes
// (ports) are required. Buffers longer than 65535 bytes are refused as kBadIpLength.
void parse_ip(const uint8_t* buf, size_t len, size_t l3_offset, Family family, bool quoted,
              ParsedPacket& out);

}  // namespace lvs::net
