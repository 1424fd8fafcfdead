#include "daemon/api_server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>

#include "net/addr.h"

namespace lvs::daemon {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Local = asio::local::stream_protocol;
using Tcp = asio::ip::tcp;

struct ApiServer::Impl {
  asio::io_context io;
  Local::acceptor acceptor{io};
  Tcp::acceptor tcp_acceptor{io};
  std::thread thread;
  std::string path;
  Handler handler;

  template <typename Acceptor>
  void accept(Acceptor& a, bool read_only) {
    a.async_accept([this, &a, read_only](const boost::system::error_code& ec,
                                         typename Acceptor::protocol_type::socket s) {
      if (ec) {
        if (ec != asio::error::operation_aborted) accept(a, read_only);
        return;
      }
      serve(std::move(s), read_only);
      accept(a, read_only);
    });
  }

  // One request, one response, then close. A client that stalls is cut off after 5 s: the
  // control loop must not wait on it.
  template <typename Socket>
  void serve(Socket s, bool read_only) {
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
        out = read_only && r.method != "GET"
                  ? ApiResponse{403, "text/plain",
                                "the TCP listener is read-only: make changes through lvsd's "
                                "control socket\n"}
                  : handler(r);
      } catch (const std::exception& e) {
        out = {500, "text/plain", std::string("internal error: ") + e.what() + "\n"};
      }
      res.result(out.status);
      res.set(http::field::content_type, out.content_type);
      res.body() = std::move(out.body);
    }
    res.prepare_payload();
    http::write(s, res, ec);
    s.shutdown(Socket::shutdown_both, ec);
  }
};

ApiServer::ApiServer() : impl_(std::make_unique<Impl>()) {}

ApiServer::~ApiServer() { stop(); }

bool ApiServer::start(const std::string& path, const std::string& tcp, Handler handler,
                      std::string* err) {
  boost::system::error_code ec;
  if (!tcp.empty()) {
    // ADDR:PORT or [V6]:PORT, numeric: a listener is no place for name lookups.
    const size_t colon = tcp.rfind(':');
    std::string host = colon == std::string::npos ? "" : tcp.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string::npos) {
      host.clear();  // an IPv6 address needs brackets
    }
    const auto addr = net::IpAddr::parse(host);
    unsigned long port = 0;
    const std::string port_text = colon == std::string::npos ? "" : tcp.substr(colon + 1);
    const bool port_ok = !port_text.empty() && port_text.size() <= 5 &&
                         port_text.find_first_not_of("0123456789") == std::string::npos &&
                         (port = std::stoul(port_text)) >= 1 && port <= 65535;
    if (!addr || !port_ok) {
      *err = "API listen address '" + tcp + "': expected ADDR:PORT or [IPV6]:PORT";
      return false;
    }
    const Tcp::endpoint ep(asio::ip::make_address(addr->to_string(), ec), uint16_t(port));
    if (!ec) impl_->tcp_acceptor.open(ep.protocol(), ec);
    if (!ec) impl_->tcp_acceptor.set_option(Tcp::acceptor::reuse_address(true), ec);
    if (!ec) impl_->tcp_acceptor.bind(ep, ec);
    if (!ec) impl_->tcp_acceptor.listen(16, ec);
    if (ec) {
      *err = "API listen address " + tcp + ": " + ec.message();
      impl_->tcp_acceptor.close(ec);
      return false;
    }
  }
  if (!path.empty()) {
    // A socket file that nobody answers on is a leftover; one that answers belongs to a live
    // lvsd.
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        *err = "control socket " + path + ": exists and is not a socket";
        impl_->tcp_acceptor.close(ec);
        return false;
      }
      Local::socket probe(impl_->io);
      probe.connect(Local::endpoint(path), ec);
      if (!ec) {
        *err = "control socket " + path + ": another lvsd is serving it";
        impl_->tcp_acceptor.close(ec);
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
      impl_->tcp_acceptor.close(ec);
      return false;
    }
    impl_->path = path;
  }
  impl_->handler = std::move(handler);
  if (impl_->acceptor.is_open()) impl_->accept(impl_->acceptor, false);
  if (impl_->tcp_acceptor.is_open()) impl_->accept(impl_->tcp_acceptor, true);
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return true;
}

void ApiServer::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->io.stop();
  impl_->thread.join();
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  impl_->tcp_acceptor.close(ec);
  if (!impl_->path.empty()) ::unlink(impl_->path.c_str());
}

std::string default_api_socket() {
  const char* env = std::getenv("LVSD_SOCKET");
  return env != nullptr && *env != '\0' ? env : "/run/lvsd.sock";
}

}  // namespace lvs::daemon
