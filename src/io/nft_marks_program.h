// The nftables ruleset as the fwmark compiler models it (nft_marks.h has the what and why):
// chains of rules, each rule a list of steps, read from nft's JSON (nft_marks_parse.cc) and run
// for one packet at a time with every state the packet can be in (nft_marks_eval.cc). Internal to
// src/io/nft_marks_*.cc.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace lvs::io::nft {

using Json = nlohmann::json;
using U128 = unsigned __int128;

inline constexpr uint8_t kTcp = 6, kUdp = 17, kSctp = 132;
inline constexpr uint8_t kBalanced[] = {kTcp, kUdp, kSctp};
inline constexpr uint32_t kNfprotoIpv4 = 2, kNfprotoIpv6 = 10;
inline constexpr U128 kUnknownProto = 256;  // a protocol name lvsd does not know: none of ours
inline constexpr size_t kMaxRuleEntries = 65536;
inline constexpr size_t kMaxEntries = size_t(1) << 18;
inline constexpr size_t kMaxWarnings = 200;
inline constexpr int kMaxJumpDepth = 16;  // the kernel's jump stack
inline constexpr int kMaxExprDepth = 8;
inline constexpr uint64_t kMaxWork = uint64_t(1) << 26;

enum class Field : uint8_t {
  kNfproto,
  kDaddr4,
  kDaddr6,
  kIpProto,
  kNexthdr,
  kL4proto,
  kDport,
  kIif
};

struct Range {
  U128 lo = 0, hi = 0;
};

inline U128 field_max(Field f) {
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
inline std::optional<U128> field_value(Field f, const Point& p) {
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

// A match on packet fields: one field against sorted, disjoint ranges, or a concatenation against
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
    if (fields.empty() || fields.size() > 8) return -2;  // the parser allows 1 to 8
    for (size_t i = 0; i < fields.size(); ++i) {
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

// Sorts ranges and merges overlapping ones (adjacent ones stay apart: two hosts are not a range).
void normalize(std::vector<Range>& rs);

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
    kCond,      // packet condition
    kConst,     // a condition decided for every first packet (ct state)
    kMarkCond,  // condition on meta mark / ct mark
    kUnknown,   // a condition lvsd cannot decide
    kSetMark,   // meta mark set expr (or an unknown value)
    kSetCt,     // ct mark set expr (or an unknown value)
    kMapMark,   // meta mark set <packet fields> map { ... }
    kVmap,      // <packet fields> vmap { ... }
    kVerdict,   // accept, drop, return, jump ...
    kOpaque,    // a statement that may end evaluation in a way lvsd cannot follow
  };
  Kind kind = Kind::kCond;
  PacketCond cond;                    // kCond; kMapMark and kVmap: the key
  bool truth = false;                 // kConst
  MarkExpr expr;                      // kMarkCond (left), kSetMark, kSetCt
  bool unknown_value = false;         // kSetMark, kSetCt: numgen, xt MARK, ...
  std::vector<Range> mark_ranges;     // kMarkCond
  bool negate = false;                // kMarkCond
  std::vector<uint32_t> map_marks;    // kMapMark, per key tuple
  std::vector<Verdict> map_verdicts;  // kVmap, per key tuple
  Verdict verdict;                    // kVerdict
};

struct Chain {
  std::string family, table, name;
  std::string hook, type;  // empty for a regular chain
  bool base = false;
  int64_t prio = 0;
  bool policy_drop = false;
  size_t id = 0;              // its place in Program::listed
  std::vector<size_t> rules;  // indices into Program::rules, in chain order
};

struct Rule {
  const Chain* chain = nullptr;
  std::string handle;  // as nft -a prints it
  std::vector<Step> steps;
  bool sets_mark = false;
  std::string unsupported;  // the first expression lvsd does not understand
  bool effect = false;      // it can change the mark or where evaluation goes

  std::string origin() const {
    return "rule handle " + handle + " in " + chain->family + " " + chain->table + " " +
           chain->name;
  }
};

// Names of sets and maps by <family, table, name>.
using ObjKey = std::tuple<std::string, std::string, std::string>;

struct Program {
  std::map<ObjKey, const Json*> sets, maps;
  std::map<ObjKey, Chain> chains;
  std::vector<Rule> rules;
  std::vector<const Chain*> listed;        // chains in listing order
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

// Adds a warning, up to kMaxWarnings of them.
void warn(std::vector<std::string>& w, std::string msg);

// Reads nft's JSON listing into `prog`; what cannot be read becomes a warning. `doc` must outlive
// `prog`.
void load(const Json& doc, Program& prog);

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

struct Outcome {
  enum class Kind : uint8_t { kMark, kNone, kUncertain } kind = Kind::kNone;
  uint32_t mark = 0;
  long blame = -1;  // -2: the evaluation was cut short

  bool same(const Outcome& o) const {
    return kind == o.kind && (kind != Kind::kMark || mark == o.mark);
  }
};

// Runs one packet through the prerouting base chains of its family, in priority order.
class Evaluator {
 public:
  explicit Evaluator(const Program& prog);

  bool exhausted() const { return work_ > kMaxWork; }
  // Per chain (by id), the rules that can matter for the endpoint being evaluated; the others
  // are skipped.
  void only(const std::vector<std::vector<size_t>>* relevant) { relevant_ = relevant; }
  const std::vector<const Chain*>& bases(bool v6) const { return v6 ? base6_ : base4_; }

  // The mark the packet ends with, if every way it can go agrees.
  Outcome run(const Point& p);

 private:
  void run_chain(const Chain& c, const Point& p, std::vector<State>& states, int depth);
  void run_rule(size_t ri, const Point& p, std::vector<State>& states, int depth);
  void apply_verdict(const Verdict& v, const Point& p, std::vector<State>& states, long rule,
                     int depth);

  const Program& prog_;
  std::vector<const Chain*> base4_, base6_;
  const std::vector<std::vector<size_t>>* relevant_ = nullptr;
  uint64_t work_ = 0;
};

}  // namespace lvs::io::nft
