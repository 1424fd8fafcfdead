#include "lvsadm_api.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace lvs::adm {

namespace http = boost::beast::http;
using Local = boost::asio::local::stream_protocol;

ApiAnswer api_call(const std::string& socket_path, const std::string& method,
                   const std::string& target, const std::string& body) {
  ApiAnswer a;
  boost::asio::io_context io;
  Local::socket s(io);
  boost::system::error_code ec;
  s.connect(Local::endpoint(socket_path), ec);
  if (ec) {
    a.error = ec.message();
    return a;
  }
  // lvsd answers at once; a daemon that hangs must not hang lvsadm.
  const timeval tv{10, 0};
  setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "lvsd");
  req.set(http::field::user_agent, "lvsadm");
  req.body() = body;
  req.prepare_payload();
  http::write(s, req, ec);
  boost::beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1u << 30);  // -c on a full table is large
  if (!ec) http::read(s, buf, parser, ec);
  if (ec) {
    a.error = ec.message();
    return a;
  }
  a.reached = true;
  a.status = parser.get().result_int();
  a.body = parser.get().body();
  return a;
}

}  // namespace lvs::adm
