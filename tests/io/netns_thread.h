// Runs a test body on a thread inside a network namespace of its own (unshare(CLONE_NEWNET)
// affects only the calling thread), so nothing a test creates can leak into the host: the
// namespace, and every link in it, disappears with the thread.
#pragma once

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>

namespace lvs::testing {

// Returns false (with a reason) when namespaces are not available, e.g. without root.
inline bool run_in_new_netns(const std::function<void()>& body, std::string* why) {
  bool ok = true;
  std::thread t([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      ok = false;
      *why = "unshare(CLONE_NEWNET) failed (needs root)";
      return;
    }
    body();
  });
  t.join();
  return ok;
}

// A second private namespace, held by a parked thread; commands reach it with nsenter and links
// move into it with `ip link set DEV netns <tid>`. It disappears when the object does.
class PeerNetns {
 public:
  PeerNetns() {
    std::promise<pid_t> ready;
    auto tid = ready.get_future();
    thread_ = std::thread([this, &ready] {
      if (unshare(CLONE_NEWNET) != 0) {
        ready.set_value(-1);
        return;
      }
      ready.set_value(pid_t(syscall(SYS_gettid)));
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return done_; });
    });
    tid_ = tid.get();
  }
  ~PeerNetns() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool ok() const { return tid_ > 0; }
  std::string id() const { return std::to_string(tid_); }
  std::string exec(const std::string& cmd) const {
    return "nsenter --net=/proc/" + id() + "/ns/net " + cmd;
  }

 private:
  std::thread thread_;
  pid_t tid_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

// Runs a shell command in the calling thread's namespace; its exit status.
inline int sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

}  // namespace lvs::testing
