// Flow table lookups, direct-indexed vs rte_hash (lock-free RW), in bursts of 32 random live keys.
// Items are lookups, so items_per_second is lookups/s.
#include <benchmark/benchmark.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/eal_args.h"
#include "dataplane/flow/flow_table.h"

namespace t38relay::dataplane {
namespace {

constexpr uint16_t kBurst = 32;
constexpr uint16_t kPortBase = 10000;
constexpr size_t kKeyRing = 1 << 16;  // random keys replayed in bursts

IpAddress V6() {
  uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return IpAddress::V6Bytes(b);
}
const IpAddress kV4 = IpAddress::V4(0xC0000201);

// Entry i: local address i % 2 (IPv4, IPv6), port kPortBase + i / 2, leg i. 100k legs need two
// addresses in the direct table since one address has < 65536 ports.
FlowKey EntryKey(uint32_t i) {
  return FlowKey::Of(i % 2 == 0 ? kV4 : V6(), static_cast<uint16_t>(kPortBase + i / 2));
}

rte_rcu_qsbr* Qsbr() {
  static rte_rcu_qsbr* v = [] {
    auto* q = static_cast<rte_rcu_qsbr*>(
        rte_zmalloc("bench_qsbr", rte_rcu_qsbr_get_memsize(4), RTE_CACHE_LINE_SIZE));
    if (q == nullptr || rte_rcu_qsbr_init(q, 4) != 0) std::exit(1);
    return q;
  }();
  return v;
}

const std::vector<FlowKey>& RandomKeys(uint32_t entries) {
  static std::map<uint32_t, std::vector<FlowKey>> cache;
  std::vector<FlowKey>& keys = cache[entries];
  if (keys.empty()) {
    std::mt19937 rng(entries);
    for (size_t i = 0; i < kKeyRing; ++i) keys.push_back(EntryKey(rng() % entries));
  }
  return keys;
}

template <typename Table>
void Fill(Table& table, uint32_t entries) {
  for (uint32_t i = 0; i < entries; ++i) {
    absl::Status s = table.Add(EntryKey(i), i);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
      std::exit(1);
    }
  }
}

DirectFlowTable& Direct(uint32_t entries) {
  static std::map<uint32_t, std::unique_ptr<DirectFlowTable>> cache;
  std::unique_ptr<DirectFlowTable>& table = cache[entries];
  if (table == nullptr) {
    DirectFlowTableConfig config;
    config.port_base = kPortBase;
    config.port_count = (entries + 1) / 2;
    config.addresses = {kV4, V6()};
    config.qsbr = Qsbr();
    table = std::move(DirectFlowTable::Create(config)).value();
    Fill(*table, entries);
  }
  return *table;
}

HashFlowTable& Hash(uint32_t entries) {
  static std::map<uint32_t, std::unique_ptr<HashFlowTable>> cache;
  std::unique_ptr<HashFlowTable>& table = cache[entries];
  if (table == nullptr) {
    HashFlowTableConfig config;
    config.capacity = entries;
    config.qsbr = Qsbr();
    table = std::move(HashFlowTable::Create(config)).value();
    Fill(*table, entries);
  }
  return *table;
}

template <typename Table>
void RunLookups(benchmark::State& state, const Table& table, uint32_t entries) {
  const std::vector<FlowKey>& keys = RandomKeys(entries);
  uint32_t legs[kBurst];
  size_t pos = 0;
  uint64_t hits = 0;
  for (auto _ : state) {
    hits += table.LookupBulk(&keys[pos], kBurst, legs);
    benchmark::DoNotOptimize(legs);
    pos = (pos + kBurst) & (kKeyRing - 1);
  }
  if (hits != static_cast<uint64_t>(state.iterations()) * kBurst) {
    state.SkipWithError("a live key missed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kBurst);
}

void BM_FlowLookupDirect(benchmark::State& state) {
  const auto entries = static_cast<uint32_t>(state.range(0));
  RunLookups(state, Direct(entries), entries);
}
BENCHMARK(BM_FlowLookupDirect)->Arg(10'000)->Arg(100'000);

void BM_FlowLookupRteHash(benchmark::State& state) {
  const auto entries = static_cast<uint32_t>(state.range(0));
  RunLookups(state, Hash(entries), entries);
}
BENCHMARK(BM_FlowLookupRteHash)->Arg(10'000)->Arg(100'000);

bool StartBenchEal() {
  const std::string error = dataplane::StartEal(dataplane::EalArgs("flow_bench", 512, {}));
  if (!error.empty()) std::fprintf(stderr, "%s\n", error.c_str());
  return error.empty();
}

}  // namespace
}  // namespace t38relay::dataplane

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (!t38relay::dataplane::StartBenchEal()) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
