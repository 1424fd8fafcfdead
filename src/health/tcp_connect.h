// The connect step of the TCP-based probes (TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK), and the
// deadline conventions those probes share.
//
// A deadline is a steady_timer the probe arms for the attempt; when it fires, the probe closes the
// attempt's socket so the pending operation ends with an error. The operation's handler then asks
// deadline_passed() to tell "ran out of time" from a real error and reports timeout_detail().
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ctl/config.h"
#include "net/addr.h"

namespace lvs::health {

boost::asio::ip::address to_asio_address(const net::IpAddr& addr);

// True once `deadline`'s expiry has passed.
bool deadline_passed(const boost::asio::steady_timer& deadline);

// "timeout after 3000 ms connecting": `phase` says what the attempt was doing.
std::string timeout_detail(uint64_t budget_ms, std::string_view phase);

// What an error code means, for a detail ("Connection refused").
std::string error_text(const boost::system::error_code& ec);

// Called with "" once connected, else with the failure detail: "connect: Connection refused",
// "bindto 198.18.0.9:0: Cannot assign requested address", "timeout after 30 ms connecting".
using ConnectDone = std::function<void(std::string error)>;

// Opens `socket` (closed) for conf.connect_ip's family, applies apply_socket_options() between open
// and connect (keepalived's tcp_bind_connect: options, bind, then a non-blocking connect), and
// connects to conf.connect_ip:conf.connect_port. `deadline` is the attempt's timer, already armed
// by the caller for conf.connect_timeout_ms (the number in the timeout text), whose expiry handler
// closes `socket`. `done` runs on the loop thread, never inside this call. `socket` and `deadline`
// must outlive the operation: `done` should hold whatever owns them.
void async_tcp_connect(boost::asio::ip::tcp::socket& socket,
                       const boost::asio::steady_timer& deadline, const ctl::CheckerConf& conf,
                       ConnectDone done);

}  // namespace lvs::health
