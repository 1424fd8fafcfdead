// parse_config_file and include, on files in a fresh temporary directory.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ctl/config.h"
#include "sched/registry.h"
#include "test_util.h"

namespace lvs::ctl {
namespace {

namespace fs = std::filesystem;
using test::messages;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class Include : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "lvs-ctl-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `text` to dir/name and returns the full path.
  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = fs::path(dir_) / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  static std::string service(const std::string& vip) {
    return "virtual_server " + vip +
           " 80 {\n  protocol TCP\n  real_server 198.18.1.1 80 {\n  }\n}\n";
  }

  std::string dir_;
};

TEST_F(Include, PlainFile) {
  const std::string main = write("lvs.conf", service("198.18.0.1"));
  const ParseResult r = parse_config_file(main);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(messages(r), IsEmpty());
  ASSERT_EQ(r.config->services.size(), 1u);
  EXPECT_EQ(r.config->services[0].loc.file, main);
}

TEST_F(Include, MissingMainFile) {
  const ParseResult r = parse_config_file(path("nope.conf"));
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(messages(r), ElementsAre(path("nope.conf") + ": cannot read '" + path("nope.conf") +
                                       "': No such file or directory"));
}

TEST_F(Include, GlobRelativeToTheIncludingFileInNameOrder) {
  write("conf.d/20-b.conf", service("198.18.0.2"));
  write("conf.d/10-a.conf", service("198.18.0.1"));
  write("conf.d/30-c.txt", service("198.18.0.3"));
  fs::create_directories(path("conf.d/40-dir.conf"));  // a directory the glob matches
  const std::string main = write("lvs.conf",
                                 "global_defs {\n  router_id R\n}\n"
                                 "include conf.d/*.conf\n");
  const ParseResult r = parse_config_file(main);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  ASSERT_EQ(r.config->services.size(), 2u);
  EXPECT_EQ(r.config->services[0].key.addr, test::ip("198.18.0.1"));
  EXPECT_EQ(r.config->services[0].loc.file, path("conf.d/10-a.conf"));
  EXPECT_EQ(r.config->services[1].key.addr, test::ip("198.18.0.2"));
  EXPECT_EQ(r.config->router_id, "R");
}

TEST_F(Include, BraceAndQuestionMarkPatterns) {
  write("a.conf", service("198.18.0.1"));
  write("b.conf", service("198.18.0.2"));
  write("c.conf", service("198.18.0.3"));
  const ParseResult r =
      parse_config_file(write("lvs.conf", "include {a,c}.conf\ninclude ?.none\n"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.config->services.size(), 2u);
  EXPECT_EQ(r.config->services[1].key.addr, test::ip("198.18.0.3"));
}

TEST_F(Include, NestedIncludesAreRelativeToTheirOwnFile) {
  write("sub/inner.conf", service("198.18.0.9"));
  write("sub/outer.conf", "include inner.conf\n");
  const ParseResult r = parse_config_file(write("lvs.conf", "include sub/outer.conf\n"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  ASSERT_EQ(r.config->services.size(), 1u);
  EXPECT_EQ(r.config->services[0].loc.file, path("sub/inner.conf"));
}

TEST_F(Include, AbsolutePath) {
  const std::string inc = write("elsewhere/x.conf", service("198.18.0.5"));
  const ParseResult r = parse_config_file(write("lvs.conf", "include \"" + inc + "\"\n"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->services.size(), 1u);
}

TEST_F(Include, InsideABlockAsKeepalivedAllows) {
  write("servers.conf", "real_server 198.18.1.1 80 {\n  weight 4\n}\n");
  const std::string main = write("lvs.conf",
                                 "virtual_server 198.18.0.1 80 {\n"
                                 "  protocol TCP\n"
                                 "  include servers.conf\n"
                                 "}\n");
  const ParseResult r = parse_config_file(main);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->services[0].real_servers[0].weight, 4);
}

TEST_F(Include, ErrorsNameTheIncludedFile) {
  write("bad.conf",
        "\nvirtual_server 198.18.0.1 80 {\n  protocol TCP\n  lb_algo nope\n"
        "  real_server 198.18.1.1 80 {\n  }\n}\n");
  const std::string main = write("lvs.conf", "include bad.conf\nfoo\n");
  const ParseResult r = parse_config_file(main);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(messages(r),
              ElementsAre(path("bad.conf") + ":4:11: unknown scheduler 'nope' (available: " +
                              sched::scheduler_names() + ")",
                          main + ":2:1: unknown keyword 'foo' at top level"));
}

TEST_F(Include, MissingFilesWarnForPlainIncludeAndFailForCheckedOnes) {
  const std::string main = write("lvs.conf",
                                 "include missing.conf\n"
                                 "include none/*.conf\n"
                                 "includer missing.conf\n"
                                 "includew none/*.conf\n"
                                 "includea none/*.conf\n");
  const ParseResult r = parse_config_file(main);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(
      messages(r),
      ElementsAre(
          main + ":1:9: warning: cannot read '" + path("missing.conf") +
              "': No such file or directory",
          main + ":2:9: warning: include pattern '" + path("none/*.conf") + "' matched no file",
          main + ":3:10: cannot read '" + path("missing.conf") + "': No such file or directory",
          main + ":4:10: include pattern '" + path("none/*.conf") + "' matched no file",
          main + ":5:10: include pattern '" + path("none/*.conf") + "' matched no file"));
}

TEST_F(Include, PlainIncludeOfAMissingFileStillLoads) {
  const ParseResult r = parse_config_file(write("lvs.conf", "include gone.conf\n"));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.diagnostics.size(), 1u);
}

TEST_F(Include, Cycle) {
  const std::string a = write("a.conf", "include b.conf\n");
  write("b.conf", "include a.conf\n");
  const ParseResult r = parse_config_file(a);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(messages(r), ElementsAre(path("b.conf") + ":1:9: include cycle: '" + path("a.conf") +
                                       "' is already being read"));
}

TEST_F(Include, NestingIsBounded) {
  for (int i = 0; i < 20; ++i) {
    write("n" + std::to_string(i) + ".conf", "include n" + std::to_string(i + 1) + ".conf\n");
  }
  const ParseResult r = parse_config_file(path("n0.conf"));
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(messages(r), ElementsAre(path("n15.conf") + ":1:9: includes nested deeper than 16"));
}

TEST_F(Include, Arguments) {
  const std::string main = write("lvs.conf", "include\ninclude \"a.conf\" b.conf\n");
  EXPECT_THAT(messages(parse_config_file(main)),
              ElementsAre(main + ":1:1: 'include' needs a file name or glob pattern",
                          main + ":2:18: unexpected 'b.conf': 'include' takes one file name or "
                                 "glob pattern"));
}

// keepalived takes the rest of the line as the pattern, blanks included.
TEST_F(Include, PatternIsTheRestOfTheLine) {
  write("a b.conf", service("198.18.0.1"));
  const ParseResult r = parse_config_file(write("lvs.conf", "include a b.conf   # comment\n"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->services.size(), 1u);
}

TEST_F(Include, IncludeOfADirectory) {
  fs::create_directories(path("d"));
  const std::string main = write("lvs.conf", "includer d\n");
  EXPECT_THAT(messages(parse_config_file(main)),
              ElementsAre(main + ":1:10: cannot read '" + path("d") + "': it is a directory"));
}

TEST_F(Include, QuotedIncludeIsAKeyword) {
  const std::string main = write("lvs.conf", "\"include\" x.conf\n");
  EXPECT_THAT(messages(parse_config_file(main)),
              ElementsAre(main + ":1:1: unknown keyword 'include' at top level"));
}

}  // namespace
}  // namespace lvs::ctl
