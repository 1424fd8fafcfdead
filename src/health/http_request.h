// The GET request HTTP_GET and SSL_GET send, byte for byte as keepalived's http_request()
// (check_http.c request_template) writes it.
#pragma once

#include <string>

#include "ctl/config.h"

namespace lvs::health {

// "GET <path> HTTP/1.<0|1>\r\nUser-Agent: KeepAliveClient\r\n[Connection: close\r\n]Host: <host>
// \r\n\r\n". HTTP/1.1 only for http_protocol "1.1"; Connection: close for "1.0C" and "1.1". Host:
// the url's virtualhost, else the checker's, as written; else connect_ip:connect_port with an
// IPv6 address in brackets (RFC 2732), the port always written.
std::string build_http_request(const ctl::CheckerConf& conf, const ctl::HttpUrlConf& url);

}  // namespace lvs::health
