// Fuzzes the nftables ruleset compiler (src/io/nft_marks_*.cc) on the input as the text of
// `nft -j list ruleset`. It must not crash or run away, and what it returns must hold together:
// entries sorted and unique, only TCP/UDP/SCTP, IPv4 or IPv6 addresses, mark 0 only as an
// exception to a port-0 entry or for an interface of its own, within the caps, and the same
// answer twice. Any broken invariant aborts.
//
// The compiler's files are included rather than linked: they need only nlohmann-json and
// lvs_net, and the fuzz build (LVS_PURE_ONLY) has no I/O library to link them from.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <tuple>

#include "src/io/nft_marks_compile.cc"
#include "src/io/nft_marks_eval.cc"
#include "src/io/nft_marks_parse.cc"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "nft_marks_fuzz: %s\n", what);
    std::abort();
  }
}

auto key(const lvs::io::MarkEntry& e) {
  return std::tie(e.addr.family, e.addr.bytes, e.proto, e.iif, e.port);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using lvs::io::MarkEntry;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const lvs::io::MarkRules r = lvs::io::compile_nft_json(text);
  check(r.entries.size() <= lvs::io::nft::kMaxEntries, "too many entries");
  check(r.warnings.size() <= lvs::io::nft::kMaxWarnings + 1, "too many warnings");
  for (size_t i = 0; i < r.entries.size(); ++i) {
    const MarkEntry& e = r.entries[i];
    check(e.proto == 6 || e.proto == 17 || e.proto == 132, "a transport lvsd does not balance");
    check(e.addr.is_v4() || e.addr.is_v6(), "an address without a family");
    if (i > 0) check(key(r.entries[i - 1]) < key(e), "entries not sorted or not unique");
    if (e.mark != 0) continue;
    if (e.port == 0) {
      check(!e.iif.empty(), "an unmarked port-0 entry for every interface");
      continue;
    }
    // An unmarked port is an exception to the port-0 entry of its <addr, proto, iif>.
    bool wildcard = false;
    for (const MarkEntry& o : r.entries) {
      wildcard = wildcard || (o.addr == e.addr && o.proto == e.proto && o.iif == e.iif &&
                              o.port == 0 && o.mark != 0);
    }
    check(wildcard, "an unmarked port without a port-0 entry to except it from");
  }
  const lvs::io::MarkRules again = lvs::io::compile_nft_json(text);
  check(again.entries == r.entries && again.warnings == r.warnings, "not deterministic");
  return 0;
}
