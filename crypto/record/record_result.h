// The result of sealing or opening one record: one X-macro list that makes the enum and its names.
//
// The names become the dataplane's drop counters and what tests compare, so they are stable: add at
// the end, never rename.
#pragma once

#include <cstdint>
#include <string_view>

namespace t38relay::crypto {

// X(EnumName, "printed-name")
#define T38RELAY_RECORD_RESULTS(X)                                                          \
  X(kOk, "ok")                                                                              \
  X(kAuthFailed, "auth-failed")             /* the GCM tag did not verify */               \
  X(kReplayed, "replayed")                  /* sequence number already seen */              \
  X(kTooOld, "too-old")                     /* left of the replay window */                 \
  X(kUnknownEpoch, "unknown-epoch")         /* no receive keys for this epoch */            \
  X(kEpochExpired, "epoch-expired")         /* the previous epoch past its grace deadline */ \
  X(kMalformed, "malformed")                /* bad header, version or length */             \
  X(kBadContentType, "bad-content-type")    /* not application_data or alert */             \
  X(kNoKeys, "no-keys")                     /* the leg has no keys installed */             \
  X(kSequenceExhausted, "sequence-exhausted") /* seal: the 48-bit sequence would wrap */    \
  X(kNoRoom, "no-room")                     /* seal: no headroom/tailroom for the framing */ \
  X(kBackendBusy, "backend-busy")           /* the device queue stayed full */              \
  X(kBackendError, "backend-error")         /* the device failed the operation */           \
  X(kBackendTimeout, "backend-timeout")     /* the device did not return the operation */

enum class RecordResult : uint8_t {
#define T38RELAY_RECORD_RESULT_ENUM(name, text) name,
  T38RELAY_RECORD_RESULTS(T38RELAY_RECORD_RESULT_ENUM)
#undef T38RELAY_RECORD_RESULT_ENUM
};

inline constexpr size_t kRecordResultCount = 0
#define T38RELAY_RECORD_RESULT_COUNT(name, text) +1
    T38RELAY_RECORD_RESULTS(T38RELAY_RECORD_RESULT_COUNT)
#undef T38RELAY_RECORD_RESULT_COUNT
    ;

// "ok", "auth-failed", ...; "unknown" for a value outside the list.
std::string_view RecordResultName(RecordResult result);

}  // namespace t38relay::crypto
