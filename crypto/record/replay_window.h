// The DTLS anti-replay window of one receive epoch (RFC 6347 section 4.1.2.6).
#pragma once

#include <cstdint>

namespace t38relay::crypto {

enum class ReplayCheck : uint8_t { kFresh, kDuplicate, kTooOld };

// A sliding bitmap of the last kWidth sequence numbers below and at the highest one accepted.
// Check before decrypting, Accept only after the tag verified: a forged record must not move it.
class ReplayWindow {
 public:
  static constexpr uint64_t kWidth = 64;

  ReplayCheck Check(uint64_t sequence) const {
    if (bitmap_ == 0 || sequence > highest_) return ReplayCheck::kFresh;
    const uint64_t behind = highest_ - sequence;
    if (behind >= kWidth) return ReplayCheck::kTooOld;
    return (bitmap_ >> behind) & 1 ? ReplayCheck::kDuplicate : ReplayCheck::kFresh;
  }

  // Marks `sequence` received; it must have passed Check as kFresh.
  void Accept(uint64_t sequence) {
    if (bitmap_ == 0) {
      highest_ = sequence;
      bitmap_ = 1;
    } else if (sequence > highest_) {
      const uint64_t ahead = sequence - highest_;
      bitmap_ = ahead >= kWidth ? 1 : (bitmap_ << ahead) | 1;
      highest_ = sequence;
    } else {
      bitmap_ |= uint64_t{1} << (highest_ - sequence);
    }
  }

  // The highest sequence accepted so far; meaningless while nothing was accepted.
  uint64_t highest() const { return highest_; }

 private:
  uint64_t highest_ = 0;
  // Bit i set: highest_ - i was accepted. Zero only before the first Accept (bit 0 is then set).
  uint64_t bitmap_ = 0;
};

}  // namespace t38relay::crypto
