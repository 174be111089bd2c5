// Tests of IP address and endpoint text forms.
#include "dataplane/wire/address.h"

#include <array>

#include "gtest/gtest.h"

namespace t38relay::dataplane {
namespace {

TEST(AddressTest, FormatsBothFamilies) {
  EXPECT_EQ(IpAddress::V4(0xc6120001).ToString(), "198.18.0.1");
  const std::array<uint8_t, 16> v6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(IpAddress::V6Bytes(v6.data()).ToString(), "2001:db8::1");
  EXPECT_EQ(IpAddress().ToString(), "");
  EXPECT_EQ((SocketAddress{IpAddress::V4(0x7f000001), 5000}).ToString(), "127.0.0.1:5000");
  EXPECT_EQ((SocketAddress{IpAddress::V6Bytes(v6.data()), 5000}).ToString(), "[2001:db8::1]:5000");
}

TEST(AddressTest, ComparesWholeValues) {
  const std::array<uint8_t, 4> raw = {198, 18, 0, 1};
  EXPECT_EQ(IpAddress::V4Bytes(raw.data()), IpAddress::V4(0xc6120001));
  EXPECT_NE(IpAddress::V4(0xc6120001), IpAddress::V4(0xc6120002));
  EXPECT_EQ(IpAddress::V4(0).size(), 4u);
}

}  // namespace
}  // namespace t38relay::dataplane
