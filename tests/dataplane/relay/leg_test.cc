// RemoteSlot: the remote address a worker reads per datagram while control re-programs it (Load,
// Holds, the version a cached header is keyed by, and whole addresses under a concurrent writer).
#include "dataplane/relay/leg.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace t38relay::dataplane {
namespace {

SocketAddress V4(uint8_t last, uint16_t port) {
  const uint8_t bytes[4] = {198, 18, 0, last};
  return SocketAddress{IpAddress::V4Bytes(bytes), port};
}

SocketAddress V6(uint16_t port) {
  // Its first four bytes are those of V4(1, ...): only the family and the rest tell them apart.
  const uint8_t bytes[16] = {198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
  return SocketAddress{IpAddress::V6Bytes(bytes), port};
}

TEST(RemoteSlotTest, EmptySlotHoldsNothing) {
  RemoteSlot slot;
  SocketAddress out;
  EXPECT_FALSE(slot.Load(&out));
  EXPECT_FALSE(slot.Holds(IpAddress{}, 0));
  EXPECT_FALSE(slot.Holds(V4(1, 5000).ip, 5000));
}

TEST(RemoteSlotTest, HoldsExactlyTheStoredAddress) {
  RemoteSlot slot;
  const SocketAddress a = V4(1, 5000);
  slot.Store(a);
  SocketAddress out;
  ASSERT_TRUE(slot.Load(&out));
  EXPECT_EQ(out, a);
  EXPECT_TRUE(slot.Holds(a.ip, a.port));
  EXPECT_FALSE(slot.Holds(a.ip, 5001));
  EXPECT_FALSE(slot.Holds(V4(2, 5000).ip, 5000));
  EXPECT_FALSE(slot.Holds(V6(5000).ip, 5000));
  EXPECT_FALSE(slot.Holds(IpAddress{}, 5000));

  slot.Store(V6(5000));
  EXPECT_TRUE(slot.Holds(V6(5000).ip, 5000));
  EXPECT_FALSE(slot.Holds(a.ip, a.port));
  ASSERT_TRUE(slot.Load(&out));
  EXPECT_EQ(out, V6(5000));

  slot.Clear();
  EXPECT_FALSE(slot.Load(&out));
  EXPECT_FALSE(slot.Holds(V6(5000).ip, 5000));
}

TEST(RemoteSlotTest, EveryStoreAndClearHasANewVersion) {
  RemoteSlot slot;
  SocketAddress out;
  uint32_t first = 0, second = 0, cleared = 0, again = 0;
  slot.Store(V4(1, 5000));
  ASSERT_TRUE(slot.Load(&out, &first));
  slot.Store(V4(1, 5000));  // the same address stored anew (another leg in the slot)
  ASSERT_TRUE(slot.Load(&out, &second));
  slot.Clear();
  EXPECT_FALSE(slot.Load(&out, &cleared));
  slot.Store(V4(1, 5000));
  ASSERT_TRUE(slot.Load(&out, &again));
  EXPECT_NE(first, second);
  EXPECT_NE(second, cleared);
  EXPECT_NE(cleared, again);
  EXPECT_NE(first, again);
}

// A reader on another thread sees one of the stored addresses, never a mix of two.
TEST(RemoteSlotTest, ReadersNeverSeeATornAddress) {
  RemoteSlot slot;
  const SocketAddress a = V4(1, 5000);
  const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const SocketAddress b{IpAddress::V6Bytes(v6), 6000};  // every word differs from a's
  slot.Store(a);
  std::atomic<bool> reading{false}, done{false};
  std::thread writer([&] {
    while (!reading.load()) {
    }
    for (int i = 0; i < 20000000; ++i) slot.Store(i % 2 == 0 ? b : a);
    done.store(true);
  });
  uint64_t reads = 0, torn = 0;
  reading.store(true);
  while (!done.load() || reads < 1000) {
    SocketAddress out;
    if (!slot.Load(&out) || (out != a && out != b)) ++torn;
    // Mixes of the two are never held.
    if (slot.Holds(a.ip, b.port) || slot.Holds(b.ip, a.port)) ++torn;
    ++reads;
  }
  writer.join();
  EXPECT_EQ(torn, 0u) << "of " << reads << " reads";
}

}  // namespace
}  // namespace t38relay::dataplane
