// The anti-replay window (RFC 6347 section 4.1.2.6): order, duplicates, age, jumps, the 48-bit edge.
#include "crypto/record/replay_window.h"

#include "dataplane/wire/dtls_record.h"
#include "gtest/gtest.h"

namespace t38relay::crypto {
namespace {

// Check then Accept, as the record layer does once a tag verified.
ReplayCheck Receive(ReplayWindow& w, uint64_t sequence) {
  const ReplayCheck check = w.Check(sequence);
  if (check == ReplayCheck::kFresh) w.Accept(sequence);
  return check;
}

TEST(ReplayWindowTest, EmptyWindowTakesAnything) {
  ReplayWindow w;
  EXPECT_EQ(w.Check(0), ReplayCheck::kFresh);
  EXPECT_EQ(w.Check(12345), ReplayCheck::kFresh);
  EXPECT_EQ(Receive(w, 7), ReplayCheck::kFresh);
  EXPECT_EQ(w.highest(), 7u);
  // Only what is older than the window is refused; 0..6 were never seen and are within it.
  EXPECT_EQ(w.Check(0), ReplayCheck::kFresh);
}

TEST(ReplayWindowTest, InOrderThenDuplicates) {
  ReplayWindow w;
  for (uint64_t s = 0; s < 200; ++s) ASSERT_EQ(Receive(w, s), ReplayCheck::kFresh) << s;
  for (uint64_t s = 200 - ReplayWindow::kWidth; s < 200; ++s) {
    EXPECT_EQ(w.Check(s), ReplayCheck::kDuplicate) << s;
  }
  EXPECT_EQ(w.Check(200 - ReplayWindow::kWidth - 1), ReplayCheck::kTooOld);
  EXPECT_EQ(w.Check(0), ReplayCheck::kTooOld);
}

TEST(ReplayWindowTest, OutOfOrderWithinWindow) {
  ReplayWindow w;
  ASSERT_EQ(Receive(w, 100), ReplayCheck::kFresh);
  // The oldest still inside (100 - 63) and everything between arrive late, in reverse.
  for (uint64_t s = 99; s >= 100 - (ReplayWindow::kWidth - 1); --s) {
    ASSERT_EQ(Receive(w, s), ReplayCheck::kFresh) << s;
  }
  EXPECT_EQ(w.Check(100 - ReplayWindow::kWidth), ReplayCheck::kTooOld);
  EXPECT_EQ(Receive(w, 70), ReplayCheck::kDuplicate);
  EXPECT_EQ(Receive(w, 102), ReplayCheck::kFresh);
  EXPECT_EQ(Receive(w, 101), ReplayCheck::kFresh);
  EXPECT_EQ(Receive(w, 101), ReplayCheck::kDuplicate);
  EXPECT_EQ(w.highest(), 102u);
}

TEST(ReplayWindowTest, FarFutureJumpClearsHistory) {
  ReplayWindow w;
  for (uint64_t s = 0; s < 10; ++s) Receive(w, s);
  ASSERT_EQ(Receive(w, 1'000'000), ReplayCheck::kFresh);
  EXPECT_EQ(w.Check(9), ReplayCheck::kTooOld);
  // Just inside after the jump: never received, so fresh.
  EXPECT_EQ(Receive(w, 1'000'000 - 63), ReplayCheck::kFresh);
  EXPECT_EQ(w.Check(1'000'000 - 64), ReplayCheck::kTooOld);
  // A jump of exactly the width keeps nothing of the old bitmap but the new top.
  ASSERT_EQ(Receive(w, 1'000'000 + 64), ReplayCheck::kFresh);
  EXPECT_EQ(w.Check(1'000'000), ReplayCheck::kTooOld);
  EXPECT_EQ(w.Check(1'000'000 + 1), ReplayCheck::kFresh);
  EXPECT_EQ(w.Check(1'000'000 + 64), ReplayCheck::kDuplicate);
}

TEST(ReplayWindowTest, ShiftBelowWidthKeepsHistory) {
  ReplayWindow w;
  Receive(w, 10);
  Receive(w, 73);  // 63 ahead: 10 is now the oldest bit
  EXPECT_EQ(w.Check(10), ReplayCheck::kDuplicate);
  EXPECT_EQ(w.Check(11), ReplayCheck::kFresh);
  EXPECT_EQ(w.Check(9), ReplayCheck::kTooOld);
}

TEST(ReplayWindowTest, FortyEightBitEdge) {
  constexpr uint64_t kMax = dataplane::kDtlsMaxSequence;
  ReplayWindow w;
  ASSERT_EQ(Receive(w, kMax - 1), ReplayCheck::kFresh);
  ASSERT_EQ(Receive(w, kMax), ReplayCheck::kFresh);
  EXPECT_EQ(w.Check(kMax), ReplayCheck::kDuplicate);
  EXPECT_EQ(w.Check(kMax - 1), ReplayCheck::kDuplicate);
  EXPECT_EQ(w.Check(kMax - 2), ReplayCheck::kFresh);
  EXPECT_EQ(w.Check(kMax - 64), ReplayCheck::kTooOld);
  EXPECT_EQ(w.Check(0), ReplayCheck::kTooOld);
  EXPECT_EQ(w.highest(), kMax);
}

TEST(ReplayWindowTest, CheckAloneDoesNotMove) {
  ReplayWindow w;
  Receive(w, 5);
  EXPECT_EQ(w.Check(500), ReplayCheck::kFresh);  // e.g. a forged record whose tag then fails
  EXPECT_EQ(w.highest(), 5u);
  EXPECT_EQ(Receive(w, 4), ReplayCheck::kFresh);
}

}  // namespace
}  // namespace t38relay::crypto
