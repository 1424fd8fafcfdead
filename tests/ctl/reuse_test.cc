// A reload copies the services whose block reads byte for byte as before (parse_config_*'s
// `previous`). The contract: the result is what a parse from nothing gives, field for field
// (locations included), with the same diagnostics; only the work differs.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "ctl/config.h"
#include "test_util.h"

namespace lvs::ctl {
namespace {

namespace fs = std::filesystem;
using test::messages;
using ::testing::IsEmpty;

std::string service(int n, int weight = 1, const std::string& indent = "") {
  const std::string vip = "198.18.0." + std::to_string(n);
  return indent + "virtual_server " + vip +
         " 80 {\n  protocol TCP\n  lb_algo wrr\n  delay_loop 3\n"
         "  real_server 198.19.0." +
         std::to_string(n) + " 8080 {\n    weight " + std::to_string(weight) +
         "\n    TCP_CHECK {\n      connect_timeout 2\n    }\n  }\n"
         "  real_server 198.19.1." +
         std::to_string(n) +
         " 8080 {\n    HTTP_GET {\n      url {\n        path /health\n        status_code 200\n"
         "      }\n    }\n  }\n"
         "  sorry_server 198.19.2.1 8080\n}\n";
}

// Parses `text` from nothing and again with `previous`, and checks they agree; returns the
// latter (with how many services it copied).
ParseResult both(const std::string& text, const Config* previous) {
  const ParseResult fresh = parse_config_text(text, "t.conf");
  ParseResult again = parse_config_text(text, "t.conf", previous);
  EXPECT_EQ(messages(again), messages(fresh));
  EXPECT_EQ(again.ok(), fresh.ok());
  EXPECT_EQ(fresh.reused, 0u);
  if (again.ok() && fresh.ok()) {
    const auto& a = again.config->services;
    const auto& f = fresh.config->services;
    EXPECT_EQ(a.size(), f.size());
    for (size_t i = 0; i < std::min(a.size(), f.size()); ++i) {
      EXPECT_TRUE(a[i] == f[i]) << "service " << i << " " << a[i].key.to_string() << " at "
                                << a[i].loc.line << ":" << a[i].loc.column << ", fresh at "
                                << f[i].loc.line << ":" << f[i].loc.column;
    }
  }
  return again;
}

constexpr int kServiceLines = 20;  // of service()

Config parsed(const std::string& text) {
  ParseResult r = parse_config_text(text, "t.conf");
  EXPECT_THAT(messages(r), IsEmpty());
  return r.config.value_or(Config{});
}

TEST(Reuse, UnchangedBlocksAreCopiedWhereTheyNowStand) {
  const Config a = parsed(service(1) + service(2) + service(3));
  ASSERT_NE(a.sources, nullptr);
  for (const auto& vs : a.services) EXPECT_NE(vs.source.length, 0u);
  // The same text: all three copied.
  EXPECT_EQ(both(service(1) + service(2) + service(3), &a).reused, 3u);
  // A service in front moves the others down; one more changes weight; one goes.
  const ParseResult r = both("# a comment\n" + service(4) + service(1) + service(2, 5), &a);
  EXPECT_EQ(r.reused, 1u);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->services[1].loc.line, 2 + kServiceLines);
  // Indented keyword: columns on its line move, the lines below do not.
  const ParseResult ind = both(service(1, 1, "   ") + "\n\n" + service(3, 1, "\t"), &a);
  EXPECT_EQ(ind.reused, 2u);
  EXPECT_EQ(ind.config->services[0].loc.column, 4);
  EXPECT_EQ(ind.config->services[1].real_servers[0].loc.line, kServiceLines + 2 + 1 + 4);
}

TEST(Reuse, ChainsOverReloads) {
  Config c = parsed(service(1) + service(2));
  for (int i = 0; i < 4; ++i) {
    ParseResult r = both("\n" + std::string(size_t(i), '\n') + service(1) + service(2), &c);
    EXPECT_EQ(r.reused, 2u);
    ASSERT_TRUE(r.ok());
    c = std::move(*r.config);
  }
}

TEST(Reuse, RuntimeStateIsNotCopied) {
  Config a = parsed(service(1));
  VirtualServerConf& vs = a.services[0];
  vs.real_servers[0].alive = false;
  vs.real_servers[1].weight_delta = 4;
  vs.real_servers[1].dynamic_weight = 7;
  vs.sorry_server->alive = false;
  vs.quorum_state = false;
  vs.health_touched = true;
  EXPECT_EQ(both(service(1), &a).reused, 1u);
}

TEST(Reuse, AChangedOrForeignServiceIsParsed) {
  Config a = parsed(service(1) + service(2));
  EXPECT_EQ(both(service(1, 2) + service(2), &a).reused, 1u);
  // A change by the API drops the fingerprints: nothing is taken as the file's.
  Config api = a;
  api.services[0].source_hash = 0;
  api.services[0].source = {};
  EXPECT_EQ(both(service(1) + service(2), &api).reused, 1u);
  // Texts that do not hold the span (a configuration put together elsewhere) are not read.
  Config other = a;
  other.sources = std::make_shared<const TextStore>(TextStore{"short"});
  EXPECT_EQ(both(service(1) + service(2), &other).reused, 0u);
  other.sources = nullptr;
  EXPECT_EQ(both(service(1) + service(2), &other).reused, 0u);
}

TEST(Reuse, DuplicatesAndErrorsAreReportedAsFromNothing) {
  const Config a = parsed(service(1) + service(2));
  const ParseResult dup = both(service(1) + service(2) + service(1), &a);
  EXPECT_FALSE(dup.ok());
  const ParseResult err = both(service(1) + "virtual_server 198.18.0.9 80 {\n  bogus\n}\n", &a);
  EXPECT_FALSE(err.ok());
}

TEST(Reuse, BlocksThatDependOnOtherBlocksAreParsed) {
  const std::string group = "virtual_server_group G {\n  198.18.5.1-2 80\n}\n";
  const std::string grouped =
      "virtual_server group G {\n  protocol TCP\n  real_server 198.19.5.1 80 {\n  }\n}\n";
  const std::string laddr = "local_address_group L {\n  198.18.6.1\n}\n";
  const std::string fnat =
      "virtual_server 198.18.6.10 80 {\n  protocol TCP\n  lb_kind FNAT\n  laddr_group_name L\n"
      "  real_server 198.19.6.1 80 {\n  }\n}\n";
  const std::string track = "track_file F {\n  file /tmp/lvs-reuse-none\n  weight 2\n}\n";
  const std::string file_check =
      "virtual_server 198.18.7.10 80 {\n  protocol TCP\n  real_server 198.19.7.1 80 {\n"
      "    FILE_CHECK {\n      track_file F\n    }\n  }\n}\n";
  const Config a = parsed(group + grouped + laddr + fnat + track + file_check + service(1));
  // The blocks they name change: every service reads as the new blocks say.
  const std::string group2 = "virtual_server_group G {\n  198.18.5.1-3 80\n}\n";
  const std::string laddr2 = "local_address_group L {\n  198.18.6.2\n}\n";
  const std::string track2 = "track_file F {\n  file /tmp/lvs-reuse-none\n  weight 3\n}\n";
  const ParseResult r =
      both(group2 + grouped + laddr2 + fnat + track2 + file_check + service(1), &a);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.reused, 1u);
  EXPECT_EQ(r.config->services.size(), 3u + 1 + 1 + 1);
}

TEST(Reuse, BlocksWithWarningsAreParsedToWarnAgain) {
  const std::string no_proto =
      "virtual_server 198.18.0.9 80 {\n  real_server 198.19.0.9 80 {\n  }\n}\n";
  const ParseResult first = parse_config_text(no_proto, "t.conf");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first.diagnostics.size(), 1u);
  EXPECT_EQ(both(no_proto, &*first.config).reused, 0u);
}

// The examples shipped: each one read again as is, and after the text above it moved down.
TEST(Reuse, Examples) {
  for (const auto& e : fs::directory_iterator(LVS_EXAMPLES_DIR)) {
    if (e.path().extension() != ".conf") continue;
    std::ifstream in(e.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const ParseResult a = parse_config_text(text, "t.conf");
    ASSERT_TRUE(a.ok()) << e.path();
    SCOPED_TRACE(e.path().string());
    both(text, &*a.config);
    both("# moved\n\n" + text, &*a.config);
  }
}

class ReuseFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "lvs-reuse-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = fs::path(dir_) / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::string dir_;
};

TEST_F(ReuseFiles, IncludedFilesAndBlocksThatMoveBetweenThem) {
  const std::string main = write("main.conf", "include conf.d/*.conf\n" + service(1));
  fs::create_directories(fs::path(dir_) / "conf.d");
  write("conf.d/a.conf", service(2));
  write("conf.d/b.conf", service(3));
  const ParseResult a = parse_config_file(main);
  ASSERT_TRUE(a.ok());
  // b.conf's service moves into the main file; the main file's into a new c.conf.
  write("main.conf", "include conf.d/*.conf\n" + service(3));
  write("conf.d/b.conf", "");
  write("conf.d/c.conf", service(1));
  const ParseResult fresh = parse_config_file(main);
  const ParseResult again = parse_config_file(main, &*a.config);
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.reused, 3u);
  ASSERT_EQ(again.config->services.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(again.config->services[i] == fresh.config->services[i]) << i;
  }
  EXPECT_EQ(again.config->services[1].loc.file.str(), (fs::path(dir_) / "conf.d/c.conf").string());
  EXPECT_EQ(again.config->services[2].real_servers[1].checkers[0].urls[0].loc.file.str(), main);
}

// An include inside a block: its bytes are not one span, so it is always parsed.
TEST_F(ReuseFiles, ABlockWithAnIncludeInsideIsParsed) {
  write("rs.conf", "  real_server 198.19.0.1 80 {\n  }\n");
  const std::string main =
      write("main.conf", "virtual_server 198.18.0.1 80 {\n  protocol TCP\n  include rs.conf\n}\n");
  const ParseResult a = parse_config_file(main);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.config->services[0].source.length, 0u);
  EXPECT_EQ(a.config->services[0].source_hash, 0u);
  EXPECT_EQ(parse_config_file(main, &*a.config).reused, 0u);
}

// An include that read nothing leaves no token in the block, but its file may fill later.
TEST_F(ReuseFiles, ABlockWithAnEmptyIncludeIsParsed) {
  write("rs.conf", "");
  const std::string main =
      write("main.conf",
            "virtual_server 198.18.0.1 80 {\n  protocol TCP\n  real_server 198.19.0.1 80 {\n  }\n"
            "  include rs.conf\n}\n" +
                service(2));
  const ParseResult a = parse_config_file(main);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.config->services[0].source.length, 0u);
  EXPECT_NE(a.config->services[1].source.length, 0u);
  write("rs.conf", "  real_server 198.19.0.2 80 {\n  }\n");
  const ParseResult b = parse_config_file(main, &*a.config);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b.reused, 1u);
  EXPECT_EQ(b.config->services[0].real_servers.size(), 2u);
}

}  // namespace
}  // namespace lvs::ctl
