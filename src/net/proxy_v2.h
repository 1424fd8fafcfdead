// PROXY protocol version 2 (haproxy doc/proxy-protocol.txt, section 2.2): the binary header a
// FULLNAT director puts in front of a stream, so the real server learns the client's address
// although the packets it sees come from a local address of the director.
//
//   12 bytes signature  0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A
//    1 byte  ver_cmd    0x2 << 4 | command (0 LOCAL, 1 PROXY)
//    1 byte  fam        family << 4 | transport (0x11 TCP4, 0x12 UDP4, 0x21 TCP6, 0x22 UDP6)
//    2 bytes len        bytes that follow (addresses, ports, TLVs), big-endian
//   then src addr, dst addr, src port, dst port (all network order), then TLVs.
//
// Mixed families (NAT64: IPv6 client, IPv4 VIP or the reverse): the spec has one family for both
// addresses, so the header is written as IPv6 and the IPv4 address as ::ffff:a.b.c.d (RFC 4291
// 2.5.5.2), which is what an AF_INET6 socket would report for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/addr.h"

namespace lvs::net {

inline constexpr uint8_t kProxyV2Sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                            0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
inline constexpr size_t kProxyV2FixedLen = 16;      // signature, ver_cmd, fam, len
inline constexpr size_t kProxyV2Inet4AddrLen = 12;  // 2 * 4 + 2 * 2
inline constexpr size_t kProxyV2Inet6AddrLen = 36;  // 2 * 16 + 2 * 2
inline constexpr size_t kProxyV2UnixAddrLen = 216;  // 2 * 108
inline constexpr size_t kProxyV2MaxWriteLen = kProxyV2FixedLen + kProxyV2Inet6AddrLen;

// The family the header uses for this pair: IPv6 if either address is IPv6, kNone if either has
// no family.
Family proxy_v2_family(const IpAddr& src, const IpAddr& dst);

// Bytes proxy_v2_write produces for a header of family `af` (28 or 52; 0 for kNone).
size_t proxy_v2_size(Family af);

// Writes a PROXY-command header without TLVs for a TCP (proto 6) or UDP (17) flow. Returns the
// bytes written, or 0 (nothing written) when `cap` is too small, a family is missing or `proto`
// is neither.
size_t proxy_v2_write(uint8_t* out, size_t cap, const IpAddr& src, uint16_t sport,
                      const IpAddr& dst, uint16_t dport, uint8_t proto);

enum class ProxyV2Status : uint8_t {
  kOk = 0,
  kNeedMore,      // a valid start: the header is not complete yet (header_len says how long once
                  // the fixed 16 bytes are there)
  kNotProxyV2,    // the signature does not match
  kBadVersion,    // version nibble other than 2
  kBadCommand,    // command other than LOCAL (0) and PROXY (1)
  kBadFamily,     // PROXY with an address family above 3 or a transport above 2
  kShortAddress,  // PROXY: the length is below the address block of the family
  kBadTlv,        // a TLV runs past the end of the header
  kCount,
};

std::string_view proxy_v2_status_name(ProxyV2Status s);

enum class ProxyV2Command : uint8_t { kLocal = 0, kProxy = 1 };

struct ProxyV2Result {
  ProxyV2Status status = ProxyV2Status::kNotProxyV2;
  ProxyV2Command command = ProxyV2Command::kLocal;
  uint8_t fam = 0;    // byte 14 as sent
  uint8_t proto = 0;  // 6 (STREAM) or 17 (DGRAM) over INET/INET6 with PROXY; 0 otherwise
  // The addresses and ports: set (family kV4/kV6) only for PROXY over INET/INET6 with a STREAM
  // or DGRAM transport. LOCAL, UNSPEC and UNIX leave them empty, as receivers must then use the
  // real connection endpoints.
  IpAddr src;
  IpAddr dst;
  uint16_t sport = 0;
  uint16_t dport = 0;
  size_t header_len = 0;  // 16 + len: bytes to skip before the stream's own data
  size_t tlv_offset = 0;  // where TLVs start; equals header_len when there are none
  uint16_t tlv_count = 0;

  bool ok() const { return status == ProxyV2Status::kOk; }
};

// Parses a header at the start of `p`. Never reads past `len`. TLVs are not interpreted, only
// walked so that each lies inside the header; they are walked when the address block's size is
// known (PROXY over INET, INET6 or UNIX with a STREAM or DGRAM transport).
ProxyV2Result parse_proxy_v2(const uint8_t* p, size_t len);

}  // namespace lvs::net
