#include "health/tcp_connect.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <cstring>

#include "health/socket_opts.h"

namespace lvs::health {

namespace asio = boost::asio;
using asio::ip::tcp;

asio::ip::address to_asio_address(const net::IpAddr& addr) {
  if (addr.is_v6()) {
    asio::ip::address_v6::bytes_type b;
    std::memcpy(b.data(), addr.data(), 16);
    return asio::ip::address_v6(b);
  }
  asio::ip::address_v4::bytes_type b;
  std::memcpy(b.data(), addr.data(), 4);
  return asio::ip::address_v4(b);
}

bool deadline_passed(const asio::steady_timer& deadline) {
  return std::chrono::steady_clock::now() >= deadline.expiry();
}

std::string timeout_detail(uint64_t budget_ms, std::string_view phase) {
  return fmt::format("timeout after {} ms {}", budget_ms, phase);
}

std::string error_text(const boost::system::error_code& ec) { return ec.message(); }

void async_tcp_connect(tcp::socket& socket, const asio::steady_timer& deadline,
                       const ctl::CheckerConf& conf, ConnectDone done) {
  const tcp::endpoint ep(to_asio_address(conf.connect_ip), conf.connect_port);
  boost::system::error_code oc;
  socket.open(ep.protocol(), oc);
  std::string error;
  if (oc) {
    error = "socket: " + error_text(oc);
  } else {
    error = apply_socket_options(socket.native_handle(), conf);
  }
  if (!error.empty()) {
    // Reported from the loop, like every other outcome, so callers never re-enter themselves.
    asio::post(socket.get_executor(),
               [done = std::move(done), error = std::move(error)] { done(error); });
    return;
  }
  const uint64_t budget_ms = conf.connect_timeout_ms;
  socket.async_connect(
      ep, [&deadline, budget_ms, done = std::move(done)](const boost::system::error_code& ec) {
        if (!ec) return done("");
        // The deadline's handler closed the socket: that is a timeout, whatever error it caused.
        if (deadline_passed(deadline)) return done(timeout_detail(budget_ms, "connecting"));
        done("connect: " + error_text(ec));
      });
}

}  // namespace lvs::health
