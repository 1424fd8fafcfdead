// keepalived's virtual_server and real_server settings around health checking: quorum,
// hysteresis, the sorry server, inhibit_on_failure, the checkers' timing defaults, scripts
// (keepalived/check/check_parser.c; defaults and adjustments from check_data.c
// validate_check_config()).
#include <fmt/format.h>

#include <limits>

#include "ctl/parser_impl.h"

namespace lvs::ctl {

bool Parser::checker_timing(const Stmt& s, std::optional<uint32_t>& retry,
                            std::optional<uint64_t>& connect_timeout_ms,
                            std::optional<uint64_t>& delay_before_retry_ms,
                            std::optional<uint64_t>& warmup_ms) {
  const std::string_view w = s.word();
  if (w != "retry" && w != "connect_timeout" && w != "delay_before_retry" && w != "warmup") {
    return false;
  }
  if (!no_block(s) || !args_between(s, 1, 1, w == "retry" ? "a count" : "seconds")) return true;
  if (w == "retry") {
    if (const auto n = number(*s.args[0], "retry", 1, UINT32_MAX)) retry = uint32_t(*n);
    return true;
  }
  const auto ms = timer_ms(*s.args[0], w, w != "connect_timeout");
  if (!ms) return true;
  (w == "connect_timeout"      ? connect_timeout_ms
   : w == "delay_before_retry" ? delay_before_retry_ms
                               : warmup_ms) = *ms;
  return true;
}

bool Parser::vs_extra_stmt(VsDraft& vs, const Stmt& s) {
  const std::string_view w = s.word();
  VirtualServerConf& c = vs.conf;
  const auto one = [&](std::string_view need) {
    return no_block(s) && args_between(s, 1, 1, need);
  };
  if (w == "sorry_server") {
    sorry_server(vs, s);
  } else if (w == "sorry_server_lvs_method") {
    if (no_block(s)) {
      if (const auto m = forwarding(s)) vs.sorry_method = *m;
    }
  } else if (w == "sorry_server_inhibit") {
    if (no_block(s) && flag(s, false)) vs.sorry_inhibit_kw = s.kw;
  } else if (w == "quorum") {
    if (one("a weight")) {
      if (const auto n = number(*s.args[0], "quorum", 1, UINT32_MAX)) {
        c.quorum = uint32_t(*n);
        vs.quorum_tok = s.args[0];
      }
    }
  } else if (w == "hysteresis") {
    if (one("a weight")) {
      if (const auto n = number(*s.args[0], "hysteresis", 0, UINT32_MAX)) {
        c.hysteresis = uint32_t(*n);
        vs.hysteresis_tok = s.args[0];
      }
    }
  } else if (w == "quorum_up" || w == "quorum_down") {
    if (no_block(s)) script(s, w == "quorum_up" ? c.quorum_up : c.quorum_down);
  } else if (w == "alpha" || w == "omega" || w == "inhibit_on_failure" || w == "ha_suspend") {
    if (!no_block(s) || !flag(s, false)) return true;
    if (w == "alpha") c.alpha = true;
    if (w == "omega") c.omega = true;
    if (w == "inhibit_on_failure") c.inhibit_on_failure = true;
    if (w == "ha_suspend") {
      c.ha_suspend = true;
      vs.ha_suspend_kw = s.kw;
    }
  } else if (w == "hashed") {
    warn(s.kw->loc, "\"hashed\" is deprecated in keepalived and has no effect; ignored");
    if (s.open != nullptr) skip_block(*s.open);
  } else if (std::optional<uint64_t> connect;
             checker_timing(s, c.retry, connect, c.delay_before_retry_ms, c.warmup_ms)) {
    if (connect) c.connect_timeout_ms = *connect;
  } else if (w == "virtualhost" || w == "snmp_name") {
    if (one("a name")) (w == "virtualhost" ? c.virtualhost : c.snmp_name) = s.args[0]->text;
  } else {
    return false;
  }
  return true;
}

bool Parser::rs_extra_stmt(RsDraft& rs, const Stmt& s) {
  const std::string_view w = s.word();
  RealServerConf& c = rs.conf;
  const auto one = [&](std::string_view need) {
    return no_block(s) && args_between(s, 1, 1, need);
  };
  if (w == "notify_up" || w == "notify_down") {
    if (no_block(s)) script(s, w == "notify_up" ? c.notify_up : c.notify_down);
  } else if (w == "inhibit_on_failure" || w == "alpha") {
    // keepalived's rs_inhibit_handler() and rs_alpha_handler(): an optional on/off.
    if (!no_block(s)) return true;
    if (const auto b = flag(s, true)) (w == "alpha" ? rs.alpha : rs.inhibit) = *b;
  } else if (checker_timing(s, rs.retry, rs.connect_timeout_ms, rs.delay_before_retry_ms,
                            rs.warmup_ms)) {
    // read
  } else if (w == "delay_loop") {
    if (!one("seconds")) return true;
    const auto ms = timer_ms(*s.args[0], "delay_loop", false);
    // Whole seconds, as the service's delay_loop, rounded up.
    if (ms) {
      const uint64_t secs = (*ms + 999) / 1000;
      rs.delay_loop = uint32_t(std::min<uint64_t>(secs, std::numeric_limits<uint32_t>::max()));
    }
  } else if (w == "virtualhost" || w == "snmp_name") {
    if (one("a name")) (w == "virtualhost" ? rs.virtualhost : rs.snmp_name) = s.args[0]->text;
  } else {
    return false;
  }
  return true;
}

// sorry_server ADDRESS [PORT] (keepalived's ssvr_handler(), alloc_ssvr()).
void Parser::sorry_server(VsDraft& vs, const Stmt& s) {
  if (!no_block(s) || !args_between(s, 1, 2, "an address and optionally a port")) return;
  if (vs.sorry) {
    error(s.kw->loc,
          fmt::format("'sorry_server' is given twice (first at {})", where(vs.sorry->conf.loc)));
    return;
  }
  RsDraft rs;
  rs.role = "sorry_server";
  rs.conf.loc = s.kw->loc;
  rs.weight = 1;  // keepalived gives the sorry server weight 1; there is no keyword for it
  const auto addr = address(*s.args[0]);
  const auto p = port(s.args.size() > 1 ? s.args[1] : nullptr);
  if (!addr || !p) return;
  rs.conf.addr = *addr;
  rs.conf.port = *p;
  if (*p != 0) rs.port_tok = s.args[1];
  vs.sorry = std::move(rs);
}

// The sorry server as a real server of the service: its method (sorry_server_lvs_method, else
// the service's), port and family rules; then what needs it.
void Parser::finish_sorry(VsDraft& vs, net::Family family) {
  if (!vs.sorry) {
    // keepalived: "Ignoring sorry_server inhibit used before or without sorry_server".
    if (vs.sorry_inhibit_kw != nullptr) {
      error(vs.sorry_inhibit_kw->loc, "sorry_server_inhibit needs a sorry_server");
    }
    if (vs.sorry_method) {
      error(vs.sorry_method->kw->loc, "sorry_server_lvs_method needs a sorry_server");
    }
    return;
  }
  RsDraft rs = *vs.sorry;
  rs.method = vs.sorry_method;
  finish_rs(vs, rs, family);
  if (!rs.ok) return;
  if (rs.conf.fwd == core::Fwd::kFullNat && vs.laddr_name == nullptr) {
    error(rs.conf.loc, "a FULLNAT sorry_server needs laddr_group_name in its virtual_server");
    return;
  }
  rs.conf.weight = 1;
  rs.conf.inhibit_on_failure = vs.sorry_inhibit_kw != nullptr;
  vs.conf.sorry_server = std::move(rs.conf);
  vs.conf.sorry_server_inhibit = vs.sorry_inhibit_kw != nullptr;
}

// keepalived's validate_check_config(): quorum at most the real servers' total weight (else the
// service could never come up), hysteresis below quorum.
void Parser::quorum_checks(VsDraft& vs) {
  VirtualServerConf& c = vs.conf;
  uint64_t total = 0;
  for (const RealServerConf& rs : c.real_servers) total += uint64_t(rs.weight);
  if (c.quorum > total) {
    if (vs.quorum_tok != nullptr) {
      warn(vs.quorum_tok->loc,
           fmt::format("quorum {} is above the total weight of the real servers ({}); using {}, "
                       "as keepalived does",
                       c.quorum, total, total));
    }
    c.quorum = uint32_t(total);
  }
  if (c.quorum == 0) {
    c.hysteresis = 0;
  } else if (c.hysteresis >= c.quorum) {
    if (vs.hysteresis_tok != nullptr) {
      warn(vs.hysteresis_tok->loc,
           fmt::format("hysteresis {} is not below quorum {}; using {}, as keepalived does",
                       c.hysteresis, c.quorum, c.quorum - 1));
    }
    c.hysteresis = c.quorum - 1;
  }
  // keepalived: "cannot use ha_suspend with fwmarks - clearing ha_suspend".
  if (c.ha_suspend && c.key.fwmark != 0) {
    warn(vs.ha_suspend_kw->loc,
         "ha_suspend does not apply to fwmark services; ignored, as "
         "keepalived does");
    c.ha_suspend = false;
  }
}

}  // namespace lvs::ctl
