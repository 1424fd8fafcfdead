#include "ctl/source.h"

#include <fmt/format.h>
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <optional>
#include <span>

#include "ctl/block_index.h"

namespace lvs::ctl {

namespace {

constexpr size_t kMaxIncludeDepth = 16;

// keepalived's include variants. Plain `include` only logs what it cannot read (kept for
// backward compatibility); the others add checks: r readable, m and b files missing, w a
// wildcard matching nothing, a all of them.
struct IncludeKind {
  std::string_view word;
  bool must_read;
  bool must_match;
};
constexpr IncludeKind kIncludeKinds[] = {
    {"include", false, false}, {"includer", true, false}, {"includem", true, false},
    {"includeb", true, false}, {"includew", true, true},  {"includea", true, true},
};

const IncludeKind* include_kind(const Token& t) {
  if (!t.stmt_start) return nullptr;
  for (const auto& k : kIncludeKinds) {
    if (t.is_keyword(k.word)) return &k;  // the words is_include_keyword() knows
  }
  return nullptr;
}

// The whole file in one read of its size (a 5 MB configuration is read at every reload).
bool read_file(const std::string& path, std::string& out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  struct stat st {};
  if (::fstat(::fileno(f), &st) == 0 && st.st_size > 0) out.reserve(size_t(st.st_size));
  char buf[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  const bool ok = std::ferror(f) == 0;
  const int saved = errno;
  std::fclose(f);
  errno = saved;
  return ok;
}

class Reader {
 public:
  Reader(std::vector<Diagnostic>& diags, bool allow_include, const Config* running)
      : diags_(diags), allow_include_(allow_include) {
    if (running != nullptr) blocks_.emplace(*running);
  }

  // Lexes texts_[id] into out_, following its includes; `depth`: braces open where it stands.
  // Returns where the text ends.
  SourceLoc add_text(uint32_t id, const std::string& name, const std::string& dir, int depth) {
    const std::string_view text = texts_[id];
    // A keepalived.conf averages a token per 6 to 8 bytes: one allocation, not twenty doublings
    // of a 50 MB vector.
    out_.reserve(out_.size() + text.size() / 6 + 16);
    const size_t first = out_.size();
    LexNotes notes;
    LexOptions opts;
    opts.text_id = id;
    opts.depth = depth;
    if (blocks_ && !blocks_->empty()) opts.blocks = &*blocks_;
    const SourceLoc end = lex(text, name, out_, diags_, texts_, &notes, opts);
    virtual_servers_ += notes.virtual_servers;
    found_.insert(notes.blocks.begin(), notes.blocks.end());
    if (!notes.includes) return end;
    included_ = true;
    // Includes splice other files in where they stand.
    std::vector<Token> lexed(std::make_move_iterator(out_.begin() + ptrdiff_t(first)),
                             std::make_move_iterator(out_.end()));
    out_.resize(first);
    for (size_t i = 0; i < lexed.size(); ++i) {
      const IncludeKind* kind = include_kind(lexed[i]);
      if (kind == nullptr) {
        if (lexed[i].is_open()) ++depth;
        if (lexed[i].is_close()) depth = std::max(depth - 1, 0);
        out_.push_back(std::move(lexed[i]));
        continue;
      }
      include_sites_.push_back(lexed[i].text.data());
      size_t j = i + 1;
      while (j < lexed.size() && lexed[j].is_word() && !lexed[j].stmt_start) ++j;
      include(lexed[i], *kind, std::span(lexed).subspan(i + 1, j - i - 1), dir, depth);
      i = j - 1;
    }
    return end;
  }

  // Reads one file; `at` is where it was asked for (the include pattern, or the file itself).
  // Returns where the file ends, or nullopt when it could not be read.
  std::optional<SourceLoc> add_file(const std::string& path, const SourceLoc& at, bool must_read,
                                    int depth) {
    namespace fs = std::filesystem;
    if (open_.size() >= kMaxIncludeDepth) {
      report(at, fmt::format("includes nested deeper than {}", kMaxIncludeDepth), false);
      return std::nullopt;
    }
    std::error_code ec;
    const fs::path canon = fs::weakly_canonical(path, ec);
    const std::string key = ec ? path : canon.string();
    if (std::find(open_.begin(), open_.end(), key) != open_.end()) {
      report(at, fmt::format("include cycle: '{}' is already being read", path), false);
      return std::nullopt;
    }
    if (fs::is_directory(path, ec)) {
      report(at, fmt::format("cannot read '{}': it is a directory", path), !must_read);
      return std::nullopt;
    }
    const auto id = uint32_t(texts_.size());
    std::string& text = texts_.emplace_back();
    if (!read_file(path, text)) {
      texts_.pop_back();
      report(at, fmt::format("cannot read '{}': {}", path, std::strerror(errno)), !must_read);
      return std::nullopt;
    }
    open_.push_back(key);
    SourceLoc end = add_text(id, path, fs::path(path).parent_path().string(), depth);
    open_.pop_back();
    return end;
  }

  // A text that is no file: kept like one, so that the configuration keeps it too.
  SourceLoc add_copy(std::string_view text, const std::string& name) {
    const auto id = uint32_t(texts_.size());
    texts_.emplace_back(text);
    return add_text(id, name, "", 0);
  }

  TokenList take() {
    TokenList t;
    t.tokens = std::move(out_);
    t.texts = std::move(texts_);
    t.virtual_servers = virtual_servers_;
    t.included = included_;
    std::sort(include_sites_.begin(), include_sites_.end(), std::less<>());
    t.include_sites = std::move(include_sites_);
    t.blocks = std::move(found_);
    return t;
  }

 private:
  void include(const Token& kw, const IncludeKind& kind, std::span<const Token> args,
               const std::string& dir, int depth) {
    if (!allow_include_) {
      report(kw.loc, fmt::format("'{}' needs a configuration file: text has no directory", kw.text),
             false);
      return;
    }
    if (args.empty()) {
      report(kw.loc, fmt::format("'{}' needs a file name or glob pattern", kw.text), false);
      return;
    }
    if (args.size() > 1) {
      report(args[1].loc,
             fmt::format("unexpected '{}': '{}' takes one file name or glob pattern", args[1].text,
                         kw.text),
             false);
      return;
    }
    const Token& arg = args[0];
    std::string pattern(arg.text);
    if (pattern.empty()) {
      report(arg.loc, fmt::format("'{}' needs a file name", kw.text), false);
      return;
    }
    // Relative names are relative to the including file, as keepalived resolves them.
    if (pattern.front() != '/' && !dir.empty()) pattern = dir + "/" + pattern;
    if (pattern.find_first_of("*?[{") == std::string::npos) {
      add_file(pattern, arg.loc, kind.must_read, depth);
      return;
    }
    glob_t g{};
    const int rc = glob(pattern.c_str(), GLOB_BRACE, nullptr, &g);
    if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
      report(arg.loc, fmt::format("include pattern '{}' matched no file", pattern),
             !kind.must_match);
    } else if (rc != 0) {
      report(arg.loc, fmt::format("cannot expand include pattern '{}'", pattern), false);
    } else {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        // Directories a wildcard happens to match are not configuration files.
        std::error_code ec;
        if (std::filesystem::is_directory(g.gl_pathv[i], ec)) continue;
        add_file(g.gl_pathv[i], arg.loc, kind.must_read, depth);
      }
    }
    globfree(&g);
  }

  void report(const SourceLoc& loc, std::string msg, bool warning) {
    diags_.push_back(Diagnostic{loc, std::move(msg), warning});
  }

  std::vector<Diagnostic>& diags_;
  bool allow_include_;
  std::vector<Token> out_;
  TextStore texts_;
  size_t virtual_servers_ = 0;
  bool included_ = false;
  std::vector<const char*> include_sites_;
  std::optional<BlockIndex> blocks_;  // the running configuration's blocks, on a reload
  boost::unordered_flat_map<const char*, uint32_t> found_;
  std::vector<std::string> open_;  // files being read, outermost first
};

Token eof_at(SourceLoc loc) {
  Token t;
  t.kind = Token::Kind::kEof;
  t.loc = std::move(loc);
  t.stmt_start = true;
  return t;
}

}  // namespace

TokenList tokens_of_file(const std::string& path, std::vector<Diagnostic>& diags,
                         const Config* running) {
  Reader r(diags, true, running);
  const std::optional<SourceLoc> end = r.add_file(path, SourceLoc{path, 0, 0}, true, 0);
  TokenList out = r.take();
  out.tokens.push_back(eof_at(end.value_or(SourceLoc{path, 0, 0})));
  return out;
}

TokenList tokens_of_text(std::string_view text, const std::string& name,
                         std::vector<Diagnostic>& diags, const Config* running) {
  Reader r(diags, false, running);
  SourceLoc end = r.add_copy(text, name);
  TokenList out = r.take();
  out.tokens.push_back(eof_at(end));
  return out;
}

}  // namespace lvs::ctl
