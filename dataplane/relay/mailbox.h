// Messages between the lcores and the control thread: fixed-size values in DPDK rings (no locks,
// no allocation to send), and the message types the relay passes.
#pragma once

#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "dataplane/wire/address.h"

namespace t38relay::dataplane {

// A multi-producer, single-consumer ring of T by value.
template <typename T>
class Mailbox {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) % 4 == 0);

 public:
  static absl::StatusOr<std::unique_ptr<Mailbox>> Create(const std::string& name,
                                                         uint32_t capacity) {
    rte_ring* ring = rte_ring_create_elem(name.c_str(), sizeof(T), rte_align32pow2(capacity + 1),
                                          SOCKET_ID_ANY, RING_F_SC_DEQ);
    if (ring == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat("cannot create ring ", name, ": ",
                                                       rte_strerror(rte_errno)));
    }
    return std::unique_ptr<Mailbox>(new Mailbox(ring));
  }
  ~Mailbox() { rte_ring_free(ring_); }
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // False when the ring is full (the caller counts it).
  bool Send(const T& message) {
    if (rte_ring_mp_enqueue_elem(ring_, const_cast<T*>(&message), sizeof(T)) == 0) return true;
    full_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  unsigned Receive(T* out, unsigned max) {
    return rte_ring_sc_dequeue_burst_elem(ring_, out, sizeof(T), max, nullptr);
  }
  uint64_t full() const { return full_.load(std::memory_order_relaxed); }

 private:
  explicit Mailbox(rte_ring* ring) : ring_(ring) {}
  rte_ring* ring_;
  std::atomic<uint64_t> full_{0};
};

// Control -> the worker that owns a leg.
struct WorkerCommand {
  enum class Type : uint8_t {
    kSetRemote,    // address: the remote programmed by control (latched cleared)
    kClearRemote,
    kSetLatch,     // latch
    kSetTransport,  // transport: plain, or back to dtls (waiting for a handshake)
    kSetIce,       // payload: IceCredentials* (or null: ICE off); the worker owns it
    kInstallKeys,  // payload: crypto::DtlsRecordKeys*; address: the handshake's peer; the
                   // owner announces kEstablished once the leg can relay
    kFail,         // reason, role: the handshake failed: drop everything; the owner announces
                   // kFailed once the leg is marked so
    kLateRecord,   // payload: rte_mbuf* of a record that reached the handshake lcore after it
                   // sent the keys (the worker still saw the leg handshaking): relay it now
    kRelease,      // the leg is gone from every table: close an established association
                   // (close_notify), free its keys, answer kReleased
  };
  Type type = Type::kSetRemote;
  uint8_t latch = 0;
  uint8_t transport = 0;  // LegTransport
  uint8_t role = 0;       // kInstallKeys, kFail: crypto::DtlsRole, for the event
  uint8_t reason = 0;     // kFail: crypto::DtlsFailure
  uint64_t leg_id = 0;
  SocketAddress address{};
  void* payload = nullptr;
  const char* cipher_suite = nullptr;  // kInstallKeys: static storage, for the kEstablished event
};

// Workers and handshake lcores -> control.
struct RelayEvent {
  enum class Type : uint8_t {
    kLatched,      // address: the new remote
    kHandshaking,  // the handshake lcore started an engine for the leg
    kEstablished,  // role, cipher_suite; sent by the owner worker once the keys are in
    kFailed,       // reason: crypto::DtlsFailure; sent by the owner worker once the leg is failed
    kReleased,     // the owner freed the leg's state: control may reuse the slot
  };
  Type type = Type::kLatched;
  uint8_t reason = 0;
  uint8_t role = 0;  // crypto::DtlsRole
  uint8_t padding = 0;
  uint32_t worker = 0;
  uint64_t leg_id = 0;
  SocketAddress address{};
  const char* cipher_suite = nullptr;  // kEstablished: static storage (wolfSSL's suite table)
};

}  // namespace t38relay::dataplane
