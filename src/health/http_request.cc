#include "health/http_request.h"

#include <fmt/format.h>

namespace lvs::health {

std::string build_http_request(const ctl::CheckerConf& conf, const ctl::HttpUrlConf& url) {
  const bool v11 = conf.http_protocol == "1.1";
  const bool close = v11 || conf.http_protocol == "1.0C";
  std::string host = !url.virtualhost.empty() ? url.virtualhost : conf.virtualhost;
  if (host.empty()) {
    const std::string addr = conf.connect_ip.to_string();
    host = conf.connect_ip.is_v6() ? fmt::format("[{}]:{}", addr, conf.connect_port)
                                   : fmt::format("{}:{}", addr, conf.connect_port);
  }
  return fmt::format(
      "GET {} HTTP/1.{}\r\n"
      "User-Agent: KeepAliveClient\r\n"
      "{}"
      "Host: {}\r\n\r\n",
      url.path, v11 ? 1 : 0, close ? "Connection: close\r\n" : "", host);
}

}  // namespace lvs::health
