// Interface addresses: parsing "ADDRESS/PREFIX", printing, and on-link prefix arithmetic.
#include "dataplane/port/port_config.h"

#include <string>

#include "gtest/gtest.h"

namespace t38relay::dataplane {
namespace {

IpAddress Ip(const char* text) { return *ParseIpAddress(text); }

TEST(PortConfigTest, ParsesBothFamiliesAndPrintsThemBack) {
  for (const char* text : {"198.18.0.1/24", "fd00:198:18::1/64", "10.0.0.1/0", "10.0.0.1/32",
                           "2001:db8::1/128", "::/0"}) {
    absl::StatusOr<InterfaceAddress> a = ParseInterfaceAddress(text);
    ASSERT_TRUE(a.ok()) << text << ": " << a.status();
    EXPECT_EQ(a->ToString(), text);
  }
  absl::StatusOr<InterfaceAddress> a = ParseInterfaceAddress("198.18.0.1/24");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->ip, Ip("198.18.0.1"));
  EXPECT_EQ(a->prefix_length, 24);
  EXPECT_EQ(*a, (InterfaceAddress{Ip("198.18.0.1"), 24}));
}

TEST(PortConfigTest, RejectsWhatIsNotAPrefixWithAClearMessage) {
  for (const char* text : {"198.18.0.1", "198.18.0.300/24", "198.18.0.1/33", "fd00::1/129",
                           "198.18.0.1/", "198.18.0.1/-1", "198.18.0.1/24x", "/24", "",
                           "198.18.0.1/ 24", "fd00::1%eth0/64", "[fd00::1]/64", "198.18.0.1/24/8",
                           "198.18.0.1/99999999999999999999"}) {
    absl::StatusOr<InterfaceAddress> a = ParseInterfaceAddress(text);
    ASSERT_FALSE(a.ok()) << text;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(std::string(a.status().message()).find(std::string("'") + text + "'"),
              std::string::npos)
        << a.status();
  }
  EXPECT_NE(ParseInterfaceAddress("198.18.0.1").status().message().find("ADDRESS/PREFIX"),
            absl::string_view::npos);
  EXPECT_NE(ParseInterfaceAddress("198.18.0.1/40").status().message().find("0..32"),
            absl::string_view::npos);
  EXPECT_NE(ParseInterfaceAddress("fd00::1/200").status().message().find("0..128"),
            absl::string_view::npos);
}

TEST(PortConfigTest, OnLinkFollowsThePrefix) {
  const InterfaceAddress v4{Ip("198.18.0.1"), 24};
  EXPECT_TRUE(v4.OnLink(Ip("198.18.0.1")));
  EXPECT_TRUE(v4.OnLink(Ip("198.18.0.255")));
  EXPECT_FALSE(v4.OnLink(Ip("198.18.1.1")));
  EXPECT_FALSE(v4.OnLink(Ip("fd00::1")));
  EXPECT_FALSE(v4.OnLink(IpAddress{}));

  // A prefix that ends inside a byte.
  const InterfaceAddress odd{Ip("198.18.0.1"), 15};
  EXPECT_TRUE(odd.OnLink(Ip("198.19.255.254")));
  EXPECT_FALSE(odd.OnLink(Ip("198.20.0.1")));
  EXPECT_FALSE(odd.OnLink(Ip("198.17.0.1")));
  const InterfaceAddress host{Ip("198.18.0.1"), 32};
  EXPECT_TRUE(host.OnLink(Ip("198.18.0.1")));
  EXPECT_FALSE(host.OnLink(Ip("198.18.0.2")));
  const InterfaceAddress all{Ip("0.0.0.0"), 0};
  EXPECT_TRUE(all.OnLink(Ip("203.0.113.7")));
  EXPECT_FALSE(all.OnLink(Ip("::1")));

  const InterfaceAddress v6{Ip("fd00:198:18::1"), 64};
  EXPECT_TRUE(v6.OnLink(Ip("fd00:198:18::20")));
  EXPECT_TRUE(v6.OnLink(Ip("fd00:198:18:0:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(v6.OnLink(Ip("fd00:198:18:1::20")));
  EXPECT_FALSE(v6.OnLink(Ip("198.18.0.1")));
  const InterfaceAddress v6_odd{Ip("2001:db8::1"), 33};
  EXPECT_TRUE(v6_odd.OnLink(Ip("2001:db8:7fff::1")));
  EXPECT_FALSE(v6_odd.OnLink(Ip("2001:db8:8000::1")));
  const InterfaceAddress none;
  EXPECT_FALSE(none.OnLink(IpAddress{}));
}

TEST(PortConfigTest, DefaultsOfAPort) {
  PortConfig config;
  EXPECT_EQ(config.mtu, 1500);
  EXPECT_TRUE(config.addresses.empty());
  EXPECT_TRUE(config.gateways.empty());
}

}  // namespace
}  // namespace t38relay::dataplane
