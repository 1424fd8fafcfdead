// Helpers shared by the ctl tests.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "ctl/config.h"

namespace lvs::ctl::test {

inline std::vector<std::string> messages(const ParseResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics) out.push_back(d.to_string());
  return out;
}

inline ParseResult parse(std::string_view text) { return parse_config_text(text, "t.conf"); }

// Text that must be accepted without any diagnostic.
inline Config parse_clean(std::string_view text) {
  const ParseResult r = parse(text);
  EXPECT_THAT(messages(r), ::testing::IsEmpty());
  EXPECT_TRUE(r.ok());
  return r.config.value_or(Config{});
}

// Text that must be refused with exactly these diagnostics.
inline void expect_errors(std::string_view text, const std::vector<std::string>& expected) {
  const ParseResult r = parse(text);
  EXPECT_FALSE(r.ok()) << text;
  EXPECT_THAT(messages(r), ::testing::ElementsAreArray(expected)) << text;
}

inline net::IpAddr ip(std::string_view s) { return net::IpAddr::parse(s).value(); }

}  // namespace lvs::ctl::test
