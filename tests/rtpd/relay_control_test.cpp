// Control semantics of the relay: idempotent start, re-INVITE keeps ports,
// stop of an unknown id, list, requested ports for restart, limits.
#include <gtest/gtest.h>
#include <net/if.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <map>

#include "peer_policy.h"
#include "relay.h"
#include "relay_test_util.h"
#include "udp_socket.h"

namespace sipmasq {
namespace {

using test::ep;
using test::params;

class RelayControl : public ::testing::Test {
  protected:
    void SetUp() override { st.make(test::test_config(42000, 42099)); }
    Relay& relay() { return *st.relay; }
    test::RelayFixtureState st;
};

TEST_F(RelayControl, StartIsIdempotentById) {
    auto p = params(ep("127.0.0.1", 5004), ep("127.0.0.3", 6004));
    StartResult a = relay().start(7, p);
    ASSERT_TRUE(a.ok()) << start_error_name(a.error);
    EXPECT_TRUE(a.created);
    EXPECT_EQ(a.inside_port % 2, 0);
    EXPECT_EQ(a.outside_port % 2, 0);
    StartResult b = relay().start(7, p);
    ASSERT_TRUE(b.ok());
    EXPECT_FALSE(b.created);
    EXPECT_EQ(b.inside_port, a.inside_port);
    EXPECT_EQ(b.outside_port, a.outside_port);
    EXPECT_EQ(relay().size(), 1u);
    EXPECT_EQ(relay().stats().started_total, 1u);
}

TEST_F(RelayControl, ReInviteUpdatesPeersAndKeepsPorts) {
    StartResult a = relay().start(7, params(ep("127.0.0.1", 5004), ep("127.0.0.3", 6004)));
    ASSERT_TRUE(a.ok());
    auto p2 = params(ep("127.0.0.1", 5004), ep("127.0.0.4", 7000));
    p2.outside_rtcp_port = 7005;
    StartResult b = relay().start(7, p2);
    ASSERT_TRUE(b.ok());
    EXPECT_FALSE(b.created);
    EXPECT_EQ(b.inside_port, a.inside_port);
    EXPECT_EQ(b.outside_port, a.outside_port);
    auto info = relay().info(7);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->outside_peer, ep("127.0.0.4", 7000));
    EXPECT_EQ(info->sources[static_cast<size_t>(Leg::OutsideRtp)], ep("127.0.0.4", 7000));
    EXPECT_EQ(info->sources[static_cast<size_t>(Leg::OutsideRtcp)], ep("127.0.0.4", 7005));
    EXPECT_EQ(info->sources[static_cast<size_t>(Leg::InsideRtcp)], ep("127.0.0.1", 5005));
}

TEST_F(RelayControl, StopOfAnUnknownIdSucceedsAndStopQuarantinesPorts) {
    EXPECT_FALSE(relay().stop(12345));  // no such forward: nothing to do, no error
    StartResult a = relay().start(1, params(ep("127.0.0.1", 5004), ep("127.0.0.3", 6004)));
    ASSERT_TRUE(a.ok());
    EXPECT_TRUE(relay().stop(1));
    EXPECT_FALSE(relay().stop(1));
    EXPECT_EQ(relay().size(), 0u);
    RelayStats s = relay().stats();
    ASSERT_EQ(s.pools.size(), 2u);
    for (const auto& p : s.pools) {
        EXPECT_EQ(p.stats.used, 0u);
        EXPECT_EQ(p.stats.quarantined, 1u);
    }
    // Its sockets stay bound, parked for the next forward on the pair.
    auto again = open_udp_socket(ep("127.0.0.1", a.inside_port), UdpSocketOptions{});
    EXPECT_EQ(again.error, -EADDRINUSE);
    EXPECT_EQ(s.sockets.parked, 4u);
}

TEST_F(RelayControl, ListReturnsEveryForwardWithPortsAndPeers) {
    std::map<uint32_t, StartResult> started;
    for (uint32_t id : {3u, 9u, 1000000u}) {
        auto p =
            params(ep("127.0.0.1", static_cast<uint16_t>(5000 + id % 100)), ep("127.0.0.3", 6000));
        started[id] = relay().start(id, p);
        ASSERT_TRUE(started[id].ok());
    }
    auto all = relay().list();
    ASSERT_EQ(all.size(), 3u);
    for (const auto& f : all) {
        ASSERT_TRUE(started.count(f.id));
        EXPECT_EQ(f.inside_local, ep("127.0.0.1", started[f.id].inside_port));
        EXPECT_EQ(f.outside_local, ep("127.0.0.2", started[f.id].outside_port));
        EXPECT_EQ(f.inside_peer.port(), 5000 + f.id % 100);
        EXPECT_EQ(f.outside_peer, ep("127.0.0.3", 6000));
    }
}

TEST_F(RelayControl, RequestedPortsRecreateExactlyOrFail) {
    auto p = params(ep("127.0.0.1", 5004), ep("127.0.0.3", 6004));
    p.inside_port = 42010;
    p.outside_port = 42010;  // same number, other address: its own pool
    StartResult a = relay().start(1, p);
    ASSERT_TRUE(a.ok()) << start_error_name(a.error);
    EXPECT_EQ(a.inside_port, 42010);
    EXPECT_EQ(a.outside_port, 42010);
    // Same id with the same requested ports: the same forward.
    EXPECT_TRUE(relay().start(1, p).ok());
    // Same id, other ports: refused with a reason.
    auto q = p;
    q.inside_port = 42020;
    EXPECT_EQ(relay().start(1, q).error, StartError::PortsMismatch);
    // Another id on ports in use.
    EXPECT_EQ(relay().start(2, p).error, StartError::PortsUnavailable);
    // Odd or out of range.
    q = p;
    q.inside_port = 42011;
    EXPECT_EQ(relay().start(3, q).error, StartError::PortsUnavailable);
    q.inside_port = 43000;
    EXPECT_EQ(relay().start(3, q).error, StartError::PortsUnavailable);
    // Held by another process (here: a socket of the test).
    auto held = open_udp_socket(ep("127.0.0.1", 42031), UdpSocketOptions{});
    ASSERT_EQ(held.error, 0);
    q.inside_port = 42030;
    q.outside_port = 0;
    EXPECT_EQ(relay().start(4, q).error, StartError::PortsInUse);
    // Nothing leaked from the failures: only forward 1 holds ports.
    EXPECT_EQ(relay().size(), 1u);
    for (const auto& pool : relay().stats().pools) EXPECT_EQ(pool.stats.used, 1u);
}

TEST_F(RelayControl, BadParametersAreRefused) {
    auto p = params(ep("::1", 5004), ep("127.0.0.3", 6004));  // v6 peer, v4 local
    EXPECT_EQ(relay().start(1, p).error, StartError::BadParams);
    p = params(ep("127.0.0.1", 0), ep("127.0.0.3", 6004));  // port 0
    EXPECT_EQ(relay().start(1, p).error, StartError::BadParams);
    p = params(ep("127.0.0.1", 5004), ep("127.0.0.3", 6004));
    p.outside_local = Endpoint{};
    EXPECT_EQ(relay().start(1, p).error, StartError::BadParams);
    EXPECT_EQ(relay().size(), 0u);
    EXPECT_EQ(relay().stats().failed_total, 3u);
}

TEST_F(RelayControl, UnknownPeersAreAllowedAtStart) {
    StartResult a = relay().start(1, params(Endpoint{}, Endpoint{}));
    ASSERT_TRUE(a.ok());
    auto info = relay().info(1);
    ASSERT_TRUE(info.has_value());
    EXPECT_FALSE(info->outside_peer.known());
}

TEST(RelayLimits, TableSizeIsAnErrorValue) {
    test::RelayFixtureState st;
    auto cfg = test::test_config(42100, 42199);
    cfg.max_forwards = 2;
    st.make(cfg);
    auto p = params(ep("127.0.0.1", 5004), ep("127.0.0.3", 6004));
    EXPECT_TRUE(st.relay->start(1, p).ok());
    EXPECT_TRUE(st.relay->start(2, p).ok());
    EXPECT_EQ(st.relay->start(3, p).error, StartError::TooManyForwards);
    EXPECT_TRUE(st.relay->start(2, p).ok()) << "a repeat of an existing id still works";
}

TEST(RelayLimits, ExhaustedPoolIsAnErrorValue) {
    test::RelayFixtureState st;
    st.make(test::test_config(42200, 42203));  // two pairs per address
    auto p = params(ep("127.0.0.1", 5004), ep("127.0.0.3", 6004));
    EXPECT_TRUE(st.relay->start(1, p).ok());
    EXPECT_TRUE(st.relay->start(2, p).ok());
    StartResult r = st.relay->start(3, p);
    EXPECT_EQ(r.error, StartError::PoolExhausted);
    EXPECT_STREQ(start_error_name(r.error), "port pool exhausted");
    // Strict source mode (the default): after a stop the resting pair is
    // reused at once rather than the call refused (the new forward accepts
    // only its own peers, so the old call's late packets are dropped).
    EXPECT_TRUE(st.relay->stop(1));
    EXPECT_TRUE(st.relay->start(3, p).ok());
    EXPECT_EQ(st.relay->start(4, p).error, StartError::PoolExhausted);
}

TEST(RelayLimits, InLatchModeAQuarantinedPairWaits) {
    test::RelayFixtureState st;
    RelayConfig cfg = test::test_config(42200, 42203);
    cfg.source_mode = SourceMode::Latch;
    st.make(cfg);
    auto p = params(ep("127.0.0.1", 5004), ep("127.0.0.3", 6004));
    EXPECT_TRUE(st.relay->start(1, p).ok());
    EXPECT_TRUE(st.relay->start(2, p).ok());
    // After a stop the pair rests in quarantine, then serves again.
    EXPECT_TRUE(st.relay->stop(1));
    EXPECT_EQ(st.relay->start(3, p).error, StartError::PoolExhausted);
    st.now_ms += 10'000;
    EXPECT_TRUE(st.relay->start(3, p).ok());
}

TEST(RelayLimits, DescriptorCeilingIsAnErrorValue) {
    rlimit old{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
    test::RelayFixtureState st;
    st.make(test::test_config(42300, 42999));
    // Find the current highest descriptor, then allow only ten more.
    int probe = ::dup(0);
    ASSERT_GE(probe, 0);
    ::close(probe);
    rlimit low = old;
    low.rlim_cur = static_cast<rlim_t>(probe + 10);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
    auto p = params(ep("127.0.0.1", 5004), ep("127.0.0.3", 6004));
    int ok = 0;
    StartResult last;
    for (uint32_t id = 1; id <= 10; ++id) {
        last = st.relay->start(id, p);
        if (!last.ok()) break;
        ++ok;
    }
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
    EXPECT_EQ(ok, 2);
    EXPECT_EQ(last.error, StartError::NoDescriptors);
    EXPECT_EQ(last.sys_errno, EMFILE);
    for (const auto& pool : st.relay->stats().pools) EXPECT_EQ(pool.stats.used, 2u);
}

// rtpd checks the peers itself (a compromised sipd must not aim the relay at
// arbitrary hosts), with the policy of the FAQ's firewall.
class RelayPeerPolicy : public ::testing::Test {
  protected:
    void SetUp() override {
        RelayConfig c = test::test_config(42100, 42199);
        c.peers = make_peer_policy({*Cidr::parse("192.0.2.0/24")}, {*SockAddr::parse("192.0.2.1")},
                                   {*SockAddr::parse("203.0.113.1")}, {});
        st.make(c);
    }
    void expect_refused(const StartParams& p, Side side, const std::string& why) {
        const StartResult r = st.relay->start(5, p);
        EXPECT_EQ(r.error, StartError::PeerRefused) << start_error_name(r.error);
        EXPECT_EQ(r.refused_side, side);
        ASSERT_NE(r.refused_why, nullptr);
        EXPECT_EQ(std::string(r.refused_why), why);
    }
    test::RelayFixtureState st;
};

TEST_F(RelayPeerPolicy, RefusesPeersOnTheWrongSideAndSpecialAddressesBeforeBinding) {
    expect_refused(params(ep("203.0.113.10", 5004), ep("203.0.113.20", 6004)), Side::Inside,
                   "not an inside address");
    expect_refused(params(ep("192.0.2.10", 5004), ep("192.0.2.20", 6004)), Side::Outside,
                   "inside address on the outside");
    expect_refused(params(ep("192.0.2.10", 5004), ep("127.0.0.1", 6004)), Side::Outside,
                   "loopback address");
    expect_refused(params(ep("192.0.2.10", 5004), ep("203.0.113.1", 6004)), Side::Outside,
                   "sipmasq's own address");
    expect_refused(params(ep("192.0.2.10", 5004), ep("224.0.0.1", 6004)), Side::Outside,
                   "multicast address");
    expect_refused(params(ep("192.0.2.255", 5004), ep("203.0.113.20", 6004)), Side::Inside,
                   "broadcast address");
    EXPECT_EQ(st.relay->size(), 0u);
    const RelayStats s = st.relay->stats();
    EXPECT_EQ(s.failed_total, 6u);
    for (const auto& pool : s.pools) EXPECT_EQ(pool.stats.used, 0u);  // nothing bound
}

TEST_F(RelayPeerPolicy, AllowsTheRightPeersAndUnspecifiedOrUnknownOnes) {
    EXPECT_TRUE(st.relay->start(1, params(ep("192.0.2.10", 5004), ep("203.0.113.20", 6004))).ok());
    // On hold (c=0.0.0.0) and an answer not yet there: nothing is sent to them.
    EXPECT_TRUE(st.relay->start(2, params(ep("192.0.2.10", 5004), ep("0.0.0.0", 6004))).ok());
    EXPECT_TRUE(st.relay->start(3, params(ep("192.0.2.10", 5004), Endpoint{})).ok());
    EXPECT_TRUE(st.relay->start(4, params(Endpoint{}, ep("203.0.113.20", 6004))).ok());
    EXPECT_EQ(st.relay->size(), 4u);
}

TEST_F(RelayPeerPolicy, AReInviteToARefusedPeerFailsAndKeepsTheForward) {
    ASSERT_TRUE(st.relay->start(7, params(ep("192.0.2.10", 5004), ep("203.0.113.20", 6004))).ok());
    const StartResult r =
        st.relay->start(7, params(ep("192.0.2.10", 5004), ep("192.0.2.30", 6004)));
    EXPECT_EQ(r.error, StartError::PeerRefused);
    const auto info = st.relay->info(7);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->outside_peer, ep("203.0.113.20", 6004));
}

// A hairpin (a provider that does not anchor media routed an inside call
// back in): an outside peer on the relay's own outside address is allowed
// with the outside RTP port of another live forward, and nothing else.
TEST_F(RelayPeerPolicy, AHairpinMayNameAnotherLiveForwardsOutsidePort) {
    const StartResult first =
        st.relay->start(1, params(ep("192.0.2.10", 5004), ep("203.0.113.20", 6004)));
    ASSERT_TRUE(first.ok());
    const uint16_t port = first.outside_port;
    const StartResult second =
        st.relay->start(2, params(ep("192.0.2.20", 5004), ep("127.0.0.2", port)));
    EXPECT_TRUE(second.ok()) << start_error_name(second.error);
    // The first forward may name the second's port in turn (the answer).
    EXPECT_TRUE(
        st.relay->start(1, params(ep("192.0.2.10", 5004), ep("127.0.0.2", second.outside_port)))
            .ok());
    // Its own port, a port of no forward, an RTCP port, another RTCP port
    // than the forward's: refused.
    expect_refused(params(ep("192.0.2.20", 5004), ep("127.0.0.2", 42198)), Side::Outside,
                   "loopback address");
    const StartResult self =
        st.relay->start(2, params(ep("192.0.2.20", 5004), ep("127.0.0.2", second.outside_port)));
    EXPECT_EQ(self.error, StartError::PeerRefused);
    expect_refused(params(ep("192.0.2.20", 5004), ep("127.0.0.2", port + 1)), Side::Outside,
                   "loopback address");
    StartParams other_rtcp = params(ep("192.0.2.20", 5004), ep("127.0.0.2", port));
    other_rtcp.outside_rtcp_port = static_cast<uint16_t>(port + 3);
    expect_refused(other_rtcp, Side::Outside, "loopback address");
    // Gone with the forward it named.
    ASSERT_TRUE(st.relay->stop(2));
    ASSERT_TRUE(st.relay->stop(1));
    expect_refused(params(ep("192.0.2.20", 5004), ep("127.0.0.2", port)), Side::Outside,
                   "loopback address");
}

// SO_BINDTODEVICE: each side's sockets see only their interface.
TEST(RelayDevices, SocketsAreBoundToTheirSidesInterface) {
    test::RelayFixtureState st;
    RelayConfig c = test::test_config(42200, 42299);
    c.inside_device = "lo";
    c.outside_device = "lo";
    st.make(c);
    ASSERT_TRUE(st.relay->start(1, params(ep("127.0.0.1", 5004), ep("127.0.0.3", 6004))).ok());
    for (const Leg leg : {Leg::InsideRtp, Leg::InsideRtcp, Leg::OutsideRtp, Leg::OutsideRtcp}) {
        char name[IFNAMSIZ] = {};
        socklen_t len = sizeof name;
        ASSERT_EQ(
            ::getsockopt(st.relay->socket_fd(1, leg), SOL_SOCKET, SO_BINDTODEVICE, name, &len), 0);
        EXPECT_STREQ(name, "lo");
    }
    // No such interface: the forward fails rather than listening everywhere.
    test::RelayFixtureState bad;
    c.inside_device = "smq-none0";
    bad.make(c);
    const StartResult r = bad.relay->start(1, params(ep("127.0.0.1", 5004), ep("127.0.0.3", 6004)));
    EXPECT_EQ(r.error, StartError::Socket);
    EXPECT_EQ(r.sys_errno, ENODEV);
}

TEST(RelayDevices, WithoutADeviceTheSocketsAreNotBound) {
    test::RelayFixtureState st;
    st.make(test::test_config(42300, 42399));
    ASSERT_TRUE(st.relay->start(1, params(ep("127.0.0.1", 5004), ep("127.0.0.3", 6004))).ok());
    char name[IFNAMSIZ] = {};
    socklen_t len = sizeof name;
    ASSERT_EQ(::getsockopt(st.relay->socket_fd(1, Leg::InsideRtp), SOL_SOCKET, SO_BINDTODEVICE,
                           name, &len),
              0);
    EXPECT_EQ(len, 0u);
}

}  // namespace
}  // namespace sipmasq
