#include "daemon/detach.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace lvs::daemon {

namespace {
int ready_fd = -1;  // the child's end of the pipe to the waiting parent

void tell_parent(char status) {
  if (ready_fd < 0) return;
  while (write(ready_fd, &status, 1) < 0 && errno == EINTR) {
  }
  ::close(ready_fd);
  ready_fd = -1;
}
}  // namespace

bool detach(std::string* err) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    *err = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    *err = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid > 0) {
    ::close(fds[1]);
    char status = 1;
    ssize_t n;
    while ((n = read(fds[0], &status, 1)) < 0 && errno == EINTR) {
    }
    // EOF without a word: the child died while starting; its messages are already out.
    if (n != 1) status = 1;
    if (status != 0) waitpid(pid, nullptr, WNOHANG);
    _exit(status);
  }
  ::close(fds[0]);
  ready_fd = fds[1];
  setsid();
  return true;
}

void detach_ready() {
  if (ready_fd < 0) return;
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    for (int fd : {0, 1, 2}) dup2(null, fd);
    ::close(null);
  }
  tell_parent(0);
}

void detach_failed() { tell_parent(1); }

bool write_pid_file(const std::string& path, std::string* err) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << getpid() << "\n";
    if (!out) {
      *err = "pid file " + tmp + ": cannot write";
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    *err = "pid file " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

void remove_pid_file(const std::string& path) {
  if (!path.empty()) ::unlink(path.c_str());
}

void notify_systemd(const std::string& state) {
  const char* where = std::getenv("NOTIFY_SOCKET");
  if (where == nullptr || (where[0] != '/' && where[0] != '@')) return;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  const size_t len = std::strlen(where);
  if (len >= sizeof(sa.sun_path)) return;
  std::memcpy(sa.sun_path, where, len);
  if (sa.sun_path[0] == '@') sa.sun_path[0] = '\0';  // abstract namespace
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&sa),
         socklen_t(offsetof(sockaddr_un, sun_path) + len));
  ::close(fd);
}

}  // namespace lvs::daemon
