// Compiles `nft -j list ruleset` into fwmark endpoints (nft_marks.h has the model). With
// nft_marks_parse.cc and nft_marks_eval.cc it needs only nlohmann-json and lvs_net, so the fuzz
// target builds it without the rest of the I/O layer.
//
// How: rules that set a constant mark after conditions pinning destination addresses (their own,
// or those of the rule that jumped to their chain) propose endpoints <family, address, proto,
// ports>. Each proposed endpoint is then run through the prerouting base chains (Evaluator), only
// with the rules that can match it, once per port interval (ports are split where those rules'
// port sets begin or end, so a range of 60000 ports costs a handful of evaluations) and once per
// interface those rules name. An endpoint is emitted only when every way its packets can go
// agrees on one mark.
#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <tuple>

#include "io/nft_marks.h"
#include "io/nft_marks_program.h"

namespace lvs::io {
namespace nft {
namespace {

// ---------------------------------------------------------------------------------------------
// Which endpoints rules propose.

// Port sets as sorted, disjoint, inclusive intervals.
using Ports = std::vector<std::pair<uint32_t, uint32_t>>;

Ports all_ports() { return {{0, 0xffff}}; }

bool is_all(const Ports& ps) {
  return ps.size() == 1 && ps[0].first == 0 && ps[0].second == 0xffff;
}

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
  if (has_iif) return all_ports();
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
      Ports ports = all_ports();
      for (const PacketCond* c : conds) {
        ports = intersect(ports, ports_where(*c, at));
        if (ports.empty()) break;
      }
      if (ports.empty()) continue;
      entries += is_all(ports) ? 1 : count(ports);
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
      msg +=
          " (an iptables-nft extension: nft's JSON does not show what it does; write the "
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
    warn(warnings, rule.origin() + ": the mark it sets is computed from the packet's marks" + tail +
                       " (only a constant mark is compiled)");
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
                           "or ip6 daddr)" +
                           tail);
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
        warn(result_.warnings,
             "more than " + std::to_string(kMaxEntries) + " fwmark entries; the rest are left out");
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
                         (is_all(ps) ? std::string(" (every port)") : " port " + ports_text(ps));
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

MarkRules compile(std::string_view text) {
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
      capped =
          !emit.entries(k, rs, iif) || (result.entries.size() == before && !emit.add(k, 0, 0, iif));
    }
    if (capped) break;
  }
  if (ev.exhausted()) {
    warn(result.warnings,
         "the ruleset is too large to analyse completely; some fwmark "
         "endpoints are left out");
  }
  std::sort(result.entries.begin(), result.entries.end(),
            [](const MarkEntry& a, const MarkEntry& b) {
              return std::tie(a.addr.family, a.addr.bytes, a.proto, a.iif, a.port, a.mark) <
                     std::tie(b.addr.family, b.addr.bytes, b.proto, b.iif, b.port, b.mark);
            });
  result.entries.erase(std::unique(result.entries.begin(), result.entries.end()),
                       result.entries.end());
  return result;
}

}  // namespace nft

MarkRules compile_nft_json(std::string_view json) { return nft::compile(json); }

}  // namespace lvs::io
