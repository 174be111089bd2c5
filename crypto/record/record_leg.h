// The record state of one established DTLS leg: send key and sequence, receive keys of the current
// and previous epoch with their replay windows.
#pragma once

#include <array>
#include <cstdint>

#include "crypto/record/aead_backend.h"
#include "crypto/record/replay_window.h"
#include "dataplane/wire/dtls_record.h"

namespace t38relay::crypto {

// Changed only by RecordProtector. A->B relaying touches A's receive side and B's send side, so
// each side has one writer: the lcore that owns the leg. The keys belong to the protector's
// backend: RecordProtector::Release them before the leg goes away.
class RecordLeg {
 public:
  bool has_keys() const { return static_cast<bool>(send_.key); }
  uint16_t send_epoch() const { return send_.epoch; }
  uint64_t next_send_sequence() const { return send_.next_sequence; }
  uint16_t receive_epoch() const { return current_.epoch; }
  bool has_previous_epoch() const { return static_cast<bool>(previous_.key); }
  uint16_t previous_epoch() const { return previous_.epoch; }

 private:
  friend class RecordProtector;

  struct Send {
    AeadKeyHandle key;
    uint64_t next_sequence = 0;
    std::array<uint8_t, 4> salt{};
    uint16_t epoch = 0;
  };
  struct Receive {
    AeadKeyHandle key;
    ReplayWindow window;
    uint64_t expires_at = 0;  // previous epoch only: opens while now < expires_at
    std::array<uint8_t, 4> salt{};
    uint16_t epoch = 0;
  };

  Send send_;
  Receive current_;
  Receive previous_;
  uint16_t version_ = dataplane::kDtls12Version;
};

}  // namespace t38relay::crypto
