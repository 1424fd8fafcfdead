// ICMP errors relayed as IPVS relays them (ip_vs_in_icmp / ip_vs_out_icmp / ip_vs_nat_icmp and
// their IPv6 forms) and echo replies. Expected frames come from PacketBuilder, which sums every
// checksum in full, or from hex derived independently (struct-built frames, checksums from
// scratch); checksums are also re-verified with the naive reference sum of tests/net/test_util.h.
#include "core/xmit_icmp.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/conn_table.h"
#include "fixtures/topology.h"
#include "net/checksum.h"
#include "net/headers.h"
#include "net/packet_builder.h"
#include "net/parse.h"
#include "net/test_util.h"

namespace lvs::core {
namespace {

using fixtures::kClient;
using fixtures::kClient6;
using fixtures::kExtMac;
using fixtures::kIntMac;
using fixtures::kRouterMac;
using fixtures::kRs1;
using fixtures::kRs1Mac;
using fixtures::kRs1v6;
using fixtures::kVip;
using fixtures::kVip6;
using net::IpAddr;
using net::PacketBuilder;
using net::testing::Bytes;
using net::testing::hex;
using net::testing::ref_sum;

const IpAddr kRouterIn = net::ip("198.18.1.254");   // a router on the real servers' side
const IpAddr kRouterOut = net::ip("198.18.0.254");  // a router on the client's side
const IpAddr kRouterIn6 = net::ip("2001:2:1::254");
const IpAddr kRouterOut6 = net::ip("2001:2::254");
constexpr uint16_t kCport = 40000;

struct Flow {
  bool v6;
  uint8_t proto;  // 6, 17 or 132
  IpAddr client() const { return v6 ? kClient6 : kClient; }
  IpAddr vip() const { return v6 ? kVip6 : kVip; }
  IpAddr rs() const { return v6 ? kRs1v6 : kRs1; }
  IpAddr router_in() const { return v6 ? kRouterIn6 : kRouterIn; }
  IpAddr router_out() const { return v6 ? kRouterOut6 : kRouterOut; }
  uint16_t vport() const { return proto == 17 ? 53 : 80; }
  uint16_t dport() const { return proto == 17 ? 5353 : 8080; }
};

Conn make_conn(const Flow& f) {
  Conn c{};
  c.proto = f.proto;
  c.af = f.v6 ? 6 : 4;
  c.fwd = uint8_t(Fwd::kNat);
  c.flags = kConnInUse;
  std::memcpy(c.caddr, f.client().data(), f.client().size());
  std::memcpy(c.vaddr, f.vip().data(), f.vip().size());
  std::memcpy(c.daddr, f.rs().data(), f.rs().size());
  c.cport = kCport;
  c.vport = f.vport();
  c.dport = f.dport();
  return c;
}

PacketBuilder ip_of(const IpAddr& src, const IpAddr& dst) {
  PacketBuilder b;
  if (src.is_v4()) {
    b.ipv4(src, dst);
  } else {
    b.ipv6(src, dst);
  }
  return b;
}

// A transport packet as it left the director, `data` bytes of payload; quotes are cut from it.
Bytes packet(const Flow& f, const IpAddr& src, uint16_t sport, const IpAddr& dst, uint16_t dport,
             size_t data = 100) {
  PacketBuilder b = ip_of(src, dst);
  b.ttl(63).ip_id(0x4242);
  if (f.proto == net::kProtoTcp) {
    b.tcp(sport, dport, net::kTcpAck | net::kTcpPsh, 1000, 2000);
  } else if (f.proto == net::kProtoUdp) {
    b.udp(sport, dport);
  } else {  // SCTP: common header (ports, verification tag, checksum) and one DATA chunk
    Bytes sctp(12 + data);
    net::testing::put16(sctp, 0, sport);
    net::testing::put16(sctp, 2, dport);
    net::store_be32(&sctp[4], 0xdeadbeef);
    net::store_be32(&sctp[8], 0x01020304);  // stands in for the CRC32c, which nobody touches
    return ip_of(src, dst).ttl(63).ip_id(0x4242).raw_l4(net::kProtoSctp).payload(sctp).build_ip();
  }
  return b.payload(std::string(data, 'd')).build_ip();
}
// The request the director sent to the real server, and the reply it sent to the client.
Bytes request(const Flow& f, size_t data = 100) {
  return packet(f, f.client(), kCport, f.rs(), f.dport(), data);
}
Bytes reply(const Flow& f, size_t data = 100) {
  return packet(f, f.vip(), f.vport(), f.client(), kCport, data);
}
Bytes cut(Bytes b, size_t n) {
  if (b.size() > n) b.resize(n);
  return b;
}

Bytes error_frame(const IpAddr& src, const IpAddr& dst, uint8_t type, uint8_t code, uint32_t rest,
                  const Bytes& quote, uint8_t ttl = 64) {
  return ip_of(src, dst).eth(kRouterMac, kExtMac).ttl(ttl).icmp(type, code, rest).payload(quote)
      .build();
}

size_t inner_l4(const Bytes& ip_pkt) {
  return (ip_pkt[0] >> 4) == 4 ? size_t(ip_pkt[0] & 0x0f) * 4 : net::kIpv6HdrLen;
}
// The transport checksum offset of a quoted packet, if it lies within the quote.
void keep_l4_checksum(const Bytes& from, Bytes& to, uint8_t proto) {
  const size_t off = inner_l4(from) + (proto == net::kProtoTcp   ? 16
                                       : proto == net::kProtoUdp ? 6
                                                                 : 8);
  for (size_t i = off; i < off + 2 && i < from.size(); ++i) to[i] = from[i];
}

// Every checksum of an ICMP error frame, with the reference sum: outer IPv4 header, ICMP (with the
// ICMPv6 pseudo-header) and the quoted IPv4 header.
void expect_sums_ok(const Bytes& f) {
  const net::ParsedPacket p = net::parse_packet(f.data(), f.size());
  ASSERT_TRUE(p.ok()) << net::parse_status_name(p.status);
  const size_t icmp = p.l4_offset, end = p.l3_end();
  if (p.family == net::Family::kV4) {
    EXPECT_EQ(ref_sum(&f[p.l3_offset], 20), 0xffff) << "outer IPv4 header";
    EXPECT_EQ(ref_sum(&f[icmp], end - icmp), 0xffff) << "ICMP";
    const size_t ihl = size_t(f[icmp + 8] & 0x0f) * 4;
    EXPECT_EQ(ref_sum(&f[icmp + 8], ihl), 0xffff) << "quoted IPv4 header";
  } else {
    Bytes pseudo(&f[p.l3_offset + 8], &f[p.l3_offset + 40]);
    const size_t n = end - icmp;
    const uint8_t tail[8] = {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n),
                             0, 0, 0, 58};
    pseudo.insert(pseudo.end(), tail, tail + 8);
    pseudo.insert(pseudo.end(), &f[icmp], &f[icmp] + n);
    EXPECT_EQ(ref_sum(pseudo.data(), pseudo.size()), 0xffff) << "ICMPv6";
  }
}

IcmpDrop classify(const Bytes& f, IcmpError* out = nullptr) {
  IcmpError e;
  const net::ParsedPacket p = net::parse_packet(f.data(), f.size());
  EXPECT_TRUE(p.ok()) << net::parse_status_name(p.status);
  const bool ok = classify_icmp_error(f.data(), f.size(), p, e);
  EXPECT_EQ(ok, e.status == IcmpDrop::kNone);
  if (out != nullptr) *out = e;
  return e.status;
}

struct ErrType {
  uint8_t type, code;
  uint32_t rest;
  const char* name;
};
const ErrType kV4Errors[] = {
    {3, 3, 0, "port unreachable"},
    {3, 4, 1400, "fragmentation needed"},
    {3, 1, 0, "host unreachable"},
    {4, 0, 0, "source quench"},
    {11, 0, 0, "time exceeded"},
};
const ErrType kV6Errors[] = {
    {1, 4, 0, "port unreachable"},
    {1, 3, 0, "address unreachable"},
    {2, 0, 1280, "packet too big"},
    {3, 0, 0, "hop limit exceeded"},
    {4, 0, 42, "parameter problem"},
};

// Every relayed type, both families, TCP/UDP/SCTP quotes, whole and 8-byte quotes, both ways:
// the result equals the frame PacketBuilder makes of the translated packet (inner transport
// checksum kept as it was, since IPVS does not fix it), and every checksum verifies.
TEST(IcmpNat, EveryRelayedErrorBothDirections) {
  int cases = 0;
  for (bool v6 : {false, true}) {
    for (uint8_t proto : {net::kProtoTcp, net::kProtoUdp, net::kProtoSctp}) {
      const Flow f{v6, proto};
      const Conn c = make_conn(f);
      const size_t hdr = v6 ? 40 : 20;
      for (const ErrType& t : v6 ? std::span(kV6Errors) : std::span(kV4Errors)) {
        for (size_t quote_len : {size_t(100000), hdr + 8}) {
          const std::string what = std::string(v6 ? "v6 " : "v4 ") + t.name + " proto " +
                                   std::to_string(proto) + " quote " + std::to_string(quote_len);
          SCOPED_TRACE(what);
          // Real-server side: about the request, from rs1 itself or a router before it.
          {
            const IpAddr from = t.type == (v6 ? 3 : 11) ? f.router_in() : f.rs();
            const Bytes q = cut(request(f), quote_len);
            Bytes frame = error_frame(from, f.client(), t.type, t.code, t.rest, q);
            IcmpError e;
            ASSERT_EQ(classify(frame, &e), IcmpDrop::kNone);
            EXPECT_EQ(e.type, t.type);
            EXPECT_EQ(e.code, t.code);
            EXPECT_EQ(e.icmp_offset, 14 + hdr);
            EXPECT_EQ(e.inner_l3_offset, 14 + hdr + 8);
            EXPECT_EQ(e.inner_l4_offset, 14 + hdr + 8 + hdr);
            EXPECT_EQ(e.icmp_end, frame.size());
            EXPECT_EQ(e.key.proto, proto);
            EXPECT_EQ(e.key.af, v6 ? 6 : 4);
            EXPECT_EQ(std::memcmp(e.key.a_addr, f.rs().data(), f.rs().size()), 0);
            EXPECT_EQ(std::memcmp(e.key.b_addr, f.client().data(), f.rs().size()), 0);
            EXPECT_EQ(e.key.a_port, f.dport());
            EXPECT_EQ(e.key.b_port, kCport);

            const net::ParsedPacket p = net::parse_packet(frame.data(), frame.size());
            ASSERT_TRUE(icmp_nat_out(frame.data(), p, e, c));
            Bytes want_q = cut(packet(f, f.client(), kCport, f.vip(), f.vport()), quote_len);
            keep_l4_checksum(q, want_q, proto);
            const Bytes want = error_frame(f.vip(), f.client(), t.type, t.code, t.rest, want_q, 63);
            EXPECT_EQ(frame, want);
            expect_sums_ok(frame);
          }
          // Client side: about the reply, from the client itself or a router on its path.
          {
            const IpAddr from = t.type == (v6 ? 1 : 3) ? f.client() : f.router_out();
            const Bytes q = cut(reply(f), quote_len);
            Bytes frame = error_frame(from, f.vip(), t.type, t.code, t.rest, q);
            IcmpError e;
            ASSERT_EQ(classify(frame, &e), IcmpDrop::kNone);
            EXPECT_EQ(std::memcmp(e.key.a_addr, f.client().data(), f.rs().size()), 0);
            EXPECT_EQ(std::memcmp(e.key.b_addr, f.vip().data(), f.rs().size()), 0);
            EXPECT_EQ(e.key.a_port, kCport);
            EXPECT_EQ(e.key.b_port, f.vport());

            const net::ParsedPacket p = net::parse_packet(frame.data(), frame.size());
            icmp_nat_in(frame.data(), p, e, c);
            Bytes want_q = cut(packet(f, f.rs(), f.dport(), f.client(), kCport), quote_len);
            keep_l4_checksum(q, want_q, proto);
            const Bytes want = error_frame(from, f.rs(), t.type, t.code, t.rest, want_q, 64);
            EXPECT_EQ(frame, want);
            expect_sums_ok(frame);
          }
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 2 * 3 * 5 * 2);
}

// Hand-derived (see the header comment): IPv4, rs1 says "fragmentation needed, MTU 1400" about
// the request client:40000 -> rs1:8080 (1420 bytes, 28 quoted); it reaches the client from
// VIP, its quote reading client -> VIP:80, TTL 63.
TEST(IcmpNat, Ipv4RealServerSideBytes) {
  const Bytes in = hex(
      "02 00 00 00 00 03 02 00 00 00 00 11 08 00 45 00"
      "00 38 00 00 40 00 40 01 ad 94 c6 12 01 0b c6 12"
      "00 01 03 04 37 cb 00 00 05 78 45 00 05 8c 12 34"
      "40 00 3f 06 97 07 c6 12 00 01 c6 12 01 0b 9c 40"
      "1f 90 00 00 03 e8");
  const Bytes out = hex(
      "02 00 00 00 00 03 02 00 00 00 00 11 08 00 45 00"
      "00 38 00 00 40 00 3f 01 ad 3b c6 12 02 64 c6 12"
      "00 01 03 04 57 0b 00 00 05 78 45 00 05 8c 12 34"
      "40 00 3f 06 95 ae c6 12 00 01 c6 12 02 64 9c 40"
      "00 50 00 00 03 e8");
  // The same input from PacketBuilder, so the builder and the hex agree on what is tested.
  const Bytes q = cut(PacketBuilder().ipv4(kClient, kRs1).ttl(63).ip_id(0x1234)
                          .tcp(kCport, 8080, net::kTcpAck | net::kTcpPsh, 1000, 2000)
                          .payload(std::string(1380, 'x')).build_ip(), 28);
  EXPECT_EQ(PacketBuilder().eth(kRs1Mac, kIntMac).ipv4(kRs1, kClient).icmp(3, 4, 1400).payload(q)
                .build(), in);

  Bytes f = in;
  IcmpError e;
  ASSERT_EQ(classify(f, &e), IcmpDrop::kNone);
  const net::ParsedPacket p = net::parse_packet(f.data(), f.size());
  ASSERT_TRUE(icmp_nat_out(f.data(), p, e, make_conn({false, 6})));
  EXPECT_EQ(f, out);
}

// Hand-derived: IPv6, a router on the client's path says "packet too big, MTU 1280" to the VIP
// about the reply VIP:80 -> client:40000 (1440 bytes of TCP, 76 quoted); it reaches rs1, the
// quote reading rs1:8080 -> client, hop limit as it came.
TEST(IcmpNat, Ipv6ClientSideBytes) {
  const Bytes in = hex(
      "02 00 00 00 00 02 02 00 00 00 00 fe 86 dd 60 00"
      "00 00 00 54 3a 40 20 01 00 02 00 02 00 00 00 00"
      "00 00 00 00 02 54 20 01 00 02 00 02 00 00 00 00"
      "00 00 00 00 01 00 02 00 69 f5 00 00 05 00 60 00"
      "00 00 05 a0 06 3f 20 01 00 02 00 02 00 00 00 00"
      "00 00 00 00 01 00 20 01 00 02 00 00 00 00 00 00"
      "00 00 00 00 00 01 00 50 9c 40 00 00 13 88 00 00"
      "03 e9 50 18 fa f0 d3 5e 00 00 79 79 79 79 79 79"
      "79 79 79 79 79 79 79 79 79 79");
  const Bytes out = hex(
      "02 00 00 00 00 02 02 00 00 00 00 fe 86 dd 60 00"
      "00 00 00 54 3a 40 20 01 00 02 00 02 00 00 00 00"
      "00 00 00 00 02 54 20 01 00 02 00 01 00 00 00 00"
      "00 00 00 00 00 11 02 00 4c 95 00 00 05 00 60 00"
      "00 00 05 a0 06 3f 20 01 00 02 00 01 00 00 00 00"
      "00 00 00 00 00 11 20 01 00 02 00 00 00 00 00 00"
      "00 00 00 00 00 01 1f 90 9c 40 00 00 13 88 00 00"
      "03 e9 50 18 fa f0 d3 5e 00 00 79 79 79 79 79 79"
      "79 79 79 79 79 79 79 79 79 79");
  const Bytes q = cut(PacketBuilder().ipv6(kVip6, kClient6).ttl(63)
                          .tcp(80, kCport, net::kTcpAck | net::kTcpPsh, 5000, 1001)
                          .payload(std::string(1420, 'y')).build_ip(), 76);
  EXPECT_EQ(PacketBuilder().eth(kRouterMac, kExtMac).ipv6(fixtures::kRouter6, kVip6)
                .icmp(2, 0, 1280).payload(q).build(), in);

  Bytes f = in;
  IcmpError e;
  ASSERT_EQ(classify(f, &e), IcmpDrop::kNone);
  const net::ParsedPacket p = net::parse_packet(f.data(), f.size());
  icmp_nat_in(f.data(), p, e, make_conn({true, 6}));
  EXPECT_EQ(f, out);
}

// The reversed quote is a key of the connection table's own layout: the real-server side finds
// the entry through find_out, the client side through find_in.
TEST(IcmpNat, KeyFindsTheConnection) {
  for (bool v6 : {false, true}) {
    for (uint8_t proto : {net::kProtoTcp, net::kProtoUdp}) {
      const Flow f{v6, proto};
      ConnTable t(64, 7);
      const uint32_t i = t.alloc();
      Conn& c = t.at(i);
      const Conn made = make_conn(f);
      std::memcpy(c.caddr, made.caddr, 16);
      std::memcpy(c.vaddr, made.vaddr, 16);
      std::memcpy(c.daddr, made.daddr, 16);
      c.proto = made.proto;
      c.af = made.af;
      c.cport = made.cport;
      c.vport = made.vport;
      c.dport = made.dport;
      t.link(i);

      const Bytes rs_side =
          error_frame(f.rs(), f.client(), v6 ? 1 : 3, v6 ? 4 : 3, 0, cut(request(f), 60));
      IcmpError e;
      ASSERT_EQ(classify(rs_side, &e), IcmpDrop::kNone);
      EXPECT_EQ(t.find_out(t.hash(e.key), e.key), i);
      EXPECT_EQ(t.find_in(t.hash(e.key), e.key), kNil);

      const Bytes client_side =
          error_frame(f.router_out(), f.vip(), v6 ? 3 : 11, 0, 0, cut(reply(f), 60));
      ASSERT_EQ(classify(client_side, &e), IcmpDrop::kNone);
      EXPECT_EQ(t.find_in(t.hash(e.key), e.key), i);
      EXPECT_EQ(t.find_out(t.hash(e.key), e.key), kNil);
    }
  }
}

TEST(IcmpNat, QuoteOfPortsOnlyIsEnoughAsInIpvs) {
  for (bool v6 : {false, true}) {
    const Flow f{v6, net::kProtoUdp};
    const size_t hdr = v6 ? 40 : 20;
    for (size_t n : {hdr + 8, hdr + 7, hdr + 4}) {
      SCOPED_TRACE(n);
      Bytes frame = error_frame(f.rs(), f.client(), v6 ? 1 : 3, v6 ? 4 : 3, 0, cut(request(f), n));
      IcmpError e;
      ASSERT_EQ(classify(frame, &e), IcmpDrop::kNone);
      EXPECT_EQ(e.inner.sport, kCport);
      EXPECT_EQ(e.inner.dport, f.dport());
      EXPECT_TRUE(e.inner.ok());
      const net::ParsedPacket p = net::parse_packet(frame.data(), frame.size());
      ASSERT_TRUE(icmp_nat_out(frame.data(), p, e, make_conn(f)));
      EXPECT_EQ(net::testing::get16(frame, e.inner_l4_offset + 2), f.vport());
      expect_sums_ok(frame);
    }
  }
}

TEST(IcmpClassify, TruncatedQuotes) {
  for (bool v6 : {false, true}) {
    const Flow f{v6, net::kProtoTcp};
    const size_t hdr = v6 ? 40 : 20;
    for (size_t n : {size_t(0), size_t(1), hdr - 1, hdr, hdr + 3}) {
      SCOPED_TRACE(std::to_string(v6) + " quote " + std::to_string(n));
      const Bytes frame =
          error_frame(f.rs(), f.client(), v6 ? 1 : 3, v6 ? 4 : 3, 0, cut(request(f), n));
      EXPECT_EQ(classify(frame), IcmpDrop::kQuoteTruncated);
    }
  }
  // A quote whose IPv4 header has options that were not quoted whole.
  Bytes q = cut(request({false, net::kProtoTcp}), 22);
  q[0] = 0x46;
  EXPECT_EQ(classify(error_frame(kRs1, kClient, 3, 3, 0, q)), IcmpDrop::kQuoteTruncated);
  // Quoted IP length shorter than its header plus ports: the ports are not part of the quote.
  q = cut(request({false, net::kProtoTcp}), 28);
  net::testing::put16(q, 2, 22);
  EXPECT_EQ(classify(error_frame(kRs1, kClient, 3, 3, 0, q)), IcmpDrop::kQuoteTruncated);
}

TEST(IcmpClassify, MalformedQuotes) {
  Bytes q = cut(request({false, net::kProtoTcp}), 28);
  q[0] = 0x65;  // version 6 inside ICMPv4
  EXPECT_EQ(classify(error_frame(kRs1, kClient, 3, 3, 0, q)), IcmpDrop::kQuoteMalformed);
  q[0] = 0x44;  // IHL 4
  EXPECT_EQ(classify(error_frame(kRs1, kClient, 3, 3, 0, q)), IcmpDrop::kQuoteMalformed);
  q[0] = 0x45;
  net::testing::put16(q, 2, 19);  // total length below the header
  EXPECT_EQ(classify(error_frame(kRs1, kClient, 3, 3, 0, q)), IcmpDrop::kQuoteMalformed);
  // IPv4 inside ICMPv6.
  EXPECT_EQ(classify(error_frame(kRs1v6, kClient6, 1, 4, 0,
                                 cut(request({false, net::kProtoTcp}), 60))),
            IcmpDrop::kQuoteMalformed);
  // An IPv6 quote whose extension header runs past the quote.
  Bytes q6 = PacketBuilder().ipv6(kClient6, kRs1v6).ipv6_ext(net::kProtoDstOpts, 16)
                 .udp(kCport, 5353).build_ip();
  q6[41] = 20;  // 168 bytes long
  EXPECT_EQ(classify(error_frame(kRs1v6, kClient6, 1, 4, 0, q6)), IcmpDrop::kQuoteMalformed);
}

TEST(IcmpClassify, InnerFragments) {
  const Flow f{false, net::kProtoUdp};
  // A later fragment: no ports to find a connection by (IPVS: IP_OFFSET set).
  Bytes q = cut(request(f), 28);
  net::testing::put16(q, 6, 185);
  net::testing::fix_ipv4_checksum(q, 0);
  EXPECT_EQ(classify(error_frame(kRs1, kClient, 11, 1, 0, q)), IcmpDrop::kInnerFragment);
  // The first fragment (MF, offset 0) carries the ports: relayed, as reassembly time exceeded is.
  net::testing::put16(q, 6, 0x2000);
  net::testing::fix_ipv4_checksum(q, 0);
  Bytes frame = error_frame(kRs1, kClient, 11, 1, 0, q);
  IcmpError e;
  ASSERT_EQ(classify(frame, &e), IcmpDrop::kNone);
  EXPECT_EQ(e.inner.sport, kCport);
  EXPECT_EQ(e.inner.dport, 5353);
  const net::ParsedPacket p = net::parse_packet(frame.data(), frame.size());
  ASSERT_TRUE(icmp_nat_out(frame.data(), p, e, make_conn(f)));
  expect_sums_ok(frame);

  // IPv6: a fragment header with a non-zero offset, then one of a first fragment.
  const Flow f6{true, net::kProtoUdp};
  Bytes q6 = PacketBuilder().ipv6(kClient6, kRs1v6).ttl(63).ipv6_ext(net::kProtoFragment, 8)
                 .udp(kCport, 5353).payload(std::string(64, 'z')).build_ip();
  net::testing::put16(q6, 42, 8 << 3);  // offset 8 (x 8 bytes), M clear
  EXPECT_EQ(classify(error_frame(kRouterIn6, kClient6, 3, 1, 0, q6)), IcmpDrop::kInnerFragment);
  net::testing::put16(q6, 42, 1);  // offset 0, M set
  frame = error_frame(kRouterIn6, kClient6, 3, 1, 0, q6);
  ASSERT_EQ(classify(frame, &e), IcmpDrop::kNone);
  EXPECT_EQ(e.inner_l4_offset, 14 + 40 + 8 + 40 + 8);
  EXPECT_EQ(e.key.a_port, 5353);
  const net::ParsedPacket p6 = net::parse_packet(frame.data(), frame.size());
  ASSERT_TRUE(icmp_nat_out(frame.data(), p6, e, make_conn(f6)));
  EXPECT_EQ(net::testing::get16(frame, e.inner_l4_offset + 2), 53);
  expect_sums_ok(frame);
}

TEST(IcmpClassify, NestedAndUnsupportedQuotes) {
  // An error about an error (RFC 1122 forbids sending one; IPVS finds no protocol for it).
  const Bytes nested = PacketBuilder().ipv4(kClient, kRs1).icmp(3, 3).payload(
      cut(request({false, net::kProtoUdp}), 28)).build_ip();
  EXPECT_EQ(classify(error_frame(kRs1, kClient, 3, 3, 0, cut(nested, 28))), IcmpDrop::kNestedError);
  const Bytes nested6 = PacketBuilder().ipv6(kClient6, kRs1v6).icmp(2, 0, 1280).payload(
      cut(request({true, net::kProtoUdp}), 48)).build_ip();
  EXPECT_EQ(classify(error_frame(kRs1v6, kClient6, 1, 4, 0, cut(nested6, 48))),
            IcmpDrop::kNestedError);
  const Bytes redirect = PacketBuilder().ipv4(kClient, kRs1).icmp(5, 1).build_ip();
  EXPECT_EQ(classify(error_frame(kRs1, kClient, 3, 3, 0, redirect)), IcmpDrop::kNestedError);
  // Errors about echo and other transports are not about a connection.
  const Bytes echo = PacketBuilder().ipv4(kClient, kRs1).icmp(8, 0, 0x10001).build_ip();
  EXPECT_EQ(classify(error_frame(kRs1, kClient, 3, 3, 0, echo)), IcmpDrop::kInnerUnsupported);
  const Bytes echo6 = PacketBuilder().ipv6(kClient6, kRs1v6).icmp(128, 0, 0x10001).build_ip();
  EXPECT_EQ(classify(error_frame(kRs1v6, kClient6, 1, 4, 0, echo6)), IcmpDrop::kInnerUnsupported);
  const Bytes gre = PacketBuilder().ipv4(kClient, kRs1).raw_l4(net::kProtoGre)
                        .payload(hex("00 00 08 00 45 00 00 14")).build_ip();
  EXPECT_EQ(classify(error_frame(kRs1, kClient, 3, 3, 0, gre)), IcmpDrop::kInnerUnsupported);
  const Bytes ipip = PacketBuilder().ipv4(kClient, kRs1).raw_l4(net::kProtoIpip)
                         .payload(cut(request({false, net::kProtoTcp}), 28)).build_ip();
  EXPECT_EQ(classify(error_frame(kRs1, kClient, 3, 3, 0, ipip)), IcmpDrop::kInnerUnsupported);
}

TEST(IcmpClassify, TypesIpvsDoesNotRelay) {
  const Bytes q = cut(request({false, net::kProtoTcp}), 28);
  for (uint8_t type : {0, 5, 8, 12, 13, 14, 9, 10, 17, 42, 255}) {
    SCOPED_TRACE(int(type));
    EXPECT_EQ(classify(error_frame(kRs1, kClient, type, 0, 0, q)), IcmpDrop::kNotRelayed);
  }
  const Bytes q6 = cut(request({true, net::kProtoTcp}), 48);
  for (uint8_t type : {128, 129, 133, 134, 135, 136, 143, 200, 255}) {
    SCOPED_TRACE(int(type));
    EXPECT_EQ(classify(error_frame(kRs1v6, kClient6, type, 0, 0, q6)), IcmpDrop::kNotRelayed);
  }
  // ICMPv6 relays every error type, unassigned ones included (ICMPV6_INFOMSG_MASK clear).
  EXPECT_EQ(classify(error_frame(kRs1v6, kClient6, 127, 0, 0, q6)), IcmpDrop::kNone);
  EXPECT_EQ(classify(error_frame(kRs1v6, kClient6, 0, 0, 0, q6)), IcmpDrop::kNone);

  // Not ICMP at all.
  const Bytes tcp = PacketBuilder().ipv4(kClient, kVip).tcp(kCport, 80, net::kTcpSyn).build();
  IcmpError e;
  const net::ParsedPacket p = net::parse_packet(tcp.data(), tcp.size());
  EXPECT_FALSE(classify_icmp_error(tcp.data(), tcp.size(), p, e));
  EXPECT_EQ(e.status, IcmpDrop::kNotIcmp);
  // ICMP (v4) number inside IPv6 is not ICMPv6.
  const Bytes odd = PacketBuilder().ipv6(kRs1v6, kClient6).raw_l4(net::kProtoIcmp)
                        .payload(hex("03 03 00 00 00 00 00 00")).build();
  EXPECT_EQ(classify(odd), IcmpDrop::kNotIcmp);
}

TEST(IcmpClassify, BadChecksum) {
  Bytes f = error_frame(kRs1, kClient, 3, 3, 0, cut(request({false, net::kProtoTcp}), 48));
  f.back() ^= 0x01;
  EXPECT_EQ(classify(f), IcmpDrop::kBadChecksum);
  // ICMPv6: the pseudo-header counts. Moving the outer destination without fixing the checksum
  // is caught.
  Bytes f6 = error_frame(kRs1v6, kClient6, 1, 4, 0, cut(request({true, net::kProtoTcp}), 60));
  f6[14 + 24 + 15] ^= 0x02;
  EXPECT_EQ(classify(f6), IcmpDrop::kBadChecksum);
}

TEST(IcmpClassify, Ipv6ErrorBehindFragmentHeader) {
  // An atomic fragment (offset 0, M clear): parse_packet lets it through, IPVS drops it.
  const Bytes f = PacketBuilder().ipv6(kRs1v6, kClient6).ipv6_ext(net::kProtoFragment, 8)
                      .icmp(1, 4).payload(cut(request({true, net::kProtoTcp}), 60)).build();
  EXPECT_EQ(classify(f), IcmpDrop::kFragmentedError);
  // Other extension headers before the ICMPv6 header are fine.
  const Flow fl{true, net::kProtoTcp};
  Bytes g = PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kRs1v6, kClient6)
                .ipv6_ext(net::kProtoHopByHop, 8).ipv6_ext(net::kProtoDstOpts, 16)
                .icmp(1, 4).payload(cut(request(fl), 60)).build();
  IcmpError e;
  ASSERT_EQ(classify(g, &e), IcmpDrop::kNone);
  EXPECT_EQ(e.icmp_offset, 14 + 40 + 24);
  const net::ParsedPacket p = net::parse_packet(g.data(), g.size());
  ASSERT_TRUE(icmp_nat_out(g.data(), p, e, make_conn(fl)));
  const Bytes want = PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kVip6, kClient6).ttl(63)
                         .ipv6_ext(net::kProtoHopByHop, 8).ipv6_ext(net::kProtoDstOpts, 16)
                         .icmp(1, 4).payload([&] {
                           Bytes w = cut(packet(fl, kClient6, kCport, kVip6, 80), 60);
                           keep_l4_checksum(cut(request(fl), 60), w, net::kProtoTcp);
                           return w;
                         }()).build();
  EXPECT_EQ(g, want);
  expect_sums_ok(g);
}

TEST(IcmpNat, Ipv6QuoteWithExtensionHeaders) {
  const Flow f{true, net::kProtoUdp};
  auto quote = [&](const IpAddr& s, uint16_t sp, const IpAddr& d, uint16_t dp) {
    return PacketBuilder().ipv6(s, d).ttl(63).ipv6_ext(net::kProtoHopByHop, 8)
        .ipv6_ext(net::kProtoRouting, 24).udp(sp, dp).payload("dns?").build_ip();
  };
  const Bytes q = quote(kVip6, 53, kClient6, kCport);
  Bytes frame = error_frame(kRouterOut6, kVip6, 3, 0, 0, q);
  IcmpError e;
  ASSERT_EQ(classify(frame, &e), IcmpDrop::kNone);
  EXPECT_EQ(e.inner_l4_offset, 14 + 40 + 8 + 40 + 8 + 24);
  const net::ParsedPacket p = net::parse_packet(frame.data(), frame.size());
  icmp_nat_in(frame.data(), p, e, make_conn(f));
  Bytes want_q = quote(kRs1v6, 5353, kClient6, kCport);
  want_q[40 + 32 + 6] = q[40 + 32 + 6];
  want_q[40 + 32 + 7] = q[40 + 32 + 7];
  EXPECT_EQ(frame, error_frame(kRouterOut6, kRs1v6, 3, 0, 0, want_q));
  expect_sums_ok(frame);
}

TEST(IcmpNat, Ipv4QuoteWithOptionsAndBadQuotedChecksum) {
  const Flow f{false, net::kProtoTcp};
  // The quoted header carries 4 bytes of options (NOPs) and a wrong checksum: IPVS recomputes it
  // (ip_send_check), so the relayed quote has a correct one.
  Bytes q = cut(request(f), 28);
  q.insert(q.begin() + 20, {1, 1, 1, 0});
  q[0] = 0x46;
  net::testing::put16(q, 2, net::testing::get16(q, 2) + 4);
  net::testing::put16(q, 10, 0xbeef);
  Bytes frame = error_frame(kRs1, kClient, 3, 4, 1400, q);
  IcmpError e;
  ASSERT_EQ(classify(frame, &e), IcmpDrop::kNone);
  EXPECT_EQ(e.inner_l4_offset, 14 + 20 + 8 + 24);
  const net::ParsedPacket p = net::parse_packet(frame.data(), frame.size());
  ASSERT_TRUE(icmp_nat_out(frame.data(), p, e, make_conn(f)));
  expect_sums_ok(frame);
  Bytes want_q = q;
  std::memcpy(&want_q[16], kVip.data(), 4);
  net::testing::put16(want_q, 26, 80);
  net::testing::fix_ipv4_checksum(want_q, 0);
  EXPECT_EQ(frame, error_frame(kVip, kClient, 3, 4, 1400, want_q, 63));
}

TEST(IcmpNat, PaddingAfterThePacketIsLeftAlone) {
  const Flow f{false, net::kProtoUdp};
  Bytes frame = error_frame(kRs1, kClient, 3, 3, 0, cut(request(f), 28));
  const size_t ip_end = frame.size();
  frame.insert(frame.end(), {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff});
  IcmpError e;
  ASSERT_EQ(classify(frame, &e), IcmpDrop::kNone);
  EXPECT_EQ(e.icmp_end, ip_end);
  const net::ParsedPacket p = net::parse_packet(frame.data(), frame.size());
  ASSERT_TRUE(icmp_nat_out(frame.data(), p, e, make_conn(f)));
  expect_sums_ok(frame);
  EXPECT_EQ(Bytes(frame.begin() + ip_end, frame.end()), hex("aa bb cc dd ee ff"));
}

TEST(IcmpNat, UdpQuoteWithoutChecksumStaysWithout) {
  const Flow f{false, net::kProtoUdp};
  const Bytes q = PacketBuilder().ipv4(kClient, kRs1).udp(kCport, 5353).no_udp_checksum()
                      .payload("q").build_ip();
  Bytes frame = error_frame(kRs1, kClient, 3, 3, 0, q);
  IcmpError e;
  ASSERT_EQ(classify(frame, &e), IcmpDrop::kNone);
  const net::ParsedPacket p = net::parse_packet(frame.data(), frame.size());
  ASSERT_TRUE(icmp_nat_out(frame.data(), p, e, make_conn(f)));
  EXPECT_EQ(net::testing::get16(frame, e.inner_l4_offset + 6), 0);
  expect_sums_ok(frame);
}

TEST(IcmpNat, ReplyDirectionNeedsTtl) {
  for (bool v6 : {false, true}) {
    const Flow f{v6, net::kProtoTcp};
    const Bytes orig = error_frame(f.rs(), f.client(), v6 ? 1 : 3, v6 ? 4 : 3, 0,
                                   cut(request(f), 60), 1);
    Bytes frame = orig;
    IcmpError e;
    ASSERT_EQ(classify(frame, &e), IcmpDrop::kNone);
    const net::ParsedPacket p = net::parse_packet(frame.data(), frame.size());
    EXPECT_FALSE(icmp_nat_out(frame.data(), p, e, make_conn(f)));
    EXPECT_EQ(frame, orig);
  }
}

TEST(IcmpEcho, Ipv4RequestBecomesReply) {
  Bytes f = PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip).ttl(50).ip_id(7)
                .icmp(8, 0, 0x12340001).payload("abcdefghijklmnopqrstuvwxyz").build();
  const net::ParsedPacket p = net::parse_packet(f.data(), f.size());
  EXPECT_EQ(icmp_echo_reply(f.data(), f.size(), p), f.size());
  // MACs stay for the caller.
  EXPECT_EQ(f, PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kVip, kClient).ttl(64).ip_id(7)
                   .icmp(0, 0, 0x12340001).payload("abcdefghijklmnopqrstuvwxyz").build());
  EXPECT_EQ(ref_sum(&f[14], 20), 0xffff);
}

TEST(IcmpEcho, Ipv6RequestBecomesReply) {
  Bytes f = PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kClient6, kVip6).ttl(255)
                .icmp(128, 0, 0xbeef0003).payload("ping6").build();
  const net::ParsedPacket p = net::parse_packet(f.data(), f.size());
  EXPECT_EQ(icmp_echo_reply(f.data(), f.size(), p), f.size());
  EXPECT_EQ(f, PacketBuilder().eth(kRouterMac, kExtMac).ipv6(kVip6, kClient6).ttl(64)
                   .icmp(129, 0, 0xbeef0003).payload("ping6").build());
}

// Identifier, sequence and data all zero: the reply sums to zero, its checksum is 0xffff, as a
// full computation (the kernel's) gives; the incremental update alone would give 0x0000.
TEST(IcmpEcho, AllZeroReplyGetsTheFullChecksum) {
  Bytes f = PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip).icmp(8, 0, 0)
                .payload(Bytes(4, 0)).build();
  const net::ParsedPacket p = net::parse_packet(f.data(), f.size());
  EXPECT_EQ(icmp_echo_reply(f.data(), f.size(), p), f.size());
  EXPECT_EQ(f, PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kVip, kClient).icmp(0, 0, 0)
                   .payload(Bytes(4, 0)).build());
  EXPECT_EQ(net::testing::get16(f, 14 + 20 + 2), 0xffff);
}

TEST(IcmpEcho, OnlyWellFormedRequests) {
  const Bytes cases[] = {
      PacketBuilder().ipv4(kClient, kVip).icmp(0, 0, 1).build(),      // echo reply
      PacketBuilder().ipv4(kClient, kVip).icmp(3, 3).payload(cut(reply({false, 6}), 28)).build(),
      PacketBuilder().ipv6(kClient6, kVip6).icmp(129, 0, 1).build(),  // echo reply
      PacketBuilder().ipv6(kClient6, kVip6).icmp(135, 0).build(),     // neighbour solicitation
      PacketBuilder().ipv4(kClient, kVip).tcp(kCport, 80, net::kTcpSyn).build(),
      PacketBuilder().ipv6(kClient6, kVip6).raw_l4(net::kProtoIcmp).payload(
          hex("08 00 f7 ff 00 00 00 00")).build(),  // ICMPv4 in IPv6
  };
  for (const Bytes& c : cases) {
    Bytes f = c;
    const net::ParsedPacket p = net::parse_packet(f.data(), f.size());
    EXPECT_EQ(icmp_echo_reply(f.data(), f.size(), p), 0u);
    EXPECT_EQ(f, c);
  }
  Bytes bad = PacketBuilder().ipv4(kClient, kVip).icmp(8, 0, 1).payload("x").build();
  bad.back() ^= 0x40;
  const Bytes orig = bad;
  const net::ParsedPacket p = net::parse_packet(bad.data(), bad.size());
  EXPECT_EQ(icmp_echo_reply(bad.data(), bad.size(), p), 0u);
  EXPECT_EQ(bad, orig);
}

TEST(IcmpDropNames, DistinctAndKnown) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < size_t(IcmpDrop::kCount); ++i) {
    const std::string_view n = icmp_drop_name(IcmpDrop(i));
    EXPECT_NE(n, "unknown");
    names.insert(n);
  }
  EXPECT_EQ(names.size(), size_t(IcmpDrop::kCount));
  EXPECT_EQ(icmp_drop_name(IcmpDrop::kCount), "unknown");
}

}  // namespace
}  // namespace lvs::core
