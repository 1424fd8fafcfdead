// Runs a command line through /bin/sh -c on the health loop without blocking it: MISC_CHECK's
// misc_path and the notify_up/notify_down/quorum_up/quorum_down scripts (keepalived's
// system_call_script() and notify_exec()). The child gets its own process group, the default
// signal mask and dispositions, no fds but stdin (/dev/null), stdout and stderr (one pipe whose
// first kMaxOutput bytes are kept), and optionally another user's uid, gid and groups. The exit
// is learnt through a pidfd on the loop (never SIGCHLD); a timeout SIGKILLs the whole group.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace lvs::health {

struct ScriptResult {
  bool started = false;  // false: it never ran (unknown user, fork failed); see error
  bool exited = false;   // exited normally with exit_status
  int exit_status = -1;
  int signal = 0;          // killed by this signal (also after a timeout: SIGKILL)
  bool timed_out = false;  // the timeout passed and the group was killed
  std::string error;       // why it did not start
  std::string output;      // stdout and stderr, the first kMaxOutput bytes
  bool output_truncated = false;
  std::chrono::microseconds elapsed{0};

  bool ok() const { return exited && exit_status == 0; }
  // "exit status 1", "killed by signal 9 (Killed)", "timed out after 1000 ms", "user nope: unknown"
  std::string describe() const;
  // The output's first line (without the newline), at most 200 bytes.
  std::string first_line() const;
};

using ScriptDone = std::function<void(ScriptResult)>;

struct ScriptSpec {
  std::string command;                       // run as /bin/sh -c command
  std::string user;                          // empty: as lvsd runs (root)
  std::chrono::milliseconds timeout{10000};  // 0: none
};

// One run. Keeps itself alive while the child runs; drop the pointer for a fire-and-forget run.
class Script : public std::enable_shared_from_this<Script> {
 public:
  static constexpr size_t kMaxOutput = 4096;

  // Starts the child now; `done` is called once on the loop thread (never from inside start()),
  // unless cancel() comes first.
  static std::shared_ptr<Script> start(boost::asio::io_context& io, ScriptSpec spec,
                                       ScriptDone done);
  ~Script();

  // Kills the process group (SIGKILL); `done` is not called. The child is reaped on the loop
  // when it has gone (or at the latest when this object is destroyed).
  void cancel();
  pid_t pid() const { return pid_; }

  Script(boost::asio::io_context& io, ScriptSpec spec, ScriptDone done);  // use start()

 private:
  struct Impl;
  void launch();
  void read_output();
  void wait_exit();
  void on_exit();
  void finish();
  void fail_to_start(std::string error);

  boost::asio::io_context& io_;
  ScriptSpec spec_;
  ScriptDone done_;
  pid_t pid_ = -1;
  bool reaped_ = true;
  bool finished_ = false;
  std::unique_ptr<Impl> impl_;
  ScriptResult result_;
};

}  // namespace lvs::health
