#include "daemon/worker.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <future>

#include <spdlog/spdlog.h>

namespace lvs::daemon {

namespace {
// A worker sleeps as soon as it finds nothing to do: the kernel's receive work (NAPI) often
// shares its CPU, and a spinning worker starves it (measured: spinning halves the forwarding
// rate on a threaded-NAPI veth). The timeout bounds timer latency; outstanding transmissions
// shorten it so their completions are reaped promptly.
constexpr int kSleepMs = 50;
constexpr int kSleepPendingTxMs = 1;
constexpr core::Nanos kTimerPeriod = 10'000'000;  // 10 ms between expiry runs

core::Nanos monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return core::Nanos(ts.tv_sec) * core::kNanosPerSec + core::Nanos(ts.tv_nsec);
}
}  // namespace

Mesh::Mesh(uint16_t workers) : n_(workers) {
  rings_.resize(size_t(n_) * n_);
  for (uint16_t from = 0; from < n_; ++from) {
    for (uint16_t to = 0; to < n_; ++to) {
      if (from != to) rings_[size_t(from) * n_ + to] = std::make_unique<SteerRing>();
    }
  }
}

Worker::Worker(uint16_t index, std::unique_ptr<io::PacketIo> io, const core::EngineConfig& cfg,
               Mesh& mesh, NeighSink& sink, int rt_priority)
    : index_(index),
      rt_priority_(rt_priority),
      io_(std::move(io)),
      engine_(cfg),
      mesh_(mesh),
      sink_(sink) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

Worker::~Worker() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Worker::start() {
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  running_ = false;
  wake();
  thread_.join();
}

void Worker::wake() {
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) < 0) {
    // EAGAIN: the counter is saturated, the worker is being woken anyway.
  }
}

void Worker::post(Command cmd) {
  {
    std::lock_guard lock(cmd_mu_);
    cmds_.push_back(std::move(cmd));
  }
  has_cmds_.store(true, std::memory_order_release);
  wake();
}

bool Worker::call(Command cmd, std::chrono::milliseconds timeout) {
  if (!thread_.joinable()) {  // not running: run here, nothing else touches the engine
    cmd(engine_, *io_);
    return true;
  }
  auto done = std::make_shared<std::promise<void>>();
  auto fut = done->get_future();
  post([cmd = std::move(cmd), done](core::Engine& e, io::PacketIo& io) {
    cmd(e, io);
    done->set_value();
  });
  return fut.wait_for(timeout) == std::future_status::ready;
}

void Worker::set_routes(std::shared_ptr<const core::RouteTable> routes) {
  auto apply = [this, routes](core::Engine& e, io::PacketIo&) {
    routes_ = routes;  // the previous snapshot is released here, on the thread that used it
    e.set_routes(routes_.get());
  };
  if (thread_.joinable()) {
    post(std::move(apply));
  } else {
    apply(engine_, *io_);
  }
}

WorkerCounters Worker::counters() const {
  return {steer_ring_full_.load(std::memory_order_relaxed),
          steered_in_.load(std::memory_order_relaxed), sleeps_.load(std::memory_order_relaxed),
          ftp_handed_on_.load(std::memory_order_relaxed)};
}

void Worker::run_commands() {
  std::vector<Command> cmds;
  {
    std::lock_guard lock(cmd_mu_);
    cmds.swap(cmds_);
    has_cmds_.store(false, std::memory_order_release);
  }
  for (auto& c : cmds) c(engine_, *io_);
}

size_t Worker::take_steered(core::Packet* pkts, size_t room) {
  size_t n = 0;
  uint64_t too_large = 0;
  for (uint16_t from = 0; from < mesh_.size() && n < room; ++from) {
    if (from == index_) continue;
    n += mesh_.ring(from, index_).pop(pkts + n, room - n, io_->frame_room(),
                                      [this](core::Packet& p) { return io_->alloc_frame(p); },
                                      &too_large);
  }
  if (too_large) steer_ring_full_.fetch_add(too_large, std::memory_order_relaxed);
  if (n) steered_in_.fetch_add(n, std::memory_order_relaxed);
  return n;
}

void Worker::hand_over(core::Packet* pkts, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    core::Packet& p = pkts[i];
    if (p.verdict != core::Verdict::kSteer) continue;
    if (!mesh_.ring(index_, p.steer_to).push(p)) {
      steer_ring_full_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (Worker* w = mesh_.worker(p.steer_to); w && w->sleeping()) w->wake();
  }
}

void Worker::sleep_until_work() {
  std::vector<pollfd> fds;
  for (int fd : io_->poll_fds()) fds.push_back({fd, POLLIN, 0});
  fds.push_back({wake_fd_, POLLIN, 0});
  sleeping_.store(true, std::memory_order_release);
  // Re-check after announcing sleep: a hand-over may have raced with it.
  bool pending = has_cmds_.load(std::memory_order_acquire) || !running_;
  for (uint16_t from = 0; from < mesh_.size() && !pending; ++from) {
    if (from != index_) pending = !mesh_.ring(from, index_).empty();
  }
  if (!pending) {
    sleeps_.fetch_add(1, std::memory_order_relaxed);
    poll(fds.data(), fds.size(), io_->tx_pending() ? kSleepPendingTxMs : kSleepMs);
  }
  sleeping_.store(false, std::memory_order_release);
  uint64_t v;
  while (read(wake_fd_, &v, sizeof(v)) > 0) {
  }
}

// An FTP data connection this worker's engine set up: the classifier learns a passive one's
// endpoints, every other engine its expectation (the client's port, unknown yet, picks the owner);
// an active one goes to the worker owning its flow.
void Worker::hand_on_ftp(const core::FtpDataRequest& r) {
  if (r.passive) sink_.ftp_data(r);
  for (uint16_t i = 0; i < mesh_.size(); ++i) {
    if (i == index_ || (!r.passive && i != r.owner)) continue;
    if (Worker* w = mesh_.worker(i)) {
      w->post([r](core::Engine& e, io::PacketIo&) { e.add_ftp_data(r); });
      ftp_handed_on_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void Worker::run() {
  if (rt_priority_ > 0) {
    // Real-time so a wake-up preempts a threaded NAPI sharing the CPU at once; a worker that
    // sleeps whenever idle cannot starve anything with it.
    sched_param sp{};
    sp.sched_priority = rt_priority_;
    if (const int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp)) {
      spdlog::warn("worker {}: cannot use SCHED_FIFO priority {}: {}", index_, rt_priority_,
                   std::strerror(rc));
    }
  }
  constexpr size_t kBurst = core::Engine::kMaxBurst;
  core::Packet pkts[kBurst];
  core::Nanos last_timer = 0;
  while (running_.load(std::memory_order_relaxed)) {
    if (has_cmds_.load(std::memory_order_acquire)) run_commands();
    size_t n = io_->rx_burst(pkts, kBurst);
    if (mesh_.size() > 1) n += take_steered(pkts + n, kBurst - n);
    const core::Nanos now = monotonic_ns();
    if (n > 0) {
      engine_.process(std::span(pkts, n), now);
      engine_.drain_ftp_requests([this](const core::FtpDataRequest& r) { hand_on_ftp(r); });
      if (mesh_.size() > 1) hand_over(pkts, n);
      io_->tx_burst(pkts, n);
    } else {
      io_->service();
      sleep_until_work();
    }
    if (now - last_timer >= kTimerPeriod) {
      last_timer = now;
      engine_.expire(now);
      engine_.drain_neigh_requests([this](const core::NeighRequest& r) { sink_.request(r); });
    }
  }
  // Run what is still queued, so no caller waits forever on a stopped worker.
  run_commands();
}

}  // namespace lvs::daemon
