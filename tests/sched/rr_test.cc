// Round robin as IPVS ip_vs_rr.c: a cursor over the destination list that skips overloaded and
// weight-0 servers, steps back to its predecessor when its server is deleted, and stays on its
// server when another is added at the head.
#include <gtest/gtest.h>

#include "sched/sched_test_util.h"

namespace lvs::sched {
namespace {

using testing::repeat;
using testing::TestService;

TEST(RrTest, StrictRotationInListOrder) {
  TestService s("rr", {{'A', 1}, {'B', 1}, {'C', 1}});
  ASSERT_EQ(s.order(), "ABC");
  EXPECT_EQ(s.picks(9), "ABCABCABC");
}

TEST(RrTest, WeightDoesNotMatterAboveZero) {
  TestService s("rr", {{'A', 100}, {'B', 1}, {'C', 7}});
  EXPECT_EQ(s.picks(6), "ABCABC");
}

TEST(RrTest, SkipsWeightZero) {
  TestService s("rr", {{'A', 1}, {'B', 0}, {'C', 1}, {'D', 0}});
  EXPECT_EQ(s.picks(6), "ACACAC");
}

TEST(RrTest, SkipsOverloaded) {
  TestService s("rr", {{'A', 1}, {'B', 1}, {'C', 1}});
  EXPECT_EQ(s.picks(2), "AB");
  s.set_overloaded('C', true);
  EXPECT_EQ(s.picks(3), "ABA");
  s.set_overloaded('C', false);
  EXPECT_EQ(s.picks(4), "BCAB");
}

TEST(RrTest, NoneAvailable) {
  TestService empty("rr", {});
  EXPECT_EQ(empty.schedule(), nullptr);
  TestService zero("rr", {{'A', 0}, {'B', 0}});
  EXPECT_EQ(zero.picks(3), "---");
}

TEST(RrTest, FailureLeavesTheCursorWhereItWas) {
  TestService s("rr", {{'A', 1}, {'B', 1}, {'C', 1}});
  EXPECT_EQ(s.picks(2), "AB");
  s.set_all_overloaded(true);
  EXPECT_EQ(s.picks(2), "--");
  s.set_all_overloaded(false);
  EXPECT_EQ(s.picks(3), "CAB");
}

TEST(RrTest, OnlyTheCursorServerLeft) {
  // The second pass runs up to and including the cursor's own server.
  TestService s("rr", {{'A', 1}, {'B', 1}, {'C', 1}});
  EXPECT_EQ(s.picks(3), "ABC");
  s.set_weight('A', 0);
  s.set_overloaded('B', true);
  EXPECT_EQ(s.picks(3), "CCC");
  s.set_weight('C', 0);
  EXPECT_EQ(s.picks(1), "-");
}

TEST(RrTest, ServerBecomingIneligibleUnderTheCursor) {
  TestService s("rr", {{'A', 1}, {'B', 1}, {'C', 1}});
  EXPECT_EQ(s.picks(2), "AB");
  s.set_weight('B', 0);
  EXPECT_EQ(s.picks(4), "CACA");
}

// Deleting servers: `index` tables of (picks before, server deleted, picks after).
struct DelCase {
  const char* name;
  size_t before;
  char del;
  const char* after;
};

TEST(RrTest, DeleteKeepsTheRotation) {
  const DelCase cases[] = {
      // Cursor on B; B leaves: the cursor steps back to A, so C is next.
      {"cursor server", 2, 'B', "CDACD"},
      // Cursor on A, the first server; A leaves: the cursor is back at the head.
      {"cursor server at the head", 1, 'A', "BCDBC"},
      // Cursor on D, the last one; D leaves: the cursor is on C, A is next.
      {"cursor server at the tail", 4, 'D', "ABCAB"},
      // A server before the cursor (on C) leaves: the cursor stays on C.
      {"before the cursor", 3, 'A', "DBCDB"},
      // A server after the cursor (on A) leaves: nothing changes for the cursor.
      {"after the cursor", 1, 'C', "BDABD"},
      // Cursor still at the head.
      {"fresh cursor", 0, 'A', "BCDBC"},
  };
  for (const DelCase& c : cases) {
    TestService s("rr", {{'A', 1}, {'B', 1}, {'C', 1}, {'D', 1}});
    EXPECT_EQ(s.picks(c.before), std::string("ABCD").substr(0, c.before)) << c.name;
    s.del(c.del);
    EXPECT_EQ(s.picks(5), c.after) << c.name;
  }
}

TEST(RrTest, DeleteEverything) {
  TestService s("rr", {{'A', 1}, {'B', 1}});
  EXPECT_EQ(s.picks(1), "A");
  s.del('A');
  s.del('B');
  EXPECT_EQ(s.pick(), '-');
  s.add('C', 1);
  EXPECT_EQ(s.picks(2), "CC");
}

TEST(RrTest, AddAtTheHeadKeepsTheCursorOnItsServer) {
  TestService s("rr", {{'A', 1}, {'B', 1}, {'C', 1}});
  EXPECT_EQ(s.picks(2), "AB");
  s.add('D', 1);
  ASSERT_EQ(s.order(), "DABC");
  // From B: C, then around through the new head.
  EXPECT_EQ(s.picks(6), "CDABCD");
}

TEST(RrTest, AddAtTheHeadWithCursorAtTheHead) {
  TestService s("rr", {{'A', 1}, {'B', 1}});
  s.add('C', 1);
  ASSERT_EQ(s.order(), "CAB");
  EXPECT_EQ(s.picks(4), "CABC");
}

TEST(RrTest, AddAfterWrapToTheLastServer) {
  TestService s("rr", {{'A', 1}, {'B', 1}});
  EXPECT_EQ(s.picks(2), "AB");
  s.add('C', 1);
  // The cursor sat on B, the tail: the next pick starts over at the head, the new server.
  EXPECT_EQ(s.picks(3), "CAB");
}

TEST(RrTest, ReinitRestartsAtTheHead) {
  TestService s("rr", {{'A', 1}, {'B', 1}, {'C', 1}});
  EXPECT_EQ(s.picks(2), "AB");
  s.sched().init_service(s.list());
  EXPECT_EQ(s.picks(3), "ABC");
}

TEST(RrTest, LongRunIsEven) {
  TestService s("rr", {{'A', 1}, {'B', 3}, {'C', 0}, {'D', 2}});
  EXPECT_EQ(s.picks(300), repeat("ABD", 100));
}

}  // namespace
}  // namespace lvs::sched
