// A child's log lines on their way to the parent, as LOG frames on the
// channel. While the event loop runs, the lines of one pass are kept in a
// fixed buffer and sent together at its end with one sendmmsg, so the
// parent wakes once for them, not once a line. A line at warning or above,
// and any line while no loop runs (start-up, a configuration error, the
// exit and seccomp-trap paths), goes at once, after what was kept. Never
// blocks and never allocates: a parent that does not read loses lines, as
// a full socket always did; they are counted, and the count is logged
// ahead of the next lines that get through.
#pragma once

#include <array>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "end_of_pass.h"
#include "log.h"
#include "message.h"

namespace sipmasq {

class LogQueue {
  public:
    static constexpr size_t kFrames = 64;
    // Room for kFrames lines of a typical length, and for at least 31 of
    // the longest (header, level, kLogTextMax bytes).
    static constexpr size_t kBytes = 32768;
    static constexpr size_t kFrameMax = proto::kHeaderSize + 1 + proto::kLogTextMax;

    constexpr explicit LogQueue(int sock) noexcept : sock_(sock) {}
    LogQueue(const LogQueue&) = delete;
    LogQueue& operator=(const LogQueue&) = delete;

    // From now on lines below warning wait for the end of the pass `pass_end`
    // marks (its work calls flush()); nullptr: every line goes at once again
    // (what is kept is sent now).
    void defer_to(EndOfPass* pass_end) noexcept;

    // One line (cut to kLogTextMax bytes); `record` marks a call record.
    void write(LogLevel level, std::string_view line, bool record = false) noexcept;
    // Sends what is kept, in order. What the socket refuses (the parent's
    // queue is full) is lost and counted.
    void flush() noexcept;

    [[nodiscard]] size_t kept() const noexcept { return frames_; }
    // Lines lost since start.
    [[nodiscard]] uint64_t lost() const noexcept { return lost_; }

  private:
    void keep(uint8_t head, std::string_view text) noexcept;
    // One frame on its own, outside the batch; false when it was not sent.
    bool send_alone(uint8_t head, std::string_view text) noexcept;
    void report_lost() noexcept;

    int sock_;
    EndOfPass* pass_end_ = nullptr;
    // Set while write() runs: a line from a signal handler that interrupted
    // it goes out alone instead of touching a half-updated buffer.
    volatile std::sig_atomic_t busy_ = 0;
    uint64_t lost_ = 0;
    uint64_t lost_reported_ = 0;
    size_t frames_ = 0;
    std::array<uint16_t, kFrames> end_{};  // where each kept frame ends in buf_
    std::array<uint8_t, kBytes> buf_{};
};

}  // namespace sipmasq
