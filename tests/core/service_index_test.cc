#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <vector>

#include "core/service.h"

namespace lvs::core {
namespace {

std::unique_ptr<Service> make(uint32_t i) {
  auto s = std::make_unique<Service>();
  if (i % 7 == 0) {
    s->key = ServiceKey::fwmark_key(net::Family::kV4, i + 1);
  } else {
    s->key.proto = i % 2 ? 6 : 17;
    s->key.addr = net::IpAddr::v4(0xc6120000u + i / 3);  // 198.18.x.y, three ports per address
    s->key.port = uint16_t(80 + i % 3);
  }
  s->index = i;
  return s;
}

// Inserts and erases in random order against a reference, then checks every key both through
// the control path (find_key) and the packet path (find / find_fwmark).
TEST(ServiceIndex, InsertEraseKeepsEveryKeyFindable) {
  std::mt19937 rng(7);
  std::vector<std::unique_ptr<Service>> all;
  for (uint32_t i = 0; i < 3000; ++i) all.push_back(make(i));
  ServiceIndex index;
  index.rebuild({}, 12345);
  std::vector<bool> in(all.size(), false);
  for (int round = 0; round < 20000; ++round) {
    const size_t i = rng() % all.size();
    if (in[i]) {
      index.erase(all[i].get());
    } else {
      index.insert(all[i].get());
    }
    in[i] = !in[i];
  }
  for (size_t i = 0; i < all.size(); ++i) {
    const ServiceKey& k = all[i]->key;
    EXPECT_EQ(index.find_key(k), in[i] ? all[i].get() : nullptr) << i;
    const Service* hot = k.fwmark ? index.find_fwmark(k.addr.family, k.fwmark)
                                  : index.find(k.proto, k.addr.family, k.addr.data(), k.port);
    EXPECT_EQ(hot, in[i] ? all[i].get() : nullptr) << i;
  }
}

TEST(ServiceIndex, RebuildThenChanges) {
  std::vector<std::unique_ptr<Service>> all;
  for (uint32_t i = 0; i < 100; ++i) all.push_back(make(i));
  ServiceIndex index;
  index.rebuild(all, 99);
  for (uint32_t i = 0; i < 100; i += 2) index.erase(all[i].get());
  for (uint32_t i = 0; i < 100; ++i) {
    EXPECT_EQ(index.find_key(all[i]->key), i % 2 ? all[i].get() : nullptr) << i;
  }
  index.erase(all[0].get());  // erasing what is not there changes nothing
  for (uint32_t i = 0; i < 100; i += 2) index.insert(all[i].get());
  for (uint32_t i = 0; i < 100; ++i) EXPECT_EQ(index.find_key(all[i]->key), all[i].get()) << i;
}

}  // namespace
}  // namespace lvs::core
