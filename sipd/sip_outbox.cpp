#include "sip_outbox.h"

#include <cerrno>
#include <cstring>

namespace sipmasq {

SipOutbox::SipOutbox(size_t arena_bytes, size_t max_messages)
    : arena_(arena_bytes), entries_(max_messages), headers_(max_messages), iovs_(max_messages) {}

void SipOutbox::send_now(int fd, const SockAddr& dest, std::string_view data) {
    ++calls_;
    if (::sendto(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL, dest.sa(), dest.len()) <
        0) {
        if (on_error_) on_error_(dest, errno);
        return;
    }
    ++sent_;
}

void SipOutbox::queue(int fd, const SockAddr& dest, std::string_view data) {
    if (data.size() > arena_.size()) {
        flush();  // in order: what came first goes first
        send_now(fd, dest, data);
        return;
    }
    if (count_ == entries_.size() || used_ + data.size() > arena_.size()) flush();
    std::memcpy(arena_.data() + used_, data.data(), data.size());
    Entry& e = entries_[count_++];
    e.fd = fd;
    e.dest = dest;
    e.offset = used_;
    e.size = data.size();
    used_ += data.size();
}

size_t SipOutbox::flush() {
    size_t failed = 0;
    size_t first = 0;
    while (first < count_) {
        // A run of datagrams on one socket: one sendmmsg.
        size_t end = first;
        while (end < count_ && entries_[end].fd == entries_[first].fd) {
            Entry& e = entries_[end];
            iovs_[end] = iovec{arena_.data() + e.offset, e.size};
            mmsghdr& h = headers_[end];
            h = mmsghdr{};
            h.msg_hdr.msg_name = e.dest.sa();
            h.msg_hdr.msg_namelen = e.dest.len();
            h.msg_hdr.msg_iov = &iovs_[end];
            h.msg_hdr.msg_iovlen = 1;
            ++end;
        }
        size_t next = first;
        while (next < end) {
            ++calls_;
            const int n =
                ::sendmmsg(entries_[first].fd, &headers_[next], static_cast<unsigned>(end - next),
                           MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) {
                next += static_cast<size_t>(n);
                sent_ += static_cast<uint64_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            // The datagram at `next` failed (a full buffer, an unreachable
            // destination): reported and skipped, the others still go.
            ++failed;
            if (on_error_) on_error_(entries_[next].dest, n < 0 ? errno : EIO);
            ++next;
        }
        first = end;
    }
    count_ = 0;
    used_ = 0;
    return failed;
}

}  // namespace sipmasq
