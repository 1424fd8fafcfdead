// The engine: IPVS's packet path as a pure, single-threaded object. One per worker. It never
// calls the OS: packets, time and configuration come in as arguments, verdicts and counters go
// out. Control operations (the ipvsadm verbs) run between bursts on the worker's thread.
//
//   parse -> service lookup -> connection lookup (client side or real-server side)
//   -> new flow: scheduler picks a real server -> TCP/UDP state and timeout
//   -> forwarding transform in place (NAT | DR) -> next hop from the route snapshot -> verdict
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "core/conn_table.h"
#include "core/ftp_helper.h"
#include "core/mark_index.h"
#include "core/proto_states.h"
#include "core/route_table.h"
#include "core/service.h"
#include "core/stats.h"
#include "core/timer_wheel.h"
#include "core/tuple_users.h"
#include "core/types.h"
#include "core/xmit_icmp.h"
#include "net/parse.h"

namespace lvs::core {

struct EngineConfig {
  uint32_t conn_capacity = 1u << 20;
  uint64_t hash_seed = 0;  // random per process in lvsd, fixed in tests
  // Workers share no table: a connection belongs to the worker its client endpoint hashes to,
  // and packets that arrive elsewhere are steered there (Verdict::kSteer).
  uint16_t worker_index = 0;
  uint16_t worker_count = 1;
  uint64_t steer_seed = 0;  // the same in every worker
  // IPVS sysctl expire_nodest_conn: drop (and expire) connections of removed real servers
  // instead of letting them finish.
  bool expire_nodest_conn = false;
  // IPVS sysctl expire_quiescent_template: a persistence template whose server has weight 0
  // stops pinning new connections to it.
  bool expire_quiescent_template = false;
  // Seed of the random source schedulers may use (twos); random per process in lvsd.
  uint64_t random_seed = 1;
  // ICMP errors the director originates (port unreachable when no real server is available).
  uint32_t icmp_rate_per_sec = 1000;
  uint32_t icmp_burst = 50;
  // TCP ports whose NAT connections get the FTP helper (IPVS ip_vs_ftp's `ports`, at most 8);
  // empty: no helper.
  std::vector<uint16_t> ftp_ports = {21};
};

struct NeighRequest {
  uint32_t ifindex = 0;
  net::IpAddr addr;
};

// What ipvsadm -L shows of a service, from one engine.
struct DestSnapshot {
  net::IpAddr addr;
  uint16_t port = 0;
  Fwd fwd = Fwd::kNat;
  TunType tun_type = TunType::kIpip;
  uint16_t tun_port = 0;
  uint16_t tun_flags = 0;
  int32_t weight = 0;
  uint32_t active_conns = 0;
  uint32_t inactive_conns = 0;
  uint32_t persist_conns = 0;
  uint32_t u_threshold = 0;
  uint32_t l_threshold = 0;
  Counters stats;
};
struct ServiceSnapshot {
  ServiceKey key;
  std::string sched_name;
  uint32_t sched_flags = 0;
  uint32_t persistence_timeout = 0;
  uint8_t persistence_prefix = 128;
  bool one_packet = false;
  bool proxy_protocol = false;
  std::vector<net::IpAddr> local_addrs;
  Counters stats;
  std::vector<DestSnapshot> dests;  // IPVS list order
};

// A NAT real server endpoint whose replies the director must take.
struct BackendEndpoint {
  uint8_t proto = 0;  // 0 for fwmark services: any transport
  net::IpAddr addr;
  uint16_t port = 0;
  friend bool operator==(const BackendEndpoint&, const BackendEndpoint&) = default;
};
struct BackendHash {
  size_t operator()(const BackendEndpoint& b) const {
    uint64_t h = (uint64_t(b.proto) << 16 | b.port) * 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < 16; i += 8) {
      uint64_t w;
      std::memcpy(&w, b.addr.bytes.data() + i, 8);
      h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    }
    return size_t(h ^ (h >> 31) ^ uint8_t(b.addr.family));
  }
};

// One connection or persistence template, as ipvsadm -Lc (--persistent-conn) lists them.
struct ConnSnapshot {
  uint8_t proto = 0;  // 0 for fwmark templates
  bool is_template = false;
  net::IpAddr caddr, vaddr, daddr;
  uint16_t cport = 0, vport = 0, dport = 0;
  net::IpAddr laddr;  // FULLNAT: the local address and port towards the real server
  uint16_t lport = 0;
  uint32_t fwmark = 0;  // fwmark templates: the mark (vaddr is then unset)
  Fwd fwd = Fwd::kNat;
  std::string_view state;  // "ESTABLISHED", ..., "UDP", "NONE" for templates
  uint32_t expires_in_s = 0;
  uint32_t n_control = 0;  // templates: connections they control
};

// A data connection the FTP helper set up, for the other workers and the classifier. Passive:
// the client will connect from a port not known yet, so every worker keeps the expectation, and
// client packets to vaddr:vport and server packets from daddr:dport must reach lvsd. Active: the
// real server connects to caddr:cport, a flow the worker `owner` holds.
struct FtpDataRequest {
  bool passive = false;
  uint16_t owner = 0;
  FtpExpect expect;
  // The control connection's real server: the data connection is counted on it.
  ServiceKey svc;
  net::IpAddr dest_addr;
  uint16_t dest_port = 0;
};

struct FtpTables;
struct FtpEndpoint;

// Which worker owns connections of a client endpoint.
uint16_t flow_owner(const uint8_t* addr, net::Family af, uint16_t port, uint64_t seed,
                    uint16_t workers);

class Engine {
 public:
  static constexpr size_t kMaxBurst = 64;

  explicit Engine(const EngineConfig& cfg);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // --- control path (ipvsadm -A -E -D -a -e -d -C) ---
  Status add_service(const ServiceSpec& spec);
  Status edit_service(const ServiceSpec& spec);
  Status del_service(const ServiceKey& key);
  Status add_dest(const ServiceKey& key, const DestSpec& spec);
  Status edit_dest(const ServiceKey& key, const DestSpec& spec);
  Status del_dest(const ServiceKey& key, const net::IpAddr& addr, uint16_t port);
  void flush();  // deletes every service; connections finish on their own
  // ipvsadm -Z: zeroes the counters of one service and its real servers, or (nullptr) of every
  // service and the totals (ip_vs_zero_service / ip_vs_zero_all).
  Status zero_counters(const ServiceKey* key);
  // The snapshot must outlive its use: until the next set_routes() or the engine's end.
  void set_routes(const RouteTable* routes) {
    routes_ = routes;
    ++routes_gen_;
  }
  void set_timeouts(const Timeouts& t) { timeouts_ = t; }
  // The marks netfilter would set (fwmark services), compiled from the operator's rules.
  void set_mark_rules(const std::vector<MarkRule>& rules) { marks_.rebuild(rules, cfg_.hash_seed); }
  const MarkIndex& mark_rules() const { return marks_; }
  const Timeouts& timeouts() const { return timeouts_; }
  void set_expire_nodest_conn(bool on) { cfg_.expire_nodest_conn = on; }

  // --- data path ---
  void process(std::span<Packet> burst, Nanos now);
  // Expires due connections; at most `budget` per call so a worker never stalls.
  size_t expire(Nanos now, size_t budget = 4096);
  // Next hops that were missing since the last call (deduplicated per burst).
  template <typename F>
  void drain_neigh_requests(F&& f) {
    for (size_t i = 0; i < neigh_req_count_; ++i) f(neigh_req_[i]);
    neigh_req_count_ = 0;
  }

  // FTP data connections announced since the last call (the worker hands them on).
  template <typename F>
  void drain_ftp_requests(F&& f) {
    for (size_t i = 0; i < ftp_req_count_; ++i) f(ftp_req_[i]);
    ftp_req_count_ = 0;
  }
  // Another worker's announcement: a passive one becomes an expectation here too, an active one
  // a connection if this engine owns its flow.
  void add_ftp_data(const FtpDataRequest& r);
  // Data endpoints in use here (expectations and live passive data connections).
  std::vector<FtpEndpoint> ftp_endpoints() const;

  // --- introspection (control path) ---
  const EngineCounters& counters() const { return counters_; }
  std::vector<ServiceSnapshot> snapshot() const;
  // NAT real servers in a service, or removed but still carrying connections (their replies
  // must keep reaching the engine while they drain).
  std::vector<BackendEndpoint> nat_backends() const;
  const Service* find_service(const ServiceKey& key) const;
  const ConnTable& conns() const { return conns_; }
  // Up to `max` entries; with templates_only, persistence templates alone.
  std::vector<ConnSnapshot> list_conns(bool templates_only = false, size_t max = SIZE_MAX) const;
  // Each entry in table order until `visit` returns false (control path: a call per entry).
  void visit_conns(bool templates_only,
                   const std::function<bool(const ConnSnapshot&)>& visit) const;
  const Dest* dest(uint32_t index) const {
    return index < dests_.size() ? dests_[index].get() : nullptr;
  }
  const EngineConfig& config() const { return cfg_; }

 private:
  struct Work;

  Service* lookup_service(const Packet& pkt, const net::ParsedPacket& p) const;
  void handle(Packet& pkt, Work& w, uint32_t now_tick, Nanos now);
  void handle_in(Packet& pkt, Work& w, uint32_t ci, uint32_t now_tick, Nanos now);
  void handle_out(Packet& pkt, Work& w, uint32_t ci, uint32_t now_tick);
  void handle_out_nat64(Packet& pkt, Work& w, uint32_t ci, uint32_t now_tick);
  bool classify_icmp(Packet& pkt, Work& w, IcmpError& e);
  void handle_icmp(Packet& pkt, Work& w, Nanos now);
  uint32_t new_conn(Packet& pkt, Work& w, uint32_t now_tick, Nanos now);
  // Whether another service can hand d's server one client's tuple too: another entry names
  // its address and port, or its service spans ports (fwmark, port 0). Else no check is due.
  bool tuple_shared(const Dest& d) const {
    return tuple_users_.users(d.tuple_slot) > 1 || d.svc_key.fwmark != 0 || d.svc_key.port == 0;
  }
  // NAT: a live connection already holds the real server's 4-tuple this client would get
  // (nat_tuple.cc). schedule_nat_tuple returns `first` or another server clear of it, or
  // `first` with *busy set when the scheduler has none.
  bool nat_tuple_busy(const Dest& d, uint16_t dport, const net::ParsedPacket& p,
                      const uint8_t* caddr, uint8_t af) const;
  Dest* schedule_nat_tuple(Service& svc, const sched::SchedPacket& sp, Dest* first,
                           const net::ParsedPacket& p, const uint8_t* caddr, uint8_t af,
                           bool* busy);
  // With no server clear of the tuple: UDP shares it (true), TCP and SCTP are dropped.
  bool share_nat_tuple(Packet& pkt, const net::ParsedPacket& p) {
    if (!p.is_udp()) {
      drop(pkt, DropReason::kNatTupleBusy);
      return false;
    }
    ++counters_.nat_tuple_shared;
    return true;
  }
  uint32_t persist_template(Service& svc, const Work& w, uint32_t now_tick, Nanos now, Dest** dest,
                            DropReason* why);
  bool template_valid(const Conn& t) const;
  void set_state(Conn& c, Dir dir, const net::ParsedPacket& p, const uint8_t* frame, uint32_t ci,
                 uint32_t now_tick);
  void count_active(Conn& c, bool active);
  void expire_conn(uint32_t ci);
  bool alloc_local_port(Service& svc, const Dest& d, uint16_t dport, uint8_t proto, Conn& c);
  Status set_local_addrs(Service& svc, const ServiceSpec& spec);
  DropReason next_hop(const net::IpAddr& dst, bool on_link, NextHop& nh);
  void emit(Packet& pkt, const NextHop& nh);
  bool route(Packet& pkt, const net::IpAddr& dst, bool on_link, uint32_t l3_len);
  // To the real server of `d`, through its cached next hop.
  bool route_dest(Packet& pkt, Dest& d, bool on_link, uint32_t l3_len);
  void reply_port_unreachable(Packet& pkt, const net::ParsedPacket& p, Nanos now);
  void reply_too_big(Packet& pkt, const net::ParsedPacket& p, uint32_t mtu, Nanos now);
  bool forward_ttl(Packet& pkt, const net::ParsedPacket& p, Nanos now);
  template <typename Build>
  void reply_icmp(Packet& pkt, const net::ParsedPacket& p, Nanos now, bool limited, Build&& build);
  void xmit_tun(Packet& pkt, const net::ParsedPacket& p, Dest& d, Nanos now);
  // FTP helper (engine_ftp.cc).
  bool ftp_port(uint16_t port) const;
  bool ftp_candidate(const ServiceKey& key) const;
  void ftp_bind(Conn& c, uint32_t ci);
  void ftp_release(const Conn& c, uint32_t ci);
  void ftp_in(Packet& pkt, net::ParsedPacket& p, Conn& c, uint32_t ci);
  bool ftp_out(Packet& pkt, net::ParsedPacket& p, Conn& c, uint32_t ci);
  bool ftp_client_side(const Packet& pkt, const net::ParsedPacket& p);
  uint32_t ftp_expected_conn(const Packet& pkt, const net::ParsedPacket& p, uint32_t now_tick);
  uint32_t ftp_data_conn(const FtpExpect& e, Dest& d, bool passive, uint32_t now_tick);
  Dest* ftp_dest(const ServiceKey& svc, const net::IpAddr& addr, uint16_t port) const;
  void ftp_announce(const FtpDataRequest& r);
  bool refresh_dest_route(Packet& pkt, Dest& d, bool on_link);
  // IPVS's per-direction counters: the engine's, the real server's and its service's.
  void count_in(Dest& d, uint64_t bytes) {
    ++counters_.total.inpkts;
    counters_.total.inbytes += bytes;
    ++d.stats.inpkts;
    d.stats.inbytes += bytes;
    if (d.svc != nullptr) {
      ++d.svc->stats.inpkts;
      d.svc->stats.inbytes += bytes;
    }
  }
  void count_out(Dest& d, uint64_t bytes) {
    ++counters_.total.outpkts;
    counters_.total.outbytes += bytes;
    ++d.stats.outpkts;
    d.stats.outbytes += bytes;
    if (d.svc != nullptr) {
      ++d.svc->stats.outpkts;
      d.svc->stats.outbytes += bytes;
    }
  }
  void drop(Packet& pkt, DropReason r) {
    pkt.verdict = Verdict::kDrop;
    pkt.reason = r;
    ++counters_.drops[size_t(r)];
  }

  Service* find_service_mut(const ServiceKey& key) const;
  void set_persistence(Service& svc, const ServiceSpec& spec);
  size_t port0_services_ = 0;  // services on port 0 (all ports): a second lookup when > 0
  Dest* find_dest(const Service& svc, const net::IpAddr& addr, uint16_t port, size_t* pos) const;
  Dest* alloc_dest();
  void release_dest(Dest& d);
  void unlink_dest(Service& svc, size_t pos);
  void bind_counts(Dest& d);
  void unbind_counts(Dest& d);

  EngineConfig cfg_;
  Timeouts timeouts_;
  ConnTable conns_;
  TimerWheel wheel_;
  bool started_ = false;
  const RouteTable* routes_ = nullptr;
  uint64_t routes_gen_ = 1;
  std::vector<std::unique_ptr<Service>> services_;
  std::vector<uint32_t> trash_;  // dests_ indices of trashed servers (they still have connections)
  std::vector<uint32_t> free_service_slots_;  // holes left by deleted services: a min-heap
  ServiceIndex index_;
  MarkIndex marks_;
  std::vector<std::unique_ptr<Dest>> dests_;
  std::vector<uint32_t> free_dests_;
  TupleUsers tuple_users_;
  // FULLNAT local addresses of every service, 16 bytes each, named by index from connections.
  // Append-only (an address stays while connections may name it), so indexes stay valid.
  static constexpr size_t kMaxLocalAddrs = 4096;
  std::unique_ptr<uint8_t[][16]> laddrs_;
  std::vector<net::IpAddr> laddr_list_;
  std::vector<uint16_t> lport_next_;  // per local address: where the port search resumes
  EngineCounters counters_;
  std::array<NeighRequest, 32> neigh_req_{};
  size_t neigh_req_count_ = 0;
  // Connections created in the current burst whose real-server-side link is still to be made.
  struct PendingLink {
    uint32_t ci;
    uint64_t hash;
  };
  std::array<PendingLink, kMaxBurst> pending_links_{};
  size_t pending_count_ = 0;
  void flush_pending_links() {
    for (size_t i = 0; i < pending_count_; ++i) {
      conns_.link_out(pending_links_[i].ci, pending_links_[i].hash);
    }
    pending_count_ = 0;
  }
  // The schedulers' random source: splitmix64, seedable, no system calls.
  class Rng final : public sched::RandomSource {
   public:
    explicit Rng(uint64_t seed) : state_(seed) {}
    uint64_t next() override {
      uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      return z ^ (z >> 31);
    }

   private:
    uint64_t state_;
  };
  Rng rng_;
  uint64_t next_list_seq_ = 1;
  uint16_t tun_ip_id_ = 0;  // IPv4 outer headers: identification, as a per-engine counter
  // The classified ICMP errors of the burst being processed, by position.
  std::array<IcmpError, kMaxBurst> icmp_scratch_{};
  // FTP helper: allocated with the first service that may carry FTP.
  std::unique_ptr<FtpTables> ftp_;
  static constexpr size_t kMaxFtpRequests = 256;
  std::array<FtpDataRequest, kMaxFtpRequests> ftp_req_{};
  size_t ftp_req_count_ = 0;
  // ICMP token bucket.
  double icmp_tokens_ = 0;
  Nanos icmp_last_ = 0;
};

}  // namespace lvs::core
