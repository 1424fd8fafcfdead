// Fuzzes lvsadm's ipvsadm command line. The input is argv, words separated by NUL bytes (the
// first word is the program name), and also one -R restore line. Every result is either a
// command or an error with a message and ipvsadm's exit status (2 or 255); a command's numbers
// stay within the ranges ipvsadm enforces.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "adm/args.h"

namespace lvs::adm {
namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_result(const ParseResult& r) {
  if (!r.ok()) {
    const ParseError& e = r.error();
    check(e.exit_code == 2 || e.exit_code == 255);
    check(!e.message.empty());
    return;
  }
  const Command& c = r.command();
  check(c.dest.weight >= 0 && c.dest.weight <= 65535);
  check(c.dest.u_threshold >= 0 && c.dest.l_threshold >= 0);
  check(c.svc.timeout <= kMaxTimeout);
}

}  // namespace
}  // namespace lvs::adm

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lvs::adm;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> argv = {"lvsadm"};
  size_t start = 0;
  while (start <= in.size() && argv.size() < 64) {
    const size_t nul = in.find('\0', start);
    const size_t end = nul == std::string_view::npos ? in.size() : nul;
    argv.push_back(in.substr(start, end - start));
    if (nul == std::string_view::npos) break;
    start = nul + 1;
  }
  check_result(parse_args(argv));
  if (auto r = parse_restore_line(in, "lvsadm")) check_result(*r);
  return 0;
}
