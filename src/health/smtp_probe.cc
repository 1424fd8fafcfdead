// SMTP_CHECK (keepalived's check_smtp.c smtp_engine_thread): connect, read the greeting (220),
// send "HELO <name>", read its reply (250), send "QUIT", read one more line whatever it says,
// close.
//
// Replies: keepalived reads one line per step and wants "NNN" then a space or the end
// (smtp_get_status), so a multi-line greeting ("220-...") fails there. Here a reply is read as
// RFC 5321 defines it: "NNN-" lines continue, the first "NNN " (or bare "NNN") line ends it and
// its code counts. Lines are limited to keepalived's buffer (SMTP_BUFF_MAX, 512 bytes), a reply to
// kMaxReplyLines lines. Bytes after a reply are dropped, as keepalived's smtp_get_line() clears
// its buffer before each step.
#include <fmt/format.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <istream>
#include <memory>

#include "health/attempt.h"
#include "health/probe.h"
#include "health/tcp_connect.h"

namespace lvs::health {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr size_t kMaxLine = 512;  // keepalived's SMTP_BUFF_MAX
constexpr int kMaxReplyLines = 64;
constexpr const char* kDefaultHelo = "smtpchecker.keepalived.org";  // SMTP_DEFAULT_HELO

// A reply line's code: 3 digits then ' ', '-' or the end. -1: not a reply line.
int line_code(std::string_view line, bool* more) {
  if (line.size() < 3) return -1;
  for (int i = 0; i < 3; ++i) {
    if (line[i] < '0' || line[i] > '9') return -1;
  }
  *more = false;
  if (line.size() > 3) {
    if (line[3] == '-') {
      *more = true;
    } else if (line[3] != ' ') {
      return -1;
    }
  }
  return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

// A line as it goes into a detail: at most 80 bytes, control bytes escaped.
std::string quote(std::string_view line) {
  std::string s;
  for (char c : line.substr(0, 80)) {
    if (c >= 0x20 && c < 0x7f) {
      s += c;
    } else {
      s += fmt::format("\\x{:02x}", uint8_t(c));
    }
  }
  if (line.size() > 80) s += "...";
  return s;
}

struct SmtpAttempt : std::enable_shared_from_this<SmtpAttempt> {
  enum class Step { kGreeting, kHelo, kQuit };

  SmtpAttempt(asio::io_context& io, std::shared_ptr<const ctl::CheckerConf> c, std::string helo,
              ProbeDone d)
      : socket(io),
        deadline(io),
        conf(std::move(c)),
        helo_name(std::move(helo)),
        done(std::move(d)),
        started(Clock::now()) {}

  void stop() {
    error_code ignored;
    deadline.cancel();
    socket.close(ignored);
  }
  void finish(bool ok, std::string detail) {
    if (!done) return;
    stop();
    deliver(done, ok, std::move(detail), started);
  }

  void start() {
    auto self = shared_from_this();
    async_tcp_connect(socket, deadline, *conf, [self](std::string error) {
      if (!error.empty()) return self->finish(false, std::move(error));
      self->step = Step::kGreeting;
      self->phase = "waiting for the greeting";
      self->read_reply();
    });
  }

  void fail_io(const error_code& ec, std::string_view what) {
    if (deadline_passed(deadline)) {
      return finish(false, timeout_detail(conf->connect_timeout_ms, phase));
    }
    if (ec == asio::error::eof) return finish(false, fmt::format("connection closed {}", phase));
    if (ec == asio::error::not_found) {  // streambuf full without a newline
      return finish(false, fmt::format("reply line longer than {} bytes {}", kMaxLine, phase));
    }
    finish(false, fmt::format("{}: {}", what, error_text(ec)));
  }

  void read_reply() {
    lines = 0;
    read_line();
  }

  void read_line() {
    asio::async_read_until(socket, in, '\n',
                           [self = shared_from_this()](const error_code& ec, size_t n) {
                             if (ec) return self->fail_io(ec, "read");
                             std::string line(n, '\0');
                             self->in.sgetn(line.data(), std::streamsize(n));
                             while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
                               line.pop_back();
                             }
                             self->on_line(line);
                           });
  }

  void on_line(const std::string& line) {
    if (step == Step::kQuit) return finish(true, "");  // smtp_engine_thread: SMTP_RECV_QUIT
    const int want = step == Step::kGreeting ? 220 : 250;
    bool more = false;
    const int code = line_code(line, &more);
    if (code < 0 || (!more && code != want)) {
      return finish(false, fmt::format("{}expected {}, got '{}'",
                                       step == Step::kGreeting ? "" : "HELO: ", want, quote(line)));
    }
    if (more) {
      if (++lines >= kMaxReplyLines) {
        return finish(false, fmt::format("reply longer than {} lines {}", kMaxReplyLines, phase));
      }
      return read_line();
    }
    in.consume(in.size());
    if (step == Step::kGreeting) {
      step = Step::kHelo;
      send(fmt::format("HELO {}\r\n", helo_name), "sending HELO", "waiting for the HELO reply");
    } else {
      step = Step::kQuit;
      send("QUIT\r\n", "sending QUIT", "waiting for the QUIT reply");
    }
  }

  void send(std::string line, const char* send_phase, const char* next_phase) {
    out = std::move(line);
    phase = send_phase;
    asio::async_write(socket, asio::buffer(out),
                      [self = shared_from_this(), next_phase](const error_code& ec, size_t) {
                        if (ec) return self->fail_io(ec, "send");
                        self->phase = next_phase;
                        self->read_reply();
                      });
  }

  tcp::socket socket;
  asio::steady_timer deadline;
  std::shared_ptr<const ctl::CheckerConf> conf;
  std::string helo_name;
  ProbeDone done;
  Clock::time_point started;
  Step step = Step::kGreeting;
  std::string phase = "connecting";
  asio::streambuf in{kMaxLine};
  std::string out;
  int lines = 0;
};

class SmtpProbe final : public Probe {
 public:
  SmtpProbe(asio::io_context& io, const ctl::CheckerConf& conf, const ProbeEnv& env)
      : io_(io), conf_(std::make_shared<ctl::CheckerConf>(conf)) {
    helo_ = !conf.helo_name.empty()  ? conf.helo_name
            : !env.host_name.empty() ? env.host_name
                                     : kDefaultHelo;
  }
  ~SmtpProbe() override { cancel(); }

  void start(ProbeDone done) override {
    cancel();
    auto a = std::make_shared<SmtpAttempt>(io_, conf_, helo_, std::move(done));
    current_ = a;
    arm_deadline(a, conf_->connect_timeout_ms);  // the pending operation reports the timeout
    a->start();
  }

  void cancel() override { cancel_attempt(current_); }

 private:
  asio::io_context& io_;
  std::shared_ptr<const ctl::CheckerConf> conf_;
  std::string helo_;
  std::shared_ptr<SmtpAttempt> current_;
};

}  // namespace

std::unique_ptr<Probe> make_smtp_probe(asio::io_context& io, const ctl::CheckerConf& conf,
                                       const ProbeEnv& env) {
  return std::make_unique<SmtpProbe>(io, conf, env);
}

}  // namespace lvs::health
