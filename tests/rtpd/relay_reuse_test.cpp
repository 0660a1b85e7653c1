// A stopped forward's sockets stay open (parked) and the next forward on
// the pair reuses them: the very same sockets, no new bind. Nothing that
// arrives on a parked pair, or waited there, reaches anyone; short of
// descriptors, parked sockets are closed before a call fails. Loopback:
// 127.0.0.1 inside relay, 127.0.0.2 outside relay, phones on .1 and .3.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <array>
#include <cstdlib>
#include <set>

#include "relay.h"
#include "relay_test_util.h"
#include "udp_socket.h"

namespace sipmasq {
namespace {

using test::ep;
using test::params;
using test::Phone;
using test::pump_for;
using test::pump_until_recv;

constexpr std::array<Leg, kLegs> kAllLegs = {Leg::InsideRtp, Leg::InsideRtcp, Leg::OutsideRtp,
                                             Leg::OutsideRtcp};

// The kernel's identity of a socket: equal only for the very same socket,
// whatever descriptor number it has.
uint64_t cookie(int fd) {
    uint64_t c = 0;
    socklen_t len = sizeof c;
    if (fd < 0 || ::getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len) != 0) return 0;
    return c;
}

// The descriptor limit under which exactly `n` descriptors are free (the
// process has holes below its highest one).
rlim_t limit_leaving(int n) {
    std::set<int> open;
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) return 0;
    while (const dirent* e = ::readdir(dir))
        if (e->d_name[0] != '.') open.insert(std::atoi(e->d_name));
    open.erase(::dirfd(dir));
    ::closedir(dir);
    for (int fd = 0, free = 0;; ++fd)
        if (open.count(fd) == 0 && ++free == n) return static_cast<rlim_t>(fd) + 1;
}

Endpoint plus1(const Endpoint& e) {
    return e.with_port(static_cast<uint16_t>(e.port() + 1));
}

class RelayReuse : public ::testing::Test {
  protected:
    // One pair per address unless said otherwise: in strict source mode a
    // stopped pair is the next forward's at once (early reuse).
    void make(uint16_t low, uint16_t high) { st.make(test::test_config(low, high)); }
    StartResult start(uint32_t id, const Phone& in, const Phone& out) {
        const StartResult r = st.relay->start(id, params(in.addr(), out.addr()));
        relay_in = ep("127.0.0.1", r.inside_port);
        relay_out = ep("127.0.0.2", r.outside_port);
        return r;
    }
    std::array<uint64_t, kLegs> cookies(uint32_t id) {
        std::array<uint64_t, kLegs> c{};
        for (size_t l = 0; l < kLegs; ++l) c[l] = cookie(st.relay->socket_fd(id, kAllLegs[l]));
        return c;
    }
    // Forward `id` between the phones, stopped at once (its sockets parked),
    // with what it had, to compare the next forward on the pair with.
    struct Stopped {
        StartResult started;
        std::array<uint64_t, kLegs> cookies{};
        bool stopped = false;
    };
    Stopped start_and_stop(uint32_t id, const Phone& in, const Phone& out) {
        Stopped f;
        f.started = start(id, in, out);
        if (f.started.ok()) f.cookies = cookies(id);
        f.stopped = st.relay->stop(id);
        return f;
    }
    SocketParkStats sockets() { return st.relay->stats().sockets; }
    event_base* base() { return st.base.get(); }

    test::RelayFixtureState st;
    Endpoint relay_in;
    Endpoint relay_out;
};

TEST_F(RelayReuse, TheNextForwardOnAStoppedPairUsesTheSameSocketsWithoutABind) {
    make(43100, 43101);
    Phone alice("127.0.0.1"), bob("127.0.0.3");
    ASSERT_TRUE(alice.ok() && bob.ok());
    const StartResult first = start(1, alice, bob);
    ASSERT_TRUE(first.ok()) << start_error_name(first.error);
    const auto before = cookies(1);
    for (uint64_t c : before) ASSERT_NE(c, 0u);
    EXPECT_EQ(sockets().opened_total, 4u);
    ASSERT_TRUE(st.relay->stop(1));
    EXPECT_EQ(sockets().parked, 4u);
    EXPECT_EQ(sockets().open, 4u);

    Phone carol("127.0.0.1"), dave("127.0.0.3");
    ASSERT_TRUE(carol.ok() && dave.ok());
    const StartResult second = start(2, carol, dave);
    ASSERT_TRUE(second.ok()) << start_error_name(second.error);
    EXPECT_EQ(second.inside_port, first.inside_port);
    EXPECT_EQ(second.outside_port, first.outside_port);
    EXPECT_EQ(cookies(2), before) << "not the parked sockets";
    const SocketParkStats s = sockets();
    EXPECT_EQ(s.opened_total, 4u) << "a socket was bound again";
    EXPECT_EQ(s.reused_total, 4u);
    EXPECT_EQ(s.parked, 0u);
    EXPECT_EQ(s.open, 4u);

    // And they serve the new call.
    ASSERT_TRUE(carol.send_to(relay_in, "call 2"));
    auto got = pump_until_recv(base(), dave);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "call 2");
    EXPECT_EQ(got->second, relay_out);
}

TEST_F(RelayReuse, ALateDatagramToAParkedPairReachesNobodyAndIsCounted) {
    make(43110, 43111);
    Phone alice("127.0.0.1"), bob("127.0.0.3");
    Phone alice_rtcp("127.0.0.1", static_cast<uint16_t>(alice.port() + 1));
    if (!alice_rtcp.ok()) GTEST_SKIP() << "port+1 of an ephemeral port is busy";
    ASSERT_TRUE(start(1, alice, bob).ok());
    ASSERT_TRUE(st.relay->stop(1));

    // The old call's phones keep sending, to RTP and RTCP on both sides.
    ASSERT_TRUE(alice.send_to(relay_in, "late in"));
    ASSERT_TRUE(alice_rtcp.send_to(plus1(relay_in), "late rtcp in"));
    ASSERT_TRUE(bob.send_to(relay_out, "late out"));
    pump_for(base(), 50);
    for (const Phone* p : {&alice, &alice_rtcp, &bob})
        EXPECT_FALSE(p->try_recv().has_value())
            << "a late datagram reached " << p->addr().to_string();
    EXPECT_EQ(sockets().late_dropped_total, 3u);
    // Still bound: nobody else can take the relay's port meanwhile.
    EXPECT_EQ(open_udp_socket(relay_in, UdpSocketOptions{}).error, -EADDRINUSE);
}

// Carol, the new call's inside phone, is a source the new forward accepts:
// only the discard at reuse keeps what she sent to the parked port before
// the call from reaching dave.
TEST_F(RelayReuse, ADatagramQueuedBeforeReuseNeverReachesTheNewCallsPeers) {
    make(43120, 43121);
    Phone alice("127.0.0.1"), bob("127.0.0.3"), carol("127.0.0.1"), dave("127.0.0.3");
    ASSERT_TRUE(alice.ok() && bob.ok() && carol.ok() && dave.ok());
    const Stopped first = start_and_stop(1, alice, bob);
    ASSERT_TRUE(first.started.ok() && first.stopped);
    // Queued on the parked sockets: the loop does not run before the reuse.
    ASSERT_TRUE(carol.send_to(relay_in, "stale from carol"));
    ASSERT_TRUE(dave.send_to(relay_out, "stale from dave"));

    const StartResult second = start(2, carol, dave);
    ASSERT_TRUE(second.ok());
    ASSERT_EQ(second.inside_port, first.started.inside_port);
    ASSERT_EQ(second.outside_port, first.started.outside_port);
    ASSERT_TRUE(carol.send_to(relay_in, "fresh from carol"));
    auto got = pump_until_recv(base(), dave);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "fresh from carol");
    ASSERT_TRUE(dave.send_to(relay_out, "fresh from dave"));
    got = pump_until_recv(base(), carol);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "fresh from dave");
    pump_for(base(), 50);
    EXPECT_FALSE(dave.try_recv().has_value());
    EXPECT_FALSE(carol.try_recv().has_value());
    const auto info = st.relay->info(2);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->stats[0].packets, 1u);
    EXPECT_EQ(info->stats[1].packets, 1u);
    EXPECT_EQ(sockets().late_dropped_total, 2u);
}

// The restart resync names its ports: a rested pair with parked sockets is
// re-created on them; quarantine still refuses a pair that has not rested.
TEST_F(RelayReuse, RequestedPortsOfARestedParkedPairReuseItsSockets) {
    make(43130, 43139);
    Phone alice("127.0.0.1"), bob("127.0.0.3");
    const Stopped first = start_and_stop(1, alice, bob);
    ASSERT_TRUE(first.started.ok() && first.stopped);
    StartParams p = params(alice.addr(), bob.addr());
    p.inside_port = first.started.inside_port;
    p.outside_port = first.started.outside_port;
    EXPECT_EQ(st.relay->start(2, p).error, StartError::PortsUnavailable) << "still resting";
    st.now_ms += 10'000;
    const StartResult again = st.relay->start(2, p);
    ASSERT_TRUE(again.ok()) << start_error_name(again.error);
    EXPECT_EQ(again.inside_port, first.started.inside_port);
    EXPECT_EQ(again.outside_port, first.started.outside_port);
    EXPECT_EQ(cookies(2), first.cookies);
    EXPECT_EQ(sockets().opened_total, 4u);
}

// rtcp-mux legs bind no RTCP port: the pair's parked RTCP sockets are
// closed (the RTP ones reused), and bound anew when the answer drops
// rtcp-mux.
TEST_F(RelayReuse, AnRtcpMuxForwardClosesTheParkedRtcpSocketsAndReusesTheRtpOnes) {
    make(43160, 43161);
    Phone alice("127.0.0.1"), bob("127.0.0.3");
    const Stopped first = start_and_stop(1, alice, bob);
    ASSERT_TRUE(first.started.ok() && first.stopped);

    StartParams p = params(alice.addr(), bob.addr());
    p.inside_mux = true;
    p.outside_mux = true;
    ASSERT_TRUE(st.relay->start(2, p).ok());
    EXPECT_EQ(st.relay->socket_fd(2, Leg::InsideRtcp), -1);
    EXPECT_EQ(st.relay->socket_fd(2, Leg::OutsideRtcp), -1);
    EXPECT_EQ(cookies(2)[static_cast<size_t>(Leg::InsideRtp)],
              first.cookies[static_cast<size_t>(Leg::InsideRtp)]);
    EXPECT_EQ(cookies(2)[static_cast<size_t>(Leg::OutsideRtp)],
              first.cookies[static_cast<size_t>(Leg::OutsideRtp)]);
    EXPECT_EQ(open_udp_socket(plus1(relay_in), UdpSocketOptions{}).error, 0);
    EXPECT_EQ(open_udp_socket(plus1(relay_out), UdpSocketOptions{}).error, 0);
    SocketParkStats s = sockets();
    EXPECT_EQ(s.open, 2u);
    EXPECT_EQ(s.parked, 0u);
    EXPECT_EQ(s.reused_total, 2u);

    p.outside_mux = false;
    ASSERT_TRUE(st.relay->start(2, p).ok());
    EXPECT_GE(st.relay->socket_fd(2, Leg::OutsideRtcp), 0);
    s = sockets();
    EXPECT_EQ(s.opened_total, 5u);
    EXPECT_EQ(s.open, 3u);
    // A live forward turning to rtcp-mux closes its RTCP socket too.
    p.outside_mux = true;
    ASSERT_TRUE(st.relay->start(2, p).ok());
    EXPECT_EQ(sockets().open, 2u);
    EXPECT_EQ(open_udp_socket(plus1(relay_out), UdpSocketOptions{}).error, 0);
}

// Parked sockets never cost a call: out of descriptors (EMFILE), the oldest
// parked ones are closed and the socket is opened again.
TEST(RelayReuseLimits, OutOfDescriptorsClosesParkedSocketsAndTheNewForwardStarts) {
    rlimit old{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
    test::RelayFixtureState st;
    st.make(test::test_config(43140, 43159));  // ten pairs; stopped ones rest 10 s
    // Eight descriptors left: two forwards.
    rlimit low = old;
    low.rlim_cur = limit_leaving(8);
    ASSERT_GT(low.rlim_cur, 8u);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
    const auto p = params(ep("127.0.0.1", 5004), ep("127.0.0.3", 6004));
    std::array<StartResult, 6> r;
    r[0] = st.relay->start(1, p);
    r[1] = st.relay->start(2, p);
    const bool stopped = st.relay->stop(1) && st.relay->stop(2);
    // Free pairs are left, so the new forwards need new sockets.
    r[2] = st.relay->start(3, p);
    const SocketParkStats after_third = st.relay->stats().sockets;
    r[3] = st.relay->start(4, p);
    // Nothing parked any more: the limit is the limit.
    r[4] = st.relay->start(5, p);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);

    ASSERT_TRUE(r[0].ok() && r[1].ok()) << "the test's descriptor count is off";
    EXPECT_TRUE(stopped);
    EXPECT_TRUE(r[2].ok()) << start_error_name(r[2].error);
    EXPECT_EQ(after_third.closed_for_room_total, 4u);
    EXPECT_EQ(after_third.parked, 4u);
    EXPECT_EQ(after_third.open, 8u);
    EXPECT_TRUE(r[3].ok()) << start_error_name(r[3].error);
    EXPECT_EQ(r[4].error, StartError::NoDescriptors);
    EXPECT_EQ(r[4].sys_errno, EMFILE);
    const SocketParkStats s = st.relay->stats().sockets;
    EXPECT_EQ(s.parked, 0u);
    EXPECT_EQ(s.open, 8u);
    EXPECT_EQ(s.closed_for_room_total, 8u);
}

}  // namespace
}  // namespace sipmasq
