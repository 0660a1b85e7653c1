// EndOfPass over a real libevent loop: the work runs once, after every
// callback of the pass in which it was armed and before that pass ends.
#include "end_of_pass.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "event_ptr.h"
#include "unique_fd.h"

namespace sipmasq {
namespace {

struct Trace {
    std::vector<std::string> steps;
    EndOfPass* end = nullptr;
};

void record_end(void* arg) noexcept {
    static_cast<Trace*>(arg)->steps.emplace_back("end");
}

// A callback that arms the end of the pass (twice: it runs once anyway).
void arming(evutil_socket_t, short, void* arg) noexcept {
    auto* t = static_cast<Trace*>(arg);
    t->steps.emplace_back("arming");
    t->end->arm();
    t->end->arm();
}

void plain(evutil_socket_t, short, void* arg) noexcept {
    static_cast<Trace*>(arg)->steps.emplace_back("plain");
}

class EndOfPassTest : public ::testing::Test {
  protected:
    // One pass: what is active now (and what it makes active), no waiting.
    void one_pass() { event_base_loop(base_.get(), EVLOOP_ONCE | EVLOOP_NONBLOCK); }

    EventBasePtr base_{event_base_new()};
    Trace trace_;
};

TEST_F(EndOfPassTest, RunsOnceAfterEveryCallbackOfThePass) {
    EndOfPass end(base_.get(), record_end, &trace_);
    ASSERT_TRUE(end.valid());
    trace_.end = &end;
    // A socket with data to read, a timer that is due and an event made
    // active by hand: all three in one pass, the arming one first.
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    const UniqueFd a(sv[0]), b(sv[1]);
    ASSERT_EQ(::write(b.get(), "x", 1), 1);
    EventPtr first(event_new(base_.get(), -1, 0, arming, &trace_));
    EventPtr readable(event_new(base_.get(), a.get(), EV_READ, plain, &trace_));
    EventPtr timer(evtimer_new(base_.get(), plain, &trace_));
    const timeval now{0, 0};
    ASSERT_EQ(event_add(readable.get(), nullptr), 0);
    ASSERT_EQ(event_add(timer.get(), &now), 0);
    event_active(first.get(), EV_TIMEOUT, 0);
    one_pass();
    EXPECT_EQ(trace_.steps, (std::vector<std::string>{"arming", "plain", "plain", "end"}));
    EXPECT_FALSE(end.armed());
    // Nothing armed: the next pass does no work.
    trace_.steps.clear();
    event_active(first.get(), EV_TIMEOUT, 0);
    one_pass();
    EXPECT_EQ(trace_.steps, (std::vector<std::string>{"arming", "end"}));
    one_pass();
    EXPECT_EQ(trace_.steps, (std::vector<std::string>{"arming", "end"}));
}

TEST_F(EndOfPassTest, ArmedBeforeTheLoopRunsInItsFirstPass) {
    EndOfPass end(base_.get(), record_end, &trace_);
    end.arm();
    EXPECT_TRUE(end.armed());
    one_pass();
    EXPECT_EQ(trace_.steps, std::vector<std::string>{"end"});
}

TEST_F(EndOfPassTest, DisarmedWorkDoesNotRunAndCanBeArmedAgain) {
    EndOfPass end(base_.get(), record_end, &trace_);
    end.arm();
    end.disarm();
    EXPECT_FALSE(end.armed());
    one_pass();
    EXPECT_TRUE(trace_.steps.empty());
    end.arm();
    one_pass();
    EXPECT_EQ(trace_.steps, std::vector<std::string>{"end"});
}

}  // namespace
}  // namespace sipmasq
