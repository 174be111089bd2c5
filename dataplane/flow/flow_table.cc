// The flow table shards: a direct-indexed array and an rte_hash, both with RCU-deferred reuse.
#include "dataplane/flow/flow_table.h"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include <cstdio>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"

namespace t38relay::dataplane {

void RemovedLegs::Push(uint32_t leg, int32_t position) {
  // The key is already unpublished; any reader that can still hold `leg` has not yet reported
  // quiescent after this token.
  pending_.push_back({rte_rcu_qsbr_start(qsbr_), leg, position});
}

template <typename FreePosition>
void RemovedLegs::Poll(FreePosition free_position) {
  // Tokens only grow, so the first entry not yet safe ends the scan.
  while (!pending_.empty() && rte_rcu_qsbr_check(qsbr_, pending_.front().token, false) == 1) {
    if (pending_.front().position >= 0) free_position(pending_.front().position);
    ready_.push_back(pending_.front().leg);
    pending_.pop_front();
  }
}

void RemovedLegs::TakeReady(std::vector<uint32_t>* out) {
  out->insert(out->end(), ready_.begin(), ready_.end());
  ready_.clear();
}

// ---- DirectFlowTable ----

absl::StatusOr<std::unique_ptr<DirectFlowTable>> DirectFlowTable::Create(
    const DirectFlowTableConfig& config) {
  if (config.qsbr == nullptr) {
    return absl::InvalidArgumentError("flow table: no rte_rcu_qsbr variable given");
  }
  if (config.port_count == 0 || config.port_base + config.port_count > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat("flow table: port range ", config.port_base, " + ", config.port_count,
                     " ports must be non-empty and end at or below 65535"));
  }
  if (config.addresses.empty() || config.addresses.size() > kMaxAddresses) {
    return absl::InvalidArgumentError(absl::StrCat("flow table: give 1 to ", kMaxAddresses,
                                                   " local addresses, not ",
                                                   config.addresses.size()));
  }
  for (const IpAddress& a : config.addresses) {
    if (a.family == IpFamily::kNone) {
      return absl::InvalidArgumentError("flow table: a local address has no family");
    }
  }
  const size_t count = config.port_count * config.addresses.size();
  void* memory = rte_malloc_socket("flow_direct", count * sizeof(std::atomic<uint32_t>),
                                   RTE_CACHE_LINE_SIZE, config.socket_id);
  if (memory == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("flow table: cannot allocate ", count, " slots from DPDK memory"));
  }
  auto* slots = static_cast<std::atomic<uint32_t>*>(memory);
  for (size_t i = 0; i < count; ++i) new (&slots[i]) std::atomic<uint32_t>(kNoLeg);
  return std::unique_ptr<DirectFlowTable>(new DirectFlowTable(config, slots));
}

DirectFlowTable::DirectFlowTable(const DirectFlowTableConfig& config, std::atomic<uint32_t>* slots)
    : slots_(slots),
      slot_count_(config.port_count * config.addresses.size()),
      port_base_(config.port_base),
      port_count_(config.port_count),
      address_count_(static_cast<uint32_t>(config.addresses.size())),
      removed_(config.qsbr) {
  for (uint32_t i = 0; i < address_count_; ++i) {
    addresses_[i].family = config.addresses[i].family;
    std::memcpy(&addresses_[i].lo, config.addresses[i].bytes.data(), 8);
    std::memcpy(&addresses_[i].hi, config.addresses[i].bytes.data() + 8, 8);
  }
}

DirectFlowTable::~DirectFlowTable() { rte_free(slots_); }

int64_t DirectFlowTable::SlotOf(const FlowKey& key) const {
  const uint32_t offset = static_cast<uint32_t>(key.port) - port_base_;  // wraps when below base
  if (offset >= port_count_) return -1;
  uint64_t lo;
  uint64_t hi;
  std::memcpy(&lo, key.address, 8);
  std::memcpy(&hi, key.address + 8, 8);
  for (uint32_t a = 0; a < address_count_; ++a) {
    if (addresses_[a].family == key.family && addresses_[a].lo == lo && addresses_[a].hi == hi) {
      return static_cast<int64_t>(a) * port_count_ + offset;
    }
  }
  return -1;
}

absl::Status DirectFlowTable::Add(const FlowKey& key, uint32_t leg) {
  if (leg == kNoLeg) return absl::InvalidArgumentError("flow table: leg index kNoLeg is reserved");
  const int64_t slot = SlotOf(key);
  if (slot < 0) {
    return absl::OutOfRangeError(absl::StrCat(
        "flow table: local port ", key.port, " or its address is outside this table (ports ",
        port_base_, "..", port_base_ + port_count_ - 1, " on ", address_count_,
        " configured addresses); allocate leg ports from that range"));
  }
  std::atomic<uint32_t>& entry = slots_[slot];
  if (entry.load(std::memory_order_relaxed) != kNoLeg) {
    return absl::AlreadyExistsError(
        absl::StrCat("flow table: local port ", key.port, " already belongs to leg ",
                     entry.load(std::memory_order_relaxed)));
  }
  // Release: a reader that sees `leg` also sees the leg state written before Add.
  entry.store(leg, std::memory_order_release);
  ++size_;
  return absl::OkStatus();
}

absl::Status DirectFlowTable::Remove(const FlowKey& key) {
  const int64_t slot = SlotOf(key);
  const uint32_t leg = slot < 0 ? kNoLeg : slots_[slot].load(std::memory_order_relaxed);
  if (leg == kNoLeg) {
    return absl::NotFoundError(absl::StrCat("flow table: no leg on local port ", key.port));
  }
  slots_[slot].store(kNoLeg, std::memory_order_release);
  --size_;
  removed_.Push(leg, -1);
  return absl::OkStatus();
}

void DirectFlowTable::Reclaim(std::vector<uint32_t>* reusable) {
  removed_.Poll([](int32_t) {});
  removed_.TakeReady(reusable);
}

uint16_t DirectFlowTable::LookupBulk(const FlowKey* keys, uint16_t n, uint32_t* legs) const {
  uint16_t hits = 0;
  for (uint16_t i = 0; i < n; ++i) {
    const int64_t slot = SlotOf(keys[i]);
    const uint32_t leg = slot < 0 ? kNoLeg : slots_[slot].load(std::memory_order_acquire);
    legs[i] = leg;
    hits += leg != kNoLeg;
  }
  return hits;
}

// ---- HashFlowTable ----

// rte_hash_crc reads the key as uint64_t words, but a FlowKey is only 2-byte aligned (and 20 bytes
// long): load it with memcpy and run five 4-byte CRC32C steps instead.
namespace {

uint32_t FlowKeyHash(const void* key, uint32_t /*key_len*/, uint32_t init) {
  uint32_t words[sizeof(FlowKey) / 4];
  std::memcpy(words, key, sizeof(words));
  uint32_t crc = init;
  for (uint32_t w : words) crc = rte_hash_crc_4byte(w, crc);
  return crc;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HashFlowTable>> HashFlowTable::Create(
    const HashFlowTableConfig& config) {
  if (config.qsbr == nullptr) {
    return absl::InvalidArgumentError("flow table: no rte_rcu_qsbr variable given");
  }
  if (config.capacity == 0) return absl::InvalidArgumentError("flow table: capacity is 0");
  static std::atomic<uint32_t> instance{0};
  char name[RTE_HASH_NAMESIZE];
  std::snprintf(name, sizeof(name), "flow_%u", instance.fetch_add(1));
  rte_hash_parameters params = {};
  params.name = name;
  params.entries = config.capacity;
  params.key_len = sizeof(FlowKey);
  params.hash_func = FlowKeyHash;
  params.hash_func_init_val = 0;
  params.socket_id = config.socket_id;
  // Lock-free readers against one writer; the extendable buckets make `capacity` a guarantee.
  // LF implies NO_FREE_ON_DEL: a deleted key's slot is freed by Poll() after quiescence.
  params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  rte_hash* hash = rte_hash_create(&params);
  if (hash == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "flow table: rte_hash_create for ", config.capacity, " keys: ", rte_strerror(rte_errno)));
  }
  return std::unique_ptr<HashFlowTable>(new HashFlowTable(hash, config));
}

HashFlowTable::HashFlowTable(rte_hash* hash, const HashFlowTableConfig& config)
    : hash_(hash), capacity_(config.capacity), removed_(config.qsbr) {}

HashFlowTable::~HashFlowTable() { rte_hash_free(hash_); }

void HashFlowTable::Poll() {
  removed_.Poll([this](int32_t position) { rte_hash_free_key_with_position(hash_, position); });
}

absl::Status HashFlowTable::Add(const FlowKey& key, uint32_t leg) {
  if (leg == kNoLeg) return absl::InvalidArgumentError("flow table: leg index kNoLeg is reserved");
  if (rte_hash_lookup(hash_, &key) >= 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("flow table: local port ", key.port, " already has a leg"));
  }
  // Slots of removed keys count until the readers are done with them.
  if (size_ + removed_.pending() >= capacity_) Poll();
  if (size_ + removed_.pending() >= capacity_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "flow table: full (", size_, " legs, ", removed_.pending(),
        " removed awaiting reader quiescence, capacity ", capacity_,
        "); remove legs or configure a larger table"));
  }
  const int ret = rte_hash_add_key_data(hash_, &key, reinterpret_cast<void*>(uintptr_t{leg}));
  if (ret < 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("flow table: rte_hash_add_key_data: ", rte_strerror(-ret)));
  }
  ++size_;
  return absl::OkStatus();
}

absl::Status HashFlowTable::Remove(const FlowKey& key) {
  void* data = nullptr;
  if (rte_hash_lookup_data(hash_, &key, &data) < 0) {
    return absl::NotFoundError(absl::StrCat("flow table: no leg on local port ", key.port));
  }
  const int32_t position = rte_hash_del_key(hash_, &key);
  if (position < 0) {
    return absl::InternalError(absl::StrCat("flow table: rte_hash_del_key: ",
                                            rte_strerror(-position)));
  }
  --size_;
  removed_.Push(static_cast<uint32_t>(reinterpret_cast<uintptr_t>(data)), position);
  return absl::OkStatus();
}

void HashFlowTable::Reclaim(std::vector<uint32_t>* reusable) {
  Poll();
  removed_.TakeReady(reusable);
}

uint16_t HashFlowTable::LookupBulk(const FlowKey* keys, uint16_t n, uint32_t* legs) const {
  const void* key_ptrs[kFlowLookupMax];
  void* data[kFlowLookupMax];
  for (uint16_t i = 0; i < n; ++i) key_ptrs[i] = &keys[i];
  uint64_t hit_mask = 0;
  const int hits = rte_hash_lookup_bulk_data(hash_, key_ptrs, n, &hit_mask, data);
  for (uint16_t i = 0; i < n; ++i) {
    legs[i] = (hit_mask >> i) & 1 ? static_cast<uint32_t>(reinterpret_cast<uintptr_t>(data[i]))
                                  : kNoLeg;
  }
  return hits < 0 ? 0 : static_cast<uint16_t>(hits);
}

}  // namespace t38relay::dataplane
