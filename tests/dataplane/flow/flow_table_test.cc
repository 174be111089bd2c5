// Flow table shards: add/lookup/remove, bulk misses, limits, RCU-deferred reuse, a live reader.
#include "dataplane/flow/flow_table.h"

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/eal_support.h"

namespace t38relay::dataplane {
namespace {

constexpr uint16_t kPortBase = 20000;
constexpr uint32_t kPortCount = 4096;
constexpr uint32_t kReaders = 4;

const IpAddress kV4 = IpAddress::V4(0xC0000201);  // 192.0.2.1
IpAddress V6() {
  uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return IpAddress::V6Bytes(b);
}
FlowKey Key(uint32_t port, bool v6 = false) {
  return FlowKey::Of(v6 ? V6() : kV4, static_cast<uint16_t>(port));
}

struct QsbrDeleter {
  void operator()(rte_rcu_qsbr* v) const { rte_free(v); }
};
using Qsbr = std::unique_ptr<rte_rcu_qsbr, QsbrDeleter>;
Qsbr MakeQsbr() {
  const size_t size = rte_rcu_qsbr_get_memsize(kReaders);
  auto* v = static_cast<rte_rcu_qsbr*>(rte_zmalloc("test_qsbr", size, RTE_CACHE_LINE_SIZE));
  if (v == nullptr || rte_rcu_qsbr_init(v, kReaders) != 0) return nullptr;
  return Qsbr(v);
}

std::unique_ptr<DirectFlowTable> Make(DirectFlowTable*, rte_rcu_qsbr* qsbr, uint32_t capacity) {
  DirectFlowTableConfig config;
  config.port_base = kPortBase;
  config.port_count = capacity;
  config.addresses = {kV4, V6()};
  config.qsbr = qsbr;
  absl::StatusOr<std::unique_ptr<DirectFlowTable>> table = DirectFlowTable::Create(config);
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? std::move(*table) : nullptr;
}
std::unique_ptr<HashFlowTable> Make(HashFlowTable*, rte_rcu_qsbr* qsbr, uint32_t capacity) {
  HashFlowTableConfig config;
  config.capacity = capacity;
  config.qsbr = qsbr;
  absl::StatusOr<std::unique_ptr<HashFlowTable>> table = HashFlowTable::Create(config);
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? std::move(*table) : nullptr;
}

template <typename T>
class FlowTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::StartEal({}));
    qsbr_ = MakeQsbr();
    ASSERT_NE(qsbr_, nullptr);
    table_ = Make(static_cast<T*>(nullptr), qsbr_.get(), kPortCount);
    ASSERT_NE(table_, nullptr);
  }
  uint32_t LookupOne(const FlowKey& key) {
    uint32_t leg = 0;
    table_->LookupBulk(&key, 1, &leg);
    return leg;
  }
  std::vector<uint32_t> Reclaim() {
    std::vector<uint32_t> legs;
    table_->Reclaim(&legs);
    return legs;
  }

  Qsbr qsbr_;
  std::unique_ptr<T> table_;
};

using Tables = ::testing::Types<DirectFlowTable, HashFlowTable>;
TYPED_TEST_SUITE(FlowTableTest, Tables);

TYPED_TEST(FlowTableTest, AddLookupRemove) {
  EXPECT_EQ(this->LookupOne(Key(kPortBase)), kNoLeg);
  ASSERT_TRUE(this->table_->Add(Key(kPortBase), 7).ok());
  ASSERT_TRUE(this->table_->Add(Key(kPortBase, /*v6=*/true), 8).ok());
  ASSERT_TRUE(this->table_->Add(Key(kPortBase + kPortCount - 1), 9).ok());
  EXPECT_EQ(this->table_->Size(), 3u);
  EXPECT_EQ(this->LookupOne(Key(kPortBase)), 7u);
  EXPECT_EQ(this->LookupOne(Key(kPortBase, true)), 8u);
  EXPECT_EQ(this->LookupOne(Key(kPortBase + kPortCount - 1)), 9u);
  EXPECT_EQ(this->LookupOne(Key(kPortBase + 1)), kNoLeg);

  ASSERT_TRUE(this->table_->Remove(Key(kPortBase)).ok());
  EXPECT_EQ(this->LookupOne(Key(kPortBase)), kNoLeg);
  EXPECT_EQ(this->LookupOne(Key(kPortBase, true)), 8u);
  EXPECT_EQ(this->table_->Size(), 2u);
  // No reader is registered, so the leg is reusable at once.
  EXPECT_EQ(this->Reclaim(), std::vector<uint32_t>{7});
  ASSERT_TRUE(this->table_->Add(Key(kPortBase), 7).ok());
  EXPECT_EQ(this->LookupOne(Key(kPortBase)), 7u);
}

TYPED_TEST(FlowTableTest, ControlErrors) {
  ASSERT_TRUE(this->table_->Add(Key(kPortBase + 5), 1).ok());
  EXPECT_EQ(this->table_->Add(Key(kPortBase + 5), 2).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(this->LookupOne(Key(kPortBase + 5)), 1u);
  EXPECT_EQ(this->table_->Remove(Key(kPortBase + 6)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(this->table_->Add(Key(kPortBase + 6), kNoLeg).code(),
            absl::StatusCode::kInvalidArgument);
}

TYPED_TEST(FlowTableTest, BulkLookupWithMisses) {
  for (uint32_t i = 0; i < kPortCount; i += 2) {
    ASSERT_TRUE(this->table_->Add(Key(kPortBase + i), i).ok());
  }
  for (uint16_t n : {uint16_t{1}, uint16_t{7}, uint16_t{32}, kFlowLookupMax}) {
    std::vector<FlowKey> keys;
    for (uint16_t i = 0; i < n; ++i) keys.push_back(Key(kPortBase + 100 + i));
    std::vector<uint32_t> legs(n, 12345);
    const uint16_t hits = this->table_->LookupBulk(keys.data(), n, legs.data());
    EXPECT_EQ(hits, (n + 1) / 2) << n;
    for (uint16_t i = 0; i < n; ++i) {
      EXPECT_EQ(legs[i], i % 2 == 0 ? 100u + i : kNoLeg) << n << " " << i;
    }
  }
}

TYPED_TEST(FlowTableTest, LegReusedOnlyAfterEveryReaderIsQuiescent) {
  ASSERT_EQ(rte_rcu_qsbr_thread_register(this->qsbr_.get(), 0), 0);
  ASSERT_EQ(rte_rcu_qsbr_thread_register(this->qsbr_.get(), 1), 0);
  rte_rcu_qsbr_thread_online(this->qsbr_.get(), 0);
  rte_rcu_qsbr_thread_online(this->qsbr_.get(), 1);
  ASSERT_TRUE(this->table_->Add(Key(kPortBase), 3).ok());
  ASSERT_TRUE(this->table_->Remove(Key(kPortBase)).ok());
  EXPECT_EQ(this->LookupOne(Key(kPortBase)), kNoLeg);
  EXPECT_TRUE(this->Reclaim().empty());
  rte_rcu_qsbr_quiescent(this->qsbr_.get(), 0);
  EXPECT_TRUE(this->Reclaim().empty()) << "reader 1 has not been quiescent yet";
  rte_rcu_qsbr_quiescent(this->qsbr_.get(), 1);
  EXPECT_EQ(this->Reclaim(), std::vector<uint32_t>{3});
  EXPECT_TRUE(this->Reclaim().empty());
  for (unsigned id : {0u, 1u}) {
    rte_rcu_qsbr_thread_offline(this->qsbr_.get(), id);
    rte_rcu_qsbr_thread_unregister(this->qsbr_.get(), id);
  }
}

// One reader looks up continuously while the writer removes and re-adds legs. Every lookup of a
// live key must hit its leg, and a leg index seen by the reader must still belong to the key it
// was found under until the reader reports quiescent (i.e. no reuse before quiescence).
TYPED_TEST(FlowTableTest, ConcurrentReaderSeesNoLostOrReusedLegs) {
  constexpr uint32_t kStable = 512;  // ports kPortBase + [0, kStable): never removed
  constexpr uint32_t kChurn = 512;   // ports kPortBase + kStable + [0, kChurn): removed, re-added
  constexpr uint32_t kLegs = kStable + 2 * kChurn;
  constexpr uint32_t kUnowned = UINT32_MAX;
  std::vector<std::atomic<uint32_t>> owner(kLegs);  // leg -> port it is programmed for
  for (auto& o : owner) o.store(kUnowned);
  std::vector<uint32_t> free_legs;
  for (uint32_t leg = kLegs; leg-- > kStable;) free_legs.push_back(leg);
  for (uint32_t i = 0; i < kStable; ++i) {
    owner[i].store(kPortBase + i);
    ASSERT_TRUE(this->table_->Add(Key(kPortBase + i), i).ok());
  }
  std::vector<uint32_t> churn_leg(kChurn, kNoLeg);
  auto add_churn = [&](uint32_t c) {
    const uint32_t leg = free_legs.back();
    free_legs.pop_back();
    owner[leg].store(kPortBase + kStable + c, std::memory_order_relaxed);
    churn_leg[c] = leg;
    return this->table_->Add(Key(kPortBase + kStable + c), leg);
  };
  for (uint32_t c = 0; c < kChurn; ++c) ASSERT_TRUE(add_churn(c).ok());

  rte_rcu_qsbr* qsbr = this->qsbr_.get();
  ASSERT_EQ(rte_rcu_qsbr_thread_register(qsbr, 1), 0);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> lost{0}, reused{0}, bursts{0}, churn_hits{0};
  const auto* table = this->table_.get();
  std::thread reader([&] {
    rte_rcu_qsbr_thread_online(qsbr, 1);
    std::mt19937 rng(1);
    FlowKey keys[32];
    uint32_t ports[32];
    uint32_t legs[32];
    while (!stop.load(std::memory_order_relaxed)) {
      for (int i = 0; i < 32; ++i) {
        ports[i] = kPortBase + rng() % (kStable + kChurn);
        keys[i] = Key(ports[i]);
      }
      table->LookupBulk(keys, 32, legs);
      for (int i = 0; i < 32; ++i) {
        if (ports[i] < kPortBase + kStable) {
          if (legs[i] != ports[i] - kPortBase) lost.fetch_add(1, std::memory_order_relaxed);
        } else if (legs[i] != kNoLeg) {
          churn_hits.fetch_add(1, std::memory_order_relaxed);
          if (legs[i] >= kLegs || owner[legs[i]].load(std::memory_order_relaxed) != ports[i]) {
            reused.fetch_add(1, std::memory_order_relaxed);
          }
        }
      }
      bursts.fetch_add(1, std::memory_order_relaxed);
      rte_rcu_qsbr_quiescent(qsbr, 1);
    }
    rte_rcu_qsbr_thread_offline(qsbr, 1);
  });

  std::mt19937 rng(2);
  std::vector<uint32_t> reclaimed;
  uint64_t waits = 0;
  // On a loaded machine the reader may start late: churn only while it reads, and long enough.
  while (bursts.load() == 0) std::this_thread::yield();
  for (int round = 0; round < 100000 || bursts.load() < 200; ++round) {
    const uint32_t c = rng() % kChurn;
    ASSERT_TRUE(this->table_->Remove(Key(kPortBase + kStable + c)).ok());
    reclaimed.clear();
    this->table_->Reclaim(&reclaimed);
    for (uint32_t leg : reclaimed) {
      owner[leg].store(kUnowned, std::memory_order_relaxed);
      free_legs.push_back(leg);
    }
    while (free_legs.empty()) {  // every spare leg is still quarantined: wait for the reader
      ++waits;
      std::this_thread::yield();
      reclaimed.clear();
      this->table_->Reclaim(&reclaimed);
      for (uint32_t leg : reclaimed) {
        owner[leg].store(kUnowned, std::memory_order_relaxed);
        free_legs.push_back(leg);
      }
    }
    // Shuffle so that a just-reclaimed leg is not always the next one used.
    std::swap(free_legs.back(), free_legs[rng() % free_legs.size()]);
    ASSERT_TRUE(add_churn(c).ok());
  }
  stop.store(true);
  reader.join();
  rte_rcu_qsbr_thread_unregister(qsbr, 1);

  EXPECT_EQ(lost.load(), 0u);
  EXPECT_EQ(reused.load(), 0u);
  EXPECT_GT(bursts.load(), 100u);
  EXPECT_GT(churn_hits.load(), 0u);
  EXPECT_EQ(this->table_->Size(), kStable + kChurn);
  std::printf("reader bursts %llu, churn hits %llu, writer waits %llu\n",
              static_cast<unsigned long long>(bursts.load()),
              static_cast<unsigned long long>(churn_hits.load()),
              static_cast<unsigned long long>(waits));
}

class FlowTableLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::StartEal({}));
    qsbr_ = MakeQsbr();
    ASSERT_NE(qsbr_, nullptr);
  }
  Qsbr qsbr_;
};

TEST_F(FlowTableLimitsTest, DirectRejectsKeysOutsideItsRanges) {
  auto table = Make(static_cast<DirectFlowTable*>(nullptr), qsbr_.get(), 16);
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->Capacity(), 32u);
  EXPECT_EQ(table->Add(Key(kPortBase - 1), 1).code(), absl::StatusCode::kOutOfRange);
  absl::Status s = table->Add(Key(kPortBase + 16), 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(s.message().find("20000..20015"), std::string_view::npos) << s;
  EXPECT_EQ(table->Add(FlowKey::Of(IpAddress::V4(0x0A000001), kPortBase), 1).code(),
            absl::StatusCode::kOutOfRange);
  for (uint32_t i = 0; i < 16; ++i) {
    ASSERT_TRUE(table->Add(Key(kPortBase + i), i).ok());
    ASSERT_TRUE(table->Add(Key(kPortBase + i, true), 16 + i).ok());
  }
  // Lookups outside the ranges are misses, never out-of-bounds reads.
  FlowKey keys[3] = {Key(0), Key(65535), FlowKey{}};
  uint32_t legs[3];
  EXPECT_EQ(table->LookupBulk(keys, 3, legs), 0);
  EXPECT_EQ(legs[0], kNoLeg);
  EXPECT_EQ(legs[1], kNoLeg);
  EXPECT_EQ(legs[2], kNoLeg);

  DirectFlowTableConfig bad;
  bad.qsbr = qsbr_.get();
  bad.port_base = 65000;
  bad.port_count = 1000;
  bad.addresses = {kV4};
  EXPECT_EQ(DirectFlowTable::Create(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FlowTableLimitsTest, HashRejectsAddsPastCapacityIncludingQuarantinedSlots) {
  auto table = Make(static_cast<HashFlowTable*>(nullptr), qsbr_.get(), 16);
  ASSERT_NE(table, nullptr);
  for (uint32_t i = 0; i < 16; ++i) ASSERT_TRUE(table->Add(Key(kPortBase + i), i).ok());
  absl::Status full = table->Add(Key(kPortBase + 16), 16);
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find("capacity 16"), std::string_view::npos) << full;

  // A removed key's slot stays taken while a reader may still hold it.
  ASSERT_EQ(rte_rcu_qsbr_thread_register(qsbr_.get(), 0), 0);
  rte_rcu_qsbr_thread_online(qsbr_.get(), 0);
  ASSERT_TRUE(table->Remove(Key(kPortBase)).ok());
  EXPECT_EQ(table->Add(Key(kPortBase + 16), 16).code(), absl::StatusCode::kResourceExhausted);
  rte_rcu_qsbr_quiescent(qsbr_.get(), 0);
  EXPECT_TRUE(table->Add(Key(kPortBase + 16), 16).ok());
  std::vector<uint32_t> legs;
  table->Reclaim(&legs);
  EXPECT_EQ(legs, std::vector<uint32_t>{0});
  rte_rcu_qsbr_thread_offline(qsbr_.get(), 0);
  rte_rcu_qsbr_thread_unregister(qsbr_.get(), 0);

  HashFlowTableConfig zero;
  zero.qsbr = qsbr_.get();
  EXPECT_EQ(HashFlowTable::Create(zero).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace t38relay::dataplane
