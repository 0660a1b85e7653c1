// SipSideSocket on real loopback sockets: the side of a datagram is the
// interface it arrived through (here always lo), not the socket's side,
// whenever the two sides are on two interfaces.
#include "sip_socket.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace sipmasq {
namespace {

// A socket on 127.0.0.1 (port chosen by the kernel), with IP_PKTINFO as
// the parent sets it when `pktinfo`.
UniqueFd bound_socket(bool pktinfo, SockAddr& local) {
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const int one = 1;
    if (pktinfo) {
        EXPECT_EQ(::setsockopt(fd.get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one), 0);
    }
    local = *SockAddr::parse("127.0.0.1:0");
    EXPECT_EQ(::bind(fd.get(), local.sa(), local.len()), 0);
    socklen_t len = SockAddr::capacity();
    EXPECT_EQ(::getsockname(fd.get(), local.sa(), &len), 0);
    return fd;
}

class SipSocketTest : public ::testing::Test {
  protected:
    void SetUp() override {
        lo_ = if_nametoindex("lo");
        ASSERT_NE(lo_, 0u);
        sender_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        ASSERT_TRUE(sender_);
    }
    // One datagram from the sender to `to`, read through `sock`.
    SipReceive send_and_receive(SipSideSocket& sock, const SockAddr& to, SipDatagram& d) {
        const std::string text = "REGISTER sip:x SIP/2.0\r\n\r\n";
        EXPECT_EQ(::sendto(sender_.get(), text.data(), text.size(), 0, to.sa(), to.len()),
                  static_cast<ssize_t>(text.size()));
        char buf[2048];
        for (int i = 0; i < 200; ++i) {  // loopback delivers at once; bounded anyway
            const SipReceive r = sock.receive(buf, d);
            if (r != SipReceive::Empty) {
                if (r == SipReceive::Datagram) {
                    EXPECT_EQ(std::string(buf, d.size), text);
                }
                return r;
            }
            ::usleep(1000);
        }
        return SipReceive::Empty;
    }
    unsigned lo_ = 0;
    UniqueFd sender_;
};

TEST_F(SipSocketTest, TheArrivalInterfaceDecidesTheSideNotTheSocket) {
    SockAddr local;
    // lo is the inside interface here; the socket is an outside one.
    SipSideSocket sock(bound_socket(true, local), Side::Outside, local,
                       SideInterfaces{{"lo", lo_}, {"smq-out0", lo_ + 1000}});
    SipDatagram d;
    ASSERT_EQ(send_and_receive(sock, local, d), SipReceive::Datagram);
    EXPECT_EQ(d.side, Side::Inside);
    EXPECT_TRUE(d.from.is_loopback());
    EXPECT_EQ(sock.side(), Side::Outside);  // its answers still leave by side

    SipSideSocket in_sock(bound_socket(true, local), Side::Inside, local,
                          SideInterfaces{{"smq-in0", lo_ + 1000}, {"lo", lo_}});
    ASSERT_EQ(send_and_receive(in_sock, local, d), SipReceive::Datagram);
    EXPECT_EQ(d.side, Side::Outside);
}

TEST_F(SipSocketTest, ThroughNeitherSidesInterfaceIsDropped) {
    SockAddr local;
    SipSideSocket sock(bound_socket(true, local), Side::Inside, local,
                       SideInterfaces{{"smq-in0", lo_ + 1000}, {"smq-out0", lo_ + 1001}});
    SipDatagram d;
    EXPECT_EQ(send_and_receive(sock, local, d), SipReceive::Dropped);
}

TEST_F(SipSocketTest, WithoutTheArrivalInterfaceNothingIsTrusted) {
    SockAddr local;
    // No IP_PKTINFO on the socket: the interface is unknown, so dropped.
    SipSideSocket sock(bound_socket(false, local), Side::Inside, local,
                       SideInterfaces{{"lo", lo_}, {"smq-out0", lo_ + 1000}});
    SipDatagram d;
    EXPECT_EQ(send_and_receive(sock, local, d), SipReceive::Dropped);
}

TEST_F(SipSocketTest, BothSidesOnOneInterfaceTakeTheSocketsSide) {
    SockAddr local;
    for (const Side side : {Side::Inside, Side::Outside}) {
        SipSideSocket sock(bound_socket(true, local), side, local,
                           SideInterfaces{{"lo", lo_}, {"lo", lo_}});
        SipDatagram d;
        ASSERT_EQ(send_and_receive(sock, local, d), SipReceive::Datagram);
        EXPECT_EQ(d.side, side);
    }
}

TEST_F(SipSocketTest, NothingWaitingIsEmpty) {
    SockAddr local;
    SipSideSocket sock(bound_socket(true, local), Side::Inside, local, SideInterfaces{});
    SipDatagram d;
    char buf[64];
    EXPECT_EQ(sock.receive(buf, d), SipReceive::Empty);
}

TEST(SideInterfaces, FoundByNameOrByAddress) {
    const unsigned lo = if_nametoindex("lo");
    const SideInterfaces by_name = side_interfaces("lo", "127.0.0.1");
    EXPECT_EQ(by_name.inside.index, lo);
    EXPECT_EQ(by_name.outside.index, lo);
    EXPECT_EQ(by_name.outside.name, "lo");
    EXPECT_FALSE(by_name.distinct());  // one device: by socket
    const SideInterfaces none = side_interfaces("smq-none0", "198.51.100.77");
    EXPECT_EQ(none.inside.index, 0u);
    EXPECT_EQ(none.outside.index, 0u);
    EXPECT_FALSE(none.distinct());
}

}  // namespace
}  // namespace sipmasq
