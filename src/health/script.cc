#include "health/script.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <vector>

namespace lvs::health {

namespace asio = boost::asio;

std::string ScriptResult::describe() const {
  if (!started) return error;
  if (timed_out) {
    return fmt::format("timed out after {} ms",
                       std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
  }
  if (exited) return fmt::format("exit status {}", exit_status);
  if (signal != 0) return fmt::format("killed by signal {} ({})", signal, ::strsignal(signal));
  return "ended";
}

std::string ScriptResult::first_line() const {
  const size_t nl = output.find('\n');
  std::string line =
      output.substr(0, std::min<size_t>(nl == std::string::npos ? output.size() : nl, 200));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

struct Script::Impl {
  explicit Impl(asio::io_context& io) : timer(io), pipe(io), pidfd(io) {}
  asio::steady_timer timer;
  asio::posix::stream_descriptor pipe;
  asio::posix::stream_descriptor pidfd;
  std::array<char, 4096> buf{};
  std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();
};

namespace {

// What the child needs to become `user`, looked up before fork (getpwnam is not async-signal
// safe). keepalived's set_script_uid_gid() takes the same uid, gid and supplementary groups.
struct Ids {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

std::string lookup_user(const std::string& user, Ids& ids) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  const int rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0) return fmt::format("user {}: {}", user, std::strerror(rc));
  if (found == nullptr) return fmt::format("user {}: unknown", user);
  ids.uid = pw.pw_uid;
  ids.gid = pw.pw_gid;
  int n = 64;
  ids.groups.resize(size_t(n));
  if (::getgrouplist(user.c_str(), pw.pw_gid, ids.groups.data(), &n) < 0) {
    ids.groups.resize(size_t(n));
    if (::getgrouplist(user.c_str(), pw.pw_gid, ids.groups.data(), &n) < 0) n = 0;
  }
  ids.groups.resize(size_t(std::max(n, 0)));
  if (ids.groups.empty()) ids.groups.push_back(pw.pw_gid);
  return {};
}

// In the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(int out_fd, const char* command, const Ids* ids) {
  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // fails for KILL/STOP
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0 && null_fd != 0) ::dup2(null_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(out_fd, 2);
  ::syscall(SYS_close_range, 3u, ~0u, 0u);
  if (ids != nullptr) {
    if (::setgroups(ids->groups.size(), ids->groups.data()) != 0 || ::setgid(ids->gid) != 0 ||
        ::setuid(ids->uid) != 0) {
      static const char kMsg[] = "lvsd: cannot switch user\n";
      [[maybe_unused]] auto n = ::write(2, kMsg, sizeof kMsg - 1);
      ::_exit(126);
    }
  }
  ::execl("/bin/sh", "sh", "-c", command, static_cast<char*>(nullptr));
  ::_exit(127);
}

}  // namespace

Script::Script(asio::io_context& io, ScriptSpec spec, ScriptDone done)
    : io_(io), spec_(std::move(spec)), done_(std::move(done)), impl_(std::make_unique<Impl>(io)) {}

std::shared_ptr<Script> Script::start(asio::io_context& io, ScriptSpec spec, ScriptDone done) {
  auto s = std::make_shared<Script>(io, std::move(spec), std::move(done));
  s->launch();
  return s;
}

Script::~Script() {
  // Only when the loop was abandoned with the child still running (lvsd stopping): the group
  // gets SIGKILL and the child is reaped here, which then takes no time.
  if (!reaped_ && pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

void Script::fail_to_start(std::string error) {
  result_.started = false;
  result_.error = std::move(error);
  finished_ = true;
  asio::post(io_, [self = shared_from_this()] {
    if (auto d = std::move(self->done_)) d(self->result_);
  });
}

void Script::launch() {
  Ids ids;
  const bool as_user = !spec_.user.empty();
  if (as_user) {
    if (auto err = lookup_user(spec_.user, ids); !err.empty()) return fail_to_start(err);
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return fail_to_start(fmt::format("pipe: {}", std::strerror(errno)));
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return fail_to_start(fmt::format("fork: {}", std::strerror(e)));
  }
  if (pid == 0) exec_child(fds[1], spec_.command.c_str(), as_user ? &ids : nullptr);
  ::close(fds[1]);
  ::setpgid(pid, pid);  // also here, so kill(-pid) finds the group before the child ran
  pid_ = pid;
  reaped_ = false;
  result_.started = true;
  impl_->started_at = std::chrono::steady_clock::now();
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  impl_->pipe.assign(fds[0]);
  const int pidfd = int(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    // Without a pidfd the exit cannot be awaited on the loop: give up on the child.
    const int e = errno;
    ::kill(-pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    reaped_ = true;
    boost::system::error_code ignored;
    impl_->pipe.close(ignored);
    return fail_to_start(fmt::format("pidfd_open: {}", std::strerror(e)));
  }
  impl_->pidfd.assign(pidfd);
  read_output();
  wait_exit();
  if (spec_.timeout.count() > 0) {
    impl_->timer.expires_after(spec_.timeout);
    impl_->timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->reaped_) return;
      self->result_.timed_out = true;
      ::kill(-self->pid_, SIGKILL);  // the whole group: children the script started too
    });
  }
}

void Script::read_output() {
  impl_->pipe.async_read_some(
      asio::buffer(impl_->buf),
      [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
        if (ec) return;  // EOF, or closed at the exit
        auto& out = self->result_.output;
        const size_t keep = std::min(n, kMaxOutput - std::min(out.size(), kMaxOutput));
        out.append(self->impl_->buf.data(), keep);
        if (keep < n) self->result_.output_truncated = true;
        self->read_output();
      });
}

void Script::wait_exit() {
  impl_->pidfd.async_wait(asio::posix::stream_descriptor::wait_read,
                          [self = shared_from_this()](const boost::system::error_code& ec) {
                            if (ec == asio::error::operation_aborted) return;
                            self->on_exit();
                          });
}

void Script::on_exit() {
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return wait_exit();  // not yet (spurious wake-up)
  reaped_ = true;
  if (r == pid_) {
    if (WIFEXITED(status)) {
      result_.exited = true;
      result_.exit_status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      result_.signal = WTERMSIG(status);
    }
  }
  // Everything the child wrote is in the pipe now; take it without waiting for EOF (a
  // background grandchild may hold the pipe open). Bounded: a writer still running is not
  // followed further.
  const int fd = impl_->pipe.native_handle();
  for (int i = 0; i < 64; ++i) {
    const ssize_t n = ::read(fd, impl_->buf.data(), impl_->buf.size());
    if (n <= 0) break;
    auto& out = result_.output;
    const size_t keep = std::min(size_t(n), kMaxOutput - std::min(out.size(), kMaxOutput));
    out.append(impl_->buf.data(), keep);
    if (keep < size_t(n)) result_.output_truncated = true;
  }
  finish();
}

void Script::finish() {
  finished_ = true;
  result_.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - impl_->started_at);
  boost::system::error_code ignored;
  impl_->timer.cancel();
  impl_->pipe.close(ignored);
  impl_->pidfd.close(ignored);
  if (auto d = std::move(done_)) d(result_);
}

void Script::cancel() {
  done_ = nullptr;
  if (!reaped_ && pid_ > 0) ::kill(-pid_, SIGKILL);
  impl_->timer.cancel();
}

}  // namespace lvs::health
