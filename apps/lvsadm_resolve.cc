#include "lvsadm_resolve.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace lvs::adm {

namespace {

// The *_r lookups answer ERANGE while their scratch buffer is too small; a name list larger
// than this is not an answer worth waiting for.
constexpr size_t kFirstBuffer = 1024;
constexpr size_t kMaxBuffer = 1 << 20;

const char* proto_name(uint8_t proto) {
  switch (proto) {
    case kProtoTcp:
      return "tcp";
    case kProtoUdp:
      return "udp";
    case kProtoSctp:
      return "sctp";
    default:
      return nullptr;
  }
}

}  // namespace

std::optional<net::IpAddr> host_to_addr(std::string_view name) {
  const std::string n(name);
  std::vector<char> buf(kFirstBuffer);
  hostent he{};
  hostent* res = nullptr;
  int herr = 0;
  int rc = 0;
  while ((rc = gethostbyname_r(n.c_str(), &he, buf.data(), buf.size(), &res, &herr)) == ERANGE &&
         buf.size() < kMaxBuffer) {
    buf.resize(buf.size() * 2);
  }
  // As host_to_addr: an answer that is not AF_INET (RES_USE_INET6) is a failure.
  if (rc != 0 || res == nullptr || res->h_addrtype != AF_INET || res->h_length != 4 ||
      res->h_addr_list[0] == nullptr) {
    return std::nullopt;
  }
  return net::IpAddr::v4(reinterpret_cast<const uint8_t*>(res->h_addr_list[0]));
}

std::optional<uint16_t> service_to_port(std::string_view name, uint8_t proto) {
  const char* p = proto_name(proto);
  if (p == nullptr) return std::nullopt;
  const std::string n(name);
  std::vector<char> buf(kFirstBuffer);
  servent se{};
  servent* res = nullptr;
  int rc = 0;
  while ((rc = getservbyname_r(n.c_str(), p, &se, buf.data(), buf.size(), &res)) == ERANGE &&
         buf.size() < kMaxBuffer) {
    buf.resize(buf.size() * 2);
  }
  if (rc != 0 || res == nullptr) return std::nullopt;
  return ntohs(static_cast<uint16_t>(res->s_port));
}

std::optional<std::string> addr_to_host(const net::IpAddr& addr) {
  if (!addr.is_v4() && !addr.is_v6()) return std::nullopt;
  std::vector<char> buf(kFirstBuffer);
  hostent he{};
  hostent* res = nullptr;
  int herr = 0;
  int rc = 0;
  while (
      (rc = gethostbyaddr_r(addr.data(), socklen_t(addr.size()), addr.is_v4() ? AF_INET : AF_INET6,
                            &he, buf.data(), buf.size(), &res, &herr)) == ERANGE &&
      buf.size() < kMaxBuffer) {
    buf.resize(buf.size() * 2);
  }
  if (rc != 0 || res == nullptr || res->h_name == nullptr || res->h_name[0] == '\0') {
    return std::nullopt;
  }
  return std::string(res->h_name);
}

std::optional<std::string> port_to_service(uint16_t port, uint8_t proto) {
  const char* p = proto_name(proto);
  if (p == nullptr) return std::nullopt;
  std::vector<char> buf(kFirstBuffer);
  servent se{};
  servent* res = nullptr;
  int rc = 0;
  while ((rc = getservbyport_r(htons(port), p, &se, buf.data(), buf.size(), &res)) == ERANGE &&
         buf.size() < kMaxBuffer) {
    buf.resize(buf.size() * 2);
  }
  if (rc != 0 || res == nullptr || res->s_name == nullptr || res->s_name[0] == '\0') {
    return std::nullopt;
  }
  return std::string(res->s_name);
}

ForwardResolver os_forward_resolver() {
  ForwardResolver r;
  r.host = host_to_addr;
  r.service = service_to_port;
  return r;
}

std::optional<std::string> OsReverseResolver::host(const net::IpAddr& addr) const {
  const std::string key = addr.to_string();
  if (auto it = hosts_.find(key); it != hosts_.end()) return it->second;
  return hosts_.emplace(key, addr_to_host(addr)).first->second;
}

std::optional<std::string> OsReverseResolver::service(uint16_t port, uint8_t proto) const {
  const uint32_t key = uint32_t{port} << 8 | proto;
  if (auto it = services_.find(key); it != services_.end()) return it->second;
  return services_.emplace(key, port_to_service(port, proto)).first->second;
}

}  // namespace lvs::adm
