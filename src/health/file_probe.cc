// FILE_CHECK: a number in a file adjusts the real server's weight, as keepalived's track_file
// (trackers/track_file.c process_track_file(), update_track_file_status(),
// process_update_checker_track_file_status()). keepalived watches the file with inotify; lvs reads
// it at every attempt (delay_loop apart). The rules:
//  - the first 127 bytes, strtol base 0 ("0x10", "-5", "7\n"); a missing or empty file is 0; a
//    number out of int32 range (or strtol's ERANGE) is ignored: the previous value stays;
//  - file_weight 0: a nonzero value (a zero one when reversed) fails, else ok with delta 0;
//  - else delta = value × file_weight × (reverse ? -1 : 1); a delta <= -254 fails (the fault
//    weight), a larger one is clamped to at most 253 (lvs's contract, probe.h: -253..253).
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "health/probe.h"

namespace lvs::health {
namespace {

constexpr int64_t kFault = -254;
constexpr int64_t kMaxDelta = 253;

class FileProbe final : public Probe {
 public:
  FileProbe(boost::asio::io_context& io, const ctl::CheckerConf& conf)
      : io_(io), path_(conf.file_path), weight_(conf.file_weight), reverse_(conf.file_reverse) {}
  ~FileProbe() override { cancel(); }

  void start(ProbeDone done) override {
    cancel();
    const auto t0 = std::chrono::steady_clock::now();
    ProbeResult r = read_once();
    r.latency = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - t0);
    // Delivered from the loop, never from inside start(); a cancel() in between drops it.
    auto token = std::make_shared<bool>(true);
    token_ = token;
    boost::asio::post(io_, [token, done = std::move(done), r = std::move(r)]() mutable {
      if (*token) done(std::move(r));
    });
  }

  void cancel() override {
    if (token_) *token_ = false;
    token_.reset();
  }

 private:
  ProbeResult read_once() {
    ProbeResult r;
    std::string source = "value";
    int64_t value = 0;
    const int fd = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      source = fmt::format("{}: {}: value", path_, std::strerror(errno));
    } else {
      char buf[128];
      const ssize_t n = ::read(fd, buf, sizeof buf - 1);
      ::close(fd);
      if (n > 0) {
        buf[n] = '\0';
        errno = 0;
        const long v = std::strtol(buf, nullptr, 0);
        if (errno != 0 || v < int64_t(INT32_MIN) || v > int64_t(INT32_MAX) + 1) {
          source = fmt::format("invalid number in {} ignored: value", path_);
          value = last_value_;
        } else {
          value = v;
        }
      }
    }
    last_value_ = value;
    if (weight_ == 0) {
      // track_file.c: with weight 0 the value is a state: nonzero (zero when reversed) is a fault.
      const bool fault = (value != 0) != reverse_;
      r.ok = !fault;
      r.detail = fmt::format("{} {}{}", source, value,
                             fault ? (reverse_ ? " (weight 0 reverse: zero is a fault)"
                                               : " (weight 0: nonzero is a fault)")
                                   : "");
      if (r.ok) r.weight = 0;
      return r;
    }
    const int64_t delta = value * int64_t(weight_) * (reverse_ ? -1 : 1);
    const std::string calc = fmt::format("{} {} x weight {}{} = {}", source, value, weight_,
                                         reverse_ ? " reversed" : "", delta);
    if (delta <= kFault) {
      r.detail = calc + " (fault)";
      return r;
    }
    r.ok = true;
    r.weight = int32_t(std::min(delta, kMaxDelta));
    r.detail = delta > kMaxDelta ? fmt::format("{} (clamped to {})", calc, kMaxDelta) : calc;
    return r;
  }

  boost::asio::io_context& io_;
  std::string path_;
  int32_t weight_;
  bool reverse_;
  int64_t last_value_ = 0;
  std::shared_ptr<bool> token_;
};

}  // namespace

std::unique_ptr<Probe> make_file_probe(boost::asio::io_context& io, const ctl::CheckerConf& conf) {
  return std::make_unique<FileProbe>(io, conf);
}

}  // namespace lvs::health
