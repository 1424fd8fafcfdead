// nft's JSON into the fwmark compiler's program (nft_marks_program.h): every expression either
// becomes a step lvsd can decide, or a step that says it cannot, with its nft text for warnings.
#include <algorithm>
#include <charconv>
#include <iterator>
#include <string_view>

#include "io/nft_marks_program.h"
#include "net/addr.h"

namespace lvs::io::nft {
namespace {

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

template <size_t N>
bool one_of(const std::string_view (&names)[N], std::string_view s) {
  return std::find(std::begin(names), std::end(names), s) != std::end(names);
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

}  // namespace

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

void warn(std::vector<std::string>& w, std::string msg) {
  if (w.size() < kMaxWarnings) {
    w.push_back(std::move(msg));
  } else if (w.size() == kMaxWarnings) {
    w.push_back("more warnings left out");
  }
}

namespace {

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
    static constexpr std::string_view kHarmless[] = {
        "counter", "log",       "notrack",    "last",           "set",    "map", "dup",
        "flow",    "ct helper", "ct timeout", "ct expectation", "secmark"};
    if (one_of(kHarmless, key)) return;
    // Statements that pass some packets and not others.
    static constexpr std::string_view kConditions[] = {"limit", "quota", "meter", "connlimit",
                                                       "ct count"};
    if (one_of(kConditions, key)) return unknown(e);
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
      if (proto == "ip" && field == "daddr")
        *f = Field::kDaddr4;
      else if (proto == "ip6" && field == "daddr")
        *f = Field::kDaddr6;
      else if (proto == "ip" && field == "protocol")
        *f = Field::kIpProto;
      else if (proto == "ip6" && field == "nexthdr")
        *f = Field::kNexthdr;
      else if (field == "dport" && (proto == "tcp" || proto == "udp" || proto == "sctp")) {
        *f = Field::kDport;
        *implied = proto == "tcp" ? kTcp : proto == "udp" ? kUdp : kSctp;
      } else if (proto == "th" && field == "dport")
        *f = Field::kDport;
      else
        return false;
      return true;
    }
    if (const Json* m = member(e, "meta")) {
      const std::string key = string_of(member(*m, "key"));
      if (key == "l4proto")
        *f = Field::kL4proto;
      else if (key == "nfproto")
        *f = Field::kNfproto;
      else if (key == "iif" || key == "iifname")
        *f = Field::kIif;
      else
        return false;
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
    static constexpr std::pair<std::string_view, uint8_t> kNames[] = {
        {"tcp", kTcp},  {"udp", kUdp}, {"sctp", kSctp},  {"icmp", 1},  {"igmp", 2},
        {"ipencap", 4}, {"gre", 47},   {"esp", 50},      {"ah", 51},   {"ipv6-icmp", 58},
        {"icmpv6", 58}, {"dccp", 33},  {"udplite", 136}, {"comp", 108}};
    for (const auto& [name, number] : kNames) {
      if (name == v.get_ref<const std::string&>()) return U128(number);
    }
    return kUnknownProto;
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
      const U128 host =
          *len == bits ? 0 : (bits == 128 && *len == 0 ? ~U128(0) : (U128(1) << (bits - *len)) - 1);
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
    return elems && elems->is_array() ? elems : &empty_;  // a set with no elements
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
    static constexpr std::string_view kStates[] = {"new", "established", "related", "invalid",
                                                   "untracked"};
    const Json* list = &v;
    if (const Json* s = member(v, "set")) list = s;
    if (list->is_string()) {
      if (!one_of(kStates, list->get_ref<const std::string&>())) return std::nullopt;
      return *list == "new";
    }
    if (!list->is_array()) return std::nullopt;
    bool found = false;
    for (const Json& x : *list) {
      if (!x.is_string() || !one_of(kStates, x.get_ref<const std::string&>())) return std::nullopt;
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
  const Json empty_ = Json::array();
};

}  // namespace

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
      const bool cont =
          st.kind == Step::Kind::kVerdict && st.verdict.kind == Verdict::Kind::kContinue;
      added.effect = added.effect || (!cond && !cont);
    }
    it->second.rules.push_back(prog.rules.size() - 1);
  }
}

}  // namespace lvs::io::nft
