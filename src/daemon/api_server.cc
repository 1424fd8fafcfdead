#include "daemon/api_server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>

namespace lvs::daemon {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Local = asio::local::stream_protocol;

struct ApiServer::Impl {
  asio::io_context io;
  Local::acceptor acceptor{io};
  std::thread thread;
  std::string path;
  Handler handler;

  void accept() {
    acceptor.async_accept([this](const boost::system::error_code& ec, Local::socket s) {
      if (ec) {
        if (ec != asio::error::operation_aborted) accept();
        return;
      }
      serve(std::move(s));
      accept();
    });
  }

  // One request, one response, then close. A client that stalls is cut off after 5 s: the
  // socket is local and only root reaches it, but the control loop must not wait on it.
  void serve(Local::socket s) {
    const timeval tv{5, 0};
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    boost::beast::flat_buffer buf;
    http::request_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    boost::system::error_code ec;
    http::read(s, buf, parser, ec);
    http::response<http::string_body> res;
    res.version(11);
    res.set(http::field::server, "lvsd");
    res.keep_alive(false);
    if (ec) {
      res.result(http::status::bad_request);
      res.set(http::field::content_type, "text/plain");
      res.body() = "bad request: " + ec.message() + "\n";
    } else {
      const auto& req = parser.get();
      ApiRequest r{std::string(req.method_string()), std::string(req.target()), req.body()};
      ApiResponse out;
      try {
        out = handler(r);
      } catch (const std::exception& e) {
        out = {500, "text/plain", std::string("internal error: ") + e.what() + "\n"};
      }
      res.result(out.status);
      res.set(http::field::content_type, out.content_type);
      res.body() = std::move(out.body);
    }
    res.prepare_payload();
    http::write(s, res, ec);
    s.shutdown(Local::socket::shutdown_both, ec);
  }
};

ApiServer::ApiServer() : impl_(std::make_unique<Impl>()) {}

ApiServer::~ApiServer() { stop(); }

bool ApiServer::start(const std::string& path, Handler handler, std::string* err) {
  boost::system::error_code ec;
  // A socket file that nobody answers on is a leftover; one that answers belongs to a live lvsd.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      *err = "control socket " + path + ": exists and is not a socket";
      return false;
    }
    Local::socket probe(impl_->io);
    probe.connect(Local::endpoint(path), ec);
    if (!ec) {
      *err = "control socket " + path + ": another lvsd is serving it";
      return false;
    }
    ::unlink(path.c_str());
  }
  impl_->acceptor.open(Local(), ec);
  if (!ec) impl_->acceptor.bind(Local::endpoint(path), ec);
  if (!ec) ::chmod(path.c_str(), 0600);
  if (!ec) impl_->acceptor.listen(16, ec);
  if (ec) {
    *err = "control socket " + path + ": " + ec.message();
    impl_->acceptor.close(ec);
    return false;
  }
  impl_->path = path;
  impl_->handler = std::move(handler);
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return true;
}

void ApiServer::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->io.stop();
  impl_->thread.join();
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  ::unlink(impl_->path.c_str());
}

std::string default_api_socket() {
  const char* env = std::getenv("LVSD_SOCKET");
  return env != nullptr && *env != '\0' ? env : "/run/lvsd.sock";
}

}  // namespace lvs::daemon
