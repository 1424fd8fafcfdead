// Google Benchmark for the pure engine: core::Engine::process on frames built by
// net::PacketBuilder, with a RouteTable (two attached interfaces, a gateway towards the clients,
// directly connected real servers) and one VS/NAT service (rr over four real servers).
//
//   BM_Established/<proto>/<dir>/<conns>  a packet of an existing connection, client->server
//                                         (in) or server->client (out), 1,000 or 1,000,000 live
//                                         connections, flows picked uniformly at random
//   BM_NewFlow/<proto>                    the first packet of a flow (TCP SYN, UDP datagram) to
//                                         the VIP: schedule + allocate + link + arm timer + NAT
//   BM_MemoryPerConn                      bytes per connection: from the table's geometry and
//                                         from RSS growth while filling 1,000,000 connections
//
// Timing: every iteration is one "round" of kRound packets. Outside the timed region the round's
// frames are copied from pristine copies into a ring of UMEM-like 2 KiB chunks (as a NIC, or the
// kernel in AF_XDP copy mode, would have just written them); the timed region is the engine alone,
// bursts of kBurst, timed by this thread's CPU clock (time spent descheduled on a shared machine is
// not the engine's; ns_per_pkt_wall has the wall-clock figure beside it). The counter ns_per_pkt
// (ns_per_conn) is the figure to read; the run fails (SkipWithError) if any packet of a round was
// dropped or, for established flows, created a connection.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/conn.h"
#include "core/engine.h"
#include "core/route_table.h"
#include "core/types.h"
#include "net/addr.h"
#include "net/bytes.h"
#include "net/checksum.h"
#include "net/headers.h"
#include "net/packet_builder.h"

namespace {

using namespace lvs;

constexpr uint32_t kIfClient = 2;  // director's client-side interface
constexpr uint32_t kIfServer = 3;  // director's real-server-side interface
constexpr size_t kFrameLen = 64;   // a minimum-size frame (no FCS in memory)
constexpr size_t kChunk = 2048;    // UMEM-like frame slots
constexpr size_t kHeadroom = 256;
constexpr size_t kRound = 1024;              // packets per benchmark iteration
constexpr size_t kBurst = 32;                // packets per Engine::process call
constexpr core::Nanos kBurstSpacing = 2000;  // simulated time between bursts
constexpr uint64_t kSeed = 0x5eed1e55c0ffee11ull;

constexpr uint32_t kVip = 0xc6120264;  // 198.18.2.100
constexpr uint16_t kVport = 80;
constexpr uint32_t kRealBase = 0xc612010b;  // 198.18.1.11 ...
constexpr uint16_t kRport = 8080;
constexpr int kReals = 4;
constexpr uint32_t kGateway = 0xc6120001;     // 198.18.0.1, towards the clients
constexpr uint32_t kClientBase = 0xc6128000;  // 198.18.128.0/17
constexpr uint32_t kClientAddrs = 0x8000;

constexpr size_t kEthLen = 14;
constexpr size_t kIpLen = 20;

// Flow i's client endpoint: 32,768 addresses times as many ports as needed, all distinct.
inline uint32_t client_addr(uint32_t i) { return kClientBase + (i % kClientAddrs); }
inline uint16_t client_port(uint32_t i) { return uint16_t(1024 + i / kClientAddrs); }

net::IpAddr v4(uint32_t host) { return net::IpAddr::v4(host); }

core::RouteTable make_routes() {
  std::vector<core::Iface> ifaces{
      {kIfClient, "d-in", net::mac(1), 1500, true},
      {kIfServer, "d-out", net::mac(2), 1500, true},
  };
  std::vector<core::Route> routes{
      {v4(kClientBase), 17, kIfClient, v4(kGateway), 0},
      {v4(0xc6120000), 24, kIfClient, net::IpAddr{}, 0},  // 198.18.0.0/24
      {v4(0xc6120100), 24, kIfServer, net::IpAddr{}, 0},  // 198.18.1.0/24
  };
  std::vector<core::Neigh> neighs{{kIfClient, v4(kGateway), net::mac(0x10)}};
  for (int k = 0; k < kReals; ++k) {
    neighs.push_back({kIfServer, v4(kRealBase + k), net::mac(uint8_t(0x20 + k))});
  }
  return core::RouteTable(std::move(ifaces), std::move(routes), std::move(neighs));
}

// shared_servers: a second service (the next port) on the same real servers, so every new
// NAT connection checks that no live one holds its 4-tuple at the server (nat_tuple.cc).
std::unique_ptr<core::Engine> make_engine(uint8_t proto, uint32_t capacity,
                                          const core::RouteTable& routes,
                                          bool shared_servers = false) {
  core::EngineConfig cfg;
  cfg.conn_capacity = capacity;
  cfg.hash_seed = kSeed;
  auto e = std::make_unique<core::Engine>(cfg);
  // One rr service on `port` over the kReals real servers (NAT, port kRport).
  const auto add_service = [&](uint16_t port) {
    core::ServiceSpec svc;
    svc.key.proto = proto;
    svc.key.addr = v4(kVip);
    svc.key.port = port;
    svc.scheduler = "rr";
    if (!e->add_service(svc)) std::abort();
    for (int k = 0; k < kReals; ++k) {
      core::DestSpec d;
      d.addr = v4(kRealBase + k);
      d.port = kRport;
      d.fwd = core::Fwd::kNat;
      d.weight = 1;
      if (!e->add_dest(svc.key, d)) std::abort();
    }
  };
  add_service(kVport);
  if (shared_servers) add_service(kVport + 1);
  e->set_routes(&routes);
  return e;
}

// A 64-byte template frame of `proto` with the given TCP flags and Ethernet addresses; the
// addresses and ports are filled in per flow by set_flow().
std::vector<uint8_t> template_frame(uint8_t proto, uint8_t tcp_flags, const net::MacAddr& src,
                                    const net::MacAddr& dst) {
  net::PacketBuilder b;
  b.eth(src, dst).ipv4(v4(1), v4(2));
  size_t hdr;
  if (proto == net::kProtoTcp) {
    b.tcp(1, 2, tcp_flags, 1000, tcp_flags & net::kTcpAck ? 2000 : 0);
    hdr = kEthLen + kIpLen + 20;
  } else {
    b.udp(1, 2);
    hdr = kEthLen + kIpLen + 8;
  }
  std::vector<uint8_t> pl(kFrameLen - hdr, 0xa5);
  b.payload(std::span<const uint8_t>(pl));
  auto f = b.build();
  if (f.size() != kFrameLen) std::abort();
  return f;
}

// Writes addresses and ports into a frame made by template_frame and recomputes its checksums
// (full sums: this runs outside the timed region).
void set_flow(uint8_t* f, uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport) {
  uint8_t* ip = f + kEthLen;
  uint8_t* l4 = ip + kIpLen;
  const uint8_t proto = ip[net::Ipv4View::kProto];
  net::store_be32(ip + net::Ipv4View::kSaddr, saddr);
  net::store_be32(ip + net::Ipv4View::kDaddr, daddr);
  net::store_be16(ip + net::Ipv4View::kCheck, 0);
  net::store_be16(ip + net::Ipv4View::kCheck, net::checksum(ip, kIpLen));
  net::store_be16(l4, sport);
  net::store_be16(l4 + 2, dport);
  const size_t l4_len = kFrameLen - kEthLen - kIpLen;
  uint8_t* check = l4 + (proto == net::kProtoTcp ? net::TcpView::kCheck : net::UdpView::kCheck);
  net::store_be16(check, 0);
  uint32_t sum = net::pseudo_header_sum(v4(saddr), v4(daddr), proto, uint32_t(l4_len));
  uint16_t c = uint16_t(~net::csum_fold(net::csum_partial(l4, l4_len, sum)));
  if (c == 0 && proto == net::kProtoUdp) c = 0xffff;
  net::store_be16(check, c);
}

// kRound UMEM-like chunks and their Packet descriptors.
class Ring {
 public:
  Ring() : mem_(new (std::align_val_t(4096)) uint8_t[kRound * kChunk]) {}
  ~Ring() { ::operator delete[](mem_, std::align_val_t(4096)); }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // Slot j gets a copy of the 64-byte frame at `src`, arriving on `ifindex`.
  void load(size_t j, const uint8_t* src, uint32_t ifindex) {
    uint8_t* d = mem_ + j * kChunk + kHeadroom;
    std::memcpy(d, src, kFrameLen);
    core::Packet& p = pkts_[j];
    p = core::Packet{};
    p.data = d;
    p.len = kFrameLen;
    p.headroom = kHeadroom;
    p.tailroom = kChunk - kHeadroom - kFrameLen;
    p.ifindex = ifindex;
  }
  core::Packet& pkt(size_t j) { return pkts_[j]; }
  std::span<core::Packet> burst(size_t first, size_t n) { return {pkts_.data() + first, n}; }

 private:
  uint8_t* mem_;
  std::array<core::Packet, kRound> pkts_{};
};

// Time of the timed region, two ways: this thread's CPU time (what the iteration time and
// ns_per_pkt use: on a shared machine, time the thread spent descheduled is not the engine's)
// and wall-clock time (ns_per_pkt_wall, for comparison; the two agree on an idle machine).
struct Stopwatch {
  timespec cpu0{}, wall0{};
  void start() {
    clock_gettime(CLOCK_MONOTONIC, &wall0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
  }
  // Returns {cpu seconds, wall seconds} since start().
  std::pair<double, double> stop() const {
    timespec cpu1{}, wall1{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
    clock_gettime(CLOCK_MONOTONIC, &wall1);
    auto secs = [](const timespec& a, const timespec& b) {
      return double(b.tv_sec - a.tv_sec) + double(b.tv_nsec - a.tv_nsec) * 1e-9;
    };
    return {secs(cpu0, cpu1), secs(wall0, wall1)};
  }
};

// Processes ring slots [0, n) in bursts; returns the simulated clock after the last burst.
core::Nanos run_bursts(core::Engine& e, Ring& ring, size_t n, core::Nanos now) {
  for (size_t j = 0; j < n; j += kBurst) {
    e.process(ring.burst(j, std::min(kBurst, n - j)), now);
    now += kBurstSpacing;
  }
  return now;
}

std::string drop_summary(const core::EngineCounters& c) {
  std::string s;
  for (size_t r = 0; r < c.drops.size(); ++r) {
    if (c.drops[r] == 0) continue;
    s += std::string(core::drop_reason_name(core::DropReason(r))) + "=" +
         std::to_string(c.drops[r]) + " ";
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// A table of n established connections with pristine frames for both directions.

struct Established {
  uint8_t proto = 0;
  uint32_t n = 0;
  core::RouteTable routes;
  std::unique_ptr<core::Engine> engine;
  std::vector<uint8_t> in_frames;   // client -> VIP, one per flow
  std::vector<uint8_t> out_frames;  // real server -> client, one per flow
  core::Nanos now = core::kNanosPerSec;
  std::string error;
};

uint32_t capacity_for(uint32_t n) { return std::max<uint32_t>(1u << 20, std::bit_ceil(n)); }

std::unique_ptr<Established> build_established(uint8_t proto, uint32_t n) {
  auto s = std::make_unique<Established>();
  s->proto = proto;
  s->n = n;
  s->routes = make_routes();
  s->engine = make_engine(proto, capacity_for(n), s->routes);
  core::Engine& e = *s->engine;
  const bool tcp = proto == net::kProtoTcp;

  const auto first = template_frame(proto, net::kTcpSyn, net::mac(0x10), net::mac(1));
  const auto data_in = template_frame(proto, net::kTcpAck, net::mac(0x10), net::mac(1));
  std::vector<std::vector<uint8_t>> data_out;
  std::vector<std::vector<uint8_t>> synack_out;
  for (int k = 0; k < kReals; ++k) {
    data_out.push_back(
        template_frame(proto, net::kTcpAck, net::mac(uint8_t(0x20 + k)), net::mac(2)));
    synack_out.push_back(template_frame(proto, net::kTcpSyn | net::kTcpAck,
                                        net::mac(uint8_t(0x20 + k)), net::mac(2)));
  }
  s->in_frames.resize(size_t(n) * kFrameLen);
  s->out_frames.resize(size_t(n) * kFrameLen);
  std::vector<uint8_t> real_of(n);  // which real server each flow was scheduled to

  Ring ring;
  auto fail = [&](const char* stage) {
    s->error = std::string("set-up (") + stage + ") dropped packets: " + drop_summary(e.counters());
    return std::move(s);
  };
  // 1. First packets: SYN (TCP) or the first datagram (UDP) create the connections.
  for (uint32_t base = 0; base < n; base += kRound) {
    const size_t m = std::min<size_t>(kRound, n - base);
    for (size_t j = 0; j < m; ++j) {
      const uint32_t i = base + uint32_t(j);
      uint8_t* f = s->in_frames.data() + size_t(i) * kFrameLen;
      std::memcpy(f, (tcp ? first : data_in).data(), kFrameLen);
      set_flow(f, client_addr(i), kVip, client_port(i), kVport);
      ring.load(j, f, kIfClient);
    }
    s->now = run_bursts(e, ring, m, s->now);
    for (size_t j = 0; j < m; ++j) {
      const core::Packet& p = ring.pkt(j);
      if (p.verdict != core::Verdict::kTx) return fail("first packet");
      const uint32_t real = net::load_be32(p.data + kEthLen + net::Ipv4View::kDaddr);
      real_of[base + j] = uint8_t(real - kRealBase);
    }
  }
  // 2. TCP: SYN+ACK from the real server, then the client's ACK: ESTABLISHED.
  if (tcp) {
    for (uint32_t base = 0; base < n; base += kRound) {
      const size_t m = std::min<size_t>(kRound, n - base);
      uint8_t tmp[kFrameLen];
      for (size_t j = 0; j < m; ++j) {
        const uint32_t i = base + uint32_t(j);
        std::memcpy(tmp, synack_out[real_of[i]].data(), kFrameLen);
        set_flow(tmp, kRealBase + real_of[i], client_addr(i), kRport, client_port(i));
        ring.load(j, tmp, kIfServer);
      }
      s->now = run_bursts(e, ring, m, s->now);
      for (size_t j = 0; j < m; ++j) {
        const uint32_t i = base + uint32_t(j);
        std::memcpy(tmp, data_in.data(), kFrameLen);
        set_flow(tmp, client_addr(i), kVip, client_port(i), kVport);
        ring.load(j, tmp, kIfClient);
      }
      s->now = run_bursts(e, ring, m, s->now);
    }
  }
  // 3. Pristine frames of established traffic: data from the client (TCP: ACK with payload)
  //    and from its real server.
  for (uint32_t i = 0; i < n; ++i) {
    uint8_t* fi = s->in_frames.data() + size_t(i) * kFrameLen;
    std::memcpy(fi, data_in.data(), kFrameLen);
    set_flow(fi, client_addr(i), kVip, client_port(i), kVport);
    uint8_t* fo = s->out_frames.data() + size_t(i) * kFrameLen;
    std::memcpy(fo, data_out[real_of[i]].data(), kFrameLen);
    set_flow(fo, kRealBase + real_of[i], client_addr(i), kRport, client_port(i));
  }
  if (e.counters().dropped() != 0) return fail("handshake");
  if (e.conns().size() != n) {
    s->error = "set-up: expected " + std::to_string(n) + " connections, table has " +
               std::to_string(e.conns().size());
  }
  return s;
}

// The most recent set-up is kept: the benchmarks of one (proto, n) run back to back.
Established* established(uint8_t proto, uint32_t n) {
  static std::unique_ptr<Established> cur;
  if (!cur || cur->proto != proto || cur->n != n) {
    cur.reset();  // free the old one first: 1M-connection set-ups are ~250 MB each
    cur = build_established(proto, n);
  }
  return cur.get();
}

// args: proto (6 | 17), direction (0 = client->server, 1 = server->client), connections
void BM_Established(benchmark::State& state) {
  const auto proto = uint8_t(state.range(0));
  const bool out = state.range(1) != 0;
  const auto n = uint32_t(state.range(2));
  Established* s = established(proto, n);
  if (!s->error.empty()) {
    state.SkipWithError(s->error.c_str());
    return;
  }
  core::Engine& e = *s->engine;
  const std::vector<uint8_t>& frames = out ? s->out_frames : s->in_frames;
  const uint32_t ifindex = out ? kIfServer : kIfClient;
  Ring ring;
  std::mt19937_64 rng(kSeed ^ n ^ (uint64_t(out) << 40));
  const uint64_t conns_before = e.counters().total.conns;
  double seconds = 0, wall_seconds = 0;
  uint64_t packets = 0;
  Stopwatch sw;

  for (auto _ : state) {
    for (size_t j = 0; j < kRound; ++j) {
      const size_t i = rng() % n;  // uniformly random flow: no locality across the table
      ring.load(j, frames.data() + i * kFrameLen, ifindex);
    }
    const uint64_t tx_before = e.counters().tx_packets;
    sw.start();
    s->now = run_bursts(e, ring, kRound, s->now);
    const auto [cpu, wall] = sw.stop();
    state.SetIterationTime(cpu);
    seconds += cpu;
    wall_seconds += wall;
    packets += kRound;
    // Every packet must have hit an existing connection and been forwarded.
    if (e.counters().tx_packets - tx_before != kRound || e.counters().dropped() != 0 ||
        e.counters().total.conns != conns_before) {
      const std::string msg = "packets not forwarded on an existing connection: drops " +
                              drop_summary(e.counters()) + " new conns " +
                              std::to_string(e.counters().total.conns - conns_before);
      state.SkipWithError(msg.c_str());
      break;
    }
    e.expire(s->now);  // the worker's timer work between bursts (nothing is due here)
  }
  state.SetItemsProcessed(int64_t(packets));
  state.counters["ns_per_pkt"] = packets ? seconds * 1e9 / double(packets) : 0;
  state.counters["ns_per_pkt_wall"] = packets ? wall_seconds * 1e9 / double(packets) : 0;
  state.counters["conns"] = double(e.conns().size());
}

// args: proto, shared (another service on the same real servers: the 4-tuple check runs). A
// fresh engine per run; each packet opens a connection to a distinct client endpoint. The
// table is sized so it never fills.
void BM_NewFlow(benchmark::State& state) {
  const auto proto = uint8_t(state.range(0));
  const uint32_t max_flows = uint32_t(state.max_iterations) * kRound;
  const core::RouteTable routes = make_routes();
  auto engine = make_engine(proto, std::bit_ceil(max_flows + 1), routes, state.range(1) != 0);
  core::Engine& e = *engine;
  const auto tmpl = template_frame(proto, net::kTcpSyn, net::mac(0x10), net::mac(1));
  Ring ring;
  uint32_t next = 0;
  core::Nanos now = core::kNanosPerSec;
  double seconds = 0, wall_seconds = 0;
  uint64_t packets = 0;
  Stopwatch sw;
  uint8_t f[kFrameLen];

  for (auto _ : state) {
    for (size_t j = 0; j < kRound; ++j) {
      const uint32_t i = next++;
      std::memcpy(f, tmpl.data(), kFrameLen);
      set_flow(f, client_addr(i), kVip, client_port(i), kVport);
      ring.load(j, f, kIfClient);
    }
    const uint64_t conns_before = e.counters().total.conns;
    sw.start();
    now = run_bursts(e, ring, kRound, now);
    const auto [cpu, wall] = sw.stop();
    state.SetIterationTime(cpu);
    seconds += cpu;
    wall_seconds += wall;
    packets += kRound;
    if (e.counters().dropped() != 0 || e.counters().total.conns - conns_before != kRound) {
      const std::string msg =
          "new flows not all created and forwarded: drops " + drop_summary(e.counters());
      state.SkipWithError(msg.c_str());
      break;
    }
    e.expire(now);
  }
  state.SetItemsProcessed(int64_t(packets));
  state.counters["ns_per_conn"] = packets ? seconds * 1e9 / double(packets) : 0;
  state.counters["ns_per_conn_wall"] = packets ? wall_seconds * 1e9 / double(packets) : 0;
  state.counters["conns"] = double(e.conns().size());
}

// Resident set size in bytes, from /proc/self/statm.
size_t rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  const int got = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return got == 2 ? resident * size_t(sysconf(_SC_PAGESIZE)) : 0;
}

// Bytes per connection, two ways: the table's geometry (sizeof(Conn) + two 4-byte bucket heads
// per bucket, spread over the capacity) and RSS growth across constructing an engine of lvsd's
// default capacity (1 << 20) and filling 1,000,000 UDP connections.
void BM_MemoryPerConn(benchmark::State& state) {
  constexpr uint32_t kConns = 1'000'000;
  for (auto _ : state) {
    state.PauseTiming();
    const core::RouteTable routes = make_routes();
    // Frames first, so their memory is not counted.
    const auto tmpl = template_frame(net::kProtoUdp, 0, net::mac(0x10), net::mac(1));
    std::vector<uint8_t> frames(size_t(kConns) * kFrameLen);
    for (uint32_t i = 0; i < kConns; ++i) {
      uint8_t* f = frames.data() + size_t(i) * kFrameLen;
      std::memcpy(f, tmpl.data(), kFrameLen);
      set_flow(f, client_addr(i), kVip, client_port(i), kVport);
    }
    Ring ring;
    const size_t rss0 = rss_bytes();
    state.ResumeTiming();

    auto engine = make_engine(net::kProtoUdp, 1u << 20, routes);
    core::Engine& e = *engine;
    core::Nanos now = core::kNanosPerSec;
    for (uint32_t base = 0; base < kConns; base += kRound) {
      const size_t m = std::min<size_t>(kRound, kConns - base);
      for (size_t j = 0; j < m; ++j) {
        ring.load(j, frames.data() + size_t(base + j) * kFrameLen, kIfClient);
      }
      now = run_bursts(e, ring, m, now);
    }

    state.PauseTiming();
    const size_t rss1 = rss_bytes();
    if (e.conns().size() != kConns || e.counters().dropped() != 0) {
      state.SkipWithError(("fill failed: " + drop_summary(e.counters())).c_str());
      break;
    }
    const core::ConnTable& t = e.conns();
    // Both indexes have bucket_count() heads of uint32_t.
    const double buckets = double(t.bucket_count());
    state.counters["sizeof_conn"] = double(sizeof(core::Conn));
    state.counters["bucket_bytes_per_conn"] = 2.0 * sizeof(uint32_t) * buckets / t.capacity();
    state.counters["bytes_per_conn"] =
        double(sizeof(core::Conn)) + 2.0 * sizeof(uint32_t) * buckets / t.capacity();
    state.counters["rss_bytes_per_conn"] = double(rss1 - rss0) / kConns;
    state.counters["conns"] = double(t.size());
    state.counters["capacity"] = double(t.capacity());
    state.ResumeTiming();
  }
}

void established_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"proto", "out", "conns"});
  for (int64_t proto : {int64_t(net::kProtoUdp), int64_t(net::kProtoTcp)}) {
    for (int64_t n : {int64_t(1000), int64_t(1'000'000)}) {
      for (int64_t out : {0, 1}) b->Args({proto, out, n});
    }
  }
}

BENCHMARK(BM_Established)->Apply(established_args)->UseManualTime()->Unit(benchmark::kMicrosecond);
// 2,000 rounds of 1,024: two million new connections into a table of 2^22.
BENCHMARK(BM_NewFlow)
    ->ArgNames({"proto", "shared"})
    ->ArgsProduct({{net::kProtoUdp, net::kProtoTcp}, {0, 1}})
    ->Iterations(2000)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MemoryPerConn)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
