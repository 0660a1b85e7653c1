// A child's log lines on their way to the parent (LogQueue), read here as
// the parent reads them: LOG frames on a real socket pair, one record each,
// with the loop passes of a real libevent base.
#include "log_queue.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <ostream>
#include <string>
#include <vector>

#include "channel.h"
#include "codec.h"
#include "event_ptr.h"
#include "framing.h"
#include "unique_fd.h"

namespace sipmasq {
namespace {

struct Line {
    uint8_t head;
    std::string text;
    bool operator==(const Line&) const = default;
};

void PrintTo(const Line& line, std::ostream* os) {
    *os << static_cast<int>(line.head) << " \"" << line.text << "\"";
}

void flush_queue(void* arg) noexcept {
    static_cast<LogQueue*>(arg)->flush();
}

class LogQueueTest : public ::testing::Test {
  protected:
    void SetUp() override {
        UniqueFd child, parent;
        ASSERT_EQ(proto::seqpacket_pair(child, parent), 0);
        child_ = std::move(child);
        parent_ = std::make_unique<proto::Channel>(
            std::move(parent), proto::ChannelKind::ParentSipd, proto::Process::Parent);
        parent_->set_state(proto::ChannelState::Running);
        queue_ = std::make_unique<LogQueue>(child_.get());
    }

    // Every LOG frame waiting, as the parent decodes it.
    std::vector<Line> received() {
        std::vector<Line> lines;
        proto::Message msg{};
        UniqueFd fd;
        for (proto::ReceiveStatus st;
             (st = parent_->receive(msg, fd)) != proto::ReceiveStatus::Nothing;) {
            EXPECT_EQ(st, proto::ReceiveStatus::Message);
            if (st != proto::ReceiveStatus::Message) break;
            EXPECT_EQ(msg.type(), proto::MsgType::Log);
            lines.push_back({proto::payload_as<proto::LogHead>(msg).level,
                             std::string(proto::payload_text(msg, sizeof(proto::LogHead)))});
        }
        return lines;
    }

    void one_pass() { event_base_loop(base_.get(), EVLOOP_ONCE | EVLOOP_NONBLOCK); }

    static constexpr uint8_t kInfo = static_cast<uint8_t>(LogLevel::Info);
    static constexpr uint8_t kNotice = static_cast<uint8_t>(LogLevel::Notice);
    static constexpr uint8_t kWarning = static_cast<uint8_t>(LogLevel::Warning);
    static constexpr uint8_t kError = static_cast<uint8_t>(LogLevel::Error);
    static constexpr uint8_t kRecord = kNotice | proto::kLogRecord;

    UniqueFd child_;
    std::unique_ptr<proto::Channel> parent_;
    std::unique_ptr<LogQueue> queue_;
    EventBasePtr base_{event_base_new()};
};

TEST_F(LogQueueTest, WithoutALoopEveryLineGoesAtOnce) {
    queue_->write(LogLevel::Info, "starting");
    EXPECT_EQ(queue_->kept(), 0u);
    EXPECT_EQ(received(), (std::vector<Line>{{kInfo, "starting"}}));
    queue_->write(LogLevel::Notice, "call start: x", true);
    EXPECT_EQ(received(), (std::vector<Line>{{kRecord, "call start: x"}}));
}

TEST_F(LogQueueTest, APassesLinesGoTogetherAtItsEnd) {
    EndOfPass end(base_.get(), flush_queue, queue_.get());
    queue_->defer_to(&end);
    queue_->write(LogLevel::Info, "one");
    queue_->write(LogLevel::Notice, "call start: two", true);
    queue_->write(LogLevel::Debug, "three");
    EXPECT_EQ(queue_->kept(), 3u);
    EXPECT_TRUE(received().empty()) << "sent before the end of the pass";
    one_pass();
    EXPECT_EQ(queue_->kept(), 0u);
    EXPECT_EQ(received(),
              (std::vector<Line>{{kInfo, "one"}, {kRecord, "call start: two"}, {7, "three"}}));
    queue_->defer_to(nullptr);
}

TEST_F(LogQueueTest, AnErrorOrWarningSendsWhatWasKeptFirstThenItself) {
    EndOfPass end(base_.get(), flush_queue, queue_.get());
    queue_->defer_to(&end);
    queue_->write(LogLevel::Info, "before");
    queue_->write(LogLevel::Notice, "call end: r", true);
    queue_->write(LogLevel::Error, "failed");
    EXPECT_EQ(queue_->kept(), 0u);
    EXPECT_EQ(received(),
              (std::vector<Line>{{kInfo, "before"}, {kRecord, "call end: r"}, {kError, "failed"}}));
    queue_->write(LogLevel::Info, "after");
    queue_->write(LogLevel::Warning, "careful");
    EXPECT_EQ(received(), (std::vector<Line>{{kInfo, "after"}, {kWarning, "careful"}}));
    // Leaving the loop sends what a pass kept.
    queue_->write(LogLevel::Info, "last");
    queue_->defer_to(nullptr);
    EXPECT_EQ(received(), (std::vector<Line>{{kInfo, "last"}}));
    end.disarm();
}

TEST_F(LogQueueTest, AFullQueueIsSentBeforeTheNextLineAndLongLinesAreCut) {
    EndOfPass end(base_.get(), flush_queue, queue_.get());
    queue_->defer_to(&end);
    for (size_t i = 0; i < LogQueue::kFrames + 1; ++i)
        queue_->write(LogLevel::Info, "line " + std::to_string(i));
    EXPECT_EQ(queue_->kept(), 1u);  // the bound: the first kFrames went
    auto lines = received();
    ASSERT_EQ(lines.size(), LogQueue::kFrames);
    for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i].text, "line " + std::to_string(i));
    one_pass();
    lines = received();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].text, "line " + std::to_string(LogQueue::kFrames));
    // Long lines fill the bytes before the count; each is cut to what a
    // LOG frame carries.
    const std::string longest(proto::kLogTextMax + 100, 'x');
    size_t kept = 0;
    while (queue_->kept() == kept && kept < LogQueue::kFrames) {
        queue_->write(LogLevel::Info, longest);
        ++kept;
    }
    EXPECT_LT(kept, LogQueue::kFrames);
    EXPECT_EQ(queue_->kept(), 1u);
    one_pass();
    lines = received();
    ASSERT_EQ(lines.size(), kept);
    for (const auto& line : lines) EXPECT_EQ(line.text, longest.substr(0, proto::kLogTextMax));
    queue_->defer_to(nullptr);
}

TEST_F(LogQueueTest, AParentThatDoesNotReadLosesLinesCountedNeverBlocks) {
    EndOfPass end(base_.get(), flush_queue, queue_.get());
    queue_->defer_to(&end);
    // Fill the parent's side: the queue never blocks, lines are lost.
    size_t written = 0;
    while (queue_->lost() == 0 && written < 1000000) {
        queue_->write(LogLevel::Info, "filler " + std::to_string(written));
        ++written;
        if (written % LogQueue::kFrames == 0) one_pass();
    }
    ASSERT_GT(queue_->lost(), 0u);
    one_pass();
    const uint64_t lost = queue_->lost();
    // The parent reads again: what arrived is what was not lost, in order,
    // and the next line that gets through says how many were lost.
    auto lines = received();
    EXPECT_EQ(lines.size() + lost, written);
    for (size_t i = 0; i < lines.size(); ++i)
        ASSERT_EQ(lines[i].text, "filler " + std::to_string(i));
    queue_->write(LogLevel::Error, "again");
    lines = received();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0],
              (Line{kWarning, std::to_string(lost) +
                                  " log lines lost: the parent did not read them in time"}));
    EXPECT_EQ(lines[1], (Line{kError, "again"}));
    // Said once.
    queue_->write(LogLevel::Error, "and again");
    EXPECT_EQ(received(), (std::vector<Line>{{kError, "and again"}}));
    queue_->defer_to(nullptr);
}

}  // namespace
}  // namespace sipmasq
