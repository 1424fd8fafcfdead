#include "health/script.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

namespace lvs::health {
namespace {

using namespace std::chrono_literals;

struct Ran {
  std::optional<ScriptResult> result;
  int calls = 0;
};

Ran run(const std::string& command, std::chrono::milliseconds timeout = 5000ms,
        const std::string& user = "") {
  boost::asio::io_context io;
  Ran ran;
  auto s = Script::start(io, ScriptSpec{command, user, timeout}, [&](ScriptResult r) {
    ran.result = std::move(r);
    ++ran.calls;
  });
  EXPECT_EQ(ran.calls, 0);  // never from inside start()
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!ran.result && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  io.poll();
  EXPECT_TRUE(ran.result.has_value()) << command;
  EXPECT_EQ(ran.calls, 1);
  return ran;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "." + std::to_string(::getpid())))
      .string();
}

// "gone" also when a zombie: nobody may reap orphans in a container.
bool process_gone(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return true;
  std::string stat;
  std::getline(in, stat);
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

TEST(Script, ExitZeroWithOutput) {
  const Ran r = run("echo hello; echo world");
  ASSERT_TRUE(r.result);
  EXPECT_TRUE(r.result->started);
  EXPECT_TRUE(r.result->ok());
  EXPECT_TRUE(r.result->exited);
  EXPECT_EQ(r.result->exit_status, 0);
  EXPECT_EQ(r.result->output, "hello\nworld\n");
  EXPECT_EQ(r.result->first_line(), "hello");
  EXPECT_EQ(r.result->describe(), "exit status 0");
  EXPECT_GT(r.result->elapsed.count(), 0);
}

TEST(Script, ExitStatusAndStderr) {
  const Ran r = run("echo oops >&2; exit 3");
  ASSERT_TRUE(r.result);
  EXPECT_FALSE(r.result->ok());
  EXPECT_EQ(r.result->exit_status, 3);
  EXPECT_EQ(r.result->output, "oops\n");
  EXPECT_EQ(r.result->describe(), "exit status 3");
}

TEST(Script, OutputIsTruncatedButFullyRead) {
  // 200 KiB: more than a pipe holds, so the child only finishes if the output is drained.
  const Ran r = run("head -c 204800 /dev/zero | tr '\\0' x; echo; exit 4");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->exit_status, 4);
  EXPECT_EQ(r.result->output.size(), Script::kMaxOutput);
  EXPECT_TRUE(r.result->output_truncated);
  EXPECT_EQ(r.result->output, std::string(Script::kMaxOutput, 'x'));
}

TEST(Script, KilledBySignal) {
  const Ran r = run("kill -TERM $$");
  ASSERT_TRUE(r.result);
  EXPECT_FALSE(r.result->exited);
  EXPECT_EQ(r.result->signal, SIGTERM);
  EXPECT_FALSE(r.result->timed_out);
  EXPECT_EQ(r.result->describe(), "killed by signal 15 (Terminated)");
}

TEST(Script, TimeoutKillsTheWholeGroup) {
  const std::string pidfile = temp_path("hcore-bg");
  std::filesystem::remove(pidfile);
  const auto t0 = std::chrono::steady_clock::now();
  const Ran r = run("sleep 30 & echo $! > " + pidfile + "; sleep 30", 200ms);
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r.result);
  EXPECT_TRUE(r.result->timed_out);
  EXPECT_EQ(r.result->signal, SIGKILL);
  EXPECT_LT(took, 5s);
  EXPECT_NE(r.result->describe().find("timed out after "), std::string::npos)
      << r.result->describe();
  std::ifstream in(pidfile);
  pid_t bg = 0;
  in >> bg;
  ASSERT_GT(bg, 0);
  bool gone = false;
  for (int i = 0; i < 100 && !(gone = process_gone(bg)); ++i) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(gone) << "background child " << bg << " survived";
  if (!gone) ::kill(bg, SIGKILL);
  std::filesystem::remove(pidfile);
}

TEST(Script, ChildHasOwnGroupDefaultMaskAndNoOtherFds) {
  // A blocked signal in this thread must not be inherited; an fd without CLOEXEC not either.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, &old), 0);
  const int leak = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC on purpose
  ASSERT_GE(leak, 0);
  const Ran r =
      run("read -r pid comm state ppid pgrp rest < /proc/$$/stat; echo pgrp=$((pgrp == $$));"
          "while read -r k v; do [ \"$k\" = SigBlk: ] && echo \"$k $v\"; done < /proc/$$/status;"
          "ls /proc/$$/fd");
  ::close(leak);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(r.result);
  EXPECT_TRUE(r.result->ok()) << r.result->output;
  EXPECT_NE(r.result->output.find("pgrp=1"), std::string::npos) << r.result->output;
  EXPECT_NE(r.result->output.find("SigBlk: 0000000000000000"), std::string::npos)
      << r.result->output;
  // The shell's own fds while ls lists them: stdin, stdout, stderr and nothing else.
  EXPECT_NE(r.result->output.find("0000\n0\n1\n2\n"), std::string::npos) << r.result->output;
  EXPECT_EQ(r.result->output.find("\n3\n"), std::string::npos) << r.result->output;
}

TEST(Script, RunsAsUser) {
  const Ran r = run("id -u; id -g", 5000ms, "nobody");
  ASSERT_TRUE(r.result);
  EXPECT_TRUE(r.result->ok()) << r.result->output;
  EXPECT_EQ(r.result->output, "65534\n65534\n");
}

TEST(Script, UnknownUserDoesNotStart) {
  const Ran r = run("true", 5000ms, "no-such-user-hcore");
  ASSERT_TRUE(r.result);
  EXPECT_FALSE(r.result->started);
  EXPECT_FALSE(r.result->ok());
  EXPECT_EQ(r.result->describe(), "user no-such-user-hcore: unknown");
}

TEST(Script, CommandNotFoundIsExit127) {
  const Ran r = run("/nonexistent/hcore-script");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->exit_status, 127);
  EXPECT_NE(r.result->output.find("not found"), std::string::npos) << r.result->output;
}

TEST(Script, CancelKillsAndDoesNotCallDone) {
  boost::asio::io_context io;
  int calls = 0;
  auto s = Script::start(io, ScriptSpec{"sleep 30", "", 10000ms}, [&](ScriptResult) { ++calls; });
  const pid_t pid = s->pid();
  ASSERT_GT(pid, 0);
  io.run_for(50ms);
  s->cancel();
  s.reset();  // the handlers keep it until the child is reaped
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!io.stopped() && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  EXPECT_TRUE(io.stopped()) << "the child was not reaped";
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(process_gone(pid));
}

TEST(Script, DestroyedLoopReapsTheChild) {
  pid_t pid = 0;
  {
    boost::asio::io_context io;
    auto s = Script::start(io, ScriptSpec{"sleep 30", "", 10000ms}, [](ScriptResult) {});
    pid = s->pid();
    io.run_for(20ms);
  }  // handlers destroyed with the io_context: the child is killed and reaped
  ASSERT_GT(pid, 0);
  errno = 0;
  EXPECT_NE(::kill(pid, 0), 0);
  EXPECT_EQ(errno, ESRCH);
}

}  // namespace
}  // namespace lvs::health
