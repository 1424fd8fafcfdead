// The config parser on arbitrary text: it must never crash, and whatever it accepts must set up
// a fresh engine cleanly, reload onto itself as no change, and tear down to nothing. A reload
// that copies unchanged blocks (parse with `previous`) must read as a parse from nothing: the
// text itself, and its halves swapped (blocks that move).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/engine.h"
#include "ctl/config.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "config_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

// parse_config_text(text, previous) must be parse_config_text(text), field for field.
void same_as_fresh(std::string_view text, const lvs::ctl::Config& previous) {
  const lvs::ctl::ParseResult fresh = lvs::ctl::parse_config_text(text, "fuzz.conf");
  const lvs::ctl::ParseResult again = lvs::ctl::parse_config_text(text, "fuzz.conf", &previous);
  if (fresh.ok() != again.ok()) fail("reuse", "accepted one way only: " + std::string(text));
  if (fresh.diagnostics.size() != again.diagnostics.size()) fail("reuse", "diagnostics differ");
  for (size_t i = 0; i < fresh.diagnostics.size(); ++i) {
    if (fresh.diagnostics[i].to_string() != again.diagnostics[i].to_string()) {
      fail("reuse", fresh.diagnostics[i].to_string() + " vs " + again.diagnostics[i].to_string());
    }
  }
  if (fresh.ok() && fresh.config->services != again.config->services) {
    fail("reuse", "services differ: " + std::string(text));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const lvs::ctl::ParseResult r = lvs::ctl::parse_config_text(text, "fuzz.conf");
  for (const auto& d : r.diagnostics) {
    if (d.message.empty()) fail("empty diagnostic", d.to_string());
  }
  if (!r.ok()) {
    bool has_error = false;
    for (const auto& d : r.diagnostics) has_error |= !d.warning;
    if (!has_error) fail("refused without an error", std::string(text));
    return 0;
  }
  const lvs::ctl::Config& cfg = *r.config;
  lvs::core::EngineConfig ec;
  ec.conn_capacity = 64;
  lvs::core::Engine engine(ec);
  const auto setup = lvs::ctl::diff(lvs::ctl::Config{}, cfg);
  if (const auto st = lvs::ctl::apply(engine, setup); !st.ok()) fail("set-up", st.message());
  if (engine.snapshot().size() != cfg.services.size()) fail("set-up", "service count differs");
  if (!lvs::ctl::diff(cfg, cfg).empty()) fail("identity", "diff(c, c) is not empty");
  const auto teardown = lvs::ctl::diff(cfg, lvs::ctl::Config{});
  if (const auto st = lvs::ctl::apply(engine, teardown); !st.ok()) fail("teardown", st.message());
  if (!engine.snapshot().empty()) fail("teardown", "services left");
  same_as_fresh(text, cfg);
  if (const size_t nl = text.find('\n', text.size() / 2); nl != std::string_view::npos) {
    std::string swapped(text.substr(nl + 1));
    swapped += '\n';
    swapped += text.substr(0, nl + 1);
    same_as_fresh(swapped, cfg);
  }
  return 0;
}
