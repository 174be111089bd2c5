// One worker lcore's flow table shard: FlowKey -> leg index, lock-free readers, RCU-safe deletes.
#pragma once

#include <rte_memory.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <concepts>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dataplane/flow/flow_key.h"

struct rte_hash;

namespace t38relay::dataplane {

// A miss in LookupBulk; never a valid leg index.
inline constexpr uint32_t kNoLeg = UINT32_MAX;
// The most keys one LookupBulk call takes (rte_hash's bulk limit).
inline constexpr uint16_t kFlowLookupMax = 64;

// Threading, for both tables below. One writer (the control side) calls Add, Remove, Reclaim and
// Size; any number of readers (the shard's worker lcore, and tests) call LookupBulk concurrently,
// without locks. Every reader is registered with `qsbr` and reports rte_rcu_qsbr_quiescent() when
// it holds no leg index from a lookup any more (after each burst).
//
// Deletion: Remove() unpublishes the key at once, but the leg index (and, for rte_hash, the key
// slot) is quarantined until every registered reader has been quiescent since; Reclaim() then hands
// the leg index back for reuse. A leg index must not be reused or its state freed before that.

// Leg indexes removed but possibly still held by a reader, oldest first.
class RemovedLegs {
 public:
  explicit RemovedLegs(rte_rcu_qsbr* qsbr) : qsbr_(qsbr) {}
  // `position` is an rte_hash key position to free with the leg, or -1.
  void Push(uint32_t leg, int32_t position);
  // Moves the entries every reader is done with to `ready_`, calling free_position(position) for
  // each position >= 0. Never blocks.
  template <typename FreePosition>
  void Poll(FreePosition free_position);
  void TakeReady(std::vector<uint32_t>* out);
  size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    uint64_t token;
    uint32_t leg;
    int32_t position;
  };
  rte_rcu_qsbr* qsbr_;
  std::deque<Pending> pending_;
  std::vector<uint32_t> ready_;
};

struct DirectFlowTableConfig {
  // Local ports [port_base, port_base + port_count) on each of `addresses` (at most
  // kMaxAddresses): the range control allocates leg ports from.
  uint16_t port_base = 0;
  uint32_t port_count = 0;
  std::vector<IpAddress> addresses;
  rte_rcu_qsbr* qsbr = nullptr;
  int socket_id = SOCKET_ID_ANY;
};

// An array indexed by (address, port - port_base): one 4-byte load per lookup.
class DirectFlowTable {
 public:
  static constexpr size_t kMaxAddresses = 4;

  static absl::StatusOr<std::unique_ptr<DirectFlowTable>> Create(
      const DirectFlowTableConfig& config);
  ~DirectFlowTable();
  DirectFlowTable(const DirectFlowTable&) = delete;
  DirectFlowTable& operator=(const DirectFlowTable&) = delete;

  // Control side.
  absl::Status Add(const FlowKey& key, uint32_t leg);
  absl::Status Remove(const FlowKey& key);
  // Appends the leg indexes that may be reused now.
  void Reclaim(std::vector<uint32_t>* reusable);
  size_t Size() const { return size_; }
  size_t Capacity() const { return slot_count_; }

  // Packet path: legs[i] = the leg of keys[i], or kNoLeg. n <= kFlowLookupMax. Returns the hits.
  uint16_t LookupBulk(const FlowKey* keys, uint16_t n, uint32_t* legs) const;

 private:
  struct Address {
    IpFamily family;
    uint64_t lo;
    uint64_t hi;
  };
  DirectFlowTable(const DirectFlowTableConfig& config, std::atomic<uint32_t>* slots);
  // The slot of `key`, or -1 when its address or port is outside the configured ranges.
  int64_t SlotOf(const FlowKey& key) const;

  std::atomic<uint32_t>* slots_;
  size_t slot_count_;
  uint16_t port_base_;
  uint32_t port_count_;
  uint32_t address_count_;
  Address addresses_[kMaxAddresses] = {};
  size_t size_ = 0;
  RemovedLegs removed_;
};

struct HashFlowTableConfig {
  uint32_t capacity = 0;
  rte_rcu_qsbr* qsbr = nullptr;
  int socket_id = SOCKET_ID_ANY;
};

// rte_hash with RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF and an extendable bucket table (so that
// `capacity` keys always fit); any local address or port.
class HashFlowTable {
 public:
  static absl::StatusOr<std::unique_ptr<HashFlowTable>> Create(const HashFlowTableConfig& config);
  ~HashFlowTable();
  HashFlowTable(const HashFlowTable&) = delete;
  HashFlowTable& operator=(const HashFlowTable&) = delete;

  absl::Status Add(const FlowKey& key, uint32_t leg);
  absl::Status Remove(const FlowKey& key);
  void Reclaim(std::vector<uint32_t>* reusable);
  size_t Size() const { return size_; }
  size_t Capacity() const { return capacity_; }

  uint16_t LookupBulk(const FlowKey* keys, uint16_t n, uint32_t* legs) const;

 private:
  HashFlowTable(rte_hash* hash, const HashFlowTableConfig& config);
  void Poll();

  rte_hash* hash_;
  uint32_t capacity_;
  size_t size_ = 0;
  RemovedLegs removed_;
};

// The interface both tables share, so that the worker can take either.
template <typename T>
concept FlowTableShard = requires(T t, const T ct, const FlowKey& key, uint32_t leg,
                                  std::vector<uint32_t>* reusable, const FlowKey* keys,
                                  uint32_t* legs) {
  { t.Add(key, leg) } -> std::same_as<absl::Status>;
  { t.Remove(key) } -> std::same_as<absl::Status>;
  t.Reclaim(reusable);
  { ct.Size() } -> std::same_as<size_t>;
  { ct.LookupBulk(keys, uint16_t{1}, legs) } -> std::same_as<uint16_t>;
};
static_assert(FlowTableShard<DirectFlowTable>);
static_assert(FlowTableShard<HashFlowTable>);

}  // namespace t38relay::dataplane
