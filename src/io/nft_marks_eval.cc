// Runs one packet through the fwmark compiler's program (nft_marks_program.h) the way the kernel
// would, with a set of possible states instead of one: a condition on the packet's fields is
// decided exactly, one lvsd cannot decide forks the states (and names the rule to blame).
#include <algorithm>
#include <set>

#include "io/nft_marks_program.h"

namespace lvs::io::nft {
namespace {

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

// One mark for every way the packet can go, or uncertain. A dropped packet counts as unmarked:
// no service sees it either way.
Outcome outcome(const std::vector<State>& states) {
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

// Both ways past a condition lvsd cannot decide: `in` goes on, a copy skips the rest of the rule.
void fork(std::vector<State>& in, std::vector<State>& out_skipped, long rule) {
  for (State& s : in) {
    if (s.blame == -1) s.blame = rule;
    out_skipped.push_back(s);
  }
}

// Whether a step after `i` can change the packet's mark or where evaluation goes.
bool effect_after(const Rule& rule, size_t i) {
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

}  // namespace

Evaluator::Evaluator(const Program& prog) : prog_(prog) {
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

Outcome Evaluator::run(const Point& p) {
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

// Runs `states` (all running) through a chain. On return, running states fell off its end or
// returned from it; the others ended evaluation (accepted, dropped, opaque).
void Evaluator::run_chain(const Chain& c, const Point& p, std::vector<State>& states, int depth) {
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

void Evaluator::apply_verdict(const Verdict& v, const Point& p, std::vector<State>& states,
                              long rule, int depth) {
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

// Runs one rule over `states` in place: states that leave the rule early stay running.
void Evaluator::run_rule(size_t ri, const Point& p, std::vector<State>& states, int depth) {
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

}  // namespace lvs::io::nft
