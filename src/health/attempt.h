// What every probe's attempt does the same way: its deadline, its end, its cancellation. An
// attempt is a shared object with `done` (the result's receiver), `stop()` (closes its socket and
// timer) and, for arm_deadline(), `deadline` and `socket`.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "health/probe.h"

namespace lvs::health {

// The result of an attempt begun at `started`, handed to `done` once: `done` is emptied first,
// so a second end (a timeout racing a reply) or a cancelled attempt delivers nothing.
inline void deliver(ProbeDone& done, bool ok, std::string detail,
                    std::chrono::steady_clock::time_point started) {
  if (!done) return;
  ProbeDone d = std::move(done);
  done = nullptr;
  ProbeResult r;
  r.ok = ok;
  r.detail = std::move(detail);
  r.latency = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  d(std::move(r));
}

// When the deadline passes, the socket is closed: the pending operation then reports the
// timeout with its own words.
template <typename Attempt>
void arm_deadline(const std::shared_ptr<Attempt>& a, uint64_t ms) {
  a->deadline.expires_after(std::chrono::milliseconds(ms));
  a->deadline.async_wait([a](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: the attempt ended first
    boost::system::error_code ignored;
    a->socket.close(ignored);
  });
}

// Probe::cancel(): the running attempt ends without a result.
template <typename Attempt>
void cancel_attempt(std::shared_ptr<Attempt>& current) {
  if (!current) return;
  current->done = nullptr;
  current->stop();
  current.reset();
}

// An attempt on a plain descriptor (the UDP and ICMP probes) with a timer of its own: it ends
// once, by a reply, an error or the timer, and cancel() ends it without a result.
struct DescriptorAttempt {
  DescriptorAttempt(boost::asio::io_context& io, ProbeDone d)
      : done(std::move(d)), sock(io), timer(io) {}

  ProbeDone done;
  boost::asio::posix::stream_descriptor sock;
  boost::asio::steady_timer timer;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  bool finished = false;

  void finish(bool ok, std::string detail) {
    if (finished) return;
    finished = true;
    close();
    deliver(done, ok, std::move(detail), t0);
  }
  void cancel() {
    finished = true;
    done = nullptr;
    close();
  }

 private:
  void close() {
    boost::system::error_code ignored;
    timer.cancel();
    sock.close(ignored);
  }
};

}  // namespace lvs::health
