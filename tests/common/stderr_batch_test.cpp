// The parent's stderr sinks with and without a StderrBatch: stderr (fd 2)
// is a pipe here, read without blocking, so what was written when is seen.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "log.h"
#include "unique_fd.h"

namespace sipmasq {
namespace {

class StderrBatchTest : public ::testing::Test {
  protected:
    void SetUp() override {
        int p[2];
        ASSERT_EQ(::pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
        read_end_.reset(p[0]);
        const UniqueFd write_end(p[1]);
        // Room for every test's lines; the writer never meets a full pipe.
        ASSERT_GE(::fcntl(write_end.get(), F_SETPIPE_SZ, 1 << 20), 1 << 20);
        ASSERT_EQ(::fcntl(write_end.get(), F_SETFL, 0), 0);
        saved_stderr_.reset(::dup(STDERR_FILENO));
        ASSERT_TRUE(saved_stderr_.valid());
        ASSERT_EQ(::dup2(write_end.get(), STDERR_FILENO), STDERR_FILENO);
        log_set_ident("batch-test");
        log_set_max_level(LogLevel::Debug);
    }
    void TearDown() override {
        (void)::dup2(saved_stderr_.get(), STDERR_FILENO);
        log_set_sink(log_sink_stderr);
    }

    // What one read() returns now ("" when nothing waits), and how many
    // reads it took to empty the pipe.
    std::string drain(int* reads = nullptr) {
        std::string out;
        char buf[65536];
        int n_reads = 0;
        for (ssize_t n; (n = ::read(read_end_.get(), buf, sizeof buf)) > 0; ++n_reads)
            out.append(buf, static_cast<size_t>(n));
        if (reads != nullptr) *reads = n_reads;
        return out;
    }

    static size_t count(const std::string& text, const std::string& what) {
        size_t n = 0;
        for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
            ++n;
        return n;
    }

    UniqueFd read_end_;
    UniqueFd saved_stderr_;
};

TEST_F(StderrBatchTest, WithoutABatchEachLineIsWrittenAsItComes) {
    log_set_sink(log_sink_stderr);
    log_info("first %d", 1);
    const std::string first = drain();
    EXPECT_NE(first.find("batch-test["), std::string::npos) << first;
    EXPECT_NE(first.find("] info: first 1\n"), std::string::npos) << first;
    log_warning("second");
    EXPECT_NE(drain().find("warning: second\n"), std::string::npos);
}

TEST_F(StderrBatchTest, ABatchsLinesArriveTogetherInOrderWhenItEnds) {
    for (const LogSink sink : {log_sink_stderr, log_sink_journal}) {
        log_set_sink(sink);
        {
            const StderrBatch batch;
            log_info("one");
            {
                const StderrBatch inner;  // only the outermost batch writes
                log_error("two");
            }
            log_notice("three");
            EXPECT_EQ(drain(), "") << "written before the batch ended";
        }
        int reads = 0;
        const std::string text = drain(&reads);
        EXPECT_EQ(reads, 1) << "one write, one read";
        const size_t one = text.find("info: one\n");
        const size_t two = text.find("error: two\n");
        const size_t three = text.find("notice: three\n");
        ASSERT_NE(one, std::string::npos) << text;
        ASSERT_NE(two, std::string::npos) << text;
        ASSERT_NE(three, std::string::npos) << text;
        EXPECT_LT(one, two);
        EXPECT_LT(two, three);
        EXPECT_EQ(count(text, "\n"), 3u);
        if (sink == log_sink_journal) {
            EXPECT_EQ(text.rfind("<6>info: one\n", 0), 0u) << text;
        } else {
            EXPECT_EQ(count(text, "batch-test[" + std::to_string(::getpid()) + "] "), 3u) << text;
        }
    }
}

TEST_F(StderrBatchTest, AFullBatchIsWrittenAndTheBatchGoesOn) {
    log_set_sink(log_sink_stderr);
    const std::string long_text(1000, 'x');
    std::string text;
    {
        const StderrBatch batch;
        // Well past the batch's buffer (64 KiB) but within the pipe's.
        for (int i = 0; i < 100; ++i) log_info("%d %s", i, long_text.c_str());
        text = drain();
        EXPECT_FALSE(text.empty()) << "a full buffer waited for the end of the batch";
        EXPECT_LT(count(text, "\n"), 100u);
    }
    text += drain();
    EXPECT_EQ(count(text, "\n"), 100u);
    // In order, none cut.
    size_t at = 0;
    for (int i = 0; i < 100; ++i) {
        at = text.find("info: " + std::to_string(i) + " " + long_text + "\n", at);
        ASSERT_NE(at, std::string::npos) << "line " << i;
    }
}

TEST_F(StderrBatchTest, AnOverlongLineIsCutButStillEndsItsLine) {
    log_set_sink(log_sink_journal);
    // log_write cuts at 1024; a relayed child line is "name[pid]: " + that.
    const std::string text(5000, 'y');
    log_line(LogLevel::Info, text);
    const std::string got = drain();
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.back(), '\n');
    EXPECT_EQ(count(got, "\n"), 1u);
}

}  // namespace
}  // namespace sipmasq
