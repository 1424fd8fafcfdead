// Issue 6's health-check budget: 10,000 TCP_CHECKs and 2,000 HTTP_GETs at delay_loop 1 s must
// cost the health loop at most 10% of one core. A real health::Monitor runs them against servers
// in this process, on threads of their own (their CPU is not the monitor's):
//   - a TCP listener that accepts and closes (TCP_CHECK), and
//   - an HTTP listener that answers "HTTP/1.0 200 OK" with a small body and closes (HTTP_GET;
//     every --digest-every'th checker also checks the body's MD5).
// Every checker connects to its own loopback address (127.1.x.y TCP, 127.2.x.y HTTP; all of
// 127/8 is local on Linux), so the server tells checkers apart by the accepted socket's local
// address, and the time between two accepts of one checker is that checker's real interval.
//
// Printed after a warm-up: checks per second (Monitor::status() attempts), failures, the CPU of
// the "lvs-health" thread (/proc/self/task/<tid>/stat utime+stime) in % of one core, the
// process's and the servers' CPU, interval minus delay_loop (p50, p99, max), attempts done per
// attempt expected, and PASS/FAIL against --target-pct. Exit status 0 only on PASS.
// --baseline runs the same checks without the Monitor, as bare system calls (Floor below): what
// the kernel alone costs here. health_bench.md has the figures.
//
//   health_bench [--duration S] [--warmup S] [--tcp N] [--http N] [--digest-every K]
//                [--delay-loop-ms MS] [--connect-timeout-ms MS] [--spread-ms MS]
//                [--target-pct P] [--baseline] [-v]
#include <fmt/format.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "health/monitor.h"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using lvs::health::Monitor;

struct Flags {
  double duration_s = 20;
  double warmup_s = 3;
  uint32_t tcp = 10000;
  uint32_t http = 2000;
  uint32_t digest_every = 4;  // every K-th HTTP_GET checks the MD5 too (0: none)
  uint64_t delay_loop_ms = 1000;
  uint64_t connect_timeout_ms = 2000;
  uint64_t spread_ms = 1000;  // the checkers' warmup: their first attempts spread over it
  double target_pct = 10;
  bool verbose = false;
  bool baseline = false;  // the kernel's floor instead of the Monitor (Floor below)
};

constexpr uint32_t kPerSubnet = 250;  // 127.K.hi.(1..250): no .0 or .255 host parts
constexpr std::string_view kBody = "lvs health bench\n";

// Checker i of kind K (1 TCP, 2 HTTP) connects to 127.K.(i / 250).(i % 250 + 1).
uint32_t checker_addr(uint32_t kind, uint32_t i) {
  return (127u << 24) | (kind << 16) | ((i / kPerSubnet) << 8) | (i % kPerSubnet + 1);
}
// The inverse, from an accepted socket's local address; -1 when it is not one of ours.
int64_t checker_index(uint32_t kind, uint32_t addr) {
  if ((addr >> 24) != 127 || ((addr >> 16) & 0xff) != kind) return -1;
  const uint32_t lo = addr & 0xff;
  if (lo == 0 || lo > kPerSubnet) return -1;
  return int64_t(((addr >> 8) & 0xff) * kPerSubnet + lo - 1);
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// What a server saw of one kind of checker: each checker's last accept, and the intervals between
// accepts that ended inside the measured window. Written by that server's thread only; read after
// it has been joined.
struct Record {
  explicit Record(size_t n) : last_ns(n, -1) {}
  std::vector<int64_t> last_ns;
  std::vector<int64_t> intervals_ns;
  uint64_t accepts_in_window = 0;
  uint64_t strangers = 0;  // accepted from an address that is no checker's
  uint64_t errors = 0;     // accept/read/write errors
  std::string first_error;

  // Errors after the window are not counted: stopping the Monitor cancels the HTTP_GETs in flight,
  // and the server then reads an end of file.
  void error(std::string_view what, const boost::system::error_code& ec, int64_t win_end) {
    if (now_ns() >= win_end) return;
    if (errors++ == 0) first_error = fmt::format("{}: {}", what, ec.message());
  }

  void accepted(uint32_t kind, const tcp::socket& s, int64_t win_start, int64_t win_end) {
    boost::system::error_code ec;
    const auto ep = s.local_endpoint(ec);
    if (ec || !ep.address().is_v4()) {
      ++strangers;
      return;
    }
    const int64_t i = checker_index(kind, ep.address().to_v4().to_uint());
    if (i < 0 || size_t(i) >= last_ns.size()) {
      ++strangers;
      return;
    }
    const int64_t t = now_ns();
    if (t >= win_start && t < win_end) {
      ++accepts_in_window;
      if (last_ns[size_t(i)] >= 0) intervals_ns.push_back(t - last_ns[size_t(i)]);
    }
    last_ns[size_t(i)] = t;
  }
};

// One listener on 0.0.0.0:<port 0> with its own io_context and thread.
class Server {
 public:
  Server(uint32_t kind, size_t checkers, const std::string& name)
      : record_(checkers),
        kind_(kind),
        name_(name),
        acceptor_(io_),
        work_(asio::make_work_guard(io_)) {
    const tcp::endpoint ep(asio::ip::address_v4::any(), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(65535);  // capped by net.core.somaxconn
    port_ = acceptor_.local_endpoint().port();
  }
  virtual ~Server() = default;

  uint16_t port() const { return port_; }
  void set_window(int64_t start, int64_t end) {
    win_start_ = start;
    win_end_ = end;
  }
  void start() {
    accept();
    thread_ = std::thread([this] { io_.run(); });
    ::pthread_setname_np(thread_.native_handle(), name_.c_str());
  }
  void stop() {
    asio::post(io_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      work_.reset();
      io_.stop();
    });
    if (thread_.joinable()) thread_.join();
  }
  const Record& record() const { return record_; }

 protected:
  int64_t win_end() const { return win_end_.load(std::memory_order_relaxed); }
  // The connection, after its accept was recorded.
  virtual void serve(tcp::socket s) = 0;
  Record record_;

 private:
  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec) {
        record_.error("accept", ec, win_end());
      } else {
        record_.accepted(kind_, s, win_start_.load(std::memory_order_relaxed),
                         win_end_.load(std::memory_order_relaxed));
        serve(std::move(s));
      }
      accept();
    });
  }

  uint32_t kind_;
  std::string name_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::atomic<int64_t> win_start_{INT64_MAX}, win_end_{INT64_MAX};
};

class TcpServer final : public Server {
 public:
  using Server::Server;

 private:
  void serve(tcp::socket s) override {
    boost::system::error_code ignored;
    s.close(ignored);  // TCP_CHECK only needs the handshake
  }
};

class HttpServer final : public Server {
 public:
  HttpServer(size_t checkers, const std::string& name) : Server(2, checkers, name) {
    reply_ =
        fmt::format("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{}",
                    kBody.size(), kBody);
  }

 private:
  struct Conn {
    explicit Conn(tcp::socket sock) : s(std::move(sock)) {}
    tcp::socket s;
    std::array<char, 1024> buf{};
    std::string req;
  };

  void serve(tcp::socket s) override { read(std::make_shared<Conn>(std::move(s))); }

  // Reads until the request's blank line, answers, closes.
  void read(std::shared_ptr<Conn> c) {
    c->s.async_read_some(
        asio::buffer(c->buf), [this, c](const boost::system::error_code& ec, size_t n) {
          if (ec) return record_.error("read", ec, win_end());
          c->req.append(c->buf.data(), n);
          if (c->req.find("\r\n\r\n") == std::string::npos) {
            if (c->req.size() > 8192)
              return record_.error("read", asio::error::message_size, win_end());
            return read(c);
          }
          asio::async_write(c->s, asio::buffer(reply_),
                            [this, c](const boost::system::error_code& wec, size_t) {
                              if (wec) record_.error("write", wec, win_end());
                              boost::system::error_code ignored;
                              c->s.shutdown(tcp::socket::shutdown_both, ignored);
                              c->s.close(ignored);
                            });
        });
  }

  std::string reply_;
};

// --- CPU accounting ----------------------------------------------------------------------------

struct Cpu {
  double user_s = 0, sys_s = 0;
  double total() const { return user_s + sys_s; }
};

// utime and stime (fields 14 and 15) of a /proc stat file.
std::optional<Cpu> read_stat(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const auto rp = line.rfind(')');  // the comm may hold spaces
  if (rp == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(rp + 2));
  std::string field;
  // After ")": state is field 3, so utime (14) is the 12th token and stime the 13th.
  unsigned long long utime = 0, stime = 0;
  for (int k = 3; k <= 15 && rest >> field; ++k) {
    if (k == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (k == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  const double hz = double(::sysconf(_SC_CLK_TCK));
  return Cpu{double(utime) / hz, double(stime) / hz};
}

// The tid of this process's thread named `name`, or -1.
long find_thread(const std::string& name) {
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(e.path() / "comm");
    std::string comm;
    std::getline(in, comm);
    if (comm == name) return std::stol(e.path().filename().string());
  }
  return -1;
}

// voluntary + nonvoluntary context switches of a thread (/proc/.../status).
uint64_t context_switches(long tid) {
  std::ifstream in(fmt::format("/proc/self/task/{}/status", tid));
  uint64_t n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find("ctxt_switches:") != std::string::npos) {
      n += std::strtoull(line.c_str() + line.find(':') + 1, nullptr, 10);
    }
  }
  return n;
}

Cpu thread_cpu(long tid) {
  return read_stat(fmt::format("/proc/self/task/{}/stat", tid)).value_or(Cpu{});
}
Cpu process_cpu() { return read_stat("/proc/self/stat").value_or(Cpu{}); }

// --- the monitor's side ------------------------------------------------------------------------

struct Totals {
  uint64_t attempts = 0, failures = 0, down = 0;
  std::vector<std::string> failure_samples;  // a few "name: detail"
  std::vector<int64_t> latency_us;           // each checker's last attempt
};

Totals totals(const Monitor& m) {
  Totals t;
  for (const auto& s : m.status()) {
    t.attempts += s.attempts;
    t.failures += s.failures;
    if (!s.up) ++t.down;
    if (s.attempts > 0) t.latency_us.push_back(s.last.latency.count());
    if (!s.last.ok && s.attempts > 0 && t.failure_samples.size() < 5) {
      t.failure_samples.push_back(fmt::format("{} {}: {}", s.name, s.keyword, s.last.detail));
    }
  }
  return t;
}

std::vector<uint8_t> md5(std::string_view data) {
  std::vector<uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_md5(), nullptr);
  out.resize(len);
  return out;
}

std::vector<lvs::health::Target> make_targets(const Flags& f, uint16_t tcp_port,
                                              uint16_t http_port) {
  std::array<uint8_t, 16> digest{};
  const auto d = md5(kBody);
  std::copy(d.begin(), d.end(), digest.begin());
  std::vector<lvs::health::Target> out;
  out.reserve(f.tcp + f.http);
  auto add = [&](uint32_t kind, uint32_t i) {
    lvs::ctl::CheckerConf c;
    c.kind = kind == 1 ? lvs::ctl::CheckKind::kTcp : lvs::ctl::CheckKind::kHttp;
    c.keyword = kind == 1 ? "TCP_CHECK" : "HTTP_GET";
    c.connect_ip = lvs::net::IpAddr::v4(checker_addr(kind, i));
    c.connect_port = kind == 1 ? tcp_port : http_port;
    c.connect_timeout_ms = f.connect_timeout_ms;
    c.delay_loop_ms = f.delay_loop_ms;
    c.retry = 1;
    c.delay_before_retry_ms = 1000;
    c.warmup_ms = f.spread_ms;
    if (kind == 2) {
      lvs::ctl::HttpUrlConf u;
      u.path = "/";
      u.status_codes = {{200, 200}};
      if (f.digest_every != 0 && i % f.digest_every == 0) u.digest = digest;
      c.urls.push_back(std::move(u));
      c.http_protocol = "1.0";
    }
    lvs::health::Target t;
    t.key.service.proto = IPPROTO_TCP;
    t.key.service.addr = lvs::net::IpAddr::v4(0xC6120064);  // 198.18.0.100:80, a label only
    t.key.service.port = 80;
    t.key.addr = c.connect_ip;
    t.key.port = c.connect_port;
    t.name = t.key.to_string();
    t.checkers.push_back(std::move(c));
    out.push_back(std::move(t));
  };
  for (uint32_t i = 0; i < f.tcp; ++i) add(1, i);
  for (uint32_t i = 0; i < f.http; ++i) add(2, i);
  return out;
}

// --- the kernel's floor ------------------------------------------------------------------------

// --baseline: the least the same checks can cost a thread here: every check is socket() +
// non-blocking connect() + epoll until writable + getsockopt(SO_ERROR) + close(), the system calls
// a TCP_CHECK cannot do without, on one epoll with one timerfd (as Asio's reactor), checker k due
// at k x delay_loop / N into every delay_loop rounded down to the ms (the Monitor's schedule is in
// ms too, so checks due in the same ms start in one wake-up). No Asio, no Monitor, no allocation.
// All checkers (the TCP and HTTP counts) connect to the TCP server.
class Floor {
 public:
  Floor(const Flags& f, uint16_t port) : f_(f), port_(port) {}
  ~Floor() { stop(); }
  void start() {
    thread_ = std::thread([this] { run(); });
    ::pthread_setname_np(thread_.native_handle(), "bench-floor");
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  uint64_t attempts() const { return attempts_; }
  uint64_t failures() const { return failures_; }
  const std::string& first_failure() const { return first_failure_; }

 private:
  void run() {
    const uint32_t n = f_.tcp + f_.http;
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    const int tfd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    epoll_event tev{};
    tev.events = EPOLLIN;
    tev.data.u64 = UINT64_MAX;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);
    const int64_t period = int64_t(f_.delay_loop_ms) * 1000000;
    const int64_t t0 = now_ns();
    uint64_t next_k = 0;  // the next check to start, counted over all rounds
    auto due = [&](uint64_t k) {
      const int64_t off = int64_t(k / n) * period + int64_t(k % n) * period / n;
      return t0 + off / 1000000 * 1000000;
    };
    int64_t armed = -1;
    std::vector<epoll_event> evs(256);
    while (!stop_) {
      const int64_t now = now_ns();
      while (due(next_k) <= now) start_check(ep, uint32_t(next_k++ % n));
      const int64_t at = due(next_k);
      if (at != armed) {  // re-arming costs a VM exit: only when the next due time moved
        itimerspec its{};
        its.it_value.tv_sec = at / 1000000000;
        its.it_value.tv_nsec = at % 1000000000;
        ::timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, nullptr);
        armed = at;
      }
      const int k = ::epoll_wait(ep, evs.data(), int(evs.size()), 100);  // 100: to see stop_
      for (int i = 0; i < k; ++i) {
        if (evs[size_t(i)].data.u64 == UINT64_MAX) {
          uint64_t expirations = 0;
          [[maybe_unused]] auto r = ::read(tfd, &expirations, sizeof expirations);
          continue;
        }
        const int fd = int(evs[size_t(i)].data.u64);
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        ::close(fd);  // the last reference: epoll forgets it (Asio also calls EPOLL_CTL_DEL)
        done(err);
      }
    }
    ::close(tfd);
    ::close(ep);  // sockets still connecting are few; they close with the process
  }

  void start_check(int ep, uint32_t i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return done(errno);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port_);
    sa.sin_addr.s_addr = htonl(checker_addr(1, i));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
      ::close(fd);
      return done(0);
    }
    if (errno != EINPROGRESS) {
      const int e = errno;
      ::close(fd);
      return done(e);
    }
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLET;
    ev.data.u64 = uint64_t(fd);
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }

  void done(int err) {
    attempts_.fetch_add(1, std::memory_order_relaxed);
    if (err != 0) {
      if (failures_.fetch_add(1, std::memory_order_relaxed) == 0) {
        first_failure_ = std::strerror(err);
      }
    }
  }

  const Flags& f_;
  uint16_t port_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> attempts_{0}, failures_{0};
  std::string first_failure_;  // read after stop()
};

// --- reporting ---------------------------------------------------------------------------------

double pct(std::vector<int64_t>& v, double p) {  // v sorted
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, size_t(p / 100.0 * double(v.size())));
  return double(v[k]);
}

std::string spread_line(std::vector<int64_t> intervals_ns, int64_t delay_ns) {
  if (intervals_ns.empty()) return "no intervals";
  for (auto& x : intervals_ns) x -= delay_ns;
  std::sort(intervals_ns.begin(), intervals_ns.end());
  return fmt::format("n={} min {:+.2f} p50 {:+.2f} p99 {:+.2f} p99.9 {:+.2f} max {:+.2f} ms",
                     intervals_ns.size(), double(intervals_ns.front()) / 1e6,
                     pct(intervals_ns, 50) / 1e6, pct(intervals_ns, 99) / 1e6,
                     pct(intervals_ns, 99.9) / 1e6, double(intervals_ns.back()) / 1e6);
}

bool parse_flags(int argc, char** argv, Flags& f) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "-v" || a == "--verbose") {
      f.verbose = true;
      continue;
    }
    if (a == "--baseline") {
      f.baseline = true;
      continue;
    }
    if (a == "-h" || a == "--help") return false;
    if (!(v = value())) return false;
    if (a == "--duration")
      f.duration_s = std::atof(v);
    else if (a == "--warmup")
      f.warmup_s = std::atof(v);
    else if (a == "--tcp")
      f.tcp = uint32_t(std::strtoul(v, nullptr, 10));
    else if (a == "--http")
      f.http = uint32_t(std::strtoul(v, nullptr, 10));
    else if (a == "--digest-every")
      f.digest_every = uint32_t(std::strtoul(v, nullptr, 10));
    else if (a == "--delay-loop-ms")
      f.delay_loop_ms = std::strtoull(v, nullptr, 10);
    else if (a == "--connect-timeout-ms")
      f.connect_timeout_ms = std::strtoull(v, nullptr, 10);
    else if (a == "--spread-ms")
      f.spread_ms = std::strtoull(v, nullptr, 10);
    else if (a == "--target-pct")
      f.target_pct = std::atof(v);
    else
      return false;
  }
  const uint32_t max_checkers = 256 * kPerSubnet;
  return f.duration_s > 0 && f.duration_s <= 3600 && f.warmup_s >= 0 && f.warmup_s <= 600 &&
         f.tcp <= max_checkers && f.http <= max_checkers && f.tcp + f.http > 0 &&
         f.delay_loop_ms > 0;
}

void raise_nofile(size_t want) {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur >= want) return;
  rlimit next = rl;
  next.rlim_cur = want;
  if (next.rlim_max < want) next.rlim_max = want;  // root may raise the hard limit too
  if (::setrlimit(RLIMIT_NOFILE, &next) != 0) {
    next.rlim_cur = rl.rlim_max;
    next.rlim_max = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &next);
  }
  ::getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < want) {
    fmt::print(stderr, "warning: RLIMIT_NOFILE {} < {} wanted\n", rl.rlim_cur, want);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  if (!parse_flags(argc, argv, f)) {
    fmt::print(stderr,
               "usage: {} [--duration S=20] [--warmup S=3] [--tcp N=10000] [--http N=2000]\n"
               "  [--digest-every K=4] [--delay-loop-ms MS=1000] [--connect-timeout-ms MS=2000]\n"
               "  [--spread-ms MS=1000] [--target-pct P=10] [--baseline] [-v]\n",
               argv[0]);
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);  // failures are counted and sampled below
  // Every checker's socket at once at worst, and the servers' accepted ends (closed at once).
  raise_nofile(size_t(f.tcp + f.http) + 4096);

  // --baseline sends every check to the TCP server.
  TcpServer tcp_server(1, f.baseline ? f.tcp + f.http : f.tcp, "bench-srv-tcp");
  HttpServer http_server(f.http, "bench-srv-http");
  tcp_server.start();
  http_server.start();

  std::atomic<uint64_t> changes{0};
  std::unique_ptr<Monitor> monitor;
  std::unique_ptr<Floor> floor;
  if (f.baseline) {
    floor = std::make_unique<Floor>(f, tcp_server.port());
    floor->start();
  } else {
    lvs::health::MonitorOptions opts;
    opts.seed = 1;
    opts.bootstrap = 0ms;
    monitor = std::make_unique<Monitor>([&](const lvs::health::ServerEvent&) { ++changes; }, opts);
    monitor->update(make_targets(f, tcp_server.port(), http_server.port()));
    monitor->start();
  }
  const auto t_start = Clock::now();
  auto shutdown = [&] {
    if (monitor) monitor->stop();
    if (floor) floor->stop();
    tcp_server.stop();
    http_server.stop();
  };

  const std::string subject = f.baseline ? "bench-floor" : "lvs-health";
  const long tid = find_thread(subject);
  const long tid_tcp = find_thread("bench-srv-tcp");
  const long tid_http = find_thread("bench-srv-http");
  fmt::print(
      "health_bench{}: pid {}, {} tid {}; {} TCP_CHECK (port {}) + {} HTTP_GET (port {}, "
      "1 in {} with MD5), delay_loop {} ms, warmup {} ms, connect_timeout {} ms\n",
      f.baseline ? " --baseline (socket+connect+close only, no Monitor)" : "", ::getpid(), subject,
      tid, f.tcp, tcp_server.port(), f.http, http_server.port(), f.digest_every, f.delay_loop_ms,
      f.spread_ms, f.connect_timeout_ms);
  std::fflush(stdout);
  if (tid < 0) {
    fmt::print(stderr, "no thread named {}: does Monitor::start() name its thread?\n", subject);
    shutdown();
    return 1;
  }
  auto attempts = [&] {
    return monitor ? totals(*monitor) : Totals{floor->attempts(), floor->failures()};
  };

  // The measured window.
  const auto w0 = t_start + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(f.warmup_s));
  const auto w1 =
      w0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(f.duration_s));
  auto ns = [](Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  };
  tcp_server.set_window(ns(w0), ns(w1));
  http_server.set_window(ns(w0), ns(w1));

  std::this_thread::sleep_until(w0);
  const auto m0 = Clock::now();
  const Cpu c0 = thread_cpu(tid), p0 = process_cpu(), st0 = thread_cpu(tid_tcp),
            sh0 = thread_cpu(tid_http);
  const uint64_t cs0 = context_switches(tid);
  const Totals a0 = attempts();
  Cpu prev = c0;
  for (auto next = m0 + 1s; next < w1; next += 1s) {
    std::this_thread::sleep_until(next);
    if (f.verbose) {
      const Cpu c = thread_cpu(tid);
      fmt::print("  t+{:>4.0f}s {} {:5.1f}% of one core\n",
                 std::chrono::duration<double>(next - m0).count(), subject,
                 (c.total() - prev.total()) * 100);
      prev = c;
    }
  }
  std::this_thread::sleep_until(w1);
  const Cpu c1 = thread_cpu(tid), p1 = process_cpu(), st1 = thread_cpu(tid_tcp),
            sh1 = thread_cpu(tid_http);
  const uint64_t cs1 = context_switches(tid);
  const auto m1 = Clock::now();
  const Totals a1 = attempts();
  const size_t running = monitor ? monitor->size() : size_t(f.tcp + f.http);
  shutdown();
  std::string floor_failure = floor ? floor->first_failure() : "";
  monitor.reset();
  floor.reset();

  // --- report ---
  const double secs = std::chrono::duration<double>(m1 - m0).count();
  const uint64_t done = a1.attempts - a0.attempts;
  const uint64_t fails = a1.failures - a0.failures;
  const double expected = double(f.tcp + f.http) * secs * 1000.0 / double(f.delay_loop_ms);
  const double health_pct = (c1.total() - c0.total()) / secs * 100;
  const double user_pct = (c1.user_s - c0.user_s) / secs * 100;
  const double sys_pct = (c1.sys_s - c0.sys_s) / secs * 100;
  const double proc_pct = (p1.total() - p0.total()) / secs * 100;
  const double srv_pct = (st1.total() - st0.total() + sh1.total() - sh0.total()) / secs * 100;
  const int64_t delay_ns = int64_t(f.delay_loop_ms) * 1000000;
  const Record& rt = tcp_server.record();
  const Record& rh = http_server.record();
  std::vector<int64_t> all = rt.intervals_ns;
  all.insert(all.end(), rh.intervals_ns.begin(), rh.intervals_ns.end());
  std::vector<int64_t> lat = a1.latency_us;
  std::sort(lat.begin(), lat.end());

  fmt::print("window             {:.2f} s after {:.1f} s warm-up; {} checkers running\n", secs,
             f.warmup_s, running);
  fmt::print(
      "checks/s           {:.0f} ({} attempts; {:.4f} of the {:.0f} expected at one per "
      "delay_loop)\n",
      double(done) / secs, done, expected > 0 ? double(done) / expected : 0, expected);
  fmt::print("failures           {} in the window, {} in all, {} checkers down, {} state changes\n",
             fails, a1.failures, a1.down, changes.load());
  for (const auto& s : a1.failure_samples) fmt::print("  e.g. {}\n", s);
  if (!floor_failure.empty()) fmt::print("  e.g. {}\n", floor_failure);
  fmt::print(
      "{:<18} {:.2f}% of one core (user {:.2f}%, sys {:.2f}%); {:.2f} us per check; "
      "{:.0f} context switches/s\n",
      subject + " CPU", health_pct, user_pct, sys_pct,
      done > 0 ? (c1.total() - c0.total()) * 1e6 / double(done) : 0, double(cs1 - cs0) / secs);
  fmt::print("process CPU        {:.2f}% of one core (servers' threads {:.2f}%)\n", proc_pct,
             srv_pct);
  fmt::print("server accepts     {} TCP + {} HTTP in the window; {} strangers, {} errors{}{}\n",
             rt.accepts_in_window, rh.accepts_in_window, rt.strangers + rh.strangers,
             rt.errors + rh.errors, rt.errors + rh.errors > 0 ? "; first: " : "",
             rt.errors > 0 ? rt.first_error : rh.first_error);
  fmt::print("interval - delay   all:  {}\n", spread_line(all, delay_ns));
  fmt::print("                   TCP:  {}\n", spread_line(rt.intervals_ns, delay_ns));
  fmt::print("                   HTTP: {}\n", spread_line(rh.intervals_ns, delay_ns));
  if (!lat.empty()) {
    fmt::print("last latency       p50 {:.0f} us, p99 {:.0f} us, max {:.0f} us\n", pct(lat, 50),
               pct(lat, 99), double(lat.back()));
  }
  const bool pass = health_pct <= f.target_pct && fails == 0 && a1.failures == 0 && done > 0;
  fmt::print("{}: {} used {:.2f}% of one core (target <= {:.0f}%), {} failures\n",
             pass ? "PASS" : "FAIL", subject, health_pct, f.target_pct, a1.failures);
  return pass ? 0 : 1;
}
