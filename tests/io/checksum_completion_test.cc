#include <gtest/gtest.h>

#include "io/af_packet_io.h"
#include "net/checksum.h"
#include "net/packet_builder.h"
#include "net/parse.h"

namespace lvs::io {
namespace {

// What a sender using checksum offload leaves in the frame: the pseudo-header sum, folded but
// not complemented, in the checksum field.
std::vector<uint8_t> as_offloaded(std::vector<uint8_t> f) {
  const auto p = net::parse_packet(f.data(), f.size());
  const size_t off = p.l4_offset + (p.is_tcp() ? 16 : 6);
  const uint8_t* ip = f.data() + p.l3_offset;
  const bool v4 = p.family == net::Family::kV4;
  const auto src = v4 ? net::IpAddr::v4(ip + 12) : net::IpAddr::v6(ip + 8);
  const auto dst = v4 ? net::IpAddr::v4(ip + 16) : net::IpAddr::v6(ip + 24);
  net::store_be16(&f[off], net::csum_fold(net::pseudo_header_sum(src, dst, p.l4_proto, p.l4_len())));
  return f;
}

TEST(ChecksumCompletion, RestoresTheFullChecksum) {
  using net::PacketBuilder;
  const std::vector<std::vector<uint8_t>> frames = {
      PacketBuilder().ipv4(net::ip("198.18.0.1"), net::ip("198.18.0.2")).tcp(1, 2, net::kTcpAck)
          .payload("hello world").build(),
      PacketBuilder().ipv4(net::ip("198.18.0.1"), net::ip("198.18.0.2")).udp(5, 6).payload("x").build(),
      PacketBuilder().ipv6(net::ip("2001:2::1"), net::ip("2001:2::2")).tcp(1, 2, net::kTcpSyn).build(),
  };
  for (const auto& good : frames) {
    auto f = as_offloaded(good);
    ASSERT_NE(f, good);
    complete_partial_checksum(f.data(), f.size());
    EXPECT_EQ(f, good);
  }
}

TEST(ChecksumCompletion, LeavesOtherFramesAlone) {
  auto icmp = net::PacketBuilder().ipv4(net::ip("198.18.0.1"), net::ip("198.18.0.2")).icmp(8, 0).build();
  auto copy = icmp;
  complete_partial_checksum(copy.data(), copy.size());
  EXPECT_EQ(copy, icmp);
  std::vector<uint8_t> junk(7, 0xab);
  complete_partial_checksum(junk.data(), junk.size());
  EXPECT_EQ(junk, std::vector<uint8_t>(7, 0xab));
}

}  // namespace
}  // namespace lvs::io
