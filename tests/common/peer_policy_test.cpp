// The peer policy: what sipmasq may send to, and accept as a media peer, on
// each side of the FAQ topology (inside 192.0.2.0/24, outside 203.0.113.1).
#include "peer_policy.h"

#include <gtest/gtest.h>

namespace sipmasq {
namespace {

SockAddr addr(const char* text) {
    auto a = SockAddr::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(SockAddr());
}

PeerPolicy faq_policy() {
    return make_peer_policy({*Cidr::parse("192.0.2.0/24")}, {addr("192.0.2.1")},
                            {addr("203.0.113.1")}, {addr("198.51.100.7")});
}

TEST(PeerPolicy, InsidePeersOnlyInsideAndOutsidePeersOnlyOutside) {
    const PeerPolicy p = faq_policy();
    EXPECT_TRUE(p.allows(Side::Inside, addr("192.0.2.10:5060")));
    EXPECT_TRUE(p.allows(Side::Outside, addr("203.0.113.10:5060")));
    EXPECT_STREQ(p.refuse(Side::Outside, addr("192.0.2.10:5060")), "inside address on the outside");
    EXPECT_STREQ(p.refuse(Side::Inside, addr("203.0.113.10:5060")), "not an inside address");
}

TEST(PeerPolicy, SpecialAddressesAreNeverPeers) {
    const PeerPolicy p = faq_policy();
    for (Side side : {Side::Inside, Side::Outside}) {
        EXPECT_STREQ(p.refuse(side, addr("127.0.0.1:5060")), "loopback address");
        EXPECT_STREQ(p.refuse(side, addr("[::1]:5060")), "loopback address");
        EXPECT_STREQ(p.refuse(side, addr("0.0.0.0:5060")), "unspecified address");
        EXPECT_STREQ(p.refuse(side, addr("224.0.0.1:5060")), "multicast address");
        EXPECT_STREQ(p.refuse(side, addr("[ff02::1]:5060")), "multicast address");
        EXPECT_STREQ(p.refuse(side, addr("255.255.255.255:5060")), "broadcast address");
        EXPECT_STREQ(p.refuse(side, addr("192.0.2.255:5060")), "broadcast address");
        EXPECT_STREQ(p.refuse(side, addr("192.0.2.0:5060")), "broadcast address");
        EXPECT_STREQ(p.refuse(side, addr("169.254.1.1:5060")), "link-local address");
        EXPECT_STREQ(p.refuse(side, addr("[fe80::1]:5060")), "link-local address");
        EXPECT_STREQ(p.refuse(side, addr("[::ffff:192.0.2.10]:5060")), "IPv4-mapped IPv6 address");
        EXPECT_STREQ(p.refuse(side, addr("192.0.2.10:0")), "port 0");
    }
}

TEST(PeerPolicy, OwnAddressesOnAnyPortAreNeverPeers) {
    const PeerPolicy p = faq_policy();
    EXPECT_STREQ(p.refuse(Side::Inside, addr("192.0.2.1:31000")), "sipmasq's own address");
    EXPECT_STREQ(p.refuse(Side::Outside, addr("203.0.113.1:5060")), "sipmasq's own address");
    EXPECT_STREQ(p.refuse(Side::Outside, addr("198.51.100.7:40000")), "sipmasq's own address");
}

TEST(PeerPolicy, WithoutNetmasksTheInsideAddressAloneIsInside) {
    const PeerPolicy p = make_peer_policy({}, {addr("192.0.2.1")}, {addr("203.0.113.1")}, {});
    ASSERT_EQ(p.inside_networks.size(), 1u);
    EXPECT_EQ(p.inside_networks[0].to_string(), "192.0.2.1/32");
    EXPECT_FALSE(p.allows(Side::Inside, addr("192.0.2.10:5060")));
}

TEST(PeerPolicy, LoopbackSetUpTalksToLocalProcesses) {
    const PeerPolicy p = make_peer_policy({*Cidr::parse("127.0.0.0/8")}, {addr("127.0.0.1")},
                                          {addr("127.0.0.2")}, {});
    EXPECT_TRUE(p.loopback_only);
    EXPECT_TRUE(p.allows(Side::Inside, addr("127.0.0.1:40000")));
    EXPECT_TRUE(p.allows(Side::Outside, addr("127.0.0.3:5060")));
    EXPECT_FALSE(p.allows(Side::Outside, addr("224.0.0.1:5060")));
    // One real interface is enough to enforce the whole policy.
    EXPECT_FALSE(
        make_peer_policy({}, {addr("127.0.0.1")}, {addr("203.0.113.1")}, {}).loopback_only);
}

}  // namespace
}  // namespace sipmasq
