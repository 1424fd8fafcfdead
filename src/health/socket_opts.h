// The socket settings every checker shares (keepalived's check_api.c conn_opts: bindto,
// bind_port, bind_if, fwmark), applied to a probe's socket before it connects or sends.
#pragma once

#include <string>

#include "ctl/config.h"

namespace lvs::health {

// Applies conf's bind_if (SO_BINDTODEVICE), fwmark (SO_MARK) and bindto/bind_port (bind) to an
// open socket `fd` of conf.connect_ip's family. Returns "" or what failed ("bindto 198.18.0.9:0:
// Cannot assign requested address").
std::string apply_socket_options(int fd, const ctl::CheckerConf& conf);

}  // namespace lvs::health
