// POST /v1/ops: one ipvsadm-style change as JSON, applied to a copy of the running
// configuration (the director then validates and applies the copy whole, or nothing).
//
//   {"cmd": "add-service" | "edit-service" | "delete-service" | "add-server" | "edit-server" |
//            "delete-server" | "flush" | "set-timeout" | "zero",
//    "service": {"proto": 6, "addr": "198.18.2.100", "port": 80, "fwmark": 0, "af": 4,
//                "scheduler": "rr", "sched_flags": 0, "timeout": 0, "prefix": 32, "ops": false},
//    "server": {"addr": "198.18.1.11", "port": 80, "fwd": "Masq" | "Route" | "Tunnel" |
//               "FullNat", "weight": 1, "u_threshold": 0, "l_threshold": 0,
//               "tun_type": "ipip", "tun_port": 0, "tun_flags": 0},
//    "timeouts": {"tcp": 900, "tcp_fin": 120, "udp": 300}}   (0: unchanged, as ipvsadm --set)
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ctl/config.h"

namespace lvs::ctl {

// Why a change was refused; lvsadm turns each into ipvsadm's message for the command.
enum class OpError {
  kNone = 0,
  kBadRequest,   // not a change lvsd understands (malformed JSON, unknown cmd, bad field)
  kExists,       // the service / real server is there already
  kNoService,    // no such service
  kNoServer,     // no such real server
  kNoScheduler,  // unknown scheduler
  kInvalid,      // the engine refuses it (detail says why)
};
std::string_view op_error_name(OpError e);  // "bad-request", "exists", ...

struct OpResult {
  OpError error = OpError::kNone;
  std::string detail;
  bool zero = false;  // "zero": counters, not configuration (the caller zeroes the engines)
  bool zero_all = true;
  core::ServiceKey zero_key;
  bool ok() const { return error == OpError::kNone; }
};

// Applies `req` to `cfg`; a refused request leaves `cfg` as it was.
OpResult apply_op(const nlohmann::json& req, Config& cfg);

}  // namespace lvs::ctl
