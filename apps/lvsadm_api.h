// lvsadm's side of lvsd's control API: one HTTP/1.1 request on the Unix socket, one answer.
#pragma once

#include <string>

namespace lvs::adm {

struct ApiAnswer {
  bool reached = false;  // false: no lvsd answered (error says why)
  unsigned status = 0;
  std::string body;
  std::string error;
};

ApiAnswer api_call(const std::string& socket_path, const std::string& method,
                   const std::string& target, const std::string& body = {});

}  // namespace lvs::adm
