// `ipvsadm -S`: print_service_entry with FMT_RULE, i.e. the table as ipvsadm-restore commands.
// Like ipvsadm 1.31 it writes no -x/-y (thresholds) and names hosts and ports unless -n.
#include <string>

#include "adm/list.h"

namespace lvs::adm {
namespace {

using detail::appendf;

// ipvsadm's option_from_protocol.
const char* service_option(uint8_t proto) {
  switch (proto) {
    case kProtoTcp:
      return "-t";
    case kProtoUdp:
      return "-u";
    case kProtoSctp:
      return "--sctp-service";
    default:
      return "--xxx-service";
  }
}

// ipvsadm's fwd_switch. FULLNAT has no ipvsadm switch; lvsadm writes the long option
// `--fullnat` (DPVS's ipvsadm spells it the same), which lvsadm's parser must accept.
const char* fwd_switch(FwdMethod f) {
  switch (f) {
    case FwdMethod::kMasq:
      return "-m";
    case FwdMethod::kTunnel:
      return "-i";
    case FwdMethod::kLocal:
    case FwdMethod::kRoute:
      return "-g";
    case FwdMethod::kFullNat:
      return "--fullnat";
  }
  return "";
}

// ipvsadm's tun_flags_opts[].
const char* csum_option(TunCsum c) {
  switch (c) {
    case TunCsum::kNoCsum:
      return "--tun-nocsum";
    case TunCsum::kCsum:
      return "--tun-csum";
    case TunCsum::kRemCsum:
      return "--tun-remcsum";
  }
  return "";
}

// print_tunnel_rule, and the plain -a line for the other methods.
void server_rule(std::string& out, const std::string& svc, const std::string& dname,
                 const RealServer& d) {
  const char* sw = fwd_switch(d.fwd);
  if (d.fwd != FwdMethod::kTunnel) {
    appendf(out, "-a %s -r %s %s -w %d\n", svc.c_str(), dname.c_str(), sw, d.weight);
    return;
  }
  switch (d.tun_type) {
    case TunType::kGre:
      appendf(out, "-a %s -r %s %s -w %d --tun-type gre %s\n", svc.c_str(), dname.c_str(), sw,
              d.weight, csum_option(d.tun_csum));
      break;
    case TunType::kGue:
      appendf(out, "-a %s -r %s %s -w %d --tun-type gue --tun-port %d %s\n", svc.c_str(),
              dname.c_str(), sw, d.weight, int(d.tun_port), csum_option(d.tun_csum));
      break;
    case TunType::kIpip:
      appendf(out, "-a %s -r %s %s -w %d --tun-type ipip\n", svc.c_str(), dname.c_str(), sw,
              d.weight);
      break;
  }
}

}  // namespace

std::string save(const ListModel& model, bool numeric, const ReverseResolver* resolver) {
  std::string out;
  // -S always sorts: --nosort is not allowed with it.
  for (const Service* sp : detail::sorted_services(model, false)) {
    const Service& s = *sp;
    const net::Family af = s.family();
    std::string svc;
    if (s.fwmark != 0) {
      appendf(svc, af == net::Family::kV6 ? "-f %u -6" : "-f %u", s.fwmark);
    } else {
      appendf(svc, "%s %s", service_option(s.protocol),
              detail::addrport(s.addr, s.port, s.protocol, numeric, resolver).c_str());
    }

    appendf(out, "-A %s -s %s", svc.c_str(), s.scheduler.c_str());
    if (s.persistent) {
      appendf(out, " -p %u", s.persistence_timeout);
      if (af == net::Family::kV4 && s.netmask_v4 != 0xffffffff) {
        const uint32_t m = s.netmask_v4;
        appendf(out, " -M %u.%u.%u.%u", m >> 24, (m >> 16) & 0xff, (m >> 8) & 0xff, m & 0xff);
      }
      if (af == net::Family::kV6 && s.prefix_v6 != 128) appendf(out, " -M %i", int(s.prefix_v6));
    }
    // Unlike the listing, --pe is written even without persistence.
    if (!s.pe_name.empty()) appendf(out, " --pe %s", s.pe_name.c_str());
    if (s.one_packet) out += " -o";
    if (s.sched_flags & kSvcSchedFlagsMask) appendf(out, " -b %s", detail::sched_flags(s).c_str());
    out += '\n';

    for (const RealServer* d : detail::sorted_servers(s, false)) {
      server_rule(out, svc, detail::addrport(d->addr, d->port, s.protocol, numeric, resolver), *d);
    }
  }
  return out;
}

}  // namespace lvs::adm
