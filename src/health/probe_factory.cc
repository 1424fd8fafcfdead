#include "health/probe.h"

namespace lvs::health {

std::unique_ptr<Probe> make_probe(boost::asio::io_context& io, const ctl::CheckerConf& conf,
                                  const ProbeEnv& env) {
  using ctl::CheckKind;
  switch (conf.kind) {
    case CheckKind::kTcp:
      return make_tcp_probe(io, conf);
    case CheckKind::kHttp:
    case CheckKind::kSsl:
      return make_http_probe(io, conf, env);
    case CheckKind::kSmtp:
      return make_smtp_probe(io, conf, env);
    case CheckKind::kDns:
      return make_dns_probe(io, conf);
    case CheckKind::kUdp:
      return make_udp_probe(io, conf);
    case CheckKind::kPing:
      return make_ping_probe(io, conf);
    case CheckKind::kMisc:
      return make_misc_probe(io, conf);
    case CheckKind::kFile:
      return make_file_probe(io, conf);
  }
  return nullptr;
}

}  // namespace lvs::health
