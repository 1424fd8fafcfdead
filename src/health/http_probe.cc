// HTTP_GET and SSL_GET (keepalived's check_http.c and check_ssl.c). Every url is fetched in turn,
// one connection each, and all must pass: connect, TLS handshake for SSL_GET, one GET request,
// the reply's status in the url's ranges and, when the url has a digest, the MD5 of the body.
//
// Time: keepalived gives connect_timeout to every operation (connect, each read), so one url can
// take far longer than connect_timeout. Here each url's fetch gets connect_timeout as its whole
// budget (connect, TLS, request, reply), so an attempt ends at the latest after urls.size() x
// connect_timeout; with one url (the usual case) that is probe.h's "one attempt's budget".
//
// The reply: Boost.Beast parses the status line and headers (at most kHeaderLimit bytes); the body
// is then read raw, as keepalived does (http_process_response): up to Content-Length, else to EOF,
// fed to MD5 as it arrives and never kept. Raw means a chunked body is digested with its chunk
// framing, which is what keepalived and genhash compute, so digests from genhash keep working.
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <type_traits>

#include "health/http_request.h"
#include "health/probe.h"
#include "health/tcp_connect.h"

namespace lvs::health {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr uint32_t kHeaderLimit = 8 * 1024;
constexpr size_t kReadBufferLimit = 16 * 1024;

// One url's fetch ends with ok and a detail: why it failed, or on success "" or a note
// ("body 5 of 10 bytes (Content-Length)").
using FetchDone = std::function<void(bool ok, std::string detail)>;

class FetchBase {
 public:
  virtual ~FetchBase() = default;
  virtual void cancel() = 0;
};

template <class Stream>
class HttpFetch final : public FetchBase, public std::enable_shared_from_this<HttpFetch<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

 public:
  template <class... StreamArgs>
  HttpFetch(std::shared_ptr<const ctl::CheckerConf> conf, size_t url_index, FetchDone done,
            asio::io_context& io, StreamArgs&&... stream_args)
      : stream_(std::forward<StreamArgs>(stream_args)...),
        deadline_(io),
        conf_(std::move(conf)),
        url_(conf_->urls[url_index]),
        done_(std::move(done)) {}

  ~HttpFetch() override {
    if (md_) EVP_MD_CTX_free(md_);
  }

  void start() {
    auto self = this->shared_from_this();
    deadline_.expires_after(std::chrono::milliseconds(conf_->connect_timeout_ms));
    deadline_.async_wait([self](const error_code& ec) {
      if (ec) return;
      error_code ignored;
      self->socket().close(ignored);  // the pending operation reports the timeout
    });
    async_tcp_connect(socket(), deadline_, *conf_, [self](std::string error) {
      if (!error.empty()) return self->finish(false, std::move(error));
      self->on_connected();
    });
  }

  void cancel() override {
    done_ = nullptr;
    stop();
  }

 private:
  tcp::socket& socket() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  void stop() {
    error_code ignored;
    deadline_.cancel();
    socket().close(ignored);
  }

  void finish(bool ok, std::string detail) {
    if (!done_) return;
    FetchDone d = std::move(done_);
    done_ = nullptr;
    stop();
    d(ok, std::move(detail));
  }

  // An operation failed: the deadline closed the socket, or `what` went wrong.
  void fail_io(const error_code& ec, std::string_view what) {
    if (deadline_passed(deadline_)) {
      return finish(false, timeout_detail(conf_->connect_timeout_ms, phase_));
    }
    finish(false, fmt::format("{}: {}", what, error_text(ec)));
  }

  void on_connected() {
    if constexpr (kTls) {
      SSL* ssl = stream_.native_handle();
      // check_ssl.c ssl_connect(): without tls_compliant the shutdown is quiet (no close_notify).
      if (!conf_->tls_compliant) SSL_set_quiet_shutdown(ssl, 1);
      // SNI: sni_name, else the url's virtualhost, else the checker's (ssl_connect()).
      if (conf_->enable_sni) {
        const std::string& name = !conf_->sni_name.empty()    ? conf_->sni_name
                                  : !url_.virtualhost.empty() ? url_.virtualhost
                                                              : conf_->virtualhost;
        if (!name.empty()) SSL_set_tlsext_host_name(ssl, name.c_str());
      }
      phase_ = "in TLS handshake";
      stream_.async_handshake(asio::ssl::stream_base::client,
                              [self = this->shared_from_this()](const error_code& ec) {
                                if (ec) return self->fail_io(ec, "TLS handshake");
                                self->send_request();
                              });
    } else {
      send_request();
    }
  }

  void send_request() {
    request_ = build_http_request(*conf_, url_);
    phase_ = "sending the request";
    asio::async_write(stream_, asio::buffer(request_),
                      [self = this->shared_from_this()](const error_code& ec, size_t) {
                        if (ec) return self->fail_io(ec, "send");
                        self->read_header();
                      });
  }

  void read_header() {
    phase_ = "reading the reply header";
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](const error_code& ec, size_t) { self->on_header(ec); });
  }

  static bool is_eof(const error_code& ec) {
    // A TLS peer that closes without close_notify gives stream_truncated: keepalived's
    // ssl_read_thread() takes that as the end of the reply too.
    return ec == asio::error::eof || ec == http::error::end_of_stream ||
           ec == asio::ssl::error::stream_truncated;
  }

  void on_header(const error_code& ec) {
    if (ec) {
      if (deadline_passed(deadline_)) return fail_io(ec, "");
      // http_handle_response(): "Read, no data received" when nothing came back.
      if (is_eof(ec) && !parser_->got_some()) return finish(false, "no data received");
      if (is_eof(ec)) return finish(false, "bad reply: partial message");
      // Beast's verdicts on the bytes: bad status line, header_limit, buffer_overflow, ...
      if (ec.category() == http::make_error_code(http::error::end_of_stream).category()) {
        return finish(false, "bad reply: " + ec.message());
      }
      return fail_io(ec, "read");
    }
    const unsigned status = parser_->get().result_int();
    if (!status_accepted(status)) {
      return finish(false, fmt::format("status {} not in {}", status, status_ranges_text()));
    }
    if (url_.digest) {
      md_ = EVP_MD_CTX_new();
      if (!md_ || EVP_DigestInit_ex(md_, EVP_md5(), nullptr) != 1) {
        return finish(false, "MD5 unavailable");
      }
    }
    if (parser_->is_done()) return body_done();  // 204, 304: no body
    if (!parser_->chunked() && parser_->content_length()) {
      content_length_ = *parser_->content_length();
    }
    phase_ = "reading the body";
    // Bytes that came with the header.
    const auto leftover = buffer_.data();
    if (leftover.size() > 0) {
      const bool finished = take_body(static_cast<const char*>(leftover.data()), leftover.size());
      buffer_.consume(leftover.size());
      if (finished) return body_done();
    }
    read_body();
  }

  // Feeds `n` body bytes to the digest (only up to Content-Length, as http_process_response());
  // true when Content-Length bytes have come.
  bool take_body(const char* p, size_t n) {
    size_t use = n;
    if (content_length_) use = size_t(std::min<uint64_t>(n, *content_length_ - body_rx_));
    if (md_ && use > 0) EVP_DigestUpdate(md_, p, use);
    body_rx_ += use;
    return content_length_ && body_rx_ >= *content_length_;
  }

  void read_body() {
    if (content_length_ && body_rx_ >= *content_length_) return body_done();
    stream_.async_read_some(asio::buffer(body_buf_),
                            [self = this->shared_from_this()](const error_code& ec, size_t n) {
                              if (ec) {
                                if (!deadline_passed(self->deadline_) && is_eof(ec)) {
                                  return self->body_done();
                                }
                                return self->fail_io(ec, "read");
                              }
                              if (self->take_body(self->body_buf_.data(), n)) {
                                return self->body_done();
                              }
                              self->read_body();
                            });
  }

  void body_done() {
    std::string note;
    if (content_length_ && body_rx_ < *content_length_) {
      // keepalived logs this mismatch and still judges the reply.
      note = fmt::format("body {} of {} bytes (Content-Length)", body_rx_, *content_length_);
    }
    if (url_.digest) {
      std::array<uint8_t, 16> got{};
      unsigned len = 0;
      EVP_DigestFinal_ex(md_, got.data(), &len);
      if (got != *url_.digest) {
        return finish(
            false, fmt::format("MD5 digest {} not the expected {}", hex(got), hex(*url_.digest)));
      }
    }
    if constexpr (kTls) {
      if (conf_->tls_compliant) {
        // Send close_notify (keepalived: SSL_shutdown without quiet shutdown); the result is
        // already known, the shutdown's own outcome does not change it.
        phase_ = "in TLS shutdown";
        stream_.async_shutdown([self = this->shared_from_this(), note](const error_code&) {
          self->finish(true, note);
        });
        return;
      }
    }
    finish(true, std::move(note));
  }

  bool status_accepted(unsigned status) const {
    if (url_.status_codes.empty()) return status >= 200 && status <= 299;
    for (const auto& [lo, hi] : url_.status_codes) {
      if (status >= lo && status <= hi) return true;
    }
    return false;
  }

  std::string status_ranges_text() const {
    if (url_.status_codes.empty()) return "200-299";
    std::string s;
    for (const auto& [lo, hi] : url_.status_codes) {
      if (!s.empty()) s += ',';
      s += lo == hi ? fmt::format("{}", lo) : fmt::format("{}-{}", lo, hi);
    }
    return s;
  }

  static std::string hex(const std::array<uint8_t, 16>& d) {
    std::string s;
    for (uint8_t b : d) s += fmt::format("{:02x}", b);
    return s;
  }

  Stream stream_;
  asio::steady_timer deadline_;
  std::shared_ptr<const ctl::CheckerConf> conf_;
  const ctl::HttpUrlConf& url_;
  FetchDone done_;
  std::string phase_ = "connecting";
  std::string request_;
  boost::beast::flat_buffer buffer_{kReadBufferLimit};
  std::optional<http::response_parser<http::empty_body>> parser_;
  std::optional<uint64_t> content_length_;
  uint64_t body_rx_ = 0;
  EVP_MD_CTX* md_ = nullptr;
  std::array<char, 8192> body_buf_{};
};

// One attempt: the urls in order, the next only after the previous passed (keepalived's
// http_check_thread moves to the next url on success and ends the check on the first failure).
class HttpRun : public std::enable_shared_from_this<HttpRun> {
 public:
  HttpRun(asio::io_context& io, std::shared_ptr<const ctl::CheckerConf> conf,
          asio::ssl::context* tls, ProbeDone done)
      : io_(io),
        conf_(std::move(conf)),
        tls_(tls),
        done_(std::move(done)),
        started_(Clock::now()) {}

  void next() {
    if (index_ == conf_->urls.size()) return finish(true, std::move(notes_));
    auto self = shared_from_this();
    FetchDone on_done = [self](bool ok, std::string detail) {
      self->fetch_.reset();
      const bool many = self->conf_->urls.size() > 1;
      const std::string& path = self->conf_->urls[self->index_].path;
      if (!ok) return self->finish(false, many ? path + ": " + detail : detail);
      if (!detail.empty()) {
        if (!self->notes_.empty()) self->notes_ += "; ";
        self->notes_ += many ? path + ": " + detail : detail;
      }
      ++self->index_;
      self->next();
    };
    if (conf_->kind == ctl::CheckKind::kSsl) {
      using Tls = asio::ssl::stream<tcp::socket>;
      auto f = std::make_shared<HttpFetch<Tls>>(conf_, index_, std::move(on_done), io_, io_, *tls_);
      fetch_ = f;
      f->start();
    } else {
      auto f =
          std::make_shared<HttpFetch<tcp::socket>>(conf_, index_, std::move(on_done), io_, io_);
      fetch_ = f;
      f->start();
    }
  }

  void fail_soon(std::string detail) {
    asio::post(io_, [self = shared_from_this(), detail = std::move(detail)] {
      self->finish(false, detail);
    });
  }

  void cancel() {
    done_ = nullptr;
    if (fetch_) fetch_->cancel();
    fetch_.reset();
  }

 private:
  void finish(bool ok, std::string detail) {
    if (!done_) return;
    ProbeDone d = std::move(done_);
    done_ = nullptr;
    ProbeResult r;
    r.ok = ok;
    r.detail = std::move(detail);
    r.latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_);
    d(std::move(r));
  }

  asio::io_context& io_;
  std::shared_ptr<const ctl::CheckerConf> conf_;
  asio::ssl::context* tls_;
  ProbeDone done_;
  Clock::time_point started_;
  size_t index_ = 0;
  std::string notes_;
  std::shared_ptr<FetchBase> fetch_;
};

class HttpProbe final : public Probe {
 public:
  HttpProbe(asio::io_context& io, const ctl::CheckerConf& conf, const ProbeEnv& env)
      : io_(io), conf_(std::make_shared<ctl::CheckerConf>(conf)), tls_(env.tls) {}
  ~HttpProbe() override { cancel(); }

  void start(ProbeDone done) override {
    cancel();
    run_ = std::make_shared<HttpRun>(io_, conf_, tls_, std::move(done));
    // keepalived refuses a checker without urls at load time; a probe that has none fails.
    if (conf_->urls.empty()) return run_->fail_soon("no url to check");
    if (conf_->kind == ctl::CheckKind::kSsl && !tls_) return run_->fail_soon("no TLS context");
    run_->next();
  }

  void cancel() override {
    if (run_) run_->cancel();
    run_.reset();
  }

 private:
  asio::io_context& io_;
  std::shared_ptr<const ctl::CheckerConf> conf_;
  asio::ssl::context* tls_;
  std::shared_ptr<HttpRun> run_;
};

}  // namespace

std::unique_ptr<Probe> make_http_probe(asio::io_context& io, const ctl::CheckerConf& conf,
                                       const ProbeEnv& env) {
  return std::make_unique<HttpProbe>(io, conf, env);
}

}  // namespace lvs::health
