// Compiles `nft -j list ruleset` into fwmark endpoints (nft_marks.h has the model). It only
// needs nlohmann-json and lvs_net, so the fuzz target builds it without the rest of the I/O layer.
//
// How: the JSON becomes a small program (chains of rules, each rule a list of steps: packet
// conditions, mark conditions, mark assignments, map lookups, verdicts). Rules that set a
// constant mark after conditions pinning destination addresses propose endpoints <family,
// address, proto, ports>. Each proposed endpoint is then run through every prerouting base chain
// with a set of possible packet states (mark, ct mark, where evaluation stopped): a condition on
// the packet's fields is decided exactly, one lvsd cannot decide forks the states. An endpoint is
// emitted only when all states agree on one mark. Ports are handled as intervals split where any
// rule's port set begins or ends, so a range of 60000 ports costs a handful of evaluations.
#include <algorithm>
#include <charconv>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <utility>

#include "io/nft_marks.h"

namespace lvs::io {
namespace {

using Json = nlohmann::json;
using U128 = unsigned __int128;

constexpr uint8_t kTcp = 6, kUdp = 17, kSctp = 132;
constexpr uint8_t kBalanced[] = {kTcp, kUdp, kSctp};
constexpr uint32_t kNfprotoIpv4 = 2, kNfprotoIpv6 = 10;
constexpr U128 kUnknownProto = 256;  // a protocol name lvsd does not know: none of ours
constexpr size_t kMaxRuleEntries = 65536;
constexpr size_t kMaxEntries = size_t(1) << 18;
constexpr size_t kMaxWarnings = 200;
constexpr int kMaxJumpDepth = 16;  // the kernel's jump stack
constexpr int kMaxExprDepth = 8;
constexpr uint64_t kMaxWork = uint64_t(1) << 26;

// ---------------------------------------------------------------------------------------------
// JSON access that never throws.

const Json* member(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string string_of(const Json* j) { return j && j->is_string() ? j->get<std::string>() : ""; }

std::optional<uint64_t> uint_of(const Json& j) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer()) {
    const int64_t v = j.get<int64_t>();
    if (v >= 0) return uint64_t(v);
    return std::nullopt;
  }
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    int base = 10;
    size_t start = 0;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
      base = 16;
      start = 2;
    }
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data() + start, s.data() + s.size(), v, base);
    if (ec == std::errc() && end == s.data() + s.size() && start < s.size()) return v;
  }
  return std::nullopt;
}

// A statement or expression object: {"key": value} with exactly one key.
bool single_key(const Json& j, std::string* key, const Json** value) {
  if (!j.is_object() || j.size() != 1) return false;
  *key = j.begin().key();
  *value = &j.begin().value();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Expressions back to nft syntax, for warnings. Bounded in depth and length.

void describe_to(const Json& j, std::string& out, int depth);

void describe_list(const Json& a, const char* sep, std::string& out, int depth) {
  bool first = true;
  for (const Json& e : a) {
    if (!first) out += sep;
    first = false;
    describe_to(e, out, depth + 1);
    if (out.size() > 200) break;
  }
}

void describe_to(const Json& j, std::string& out, int depth) {
  if (depth > kMaxExprDepth || out.size() > 200) {
    out += "...";
    return;
  }
  if (j.is_string()) {
    out += j.get_ref<const std::string&>();
    return;
  }
  if (j.is_number() || j.is_boolean()) {
    out += j.dump();
    return;
  }
  if (j.is_array()) {
    describe_list(j, ",", out, depth);
    return;
  }
  std::string key;
  const Json* v = nullptr;
  if (!single_key(j, &key, &v)) {
    out += "...";
    return;
  }
  if (key == "match") {
    const Json* l = member(*v, "left");
    const Json* r = member(*v, "right");
    const std::string op = string_of(member(*v, "op"));
    if (l) describe_to(*l, out, depth + 1);
    if (op != "==" && op != "in") out += " " + op;
    out += " ";
    if (r) describe_to(*r, out, depth + 1);
  } else if (key == "payload") {
    if (member(*v, "protocol")) {
      out += string_of(member(*v, "protocol")) + " " + string_of(member(*v, "field"));
    } else {
      out += "@" + string_of(member(*v, "base")) + ",...";
    }
  } else if (key == "meta") {
    const std::string k = string_of(member(*v, "key"));
    const bool bare = k.rfind("iif", 0) == 0 || k.rfind("oif", 0) == 0;
    out += bare ? k : "meta " + k;
  } else if (key == "ct") {
    out += "ct " + string_of(member(*v, "key"));
  } else if (key == "set" && v->is_array()) {
    out += "{ ";
    describe_list(*v, ", ", out, depth);
    out += " }";
  } else if (key == "range" && v->is_array()) {
    describe_list(*v, "-", out, depth);
  } else if (key == "concat" && v->is_array()) {
    describe_list(*v, " . ", out, depth);
  } else if (key == "prefix") {
    if (const Json* a = member(*v, "addr")) describe_to(*a, out, depth + 1);
    out += "/";
    if (const Json* n = member(*v, "len")) describe_to(*n, out, depth + 1);
  } else if (key == "elem") {
    if (const Json* val = member(*v, "val")) describe_to(*val, out, depth + 1);
  } else if ((key == "&" || key == "|" || key == "^" || key == "<<" || key == ">>") &&
             v->is_array()) {
    describe_list(*v, (" " + key + " ").c_str(), out, depth);
  } else if (key == "mangle") {
    if (const Json* k = member(*v, "key")) describe_to(*k, out, depth + 1);
    out += " set ";
    if (const Json* val = member(*v, "value")) describe_to(*val, out, depth + 1);
  } else if (key == "map" || key == "vmap") {
    if (const Json* k = member(*v, "key")) describe_to(*k, out, depth + 1);
    out += " " + key + " ";
    if (const Json* d = member(*v, "data")) describe_to(*d, out, depth + 1);
  } else if (key == "jump" || key == "goto") {
    out += key + " " + string_of(member(*v, "target"));
  } else if (key == "xt") {
    out += "xt " + string_of(member(*v, "type")) + " " + string_of(member(*v, "name"));
  } else if (key == "limit") {
    out += "limit rate " + (member(*v, "rate") ? member(*v, "rate")->dump() : std::string("?")) +
           "/" + string_of(member(*v, "per"));
  } else if (key == "fib") {
    out += "fib ";
    if (const Json* f = member(*v, "flags")) describe_to(*f, out, depth + 1);
    out += " " + string_of(member(*v, "result"));
  } else {
    out += key;  // a statement: its name says enough (limit, dnat, numgen, ...)
  }
}

std::string describe(const Json& j) {
  std::string s;
  describe_to(j, s, 0);
  if (s.size() > 120) s = s.substr(0, 117) + "...";
  return s;
}

// ---------------------------------------------------------------------------------------------
// The program.

enum class Field : uint8_t { kNfproto, kDaddr4, kDaddr6, kIpProto, kNexthdr, kL4proto, kDport, kIif };

struct Range {
  U128 lo = 0, hi = 0;
};

U128 field_max(Field f) {
  switch (f) {
    case Field::kDaddr4:
      return 0xffffffffu;
    case Field::kDaddr6:
      return ~U128(0);
    case Field::kDport:
      return 0xffff;
    case Field::kIif:
      return 0xffffffffu;
    default:
      return 0x1ff;  // protocols and nfproto, plus kUnknownProto
  }
}

// One packet lvsd evaluates: an endpoint, a port and an interface class.
struct Point {
  bool v6 = false;
  U128 addr = 0;
  uint8_t proto = 0;
  uint16_t port = 0;
  uint32_t iif = 0;  // interned interface name; 0 is "an interface no rule names"
};

// The field's value for the packet; nullopt when the packet has no such field (ip daddr of an
// IPv6 packet), which fails the match whatever its operator, as nftables' dependencies do.
std::optional<U128> field_value(Field f, const Point& p) {
  switch (f) {
    case Field::kNfproto:
      return p.v6 ? kNfprotoIpv6 : kNfprotoIpv4;
    case Field::kDaddr4:
      if (p.v6) return std::nullopt;
      return p.addr;
    case Field::kDaddr6:
      if (!p.v6) return std::nullopt;
      return p.addr;
    case Field::kIpProto:
      if (p.v6) return std::nullopt;
      return p.proto;
    case Field::kNexthdr:
      if (!p.v6) return std::nullopt;
      return p.proto;
    case Field::kL4proto:
      return p.proto;
    case Field::kDport:
      return p.port;
    case Field::kIif:
      return p.iif;
  }
  return std::nullopt;
}

// A match on packet fields: one field against sorted, merged ranges, or a concatenation against
// tuples. Also the key of a map (then `tuples` lines up with the map's data).
struct PacketCond {
  std::vector<Field> fields;
  std::vector<Range> ranges;               // one field
  std::vector<std::vector<Range>> tuples;  // several fields (or a map key)
  bool negate = false;

  bool single() const { return fields.size() == 1 && tuples.empty(); }

  // Index of the matching tuple, -1 when none; -2 when a field does not exist for the packet.
  long find(const Point& p, uint64_t* work) const {
    U128 vals[8];
    for (size_t i = 0; i < fields.size() && i < 8; ++i) {
      auto v = field_value(fields[i], p);
      if (!v) return -2;
      vals[i] = *v;
    }
    if (single()) {
      ++*work;
      auto it = std::upper_bound(ranges.begin(), ranges.end(), vals[0],
                                 [](U128 v, const Range& r) { return v < r.lo; });
      if (it == ranges.begin()) return -1;
      --it;
      return vals[0] <= it->hi ? long(it - ranges.begin()) : -1;
    }
    *work += tuples.size() + 1;
    for (size_t t = 0; t < tuples.size(); ++t) {
      bool all = true;
      for (size_t i = 0; i < fields.size() && all; ++i) {
        all = vals[i] >= tuples[t][i].lo && vals[i] <= tuples[t][i].hi;
      }
      if (all) return long(t);
    }
    return -1;
  }

  bool eval(const Point& p, uint64_t* work) const {
    const long i = find(p, work);
    if (i == -2) return false;
    return (i >= 0) != negate;
  }

  // Whether tuple `t` can match packets to the endpoint of `p`, whatever their port and
  // interface.
  bool partial(const std::vector<Range>& t, const Point& p) const {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i] == Field::kDport || fields[i] == Field::kIif) continue;
      auto v = field_value(fields[i], p);
      if (!v || *v < t[i].lo || *v > t[i].hi) return false;
    }
    return true;
  }

  // Whether the condition can hold for some packet to the endpoint of `p` (port and interface
  // left open).
  bool may_hold(const Point& p) const {
    for (Field f : fields) {
      if (f != Field::kDport && f != Field::kIif && !field_value(f, p)) return false;
    }
    if (single()) {
      if (fields[0] == Field::kDport || fields[0] == Field::kIif) return true;
      uint64_t work = 0;
      return eval(p, &work);
    }
    if (negate) return true;
    for (const auto& t : tuples) {
      if (partial(t, p)) return true;
    }
    return false;
  }
};

void normalize(std::vector<Range>& rs) {
  std::sort(rs.begin(), rs.end(), [](const Range& a, const Range& b) { return a.lo < b.lo; });
  std::vector<Range> out;
  for (const Range& r : rs) {
    if (!out.empty() && r.lo <= out.back().hi) {  // adjacent hosts stay hosts
      out.back().hi = std::max(out.back().hi, r.hi);
    } else {
      out.push_back(r);
    }
  }
  rs = std::move(out);
}

// A value computed from the packet's marks: a constant, meta mark or ct mark, then & | ^ with
// constants in order.
struct MarkExpr {
  enum class Src : uint8_t { kConst, kMeta, kCt } src = Src::kConst;
  uint32_t value = 0;
  std::vector<std::pair<char, uint32_t>> ops;
};

struct Verdict {
  enum class Kind : uint8_t { kNone, kAccept, kDrop, kReturn, kContinue, kJump, kGoto };
  Kind kind = Kind::kNone;
  std::string target;
};

struct Step {
  enum class Kind : uint8_t {
    kCond,       // packet condition
    kConst,      // a condition decided for every first packet (ct state)
    kMarkCond,   // condition on meta mark / ct mark
    kUnknown,    // a condition lvsd cannot decide
    kSetMark,    // meta mark set expr (or an unknown value)
    kSetCt,      // ct mark set expr (or an unknown value)
    kMapMark,    // meta mark set <packet fields> map { ... }
    kVmap,       // <packet fields> vmap { ... }
    kVerdict,    // accept, drop, return, jump ...
    kOpaque,     // a statement that may end evaluation in a way lvsd cannot follow
  };
  Kind kind = Kind::kCond;
  PacketCond cond;  // kCond; kMapMark and kVmap: the key
  bool truth = false;                   // kConst
  MarkExpr expr;                        // kMarkCond (left), kSetMark, kSetCt
  bool unknown_value = false;           // kSetMark, kSetCt: numgen, xt MARK, ...
  std::vector<Range> mark_ranges;       // kMarkCond
  bool negate = false;                  // kMarkCond
  std::vector<uint32_t> map_marks;      // kMapMark, per key tuple
  std::vector<Verdict> map_verdicts;    // kVmap, per key tuple
  Verdict verdict;                      // kVerdict
};

struct Chain;

struct Rule {
  const Chain* chain = nullptr;
  std::string handle;  // as nft -a prints it
  std::vector<Step> steps;
  bool sets_mark = false;
  std::string unsupported;  // the first expression lvsd does not understand
  bool effect = false;      // it can change the mark or where evaluation goes
  std::string origin() const;
};

struct Chain {
  std::string family, table, name;
  std::string hook, type;
  bool base = false;
  int64_t prio = 0;
  bool policy_drop = false;
  size_t id = 0;  // its place in Program::listed
  std::vector<size_t> rules;
};

std::string Rule::origin() const {
  return "rule handle " + handle + " in " + chain->family + " " + chain->table + " " + chain->name;
}

// Names of sets and maps by <family, table, name>.
using ObjKey = std::tuple<std::string, std::string, std::string>;

struct Program {
  std::map<ObjKey, const Json*> sets, maps;
  std::map<ObjKey, Chain> chains;
  std::vector<Rule> rules;
  std::vector<const Chain*> listed;         // chains in listing order
  std::vector<std::string> iif_names{""};  // index 0: an interface no rule names
  std::map<std::string, uint32_t> iif_ids;
  std::vector<std::string> warnings;

  uint32_t intern(const std::string& name) {
    auto [it, added] = iif_ids.emplace(name, uint32_t(iif_names.size()));
    if (added) iif_names.push_back(name);
    return it->second;
  }
  const Chain* chain(const std::string& fam, const std::string& table,
                     const std::string& name) const {
    auto it = chains.find({fam, table, name});
    return it == chains.end() ? nullptr : &it->second;
  }
};

void warn(std::vector<std::string>& w, std::string msg) {
  if (w.size() < kMaxWarnings) {
    w.push_back(std::move(msg));
  } else if (w.size() == kMaxWarnings) {
    w.push_back("more warnings left out");
  }
}

// ---------------------------------------------------------------------------------------------
// JSON to steps.

class RuleParser {
 public:
  RuleParser(Program& prog, Rule& rule) : prog_(prog), rule_(rule) {}

  void parse(const Json& exprs) {
    if (!exprs.is_array()) {
      opaque("(no expressions)");
      return;
    }
    for (const Json& e : exprs) statement(e);
    // Conditions side by side commute: decide the ones lvsd can first, so an undecidable one
    // only forks packets the others let through (and takes the blame only for those).
    auto rank = [](const Step& s) {
      switch (s.kind) {
        case Step::Kind::kCond:
        case Step::Kind::kConst:
          return 0;
        case Step::Kind::kMarkCond:
          return 1;
        case Step::Kind::kUnknown:
          return 2;
        default:
          return -1;
      }
    };
    auto& steps = rule_.steps;
    for (size_t i = 0; i < steps.size();) {
      size_t j = i;
      while (j < steps.size() && rank(steps[j]) >= 0) ++j;
      std::stable_sort(steps.begin() + long(i), steps.begin() + long(j),
                       [&](const Step& a, const Step& b) { return rank(a) < rank(b); });
      i = j == i ? i + 1 : j;
    }
  }

 private:
  void unknown(const Json& e) { unknown_text(describe(e)); }
  void unknown_text(std::string text) {
    Step s;
    s.kind = Step::Kind::kUnknown;
    rule_.steps.push_back(std::move(s));
    note(std::move(text));
  }
  void opaque(std::string text) {
    Step s;
    s.kind = Step::Kind::kOpaque;
    rule_.steps.push_back(std::move(s));
    note(std::move(text));
  }
  void note(std::string text) {
    if (rule_.unsupported.empty()) rule_.unsupported = std::move(text);
  }
  void add_verdict(Verdict v) {
    Step s;
    s.kind = Step::Kind::kVerdict;
    s.verdict = std::move(v);
    rule_.steps.push_back(std::move(s));
  }

  void statement(const Json& e) {
    std::string key;
    const Json* v = nullptr;
    if (!single_key(e, &key, &v)) {
      opaque(describe(e));
      return;
    }
    if (key == "match") return match(e, *v);
    if (auto verdict = parse_verdict(key, *v)) return add_verdict(*verdict);
    if (key == "reject") return add_verdict({Verdict::Kind::kDrop, ""});
    if (key == "mangle") return mangle(e, *v);
    if (key == "vmap") return vmap(e, *v);
    if (key == "xt") {
      const std::string type = string_of(member(*v, "type"));
      const std::string name = string_of(member(*v, "name"));
      if (type == "watcher") return;
      if (type == "match") return unknown(e);
      if (name == "MARK" || name == "CONNMARK") {
        Step s;
        s.kind = Step::Kind::kSetMark;
        s.unknown_value = true;
        rule_.steps.push_back(std::move(s));
        rule_.sets_mark = true;
        note(describe(e));
        return;
      }
      return opaque(describe(e));
    }
    // Statements that change neither the mark nor the verdict.
    static const std::set<std::string> kHarmless = {
        "counter", "log",     "notrack",       "last",  "set",       "map",
        "dup",     "flow",    "ct helper",     "ct timeout", "ct expectation", "secmark"};
    if (kHarmless.count(key)) return;
    // Statements that pass some packets and not others.
    static const std::set<std::string> kConditions = {"limit", "quota", "meter", "connlimit",
                                                      "ct count"};
    if (kConditions.count(key)) return unknown(e);
    opaque(describe(e));  // dnat, snat, masquerade, redirect, tproxy, queue, synproxy, fwd, ...
  }

  static std::optional<Verdict> parse_verdict(const std::string& key, const Json& v) {
    using K = Verdict::Kind;
    if (key == "accept") return Verdict{K::kAccept, ""};
    if (key == "drop") return Verdict{K::kDrop, ""};
    if (key == "return") return Verdict{K::kReturn, ""};
    if (key == "continue") return Verdict{K::kContinue, ""};
    if (key == "jump" || key == "goto") {
      const std::string target = string_of(member(v, "target"));
      if (target.empty()) return std::nullopt;
      return Verdict{key == "jump" ? K::kJump : K::kGoto, target};
    }
    return std::nullopt;
  }

  static std::optional<Verdict> verdict_of(const Json& v) {
    if (v.is_string()) return parse_verdict(v.get<std::string>(), Json());
    std::string key;
    const Json* val = nullptr;
    if (!single_key(v, &key, &val)) return std::nullopt;
    return parse_verdict(key, *val);
  }

  // ---- packet fields

  // The field a match reads, and the protocol its header implies (tcp dport: tcp), or 0.
  static bool parse_field(const Json& e, Field* f, uint8_t* implied) {
    *implied = 0;
    if (const Json* p = member(e, "payload")) {
      const std::string proto = string_of(member(*p, "protocol"));
      const std::string field = string_of(member(*p, "field"));
      if (proto == "ip" && field == "daddr") *f = Field::kDaddr4;
      else if (proto == "ip6" && field == "daddr") *f = Field::kDaddr6;
      else if (proto == "ip" && field == "protocol") *f = Field::kIpProto;
      else if (proto == "ip6" && field == "nexthdr") *f = Field::kNexthdr;
      else if (field == "dport" && (proto == "tcp" || proto == "udp" || proto == "sctp")) {
        *f = Field::kDport;
        *implied = proto == "tcp" ? kTcp : proto == "udp" ? kUdp : kSctp;
      } else if (proto == "th" && field == "dport") *f = Field::kDport;
      else return false;
      return true;
    }
    if (const Json* m = member(e, "meta")) {
      const std::string key = string_of(member(*m, "key"));
      if (key == "l4proto") *f = Field::kL4proto;
      else if (key == "nfproto") *f = Field::kNfproto;
      else if (key == "iif" || key == "iifname") *f = Field::kIif;
      else return false;
      return true;
    }
    return false;
  }

  // The fields of a match's left side (one, or a concatenation).
  static bool parse_fields(const Json& left, std::vector<Field>* fields,
                           std::vector<uint8_t>* implied) {
    auto one = [&](const Json& e) {
      Field f;
      uint8_t imp;
      if (!parse_field(e, &f, &imp)) return false;
      fields->push_back(f);
      if (imp) implied->push_back(imp);
      return true;
    };
    if (const Json* c = member(left, "concat")) {
      if (!c->is_array() || c->size() < 2 || c->size() > 8) return false;
      for (const Json& e : *c) {
        if (!one(e)) return false;
      }
      return true;
    }
    return one(left);
  }

  static std::optional<U128> addr_value(const Json& v, bool v6) {
    if (!v.is_string()) return std::nullopt;
    auto a = net::IpAddr::parse(v.get_ref<const std::string&>());
    if (!a || a->is_v6() != v6) return std::nullopt;
    U128 x = 0;
    for (size_t i = 0; i < a->size(); ++i) x = x << 8 | a->bytes[i];
    return x;
  }

  static std::optional<U128> proto_value(const Json& v) {
    if (auto n = uint_of(v)) {
      if (*n > 255) return std::nullopt;
      return U128(*n);
    }
    if (!v.is_string()) return std::nullopt;
    static const std::map<std::string, uint8_t> kNames = {
        {"tcp", kTcp}, {"udp", kUdp},       {"sctp", kSctp},     {"icmp", 1},
        {"igmp", 2},   {"ipencap", 4},      {"gre", 47},         {"esp", 50},
        {"ah", 51},    {"ipv6-icmp", 58},   {"icmpv6", 58},      {"dccp", 33},
        {"udplite", 136}, {"comp", 108}};
    auto it = kNames.find(v.get<std::string>());
    return it == kNames.end() ? kUnknownProto : U128(it->second);
  }

  std::optional<U128> scalar(Field f, const Json& v) {
    switch (f) {
      case Field::kDaddr4:
      case Field::kDaddr6:
        return addr_value(v, f == Field::kDaddr6);
      case Field::kIpProto:
      case Field::kNexthdr:
      case Field::kL4proto:
        return proto_value(v);
      case Field::kDport: {
        auto n = uint_of(v);
        if (!n || *n > 0xffff) return std::nullopt;
        return U128(*n);
      }
      case Field::kNfproto: {
        if (v.is_string() && v.get<std::string>() == "ipv4") return kNfprotoIpv4;
        if (v.is_string() && v.get<std::string>() == "ipv6") return kNfprotoIpv6;
        auto n = uint_of(v);
        if (!n || *n > 255) return std::nullopt;
        return U128(*n);
      }
      case Field::kIif: {
        if (!v.is_string()) return std::nullopt;  // an ifindex: not a name lvsd can match
        const std::string& s = v.get_ref<const std::string&>();
        // nft marks a wildcard with a trailing '*' and escapes a literal one as "\*".
        if (!s.empty() && s.back() == '*' && (s.size() < 2 || s[s.size() - 2] != '\\')) {
          return std::nullopt;
        }
        std::string name;
        for (size_t i = 0; i < s.size(); ++i) {
          if (s[i] == '\\' && i + 1 < s.size()) ++i;
          name += s[i];
        }
        return U128(prog_.intern(name));
      }
    }
    return std::nullopt;
  }

  bool atom(Field f, const Json& v, Range* r) {
    if (const Json* e = member(v, "elem")) {
      const Json* val = member(*e, "val");
      return val && atom(f, *val, r);
    }
    if (const Json* rg = member(v, "range")) {
      if (f == Field::kIif || !rg->is_array() || rg->size() != 2) return false;
      auto lo = scalar(f, (*rg)[0]);
      auto hi = scalar(f, (*rg)[1]);
      if (!lo || !hi || *lo > *hi) return false;
      *r = {*lo, *hi};
      return true;
    }
    if (const Json* px = member(v, "prefix")) {
      if (f != Field::kDaddr4 && f != Field::kDaddr6) return false;
      const Json* a = member(*px, "addr");
      const Json* l = member(*px, "len");
      const unsigned bits = f == Field::kDaddr4 ? 32 : 128;
      auto base = a ? scalar(f, *a) : std::nullopt;
      auto len = l ? uint_of(*l) : std::nullopt;
      if (!base || !len || *len > bits) return false;
      const U128 host = *len == bits ? 0 : (bits == 128 && *len == 0 ? ~U128(0)
                                                                      : (U128(1) << (bits - *len)) - 1);
      *r = {*base & ~host & field_max(f), (*base | host) & field_max(f)};
      return true;
    }
    auto x = scalar(f, v);
    if (!x) return false;
    *r = {*x, *x};
    return true;
  }

  bool tuple(const std::vector<Field>& fields, const Json& v, std::vector<Range>* out) {
    if (const Json* e = member(v, "elem")) {
      const Json* val = member(*e, "val");
      return val && tuple(fields, *val, out);
    }
    out->assign(fields.size(), Range{});
    if (fields.size() == 1) return atom(fields[0], v, &(*out)[0]);
    const Json* c = member(v, "concat");
    if (!c || !c->is_array() || c->size() != fields.size()) return false;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (!atom(fields[i], (*c)[i], &(*out)[i])) return false;
    }
    return true;
  }

  // A named set or map of the rule's table; nullptr when missing or filled from the packet path.
  const Json* named(const std::map<ObjKey, const Json*>& objs, const std::string& ref) {
    auto it = objs.find({rule_.chain->family, rule_.chain->table, ref.substr(1)});
    if (it == objs.end()) return nullptr;
    if (const Json* flags = member(*it->second, "flags")) {
      for (const Json& f : *flags) {
        if (f == "dynamic" || f == "timeout") return nullptr;
      }
    }
    const Json* elems = member(*it->second, "elem");
    static const Json kEmpty = Json::array();
    return elems && elems->is_array() ? elems : &kEmpty;
  }

  // The elements a match compares with: a value, an anonymous set or a named set.
  bool elements(const std::vector<Field>& fields, const Json& right,
                std::vector<std::vector<Range>>* out) {
    const Json* list = nullptr;
    if (right.is_string() && !right.get_ref<const std::string&>().empty() &&
        right.get_ref<const std::string&>()[0] == '@') {
      list = named(prog_.sets, right.get<std::string>());
      if (!list) return false;
    } else if (const Json* s = member(right, "set")) {
      list = s;
      if (!list->is_array()) return false;
    }
    std::vector<Range> t;
    if (!list) {
      if (!tuple(fields, right, &t)) return false;
      out->push_back(std::move(t));
      return true;
    }
    for (const Json& e : *list) {
      if (!tuple(fields, e, &t)) return false;
      out->push_back(t);
    }
    return true;
  }

  void implied_protos(const std::vector<uint8_t>& implied) {
    for (uint8_t p : implied) {
      Step s;
      s.kind = Step::Kind::kCond;
      s.cond.fields = {Field::kL4proto};
      s.cond.ranges = {{p, p}};
      rule_.steps.push_back(std::move(s));
    }
  }

  // ---- marks

  static bool parse_mark_expr(const Json& v, MarkExpr* out, int depth = 0) {
    if (depth > kMaxExprDepth) return false;
    if (auto n = uint_of(v)) {
      if (*n > 0xffffffffu) return false;
      out->src = MarkExpr::Src::kConst;
      out->value = uint32_t(*n);
      return true;
    }
    if (const Json* m = member(v, "meta")) {
      if (string_of(member(*m, "key")) != "mark") return false;
      out->src = MarkExpr::Src::kMeta;
      return true;
    }
    if (const Json* c = member(v, "ct")) {
      if (string_of(member(*c, "key")) != "mark" || member(*c, "dir")) return false;
      out->src = MarkExpr::Src::kCt;
      return true;
    }
    std::string key;
    const Json* args = nullptr;
    if (!single_key(v, &key, &args) || !args->is_array() || args->size() != 2) return false;
    if (key != "&" && key != "|" && key != "^") return false;
    auto c = uint_of((*args)[1]);
    if (!c || *c > 0xffffffffu || !parse_mark_expr((*args)[0], out, depth + 1)) return false;
    out->ops.emplace_back(key[0], uint32_t(*c));
    return true;
  }

  static bool is_mark_key(const Json& k, bool* ct) {
    if (const Json* m = member(k, "meta")) {
      *ct = false;
      return string_of(member(*m, "key")) == "mark";
    }
    if (const Json* c = member(k, "ct")) {
      *ct = true;
      return string_of(member(*c, "key")) == "mark" && !member(*c, "dir");
    }
    return false;
  }

  void mangle(const Json& e, const Json& v) {
    const Json* k = member(v, "key");
    const Json* value = member(v, "value");
    bool ct = false;
    if (!k || !value || !is_mark_key(*k, &ct)) return;  // other fields: not the mark
    Step s;
    s.kind = ct ? Step::Kind::kSetCt : Step::Kind::kSetMark;
    if (!ct) rule_.sets_mark = true;
    if (parse_mark_expr(*value, &s.expr)) {
      rule_.steps.push_back(std::move(s));
      return;
    }
    if (!ct) {
      if (const Json* m = member(*value, "map")) {
        if (map_mark(*m)) return;
      }
    }
    s.unknown_value = true;
    rule_.steps.push_back(std::move(s));
    note(describe(e));
  }

  // Key and elements of a map; the data of each element goes to `data`.
  bool map_elements(const Json& m, const std::map<ObjKey, const Json*>& objs, PacketCond* key,
                    std::vector<const Json*>* data) {
    const Json* k = member(m, "key");
    const Json* d = member(m, "data");
    std::vector<uint8_t> implied;
    if (!k || !d || !parse_fields(*k, &key->fields, &implied)) return false;
    const Json* list = nullptr;
    if (d->is_string() && !d->get_ref<const std::string&>().empty() &&
        d->get_ref<const std::string&>()[0] == '@') {
      list = named(objs, d->get<std::string>());
    } else {
      list = member(*d, "set");
    }
    if (!list || !list->is_array()) return false;
    std::vector<Range> t;
    for (const Json& e : *list) {
      if (!e.is_array() || e.size() != 2 || !tuple(key->fields, e[0], &t)) return false;
      key->tuples.push_back(t);
      data->push_back(&e[1]);
    }
    implied_protos(implied);
    return true;
  }

  bool map_mark(const Json& m) {
    Step s;
    s.kind = Step::Kind::kMapMark;
    std::vector<const Json*> data;
    const size_t before = rule_.steps.size();
    if (!map_elements(m, prog_.maps, &s.cond, &data)) {
      rule_.steps.resize(before);
      return false;
    }
    for (const Json* d : data) {
      auto n = uint_of(*d);
      if (!n || *n > 0xffffffffu) {
        rule_.steps.resize(before);
        return false;
      }
      s.map_marks.push_back(uint32_t(*n));
    }
    rule_.steps.push_back(std::move(s));
    return true;
  }

  void vmap(const Json& e, const Json& v) {
    const Json* k = member(v, "key");
    if (k && is_ct_state(*k)) return ct_state_vmap(e, v);
    Step s;
    s.kind = Step::Kind::kVmap;
    std::vector<const Json*> data;
    const size_t before = rule_.steps.size();
    bool ok = map_elements(v, prog_.maps, &s.cond, &data);
    for (size_t i = 0; ok && i < data.size(); ++i) {
      auto verdict = verdict_of(*data[i]);
      ok = verdict.has_value();
      if (ok) s.map_verdicts.push_back(*verdict);
    }
    if (!ok) {
      rule_.steps.resize(before);
      return opaque(describe(e));
    }
    rule_.steps.push_back(std::move(s));
  }

  // ---- ct state: every first packet is "new"

  static bool is_ct_state(const Json& e) {
    const Json* c = member(e, "ct");
    return c && string_of(member(*c, "key")) == "state" && !member(*c, "dir");
  }

  // Whether the state list (a name, a list of names or a set) holds "new"; nullopt if a name is
  // not a state.
  static std::optional<bool> has_new(const Json& v) {
    static const std::set<std::string> kStates = {"new", "established", "related", "invalid",
                                                  "untracked"};
    const Json* list = &v;
    if (const Json* s = member(v, "set")) list = s;
    if (list->is_string()) {
      if (!kStates.count(list->get<std::string>())) return std::nullopt;
      return *list == "new";
    }
    if (!list->is_array()) return std::nullopt;
    bool found = false;
    for (const Json& x : *list) {
      if (!x.is_string() || !kStates.count(x.get<std::string>())) return std::nullopt;
      found = found || x == "new";
    }
    return found;
  }

  void ct_state_vmap(const Json& e, const Json& v) {
    const Json* d = member(v, "data");
    const Json* list = d ? member(*d, "set") : nullptr;
    if (d && d->is_string()) {
      const std::string ref = d->get<std::string>();
      if (!ref.empty() && ref[0] == '@') list = named(prog_.maps, ref);
    }
    if (!list || !list->is_array()) return opaque(describe(e));
    for (const Json& el : *list) {
      if (!el.is_array() || el.size() != 2) return opaque(describe(e));
      auto hit = has_new(el[0]);
      auto verdict = verdict_of(el[1]);
      if (!hit || !verdict) return opaque(describe(e));
      if (*hit) return add_verdict(*verdict);
    }
  }

  // ---- match

  void match(const Json& e, const Json& v) {
    const Json* left = member(v, "left");
    const Json* right = member(v, "right");
    const std::string op = string_of(member(v, "op"));
    if (!left || !right) return unknown(e);
    const bool eq = op == "==" || op == "in";
    const bool ne = op == "!=";
    const bool ordered = op == "<" || op == "<=" || op == ">" || op == ">=";
    if (!eq && !ne && !ordered) return unknown(e);

    if (is_ct_state(*left)) {
      auto hit = has_new(*right);
      if (!hit || ordered) return unknown(e);
      Step s;
      s.kind = Step::Kind::kConst;
      s.truth = *hit != ne;
      rule_.steps.push_back(std::move(s));
      return;
    }

    MarkExpr mx;
    if (parse_mark_expr(*left, &mx) && mx.src != MarkExpr::Src::kConst) {
      Step s;
      s.kind = Step::Kind::kMarkCond;
      s.expr = std::move(mx);
      s.negate = ne;
      if (!mark_values(*right, op, &s.mark_ranges)) return unknown(e);
      rule_.steps.push_back(std::move(s));
      return;
    }

    Step s;
    s.kind = Step::Kind::kCond;
    std::vector<uint8_t> implied;
    if (!parse_fields(*left, &s.cond.fields, &implied)) return unknown(e);
    std::vector<std::vector<Range>> elems;
    if (ordered) {
      Range r;
      if (s.cond.fields.size() != 1 || s.cond.fields[0] == Field::kIif ||
          !atom(s.cond.fields[0], *right, &r) || r.lo != r.hi) {
        return unknown(e);
      }
      const U128 x = r.lo, max = field_max(s.cond.fields[0]);
      if ((op == "<" && x == 0) || (op == ">" && x == max)) {
        // Matches nothing: no elements.
      } else if (op == "<") {
        elems.push_back({{0, x - 1}});
      } else if (op == "<=") {
        elems.push_back({{0, x}});
      } else if (op == ">") {
        elems.push_back({{x + 1, max}});
      } else {
        elems.push_back({{x, max}});
      }
    } else if (!elements(s.cond.fields, *right, &elems)) {
      return unknown(e);
    }
    s.cond.negate = ne;
    if (s.cond.fields.size() == 1) {
      for (auto& t : elems) s.cond.ranges.push_back(t[0]);
      normalize(s.cond.ranges);
    } else {
      s.cond.tuples = std::move(elems);
    }
    implied_protos(implied);
    rule_.steps.push_back(std::move(s));
  }

  static bool mark_values(const Json& right, const std::string& op, std::vector<Range>* out) {
    auto one = [](const Json& v, Range* r) {
      if (const Json* rg = member(v, "range")) {
        if (!rg->is_array() || rg->size() != 2) return false;
        auto lo = uint_of((*rg)[0]), hi = uint_of((*rg)[1]);
        if (!lo || !hi || *lo > *hi || *hi > 0xffffffffu) return false;
        *r = {*lo, *hi};
        return true;
      }
      auto n = uint_of(v);
      if (!n || *n > 0xffffffffu) return false;
      *r = {*n, *n};
      return true;
    };
    Range r;
    if (op == "<" || op == "<=" || op == ">" || op == ">=") {
      if (!one(right, &r) || r.lo != r.hi) return false;
      const U128 x = r.lo;
      if (op == "<") {
        if (x > 0) out->push_back({0, x - 1});
      } else if (op == "<=") {
        out->push_back({0, x});
      } else if (op == ">") {
        if (x < 0xffffffffu) out->push_back({x + 1, 0xffffffffu});
      } else {
        out->push_back({x, 0xffffffffu});
      }
      return true;
    }
    if (const Json* s = member(right, "set")) {
      if (!s->is_array()) return false;
      for (const Json& e : *s) {
        const Json* val = member(e, "elem") ? member(*member(e, "elem"), "val") : &e;
        if (!val || !one(*val, &r)) return false;
        out->push_back(r);
      }
      normalize(*out);
      return true;
    }
    if (!one(right, &r)) return false;
    out->push_back(r);
    return true;
  }

  Program& prog_;
  Rule& rule_;
};

// ---------------------------------------------------------------------------------------------
// Reading the ruleset.

void load(const Json& doc, Program& prog) {
  const Json* list = member(doc, "nftables");
  if (!list || !list->is_array()) {
    warn(prog.warnings, "nft JSON: no \"nftables\" array; nothing read");
    return;
  }
  // Sets, maps and chains first: rules refer to them.
  for (const Json& o : *list) {
    for (const char* kind : {"set", "map"}) {
      const Json* s = member(o, kind);
      if (!s) continue;
      ObjKey k{string_of(member(*s, "family")), string_of(member(*s, "table")),
               string_of(member(*s, "name"))};
      (std::string(kind) == "set" ? prog.sets : prog.maps)[k] = s;
    }
    if (const Json* c = member(o, "chain")) {
      Chain ch;
      ch.family = string_of(member(*c, "family"));
      ch.table = string_of(member(*c, "table"));
      ch.name = string_of(member(*c, "name"));
      ch.hook = string_of(member(*c, "hook"));
      ch.type = string_of(member(*c, "type"));
      ch.base = !ch.hook.empty();
      if (const Json* p = member(*c, "prio")) {
        if (p->is_number_integer()) ch.prio = p->get<int64_t>();
      }
      ch.policy_drop = string_of(member(*c, "policy")) == "drop";
      auto [it, added] = prog.chains.emplace(ObjKey{ch.family, ch.table, ch.name}, std::move(ch));
      if (added) {
        it->second.id = prog.listed.size();
        prog.listed.push_back(&it->second);
      }
    }
  }
  for (const Json& o : *list) {
    const Json* r = member(o, "rule");
    if (!r) continue;
    auto it = prog.chains.find({string_of(member(*r, "family")), string_of(member(*r, "table")),
                                string_of(member(*r, "chain"))});
    if (it == prog.chains.end()) continue;
    Rule rule;
    rule.chain = &it->second;
    const Json* h = member(*r, "handle");
    rule.handle = h && h->is_number_integer() ? std::to_string(h->get<int64_t>()) : "?";
    prog.rules.push_back(std::move(rule));
    const Json* exprs = member(*r, "expr");
    Rule& added = prog.rules.back();
    RuleParser(prog, added).parse(exprs ? *exprs : Json());
    for (const Step& st : added.steps) {
      const bool cond = st.kind == Step::Kind::kCond || st.kind == Step::Kind::kConst ||
                        st.kind == Step::Kind::kMarkCond || st.kind == Step::Kind::kUnknown;
      const bool cont = st.kind == Step::Kind::kVerdict &&
                        st.verdict.kind == Verdict::Kind::kContinue;
      added.effect = added.effect || (!cond && !cont);
    }
    it->second.rules.push_back(prog.rules.size() - 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

enum class Status : uint8_t { kRunning, kReturned, kAccepted, kDropped, kOpaque };

struct State {
  Status status = Status::kRunning;
  bool mark_known = true, ct_known = true;
  uint32_t mark = 0, ct = 0;
  long blame = -1;  // the rule that made the outcome depend on something lvsd cannot see

  auto key() const { return std::tie(status, mark_known, mark, ct_known, ct); }
};

void dedupe(std::vector<State>& states) {
  std::vector<State> out;
  for (const State& s : states) {
    State k = s;
    if (!k.mark_known) k.mark = 0;
    if (!k.ct_known) k.ct = 0;
    bool seen = false;
    for (const State& o : out) seen = seen || o.key() == k.key();
    if (!seen) out.push_back(k);
  }
  states = std::move(out);
}

std::optional<uint32_t> eval_mark(const MarkExpr& e, const State& s) {
  uint32_t v = e.value;
  if (e.src == MarkExpr::Src::kMeta) {
    if (!s.mark_known) return std::nullopt;
    v = s.mark;
  } else if (e.src == MarkExpr::Src::kCt) {
    if (!s.ct_known) return std::nullopt;
    v = s.ct;
  }
  for (auto [op, c] : e.ops) {
    v = op == '&' ? v & c : op == '|' ? v | c : v ^ c;
  }
  return v;
}

struct Outcome {
  enum class Kind : uint8_t { kMark, kNone, kUncertain } kind = Kind::kNone;
  uint32_t mark = 0;
  long blame = -1;  // -2: the evaluation was cut short

  bool same(const Outcome& o) const {
    return kind == o.kind && (kind != Kind::kMark || mark == o.mark);
  }
};

class Evaluator {
 public:
  explicit Evaluator(const Program& prog) : prog_(prog) {
    for (const Chain* c : prog.listed) {
      if (!c->base || c->hook != "prerouting") continue;
      if (c->family == "ip" || c->family == "inet") base4_.push_back(c);
      if (c->family == "ip6" || c->family == "inet") base6_.push_back(c);
    }
    // Priority order; equal priorities keep the listing order (registration order).
    auto by_prio = [](const Chain* a, const Chain* b) { return a->prio < b->prio; };
    std::stable_sort(base4_.begin(), base4_.end(), by_prio);
    std::stable_sort(base6_.begin(), base6_.end(), by_prio);
  }

  bool exhausted() const { return work_ > kMaxWork; }
  // Per chain (by id), the rules that can matter for the endpoint being evaluated; the others
  // are skipped.
  void only(const std::vector<std::vector<size_t>>* relevant) { relevant_ = relevant; }
  const std::vector<const Chain*>& bases(bool v6) const { return v6 ? base6_ : base4_; }

  Outcome run(const Point& p) {
    std::vector<State> states{State{}};
    for (const Chain* c : bases(p.v6)) {
      std::vector<State> running, done;
      for (State& s : states) (s.status == Status::kRunning ? running : done).push_back(s);
      if (running.empty()) break;
      run_chain(*c, p, running, 0);
      for (State& s : running) {
        if (s.status == Status::kAccepted) {
          s.status = Status::kRunning;  // accept ends this base chain only
        } else if (s.status == Status::kRunning && c->policy_drop) {
          s.status = Status::kDropped;
        }
        done.push_back(s);
      }
      states = std::move(done);
      dedupe(states);
    }
    return outcome(states);
  }

 private:
  // One mark for every way the packet can go, or uncertain. A dropped packet counts as unmarked:
  // no service sees it either way.
  static Outcome outcome(const std::vector<State>& states) {
    Outcome o;
    std::set<uint32_t> marks;
    bool unknown = false;
    for (const State& s : states) {
      if (s.blame != -1 && o.blame == -1) o.blame = s.blame;
      if (s.status == Status::kDropped) {
        marks.insert(0);
      } else if (s.status == Status::kOpaque || !s.mark_known) {
        unknown = true;
      } else {
        marks.insert(s.mark);
      }
    }
    if (unknown || marks.size() > 1) {
      o.kind = Outcome::Kind::kUncertain;
    } else if (marks.size() == 1 && *marks.begin() != 0) {
      o.kind = Outcome::Kind::kMark;
      o.mark = *marks.begin();
    }
    return o;
  }

  // Runs `states` (all running) through a chain. On return, running states fell off its end or
  // returned from it; the others ended evaluation (accepted, dropped, opaque).
  void run_chain(const Chain& c, const Point& p, std::vector<State>& states, int depth) {
    std::vector<State> active = std::move(states), done;
    for (size_t ri : relevant_ ? (*relevant_)[c.id] : c.rules) {
      if (active.empty() || exhausted()) break;
      run_rule(ri, p, active, depth);
      std::vector<State> next;
      for (State& s : active) (s.status == Status::kRunning ? next : done).push_back(s);
      active = std::move(next);
    }
    if (exhausted()) {
      for (State& s : active) {
        s.status = Status::kOpaque;
        s.blame = -2;
      }
    }
    for (State& s : done) {
      if (s.status == Status::kReturned) s.status = Status::kRunning;
    }
    states = std::move(active);
    states.insert(states.end(), done.begin(), done.end());
    dedupe(states);
  }

  void fork(std::vector<State>& in, std::vector<State>& out_skipped, long rule) {
    for (State& s : in) {
      if (s.blame == -1) s.blame = rule;
      out_skipped.push_back(s);
    }
  }

  void apply_verdict(const Verdict& v, const Point& p, std::vector<State>& states, long rule,
                     int depth) {
    using K = Verdict::Kind;
    switch (v.kind) {
      case K::kNone:
      case K::kContinue:
        return;
      case K::kAccept:
        for (State& s : states) s.status = Status::kAccepted;
        return;
      case K::kDrop:
        for (State& s : states) s.status = Status::kDropped;
        return;
      case K::kReturn:
        for (State& s : states) s.status = Status::kReturned;
        return;
      case K::kJump:
      case K::kGoto: {
        const Chain* owner = prog_.rules[size_t(rule)].chain;
        const Chain* target = prog_.chain(owner->family, owner->table, v.target);
        if (!target || target->base || depth >= kMaxJumpDepth) {
          for (State& s : states) {
            s.status = Status::kOpaque;
            if (s.blame == -1) s.blame = rule;
          }
          return;
        }
        run_chain(*target, p, states, depth + 1);
        if (v.kind == K::kGoto) {
          // Whatever comes back from a goto leaves the calling chain as well.
          for (State& s : states) {
            if (s.status == Status::kRunning) s.status = Status::kReturned;
          }
        }
        return;
      }
    }
  }

  // Whether a step after `i` can change the packet's mark or where evaluation goes.
  static bool effect_after(const Rule& rule, size_t i) {
    for (size_t j = i + 1; j < rule.steps.size(); ++j) {
      const Step& s = rule.steps[j];
      if (s.kind == Step::Kind::kVerdict && s.verdict.kind == Verdict::Kind::kContinue) continue;
      if (s.kind != Step::Kind::kCond && s.kind != Step::Kind::kConst &&
          s.kind != Step::Kind::kMarkCond && s.kind != Step::Kind::kUnknown) {
        return true;
      }
    }
    return false;
  }

  // Runs one rule over `states` in place: states that leave the rule early stay running.
  void run_rule(size_t ri, const Point& p, std::vector<State>& states, int depth) {
    const Rule& rule = prog_.rules[ri];
    const long rid = long(ri);
    std::vector<State> in = std::move(states), out;  // in: still inside the rule
    for (const Step& st : rule.steps) {
      if (in.empty()) break;
      work_ += in.size();
      switch (st.kind) {
        case Step::Kind::kCond:
          if (!st.cond.eval(p, &work_)) {
            out.insert(out.end(), in.begin(), in.end());
            in.clear();
          }
          break;
        case Step::Kind::kConst:
          if (!st.truth) {
            out.insert(out.end(), in.begin(), in.end());
            in.clear();
          }
          break;
        case Step::Kind::kUnknown: {
          if (!effect_after(rule, size_t(&st - rule.steps.data()))) break;
          std::vector<State> skipped;
          fork(in, skipped, rid);
          out.insert(out.end(), skipped.begin(), skipped.end());
          break;
        }
        case Step::Kind::kMarkCond: {
          std::vector<State> keep;
          for (State& s : in) {
            auto v = eval_mark(st.expr, s);
            if (!v) {
              if (s.blame == -1) s.blame = rid;
              keep.push_back(s);
              out.push_back(s);
              continue;
            }
            bool hit = false;
            for (const Range& r : st.mark_ranges) hit = hit || (*v >= r.lo && *v <= r.hi);
            (hit != st.negate ? keep : out).push_back(s);
          }
          in = std::move(keep);
          break;
        }
        case Step::Kind::kSetMark:
        case Step::Kind::kSetCt:
          for (State& s : in) {
            auto v = st.unknown_value ? std::nullopt : eval_mark(st.expr, s);
            bool& known = st.kind == Step::Kind::kSetMark ? s.mark_known : s.ct_known;
            uint32_t& slot = st.kind == Step::Kind::kSetMark ? s.mark : s.ct;
            known = v.has_value();
            slot = v.value_or(0);
            if (!v && s.blame == -1) s.blame = rid;
          }
          break;
        case Step::Kind::kMapMark: {
          const long i = st.cond.find(p, &work_);
          if (i < 0) {  // a lookup that misses ends the rule
            out.insert(out.end(), in.begin(), in.end());
            in.clear();
          } else {
            for (State& s : in) {
              s.mark_known = true;
              s.mark = st.map_marks[size_t(i)];
            }
          }
          break;
        }
        case Step::Kind::kVmap: {
          const long i = st.cond.find(p, &work_);
          if (i < 0) {
            out.insert(out.end(), in.begin(), in.end());
            in.clear();
          } else {
            apply_verdict(st.map_verdicts[size_t(i)], p, in, rid, depth);
          }
          break;
        }
        case Step::Kind::kVerdict:
          apply_verdict(st.verdict, p, in, rid, depth);
          break;
        case Step::Kind::kOpaque:
          for (State& s : in) {
            s.status = Status::kOpaque;
            if (s.blame == -1) s.blame = rid;
          }
          break;
      }
      // A verdict ends the rule for the states it touched.
      std::vector<State> still;
      for (State& s : in) (s.status == Status::kRunning ? still : out).push_back(s);
      in = std::move(still);
    }
    out.insert(out.end(), in.begin(), in.end());
    dedupe(out);
    states = std::move(out);
  }

  const Program& prog_;
  std::vector<const Chain*> base4_, base6_;
  const std::vector<std::vector<size_t>>* relevant_ = nullptr;
  uint64_t work_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Which endpoints rules propose.

// Port sets as sorted, disjoint, inclusive intervals.
using Ports = std::vector<std::pair<uint32_t, uint32_t>>;

const Ports kAllPorts = {{0, 0xffff}};

Ports intersect(const Ports& a, const Ports& b) {
  Ports out;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const uint32_t lo = std::max(a[i].first, b[j].first);
    const uint32_t hi = std::min(a[i].second, b[j].second);
    if (lo <= hi) out.emplace_back(lo, hi);
    (a[i].second < b[j].second ? i : j)++;
  }
  return out;
}

Ports complement(const Ports& a) {
  Ports out;
  uint32_t next = 0;
  for (auto [lo, hi] : a) {
    if (lo > next) out.emplace_back(next, lo - 1);
    next = hi + 1;
  }
  if (next <= 0xffff) out.emplace_back(next, 0xffff);
  return out;
}

Ports unite(Ports a, const Ports& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  Ports out;
  for (auto r : a) {
    if (!out.empty() && r.first <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, r.second);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

size_t count(const Ports& ps) {
  size_t n = 0;
  for (auto [lo, hi] : ps) n += hi - lo + 1;
  return n;
}

// The ports at which `c` can hold for packets to <addr, proto>. Interface components count as
// matching (a superset is fine: the evaluation decides).
Ports ports_where(const PacketCond& c, const Point& at) {
  bool has_iif = false;
  for (Field f : c.fields) has_iif = has_iif || f == Field::kIif;
  auto tuple_ports = [&](const std::vector<Range>& t, Ports* out) {
    std::optional<std::pair<uint32_t, uint32_t>> port;
    for (size_t i = 0; i < c.fields.size(); ++i) {
      const Field f = c.fields[i];
      if (f == Field::kIif) continue;
      if (f == Field::kDport) {
        port.emplace(uint32_t(t[i].lo), uint32_t(t[i].hi));
        continue;
      }
      auto v = field_value(f, at);
      if (!v || *v < t[i].lo || *v > t[i].hi) return;
    }
    out->push_back(port.value_or(std::make_pair(0u, 0xffffu)));
  };
  for (Field f : c.fields) {
    if (f != Field::kIif && f != Field::kDport && !field_value(f, at)) return {};
  }
  Ports hits;
  if (c.single()) {
    for (const Range& r : c.ranges) tuple_ports({r}, &hits);
  } else {
    for (const auto& t : c.tuples) tuple_ports(t, &hits);
  }
  hits = unite(std::move(hits), {});
  if (!c.negate) return hits;
  if (has_iif) return kAllPorts;
  return complement(hits);
}

struct EndpointKey {
  bool v6 = false;
  U128 addr = 0;
  uint8_t proto = 0;
  auto tie() const { return std::tie(v6, addr, proto); }
  bool operator<(const EndpointKey& o) const { return tie() < o.tie(); }
};

using Coverage = std::map<EndpointKey, Ports>;

net::IpAddr to_addr(bool v6, U128 x) {
  uint8_t b[16];
  const int n = v6 ? 16 : 4;
  for (int i = n - 1; i >= 0; --i) {
    b[i] = uint8_t(x);
    x >>= 8;
  }
  return v6 ? net::IpAddr::v6(b) : net::IpAddr::v4(b);
}

// The conditions a packet met to enter a chain: empty for a base chain; for a chain reached by
// jump, goto or a verdict map, those of the rule that went there (and of its own way in).
using Context = std::vector<const PacketCond*>;

struct Contexts {
  std::map<const Chain*, std::vector<Context>> of;
  std::deque<PacketCond> owned;  // one element of a verdict map, as a condition
  size_t total = 0;
  bool capped = false;
};

constexpr size_t kMaxContexts = 1 << 16;

void visit(const Program& prog, const Chain* c, const Context& in, int depth, Contexts& cx) {
  if (cx.total >= kMaxContexts) {
    cx.capped = true;
    return;
  }
  cx.of[c].push_back(in);
  ++cx.total;
  if (depth >= kMaxJumpDepth) return;
  for (size_t ri : c->rules) {
    Context ctx = in;
    for (const Step& st : prog.rules[ri].steps) {
      if (st.kind == Step::Kind::kCond) ctx.push_back(&st.cond);
      if (st.kind == Step::Kind::kConst && !st.truth) break;  // never taken by a first packet
      auto go = [&](const Verdict& v, const Context& with) {
        if (v.kind != Verdict::Kind::kJump && v.kind != Verdict::Kind::kGoto) return;
        const Chain* t = prog.chain(c->family, c->table, v.target);
        if (t && !t->base) visit(prog, t, with, depth + 1, cx);
      };
      if (st.kind == Step::Kind::kVerdict) go(st.verdict, ctx);
      if (st.kind == Step::Kind::kVmap) {
        for (size_t i = 0; i < st.map_verdicts.size(); ++i) {
          PacketCond& el = cx.owned.emplace_back();
          el.fields = st.cond.fields;
          el.tuples = {st.cond.tuples[i]};
          Context with = ctx;
          with.push_back(&el);
          go(st.map_verdicts[i], with);
        }
      }
    }
  }
}

enum class Refusal : uint8_t { kNone, kNoAddress, kNetwork, kTooMany };

// The endpoints a mark-setting step proposes for packets that met `conds`.
Refusal propose_with(const Context& conds, Coverage& mine) {
  // The first address match names the candidates.
  const PacketCond* gen = nullptr;
  size_t field = 0;
  for (const PacketCond* c : conds) {
    if (c->negate) continue;
    for (size_t i = 0; i < c->fields.size() && !gen; ++i) {
      if (c->fields[i] == Field::kDaddr4 || c->fields[i] == Field::kDaddr6) {
        gen = c;
        field = i;
      }
    }
    if (gen) break;
  }
  if (!gen) return Refusal::kNoAddress;
  const bool v6 = gen->fields[field] == Field::kDaddr6;
  std::set<U128> addrs;
  auto add = [&](const Range& r) {
    if (r.lo != r.hi) return false;
    addrs.insert(r.lo);
    return true;
  };
  bool hosts = true;
  if (gen->single()) {
    for (const Range& r : gen->ranges) hosts = hosts && add(r);
  } else {
    for (const auto& t : gen->tuples) hosts = hosts && add(t[field]);
  }
  if (!hosts) return Refusal::kNetwork;
  size_t entries = 0;
  for (U128 a : addrs) {
    for (uint8_t proto : kBalanced) {
      Point at;
      at.v6 = v6;
      at.addr = a;
      at.proto = proto;
      Ports ports = kAllPorts;
      for (const PacketCond* c : conds) {
        ports = intersect(ports, ports_where(*c, at));
        if (ports.empty()) break;
      }
      if (ports.empty()) continue;
      entries += ports == kAllPorts ? 1 : count(ports);
      if (entries > kMaxRuleEntries) return Refusal::kTooMany;
      Ports& mine_ports = mine[{v6, a, proto}];
      mine_ports = unite(std::move(mine_ports), ports);
    }
  }
  return Refusal::kNone;
}

// Proposes the endpoints of one mark-setting rule; a warning when it cannot.
void propose(const Rule& rule, const std::vector<Context>& contexts, Coverage& cov,
             std::vector<std::string>& warnings) {
  const std::string tail = "; its packets will not reach fwmark services";
  if (!rule.unsupported.empty()) {
    std::string msg = rule.origin() + ": '" + rule.unsupported + "' is not supported" + tail;
    if (rule.unsupported.rfind("xt ", 0) == 0) {
      msg += " (an iptables-nft extension: nft's JSON does not show what it does; write the "
             "rule with nft)";
    }
    warn(warnings, std::move(msg));
    return;
  }
  // The conditions before the first mark assignment decide which packets get the mark.
  Context conds;
  const Step* set = nullptr;
  for (const Step& st : rule.steps) {
    if (st.kind == Step::Kind::kCond) conds.push_back(&st.cond);
    if (st.kind == Step::Kind::kConst && !st.truth) return;  // never for a first packet
    if (st.kind == Step::Kind::kSetMark || st.kind == Step::Kind::kMapMark) {
      set = &st;
      break;
    }
  }
  if (!set) return;
  if (set->kind == Step::Kind::kSetMark && set->expr.src != MarkExpr::Src::kConst) {
    if (set->expr.src == MarkExpr::Src::kCt && set->expr.ops.empty()) return;  // a restore
    warn(warnings, rule.origin() + ": the mark it sets is computed from the packet's marks" +
                       tail + " (only a constant mark is compiled)");
    return;
  }
  if (set->kind == Step::Kind::kMapMark) conds.push_back(&set->cond);

  Coverage mine;
  Refusal why = Refusal::kNone;
  bool any = false;
  for (const Context& ctx : contexts) {
    Context all = ctx;
    all.insert(all.end(), conds.begin(), conds.end());
    Coverage got;
    const Refusal r = propose_with(all, got);
    if (r != Refusal::kNone) {
      if (why == Refusal::kNone) why = r;
      continue;
    }
    any = true;
    for (auto& [k, ports] : got) mine[k] = unite(mine[k], ports);
  }
  if (!any) {
    switch (why) {
      case Refusal::kNone:
        break;
      case Refusal::kNoAddress:
        warn(warnings, rule.origin() +
                           ": it sets a mark without matching a destination address (ip daddr "
                           "or ip6 daddr)" + tail);
        break;
      case Refusal::kNetwork:
        warn(warnings, rule.origin() +
                           ": its destination is a network or a range, not single addresses" +
                           tail + " (list the addresses)");
        break;
      case Refusal::kTooMany:
        warn(warnings, rule.origin() + ": it expands to more than " +
                           std::to_string(kMaxRuleEntries) + " endpoints" + tail);
        break;
    }
    return;
  }
  for (auto& [k, ports] : mine) cov[k] = unite(cov[k], ports);
}

// ---------------------------------------------------------------------------------------------
// From outcomes to entries.

const char* proto_name(uint8_t p) { return p == kTcp ? "tcp" : p == kUdp ? "udp" : "sctp"; }

std::string ports_text(const Ports& ps) {
  std::string s;
  size_t shown = 0;
  for (auto [lo, hi] : ps) {
    if (shown++ == 8) {
      s += ",...";
      break;
    }
    if (!s.empty()) s += ",";
    s += std::to_string(lo);
    if (hi != lo) s += "-" + std::to_string(hi);
  }
  return s;
}

struct Region {
  uint32_t lo, hi;
  bool covered;  // inside the ports a rule proposed
  Outcome out;

  // Port 0 is the classifier's wildcard, never a port of its own.
  size_t size() const { return hi == 0 ? 0 : hi - std::max(lo, 1u) + 1; }
};

class Emitter {
 public:
  Emitter(const Program& prog, MarkRules& result) : prog_(prog), result_(result) {}

  // The entries of one interface class: the covered ports one by one, or a port-0 entry plus the
  // ports whose outcome differs from it (including unmarked ones, as mark 0), whichever is
  // shorter. False when the cap was hit.
  bool entries(const EndpointKey& k, const std::vector<Region>& rs, const std::string& iif) {
    size_t listed = 0;
    std::map<uint32_t, size_t> weight;
    std::set<uint32_t> proposed;
    for (const Region& r : rs) {
      if (r.out.kind != Outcome::Kind::kMark) continue;
      weight[r.out.mark] += r.size();
      if (r.covered) {
        listed += r.size();
        proposed.insert(r.out.mark);
      }
    }
    std::optional<uint32_t> wildcard;
    size_t best = 0;
    for (uint32_t m : proposed) {
      if (weight[m] > best) {
        best = weight[m];
        wildcard = m;
      }
    }
    size_t exceptions = 1;
    for (const Region& r : rs) {
      if (!(r.out.kind == Outcome::Kind::kMark && r.out.mark == wildcard)) exceptions += r.size();
    }
    if (wildcard && exceptions < listed) {
      if (!add(k, 0, *wildcard, iif)) return false;
      for (const Region& r : rs) {
        const bool marked = r.out.kind == Outcome::Kind::kMark;
        if (marked && r.out.mark == wildcard) continue;
        for (uint32_t port = std::max(r.lo, 1u); port <= r.hi; ++port) {
          if (!add(k, uint16_t(port), marked ? r.out.mark : 0, iif)) return false;
        }
      }
      return true;
    }
    for (const Region& r : rs) {
      if (!r.covered || r.out.kind != Outcome::Kind::kMark) continue;
      for (uint32_t port = std::max(r.lo, 1u); port <= r.hi; ++port) {
        if (!add(k, uint16_t(port), r.out.mark, iif)) return false;
      }
    }
    return true;
  }

  bool add(const EndpointKey& k, uint16_t port, uint32_t mark, const std::string& iif) {
    if (result_.entries.size() >= kMaxEntries) {
      if (!capped_) {
        warn(result_.warnings, "more than " + std::to_string(kMaxEntries) +
                                   " fwmark entries; the rest are left out");
      }
      capped_ = true;
      return false;
    }
    result_.entries.push_back({to_addr(k.v6, k.addr), k.proto, port, mark, iif});
    return true;
  }

  // A warning for each covered port range whose mark lvsd cannot tell, by the rule to blame.
  void uncertain(const EndpointKey& k, const std::vector<Region>& rs, const std::string& iif) {
    std::map<long, Ports> by_blame;
    for (const Region& r : rs) {
      if (r.covered && r.out.kind == Outcome::Kind::kUncertain) {
        by_blame[r.out.blame].emplace_back(r.lo, r.hi);
      }
    }
    for (auto& [blame, ps] : by_blame) {
      ps = unite(std::move(ps), {});
      std::string what = to_addr(k.v6, k.addr).to_string() + " " + proto_name(k.proto) +
                         (ps == kAllPorts ? std::string(" (every port)") : " port " + ports_text(ps));
      if (!iif.empty()) what += " arriving on " + iif;
      std::string why;
      if (blame == -2) {
        why = "the ruleset is too large to follow to the end";
      } else if (blame >= 0) {
        const Rule& r = prog_.rules[size_t(blame)];
        why = "its mark depends on " + r.origin();
        if (!r.unsupported.empty()) why += " ('" + r.unsupported + "')";
      } else {
        why = "its packets may or may not be marked";
      }
      warn(result_.warnings, what + ": " + why + "; it is not served as a fwmark endpoint");
    }
  }

 private:
  const Program& prog_;
  MarkRules& result_;
  bool capped_ = false;
};

// What can matter for one endpoint: the rules whose leading conditions can hold for it, the
// ports where their port sets begin or end, and the interfaces they name.
struct Scope {
  std::vector<std::vector<size_t>> relevant;  // per chain id, in chain order
  std::vector<uint32_t> cuts;
  std::vector<uint32_t> iifs{0};  // 0: an interface no rule names
};

Scope scope_of(const Program& prog, const EndpointKey& k) {
  Scope sc;
  sc.relevant.resize(prog.listed.size());
  Point p;
  p.v6 = k.v6;
  p.addr = k.addr;
  p.proto = k.proto;
  std::set<uint32_t> cuts, iifs;
  auto note = [&](const PacketCond& c) {
    auto add = [&](Field f, const Range& r) {
      if (f == Field::kDport) {
        cuts.insert(uint32_t(r.lo));
        if (r.hi < 0xffff) cuts.insert(uint32_t(r.hi) + 1);
      } else if (f == Field::kIif) {
        iifs.insert(uint32_t(r.lo));
      }
    };
    if (c.single()) {
      for (const Range& r : c.ranges) add(c.fields[0], r);
      return;
    }
    for (const auto& t : c.tuples) {
      if (!c.partial(t, p)) continue;
      for (size_t i = 0; i < c.fields.size(); ++i) add(c.fields[i], t[i]);
    }
  };
  for (size_t ri = 0; ri < prog.rules.size(); ++ri) {
    const Rule& r = prog.rules[ri];
    if (!r.effect) continue;
    bool can = true;
    for (const Step& st : r.steps) {
      if (st.kind == Step::Kind::kCond) {
        can = st.cond.may_hold(p);
      } else if (st.kind == Step::Kind::kConst) {
        can = st.truth;
      } else if (st.kind != Step::Kind::kMarkCond && st.kind != Step::Kind::kUnknown) {
        break;  // past the leading conditions
      }
      if (!can) break;
    }
    if (!can) continue;
    sc.relevant[r.chain->id].push_back(ri);
    for (const Step& st : r.steps) {
      if (st.kind == Step::Kind::kCond || st.kind == Step::Kind::kMapMark ||
          st.kind == Step::Kind::kVmap) {
        note(st.cond);
      }
    }
  }
  sc.cuts.assign(cuts.begin(), cuts.end());
  for (uint32_t id : iifs) {
    if (id != 0) sc.iifs.push_back(id);
  }
  return sc;
}

}  // namespace

MarkRules compile_nft_json(std::string_view text) {
  MarkRules result;
  const Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    result.warnings.push_back("nft JSON: not valid JSON; nothing read");
    return result;
  }
  Program prog;
  load(doc, prog);
  result.warnings = std::move(prog.warnings);
  Evaluator ev(prog);
  Contexts cx;
  for (bool v6 : {false, true}) {
    for (const Chain* c : ev.bases(v6)) {
      if (!cx.of.count(c)) visit(prog, c, {}, 0, cx);
    }
  }
  if (cx.capped) {
    warn(result.warnings, "more than " + std::to_string(kMaxContexts) +
                              " ways into chains; endpoints of the chains reached last may be "
                              "missing");
  }

  Coverage cov;
  for (const Rule& r : prog.rules) {
    if (!r.sets_mark) continue;
    auto live = cx.of.find(r.chain);
    if (live != cx.of.end()) {
      propose(r, live->second, cov, result.warnings);
    } else if (r.chain->base && (r.chain->hook == "input" || r.chain->hook == "ingress") &&
               r.chain->family != "arp" && r.chain->family != "bridge") {
      warn(result.warnings, r.origin() + ": marks set at the " + r.chain->hook +
                                " hook are not read (lvsd reads prerouting chains)");
    }
  }

  Emitter emit(prog, result);
  for (const auto& kv : cov) {
    const EndpointKey& k = kv.first;
    const Ports& ports = kv.second;  // a plain reference: clang 14 cannot capture bindings
    if (ev.exhausted()) break;
    // Regions: every port, split wherever a rule's port set or the proposed ports begin or end;
    // all ports of a region fare alike.
    const Scope sc = scope_of(prog, k);
    ev.only(&sc.relevant);
    std::vector<uint32_t> edges = sc.cuts;
    for (auto [lo, hi] : ports) {
      edges.push_back(lo);
      if (hi < 0xffff) edges.push_back(hi + 1);
    }
    std::sort(edges.begin(), edges.end());
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
    std::vector<Region> regions;
    uint32_t start = 0;
    auto close = [&](uint32_t end) {
      const bool covered = !intersect(ports, {{start, start}}).empty();
      regions.push_back({start, end, covered, {}});
    };
    for (uint32_t e : edges) {
      if (e == 0) continue;
      close(e - 1);
      start = e;
    }
    close(0xffff);

    std::vector<Region> base;
    bool capped = false;
    for (uint32_t cls : sc.iifs) {
      if (capped) break;
      std::vector<Region> rs = regions;
      for (Region& r : rs) {
        Point p;
        p.v6 = k.v6;
        p.addr = k.addr;
        p.proto = k.proto;
        p.port = uint16_t(r.lo);
        p.iif = cls;
        r.out = ev.run(p);
      }
      const std::string& iif = prog.iif_names[cls];
      if (cls == 0) {
        base = rs;
        emit.uncertain(k, rs, iif);
        capped = !emit.entries(k, rs, iif);
        continue;
      }
      bool same = true;
      for (size_t i = 0; i < rs.size() && same; ++i) same = rs[i].out.same(base[i].out);
      if (same) continue;
      emit.uncertain(k, rs, iif);
      const size_t before = result.entries.size();
      capped = !emit.entries(k, rs, iif) ||
               (result.entries.size() == before && !emit.add(k, 0, 0, iif));
    }
    if (capped) break;
  }
  if (ev.exhausted()) {
    warn(result.warnings, "the ruleset is too large to analyse completely; some fwmark "
                          "endpoints are left out");
  }
  std::sort(result.entries.begin(), result.entries.end(), [](const MarkEntry& a, const MarkEntry& b) {
    return std::tie(a.addr.family, a.addr.bytes, a.proto, a.iif, a.port, a.mark) <
           std::tie(b.addr.family, b.addr.bytes, b.proto, b.iif, b.port, b.mark);
  });
  result.entries.erase(std::unique(result.entries.begin(), result.entries.end()),
                       result.entries.end());
  return result;
}

}  // namespace lvs::io
