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

TEST(ParseIpAddressTest, ParsesBothFamiliesAndRejectsTheRest) {
  EXPECT_EQ(ParseIpAddress("198.18.0.1")->ToString(), "198.18.0.1");
  EXPECT_EQ(ParseIpAddress("fd00:198:18::1")->ToString(), "fd00:198:18::1");
  EXPECT_EQ(ParseIpAddress("::ffff:1.2.3.4")->family, IpFamily::kV6);
  for (const char* bad : {"", "198.18.0.300", "1.2.3", "[::1]", "fe80::1%eth0", "host",
                          "198.18.0.1 "}) {
    EXPECT_FALSE(ParseIpAddress(bad).has_value()) << bad;
  }
  EXPECT_FALSE(ParseIpAddress(std::string(100, '1')).has_value());
  EXPECT_FALSE(ParseIpAddress(std::string_view("1.2.3.4\0junk", 12)).has_value());
}

}  // namespace
}  // namespace t38relay::dataplane
