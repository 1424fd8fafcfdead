#include "health/socket_opts.h"

#include <fmt/format.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace lvs::health {

std::string apply_socket_options(int fd, const ctl::CheckerConf& conf) {
  if (!conf.bind_if.empty()) {
    if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, conf.bind_if.data(),
                     socklen_t(conf.bind_if.size())) != 0) {
      return fmt::format("bind_if {}: {}", conf.bind_if, std::strerror(errno));
    }
  }
  if (conf.fwmark != 0) {
    const int mark = int(conf.fwmark);
    if (::setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) {
      return fmt::format("fwmark {}: {}", conf.fwmark, std::strerror(errno));
    }
  }
  if (!conf.bindto && conf.bind_port == 0) return {};
  sockaddr_storage ss{};
  socklen_t len = 0;
  const bool v6 = conf.connect_ip.is_v6();
  if (v6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(conf.bind_port);
    if (conf.bindto) std::memcpy(&sa->sin6_addr, conf.bindto->data(), 16);
    len = sizeof *sa;
  } else {
    auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(conf.bind_port);
    if (conf.bindto) std::memcpy(&sa->sin_addr, conf.bindto->data(), 4);
    len = sizeof *sa;
  }
  if (conf.bind_port != 0) {
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    return fmt::format("bindto {}:{}: {}", conf.bindto ? conf.bindto->to_string() : "*",
                       conf.bind_port, std::strerror(errno));
  }
  return {};
}

}  // namespace lvs::health
