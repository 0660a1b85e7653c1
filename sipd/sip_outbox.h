// The SIP datagrams sipd sends during one pass of its event loop, kept in
// order and sent together with sendmmsg at the end of the pass: a batch of
// requests read in one wake-up costs one system call per socket instead
// of one per datagram. Fixed storage, allocated once: no allocation per
// message.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "address.h"

namespace sipmasq {

class SipOutbox {
  public:
    // A datagram that could not be sent: its destination and errno.
    using ErrorHandler = std::function<void(const SockAddr& dest, int error)>;

    explicit SipOutbox(size_t arena_bytes = size_t{256} * 1024, size_t max_messages = 64);

    void on_error(ErrorHandler handler) { on_error_ = std::move(handler); }

    // Queues `data` for `dest` on `fd`. What does not fit sends what is
    // queued first; a datagram larger than the whole arena goes at once.
    void queue(int fd, const SockAddr& dest, std::string_view data);
    // Sends everything queued, in order; returns how many could not be sent.
    size_t flush();

    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    [[nodiscard]] size_t queued() const noexcept { return count_; }
    // System calls made and datagrams sent, for the statistics and tests.
    [[nodiscard]] uint64_t calls() const noexcept { return calls_; }
    [[nodiscard]] uint64_t sent() const noexcept { return sent_; }

  private:
    struct Entry {
        int fd = -1;
        SockAddr dest;
        size_t offset = 0;
        size_t size = 0;
    };
    void send_now(int fd, const SockAddr& dest, std::string_view data);

    std::vector<char> arena_;
    std::vector<Entry> entries_;
    std::vector<mmsghdr> headers_;
    std::vector<iovec> iovs_;
    size_t count_ = 0;
    size_t used_ = 0;
    uint64_t calls_ = 0;
    uint64_t sent_ = 0;
    ErrorHandler on_error_;
};

}  // namespace sipmasq
