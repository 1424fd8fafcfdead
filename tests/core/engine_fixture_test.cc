// Runs the packet fixture tables through Engine::process, one packet per burst and the whole
// table as one burst, and compares verdicts and output bytes exactly.
#include <gtest/gtest.h>

#include <functional>

#include "fixtures/dr_tcp_v4.h"
#include "fixtures/nat_tcp_v4.h"
#include "fixtures/nat_tcp_v6.h"
#include "net/parse.h"

namespace lvs::fixtures {
namespace {

constexpr uint32_t kHeadroom = 256;
constexpr uint32_t kFrameSize = 2048;

struct Frame {
  std::vector<uint8_t> buf = std::vector<uint8_t>(kFrameSize);
  core::Packet pkt;
  explicit Frame(const std::vector<uint8_t>& bytes) {
    std::memcpy(buf.data() + kHeadroom, bytes.data(), bytes.size());
    pkt.data = buf.data() + kHeadroom;
    pkt.len = uint32_t(bytes.size());
    pkt.headroom = kHeadroom;
    pkt.tailroom = kFrameSize - kHeadroom - pkt.len;
    pkt.ifindex = kExt;
  }
  std::vector<uint8_t> bytes() const { return {pkt.data, pkt.data + pkt.len}; }
};

std::string hex(const std::vector<uint8_t>& v) {
  std::string s;
  char b[4];
  for (size_t i = 0; i < v.size(); ++i) {
    std::snprintf(b, sizeof(b), "%02x%s", v[i], (i % 16 == 15) ? "\n" : " ");
    s += b;
  }
  return s;
}

void check(const Fixture& f, const Frame& fr) {
  SCOPED_TRACE(std::string(f.description));
  EXPECT_EQ(int(fr.pkt.verdict), int(f.verdict));
  EXPECT_EQ(core::drop_reason_name(fr.pkt.reason), core::drop_reason_name(f.reason));
  if (f.verdict == core::Verdict::kTx) {
    EXPECT_EQ(fr.pkt.out_ifindex, f.out_ifindex);
    EXPECT_EQ(hex(fr.bytes()), hex(f.output));
  }
}

using Setup = std::function<void(core::Engine&)>;

void run_one_by_one(const Setup& setup, const std::vector<Fixture>& table) {
  core::Engine e(test_config());
  auto routes = make_routes();
  e.set_routes(routes.get());
  setup(e);
  core::Nanos now = 1'000'000'000;
  for (const Fixture& f : table) {
    Frame fr(f.input);
    e.process(std::span(&fr.pkt, 1), now);
    now += 1'000'000;
    check(f, fr);
  }
}

void run_as_one_burst(const Setup& setup, const std::vector<Fixture>& table) {
  core::Engine e(test_config());
  auto routes = make_routes();
  e.set_routes(routes.get());
  setup(e);
  std::vector<Frame> frames;
  frames.reserve(table.size());
  for (const Fixture& f : table) frames.emplace_back(f.input);
  std::vector<core::Packet> burst;
  for (auto& fr : frames) burst.push_back(fr.pkt);
  e.process(burst, 1'000'000'000);
  for (size_t i = 0; i < table.size(); ++i) {
    frames[i].pkt = burst[i];
    check(table[i], frames[i]);
  }
}

TEST(EngineFixtures, NatTcpV4OneByOne) { run_one_by_one(setup_nat_v4, nat_tcp_v4()); }
TEST(EngineFixtures, NatTcpV4OneBurst) { run_as_one_burst(setup_nat_v4, nat_tcp_v4()); }
TEST(EngineFixtures, DrTcpV4OneByOne) { run_one_by_one(setup_dr_v4, dr_tcp_v4()); }
TEST(EngineFixtures, DrTcpV4OneBurst) { run_as_one_burst(setup_dr_v4, dr_tcp_v4()); }
TEST(EngineFixtures, NatTcpV6OneByOne) { run_one_by_one(setup_nat_v6, nat_tcp_v6()); }
TEST(EngineFixtures, NatTcpV6OneBurst) { run_as_one_burst(setup_nat_v6, nat_tcp_v6()); }

// Every output frame of every table is itself a well-formed packet with valid checksums: the
// expected bytes come from PacketBuilder's full computation, so equality above already proves
// the incremental updates; this guards the fixtures themselves.
TEST(EngineFixtures, ExpectedOutputsParse) {
  for (const auto& table : {nat_tcp_v4(), dr_tcp_v4(), nat_tcp_v6()}) {
    for (const Fixture& f : table) {
      if (f.verdict != core::Verdict::kTx) continue;
      EXPECT_TRUE(net::parse_packet(f.output.data(), f.output.size()).ok()) << f.description;
    }
  }
}

}  // namespace
}  // namespace lvs::fixtures
