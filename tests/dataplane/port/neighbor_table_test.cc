// The neighbour table: set/lookup/erase/age, probe limits, tombstones, and a live reader that
// never sees a torn entry while the writer churns.
#include "dataplane/port/neighbor_table.h"

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace t38relay::dataplane {
namespace {

IpAddress V4(uint32_t i) { return IpAddress::V4(0xC6120000 | i); }  // 198.18.x.y
IpAddress V6(uint32_t i) {
  uint8_t b[16] = {0xfd, 0x00, 0x01, 0x98, 0x00, 0x18, 0, 0, 0, 0, 0, 0};
  b[12] = static_cast<uint8_t>(i >> 24);
  b[13] = static_cast<uint8_t>(i >> 16);
  b[14] = static_cast<uint8_t>(i >> 8);
  b[15] = static_cast<uint8_t>(i);
  return IpAddress::V6Bytes(b);
}
MacAddress Mac(uint32_t i, uint8_t version = 0) {
  return {0x02, version, static_cast<uint8_t>(i >> 24), static_cast<uint8_t>(i >> 16),
          static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
}

TEST(NeighborTableTest, SetLookupUpdateErase) {
  NeighborTable table(64);
  MacAddress mac;
  EXPECT_FALSE(table.Lookup(0, V4(1), &mac));
  ASSERT_TRUE(table.Set(0, V4(1), Mac(1), 0));
  ASSERT_TRUE(table.Set(0, V6(1), Mac(2), 0));
  ASSERT_TRUE(table.Set(1, V4(1), Mac(3), 0));
  EXPECT_EQ(table.size(), 3u);
  ASSERT_TRUE(table.Lookup(0, V4(1), &mac));
  EXPECT_EQ(mac, Mac(1));
  ASSERT_TRUE(table.Lookup(0, V6(1), &mac));
  EXPECT_EQ(mac, Mac(2));
  ASSERT_TRUE(table.Lookup(1, V4(1), &mac));  // ports are separate
  EXPECT_EQ(mac, Mac(3));
  EXPECT_FALSE(table.Lookup(2, V4(1), &mac));

  ASSERT_TRUE(table.Set(0, V4(1), Mac(9), 5));  // a new MAC replaces the old one
  EXPECT_EQ(table.size(), 3u);
  ASSERT_TRUE(table.Lookup(0, V4(1), &mac));
  EXPECT_EQ(mac, Mac(9));

  EXPECT_TRUE(table.Erase(0, V4(1)));
  EXPECT_FALSE(table.Erase(0, V4(1)));
  EXPECT_FALSE(table.Lookup(0, V4(1), &mac));
  EXPECT_TRUE(table.Lookup(1, V4(1), &mac));
  EXPECT_EQ(table.size(), 2u);

  // No family, or a port past the limit, is never stored.
  EXPECT_FALSE(table.Set(0, IpAddress{}, Mac(1), 0));
  EXPECT_FALSE(table.Lookup(0, IpAddress{}, &mac));
  EXPECT_FALSE(table.Set(NeighborTable::kMaxPorts + 1, V4(1), Mac(1), 0));
}

// version() moves on whenever what a Lookup returns could change, and only then: a worker's
// cached header built from a Lookup stays valid while it does not move.
TEST(NeighborTableTest, VersionMovesOnEveryChangeButNotOnARefresh) {
  NeighborTable table(16);
  const uint64_t v0 = table.version();
  ASSERT_TRUE(table.Set(0, V4(1), Mac(1), 0));
  const uint64_t v1 = table.version();
  EXPECT_NE(v1, v0);
  ASSERT_TRUE(table.Set(0, V4(1), Mac(1), 10));  // the same MAC again: a refresh
  EXPECT_EQ(table.version(), v1);
  ASSERT_TRUE(table.Set(0, V4(1), Mac(1, 1), 20));  // a new MAC
  const uint64_t v2 = table.version();
  EXPECT_NE(v2, v1);
  ASSERT_TRUE(table.Erase(0, V4(1)));
  const uint64_t v3 = table.version();
  EXPECT_NE(v3, v2);
  ASSERT_TRUE(table.Set(0, V4(2), Mac(2), 0));
  EXPECT_EQ(table.Age(table.lifetime_ms() + 1), 1u);  // expiry is a change too
  EXPECT_NE(table.version(), v3);
}

TEST(NeighborTableTest, EntriesExpireUnlessRefreshed) {
  NeighborTable table(16, 1000);
  ASSERT_TRUE(table.Set(0, V4(1), Mac(1), 0));
  ASSERT_TRUE(table.Set(0, V4(2), Mac(2), 0));
  EXPECT_EQ(table.Age(999), 0u);
  ASSERT_TRUE(table.Set(0, V4(2), Mac(2), 500));  // refreshed
  EXPECT_EQ(table.Age(1000), 1u);
  MacAddress mac;
  EXPECT_FALSE(table.Lookup(0, V4(1), &mac));
  EXPECT_TRUE(table.Lookup(0, V4(2), &mac));
  EXPECT_EQ(table.Age(1499), 0u);
  EXPECT_EQ(table.Age(1500), 1u);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(NeighborTable(1).lifetime_ms(), 300'000u);
}

TEST(NeighborTableTest, FillsToCapacityAndSurvivesChurn) {
  constexpr uint32_t kCapacity = 1000;
  NeighborTable table(kCapacity);
  EXPECT_GE(table.slots(), 4 * kCapacity);
  for (uint32_t i = 0; i < kCapacity; ++i) ASSERT_TRUE(table.Set(0, V4(i), Mac(i), 0)) << i;
  MacAddress mac;
  for (uint32_t i = 0; i < kCapacity; ++i) {
    ASSERT_TRUE(table.Lookup(0, V4(i), &mac)) << i;
    ASSERT_EQ(mac, Mac(i));
  }
  // Erase every other entry and insert new ones: tombstones are reused, everything stays found.
  for (int round = 1; round <= 20; ++round) {
    for (uint32_t i = 0; i < kCapacity; i += 2) ASSERT_TRUE(table.Erase(0, V4(i)));
    for (uint32_t i = 0; i < kCapacity; i += 2) {
      ASSERT_TRUE(table.Set(0, V6(i + round * kCapacity), Mac(i), 0)) << i;
    }
    for (uint32_t i = 0; i < kCapacity; i += 2) {
      ASSERT_TRUE(table.Lookup(0, V6(i + round * kCapacity), &mac)) << i;
      ASSERT_TRUE(table.Erase(0, V6(i + round * kCapacity)));
      ASSERT_TRUE(table.Set(0, V4(i), Mac(i), 0));
    }
    for (uint32_t i = 1; i < kCapacity; i += 2) ASSERT_TRUE(table.Lookup(0, V4(i), &mac)) << i;
  }
  EXPECT_EQ(table.size(), kCapacity);
  EXPECT_EQ(table.Age(NeighborTable::kDefaultLifetimeMs), kCapacity);
  EXPECT_EQ(table.size(), 0u);
  for (uint32_t i = 0; i < kCapacity; ++i) ASSERT_FALSE(table.Lookup(0, V4(i), &mac));
}

TEST(NeighborTableTest, AFullProbeWindowRefusesInsteadOfSearchingFurther) {
  NeighborTable table(4);  // 16 slots, fewer than kMaxProbe
  size_t stored = 0;
  for (uint32_t i = 0; i < 40; ++i) stored += table.Set(0, V4(i), Mac(i), 0) ? 1 : 0;
  EXPECT_EQ(stored, table.slots());
  EXPECT_EQ(table.size(), table.slots());
  MacAddress mac;
  size_t found = 0;
  for (uint32_t i = 0; i < 40; ++i) found += table.Lookup(0, V4(i), &mac) ? 1 : 0;
  EXPECT_EQ(found, stored);
}

// One writer keeps erasing, re-inserting and re-pointing entries; readers check that every hit
// carries the MAC that belongs to the address (a torn read would mix them) with a consistent
// version byte.
TEST(NeighborTableTest, ReadersNeverSeeTornEntries) {
  constexpr uint32_t kEntries = 256;
  NeighborTable table(kEntries);
  for (uint32_t i = 0; i < kEntries; ++i) ASSERT_TRUE(table.Set(0, V4(i), Mac(i), 0));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> hits{0}, bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      uint64_t local_hits = 0;
      uint32_t i = static_cast<uint32_t>(r) * 7;
      while (!stop.load(std::memory_order_relaxed)) {
        i = (i + 1) % kEntries;
        MacAddress mac;
        const bool v6 = (i & 1) != 0;
        if (table.Lookup(0, v6 ? V6(i) : V4(i), &mac)) {
          ++local_hits;
          MacAddress want = Mac(i, mac[1]);
          if (mac != want || mac[1] > 3) bad.fetch_add(1);
        }
      }
      hits.fetch_add(local_hits);
    });
  }
  uint64_t writes = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  for (uint8_t version = 0; std::chrono::steady_clock::now() < until;
       version = static_cast<uint8_t>((version + 1) & 3)) {
    for (uint32_t i = 0; i < kEntries; ++i) {
      const IpAddress ip = (i & 1) != 0 ? V6(i) : V4(i);
      if (i % 3 == 0) {
        table.Erase(0, V4(i));
        table.Erase(0, V6(i));
      }
      table.Set(0, ip, Mac(i, version), 0);
      ++writes;
    }
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(hits.load(), 0u);
  EXPECT_GT(writes, 0u);
}

}  // namespace
}  // namespace t38relay::dataplane
