#include "core/proto_states.h"

namespace lvs::core {

std::string_view tcp_state_name(uint8_t state) {
  static constexpr std::array<std::string_view, kTcpStateCount> kNames = {
      "NONE",  "ESTABLISHED", "SYN_SENT",   "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
      "CLOSE", "CLOSE_WAIT",  "LAST_ACK",   "LISTEN",   "SYNACK"};
  return state < kTcpStateCount ? kNames[state] : "ERR!";
}

}  // namespace lvs::core
