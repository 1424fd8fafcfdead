// lvs-rs's decapsulator (bpf/lvs_rs.bpf.c) through BPF_PROG_TEST_RUN, no network needed.
//
// Every tunnel type x outer family x inner family runs as a byte-exact fixture: the frame the
// director sends in, exactly the client's frame out (Ethernet kept, EtherType of the inner
// family). The fixtures below were written by an independent Python generator (struct, and an
// RFC 1071 checksum of its own: outer IPv4 and UDP checksums, GRE checksums, inner TCP/UDP
// checksums; for remcsum the inner checksum field holds only the pseudo-header sum, as a
// CHECKSUM_PARTIAL skb has it, and the expected output holds the full checksum computed from
// scratch), and checked with tcpdump -vv, which reports every checksum correct except the
// deliberate zero UDP checksum of Gue6in6NoCsum. Addresses: director 198.18.1.1 /
// 2001:2:1::1, this real server 198.18.1.11 / 2001:2:1::11, client 198.18.0.1 / 2001:2::1, VIP
// 198.18.2.100 / 2001:2:2::100, GUE port 6080.
//
// Then the packets lvs-rs must leave alone, each counted under its reason: malformed or
// unsupported encapsulations (mutations of the fixtures), tunnels of a type not configured,
// tunnels for another host, inner destinations that are no VIP, and ordinary traffic.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bpf/lvs_rs_decap.h"
#include "bpf_test_util.h"
#include "net/packet_builder.h"

namespace lvs::bpftest {
namespace {

static_assert(sizeof(lvs_rs_addr) == 20);
static_assert(sizeof(lvs_rs_config) == 8);
static_assert(LVS_RS_STAT_MAX == LVS_RS_STATUS_MAX + 7);

// ipip 4in4, TCP SYN inside: 74 bytes in, 54 out.
const char kIpip4in4In[] =
    "02000000000202000000000108004500003c000040004004ac8dc6120101c612010b450000280000"
    "40004006ac46c6120001c61202649c40005000000001000000005002ffff84c70000";
const char kIpip4in4Out[] =
    "020000000002020000000001080045000028000040004006ac46c6120001c61202649c4000500000"
    "0001000000005002ffff84c70000";
// ipip 6in6, UDP inside: 107 bytes in, 67 out.
const char kIpip6in6In[] =
    "02000000000202000000000186dd6000000000352940200100020001000000000000000000012001"
    "000200010000000000000000001160000000000d1140200100020000000000000000000000012001"
    "00020002000000000000000001009c410035000dd26c7175657279";
const char kIpip6in6Out[] =
    "02000000000202000000000186dd60000000000d1140200100020000000000000000000000012001"
    "00020002000000000000000001009c410035000dd26c7175657279";
// ipip 4in6 (outer IPv6, next header 4): 87 bytes in, 47 out.
const char kIpip4in6In[] =
    "02000000000202000000000186dd6000000000210440200100020001000000000000000000012001"
    "000200010000000000000000001145000021000040004011ac42c6120001c61202649c410035000d"
    "84eb7175657279";
const char kIpip4in6Out[] =
    "020000000002020000000001080045000021000040004011ac42c6120001c61202649c410035000d"
    "84eb7175657279";
// ipip 6in4 (outer IPv4, protocol 41): 94 bytes in, 74 out.
const char kIpip6in4In[] =
    "020000000002020000000001080045000050000040004029ac54c6120101c612010b600000000014"
    "064020010002000000000000000000000001200100020002000000000000000001009c4000500000"
    "0001000000005002ffffd2480000";
const char kIpip6in4Out[] =
    "02000000000202000000000186dd6000000000140640200100020000000000000000000000012001"
    "00020002000000000000000001009c40005000000001000000005002ffffd2480000";
// gue 4in4, UDP checksum set: 86 bytes in, 54 out.
const char kGue4in4CsumIn[] =
    "020000000002020000000001080045000048000040004011ac74c6120101c612010bc3cb17c00034"
    "246a0004000045000028000040004006ac46c6120001c61202649c40005000000001000000005002"
    "ffff84c70000";
const char kGue4in4CsumOut[] =
    "020000000002020000000001080045000028000040004006ac46c6120001c61202649c4000500000"
    "0001000000005002ffff84c70000";
// gue 4in4, UDP checksum 0: 79 bytes in, 47 out.
const char kGue4in4NoCsumIn[] =
    "020000000002020000000001080045000041000040004011ac7bc6120101c612010bc3cb17c0002d"
    "00000004000045000021000040004011ac42c6120001c61202649c410035000d84eb7175657279";
const char kGue4in4NoCsumOut[] =
    "020000000002020000000001080045000021000040004011ac42c6120001c61202649c410035000d"
    "84eb7175657279";
// gue 6in6, UDP checksum set: 126 bytes in, 74 out.
const char kGue6in6CsumIn[] =
    "02000000000202000000000186dd6000000000481140200100020001000000000000000000012001"
    "0002000100000000000000000011c3cb17c000487d55002900006000000000140640200100020000"
    "00000000000000000001200100020002000000000000000001009c40005000000001000000005002"
    "ffffd2480000";
const char kGue6in6CsumOut[] =
    "02000000000202000000000186dd6000000000140640200100020000000000000000000000012001"
    "00020002000000000000000001009c40005000000001000000005002ffffd2480000";
// gue 6in6, UDP checksum 0 (RFC 6935): 119 bytes in, 67 out.
const char kGue6in6NoCsumIn[] =
    "02000000000202000000000186dd6000000000411140200100020001000000000000000000012001"
    "0002000100000000000000000011c3cb17c0004100000029000060000000000d1140200100020000"
    "00000000000000000001200100020002000000000000000001009c410035000dd26c7175657279";
const char kGue6in6NoCsumOut[] =
    "02000000000202000000000186dd60000000000d1140200100020000000000000000000000012001"
    "00020002000000000000000001009c410035000dd26c7175657279";
// gue 6in4: 99 bytes in, 67 out.
const char kGue6in4In[] =
    "020000000002020000000001080045000055000040004011ac67c6120101c612010bc3cb17c00041"
    "24570029000060000000000d11402001000200000000000000000000000120010002000200000000"
    "0000000001009c410035000dd26c7175657279";
const char kGue6in4Out[] =
    "02000000000202000000000186dd60000000000d1140200100020000000000000000000000012001"
    "00020002000000000000000001009c410035000dd26c7175657279";
// gue 4in6: 106 bytes in, 54 out.
const char kGue4in6In[] =
    "02000000000202000000000186dd6000000000341140200100020001000000000000000000012001"
    "0002000100000000000000000011c3cb17c0003472810004000045000028000040004006ac46c612"
    "0001c61202649c40005000000001000000005002ffff84c70000";
const char kGue4in6Out[] =
    "020000000002020000000001080045000028000040004006ac46c6120001c61202649c4000500000"
    "0001000000005002ffff84c70000";
// gue 4in4 with remcsum, inner TCP checksum partial: 94 bytes in, 54 out.
const char kGue4in4RemcsumIn[] =
    "020000000002020000000001080045000050000040004011ac6cc6120101c612010bc3cb17c0003c"
    "984302040001800000000014002445000028000040004006ac46c6120001c61202649c4000500000"
    "0001000000005002ffff8ea40000";
const char kGue4in4RemcsumOut[] =
    "020000000002020000000001080045000028000040004006ac46c6120001c61202649c4000500000"
    "0001000000005002ffff84c70000";
// gue 6in6 with remcsum, inner UDP checksum partial: 127 bytes in, 67 out.
const char kGue6in6RemcsumIn[] =
    "02000000000202000000000186dd6000000000491140200100020001000000000000000000012001"
    "0002000100000000000000000011c3cb17c00049814c02290001800000000028002e60000000000d"
    "114020010002000000000000000000000001200100020002000000000000000001009c410035000d"
    "41277175657279";
const char kGue6in6RemcsumOut[] =
    "02000000000202000000000186dd60000000000d1140200100020000000000000000000000012001"
    "00020002000000000000000001009c410035000dd26c7175657279";
// gue 4in6 with remcsum, inner UDP checksum partial: 107 bytes in, 47 out.
const char kGue4in6RemcsumIn[] =
    "02000000000202000000000186dd6000000000351140200100020001000000000000000000012001"
    "0002000100000000000000000011c3cb17c00035e69602040001800000000014001a450000210000"
    "40004011ac42c6120001c61202649c410035000d8ea87175657279";
const char kGue4in6RemcsumOut[] =
    "020000000002020000000001080045000021000040004011ac42c6120001c61202649c410035000d"
    "84eb7175657279";
// gue 4in4, Hlen 1 without flags (options skipped): 83 bytes in, 47 out.
const char kGue4in4ExtraOptIn[] =
    "020000000002020000000001080045000045000040004011ac77c6120101c612010bc3cb17c00031"
    "85d601040000deadbeef45000021000040004011ac42c6120001c61202649c410035000d84eb7175"
    "657279";
const char kGue4in4ExtraOptOut[] =
    "020000000002020000000001080045000021000040004011ac42c6120001c61202649c410035000d"
    "84eb7175657279";
// gue version 1 (direct IPv4): 75 bytes in, 47 out.
const char kGueDirect4in4In[] =
    "02000000000202000000000108004500003d000040004011ac7fc6120101c612010bc3cb17c00029"
    "248845000021000040004011ac42c6120001c61202649c410035000d84eb7175657279";
const char kGueDirect4in4Out[] =
    "020000000002020000000001080045000021000040004011ac42c6120001c61202649c410035000d"
    "84eb7175657279";
// gue version 1 (direct IPv6): 102 bytes in, 74 out.
const char kGueDirect6in4In[] =
    "020000000002020000000001080045000058000040004011ac64c6120101c612010bc3cb17c00044"
    "2f6f6000000000140640200100020000000000000000000000012001000200020000000000000000"
    "01009c40005000000001000000005002ffffd2480000";
const char kGueDirect6in4Out[] =
    "02000000000202000000000186dd6000000000140640200100020000000000000000000000012001"
    "00020002000000000000000001009c40005000000001000000005002ffffd2480000";
// gre 4in4, no checksum: 78 bytes in, 54 out.
const char kGre4in4In[] =
    "02000000000202000000000108004500004000004000402fac5ec6120101c612010b000008004500"
    "0028000040004006ac46c6120001c61202649c40005000000001000000005002ffff84c70000";
const char kGre4in4Out[] =
    "020000000002020000000001080045000028000040004006ac46c6120001c61202649c4000500000"
    "0001000000005002ffff84c70000";
// gre 4in4 with checksum (C bit): 75 bytes in, 47 out.
const char kGre4in4CsumIn[] =
    "02000000000202000000000108004500003d00004000402fac61c6120101c612010b8000080006a8"
    "000045000021000040004011ac42c6120001c61202649c410035000d84eb7175657279";
const char kGre4in4CsumOut[] =
    "020000000002020000000001080045000021000040004011ac42c6120001c61202649c410035000d"
    "84eb7175657279";
// gre 6in6 with checksum: 122 bytes in, 74 out.
const char kGre6in6CsumIn[] =
    "02000000000202000000000186dd6000000000442f40200100020001000000000000000000012001"
    "0002000100000000000000000011800086dd92e70000600000000014064020010002000000000000"
    "000000000001200100020002000000000000000001009c40005000000001000000005002ffffd248"
    "0000";
const char kGre6in6CsumOut[] =
    "02000000000202000000000186dd6000000000140640200100020000000000000000000000012001"
    "00020002000000000000000001009c40005000000001000000005002ffffd2480000";
// gre 4in6: 91 bytes in, 47 out.
const char kGre4in6In[] =
    "02000000000202000000000186dd6000000000252f40200100020001000000000000000000012001"
    "00020001000000000000000000110000080045000021000040004011ac42c6120001c61202649c41"
    "0035000d84eb7175657279";
const char kGre4in6Out[] =
    "020000000002020000000001080045000021000040004011ac42c6120001c61202649c410035000d"
    "84eb7175657279";
// gre 6in4: 91 bytes in, 67 out.
const char kGre6in4In[] =
    "02000000000202000000000108004500004d00004000402fac51c6120101c612010b000086dd6000"
    "0000000d114020010002000000000000000000000001200100020002000000000000000001009c41"
    "0035000dd26c7175657279";
const char kGre6in4Out[] =
    "02000000000202000000000186dd60000000000d1140200100020000000000000000000000012001"
    "00020002000000000000000001009c410035000dd26c7175657279";

Bytes hex(const char* s) {
  Bytes out;
  for (size_t i = 0; s[i] && s[i + 1]; i += 2) {
    out.push_back(uint8_t(std::stoi(std::string(s + i, 2), nullptr, 16)));
  }
  return out;
}

struct Fixture {
  const char* name;
  const char* in;
  const char* out;
  uint32_t tun;  // LVS_RS_TUN_*
};

const std::vector<Fixture>& fixtures() {
  static const std::vector<Fixture> f = {
      {"Ipip4in4", kIpip4in4In, kIpip4in4Out, LVS_RS_TUN_IPIP},
      {"Ipip6in6", kIpip6in6In, kIpip6in6Out, LVS_RS_TUN_IPIP},
      {"Ipip4in6", kIpip4in6In, kIpip4in6Out, LVS_RS_TUN_IPIP},
      {"Ipip6in4", kIpip6in4In, kIpip6in4Out, LVS_RS_TUN_IPIP},
      {"Gue4in4Csum", kGue4in4CsumIn, kGue4in4CsumOut, LVS_RS_TUN_GUE},
      {"Gue4in4NoCsum", kGue4in4NoCsumIn, kGue4in4NoCsumOut, LVS_RS_TUN_GUE},
      {"Gue6in6Csum", kGue6in6CsumIn, kGue6in6CsumOut, LVS_RS_TUN_GUE},
      {"Gue6in6NoCsum", kGue6in6NoCsumIn, kGue6in6NoCsumOut, LVS_RS_TUN_GUE},
      {"Gue6in4", kGue6in4In, kGue6in4Out, LVS_RS_TUN_GUE},
      {"Gue4in6", kGue4in6In, kGue4in6Out, LVS_RS_TUN_GUE},
      {"Gue4in4Remcsum", kGue4in4RemcsumIn, kGue4in4RemcsumOut, LVS_RS_TUN_GUE},
      {"Gue6in6Remcsum", kGue6in6RemcsumIn, kGue6in6RemcsumOut, LVS_RS_TUN_GUE},
      {"Gue4in6Remcsum", kGue4in6RemcsumIn, kGue4in6RemcsumOut, LVS_RS_TUN_GUE},
      {"Gue4in4ExtraOpt", kGue4in4ExtraOptIn, kGue4in4ExtraOptOut, LVS_RS_TUN_GUE},
      {"GueDirect4in4", kGueDirect4in4In, kGueDirect4in4Out, LVS_RS_TUN_GUE},
      {"GueDirect6in4", kGueDirect6in4In, kGueDirect6in4Out, LVS_RS_TUN_GUE},
      {"Gre4in4", kGre4in4In, kGre4in4Out, LVS_RS_TUN_GRE},
      {"Gre4in4Csum", kGre4in4CsumIn, kGre4in4CsumOut, LVS_RS_TUN_GRE},
      {"Gre6in6Csum", kGre6in6CsumIn, kGre6in6CsumOut, LVS_RS_TUN_GRE},
      {"Gre4in6", kGre4in6In, kGre4in6Out, LVS_RS_TUN_GRE},
      {"Gre6in4", kGre6in4In, kGre6in4Out, LVS_RS_TUN_GRE},
  };
  return f;
}

const Fixture& fixture(const std::string& name) {
  for (const Fixture& f : fixtures()) {
    if (name == f.name) return f;
  }
  std::abort();
}

constexpr uint32_t kAllTunnels = LVS_RS_TUN_IPIP | LVS_RS_TUN_GUE | LVS_RS_TUN_GRE;
constexpr uint16_t kGuePort = 6080;
constexpr uint32_t kPass = uint32_t(TC_ACT_UNSPEC);

lvs_rs_addr rs_addr(const char* text) {
  const net::IpAddr a = net::ip(text);
  lvs_rs_addr k{};
  k.family = a.is_v4() ? LVS_RS_V4 : LVS_RS_V6;
  std::memcpy(k.addr, a.data(), a.size());
  return k;
}

using RsStats = std::array<uint64_t, LVS_RS_STAT_MAX>;

RsStats read_rs_stats(int fd) {
  RsStats out{};
  const int ncpu = libbpf_num_possible_cpus();
  std::vector<uint64_t> per_cpu(ncpu > 0 ? size_t(ncpu) : 1);
  for (uint32_t i = 0; i < LVS_RS_STAT_MAX; ++i) {
    if (bpf_map_lookup_elem(fd, &i, per_cpu.data()) != 0) continue;
    for (uint64_t v : per_cpu) out[i] += v;
  }
  return out;
}

struct TestRun {
  int err = 0;
  uint32_t retval = 0;
  Bytes out;
  RsStats delta{};
};

// The counters a run is expected to move: RX always, plus `stats`.
RsStats counted(std::initializer_list<uint32_t> stats) {
  RsStats s{};
  s[LVS_RS_STAT_RX] = 1;
  for (uint32_t i : stats) s[i] += 1;
  return s;
}

std::string stat_list(const RsStats& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i]) out += " [" + std::to_string(i) + "]=" + std::to_string(s[i]);
  }
  return out.empty() ? " none" : out;
}

struct Loaded {
  ObjectPtr obj;
  std::string error;
  int prog = -1, local = -1, vips = -1, config = -1, stats = -1;
};

Loaded& loaded() {
  static Loaded* l = [] {
    auto* out = new Loaded;
    out->obj = load_object(LVS_BPF_RS_OBJECT, &out->error);
    if (!out->obj) return out;
    out->prog = prog_fd(out->obj.get(), "lvs_rs_decap");
    out->local = map_fd(out->obj.get(), "lvs_rs_local");
    out->vips = map_fd(out->obj.get(), "lvs_rs_vips");
    out->config = map_fd(out->obj.get(), "lvs_rs_config");
    out->stats = map_fd(out->obj.get(), "lvs_rs_stats");
    if (out->prog < 0 || out->local < 0 || out->vips < 0 || out->config < 0 || out->stats < 0) {
      out->error = "lvs_rs.bpf.o lacks lvs_rs_decap or one of its maps";
      out->obj.reset();
    }
    return out;
  }();
  return *l;
}

void set_addrs(int fd, const std::vector<const char*>& addrs) {
  lvs_rs_addr key{}, next{};
  std::vector<lvs_rs_addr> old;
  for (int rc = bpf_map_get_next_key(fd, nullptr, &next); rc == 0;
       rc = bpf_map_get_next_key(fd, &key, &next)) {
    old.push_back(next);
    key = next;
  }
  for (const auto& k : old) bpf_map_delete_elem(fd, &k);
  const uint32_t zero = 0;
  for (const char* a : addrs) {
    const lvs_rs_addr k = rs_addr(a);
    ASSERT_EQ(bpf_map_update_elem(fd, &k, &zero, BPF_ANY), 0) << a;
  }
}

class RsDecap : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(loaded().obj) << loaded().error;
    configure(kAllTunnels, kGuePort);
    set_addrs(loaded().local, {"198.18.1.11", "2001:2:1::11"});
    set_addrs(loaded().vips, {"198.18.2.100", "2001:2:2::100"});
  }

  static void configure(uint32_t mask, uint16_t port) {
    const uint32_t zero = 0;
    lvs_rs_config c{};
    c.tun_mask = mask;
    c.gue_port = port;
    ASSERT_EQ(bpf_map_update_elem(loaded().config, &zero, &c, BPF_ANY), 0);
  }

  static TestRun run(const Bytes& in) {
    TestRun r;
    r.out.resize(in.size() + 256);
    const RsStats before = read_rs_stats(loaded().stats);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.data(), .data_out = r.out.data(),
                .data_size_in = uint32_t(in.size()), .data_size_out = uint32_t(r.out.size()),
                .repeat = 1);
    r.err = bpf_prog_test_run_opts(loaded().prog, &opts);
    r.retval = opts.retval;
    r.out.resize(r.err == 0 ? opts.data_size_out : 0);
    const RsStats after = read_rs_stats(loaded().stats);
    for (size_t i = 0; i < r.delta.size(); ++i) r.delta[i] = after[i] - before[i];
    return r;
  }

  // The frame must come out unchanged, the program pass it on, and exactly `stats` count it.
  static void expect_untouched(const Bytes& in, const RsStats& stats) {
    const TestRun r = run(in);
    ASSERT_EQ(r.err, 0) << "test run failed: " << std::strerror(-r.err);
    EXPECT_EQ(r.retval, kPass);
    EXPECT_EQ(r.out, in);
    EXPECT_EQ(r.delta, stats) << "counted:" << stat_list(r.delta)
                              << ", expected:" << stat_list(stats);
  }
};

uint32_t decap_stat(uint32_t tun) {
  return tun == LVS_RS_TUN_IPIP  ? LVS_RS_STAT_DECAP_IPIP
         : tun == LVS_RS_TUN_GUE ? LVS_RS_STAT_DECAP_GUE
                                 : LVS_RS_STAT_DECAP_GRE;
}

class RsDecapFixture : public RsDecap, public ::testing::WithParamInterface<Fixture> {};

std::string fixture_name(const ::testing::TestParamInfo<Fixture>& info) { return info.param.name; }

TEST_P(RsDecapFixture, InnerFrameComesOut) {
  const Fixture& f = GetParam();
  const TestRun r = run(hex(f.in));
  ASSERT_EQ(r.err, 0) << "test run failed: " << std::strerror(-r.err);
  EXPECT_EQ(r.retval, kPass);
  EXPECT_EQ(r.out, hex(f.out));
  const RsStats want = counted({LVS_RS_DECAP, decap_stat(f.tun)});
  EXPECT_EQ(r.delta, want) << "counted:" << stat_list(r.delta);
}

// Trailing bytes after the outer IP packet (Ethernet padding) stay behind the inner packet,
// where the stack's IP length check trims them, as it would have trimmed the outer one.
TEST_P(RsDecapFixture, PaddingStaysBehind) {
  const Fixture& f = GetParam();
  Bytes in = hex(f.in), want = hex(f.out);
  for (int i = 0; i < 6; ++i) {
    in.push_back(0);
    want.push_back(0);
  }
  const TestRun r = run(in);
  ASSERT_EQ(r.err, 0);
  EXPECT_EQ(r.out, want);
}

TEST_P(RsDecapFixture, TypeNotConfiguredIsLeftAlone) {
  const Fixture& f = GetParam();
  configure(kAllTunnels & ~f.tun, kGuePort);
  expect_untouched(hex(f.in), counted({LVS_RS_NOT_TUNNEL}));
}

TEST_P(RsDecapFixture, TunnelForAnotherHostIsLeftAlone) {
  set_addrs(loaded().local, {"198.18.1.12", "2001:2:1::12"});
  expect_untouched(hex(GetParam().in), counted({LVS_RS_STAT_NOT_LOCAL}));
}

TEST_P(RsDecapFixture, InnerDestinationNotAVipIsLeftAlone) {
  set_addrs(loaded().vips, {"198.18.2.101", "2001:2:2::101"});
  expect_untouched(hex(GetParam().in), counted({LVS_RS_STAT_NOT_VIP}));
}

TEST_P(RsDecapFixture, NothingConfiguredDecapsulatesNothing) {
  configure(0, 0);
  expect_untouched(hex(GetParam().in), counted({LVS_RS_NOT_TUNNEL}));
}

INSTANTIATE_TEST_SUITE_P(All, RsDecapFixture, ::testing::ValuesIn(fixtures()), fixture_name);

TEST_F(RsDecap, GueToAnotherPortIsLeftAlone) {
  configure(kAllTunnels, kGuePort + 1);
  for (const Fixture& f : fixtures()) {
    if (f.tun != LVS_RS_TUN_GUE) continue;
    SCOPED_TRACE(f.name);
    expect_untouched(hex(f.in), counted({LVS_RS_NOT_TUNNEL}));
  }
}

// ---------------------------------------------------------------------------------------------
// Broken or unsupported encapsulations: each a mutation of a fixture, left to the kernel
// unchanged and counted under exactly its reason.

// Offsets in the fixtures' frames.
constexpr size_t kL3 = 14;                  // outer IP header
constexpr size_t kL4v4 = kL3 + 20;          // UDP / GRE / inner header after an outer IPv4
constexpr size_t kL4v6 = kL3 + 40;          // ... after an outer IPv6
constexpr size_t kGue = kL4v4 + 8;          // GUE header (outer IPv4)
constexpr size_t kRemcsumStart = kGue + 8;  // remcsum option: start, offset (outer IPv4)

void put16(Bytes& b, size_t off, uint16_t v) {
  b.at(off) = uint8_t(v >> 8);
  b.at(off + 1) = uint8_t(v);
}
uint16_t get16(const Bytes& b, size_t off) { return uint16_t(b.at(off) << 8 | b.at(off + 1)); }

// Recomputes the outer IPv4 header checksum after a mutation of the header.
void fix_ip4_csum(Bytes& b) {
  put16(b, kL3 + 10, 0);
  uint32_t sum = 0;
  const size_t hlen = size_t(b[kL3] & 0xf) * 4;
  for (size_t i = 0; i < hlen; i += 2) sum += get16(b, kL3 + i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  put16(b, kL3 + 10, uint16_t(~sum));
}

struct Broken {
  const char* name;
  const char* base;  // fixture
  std::function<void(Bytes&)> mutate;
  uint32_t stat;  // the one counter besides RX
};

const std::vector<Broken>& broken() {
  static const std::vector<Broken> b = {
      // Lengths.
      {"OuterTotalLengthPastFrame", "Ipip4in4",
       [](Bytes& f) {
         put16(f, kL3 + 2, get16(f, kL3 + 2) + 8);
         fix_ip4_csum(f);
       },
       LVS_RS_ERR_TRUNCATED},
      {"FrameCutInInnerHeader", "Ipip4in4", [](Bytes& f) { f.resize(kL4v4 + 10); },
       LVS_RS_ERR_TRUNCATED},
      {"OuterIpv6PayloadPastFrame", "Ipip6in6",
       [](Bytes& f) { put16(f, kL3 + 4, get16(f, kL3 + 4) + 1); }, LVS_RS_ERR_TRUNCATED},
      {"GreHeaderCut", "Gre4in4",
       [](Bytes& f) {
         put16(f, kL3 + 2, 22);
         fix_ip4_csum(f);
         f.resize(kL3 + 22);
       },
       LVS_RS_ERR_TRUNCATED},
      {"GreChecksumWordCut", "Gre4in4Csum",
       [](Bytes& f) {
         put16(f, kL3 + 2, 26);
         fix_ip4_csum(f);
         f.resize(kL3 + 26);
       },
       LVS_RS_ERR_TRUNCATED},
      {"GueHlenPastUdpPayload", "Gue4in4NoCsum", [](Bytes& f) { f[kGue] = 31; },
       LVS_RS_ERR_TRUNCATED},
      {"UdpLengthLeavesNoGueHeader", "Gue4in4NoCsum", [](Bytes& f) { put16(f, kL4v4 + 4, 8); },
       LVS_RS_ERR_TRUNCATED},
      // Outer IP.
      {"OuterIpv4ChecksumWrong", "Gre4in4", [](Bytes& f) { f[kL3 + 11] ^= 1; },
       LVS_RS_ERR_OUTER_IP},
      {"OuterTotalLengthBelowHeader", "Ipip4in4",
       [](Bytes& f) {
         put16(f, kL3 + 2, 16);
         fix_ip4_csum(f);
       },
       LVS_RS_ERR_OUTER_IP},
      {"OuterIpv6PayloadLengthZero", "Ipip6in6", [](Bytes& f) { put16(f, kL3 + 4, 0); },
       LVS_RS_ERR_OUTER_IP},
      {"OuterMoreFragments", "Ipip4in4",
       [](Bytes& f) {
         put16(f, kL3 + 6, 0x2000);
         fix_ip4_csum(f);
       },
       LVS_RS_ERR_FRAGMENT},
      {"OuterFragmentOffset", "Gre4in4",
       [](Bytes& f) {
         put16(f, kL3 + 6, 0x0010);
         fix_ip4_csum(f);
       },
       LVS_RS_ERR_FRAGMENT},
      {"GueFirstFragment", "Gue4in4Csum",
       [](Bytes& f) {
         put16(f, kL3 + 6, 0x2000);
         fix_ip4_csum(f);
       },
       LVS_RS_ERR_FRAGMENT},
      // A later fragment of a UDP packet shows no port: it cannot be told from other UDP.
      {"UdpLaterFragment", "Gue4in4Csum",
       [](Bytes& f) {
         put16(f, kL3 + 6, 0x0010);
         fix_ip4_csum(f);
       },
       LVS_RS_NOT_TUNNEL},
      // UDP.
      {"UdpLengthPastIpPayload", "Gue4in4NoCsum",
       [](Bytes& f) { put16(f, kL4v4 + 4, get16(f, kL4v4 + 4) + 1); }, LVS_RS_ERR_UDP},
      {"UdpLengthBelowHeader", "Gue4in4NoCsum", [](Bytes& f) { put16(f, kL4v4 + 4, 7); },
       LVS_RS_ERR_UDP},
      // GUE.
      {"GueVersion2", "Gue4in4Csum", [](Bytes& f) { f[kGue] |= 0x80; }, LVS_RS_ERR_GUE_VERSION},
      {"GueVersion3", "Gue4in4Csum", [](Bytes& f) { f[kGue] |= 0xc0; }, LVS_RS_ERR_GUE_VERSION},
      {"GueDirectNeitherIpv4NorIpv6", "GueDirect4in4", [](Bytes& f) { f[kGue] = 0x55; },
       LVS_RS_ERR_GUE_VERSION},
      {"GueControlMessage", "Gue4in4Csum", [](Bytes& f) { f[kGue] |= 0x20; },
       LVS_RS_ERR_GUE_CONTROL},
      {"GueUnknownFlag", "Gue4in4Csum", [](Bytes& f) { put16(f, kGue + 2, 0x0002); },
       LVS_RS_ERR_GUE_FLAGS},
      {"GuePrivateFlagsWithoutRoom", "Gue4in4Csum", [](Bytes& f) { put16(f, kGue + 2, 0x0001); },
       LVS_RS_ERR_GUE_FLAGS},
      {"GueUnknownPrivateFlag", "Gue4in4Remcsum", [](Bytes& f) { f[kGue + 4] |= 0x40; },
       LVS_RS_ERR_GUE_FLAGS},
      {"GueRemcsumWithoutRoom", "Gue4in4Remcsum", [](Bytes& f) { f[kGue] = 1; },
       LVS_RS_ERR_GUE_FLAGS},
      {"GueProtoGre", "Gue4in4Csum", [](Bytes& f) { f[kGue + 1] = 47; }, LVS_RS_ERR_GUE_PROTO},
      {"GueProtoSaysIpv4ButIpv6Inside", "Gue6in4", [](Bytes& f) { f[kGue + 1] = 4; },
       LVS_RS_ERR_INNER},
      // Remote checksum offload.
      {"RemcsumWithoutUdpChecksum", "Gue4in4Remcsum", [](Bytes& f) { put16(f, kL4v4 + 6, 0); },
       LVS_RS_ERR_REMCSUM},
      {"RemcsumOddStart", "Gue4in4Remcsum",
       [](Bytes& f) { put16(f, kRemcsumStart, get16(f, kRemcsumStart) + 1); }, LVS_RS_ERR_REMCSUM},
      {"RemcsumFieldBeforeStart", "Gue4in4Remcsum",
       [](Bytes& f) { put16(f, kRemcsumStart + 2, get16(f, kRemcsumStart) - 2); },
       LVS_RS_ERR_REMCSUM},
      {"RemcsumFieldPastPacket", "Gue4in4Remcsum",
       [](Bytes& f) { put16(f, kRemcsumStart + 2, 40); }, LVS_RS_ERR_REMCSUM},
      {"RemcsumStartTooDeep", "Gue4in4Remcsum",
       [](Bytes& f) {
         put16(f, kRemcsumStart, 130);
         put16(f, kRemcsumStart + 2, 146);
       },
       LVS_RS_ERR_REMCSUM},
      // GRE.
      {"GreKey", "Gre4in4", [](Bytes& f) { f[kL4v4] |= 0x20; }, LVS_RS_ERR_GRE_FLAGS},
      {"GreSequence", "Gre4in4", [](Bytes& f) { f[kL4v4] |= 0x10; }, LVS_RS_ERR_GRE_FLAGS},
      {"GreRouting", "Gre4in4", [](Bytes& f) { f[kL4v4] |= 0x40; }, LVS_RS_ERR_GRE_FLAGS},
      {"GreVersion1", "Gre4in4", [](Bytes& f) { f[kL4v4 + 1] |= 0x01; }, LVS_RS_ERR_GRE_FLAGS},
      {"GreTransparentEthernet", "Gre4in4", [](Bytes& f) { put16(f, kL4v4 + 2, 0x6558); },
       LVS_RS_ERR_GRE_PROTO},
      {"GreOverIpv6Key", "Gre4in6", [](Bytes& f) { f[kL4v6] |= 0x20; }, LVS_RS_ERR_GRE_FLAGS},
      // Inner header.
      {"InnerVersionMismatch", "Ipip4in4", [](Bytes& f) { f[kL4v4] = 0x65; }, LVS_RS_ERR_INNER},
      {"InnerIhlBelow5", "Ipip4in4", [](Bytes& f) { f[kL4v4] = 0x44; }, LVS_RS_ERR_INNER},
      {"InnerIpv6HeaderCut", "Ipip6in6",
       [](Bytes& f) {
         put16(f, kL3 + 4, 20);
         f.resize(kL4v6 + 20);
       },
       LVS_RS_ERR_INNER},
      {"GreSaysIpv6ButIpv4Inside", "Gre4in4", [](Bytes& f) { put16(f, kL4v4 + 2, 0x86dd); },
       LVS_RS_ERR_INNER},
  };
  return b;
}

class RsDecapBroken : public RsDecap, public ::testing::WithParamInterface<Broken> {};

std::string broken_name(const ::testing::TestParamInfo<Broken>& info) { return info.param.name; }

TEST_P(RsDecapBroken, LeftAloneAndCounted) {
  const Broken& b = GetParam();
  Bytes in = hex(fixture(b.base).in);
  b.mutate(in);
  expect_untouched(in, counted({b.stat}));
}

// The same packet sent to another host is not this host's problem: counted as not local, not
// as malformed (unless it is not recognisable as a tunnel at all).
TEST_P(RsDecapBroken, ForAnotherHostCountedAsNotLocal) {
  const Broken& b = GetParam();
  set_addrs(loaded().local, {"198.18.1.12", "2001:2:1::12"});
  Bytes in = hex(fixture(b.base).in);
  b.mutate(in);
  const uint32_t want =
      b.stat == LVS_RS_NOT_TUNNEL ? uint32_t(LVS_RS_NOT_TUNNEL) : uint32_t(LVS_RS_STAT_NOT_LOCAL);
  expect_untouched(in, counted({want}));
}

INSTANTIATE_TEST_SUITE_P(All, RsDecapBroken, ::testing::ValuesIn(broken()), broken_name);

// RFC 2784 bits 6-12 are reserved and ignored on receipt.
TEST_F(RsDecap, GreReservedBitsIgnored) {
  Bytes in = hex(kGre4in4In);
  in[kL4v4 + 1] |= 0xf8;
  in[kL4v4] |= 0x03;
  const TestRun r = run(in);
  ASSERT_EQ(r.err, 0);
  EXPECT_EQ(r.out, hex(kGre4in4Out));
  EXPECT_EQ(r.delta, counted({LVS_RS_DECAP, LVS_RS_STAT_DECAP_GRE}));
}

// A remcsum packet whose inner bytes changed in flight: the checksum lvs-rs derives from the
// outer UDP checksum is the one for the bytes as sent, so the stack's check of the inner TCP
// checksum fails, as the outer check would have. Corruption is not laundered.
TEST_F(RsDecap, RemcsumCorruptionIsNotHidden) {
  constexpr size_t kInner = kGue + 12;          // after the GUE header and its 8 option bytes
  constexpr size_t kWindow = kInner + 20 + 14;  // a byte of the inner TCP window
  Bytes in = hex(kGue4in4RemcsumIn);
  in[kWindow] ^= 0x01;
  const TestRun r = run(in);
  ASSERT_EQ(r.err, 0);
  Bytes want = hex(kGue4in4RemcsumOut);  // the correct checksum of the unchanged segment
  want[14 + 20 + 14] ^= 0x01;
  EXPECT_EQ(r.out, want);
}

// Ordinary traffic to this host, and tunnels that are not IP at all.
TEST_F(RsDecap, OrdinaryTrafficIsLeftAlone) {
  expect_untouched(hex(kIpip4in4Out), counted({LVS_RS_NOT_TUNNEL}));  // TCP to the VIP
  expect_untouched(hex(kIpip6in6Out), counted({LVS_RS_NOT_TUNNEL}));  // UDP to the IPv6 VIP
  // Plain UDP to this host on another port than GUE's.
  const Bytes udp = net::PacketBuilder()
                        .eth(net::mac(1), net::mac(2))
                        .ipv4(net::ip("198.18.1.1"), net::ip("198.18.1.11"))
                        .udp(5000, 53)
                        .payload("hello")
                        .build();
  expect_untouched(udp, counted({LVS_RS_NOT_TUNNEL}));
  // ARP who-has 198.18.1.11: Ethernet broadcast; Ethernet/IPv4 request; sender, target.
  const Bytes arp =
      hex("ffffffffffff020000000001"
          "0806"
          "0001080006040001"
          "020000000001c6120101"
          "000000000000c612010b");
  expect_untouched(arp, counted({LVS_RS_NOT_TUNNEL}));
}

}  // namespace
}  // namespace lvs::bpftest
