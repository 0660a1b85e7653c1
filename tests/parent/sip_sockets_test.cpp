// sip_dscp: the parent marks the SIP sockets it opens (IP_TOS), so sipd
// needs no setsockopt under its seccomp filter; 0 leaves them unmarked.
// And it gives them room for a burst of calls.
#include "sip_sockets.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sipmasq {
namespace {

int tos_of(int fd) {
    int tos = -1;
    socklen_t len = sizeof tos;
    EXPECT_EQ(::getsockopt(fd, IPPROTO_IP, IP_TOS, &tos, &len), 0);
    return tos;
}

Config loopback(uint8_t dscp) {
    Config c;
    c.inbound_addrs = {*SockAddr::parse("127.0.0.1")};
    c.outbound_addrs = {*SockAddr::parse("127.0.0.2")};
    // A port of this process's own, so parallel runs do not collide.
    c.sip_listen_port = static_cast<uint16_t>(40000 + ::getpid() % 20000);
    c.sip_dscp = dscp;
    return c;
}

TEST(SipSockets, SipDscpMarksBothSides) {
    std::vector<SipSocket> sockets;
    std::string error;
    ASSERT_TRUE(open_sip_sockets(loopback(26), sockets, error)) << error;
    // A UDP socket and a TCP listener (whose connections inherit it) per side.
    ASSERT_EQ(sockets.size(), 4u);
    for (const SipSocket& s : sockets) EXPECT_EQ(tos_of(s.fd.get()), 26 << 2);
}

TEST(SipSockets, ZeroLeavesThemUnmarked) {
    std::vector<SipSocket> sockets;
    std::string error;
    ASSERT_TRUE(open_sip_sockets(loopback(0), sockets, error)) << error;
    for (const SipSocket& s : sockets) EXPECT_EQ(tos_of(s.fd.get()), 0);
}

// A burst of calls must not overflow the SIP sockets: the parent gives the
// UDP ones a receive buffer far above the kernel's default (as root, with
// CAP_NET_ADMIN as these tests run: 4 MiB, which the kernel doubles).
TEST(SipSockets, UdpSocketsHaveRoomForABurst) {
    if (::geteuid() != 0) GTEST_SKIP() << "SO_RCVBUFFORCE needs root";
    std::vector<SipSocket> sockets;
    std::string error;
    ASSERT_TRUE(open_sip_sockets(loopback(0), sockets, error)) << error;
    int udp = 0;
    for (const SipSocket& s : sockets) {
        if (s.transport != proto::kSipUdp) continue;
        ++udp;
        int room = 0;
        socklen_t len = sizeof room;
        ASSERT_EQ(::getsockopt(s.fd.get(), SOL_SOCKET, SO_RCVBUF, &room, &len), 0);
        EXPECT_GE(room, 4 << 20);
    }
    EXPECT_EQ(udp, 2);
}

}  // namespace
}  // namespace sipmasq
