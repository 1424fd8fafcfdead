// Header layouts as field offsets plus small views over raw bytes. Views never check bounds:
// the parser does that once, and only hands out views over headers it proved complete.
#pragma once

#include <cstddef>
#include <cstdint>

#include "net/addr.h"
#include "net/bytes.h"

namespace lvs::net {

inline constexpr uint16_t kEthPIpv4 = 0x0800;
inline constexpr uint16_t kEthPArp = 0x0806;
inline constexpr uint16_t kEthPVlan = 0x8100;  // 802.1Q
inline constexpr uint16_t kEthPQinQ = 0x88A8;  // 802.1ad service tag
inline constexpr uint16_t kEthPIpv6 = 0x86DD;

inline constexpr size_t kEthHdrLen = 14;
inline constexpr size_t kVlanHdrLen = 4;
inline constexpr size_t kIpv4MinHdrLen = 20;
inline constexpr size_t kIpv6HdrLen = 40;
inline constexpr size_t kTcpMinHdrLen = 20;
inline constexpr size_t kUdpHdrLen = 8;
inline constexpr size_t kIcmpHdrLen = 8;

enum IpProto : uint8_t {
  kProtoHopByHop = 0,
  kProtoIcmp = 1,
  kProtoIpip = 4,
  kProtoTcp = 6,
  kProtoUdp = 17,
  kProtoIpv6 = 41,
  kProtoRouting = 43,
  kProtoFragment = 44,
  kProtoGre = 47,
  kProtoEsp = 50,
  kProtoAh = 51,
  kProtoIcmpv6 = 58,
  kProtoNoNext = 59,
  kProtoDstOpts = 60,
  kProtoMobility = 135,
  kProtoSctp = 132,
};

inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;

class EthView {
 public:
  explicit EthView(uint8_t* p) : p_(p) {}
  uint8_t* dst() const { return p_; }
  uint8_t* src() const { return p_ + 6; }
  uint16_t ethertype() const { return load_be16(p_ + 12); }
  void set_dst(const MacAddr& m) const { std::memcpy(p_, m.bytes.data(), 6); }
  void set_src(const MacAddr& m) const { std::memcpy(p_ + 6, m.bytes.data(), 6); }

 private:
  uint8_t* p_;
};

class Ipv4View {
 public:
  static constexpr size_t kTotLen = 2, kTtl = 8, kProto = 9, kCheck = 10, kSaddr = 12,
                          kDaddr = 16;
  explicit Ipv4View(uint8_t* p) : p_(p) {}
  uint8_t* raw() const { return p_; }
  uint8_t version() const { return p_[0] >> 4; }
  size_t header_len() const { return size_t(p_[0] & 0x0f) * 4; }
  uint8_t tos() const { return p_[1]; }
  uint16_t total_len() const { return load_be16(p_ + 2); }
  uint16_t id() const { return load_be16(p_ + 4); }
  uint16_t frag_field() const { return load_be16(p_ + 6); }
  bool more_fragments() const { return (frag_field() & 0x2000) != 0; }
  bool dont_fragment() const { return (frag_field() & 0x4000) != 0; }
  uint16_t frag_offset() const { return frag_field() & 0x1fff; }
  uint8_t ttl() const { return p_[kTtl]; }
  uint8_t protocol() const { return p_[kProto]; }
  uint16_t checksum() const { return load_be16(p_ + kCheck); }
  uint8_t* saddr() const { return p_ + kSaddr; }
  uint8_t* daddr() const { return p_ + kDaddr; }
  IpAddr src() const { return IpAddr::v4(saddr()); }
  IpAddr dst() const { return IpAddr::v4(daddr()); }

 private:
  uint8_t* p_;
};

class Ipv6View {
 public:
  static constexpr size_t kPayloadLen = 4, kNextHdr = 6, kHopLimit = 7, kSaddr = 8, kDaddr = 24;
  explicit Ipv6View(uint8_t* p) : p_(p) {}
  uint8_t* raw() const { return p_; }
  uint8_t version() const { return p_[0] >> 4; }
  uint16_t payload_len() const { return load_be16(p_ + kPayloadLen); }
  uint8_t next_header() const { return p_[kNextHdr]; }
  uint8_t hop_limit() const { return p_[kHopLimit]; }
  uint8_t* saddr() const { return p_ + kSaddr; }
  uint8_t* daddr() const { return p_ + kDaddr; }
  IpAddr src() const { return IpAddr::v6(saddr()); }
  IpAddr dst() const { return IpAddr::v6(daddr()); }

 private:
  uint8_t* p_;
};

// TCP and UDP share the port layout, which is all the connection code needs.
class L4PortsView {
 public:
  explicit L4PortsView(uint8_t* p) : p_(p) {}
  uint16_t sport() const { return load_be16(p_); }
  uint16_t dport() const { return load_be16(p_ + 2); }
  void set_sport(uint16_t v) const { store_be16(p_, v); }
  void set_dport(uint16_t v) const { store_be16(p_ + 2, v); }

 private:
  uint8_t* p_;
};

class TcpView {
 public:
  static constexpr size_t kSeq = 4, kAck = 8, kDataOff = 12, kCheck = 16;
  explicit TcpView(uint8_t* p) : p_(p) {}
  uint16_t sport() const { return load_be16(p_); }
  uint16_t dport() const { return load_be16(p_ + 2); }
  uint32_t seq() const { return load_be32(p_ + 4); }
  uint32_t ack_seq() const { return load_be32(p_ + 8); }
  size_t header_len() const { return size_t(p_[12] >> 4) * 4; }
  uint8_t flags() const { return p_[13]; }
  uint16_t checksum() const { return load_be16(p_ + kCheck); }

 private:
  uint8_t* p_;
};

class UdpView {
 public:
  static constexpr size_t kLen = 4, kCheck = 6;
  explicit UdpView(uint8_t* p) : p_(p) {}
  uint16_t sport() const { return load_be16(p_); }
  uint16_t dport() const { return load_be16(p_ + 2); }
  uint16_t length() const { return load_be16(p_ + kLen); }
  uint16_t checksum() const { return load_be16(p_ + kCheck); }

 private:
  uint8_t* p_;
};

class IcmpView {
 public:
  static constexpr size_t kCheck = 2;
  explicit IcmpView(uint8_t* p) : p_(p) {}
  uint8_t type() const { return p_[0]; }
  uint8_t code() const { return p_[1]; }
  uint16_t checksum() const { return load_be16(p_ + kCheck); }
  uint16_t echo_id() const { return load_be16(p_ + 4); }

 private:
  uint8_t* p_;
};

// ICMPv4 types the director cares about.
inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpDestUnreach = 3;
inline constexpr uint8_t kIcmpSourceQuench = 4;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmpTimeExceeded = 11;
inline constexpr uint8_t kIcmpParamProblem = 12;
inline constexpr uint8_t kIcmpPortUnreach = 3;  // code under kIcmpDestUnreach
inline constexpr uint8_t kIcmpFragNeeded = 4;   // code under kIcmpDestUnreach
// ICMPv6 types.
inline constexpr uint8_t kIcmp6DestUnreach = 1;
inline constexpr uint8_t kIcmp6PacketTooBig = 2;
inline constexpr uint8_t kIcmp6TimeExceeded = 3;
inline constexpr uint8_t kIcmp6ParamProblem = 4;
inline constexpr uint8_t kIcmp6EchoRequest = 128;
inline constexpr uint8_t kIcmp6EchoReply = 129;
inline constexpr uint8_t kIcmp6PortUnreach = 4;  // code under kIcmp6DestUnreach

inline bool icmp_is_error(uint8_t type) {
  return type == kIcmpDestUnreach || type == kIcmpSourceQuench || type == kIcmpTimeExceeded ||
         type == kIcmpParamProblem;
}
inline bool icmp6_is_error(uint8_t type) { return type < 128; }

}  // namespace lvs::net
