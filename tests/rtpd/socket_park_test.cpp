// SocketPark: taking pairs from a PortPool with their sockets (ports held
// by another process set aside, requested ports exactly), parking and
// reusing the same sockets with their queues discarded, and the descriptor
// budget that closes the oldest parked sockets first. Real sockets on
// loopback, a real event base.
#include "socket_park.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "relay_test_util.h"

namespace sipmasq {
namespace {

using test::ep;
using test::Phone;

// What the relay's callback does for a socket no forward uses.
void on_event(evutil_socket_t, short, void* arg) noexcept {
    auto* s = static_cast<PortSocket*>(arg);
    if (s->user == nullptr) s->park->drain(*s);
}

Endpoint loopback(uint16_t port = 0) {
    return ep("127.0.0.1", port);
}

uint16_t local_port(const PortSocket& s) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    if (::getsockname(s.fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
    return ntohs(a.sin_port);
}

// The kernel's identity of a socket: equal only for the very same socket,
// whatever descriptor number it has.
uint64_t cookie(const PortSocket& s) {
    uint64_t c = 0;
    socklen_t len = sizeof c;
    if (::getsockopt(s.fd.get(), SOL_SOCKET, SO_COOKIE, &c, &len) != 0) return 0;
    return c;
}

bool bindable(uint16_t port) {
    return open_udp_socket(loopback(port), UdpSocketOptions{}).error == 0;
}

class SocketParkTest : public ::testing::Test {
  protected:
    SocketPark::TakenPair take(PortPool& pool, uint16_t requested = 0, bool with_rtcp = true,
                               uint32_t attempts = 16) {
        return park.take_pair(pool, table, loopback(), requested, attempts, UdpSocketOptions{}, now,
                              with_rtcp);
    }
    void park_pair(const SocketPark::TakenPair& t) {
        park.park(t.sockets->rtp);
        park.park(t.sockets->rtcp);
    }

    EventBasePtr base{event_base_new()};
    SocketPark park{base.get(), &on_event, 0};
    PairTable table;
    int64_t now = 0;
};

TEST_F(SocketParkTest, TakesBothPortsOfAPair) {
    PortPool pool(41000, 41099, 10, 99);
    const auto t = take(pool, 0, true, 8);
    ASSERT_EQ(t.error, PairError::None) << pair_error_name(t.error);
    ASSERT_NE(t.sockets, nullptr);
    EXPECT_EQ(local_port(t.sockets->rtp), t.rtp_port);
    EXPECT_EQ(local_port(t.sockets->rtcp), t.rtp_port + 1);
    const SocketParkStats s = park.stats();
    EXPECT_EQ(s.open, 2u);
    EXPECT_EQ(s.parked, 0u);
    EXPECT_EQ(s.opened_total, 2u);
}

TEST_F(SocketParkTest, SkipsPortsHeldByAnotherSocketAndSetsThemAside) {
    // Four pairs; hold one port of three of them with sockets of our own.
    const uint16_t low = 41200;
    PortPool pool(low, low + 7, 10, 5);
    std::vector<UniqueFd> holders;
    for (uint16_t port : {uint16_t(low), uint16_t(low + 3), uint16_t(low + 4)}) {
        auto r = open_udp_socket(loopback(port), UdpSocketOptions{});
        ASSERT_EQ(r.error, 0) << "test port " << port << " busy on this machine";
        holders.push_back(std::move(r.fd));
    }
    const auto t = take(pool);
    ASSERT_EQ(t.error, PairError::None);
    EXPECT_EQ(t.rtp_port, low + 6);
    auto st = pool.stats(0);
    EXPECT_EQ(st.used, 1u);
    EXPECT_EQ(st.free + st.quarantined, 3u);
    // The next call finds only held pairs left: exhausted, never a held port.
    const auto none = take(pool);
    EXPECT_EQ(none.error, PairError::Exhausted);
    EXPECT_EQ(none.sockets, nullptr);
    st = pool.stats(0);
    EXPECT_EQ(st.set_aside_total, 3u);
    EXPECT_EQ(st.quarantined, 3u);
    EXPECT_EQ(st.free, 0u);
    // The RTP socket bound on the pair whose RTCP port is held was parked,
    // not leaked: the taken pair's two and that one are open.
    EXPECT_EQ(park.stats().open, 3u);
    EXPECT_EQ(park.stats().parked, 1u);
}

TEST_F(SocketParkTest, RequestedPortsBindExactlyOrFailWithAReason) {
    const uint16_t low = 41300;
    PortPool pool(low, low + 9, 10, 5);
    const auto t = take(pool, low + 4);
    ASSERT_EQ(t.error, PairError::None);
    EXPECT_EQ(t.rtp_port, low + 4);
    EXPECT_EQ(take(pool, low + 4).error, PairError::Unavailable);
    auto held = open_udp_socket(loopback(low + 7), UdpSocketOptions{});
    ASSERT_EQ(held.error, 0);
    const auto busy = take(pool, low + 6);
    EXPECT_EQ(busy.error, PairError::InUse);
    EXPECT_EQ(busy.sys_errno, EADDRINUSE);
    EXPECT_EQ(pool.stats(0).used, 1u);
}

TEST_F(SocketParkTest, ExhaustedPoolIsAnErrorValue) {
    PortPool pool(41400, 41401, 10, 5);
    ASSERT_EQ(take(pool, 0, true, 4).error, PairError::None);
    const auto b = take(pool, 0, true, 4);
    EXPECT_EQ(b.error, PairError::Exhausted);
    EXPECT_STREQ(pair_error_name(b.error), "port pool exhausted");
}

TEST_F(SocketParkTest, AParkedPairIsTakenAgainWithoutANewSocket) {
    PortPool pool(41500, 41501, 0, 7);  // one pair, no quarantine
    const auto first = take(pool);
    ASSERT_EQ(first.error, PairError::None);
    const uint64_t rtp = cookie(first.sockets->rtp);
    const uint64_t rtcp = cookie(first.sockets->rtcp);
    ASSERT_NE(rtp, 0u);
    park_pair(first);
    pool.release(first.rtp_port, now);
    EXPECT_EQ(park.stats().parked, 2u);
    EXPECT_FALSE(bindable(first.rtp_port)) << "a parked socket stays bound";

    const auto second = take(pool);
    ASSERT_EQ(second.error, PairError::None);
    EXPECT_EQ(second.rtp_port, first.rtp_port);
    EXPECT_EQ(cookie(second.sockets->rtp), rtp);
    EXPECT_EQ(cookie(second.sockets->rtcp), rtcp);
    const SocketParkStats s = park.stats();
    EXPECT_EQ(s.opened_total, 2u);
    EXPECT_EQ(s.reused_total, 2u);
    EXPECT_EQ(s.open, 2u);
    EXPECT_EQ(s.parked, 0u);
}

TEST_F(SocketParkTest, WhatWaitedOnAParkedSocketIsDiscardedAtReuse) {
    PortPool pool(41510, 41511, 0, 7);
    const auto first = take(pool);
    ASSERT_EQ(first.error, PairError::None);
    park_pair(first);
    pool.release(first.rtp_port, now);
    // Late datagrams of the old call, queued (the loop does not run).
    Phone late("127.0.0.3");
    ASSERT_TRUE(late.ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(late.send_to(loopback(first.rtp_port), "late rtp"));
    ASSERT_TRUE(late.send_to(loopback(static_cast<uint16_t>(first.rtp_port + 1)), "late rtcp"));

    const auto second = take(pool);
    ASSERT_EQ(second.error, PairError::None);
    char buf[64];
    EXPECT_LT(::recv(second.sockets->rtp.fd.get(), buf, sizeof buf, MSG_DONTWAIT), 0);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_LT(::recv(second.sockets->rtcp.fd.get(), buf, sizeof buf, MSG_DONTWAIT), 0);
    EXPECT_EQ(park.stats().late_dropped_total, 4u);
}

// A mux leg binds no RTCP port: the pair's parked RTCP socket is closed,
// and bound anew when the answer drops rtcp-mux.
TEST_F(SocketParkTest, AnRtcpMuxLegClosesTheParkedRtcpSocketOfItsPair) {
    PortPool pool(41520, 41521, 0, 7);
    const auto first = take(pool);
    ASSERT_EQ(first.error, PairError::None);
    const uint64_t rtp = cookie(first.sockets->rtp);
    park_pair(first);
    pool.release(first.rtp_port, now);

    const auto mux = take(pool, 0, false);  // rtcp-mux: the RTP socket only
    ASSERT_EQ(mux.error, PairError::None);
    EXPECT_EQ(cookie(mux.sockets->rtp), rtp);
    EXPECT_FALSE(mux.sockets->rtcp.fd.valid());
    EXPECT_TRUE(bindable(static_cast<uint16_t>(mux.rtp_port + 1)));
    EXPECT_EQ(park.stats().open, 1u);
    EXPECT_EQ(park.stats().parked, 0u);
    ASSERT_EQ(park.take(mux.sockets->rtcp, loopback(static_cast<uint16_t>(mux.rtp_port + 1)),
                        UdpSocketOptions{}),
              0);
    EXPECT_EQ(park.stats().opened_total, 3u);
    EXPECT_EQ(park.stats().open, 2u);
}

TEST(SocketParkBudget, TheOldestParkedSocketsAreClosedToStayWithinIt) {
    EventBasePtr base{event_base_new()};
    SocketPark park(base.get(), &on_event, 4);
    PairTable table;
    PortPool pool(41600, 41605, 10, 3);  // three pairs; released ones rest 10 s
    const auto take = [&] {
        return park.take_pair(pool, table, loopback(), 0, 16, UdpSocketOptions{}, 0, true);
    };
    const auto a = take();
    const auto b = take();
    ASSERT_EQ(a.error, PairError::None);
    ASSERT_EQ(b.error, PairError::None);
    for (const auto* t : {&a, &b}) {
        park.park(t->sockets->rtp);
        park.park(t->sockets->rtcp);
        pool.release(t->rtp_port, 0);
    }
    // The third pair needs two new sockets: a's, parked first, make room.
    const auto c = take();
    ASSERT_EQ(c.error, PairError::None) << pair_error_name(c.error);
    SocketParkStats s = park.stats();
    EXPECT_EQ(s.open, 4u);
    EXPECT_EQ(s.parked, 2u);
    EXPECT_EQ(s.closed_for_room_total, 2u);
    EXPECT_TRUE(bindable(a.rtp_port));
    EXPECT_TRUE(bindable(static_cast<uint16_t>(a.rtp_port + 1)));
    EXPECT_FALSE(bindable(b.rtp_port)) << "b's sockets are still parked";

    // Only live sockets in the budget: nothing to close, and no socket past it.
    SocketPark tight(base.get(), &on_event, 2);
    PairTable other;
    PortPool small(41610, 41613, 10, 3);
    const auto first =
        tight.take_pair(small, other, loopback(), 0, 16, UdpSocketOptions{}, 0, true);
    ASSERT_EQ(first.error, PairError::None);
    const auto second =
        tight.take_pair(small, other, loopback(), 0, 16, UdpSocketOptions{}, 0, true);
    EXPECT_EQ(second.error, PairError::NoDescriptors);
    EXPECT_EQ(second.sys_errno, EMFILE);
    EXPECT_EQ(small.stats(0).used, 1u);
    EXPECT_EQ(tight.stats().open, 2u);
}

}  // namespace
}  // namespace sipmasq
