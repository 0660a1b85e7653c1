// Timeouts owned by rtpd, on a controlled clock: idle, never bidirectional,
// maximum duration, hold; each reported once through the callback.
#include <gtest/gtest.h>

#include "relay.h"
#include "relay_test_util.h"

namespace sipmasq {
namespace {

using test::ep;
using test::Phone;
using test::pump_until_recv;

class RelayTimeout : public ::testing::Test {
  protected:
    void SetUp() override {
        auto cfg = test::test_config(44000, 44099);
        cfg.rtp_timeout_s = 30;
        cfg.no_bidir_timeout_s = 10;
        cfg.max_duration_s = 3600;
        cfg.quarantine_s = 5;
        st.make(cfg);
    }
    StartResult start(uint32_t id, bool hold = false) {
        auto p = test::params(alice.addr(), bob.addr());
        p.on_hold = hold;
        StartResult r = st.relay->start(id, p);
        relay_in = ep("127.0.0.1", r.inside_port);
        relay_out = ep("127.0.0.2", r.outside_port);
        return r;
    }
    // One packet each way through forward `id`'s ports at the current time.
    void talk() {
        ASSERT_TRUE(alice.send_to(relay_in, "a"));
        ASSERT_TRUE(pump_until_recv(st.base.get(), bob).has_value());
        ASSERT_TRUE(bob.send_to(relay_out, "b"));
        ASSERT_TRUE(pump_until_recv(st.base.get(), alice).has_value());
    }
    void advance_s(int64_t s) {
        st.now_ms += s * 1000;
        st.relay->sweep(st.now_ms);
    }

    test::RelayFixtureState st;
    Phone alice{"127.0.0.1"};
    Phone bob{"127.0.0.3"};
    Endpoint relay_in, relay_out;
};

TEST_F(RelayTimeout, NeverBidirectional) {
    ASSERT_TRUE(start(1).ok());
    ASSERT_TRUE(alice.send_to(relay_in, "one way only"));
    ASSERT_TRUE(pump_until_recv(st.base.get(), bob).has_value());
    advance_s(9);
    EXPECT_TRUE(st.timeouts.empty());
    advance_s(1);
    ASSERT_EQ(st.timeouts.size(), 1u);
    EXPECT_EQ(st.timeouts[0].first, 1u);
    EXPECT_EQ(st.timeouts[0].second, TimeoutReason::NoBidirectional);
    EXPECT_EQ(st.relay->size(), 0u);
    EXPECT_EQ(st.relay->stats().timeouts[static_cast<size_t>(TimeoutReason::NoBidirectional)], 1u);
    advance_s(100);
    EXPECT_EQ(st.timeouts.size(), 1u) << "reported once";
}

TEST_F(RelayTimeout, IdleAfterTrafficStops) {
    ASSERT_TRUE(start(1).ok());
    talk();
    advance_s(20);
    talk();  // traffic postpones the idle timeout
    advance_s(29);
    EXPECT_TRUE(st.timeouts.empty());
    advance_s(1);
    ASSERT_EQ(st.timeouts.size(), 1u);
    EXPECT_EQ(st.timeouts[0].second, TimeoutReason::Idle);
    // The ports went to quarantine, and the sockets are closed.
    RelayStats s = st.relay->stats();
    for (const auto& pool : s.pools) {
        EXPECT_EQ(pool.stats.used, 0u);
        EXPECT_EQ(pool.stats.quarantined, 1u);
    }
    ASSERT_TRUE(alice.send_to(relay_in, "after"));
    EXPECT_FALSE(pump_until_recv(st.base.get(), bob, 50).has_value());
}

TEST_F(RelayTimeout, DroppedPacketsDoNotKeepAForwardAlive) {
    ASSERT_TRUE(start(1).ok());
    talk();
    Phone stranger("127.0.0.4");
    for (int i = 0; i < 30; ++i) {
        ASSERT_TRUE(stranger.send_to(relay_out, "noise"));
        test::pump_for(st.base.get(), 2);
        advance_s(1);
    }
    ASSERT_EQ(st.timeouts.size(), 1u);
    EXPECT_EQ(st.timeouts[0].second, TimeoutReason::Idle);
}

TEST_F(RelayTimeout, HoldIsNotTimedOutForSilenceButMaxDurationApplies) {
    ASSERT_TRUE(start(1, /*hold=*/true).ok());
    for (int i = 0; i < 35; ++i) advance_s(100);  // 3500 s of silence
    EXPECT_TRUE(st.timeouts.empty());
    advance_s(100);
    ASSERT_EQ(st.timeouts.size(), 1u);
    EXPECT_EQ(st.timeouts[0].second, TimeoutReason::MaxDuration);
}

TEST_F(RelayTimeout, MaxDurationEndsABusyForward) {
    ASSERT_TRUE(start(1).ok());
    for (int i = 0; i < 179; ++i) {
        talk();
        advance_s(20);
        ASSERT_TRUE(st.timeouts.empty()) << "at " << i;
    }
    talk();
    advance_s(20);
    ASSERT_EQ(st.timeouts.size(), 1u);
    EXPECT_EQ(st.timeouts[0].second, TimeoutReason::MaxDuration);
}

TEST_F(RelayTimeout, LeavingHoldRestartsTheSilenceClock) {
    ASSERT_TRUE(start(1, true).ok());
    advance_s(500);
    ASSERT_TRUE(st.relay->set_hold(1, false));
    advance_s(9);
    EXPECT_TRUE(st.timeouts.empty());
    advance_s(1);
    ASSERT_EQ(st.timeouts.size(), 1u);
    EXPECT_EQ(st.timeouts[0].second, TimeoutReason::NoBidirectional);
    EXPECT_FALSE(st.relay->set_hold(1, true)) << "gone";
}

TEST_F(RelayTimeout, TheHandlerMayStartAndStopForwards) {
    ASSERT_TRUE(start(1).ok());
    ASSERT_TRUE(start(2).ok());
    std::vector<uint32_t> seen;
    st.relay->set_timeout_handler([&](uint32_t id, TimeoutReason) {
        seen.push_back(id);
        (void)st.relay->stop(id);               // already gone: harmless
        (void)st.relay->stop(id == 1 ? 2 : 1);  // the other one, from inside the sweep
        auto p = test::params(alice.addr(), bob.addr());
        EXPECT_TRUE(st.relay->start(100 + id, p).ok());
    });
    advance_s(10);
    EXPECT_EQ(seen.size(), 1u) << "the other was stopped by the handler, not timed out";
    EXPECT_EQ(st.relay->size(), 1u);
}

TEST_F(RelayTimeout, AnIdReusedByTheHandlerIsNotEndedByTheSameSweep) {
    ASSERT_TRUE(start(1).ok());
    ASSERT_TRUE(start(2).ok());
    int calls = 0;
    st.relay->set_timeout_handler([&](uint32_t id, TimeoutReason) {
        ++calls;
        uint32_t other = id == 1 ? 2 : 1;
        (void)st.relay->stop(other);
        EXPECT_TRUE(st.relay->start(other, test::params(alice.addr(), bob.addr())).ok());
    });
    advance_s(10);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(st.relay->size(), 1u) << "the re-created forward survives this sweep";
}

TEST(RelayTimer, TheLoopTimerSweepsOnItsOwn) {
    EventBasePtr base(event_base_new());
    auto cfg = test::test_config(44100, 44199);
    cfg.sweep_interval_ms = 20;
    cfg.no_bidir_timeout_s = 1;
    Relay relay(base.get(), cfg);  // the real monotonic clock
    std::vector<uint32_t> ended;
    relay.set_timeout_handler([&](uint32_t id, TimeoutReason) { ended.push_back(id); });
    ASSERT_TRUE(relay.start(5, test::params(ep("127.0.0.1", 5004), ep("127.0.0.3", 6004))).ok());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (ended.empty() && std::chrono::steady_clock::now() < deadline)
        event_base_loop(base.get(), EVLOOP_ONCE);
    ASSERT_EQ(ended.size(), 1u);
    EXPECT_EQ(ended[0], 5u);
}

}  // namespace
}  // namespace sipmasq
