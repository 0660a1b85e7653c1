// sipd's side of several rtpd workers: which worker a new call goes to, and
// that every later message of a forward goes to the worker that holds it;
// and a burst of set-ups that outruns a busy worker.
// The workers' ends are real sipd<->rtpd channels (socket pairs) read here.
#include "rtpd_workers.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>
#include <optional>

#include "channel.h"
#include "codec.h"
#include "event_ptr.h"

namespace sipmasq {
namespace {

TEST(ForwardPlacement, LeastLoadedFirstAndRoundRobinOnTies) {
    ForwardPlacement p(3);
    const auto all_up = [](uint32_t) { return true; };
    // Empty: the ties go round.
    EXPECT_EQ(p.choose(all_up), 0u);
    EXPECT_EQ(p.choose(all_up), 1u);
    EXPECT_EQ(p.choose(all_up), 2u);
    EXPECT_EQ(p.choose(all_up), 0u);
    // Worker 0 holds two forwards (one call, audio and video), 2 holds one.
    p.hold(10, 0);
    p.hold(11, 0);
    p.hold(12, 2);
    EXPECT_EQ(p.load(0), 2u);
    EXPECT_EQ(p.choose(all_up), 1u);
    p.hold(13, 1);
    // 1 and 2 tie at one forward each: they take turns.
    EXPECT_EQ(p.choose(all_up), 2u);
    EXPECT_EQ(p.choose(all_up), 1u);
    EXPECT_EQ(p.choose(all_up), 2u);
    p.release(10);
    p.release(11);
    EXPECT_EQ(p.load(0), 0u);
    EXPECT_EQ(p.choose(all_up), 0u);
    EXPECT_EQ(p.worker_of(12), 2u);
    EXPECT_EQ(p.worker_of(10), 3u);  // released: no worker
}

TEST(ForwardPlacement, SkipsWorkersThatAreDown) {
    ForwardPlacement p(2);
    const auto only_one = [](uint32_t w) { return w == 1; };
    for (int i = 0; i < 4; ++i) {
        const uint32_t w = p.choose(only_one);
        EXPECT_EQ(w, 1u);
        p.hold(static_cast<uint32_t>(100 + i), w);
    }
    // Worker 1 holds four, worker 0 none, yet 0 is down: still 1.
    EXPECT_EQ(p.choose(only_one), 1u);
    // None up: the least loaded, whose start then fails like a dead relay.
    EXPECT_EQ(p.choose([](uint32_t) { return false; }), 0u);
}

TEST(ForwardPlacement, HoldingTwiceCountsOnce) {
    ForwardPlacement p(2);
    p.hold(7, 1);
    p.hold(7, 1);
    EXPECT_EQ(p.load(1), 1u);
    p.hold(7, 5);  // no such worker: ignored
    EXPECT_EQ(p.worker_of(7), 1u);
    p.release(7);
    p.release(7);
    EXPECT_EQ(p.load(1), 0u);
}

// Two workers' ends of their channels, as rtpd holds them.
class RtpdWorkersTest : public ::testing::Test {
  protected:
    void SetUp() override {
        for (uint32_t w = 0; w < 2; ++w) {
            int sv[2];
            ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
                      0);
            rtpd_[w] = std::make_unique<proto::Channel>(
                UniqueFd(sv[1]), proto::ChannelKind::SipdRtpd, proto::Process::Rtpd);
            sipd_ends_[w] = UniqueFd(sv[0]);
        }
    }

    // What worker `w` received next, if anything.
    std::optional<proto::Header> next(uint32_t w) {
        proto::Message msg{};
        UniqueFd fd;
        if (rtpd_[w]->receive(msg, fd) != proto::ReceiveStatus::Message) return std::nullopt;
        return msg.header;
    }

    // One pass of sipd's event loop: what it gathered goes out at its end.
    void pass() { event_base_loop(base_.get(), EVLOOP_NONBLOCK); }

    static MediaStart request(uint32_t id, uint32_t worker) {
        MediaStart m;
        m.id = id;
        m.inside_local = *SockAddr::parse("192.0.2.1");
        m.outside_local = *SockAddr::parse("203.0.113.1");
        m.tag = "call-" + std::to_string(id);
        m.worker = worker;
        return m;
    }

    EventBasePtr base_{event_base_new()};
    std::array<std::unique_ptr<proto::Channel>, 2> rtpd_;
    std::array<UniqueFd, 2> sipd_ends_;
};

TEST_F(RtpdWorkersTest, EachForwardsMessagesGoToItsWorker) {
    RtpdWorkers workers(base_.get());
    ASSERT_TRUE(workers.set_channel(0, 2, std::move(sipd_ends_[0])));
    ASSERT_TRUE(workers.set_channel(1, 2, std::move(sipd_ends_[1])));
    EXPECT_EQ(workers.workers(), 2u);
    EXPECT_TRUE(workers.available());

    const uint32_t first = workers.place();
    int answered = 0;
    workers.start(request(1, first), [&](const MediaResult&) { ++answered; });
    const uint32_t second = workers.place();
    EXPECT_NE(first, second);  // the least loaded takes the next call
    workers.start(request(2, second), [&](const MediaResult&) { ++answered; });
    // Gathered during the pass, sent at its end.
    EXPECT_FALSE(next(first).has_value());
    pass();

    auto got = next(first);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->type, static_cast<uint16_t>(proto::MsgType::StartFwd));
    EXPECT_EQ(got->peer_id, 1u);
    got = next(second);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->peer_id, 2u);

    // A re-INVITE's START_FWD and the BYE's STOP_FWD follow the forward.
    workers.start(request(1, first), [&](const MediaResult&) { ++answered; });
    workers.stop(1);
    workers.stop(2);
    pass();
    got = next(first);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->type, static_cast<uint16_t>(proto::MsgType::StartFwd));
    got = next(first);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->type, static_cast<uint16_t>(proto::MsgType::StopFwd));
    EXPECT_EQ(got->peer_id, 1u);
    got = next(second);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->type, static_cast<uint16_t>(proto::MsgType::StopFwd));
    EXPECT_EQ(got->peer_id, 2u);
    EXPECT_FALSE(next(first).has_value());
    EXPECT_FALSE(next(second).has_value());
    EXPECT_EQ(workers.placement().load(0) + workers.placement().load(1), 0u);
    EXPECT_EQ(answered, 0);  // nobody answered yet
}

TEST_F(RtpdWorkersTest, ADeadWorkerGetsNoNewCallAndARestartedOneOnlyItsForwards) {
    RtpdWorkers workers(base_.get());
    ASSERT_TRUE(workers.set_channel(0, 2, std::move(sipd_ends_[0])));
    ASSERT_TRUE(workers.set_channel(1, 2, std::move(sipd_ends_[1])));
    // Worker 0 dies: its end closes and sipd notices on its next read.
    rtpd_[0].reset();
    event_base_loop(base_.get(), EVLOOP_NONBLOCK);
    EXPECT_TRUE(workers.available());
    for (uint32_t id = 1; id <= 3; ++id) EXPECT_EQ(workers.place(), 1u);

    // Its successor gets the forwards of worker 0 and none of worker 1's.
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    rtpd_[0] = std::make_unique<proto::Channel>(UniqueFd(sv[1]), proto::ChannelKind::SipdRtpd,
                                                proto::Process::Rtpd);
    ASSERT_TRUE(workers.set_channel(0, 2, UniqueFd(sv[0])));
    workers.restart_forwards(0, {request(5, 0), request(6, 1), request(7, 0)});
    pass();
    auto got = next(0);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->peer_id, 5u);
    got = next(0);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->peer_id, 7u);
    EXPECT_FALSE(next(0).has_value());
    EXPECT_FALSE(next(1).has_value());
}

// A burst of call set-ups larger than the channel's socket buffer holds
// while rtpd is busy: each START_FWD waits its turn (none fails at once
// with EAGAIN, which cost a call a 503 in a burst of 500), in order.
TEST_F(RtpdWorkersTest, ABurstOfStartsWaitsForABusyRtpdInsteadOfFailing) {
    RtpdLink link(base_.get());
    link.set_channel(std::move(sipd_ends_[0]));
    constexpr uint32_t kBurst = 2000;
    int failed = 0;
    for (uint32_t id = 1; id <= kBurst; ++id)
        link.start(request(id, 0), [&](const MediaResult& r) { failed += r.ok ? 0 : 1; });
    EXPECT_EQ(failed, 0);
    link.stop(1);
    // rtpd reads at last; sipd's loop sends the rest as room comes.
    uint32_t received = 0, expected_id = 1;
    bool in_order = true, stop_seen = false;
    for (int round = 0; round < 100000 && !stop_seen; ++round) {
        while (auto got = next(0)) {
            if (got->type == static_cast<uint16_t>(proto::MsgType::StopFwd)) {
                stop_seen = true;
                continue;
            }
            in_order = in_order && got->peer_id == expected_id++;
            ++received;
        }
        event_base_loop(base_.get(), EVLOOP_NONBLOCK);
    }
    EXPECT_EQ(received, kBurst);
    EXPECT_TRUE(in_order);
    EXPECT_TRUE(stop_seen);  // after every start
    EXPECT_EQ(failed, 0);
}

TEST_F(RtpdWorkersTest, AChannelForAnotherWorkerCountIsRefused) {
    RtpdWorkers workers(base_.get());
    ASSERT_TRUE(workers.set_channel(0, 2, std::move(sipd_ends_[0])));
    EXPECT_FALSE(workers.set_channel(1, 3, std::move(sipd_ends_[1])));
    EXPECT_EQ(workers.workers(), 2u);
    // A request for a worker sipd does not have fails at once.
    bool failed = false;
    workers.start(request(9, 4), [&](const MediaResult& r) { failed = !r.ok; });
    EXPECT_TRUE(failed);
}

}  // namespace
}  // namespace sipmasq
