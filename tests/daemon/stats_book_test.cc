#include "daemon/stats_book.h"

#include <gtest/gtest.h>

namespace lvs::daemon {
namespace {

core::ServiceKey key(uint16_t port) {
  core::ServiceKey k;
  k.proto = 6;
  k.addr = *net::IpAddr::parse("198.18.0.10");
  k.port = port;
  return k;
}

core::ServiceSnapshot service(uint16_t port, std::vector<std::pair<const char*, uint64_t>> dests,
                              uint64_t conns) {
  core::ServiceSnapshot s;
  s.key = key(port);
  s.stats.conns = conns;
  for (const auto& [addr, c] : dests) {
    core::DestSnapshot d;
    d.addr = *net::IpAddr::parse(addr);
    d.port = 80;
    d.stats.conns = c;
    d.active_conns = 1;
    s.dests.push_back(d);
  }
  return s;
}

TEST(MergeSnapshot, SumsServicesAndServersInPlaceAndOutOfPlace) {
  std::vector<core::ServiceSnapshot> into;
  merge_snapshot(into, {service(80, {{"198.18.1.1", 1}, {"198.18.1.2", 2}}, 3),
                        service(81, {{"198.18.1.1", 5}}, 5)});
  // The second worker lists them in another order, and its servers too.
  merge_snapshot(into, {service(81, {{"198.18.1.1", 10}}, 10),
                        service(80, {{"198.18.1.2", 20}, {"198.18.1.1", 10}}, 30),
                        service(82, {{"198.18.1.9", 1}}, 1)});  // unknown: ignored
  ASSERT_EQ(into.size(), 2u);
  EXPECT_EQ(into[0].stats.conns, 33u);
  EXPECT_EQ(into[0].dests[0].stats.conns, 11u);
  EXPECT_EQ(into[0].dests[1].stats.conns, 22u);
  EXPECT_EQ(into[0].dests[1].active_conns, 2u);
  EXPECT_EQ(into[1].stats.conns, 15u);
}

TEST(StatsBook, RatesPerServiceAndServer) {
  StatsBook book;
  book.sample({service(80, {{"198.18.1.1", 0}}, 0)});
  EXPECT_EQ(book.service(key(80)).cps, 0u);  // the first sample: nothing yet
  // 2000 connections in 2 s: the first sample shows a quarter of 1000/s.
  book.sample({service(80, {{"198.18.1.1", 2000}}, 2000)});
  EXPECT_EQ(book.service(key(80)).cps, 250u);
  EXPECT_EQ(book.dest(key(80), *net::IpAddr::parse("198.18.1.1"), 80).cps, 250u);
  EXPECT_EQ(book.dest(key(80), *net::IpAddr::parse("198.18.1.2"), 80), core::Rates{});
  EXPECT_EQ(book.service(key(81)), core::Rates{});
}

TEST(StatsBook, NewServicesCountFromZeroAndGoneOnesAreForgotten) {
  StatsBook book;
  book.sample({service(80, {}, 0)});
  // 81 appeared since the last sample: its counters are its first 2 s (as IPVS, from 0).
  book.sample({service(80, {}, 2000), service(81, {}, 2000)});
  EXPECT_EQ(book.service(key(81)).cps, 250u);
  book.sample({service(81, {}, 2000)});
  EXPECT_EQ(book.service(key(80)), core::Rates{});
  // 80 came back as a new service: counters from 0 again, and an estimator from 0.
  book.sample({service(80, {}, 4000), service(81, {}, 2000)});
  EXPECT_EQ(book.service(key(80)).cps, 500u);
}

TEST(StatsBook, ZeroedRestartsFromTheNextSample) {
  StatsBook book;
  book.sample({service(80, {{"198.18.1.1", 0}}, 0), service(81, {}, 0)});
  book.sample({service(80, {{"198.18.1.1", 2000}}, 2000), service(81, {}, 2000)});
  const core::ServiceKey k = key(80);
  book.zeroed(&k);
  EXPECT_EQ(book.service(key(80)), core::Rates{});
  EXPECT_EQ(book.dest(key(80), *net::IpAddr::parse("198.18.1.1"), 80), core::Rates{});
  EXPECT_EQ(book.service(key(81)).cps, 250u);
  // Traffic after the zero but before the sample is not counted as a rate.
  book.sample({service(80, {{"198.18.1.1", 100}}, 100), service(81, {}, 4000)});
  EXPECT_EQ(book.service(key(80)).cps, 0u);
  book.sample({service(80, {{"198.18.1.1", 2100}}, 2100), service(81, {}, 6000)});
  EXPECT_EQ(book.service(key(80)).cps, 250u);
  EXPECT_EQ(book.service(key(81)).cps, 578u);  // 250, 437, 578: samples went on for it
}

}  // namespace
}  // namespace lvs::daemon
