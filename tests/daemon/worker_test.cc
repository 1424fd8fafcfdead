// The worker loop over the in-memory backend: bursts through the engine, commands between
// bursts, and packets steered to the worker that owns their connection.
#include "daemon/worker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "fixtures/topology.h"
#include "io/memory_io.h"
#include "net/parse.h"

namespace lvs::daemon {
namespace {

using namespace fixtures;
using net::PacketBuilder;

struct Sink : NeighSink {
  std::vector<core::NeighRequest> got;
  std::mutex mu;
  void request(const core::NeighRequest& r) override {
    std::lock_guard l(mu);
    got.push_back(r);
  }
  std::vector<core::FtpDataRequest> ftp;
  void ftp_data(const core::FtpDataRequest& r) override {
    std::lock_guard l(mu);
    ftp.push_back(r);
  }
};

const core::ServiceKey kTcp{6, kVip, 80, 0};

void setup(core::Engine& e) {
  ASSERT_TRUE(e.add_service({kTcp, "rr", 0}).ok());
  ASSERT_TRUE(e.add_dest(kTcp, {kRs1, 8080, core::Fwd::kNat, 1, 0, 0}).ok());
}

std::vector<uint8_t> syn(uint16_t sport) {
  return PacketBuilder().eth(kRouterMac, kExtMac).ipv4(kClient, kVip).tcp(sport, 80, net::kTcpSyn).build();
}

template <typename F>
bool eventually(F&& f) {
  for (int i = 0; i < 500; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

TEST(Worker, ForwardsInjectedFramesAndRunsCommands) {
  Mesh mesh(1);
  Sink sink;
  auto io = std::make_unique<io::MemoryIo>();
  io::MemoryIo* mio = io.get();
  std::shared_ptr<const core::RouteTable> routes = make_routes();
  Worker w(0, std::move(io), test_config(), mesh, sink);
  mesh.set_workers({&w});
  w.set_routes(routes);
  ASSERT_TRUE(w.call([](core::Engine& e, io::PacketIo&) { setup(e); }));
  w.start();
  // Commands run on the worker's own thread.
  std::thread::id worker_thread;
  ASSERT_TRUE(w.call([&](core::Engine&, io::PacketIo&) { worker_thread = std::this_thread::get_id(); }));
  EXPECT_NE(worker_thread, std::this_thread::get_id());
  // MemoryIo is not thread-safe: inject and collect through commands as well.
  ASSERT_TRUE(w.call([&](core::Engine&, io::PacketIo&) { mio->inject(kExt, syn(1000)); }));
  std::vector<io::SentFrame> sent;
  ASSERT_TRUE(eventually([&] {
    w.call([&](core::Engine&, io::PacketIo&) {
      auto s = mio->take_sent();
      sent.insert(sent.end(), s.begin(), s.end());
    });
    return !sent.empty();
  }));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].ifindex, kInt);
  const auto p = net::parse_packet(sent[0].bytes.data(), sent[0].bytes.size());
  EXPECT_EQ(p.dport, 8080);
  size_t in_use = 1;
  w.call([&](core::Engine&, io::PacketIo&) { in_use = mio->frames_in_use(); });
  EXPECT_EQ(in_use, 0u);  // every frame came back
  w.stop();
}

TEST(Worker, HandsPacketsToTheOwningWorker) {
  Mesh mesh(2);
  Sink sink;
  core::EngineConfig cfg = test_config();
  cfg.worker_count = 2;
  cfg.steer_seed = 11;
  std::vector<io::MemoryIo*> ios;
  std::vector<std::unique_ptr<Worker>> workers;
  std::shared_ptr<const core::RouteTable> routes = make_routes();
  for (uint16_t i = 0; i < 2; ++i) {
    auto io = std::make_unique<io::MemoryIo>();
    ios.push_back(io.get());
    cfg.worker_index = i;
    workers.push_back(std::make_unique<Worker>(i, std::move(io), cfg, mesh, sink));
    workers.back()->set_routes(routes);
    workers.back()->call([](core::Engine& e, io::PacketIo&) { setup(e); });
  }
  mesh.set_workers({workers[0].get(), workers[1].get()});
  for (auto& w : workers) w->start();
  // Pick client ports owned by worker 1 and deliver their SYNs to worker 0.
  int sent_to_0 = 0;
  for (uint16_t port = 2000; sent_to_0 < 20; ++port) {
    if (core::flow_owner(kClient.data(), net::Family::kV4, port, 11, 2) != 1) continue;
    workers[0]->call([&, port](core::Engine&, io::PacketIo&) { ios[0]->inject(kExt, syn(port)); });
    ++sent_to_0;
  }
  std::vector<io::SentFrame> out0, out1;
  ASSERT_TRUE(eventually([&] {
    workers[1]->call([&](core::Engine&, io::PacketIo&) {
      auto s = ios[1]->take_sent();
      out1.insert(out1.end(), s.begin(), s.end());
    });
    return out1.size() == 20;
  }));
  workers[0]->call([&](core::Engine&, io::PacketIo&) { out0 = ios[0]->take_sent(); });
  EXPECT_TRUE(out0.empty());
  uint64_t steered = 0, conns1 = 0;
  workers[0]->call([&](core::Engine& e, io::PacketIo&) { steered = e.counters().steered; });
  workers[1]->call([&](core::Engine& e, io::PacketIo&) { conns1 = e.conns().size(); });
  EXPECT_EQ(steered, 20u);
  EXPECT_EQ(conns1, 20u);
  EXPECT_EQ(workers[1]->counters().steered_in, 20u);
  for (auto& w : workers) w->stop();
}

TEST(Worker, ReportsNextHopsToResolve) {
  Mesh mesh(1);
  Sink sink;
  auto io = std::make_unique<io::MemoryIo>();
  io::MemoryIo* mio = io.get();
  std::shared_ptr<const core::RouteTable> routes = make_routes();
  Worker w(0, std::move(io), test_config(), mesh, sink);
  mesh.set_workers({&w});
  w.set_routes(routes);
  w.call([](core::Engine& e, io::PacketIo&) {
    ASSERT_TRUE(e.add_service({kTcp, "rr", 0}).ok());
    ASSERT_TRUE(e.add_dest(kTcp, {net::ip("198.18.1.77"), 80, core::Fwd::kNat, 1, 0, 0}).ok());
  });
  w.start();
  w.call([&](core::Engine&, io::PacketIo&) { mio->inject(kExt, syn(1000)); });
  ASSERT_TRUE(eventually([&] {
    std::lock_guard l(sink.mu);
    return !sink.got.empty();
  }));
  EXPECT_EQ(sink.got[0].addr, net::ip("198.18.1.77"));
  EXPECT_EQ(sink.got[0].ifindex, kInt);
  w.stop();
}

}  // namespace
}  // namespace lvs::daemon
