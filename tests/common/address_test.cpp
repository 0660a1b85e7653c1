// SockAddr, Cidr and Acl: parsing, formatting, predicates and matching.
#include "address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

namespace sipmasq {
namespace {

SockAddr addr(const char* text) {
    auto a = SockAddr::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(SockAddr());
}

TEST(SockAddr, DefaultIsInvalid) {
    const SockAddr a;
    EXPECT_FALSE(a.valid());
    EXPECT_EQ(a.family(), AF_UNSPEC);
    EXPECT_EQ(a.len(), 0u);
    EXPECT_EQ(a.addr_size(), 0u);
    EXPECT_EQ(a.addr_bytes(), nullptr);
    EXPECT_FALSE(a.is_unspecified());
    EXPECT_FALSE(a == SockAddr());
}

TEST(SockAddr, ParsesIpv4WithAndWithoutPort) {
    const SockAddr a = addr("192.0.2.1");
    EXPECT_TRUE(a.is_v4());
    EXPECT_EQ(a.port(), 0);
    EXPECT_EQ(a.len(), sizeof(sockaddr_in));
    EXPECT_EQ(a.host_string(), "192.0.2.1");
    EXPECT_EQ(a.to_string(), "192.0.2.1:0");

    const SockAddr b = addr("192.0.2.1:5060");
    EXPECT_EQ(b.port(), 5060);
    EXPECT_EQ(b.to_string(), "192.0.2.1:5060");
    const uint8_t expect[4] = {192, 0, 2, 1};
    ASSERT_EQ(b.addr_size(), 4u);
    EXPECT_EQ(std::memcmp(b.addr_bytes(), expect, 4), 0);
    EXPECT_EQ(addr("192.0.2.1:65535").port(), 65535);
}

TEST(SockAddr, ParsesIpv6WithAndWithoutPort) {
    const SockAddr a = addr("::1");
    EXPECT_TRUE(a.is_v6());
    EXPECT_EQ(a.port(), 0);
    EXPECT_EQ(a.len(), sizeof(sockaddr_in6));
    EXPECT_EQ(a.host_string(), "::1");

    const SockAddr b = addr("[::1]:5060");
    EXPECT_TRUE(b.is_v6());
    EXPECT_EQ(b.port(), 5060);
    EXPECT_EQ(b.to_string(), "[::1]:5060");

    const SockAddr c = addr("[2001:db8::1]");
    EXPECT_EQ(c.port(), 0);
    EXPECT_EQ(c.host_string(), "2001:db8::1");
    EXPECT_EQ(addr("2001:DB8:0:0:0:0:0:1").host_string(), "2001:db8::1");
}

TEST(SockAddr, RejectsMalformedText) {
    for (const char* bad : {"",
                            " ",
                            "192.0.2",
                            "192.0.2.256",
                            "192.0.2.1:",
                            "192.0.2.1:65536",
                            "192.0.2.1:-1",
                            "192.0.2.1:+5",
                            "192.0.2.1:50a",
                            "192.0.2.1 ",
                            " 192.0.2.1",
                            "1.2.3.4.5",
                            "localhost",
                            "example.com:5060",
                            "[::1",
                            "[::1]5060",
                            "[::1]:",
                            "[::1]:99999",
                            "[192.0.2.1]:5060",
                            "::1:5060x",
                            "fe80::1%eth0",
                            "::g",
                            "0x7f.0.0.1",
                            "01.2.3.4:5060:1",
                            "[::1]:5060:1"}) {
        EXPECT_FALSE(SockAddr::parse(bad).has_value()) << "'" << bad << "'";
    }
}

TEST(SockAddr, RoundTripsThroughToString) {
    for (const char* text : {"192.0.2.1:5060", "[2001:db8::5]:7070", "0.0.0.0:0", "[::]:1"}) {
        const SockAddr a = addr(text);
        EXPECT_EQ(a.to_string(), text);
        EXPECT_TRUE(SockAddr::parse(a.to_string()) == a);
    }
}

TEST(SockAddr, FromBytesAndSockaddr) {
    const uint8_t v4[4] = {203, 0, 113, 1};
    const SockAddr a = SockAddr::from_bytes(AF_INET, v4, 5060);
    EXPECT_EQ(a.to_string(), "203.0.113.1:5060");

    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(1234);
    inet_pton(AF_INET, "198.51.100.7", &sin.sin_addr);
    const SockAddr b(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
    EXPECT_EQ(b.to_string(), "198.51.100.7:1234");

    // A length too short for the family gives an invalid address, not a read past the end.
    const SockAddr c(reinterpret_cast<const sockaddr*>(&sin), sizeof sin - 1);
    EXPECT_FALSE(c.valid());
    const SockAddr d(nullptr, 0);
    EXPECT_FALSE(d.valid());

    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(9);
    inet_pton(AF_INET6, "2001:db8::9", &sin6.sin6_addr);
    const SockAddr e(reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6);
    EXPECT_EQ(e.to_string(), "[2001:db8::9]:9");
    const SockAddr f(reinterpret_cast<const sockaddr*>(&sin6), sizeof(sockaddr_in));
    EXPECT_FALSE(f.valid());
}

TEST(SockAddr, SetPort) {
    SockAddr a = addr("192.0.2.1");
    a.set_port(7070);
    EXPECT_EQ(a.port(), 7070);
    SockAddr b = addr("::1");
    b.set_port(7071);
    EXPECT_EQ(b.to_string(), "[::1]:7071");
    SockAddr invalid;
    invalid.set_port(1);
    EXPECT_EQ(invalid.port(), 0);
}

TEST(SockAddr, Predicates) {
    EXPECT_TRUE(addr("0.0.0.0").is_unspecified());
    EXPECT_TRUE(addr("::").is_unspecified());
    EXPECT_FALSE(addr("0.0.0.1").is_unspecified());

    EXPECT_TRUE(addr("224.0.0.1").is_multicast());
    EXPECT_TRUE(addr("239.255.255.255").is_multicast());
    EXPECT_FALSE(addr("223.255.255.255").is_multicast());
    EXPECT_FALSE(addr("240.0.0.1").is_multicast());
    EXPECT_TRUE(addr("ff02::1").is_multicast());
    EXPECT_FALSE(addr("fe80::1").is_multicast());

    EXPECT_TRUE(addr("255.255.255.255").is_broadcast());
    EXPECT_FALSE(addr("255.255.255.254").is_broadcast());
    EXPECT_FALSE(addr("ff02::1").is_broadcast());

    EXPECT_TRUE(addr("127.0.0.1").is_loopback());
    EXPECT_TRUE(addr("127.255.0.2").is_loopback());
    EXPECT_FALSE(addr("128.0.0.1").is_loopback());
    EXPECT_TRUE(addr("::1").is_loopback());
    EXPECT_FALSE(addr("::2").is_loopback());

    // IPv4-mapped IPv6 addresses (a dual-stack socket's view of an IPv4 peer).
    EXPECT_TRUE(addr("::ffff:127.0.0.1").is_loopback());
    EXPECT_TRUE(addr("::ffff:224.0.0.5").is_multicast());
    EXPECT_TRUE(addr("::ffff:255.255.255.255").is_broadcast());
}

TEST(SockAddr, Comparisons) {
    EXPECT_TRUE(addr("192.0.2.1:5060") == addr("192.0.2.1:5060"));
    EXPECT_FALSE(addr("192.0.2.1:5060") == addr("192.0.2.1:5061"));
    EXPECT_FALSE(addr("192.0.2.1:5060") == addr("192.0.2.2:5060"));
    EXPECT_TRUE(addr("192.0.2.1:5060").same_host(addr("192.0.2.1:1")));
    EXPECT_FALSE(addr("192.0.2.1").same_host(addr("::ffff:192.0.2.1")));
    EXPECT_TRUE(addr("[2001:db8::1]:1") == addr("[2001:db8::1]:1"));
    EXPECT_FALSE(addr("[2001:db8::1]:1") == addr("[2001:db8::2]:1"));
    EXPECT_FALSE(addr("::") == addr("0.0.0.0"));
}

TEST(Cidr, ParsesNetworksAndBareAddresses) {
    auto a = Cidr::parse("192.0.2.0/24");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->prefix_len, 24);
    EXPECT_EQ(a->to_string(), "192.0.2.0/24");

    auto b = Cidr::parse("192.0.2.7");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->to_string(), "192.0.2.7/32");

    auto c = Cidr::parse("2001:db8::/32");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->to_string(), "2001:db8::/32");

    auto d = Cidr::parse("::1");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->prefix_len, 128);

    auto all = Cidr::parse("0.0.0.0/0");
    ASSERT_TRUE(all);
    EXPECT_TRUE(all->contains(addr("203.0.113.9")));
    EXPECT_FALSE(all->contains(addr("2001:db8::1")));
}

TEST(Cidr, HostBitsAreMasked) {
    auto a = Cidr::parse("192.0.2.77/24");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->to_string(), "192.0.2.0/24");
    auto b = Cidr::parse("10.1.2.3/13");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->to_string(), "10.0.0.0/13");
    auto c = Cidr::parse("2001:db8:ffff::1/33");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->to_string(), "2001:db8:8000::/33");
}

TEST(Cidr, DottedNetmaskIsAccepted) {
    auto a = Cidr::parse("192.0.2.0/255.255.255.0");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->prefix_len, 24);
    auto b = Cidr::parse("10.0.0.0/255.0.0.0");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->prefix_len, 8);
    EXPECT_FALSE(Cidr::parse("10.0.0.0/255.0.255.0"));  // not contiguous
}

TEST(Cidr, RejectsBadPrefixes) {
    for (const char* bad :
         {"192.0.2.0/33", "192.0.2.0/", "192.0.2.0/-1", "192.0.2.0/a", "192.0.2.0/24/1",
          "2001:db8::/129", "2001:db8::/ffff::", "192.0.2.0 /24", "/24", "", "192.0.2.0/024x",
          "example.com/24", "192.0.2.1:5060", "[::1]/128"}) {
        EXPECT_FALSE(Cidr::parse(bad).has_value()) << "'" << bad << "'";
    }
}

TEST(Cidr, Contains) {
    auto net = Cidr::parse("192.0.2.0/25");
    ASSERT_TRUE(net);
    EXPECT_TRUE(net->contains(addr("192.0.2.0")));
    EXPECT_TRUE(net->contains(addr("192.0.2.127:5060")));
    EXPECT_FALSE(net->contains(addr("192.0.2.128")));
    EXPECT_FALSE(net->contains(addr("192.0.3.1")));
    EXPECT_TRUE(net->contains(addr("::ffff:192.0.2.5")));  // mapped peer on a v6 socket
    EXPECT_FALSE(net->contains(addr("2001:db8::1")));
    EXPECT_FALSE(net->contains(SockAddr()));

    auto net6 = Cidr::parse("2001:db8:1::/48");
    ASSERT_TRUE(net6);
    EXPECT_TRUE(net6->contains(addr("2001:db8:1:ffff::1")));
    EXPECT_FALSE(net6->contains(addr("2001:db8:2::1")));
    EXPECT_FALSE(net6->contains(addr("192.0.2.1")));

    auto odd = Cidr::parse("10.0.0.0/9");
    ASSERT_TRUE(odd);
    EXPECT_TRUE(odd->contains(addr("10.127.255.255")));
    EXPECT_FALSE(odd->contains(addr("10.128.0.0")));
}

TEST(Acl, ParsesCommaAndWhitespaceSeparatedLists) {
    std::string error;
    auto acl = Acl::parse("192.0.2.0/24,198.51.100.7 2001:db8::/32 ,\t203.0.113.0/28", &error);
    ASSERT_TRUE(acl) << error;
    ASSERT_EQ(acl->entries().size(), 4u);
    EXPECT_EQ(acl->to_string(), "192.0.2.0/24,198.51.100.7/32,2001:db8::/32,203.0.113.0/28");
    EXPECT_TRUE(acl->matches(addr("192.0.2.200")));
    EXPECT_TRUE(acl->matches(addr("198.51.100.7:5060")));
    EXPECT_FALSE(acl->matches(addr("198.51.100.8")));
    EXPECT_TRUE(acl->matches(addr("2001:db8:abcd::1")));
    EXPECT_TRUE(acl->matches(addr("203.0.113.15")));
    EXPECT_FALSE(acl->matches(addr("203.0.113.16")));
}

TEST(Acl, EmptyMatchesNothing) {
    std::string error;
    auto acl = Acl::parse("", &error);
    ASSERT_TRUE(acl);
    EXPECT_TRUE(acl->empty());
    EXPECT_FALSE(acl->matches(addr("192.0.2.1")));
    auto commas = Acl::parse(" , ,", &error);
    ASSERT_TRUE(commas);
    EXPECT_TRUE(commas->empty());
    EXPECT_FALSE(Acl().matches(addr("::1")));
}

TEST(Acl, ErrorNamesTheBadEntry) {
    std::string error;
    EXPECT_FALSE(Acl::parse("192.0.2.0/24,10.0.0.0/40", &error));
    EXPECT_NE(error.find("'10.0.0.0/40'"), std::string::npos) << error;
    EXPECT_FALSE(Acl::parse("192.0.2.0/24;10.0.0.0/8", &error));
    EXPECT_NE(error.find("'192.0.2.0/24;10.0.0.0/8'"), std::string::npos) << error;
    EXPECT_FALSE(Acl::parse("foo", nullptr));  // a null error pointer is allowed
}

}  // namespace
}  // namespace sipmasq

namespace sipmasq {
namespace {

TEST(BudgetKey, AnAddressOrAnIpv6Slash64) {
    const auto key = [](const char* a) { return budget_key(*SockAddr::parse(a)); };
    EXPECT_EQ(key("192.0.2.10:5060"), key("192.0.2.10:5070"));
    EXPECT_NE(key("192.0.2.10:5060"), key("192.0.2.11:5060"));
    EXPECT_EQ(key("[2001:db8:1:2::1]:5060"), key("[2001:db8:1:2:ffff::9]:5061"));
    EXPECT_NE(key("[2001:db8:1:2::1]:5060"), key("[2001:db8:1:3::1]:5060"));
}

}  // namespace
}  // namespace sipmasq
