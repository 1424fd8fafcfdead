// lvsd's control API transport: HTTP/1.1 on a Unix stream socket (Boost.Beast), one thread, one
// request per connection. What a request means is the handler's business (the Director's).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace lvs::daemon {

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // "/v1/state?x=y"
  std::string body;
};

struct ApiResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class ApiServer {
 public:
  using Handler = std::function<ApiResponse(const ApiRequest&)>;

  ApiServer();
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds `path` (a stale socket file left by a dead lvsd is replaced; a live one is refused),
  // mode 0600, and, when `tcp` is set (ADDR:PORT, [V6]:PORT), a TCP listener that serves GET
  // only: reading state and metrics from the network, changes only through the socket file,
  // whose permissions are the authentication. Either may be empty. Serves `handler` on a
  // thread. False with `err` when it cannot, and nothing is left bound.
  bool start(const std::string& path, const std::string& tcp, Handler handler, std::string* err);
  // Stops serving and removes the socket file.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The socket lvsd serves and lvsadm talks to: $LVSD_SOCKET, else /run/lvsd.sock.
std::string default_api_socket();

}  // namespace lvs::daemon
