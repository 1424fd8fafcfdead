// ipvsadm 1.31's -L output. Each function names the ipvsadm (or libipvs, or kernel) routine whose
// output it reproduces; the formats are printf's, so padding counts bytes exactly as ipvsadm's.
#include "adm/list.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace lvs::adm {

std::optional<std::string> ReverseResolver::host(const net::IpAddr&) const { return std::nullopt; }
std::optional<std::string> ReverseResolver::service(uint16_t, uint8_t) const {
  return std::nullopt;
}

namespace detail {

void appendf(std::string& out, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  const int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  if (n > 0) {
    const size_t old = out.size();
    out.resize(old + size_t(n) + 1);
    std::vsnprintf(out.data() + old, size_t(n) + 1, fmt, ap2);
    out.resize(old + size_t(n));
  }
  va_end(ap2);
}

std::string largenum(uint64_t n, bool exact) {
  std::string s;
  if (exact) {
    // Right-aligned in 9 columns, or one more than its digits when longer.
    const int len = std::snprintf(nullptr, 0, "%llu", (unsigned long long)n);
    appendf(s, "%*llu", len <= 8 ? 9 : len + 1, (unsigned long long)n);
    return s;
  }
  if (n < 100000000ULL) {
    appendf(s, "%9llu", (unsigned long long)n);
  } else if (n < 1000000000ULL) {
    appendf(s, "%8lluK", (unsigned long long)(n / 1000));
  } else if (n < 100000000000ULL) {
    appendf(s, "%8lluM", (unsigned long long)(n / 1000000));
  } else if (n < 100000000000000ULL) {
    appendf(s, "%8lluG", (unsigned long long)(n / 1000000000ULL));
  } else {
    appendf(s, "%8lluT", (unsigned long long)(n / 1000000000000ULL));
  }
  return s;
}

std::string addrport(const net::IpAddr& addr, uint16_t port, uint8_t proto, bool numeric,
                     const ReverseResolver* resolver) {
  std::string host;
  std::string serv;
  if (!numeric && resolver != nullptr) {
    // addr_to_anyname / port_to_anyname: a name when the lookup succeeds. Only TCP, UDP and
    // SCTP ports are looked up.
    if (auto h = resolver->host(addr)) host = *h;
    if (proto == kProtoTcp || proto == kProtoUdp || proto == kProtoSctp) {
      if (auto p = resolver->service(port, proto)) serv = *p;
    }
  }
  if (host.empty()) host = addr.to_string();
  if (serv.empty()) serv = std::to_string(port);
  // Brackets for anything but AF_INET, as ipvsadm's `af == AF_INET ? "" : "["`.
  const bool v4 = addr.is_v4();
  std::string s;
  s.reserve(host.size() + serv.size() + 3);
  if (!v4) s += '[';
  s += host;
  if (!v4) s += ']';
  s += ':';
  s += serv;
  if (s.size() > 59) s.resize(59);  // snprintf into its malloc(60)
  return s;
}

std::string sched_flags(const Service& s) {
  std::string f;
  auto add = [&f](const char* name) {
    if (!f.empty()) f += ',';
    f += name;
  };
  if (s.scheduler == "sh") {
    if (s.sched_flags & kSvcFlagSched1) add("sh-fallback");
    if (s.sched_flags & kSvcFlagSched2) add("sh-port");
  } else if (s.scheduler == "mh") {
    if (s.sched_flags & kSvcFlagSched1) add("mh-fallback");
    if (s.sched_flags & kSvcFlagSched2) add("mh-port");
  } else {
    if (s.sched_flags & kSvcFlagSched1) add("flag-1");
    if (s.sched_flags & kSvcFlagSched2) add("flag-2");
    if (s.sched_flags & kSvcFlagSched3) add("flag-3");
  }
  return f;
}

namespace {

// AF_UNSPEC, AF_INET, AF_INET6: libipvs compares the numbers.
int af_number(net::Family f) {
  switch (f) {
    case net::Family::kV4:
      return 2;
    case net::Family::kV6:
      return 10;
    case net::Family::kNone:
      break;
  }
  return 0;
}

uint32_t word(const net::IpAddr& a, int i) {
  const uint8_t* p = a.data() + 4 * i;
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

// libipvs subtracts unsigned values into an int, so far-apart addresses or marks wrap and
// compare "backwards"; kept, since it decides ipvsadm's order.
int wrap_diff(uint32_t a, uint32_t b) { return int(int32_t(a - b)); }

int cmp_addr(const net::IpAddr& a, const net::IpAddr& b, bool v6) {
  int r = 0;
  if (v6) {
    for (int i = 0; r == 0 && i < 4; ++i) r = wrap_diff(word(a, i), word(b, i));
  } else {
    r = wrap_diff(word(a, 0), word(b, 0));
  }
  return r;
}

// ipvs_cmp_services.
int cmp_services(const Service* s1, const Service* s2) {
  int r = wrap_diff(s1->fwmark, s2->fwmark);
  if (r != 0) return r;
  r = af_number(s1->family()) - af_number(s2->family());
  if (r != 0) return r;
  r = int(s1->protocol) - int(s2->protocol);
  if (r != 0) return r;
  r = cmp_addr(s1->addr, s2->addr, s1->family() == net::Family::kV6);
  if (r != 0) return r;
  return int(s1->port) - int(s2->port);
}

// ipvs_cmp_dests: the first server's family decides how many words are compared.
int cmp_dests(const RealServer* d1, const RealServer* d2) {
  const int r = cmp_addr(d1->addr, d2->addr, d1->addr.is_v6());
  if (r != 0) return r;
  return int(d1->port) - int(d2->port);
}

// glibc's qsort is a top-down merge sort (msort_with_tmp) taking the left element on ties;
// the same algorithm gives the same order even where libipvs's comparison is not transitive.
template <typename T, typename Cmp>
void msort(T* b, size_t n, T* tmp, Cmp cmp) {
  if (n <= 1) return;
  size_t n1 = n / 2;
  size_t n2 = n - n1;
  T* b1 = b;
  T* b2 = b + n1;
  msort(b1, n1, tmp, cmp);
  msort(b2, n2, tmp, cmp);
  T* t = tmp;
  while (n1 > 0 && n2 > 0) {
    if (cmp(*b1, *b2) <= 0) {
      *t++ = *b1++;
      --n1;
    } else {
      *t++ = *b2++;
      --n2;
    }
  }
  while (n1 > 0) {
    *t++ = *b1++;
    --n1;
  }
  for (size_t i = 0; i < n - n2; ++i) b[i] = tmp[i];
}

template <typename T, typename Cmp>
void qsort_like(std::vector<T>& v, Cmp cmp) {
  std::vector<T> tmp(v.size());
  msort(v.data(), v.size(), tmp.data(), cmp);
}

}  // namespace

std::vector<const Service*> sorted_services(const ListModel& model, bool nosort) {
  std::vector<const Service*> v;
  v.reserve(model.services.size());
  for (const Service& s : model.services) v.push_back(&s);
  if (!nosort) qsort_like(v, cmp_services);
  return v;
}

std::vector<const RealServer*> sorted_servers(const Service& s, bool nosort) {
  std::vector<const RealServer*> v;
  v.reserve(s.servers.size());
  for (const RealServer& d : s.servers) v.push_back(&d);
  if (!nosort) qsort_like(v, cmp_dests);
  return v;
}

}  // namespace detail

namespace {

using detail::addrport;
using detail::appendf;
using detail::largenum;

// ipvsadm's protocol_name.
const char* protocol_name(uint8_t proto) {
  switch (proto) {
    case kProtoTcp:
      return "TCP";
    case kProtoUdp:
      return "UDP";
    case kProtoSctp:
      return "SCTP";
    default:
      return "?";
  }
}

// ipvsadm's fwd_name; FullNat is lvs's own.
const char* fwd_name(FwdMethod f) {
  switch (f) {
    case FwdMethod::kMasq:
      return "Masq";
    case FwdMethod::kLocal:
      return "Local";
    case FwdMethod::kTunnel:
      return "Tunnel";
    case FwdMethod::kRoute:
      return "Route";
    case FwdMethod::kFullNat:
      return "FullNat";
  }
  return "";
}

const char* tun_name(TunType t) {
  switch (t) {
    case TunType::kIpip:
      return "ipip";
    case TunType::kGue:
      return "gue";
    case TunType::kGre:
      return "gre";
  }
  return "";
}

// ipvsadm's tunflags[].
const char* tun_flag_short(TunCsum c) {
  switch (c) {
    case TunCsum::kNoCsum:
      return "-c";
    case TunCsum::kCsum:
      return "+c";
    case TunCsum::kRemCsum:
      return "r+c";
  }
  return "";
}

// ipvsadm's fwd_tun_info: "ipip", "gue:PORT:FLAGS", "gre:FLAGS"; "n/a" for other methods.
std::string tun_info(const RealServer& d) {
  if (d.fwd != FwdMethod::kTunnel) return "n/a";
  std::string s;
  switch (d.tun_type) {
    case TunType::kIpip:
      s = tun_name(d.tun_type);
      break;
    case TunType::kGue:
      appendf(s, "%s:%d:%s", tun_name(d.tun_type), int(d.tun_port), tun_flag_short(d.tun_csum));
      break;
    case TunType::kGre:
      appendf(s, "%s:%s", tun_name(d.tun_type), tun_flag_short(d.tun_csum));
      break;
  }
  if (s.size() > 15) s.resize(15);  // its 16-byte buffer
  return s;
}

// Dotted quad of a host-order mask (inet_ntoa).
std::string dotted(uint32_t m) {
  std::string s;
  appendf(s, "%u.%u.%u.%u", m >> 24, (m >> 16) & 0xff, (m >> 8) & 0xff, m & 0xff);
  return s;
}

// print_title.
void title(std::string& out, const ListOptions& o) {
  if (o.stats) {
    appendf(out, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port",
            "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes");
  } else if (o.rate) {
    appendf(out, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port",
            "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS");
  } else if (o.thresholds) {
    appendf(out, "%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn");
  } else if (o.persistent_conn) {
    appendf(out, "%-33s %-9s %-11s %-10s %-10s\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn");
  } else if (o.tun_info) {
    out +=
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n";
  } else {
    out +=
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
  }
}

void append_stats(std::string& out, const Stats& s, bool exact) {
  out += largenum(s.conns, exact);
  out += largenum(s.inpkts, exact);
  out += largenum(s.outpkts, exact);
  out += largenum(s.inbytes, exact);
  out += largenum(s.outbytes, exact);
}

// print_service_entry without FMT_RULE.
void service_entry(std::string& out, const Service& s, const ListOptions& o,
                   const ReverseResolver* r) {
  std::string svc_name;
  const net::Family af = s.family();
  if (s.fwmark != 0) {
    appendf(svc_name, af == net::Family::kV6 ? "FWM  %u IPv6" : "FWM  %u", s.fwmark);
  } else {
    appendf(svc_name, "%-4s %s", protocol_name(s.protocol),
            addrport(s.addr, s.port, s.protocol, o.numeric, r).c_str());
    if (af != net::Family::kV6 && svc_name.size() > 33) svc_name.resize(33);
  }

  if (o.stats) {
    appendf(out, "%-33s", svc_name.c_str());
    append_stats(out, s.stats, o.exact);
  } else if (o.rate) {
    appendf(out, "%-33s", svc_name.c_str());
    append_stats(out,
                 Stats{s.rates.cps, s.rates.inpps, s.rates.outpps, s.rates.inbps, s.rates.outbps},
                 o.exact);
  } else {
    appendf(out, "%s %s", svc_name.c_str(), s.scheduler.c_str());
    if (s.sched_flags & kSvcSchedFlagsMask) appendf(out, " (%s)", detail::sched_flags(s).c_str());
    if (s.persistent) {
      appendf(out, " persistent %u", s.persistence_timeout);
      if (af == net::Family::kV4 && s.netmask_v4 != 0xffffffff)
        appendf(out, " mask %s", dotted(s.netmask_v4).c_str());
      if (af == net::Family::kV6 && s.prefix_v6 != 128) appendf(out, " mask %i", int(s.prefix_v6));
      if (!s.pe_name.empty()) appendf(out, " pe %s", s.pe_name.c_str());
    }
    if (s.one_packet) out += " ops";
  }
  out += '\n';

  for (const RealServer* d : detail::sorted_servers(s, o.nosort)) {
    std::string dname = addrport(d->addr, d->port, s.protocol, o.numeric, r);
    if (!d->addr.is_v6() && dname.size() > 28) dname.resize(28);
    const char* dn = dname.c_str();
    if (o.stats) {
      appendf(out, "  -> %-28s", dn);
      append_stats(out, d->stats, o.exact);
      out += '\n';
    } else if (o.rate) {
      // Packet rates unscaled, byte rates through print_largenum, as ipvsadm.
      appendf(out, "  -> %-28s %8llu %8llu %8llu", dn, (unsigned long long)d->rates.cps,
              (unsigned long long)d->rates.inpps, (unsigned long long)d->rates.outpps);
      out += largenum(d->rates.inbps, o.exact);
      out += largenum(d->rates.outbps, o.exact);
      out += '\n';
    } else if (o.thresholds) {
      appendf(out, "  -> %-28s %-10u %-10u %-10u %-10u\n", dn, d->u_threshold, d->l_threshold,
              d->active_conns, d->inactive_conns);
    } else if (o.persistent_conn) {
      appendf(out, "  -> %-28s %-9u %-11u %-10u %-10u\n", dn, uint32_t(d->weight), d->persist_conns,
              d->active_conns, d->inactive_conns);
    } else if (o.tun_info) {
      appendf(out, "  -> %-28s %-7s %-13s %-6d %-10u %-10u\n", dn, fwd_name(d->fwd),
              tun_info(*d).c_str(), d->weight, d->active_conns, d->inactive_conns);
    } else {
      appendf(out, "  -> %-28s %-7s %-6d %-10u %-10u\n", dn, fwd_name(d->fwd), d->weight,
              d->active_conns, d->inactive_conns);
    }
  }
}

bool matches(const Service& s, const ServiceKey& k) {
  if (k.fwmark != 0) return s.fwmark == k.fwmark && s.family() == k.fwmark_af;
  return s.fwmark == 0 && s.protocol == k.protocol && s.addr == k.addr && s.port == k.port;
}

// The kernel's ip_vs_proto_name, which /proc/net/ip_vs_conn prints.
std::string kernel_proto_name(uint8_t p) {
  switch (p) {
    case kProtoIp:
      return "IP";
    case kProtoTcp:
      return "TCP";
    case kProtoUdp:
      return "UDP";
    case kProtoSctp:
      return "SCTP";
    case 1:
      return "ICMP";
    case 58:
      return "ICMPv6";
    default:
      return "IP_" + std::to_string(p);
  }
}

// ipvsadm reads each /proc field with sscanf's %s: the first word only.
std::string first_word(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  const size_t e = s.find_first_of(" \t\n", b);
  return s.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

// print_conn.
void conn_entry(std::string& out, const Connection& c, const ListOptions& o,
                const ReverseResolver* r) {
  uint8_t proto = c.protocol;
  Endpoint virt = c.virt;
  if (c.is_template && c.fwmark != 0) {
    // ip_vs_sched_persist keys fwmark templates by (IPPROTO_IP, mark as address, port 0).
    proto = kProtoIp;
    const uint8_t m[4] = {uint8_t(c.fwmark >> 24), uint8_t(c.fwmark >> 16), uint8_t(c.fwmark >> 8),
                          uint8_t(c.fwmark)};
    if (c.client.addr.is_v6()) {
      uint8_t b[16] = {m[0], m[1], m[2], m[3]};
      virt.addr = net::IpAddr::v6(b);
    } else {
      virt.addr = net::IpAddr::v4(m);
    }
    virt.port = 0;
  }
  const std::string pname = kernel_proto_name(proto);
  // Only these names map back to a protocol whose port names ipvsadm looks up.
  const uint8_t lookup =
      (proto == kProtoTcp || proto == kProtoUdp || proto == kProtoSctp) ? proto : 0;
  const std::string cname = addrport(c.client.addr, c.client.port, lookup, o.numeric, r);
  const std::string vname = addrport(virt.addr, virt.port, lookup, o.numeric, r);
  const std::string dname = addrport(c.dest.addr, c.dest.port, lookup, o.numeric, r);
  std::string expire;
  appendf(expire, "%02d:%02d", int(c.expires / 60), int(c.expires % 60));
  const std::string state = first_word(c.state);
  const std::string pe_name = first_word(c.pe_name);
  const std::string pe_data = first_word(c.pe_data);
  if (o.persistent_conn && !pe_name.empty() && !pe_data.empty()) {
    appendf(out, "%-3s %-6s %-11s %-18s %-18s %-16s %-18s %s\n", pname.c_str(), expire.c_str(),
            state.c_str(), cname.c_str(), vname.c_str(), dname.c_str(), pe_name.c_str(),
            pe_data.c_str());
  } else {
    appendf(out, "%-3s %-6s %-11s %-18s %-18s %s\n", pname.c_str(), expire.c_str(), state.c_str(),
            cname.c_str(), vname.c_str(), dname.c_str());
  }
}

}  // namespace

std::string list_all(const ListModel& model, const ListOptions& opts,
                     const ReverseResolver* resolver) {
  std::string out;
  const uint32_t v = model.version_code;
  appendf(out, "IP Virtual Server version %u.%u.%u (size=%d)\n", (v >> 16) & 0xff, (v >> 8) & 0xff,
          v & 0xff, int(model.conn_tab_size));
  title(out, opts);
  for (const Service* s : detail::sorted_services(model, opts.nosort))
    service_entry(out, *s, opts, resolver);
  return out;
}

std::optional<std::string> list_service(const ListModel& model, const ServiceKey& key,
                                        const ListOptions& opts, const ReverseResolver* resolver) {
  for (const Service& s : model.services) {
    if (!matches(s, key)) continue;
    std::string out;
    title(out, opts);
    service_entry(out, s, opts, resolver);
    return out;
  }
  return std::nullopt;
}

std::string list_connections(const ListModel& model, const ListOptions& opts,
                             const ReverseResolver* resolver) {
  std::string out = "IPVS connection entries\n";
  if (opts.persistent_conn) {
    appendf(out, "pro expire %-11s %-18s %-18s %-18s %-16s %s\n", "state", "source", "virtual",
            "destination", "pe name", "pe_data");
  } else {
    appendf(out, "pro expire %-11s %-18s %-18s %s\n", "state", "source", "virtual", "destination");
  }
  for (const Connection& c : model.connections) conn_entry(out, c, opts, resolver);
  return out;
}

std::string list_timeout(const Timeouts& t) {
  std::string out;
  appendf(out, "Timeout (tcp tcpfin udp): %d %d %d\n", t.tcp, t.tcp_fin, t.udp);
  return out;
}

std::string list_daemon(const ListModel& model) {
  std::string out;
  for (const SyncDaemon& d : model.daemons) {
    const char* type = nullptr;
    if (d.role == SyncRole::kMaster) {
      type = "master";
    } else if (d.role == SyncRole::kBackup) {
      type = "backup";
    } else {
      continue;
    }
    appendf(out, "%s sync daemon (mcast=%s, syncid=%d", type, d.mcast_ifn.c_str(), int(d.syncid));
    if (d.sync_maxlen != 0) appendf(out, ", maxlen=%u", d.sync_maxlen);
    if (d.mcast_group.family != net::Family::kNone)
      appendf(out, ", group=%s", d.mcast_group.to_string().c_str());
    if (d.mcast_port != 0) appendf(out, ", port=%u", unsigned(d.mcast_port));
    if (d.mcast_ttl != 0) appendf(out, ", ttl=%u", unsigned(d.mcast_ttl));
    out += ")\n";
  }
  return out;
}

ListOutput list(const ListModel& model, const ListOptions& o, const ReverseResolver* resolver) {
  ListOutput res;
  // process_options' CMD_LIST check, before anything is printed.
  if (((o.connections || o.timeout || o.daemon) && (o.stats || o.rate || o.thresholds)) ||
      ((o.timeout || o.daemon) && o.persistent_conn)) {
    res.err = std::string(kListConflict) + "\n";
    res.status = 2;
    return res;
  }
  if (o.connections) {
    res.out = list_connections(model, o, resolver);
  } else if (o.service) {
    auto s = list_service(model, *o.service, o, resolver);
    if (!s) {
      res.err = std::string(kNoSuchService) + "\n";
      res.status = 1;
      return res;
    }
    res.out = std::move(*s);
  } else if (o.timeout) {
    res.out = list_timeout(model.timeouts);
  } else if (o.daemon) {
    res.out = list_daemon(model);
  } else {
    res.out = list_all(model, o, resolver);
  }
  return res;
}

}  // namespace lvs::adm
