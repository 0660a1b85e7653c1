#include "framing.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sipmasq::proto {

ssize_t send_frame(int sock, std::span<const uint8_t> frame, int fd_to_pass) noexcept {
    iovec iov{};
    iov.iov_base = const_cast<uint8_t*>(frame.data());
    iov.iov_len = frame.size();
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;

    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (fd_to_pass >= 0) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(cmsg), &fd_to_pass, sizeof(int));
    }
    ssize_t n;
    do {
        n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    // SOCK_SEQPACKET sends a record whole or not at all.
    if (static_cast<size_t>(n) != frame.size()) return -EMSGSIZE;
    return n;
}

size_t send_frames(int sock, std::span<const iovec> frames, int& error) noexcept {
    // A batch is a pass's worth of frames: a fixed array on the stack, and
    // a longer span goes out in several calls.
    constexpr size_t kChunk = 64;
    mmsghdr msgs[kChunk];
    size_t sent = 0;
    error = 0;
    while (sent < frames.size()) {
        const size_t n = std::min(kChunk, frames.size() - sent);
        for (size_t i = 0; i < n; ++i) {
            msgs[i] = mmsghdr{};
            msgs[i].msg_hdr.msg_iov = const_cast<iovec*>(&frames[sent + i]);
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int got =
            ::sendmmsg(sock, msgs, static_cast<unsigned>(n), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (got < 0) {
            if (errno == EINTR) continue;
            error = -errno;
            return sent;
        }
        // SOCK_SEQPACKET sends a record whole or not at all.
        for (int i = 0; i < got; ++i)
            if (msgs[i].msg_len != frames[sent + static_cast<size_t>(i)].iov_len) {
                error = -EMSGSIZE;
                return sent + static_cast<size_t>(i);
            }
        sent += static_cast<size_t>(got);
    }
    return sent;
}

size_t send_packed_frames(int sock, const uint8_t* buf, std::span<const uint16_t> ends,
                          int& error) noexcept {
    constexpr size_t kChunk = 64;
    iovec frames[kChunk];
    size_t sent = 0;
    size_t begin = 0;
    error = 0;
    while (sent < ends.size()) {
        const size_t n = std::min(kChunk, ends.size() - sent);
        for (size_t i = 0; i < n; ++i) {
            frames[i].iov_base = const_cast<uint8_t*>(buf + begin);
            frames[i].iov_len = ends[sent + i] - begin;
            begin = ends[sent + i];
        }
        const size_t got = send_frames(sock, std::span<const iovec>(frames, n), error);
        sent += got;
        if (got < n) break;
    }
    return sent;
}

ssize_t recv_frame(int sock, std::span<uint8_t> buf, UniqueFd& fd_out) noexcept {
    fd_out.reset();
    iovec iov{};
    iov.iov_base = buf.data();
    iov.iov_len = buf.size();
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsSeen)];
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);

    ssize_t n;
    do {
        n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;

    // Take ownership of every descriptor that arrived before judging
    // anything, so that each path below closes them.
    UniqueFd fds[kMaxFdsSeen];
    int nfds = 0;
    bool odd_cmsg = false;
    if (msg.msg_controllen > 0) {
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
                odd_cmsg = true;
                continue;
            }
            const size_t bytes = c->cmsg_len > CMSG_LEN(0) ? c->cmsg_len - CMSG_LEN(0) : 0;
            const size_t count = bytes / sizeof(int);
            const auto* data = CMSG_DATA(c);
            for (size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, data + i * sizeof(int), sizeof(int));
                if (nfds < kMaxFdsSeen) {
                    fds[nfds++].reset(fd);
                } else {
                    ::close(fd);  // cannot happen with our buffer size; be safe
                    odd_cmsg = true;
                }
            }
        }
    }

    if ((msg.msg_flags & MSG_TRUNC) != 0) return -EMSGSIZE;
    if ((msg.msg_flags & MSG_CTRUNC) != 0 || odd_cmsg || nfds > 1) return -EPROTO;
    if (n == 0) return nfds == 0 ? 0 : -EPROTO;
    if (nfds == 1) fd_out = std::move(fds[0]);
    return n;
}

int seqpacket_pair(UniqueFd& a, UniqueFd& b, bool nonblocking) noexcept {
    int sv[2];
    const int type = SOCK_SEQPACKET | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
    if (::socketpair(AF_UNIX, type, 0, sv) != 0) return -errno;
    a.reset(sv[0]);
    b.reset(sv[1]);
    return 0;
}

}  // namespace sipmasq::proto
