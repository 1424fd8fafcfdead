#include "adm/state_json.h"

#include <fmt/format.h>

#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace lvs::adm {

using nlohmann::json;

namespace {

// A member as T when it is a number that fits, else `def`: json::value() would throw on a
// member of another type, and a listing should not die of one odd field.
template <typename T>
T num(const json& j, const char* key, T def) {
  if (!j.is_object()) return def;
  const auto it = j.find(key);
  if (it == j.end()) return def;
  if (it->is_number_unsigned()) {
    const uint64_t v = it->get<uint64_t>();
    return v <= uint64_t(std::numeric_limits<T>::max()) ? T(v) : def;
  }
  if (it->is_number_integer()) {
    const int64_t v = it->get<int64_t>();
    if constexpr (std::is_signed_v<T>) {
      return v >= int64_t(std::numeric_limits<T>::min()) &&
                     v <= int64_t(std::numeric_limits<T>::max())
                 ? T(v)
                 : def;
    } else {
      return v >= 0 && uint64_t(v) <= uint64_t(std::numeric_limits<T>::max()) ? T(v) : def;
    }
  }
  return def;
}

std::string str(const json& j, const char* key, const char* def = "") {
  if (!j.is_object()) return def;
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string(def);
}

bool flag(const json& j, const char* key) {
  if (!j.is_object()) return false;
  const auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

const json& member(const json& j, const char* key) {
  static const json null_value;
  if (!j.is_object()) return null_value;
  const auto it = j.find(key);
  return it == j.end() ? null_value : *it;
}

net::IpAddr addr_of(const json& j, const char* key) {
  const auto a = net::IpAddr::parse(str(j, key));
  return a ? *a : net::IpAddr{};
}

FwdMethod fwd_of(const std::string& name) {
  if (name == "Masq") return FwdMethod::kMasq;
  if (name == "Tunnel") return FwdMethod::kTunnel;
  if (name == "FullNat") return FwdMethod::kFullNat;
  if (name == "Local") return FwdMethod::kLocal;
  return FwdMethod::kRoute;
}

Stats stats_of(const json& j) {
  Stats s;
  s.conns = num<uint64_t>(j, "conns", 0);
  s.inpkts = num<uint64_t>(j, "inpkts", 0);
  s.outpkts = num<uint64_t>(j, "outpkts", 0);
  s.inbytes = num<uint64_t>(j, "inbytes", 0);
  s.outbytes = num<uint64_t>(j, "outbytes", 0);
  return s;
}

// The estimator's figures (ip_vs_stats_user's cps..outbps); an lvsd without "rates": zeros.
Rates rates_of(const json& j) {
  Rates r;
  r.cps = num<uint64_t>(j, "cps", 0);
  r.inpps = num<uint64_t>(j, "inpps", 0);
  r.outpps = num<uint64_t>(j, "outpps", 0);
  r.inbps = num<uint64_t>(j, "inbps", 0);
  r.outbps = num<uint64_t>(j, "outbps", 0);
  return r;
}

RealServer server_of(const json& jd) {
  RealServer d;
  d.addr = addr_of(jd, "addr");
  d.port = num<uint16_t>(jd, "port", 0);
  d.fwd = fwd_of(str(jd, "fwd"));
  d.weight = num<int32_t>(jd, "weight", 1);
  d.active_conns = num<uint32_t>(jd, "active_conns", 0);
  d.inactive_conns = num<uint32_t>(jd, "inactive_conns", 0);
  d.persist_conns = num<uint32_t>(jd, "persist_conns", 0);
  d.u_threshold = num<uint32_t>(jd, "u_threshold", 0);
  d.l_threshold = num<uint32_t>(jd, "l_threshold", 0);
  const std::string tt = str(jd, "tun_type", "ipip");
  d.tun_type = tt == "gue" ? TunType::kGue : tt == "gre" ? TunType::kGre : TunType::kIpip;
  d.tun_port = num<uint16_t>(jd, "tun_port", 0);
  // core::kTunFlag*: bit 0 checksum, bit 1 remote checksum offload.
  const unsigned flags = num<unsigned>(jd, "tun_flags", 0);
  d.tun_csum = (flags & 2) ? TunCsum::kRemCsum : (flags & 1) ? TunCsum::kCsum : TunCsum::kNoCsum;
  d.stats = stats_of(member(jd, "stats"));
  d.rates = rates_of(member(jd, "rates"));
  return d;
}

Service service_of(const json& js) {
  Service s;
  const std::string proto = str(js, "proto", "TCP");
  s.fwmark = num<uint32_t>(js, "fwmark", 0);
  s.addr = addr_of(js, "addr");
  s.fwmark_af = s.addr.is_v6() ? net::Family::kV6 : net::Family::kV4;
  // IPVS reports fwmark services as TCP ("FWM" here), which names their servers' ports.
  s.protocol = proto == "UDP" ? kProtoUdp : proto == "SCTP" ? kProtoSctp : kProtoTcp;
  s.port = num<uint16_t>(js, "port", 0);
  s.scheduler = str(js, "scheduler", "wlc");
  s.sched_flags = num<uint32_t>(js, "sched_flags", 0);
  s.persistence_timeout = num<uint32_t>(js, "persistence_timeout", 0);
  s.persistent = s.persistence_timeout != 0;
  const unsigned prefix = num<unsigned>(js, "persistence_prefix", 128);
  if (s.family() == net::Family::kV6) {
    s.prefix_v6 = uint8_t(prefix > 128 ? 128 : prefix);
  } else {
    const unsigned p = prefix > 32 ? 32 : prefix;
    s.netmask_v4 = p == 0 ? 0 : uint32_t(0xffffffffu << (32 - p));
  }
  s.one_packet = flag(js, "one_packet");
  s.stats = stats_of(member(js, "stats"));
  s.rates = rates_of(member(js, "rates"));
  const json& dests = member(js, "dests");
  if (dests.is_array()) {
    for (const json& jd : dests) s.servers.push_back(server_of(jd));
  }
  return s;
}

// What the state document holds besides its services.
void read_globals(const json& st, ListModel& m) {
  m.conn_tab_size = num<uint32_t>(st, "conn_capacity", 4096);
  const json& t = member(st, "timeouts");
  m.timeouts.tcp = num<int>(t, "tcp", 900);
  m.timeouts.tcp_fin = num<int>(t, "tcp_fin", 120);
  m.timeouts.udp = num<int>(t, "udp", 300);
}

}  // namespace

ListModel model_from_state(const json& st) {
  ListModel m;
  read_globals(st, m);
  const json& services = member(st, "services");
  if (services.is_array()) {
    m.services.reserve(services.size());
    for (const json& js : services) m.services.push_back(service_of(js));
  }
  return m;
}

std::optional<ListModel> model_from_state_text(std::string_view text) {
  using Event = json::parse_event_t;
  ListModel m;
  bool services_key = false;  // the top-level member being read is "services"
  bool in_services = false;   // inside its array
  // nlohmann's depth: 1 for the top-level object's keys and values (an array value starts and
  // ends at 1), 2 for the elements of such an array.
  const json::parser_callback_t take = [&](int depth, Event event, json& parsed) {
    if (depth == 1) {
      if (event == Event::key) {
        services_key = parsed == "services";
        if (services_key) m.services.clear();  // a repeated key: the last counts, as in a tree
      } else if (event == Event::array_start || event == Event::array_end) {
        in_services = services_key && event == Event::array_start;
      }
      return true;
    }
    // A whole element of the services array: into the model, out of the tree.
    if (depth == 2 && in_services &&
        (event == Event::object_end || event == Event::array_end || event == Event::value)) {
      m.services.push_back(service_of(parsed));
      return false;
    }
    return true;
  };
  const json root = json::parse(text, take, /*allow_exceptions=*/false);
  if (root.is_discarded()) return std::nullopt;
  read_globals(root, m);
  return m;
}

void add_connections(ListModel& m, const json& entries) {
  if (!entries.is_array()) return;
  m.connections.reserve(m.connections.size() + entries.size());
  for (const json& jc : entries) {
    Connection c;
    c.protocol = num<uint8_t>(jc, "proto", kProtoTcp);
    c.expires = num<uint32_t>(jc, "expires", 0);
    c.state = str(jc, "state");
    c.client = {addr_of(jc, "caddr"), num<uint16_t>(jc, "cport", 0)};
    c.virt = {addr_of(jc, "vaddr"), num<uint16_t>(jc, "vport", 0)};
    c.dest = {addr_of(jc, "daddr"), num<uint16_t>(jc, "dport", 0)};
    c.is_template = flag(jc, "template");
    c.fwmark = num<uint32_t>(jc, "fwmark", 0);
    m.connections.push_back(std::move(c));
  }
}

std::optional<ConnsPage> parse_conns_page(const json& answer) {
  ConnsPage p;
  if (answer.is_array()) {
    p.entries = answer;
    p.whole_table = true;
    return p;
  }
  if (!answer.is_object()) return std::nullopt;
  const json& conns = member(answer, "conns");
  if (!conns.is_array()) return std::nullopt;
  p.entries = conns;
  const json& next = member(answer, "next_offset");
  if (next.is_number_unsigned() || (next.is_number_integer() && next.get<int64_t>() >= 0)) {
    p.next_offset = next.get<uint64_t>();
  } else if (!next.is_null()) {
    return std::nullopt;  // an offset that is not one: following it could go anywhere
  }
  const json& matched = member(answer, "matched");
  if (matched.is_number_unsigned()) p.matched = matched.get<uint64_t>();
  return p;
}

std::string conns_target(uint64_t offset, uint64_t limit) {
  return fmt::format("/v1/conns?offset={}&limit={}", offset, limit);
}

std::optional<std::string> fetch_connections(ListModel& m, const ConnsFetch& fetch) {
  uint64_t offset = 0;
  uint64_t max_pages = 1;
  for (uint64_t page = 0;; ++page) {
    auto answer = fetch(offset);
    if (auto* err = std::get_if<std::string>(&answer)) return std::move(*err);
    const auto p = parse_conns_page(std::get<json>(answer));
    if (!p) return "lvsd's answer to GET /v1/conns is not a page of connections";
    if (p->whole_table && page != 0) {
      return "lvsd answered GET /v1/conns with the whole table after the first page";
    }
    add_connections(m, p->entries);
    if (!p->next_offset) return std::nullopt;
    if (*p->next_offset <= offset) {
      return fmt::format("lvsd's /v1/conns pages do not move forward (offset {} after {})",
                         *p->next_offset, offset);
    }
    if (page == 0) {
      // The table as the first page counted it, in pages of the size lvsd gave (it may cap
      // the limit asked for), plus room to grow while it is read.
      const uint64_t size = *p->next_offset;
      const uint64_t matched = p->matched.value_or(size);
      max_pages = matched / size + 1 + kConnsSlackPages;
    }
    if (page + 1 >= max_pages) {
      return fmt::format("lvsd's /v1/conns pages do not end: stopped after {} pages ({} entries)",
                         page + 1, m.connections.size());
    }
    offset = *p->next_offset;
  }
}

}  // namespace lvs::adm
