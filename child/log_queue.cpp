#include "log_queue.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "codec.h"
#include "framing.h"

namespace sipmasq {

namespace {

// Marks a stretch during which a signal handler must not touch the buffer.
class BusyMark {
  public:
    explicit BusyMark(volatile std::sig_atomic_t& flag) noexcept : flag_(flag), was_(flag) {
        flag_ = 1;
    }
    ~BusyMark() { flag_ = was_; }
    BusyMark(const BusyMark&) = delete;
    BusyMark& operator=(const BusyMark&) = delete;

  private:
    volatile std::sig_atomic_t& flag_;
    std::sig_atomic_t was_;
};

// The LOG payload: the level byte, then the text.
size_t log_payload(uint8_t (&payload)[1 + proto::kLogTextMax], uint8_t head,
                   std::string_view text) noexcept {
    payload[0] = head;
    std::memcpy(payload + 1, text.data(), text.size());
    return 1 + text.size();
}

}  // namespace

void LogQueue::defer_to(EndOfPass* pass_end) noexcept {
    if (pass_end == nullptr) flush();
    pass_end_ = pass_end != nullptr && pass_end->valid() ? pass_end : nullptr;
}

void LogQueue::write(LogLevel level, std::string_view line, bool record) noexcept {
    if (line.empty()) return;
    line = line.substr(0, proto::kLogTextMax);
    const auto head =
        static_cast<uint8_t>(static_cast<uint8_t>(level) | (record ? proto::kLogRecord : 0));
    if (busy_ != 0) {
        // A signal handler (the seccomp trap) interrupted a write or a flush.
        if (!send_alone(head, line)) ++lost_;
        return;
    }
    const BusyMark mark(busy_);
    keep(head, line);
    // What needs attention goes now, and so does everything before it.
    if (pass_end_ == nullptr || level <= LogLevel::Warning)
        flush();
    else
        pass_end_->arm();
}

void LogQueue::keep(uint8_t head, std::string_view text) noexcept {
    const size_t frame = proto::kHeaderSize + 1 + text.size();
    if (frames_ == kFrames || (frames_ > 0 && end_[frames_ - 1] + frame > kBytes)) flush();
    const size_t at = frames_ > 0 ? end_[frames_ - 1] : 0;
    uint8_t payload[1 + proto::kLogTextMax];
    const size_t len = log_payload(payload, head, text);
    const size_t n =
        proto::encode(std::span<uint8_t>(buf_.data() + at, kBytes - at), proto::MsgType::Log, 0, 0,
                      std::span<const uint8_t>(payload, len), false);
    if (n == 0) {
        ++lost_;
        return;
    }
    end_[frames_++] = static_cast<uint16_t>(at + n);
}

void LogQueue::flush() noexcept {
    if (frames_ == 0) return;
    const BusyMark mark(busy_);
    // Lines were lost before these: said first.
    if (lost_ > lost_reported_) report_lost();
    int error = 0;
    const size_t sent = proto::send_packed_frames(
        sock_, buf_.data(), std::span<const uint16_t>(end_.data(), frames_), error);
    // Never wait for the parent: what it cannot take now is lost.
    const size_t total = frames_;
    lost_ += total - sent;
    frames_ = 0;
}

bool LogQueue::send_alone(uint8_t head, std::string_view text) noexcept {
    uint8_t payload[1 + proto::kLogTextMax];
    const size_t len = log_payload(payload, head, text);
    uint8_t frame[kFrameMax];
    const size_t n = proto::encode(frame, proto::MsgType::Log, 0, 0,
                                   std::span<const uint8_t>(payload, len), false);
    return n > 0 && ::send(sock_, frame, n, MSG_DONTWAIT | MSG_NOSIGNAL) == static_cast<ssize_t>(n);
}

void LogQueue::report_lost() noexcept {
    char line[128];
    const int n = std::snprintf(line, sizeof line,
                                "%llu log lines lost: the parent did not read them in time",
                                static_cast<unsigned long long>(lost_ - lost_reported_));
    if (n <= 0) return;
    const auto head = static_cast<uint8_t>(LogLevel::Warning);
    if (send_alone(head, std::string_view(line, std::min(static_cast<size_t>(n), sizeof line - 1))))
        lost_reported_ = lost_;
}

}  // namespace sipmasq
