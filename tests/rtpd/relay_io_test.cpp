// The relay with real sockets on loopback: 127.0.0.1 is the inside relay
// address, 127.0.0.2 the outside one; phones live on 127.0.0.1 / .3 / .4.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/ip.h>

#include "relay.h"
#include "relay_test_util.h"

namespace sipmasq {
namespace {

using test::drops;
using test::ep;
using test::Phone;
using test::pump_for;
using test::pump_until_recv;

constexpr size_t kIn = 0;
constexpr size_t kOut = 1;

class RelayIo : public ::testing::Test {
  protected:
    void make(SourceMode mode = SourceMode::Strict, uint32_t window_ms = 3000) {
        auto cfg = test::test_config(43000, 43019);  // ten pairs per address
        cfg.source_mode = mode;
        cfg.latch_window_ms = window_ms;
        st.make(cfg);
    }
    // Starts forward 1 between alice (inside) and bob (outside).
    StartResult start(const Phone& alice_rtp, const Phone& bob_rtp) {
        auto p = test::params(alice_rtp.addr(), bob_rtp.addr());
        StartResult r = st.relay->start(1, p);
        relay_in = ep("127.0.0.1", r.inside_port);
        relay_out = ep("127.0.0.2", r.outside_port);
        return r;
    }
    DirectionStats dir(size_t d) { return st.relay->info(1)->stats[d]; }
    event_base* base() { return st.base.get(); }

    test::RelayFixtureState st;
    Endpoint relay_in;   // the inside RTP port alice sends to
    Endpoint relay_out;  // the outside RTP port bob sends to
};

Endpoint plus1(const Endpoint& e) {
    return e.with_port(static_cast<uint16_t>(e.port() + 1));
}

TEST_F(RelayIo, ForwardsRtpAndRtcpBothWaysFromTheSymmetricPorts) {
    make();
    Phone alice("127.0.0.1"), bob("127.0.0.3");
    ASSERT_TRUE(alice.ok() && bob.ok());
    // RTCP phones on RTP port + 1.
    Phone alice_rtcp("127.0.0.1", static_cast<uint16_t>(alice.port() + 1));
    Phone bob_rtcp("127.0.0.3", static_cast<uint16_t>(bob.port() + 1));
    if (!alice_rtcp.ok() || !bob_rtcp.ok()) GTEST_SKIP() << "port+1 of an ephemeral port is busy";
    ASSERT_TRUE(start(alice, bob).ok());

    ASSERT_TRUE(alice.send_to(relay_in, "rtp alice->bob"));
    auto got = pump_until_recv(base(), bob);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "rtp alice->bob");
    EXPECT_EQ(got->second, relay_out) << "bob must see the outside RTP port as source";

    ASSERT_TRUE(bob.send_to(relay_out, "rtp bob->alice"));
    got = pump_until_recv(base(), alice);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "rtp bob->alice");
    EXPECT_EQ(got->second, relay_in) << "alice must see the inside RTP port as source";

    ASSERT_TRUE(alice_rtcp.send_to(plus1(relay_in), "rtcp alice->bob"));
    got = pump_until_recv(base(), bob_rtcp);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "rtcp alice->bob");
    EXPECT_EQ(got->second, plus1(relay_out));

    ASSERT_TRUE(bob_rtcp.send_to(plus1(relay_out), "rtcp bob->alice"));
    got = pump_until_recv(base(), alice_rtcp);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "rtcp bob->alice");
    EXPECT_EQ(got->second, plus1(relay_in));

    auto in = dir(kIn), out = dir(kOut);
    EXPECT_EQ(in.packets, 2u);
    EXPECT_EQ(out.packets, 2u);
    EXPECT_EQ(in.bytes,
              std::string("rtp alice->bob").size() + std::string("rtcp alice->bob").size());
    EXPECT_EQ(in.last_ms, st.now_ms);
    RelayStats s = st.relay->stats();
    EXPECT_EQ(s.totals[kIn].packets + s.totals[kOut].packets, 4u);
}

// RFC 3605: the RTCP port a=rtcp announced is where RTCP goes, not RTP + 1.
TEST_F(RelayIo, RtcpGoesToTheAnnouncedRtcpPort) {
    make();
    Phone alice("127.0.0.1"), bob("127.0.0.3"), bob_rtcp("127.0.0.3");
    ASSERT_TRUE(alice.ok() && bob.ok() && bob_rtcp.ok());
    auto p = test::params(alice.addr(), bob.addr());
    p.outside_rtcp_port = bob_rtcp.port();
    StartResult r = st.relay->start(1, p);
    ASSERT_TRUE(r.ok());
    relay_in = ep("127.0.0.1", r.inside_port);
    relay_out = ep("127.0.0.2", r.outside_port);
    EXPECT_EQ(st.relay->info(1)->outside_rtcp_port, bob_rtcp.port());

    Phone alice_rtcp("127.0.0.1", static_cast<uint16_t>(alice.port() + 1));
    if (!alice_rtcp.ok()) GTEST_SKIP() << "port+1 of an ephemeral port is busy";
    ASSERT_TRUE(alice_rtcp.send_to(plus1(relay_in), "rtcp alice->bob"));
    auto got = pump_until_recv(base(), bob_rtcp);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "rtcp alice->bob");
    EXPECT_EQ(got->second, plus1(relay_out));
    // And bob's RTCP is accepted only from the port it announced.
    ASSERT_TRUE(bob_rtcp.send_to(plus1(relay_out), "rtcp bob->alice"));
    got = pump_until_recv(base(), alice_rtcp);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "rtcp bob->alice");
}

// RFC 5761: a mux side has no RTCP socket; RTCP shares the RTP ports, and a
// re-INVITE that turns mux off binds the RTCP port of the pair again.
TEST_F(RelayIo, RtcpMuxSidesHaveNoRtcpSocketAndRelayOnTheRtpPorts) {
    make();
    Phone alice("127.0.0.1"), bob("127.0.0.3");
    ASSERT_TRUE(alice.ok() && bob.ok());
    auto p = test::params(alice.addr(), bob.addr());
    p.inside_mux = true;
    p.outside_mux = true;
    StartResult r = st.relay->start(1, p);
    ASSERT_TRUE(r.ok());
    relay_in = ep("127.0.0.1", r.inside_port);
    relay_out = ep("127.0.0.2", r.outside_port);
    EXPECT_EQ(st.relay->socket_fd(1, Leg::InsideRtcp), -1);
    EXPECT_EQ(st.relay->socket_fd(1, Leg::OutsideRtcp), -1);
    EXPECT_TRUE(st.relay->info(1)->inside_mux);
    // Nothing listens on the RTCP port of a mux side: it is free to bind.
    Phone squatter("127.0.0.1", static_cast<uint16_t>(r.inside_port + 1));
    EXPECT_TRUE(squatter.ok());

    // An RTCP sender report (PT 200) on the RTP ports, both ways.
    const std::string sr("\x80\xc8\x00\x06rtcp-sr", 11);
    ASSERT_TRUE(alice.send_to(relay_in, sr));
    auto got = pump_until_recv(base(), bob);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, sr);
    EXPECT_EQ(got->second, relay_out);
    ASSERT_TRUE(bob.send_to(relay_out, sr));
    got = pump_until_recv(base(), alice);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, sr);
    EXPECT_EQ(got->second, relay_in);

    // The outside answer drops mux: its RTCP socket comes back on port + 1
    // (the squatter sits on the inside address, not the outside one).
    p.outside_mux = false;
    p.inside_port = r.inside_port;
    p.outside_port = r.outside_port;
    r = st.relay->start(1, p);
    ASSERT_TRUE(r.ok()) << start_error_name(r.error);
    EXPECT_FALSE(r.created);
    EXPECT_GE(st.relay->socket_fd(1, Leg::OutsideRtcp), 0);
    EXPECT_EQ(st.relay->socket_fd(1, Leg::InsideRtcp), -1);
    // The inside side turning mux off while another socket holds its RTCP
    // port fails and leaves the forward as it was.
    p.inside_mux = false;
    r = st.relay->start(1, p);
    EXPECT_EQ(r.error, StartError::PortsInUse);
    EXPECT_TRUE(st.relay->info(1)->inside_mux);
    // Back to mux: the outside RTCP socket is closed again.
    p.inside_mux = true;
    p.outside_mux = true;
    ASSERT_TRUE(st.relay->start(1, p).ok());
    EXPECT_EQ(st.relay->socket_fd(1, Leg::OutsideRtcp), -1);
    st.relay->stop(1);
}

TEST_F(RelayIo, LargeDatagramPassesVerbatim) {
    make();
    Phone alice("127.0.0.1"), bob("127.0.0.3");
    ASSERT_TRUE(start(alice, bob).ok());
    std::string big(60000, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 31 + 7) & 0xff);
    ASSERT_TRUE(alice.send_to(relay_in, big));
    auto got = pump_until_recv(base(), bob);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first.size(), big.size());
    EXPECT_TRUE(got->first == big);
    EXPECT_EQ(dir(kIn).bytes, 60000u);
}

TEST_F(RelayIo, StrictSourceDropsWrongPortWrongAddressAndBoth) {
    make();
    Phone alice("127.0.0.1"), bob("127.0.0.3");
    Phone wrong_port("127.0.0.1");                // alice's address, another port
    Phone wrong_addr("127.0.0.4", alice.port());  // another address, alice's port
    Phone both_wrong("127.0.0.4");
    ASSERT_TRUE(alice.ok() && bob.ok() && wrong_port.ok() && both_wrong.ok());
    ASSERT_TRUE(start(alice, bob).ok());

    ASSERT_TRUE(wrong_port.send_to(relay_in, "x"));
    if (wrong_addr.ok()) {
        ASSERT_TRUE(wrong_addr.send_to(relay_in, "x"));
    }
    ASSERT_TRUE(both_wrong.send_to(relay_in, "x"));
    pump_for(base(), 50);
    EXPECT_FALSE(bob.try_recv().has_value()) << "an injected packet reached bob";
    EXPECT_EQ(drops(dir(kIn), DropReason::WrongSource), wrong_addr.ok() ? 3u : 2u);
    EXPECT_EQ(dir(kIn).packets, 0u);
    EXPECT_EQ(dir(kIn).last_ms, 0) << "dropped packets are no activity";

    // The right source still passes.
    ASSERT_TRUE(alice.send_to(relay_in, "right"));
    auto got = pump_until_recv(base(), bob);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "right");

    // Same on the outside: a stranger's packet never reaches alice.
    ASSERT_TRUE(both_wrong.send_to(relay_out, "y"));
    pump_for(base(), 50);
    EXPECT_FALSE(alice.try_recv().has_value());
    EXPECT_EQ(drops(dir(kOut), DropReason::WrongSource), 1u);
}

TEST_F(RelayIo, StrictRtcpAcceptsOnlyTheRtcpPort) {
    make();
    Phone alice("127.0.0.1"), bob("127.0.0.3");
    ASSERT_TRUE(start(alice, bob).ok());
    // From alice's RTP port to the RTCP socket: not the RTCP peer.
    ASSERT_TRUE(alice.send_to(plus1(relay_in), "rtcp from rtp port"));
    pump_for(base(), 50);
    EXPECT_FALSE(bob.try_recv().has_value());
    EXPECT_EQ(drops(dir(kIn), DropReason::WrongSource), 1u);
    // An explicit a=rtcp port (here: alice's RTP port itself) is honoured
    // by a re-INVITE, and the relay ports stay.
    auto p = test::params(alice.addr(), bob.addr());
    p.inside_rtcp_port = alice.port();
    p.outside_rtcp_port = bob.port();
    StartResult again = st.relay->start(1, p);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again.inside_port, relay_in.port());
    ASSERT_TRUE(alice.send_to(plus1(relay_in), "rtcp now allowed"));
    auto got = pump_until_recv(base(), bob);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "rtcp now allowed");
    EXPECT_EQ(got->second, plus1(relay_out));
}

TEST_F(RelayIo, UnknownPeerForwardsNothingUntilSignallingNamesIt) {
    make();
    Phone alice("127.0.0.1"), bob("127.0.0.3");
    auto p = test::params(alice.addr(), Endpoint{});  // the answer has not arrived
    StartResult r = st.relay->start(1, p);
    ASSERT_TRUE(r.ok());
    relay_in = ep("127.0.0.1", r.inside_port);
    relay_out = ep("127.0.0.2", r.outside_port);
    ASSERT_TRUE(alice.send_to(relay_in, "early"));
    ASSERT_TRUE(bob.send_to(relay_out, "early bob"));
    pump_for(base(), 50);
    EXPECT_FALSE(bob.try_recv().has_value());
    EXPECT_FALSE(alice.try_recv().has_value());
    EXPECT_EQ(drops(dir(kIn), DropReason::NoPeer), 1u);   // nowhere to send
    EXPECT_EQ(drops(dir(kOut), DropReason::NoPeer), 1u);  // strict: source unknown
    // The answer arrives.
    ASSERT_TRUE(st.relay->start(1, test::params(alice.addr(), bob.addr())).ok());
    ASSERT_TRUE(bob.send_to(relay_out, "now"));
    auto got = pump_until_recv(base(), alice);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "now");
}

// Latching: the first packet inside the window decides the source, then the
// forward is locked to it.
TEST_F(RelayIo, LatchLearnsInsideTheWindow) {
    make(SourceMode::Latch, 3000);
    Phone alice("127.0.0.1"), bob("127.0.0.3"), natted("127.0.0.4");
    ASSERT_TRUE(start(alice, bob).ok());
    st.now_ms += 1000;  // inside the window
    ASSERT_TRUE(natted.send_to(relay_out, "from behind a NAT"));
    auto got = pump_until_recv(base(), alice);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "from behind a NAT");
    EXPECT_EQ(st.relay->info(1)->sources[static_cast<size_t>(Leg::OutsideRtp)], natted.addr());
    // Alice's answer now goes to the latched source, not to the signalled one.
    ASSERT_TRUE(alice.send_to(relay_in, "reply"));
    got = pump_until_recv(base(), natted);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "reply");
    EXPECT_FALSE(bob.try_recv().has_value());
    // Locked: the signalled address itself is now a wrong source.
    ASSERT_TRUE(bob.send_to(relay_out, "too late"));
    pump_for(base(), 50);
    EXPECT_FALSE(alice.try_recv().has_value());
    EXPECT_EQ(drops(dir(kOut), DropReason::WrongSource), 1u);
}

TEST_F(RelayIo, LatchLocksToTheFirstSourceSoALaterStrangerIsDropped) {
    make(SourceMode::Latch, 3000);
    Phone alice("127.0.0.1"), bob("127.0.0.3"), stranger("127.0.0.4");
    ASSERT_TRUE(start(alice, bob).ok());
    // Before the stranger: bob's packet comes first and locks.
    ASSERT_TRUE(bob.send_to(relay_out, "bob first"));
    ASSERT_TRUE(pump_until_recv(base(), alice).has_value());
    st.now_ms += 500;  // still inside the window
    ASSERT_TRUE(stranger.send_to(relay_out, "hijack"));
    pump_for(base(), 50);
    EXPECT_FALSE(alice.try_recv().has_value());
    EXPECT_EQ(drops(dir(kOut), DropReason::WrongSource), 1u);
}

TEST_F(RelayIo, LatchAfterTheWindowIsStrict) {
    make(SourceMode::Latch, 3000);
    Phone alice("127.0.0.1"), bob("127.0.0.3"), stranger("127.0.0.4");
    ASSERT_TRUE(start(alice, bob).ok());
    st.now_ms += 3000;  // the window is over, nothing was learnt
    ASSERT_TRUE(stranger.send_to(relay_out, "late"));
    pump_for(base(), 50);
    EXPECT_FALSE(alice.try_recv().has_value());
    EXPECT_EQ(drops(dir(kOut), DropReason::WrongSource), 1u);
    ASSERT_TRUE(bob.send_to(relay_out, "signalled"));
    auto got = pump_until_recv(base(), alice);
    ASSERT_TRUE(got.has_value());
    // A re-INVITE naming a new peer opens a new window.
    Phone carol("127.0.0.3");
    ASSERT_TRUE(st.relay->start(1, test::params(alice.addr(), carol.addr())).ok());
    st.now_ms += 100;
    ASSERT_TRUE(stranger.send_to(relay_out, "learnt again"));
    got = pump_until_recv(base(), alice);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "learnt again");
}

TEST_F(RelayIo, SprayOfEveryPortReachesNobodyAndLeaksNothing) {
    make();
    // The phones live off the sprayed addresses: a phone's own port, picked
    // by the kernel, could otherwise fall in the sprayed range.
    Phone alice("127.0.0.6"), bob("127.0.0.3"), sprayer("127.0.0.5");
    ASSERT_TRUE(sprayer.ok());
    ASSERT_TRUE(start(alice, bob).ok());
    // Also a second forward, so more than one pair is live.
    Phone carol("127.0.0.6"), dave("127.0.0.3");
    ASSERT_TRUE(st.relay->start(2, test::params(carol.addr(), dave.addr())).ok());
    int sent = 0;
    for (const char* host : {"127.0.0.1", "127.0.0.2"}) {
        for (uint16_t port = 43000; port <= 43019; ++port) {
            std::string rtp_like("\x80\x00\x00\x01spray", 9);
            if (sprayer.send_to(ep(host, port), rtp_like)) ++sent;
        }
    }
    EXPECT_EQ(sent, 40);
    pump_for(base(), 100);
    for (const Phone* p : {&alice, &bob, &carol, &dave})
        EXPECT_FALSE(p->try_recv().has_value()) << "spray reached " << p->addr().to_string();
    EXPECT_FALSE(sprayer.try_recv().has_value()) << "something leaked back to the sprayer";
    uint64_t dropped = 0;
    for (const auto& f : st.relay->list())
        for (const auto& d : f.stats) {
            dropped += drops(d, DropReason::WrongSource);
            EXPECT_EQ(d.packets, 0u);
        }
    EXPECT_EQ(dropped, 8u);  // 2 forwards x 4 sockets; the other ports are closed
}

TEST_F(RelayIo, DscpIsSetOnEverySocket) {
    make();
    Phone alice("127.0.0.1"), bob("127.0.0.3");
    ASSERT_TRUE(start(alice, bob).ok());
    for (size_t l = 0; l < kLegs; ++l) {
        int fd = st.relay->socket_fd(1, static_cast<Leg>(l));
        ASSERT_GE(fd, 0);
        int tos = 0;
        socklen_t len = sizeof tos;
        ASSERT_EQ(getsockopt(fd, IPPROTO_IP, IP_TOS, &tos, &len), 0);
        EXPECT_EQ(tos, 46 << 2) << "leg " << l;
    }
}

TEST_F(RelayIo, Ipv6InsideAndIpv4OutsideWithTrafficClass) {
    make();
    Phone alice("::1"), bob("127.0.0.3");
    if (!alice.ok()) GTEST_SKIP() << "no IPv6 loopback here";
    auto p = test::params(alice.addr(), bob.addr());
    p.inside_local = ep("::1");
    StartResult r = st.relay->start(1, p);
    ASSERT_TRUE(r.ok()) << start_error_name(r.error);
    int fd = st.relay->socket_fd(1, Leg::InsideRtp);
    int tclass = 0;
    socklen_t len = sizeof tclass;
    ASSERT_EQ(getsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tclass, &len), 0);
    EXPECT_EQ(tclass, 46 << 2);
    ASSERT_TRUE(alice.send_to(ep("::1", r.inside_port), "v6 to v4"));
    auto got = pump_until_recv(base(), bob);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "v6 to v4");
    ASSERT_TRUE(bob.send_to(ep("127.0.0.2", r.outside_port), "v4 to v6"));
    got = pump_until_recv(base(), alice);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->first, "v4 to v6");
    EXPECT_EQ(got->second, ep("::1", r.inside_port));
}

TEST_F(RelayIo, ABurstLargerThanOneBatchIsAllForwarded) {
    make();
    Phone alice("127.0.0.1"), bob("127.0.0.3");
    ASSERT_TRUE(start(alice, bob).ok());
    const int kBurst = 200;  // more than the drain bound of one wake-up
    for (int i = 0; i < kBurst; ++i) ASSERT_TRUE(alice.send_to(relay_in, std::to_string(i)));
    int received = 0;
    for (int i = 0; i < kBurst; ++i) {
        auto got = pump_until_recv(base(), bob, 500);
        if (!got) break;
        EXPECT_EQ(got->first, std::to_string(received));
        ++received;
    }
    EXPECT_EQ(received, kBurst);
    EXPECT_EQ(dir(kIn).packets, static_cast<uint64_t>(kBurst));
}

}  // namespace
}  // namespace sipmasq
