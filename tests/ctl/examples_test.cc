// The shipped examples load without a single diagnostic and set up an engine.
#include <algorithm>
#include <filesystem>
#include <string>

#include "core/engine.h"
#include "ctl/config.h"
#include "test_util.h"

namespace lvs::ctl {
namespace {

using ::testing::IsEmpty;

class Example : public ::testing::TestWithParam<std::string> {};

TEST_P(Example, LoadsCleanlyAndApplies) {
  const std::string path = std::string(LVS_EXAMPLES_DIR) + "/" + GetParam();
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  const ParseResult r = parse_config_file(path);
  EXPECT_THAT(test::messages(r), IsEmpty());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.config->services.empty());
  // Documentation addresses only: 198.18.0.0/15.
  const net::IpAddr bench = test::ip("198.18.0.0");
  for (const auto& vs : r.config->services) {
    EXPECT_TRUE(vs.key.addr.in_prefix(bench, 15)) << vs.key.to_string();
    for (const auto& rs : vs.real_servers) {
      EXPECT_TRUE(rs.addr.in_prefix(bench, 15)) << rs.addr.to_string();
    }
  }
  core::EngineConfig ec;
  ec.conn_capacity = 64;
  core::Engine engine(ec);
  const core::Status st = ctl::apply(engine, diff(Config{}, *r.config));
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(engine.snapshot().size(), r.config->services.size());
}

INSTANTIATE_TEST_SUITE_P(Examples, Example,
                         ::testing::Values("nat.conf", "dr.conf", "persistent.conf", "tun.conf",
                                           "fullnat.conf", "dns-ops.conf"),
                         [](const auto& i) {
                           std::string name = i.param.substr(0, i.param.find('.'));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace lvs::ctl
