#include "io/netlink.h"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace lvs::io {

namespace {

constexpr uint16_t kValidNud =
    NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;

struct DumpState {
  std::vector<Link>* links;
  std::vector<core::Route>* routes;
  std::vector<core::Neigh>* neighs;
  std::vector<uint16_t>* neigh_states;
};

net::IpAddr addr_from(int family, const void* p) {
  return family == AF_INET ? net::IpAddr::v4(static_cast<const uint8_t*>(p))
                           : net::IpAddr::v6(static_cast<const uint8_t*>(p));
}

int collect_attrs(const nlattr* attr, void* data) {
  auto** tb = static_cast<const nlattr**>(data);
  const int type = mnl_attr_get_type(attr);
  if (type <= 0 || type > 64) return MNL_CB_OK;  // every table we read has fewer attributes
  tb[type] = attr;
  return MNL_CB_OK;
}

void on_link(const nlmsghdr* nlh, DumpState& st) {
  const auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  const nlattr* tb[65] = {};
  mnl_attr_parse(nlh, sizeof(*ifm), collect_attrs, tb);
  Link l;
  l.ifindex = uint32_t(ifm->ifi_index);
  l.up = (ifm->ifi_flags & IFF_UP) != 0;
  if (tb[IFLA_IFNAME]) l.name = mnl_attr_get_str(tb[IFLA_IFNAME]);
  if (tb[IFLA_MTU]) l.mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
  if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
    std::memcpy(l.mac.bytes.data(), mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
  }
  st.links->push_back(std::move(l));
}

void on_route(const nlmsghdr* nlh, DumpState& st) {
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
  if (rtm->rtm_type != RTN_UNICAST) return;
  if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) return;
  const nlattr* tb[65] = {};
  mnl_attr_parse(nlh, sizeof(*rtm), collect_attrs, tb);
  const uint32_t table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
  if (table != RT_TABLE_MAIN) return;
  core::Route r;
  r.prefix_len = rtm->rtm_dst_len;
  if (tb[RTA_DST]) {
    r.prefix = addr_from(rtm->rtm_family, mnl_attr_get_payload(tb[RTA_DST]));
  } else {
    r.prefix = rtm->rtm_family == AF_INET ? net::IpAddr::v4(uint32_t(0))
                                          : net::IpAddr::v6(net::IpAddr{}.data());
  }
  if (tb[RTA_PRIORITY]) r.priority = mnl_attr_get_u32(tb[RTA_PRIORITY]);
  if (tb[RTA_OIF]) r.ifindex = mnl_attr_get_u32(tb[RTA_OIF]);
  if (tb[RTA_GATEWAY])
    r.gateway = addr_from(rtm->rtm_family, mnl_attr_get_payload(tb[RTA_GATEWAY]));
  if (r.ifindex == 0 && tb[RTA_MULTIPATH]) {
    // ECMP: lvsd follows the first next hop (the kernel would hash flows over them).
    const auto* nh = static_cast<const rtnexthop*>(mnl_attr_get_payload(tb[RTA_MULTIPATH]));
    if (mnl_attr_get_payload_len(tb[RTA_MULTIPATH]) >= int(sizeof(*nh))) {
      r.ifindex = uint32_t(nh->rtnh_ifindex);
      const nlattr* nt[65] = {};
      const auto* attrs =
          reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(nh) + RTNH_LENGTH(0));
      const int alen = nh->rtnh_len - int(RTNH_LENGTH(0));
      for (const nlattr* a = attrs;
           mnl_attr_ok(a, alen - int(reinterpret_cast<const char*>(a) -
                                     reinterpret_cast<const char*>(attrs)));
           a = mnl_attr_next(a)) {
        collect_attrs(a, nt);
      }
      if (nt[RTA_GATEWAY])
        r.gateway = addr_from(rtm->rtm_family, mnl_attr_get_payload(nt[RTA_GATEWAY]));
    }
  }
  if (r.ifindex == 0) return;
  st.routes->push_back(r);
}

// The first global address of each family per link: the source of packets the director makes
// itself (tunnel outer headers, ICMP errors), as the kernel would pick for that interface.
void on_addr(const nlmsghdr* nlh, DumpState& st) {
  const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
  if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) return;
  if (ifa->ifa_scope != RT_SCOPE_UNIVERSE) return;
  if (ifa->ifa_flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED | IFA_F_DEPRECATED)) return;
  const nlattr* tb[65] = {};
  mnl_attr_parse(nlh, sizeof(*ifa), collect_attrs, tb);
  const nlattr* a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
  const size_t want = ifa->ifa_family == AF_INET ? 4 : 16;
  if (!a || mnl_attr_get_payload_len(a) != want) return;
  for (Link& l : *st.links) {
    if (l.ifindex != ifa->ifa_index) continue;
    net::IpAddr& slot = ifa->ifa_family == AF_INET ? l.addr4 : l.addr6;
    if (slot.family == net::Family::kNone)
      slot = addr_from(ifa->ifa_family, mnl_attr_get_payload(a));
  }
}

void on_neigh(const nlmsghdr* nlh, DumpState& st) {
  const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
  if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6) return;
  if ((ndm->ndm_state & kValidNud) == 0) return;
  const nlattr* tb[65] = {};
  mnl_attr_parse(nlh, sizeof(*ndm), collect_attrs, tb);
  if (!tb[NDA_DST] || !tb[NDA_LLADDR] || mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6) return;
  core::Neigh n;
  n.ifindex = uint32_t(ndm->ndm_ifindex);
  n.addr = addr_from(ndm->ndm_family, mnl_attr_get_payload(tb[NDA_DST]));
  std::memcpy(n.mac.bytes.data(), mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
  st.neighs->push_back(n);
  st.neigh_states->push_back(ndm->ndm_state);
}

int on_msg(const nlmsghdr* nlh, void* data) {
  auto& st = *static_cast<DumpState*>(data);
  switch (nlh->nlmsg_type) {
    case RTM_NEWLINK:
      on_link(nlh, st);
      break;
    case RTM_NEWROUTE:
      on_route(nlh, st);
      break;
    case RTM_NEWNEIGH:
      on_neigh(nlh, st);
      break;
    case RTM_NEWADDR:
      on_addr(nlh, st);
      break;
    default:
      break;
  }
  return MNL_CB_OK;
}

}  // namespace

std::unique_ptr<Netlink> Netlink::open(std::string* err) {
  std::unique_ptr<Netlink> nl(new Netlink());
  nl->events_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
  nl->requests_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (!nl->events_ || !nl->requests_) {
    *err = std::string("cannot open rtnetlink: ") + std::strerror(errno);
    return nullptr;
  }
  const unsigned groups = RTMGRP_LINK | RTMGRP_NEIGH | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE |
                          RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
  if (mnl_socket_bind(nl->events_, groups, MNL_SOCKET_AUTOPID) < 0 ||
      mnl_socket_bind(nl->requests_, 0, MNL_SOCKET_AUTOPID) < 0) {
    *err = std::string("cannot bind rtnetlink: ") + std::strerror(errno);
    return nullptr;
  }
  nl->seq_ = uint32_t(time(nullptr));
  if (!nl->refresh(err)) return nullptr;
  return nl;
}

Netlink::~Netlink() {
  if (events_) mnl_socket_close(events_);
  if (requests_) mnl_socket_close(requests_);
}

int Netlink::event_fd() const { return mnl_socket_get_fd(events_); }

bool Netlink::drain_events() {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  bool changed = false;
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(events_, buf, sizeof(buf));
    if (n <= 0) {
      // ENOBUFS: notifications were lost; re-reading everything covers it.
      if (n < 0 && errno == ENOBUFS) changed = true;
      break;
    }
    changed = true;
  }
  return changed;
}

bool Netlink::dump(int type, int family, std::string* err) {
  // 32 KiB, as libmnl's MNL_SOCKET_DUMP_SIZE in newer releases: dump replies come in big batches.
  static thread_local char buf[32768];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = uint16_t(type);
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = ++seq_;
  if (type == RTM_GETLINK) {
    auto* m = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    m->ifi_family = AF_UNSPEC;
  } else if (type == RTM_GETADDR) {
    auto* m = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    m->ifa_family = uint8_t(family);
  } else if (type == RTM_GETROUTE) {
    auto* m = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    m->rtm_family = uint8_t(family);
  } else {
    auto* m = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
    m->ndm_family = uint8_t(family);
  }
  if (mnl_socket_sendto(requests_, nlh, nlh->nlmsg_len) < 0) {
    *err = std::string("rtnetlink dump request: ") + std::strerror(errno);
    return false;
  }
  DumpState st{&links_, &routes_, &neighs_, &neigh_states_};
  const uint32_t portid = mnl_socket_get_portid(requests_);
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(requests_, buf, sizeof(buf));
    if (n < 0) {
      *err = std::string("rtnetlink dump: ") + std::strerror(errno);
      return false;
    }
    const int rc = mnl_cb_run(buf, size_t(n), seq_, portid, on_msg, &st);
    if (rc == MNL_CB_STOP) return true;
    if (rc < 0) {
      *err = std::string("rtnetlink dump: ") + std::strerror(errno);
      return false;
    }
  }
}

bool Netlink::refresh(std::string* err) {
  links_.clear();
  routes_.clear();
  neighs_.clear();
  neigh_states_.clear();
  return dump(RTM_GETLINK, AF_UNSPEC, err) && dump(RTM_GETADDR, AF_UNSPEC, err) &&
         dump(RTM_GETROUTE, AF_INET, err) && dump(RTM_GETROUTE, AF_INET6, err) &&
         dump(RTM_GETNEIGH, AF_UNSPEC, err);
}

std::shared_ptr<const core::RouteTable> Netlink::snapshot(
    const std::vector<uint32_t>& attached) const {
  std::vector<core::Iface> ifaces;
  for (const Link& l : links_) {
    bool mine = false;
    for (uint32_t a : attached) mine |= a == l.ifindex;
    ifaces.push_back({l.ifindex, l.name, l.mac, l.mtu, mine && l.up, l.addr4, l.addr6});
  }
  return std::make_shared<core::RouteTable>(std::move(ifaces), routes_, neighs_);
}

const Link* Netlink::link(const std::string& name) const {
  for (const Link& l : links_) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

bool Netlink::request_resolution(uint32_t ifindex, const net::IpAddr& addr, std::string* err) {
  // Static entries are the operator's: "using" one would reset it to INCOMPLETE. A missing
  // entry is created with NLM_F_EXCL, so one that appeared meanwhile is never overwritten.
  bool known = false;
  for (size_t i = 0; i < neighs_.size(); ++i) {
    if (neighs_[i].ifindex == ifindex && neighs_[i].addr == addr) {
      if (neigh_states_[i] & (NUD_PERMANENT | NUD_NOARP)) return true;
      known = true;
      break;
    }
  }
  char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWNEIGH;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK | (known ? 0 : NLM_F_EXCL);
  nlh->nlmsg_seq = ++seq_;
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = addr.is_v4() ? AF_INET : AF_INET6;
  ndm->ndm_ifindex = int(ifindex);
  ndm->ndm_state = NUD_NONE;
  ndm->ndm_flags = NTF_USE;  // only "use" the entry: the kernel starts resolving it
  mnl_attr_put(nlh, NDA_DST, addr.size(), addr.data());
  if (mnl_socket_sendto(requests_, nlh, nlh->nlmsg_len) < 0) {
    *err = std::string("neighbour request: ") + std::strerror(errno);
    return false;
  }
  const ssize_t n = mnl_socket_recvfrom(requests_, buf, sizeof(buf));
  if (n < 0 ||
      mnl_cb_run(buf, size_t(n), seq_, mnl_socket_get_portid(requests_), nullptr, nullptr) < 0) {
    if (errno == EEXIST) return true;  // appeared since the last dump: the kernel has it
    *err = "neighbour request for " + addr.to_string() + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace lvs::io
