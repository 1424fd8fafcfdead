// A worker: one thread, one engine, one PacketIo. It receives bursts, runs the engine, hands
// packets owned by other workers over, transmits, expires connections, and runs control
// commands between bursts, so the engine never needs a lock.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/engine.h"
#include "daemon/steer_ring.h"
#include "io/packet_io.h"

namespace lvs::daemon {

class Mesh;

// Where workers report what the control loop acts on: next hops that need resolving, and
// passive FTP data endpoints the classifier must pass to lvsd. ftp_data() runs on the worker's
// thread and returns once the classifier passes the endpoints: the reply that announces them
// leaves after it.
class NeighSink {
 public:
  virtual ~NeighSink() = default;
  virtual void request(const core::NeighRequest& r) = 0;
  virtual void ftp_data(const core::FtpDataRequest& r) = 0;
};

struct WorkerCounters {
  uint64_t steer_ring_full = 0;  // hand-overs lost because the owner's ring was full
  uint64_t steered_in = 0;
  uint64_t sleeps = 0;           // times the worker slept in poll()
  uint64_t ftp_handed_on = 0;    // FTP data connections announced to another worker
};

class Worker {
 public:
  using Command = std::function<void(core::Engine&, io::PacketIo&)>;

  // rt_priority > 0: the thread runs SCHED_FIFO at that priority.
  Worker(uint16_t index, std::unique_ptr<io::PacketIo> io, const core::EngineConfig& cfg,
         Mesh& mesh, NeighSink& sink, int rt_priority = 0);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  void stop();
  uint16_t index() const { return index_; }

  // Runs `cmd` on the worker's thread between bursts. call() waits for it (false on timeout);
  // post() does not.
  bool call(Command cmd, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void post(Command cmd);
  // Switches the worker to a new route snapshot; the worker keeps it alive while it uses it.
  void set_routes(std::shared_ptr<const core::RouteTable> routes);
  // Wakes the worker if it sleeps in poll().
  void wake();
  bool sleeping() const { return sleeping_.load(std::memory_order_acquire); }
  WorkerCounters counters() const;

 private:
  void run();
  void run_commands();
  size_t take_steered(core::Packet* pkts, size_t room);
  void hand_over(core::Packet* pkts, size_t n);
  void hand_on_ftp(const core::FtpDataRequest& r);
  void sleep_until_work();

  uint16_t index_;
  int rt_priority_;
  std::unique_ptr<io::PacketIo> io_;
  core::Engine engine_;
  std::shared_ptr<const core::RouteTable> routes_;  // touched only on the worker's thread
  Mesh& mesh_;
  NeighSink& sink_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> sleeping_{false};
  int wake_fd_ = -1;
  std::mutex cmd_mu_;
  std::vector<Command> cmds_;
  std::atomic<bool> has_cmds_{false};
  std::atomic<uint64_t> steer_ring_full_{0};
  std::atomic<uint64_t> steered_in_{0};
  std::atomic<uint64_t> sleeps_{0};
  std::atomic<uint64_t> ftp_handed_on_{0};
};

// The workers and the rings between them.
class Mesh {
 public:
  explicit Mesh(uint16_t workers);
  uint16_t size() const { return n_; }
  SteerRing& ring(uint16_t from, uint16_t to) { return *rings_[size_t(from) * n_ + to]; }
  void set_workers(std::vector<Worker*> workers) { workers_ = std::move(workers); }
  Worker* worker(uint16_t i) const { return i < workers_.size() ? workers_[i] : nullptr; }

 private:
  uint16_t n_;
  std::vector<std::unique_ptr<SteerRing>> rings_;  // n x n, the diagonal unused
  std::vector<Worker*> workers_;
};

}  // namespace lvs::daemon
