// Moving one frame over a SOCK_SEQPACKET Unix socket, with at most one
// descriptor (SCM_RIGHTS). A frame that does not fit the buffer, a truncated
// control message or more than one descriptor is an error, and every
// descriptor that did arrive is closed before returning.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "unique_fd.h"

namespace sipmasq::proto {

// Room for this many descriptors in one receive, so that a peer sending
// "a few" is seen (and they are closed) rather than truncated by the kernel.
inline constexpr int kMaxFdsSeen = 8;

// Sends one frame (MSG_NOSIGNAL), with `fd_to_pass` if >= 0. Returns the
// bytes sent or -errno (-EAGAIN on a full non-blocking socket).
[[nodiscard]] ssize_t send_frame(int sock, std::span<const uint8_t> frame,
                                 int fd_to_pass = -1) noexcept;

// Sends `frames` in order, one record each, with as few sendmmsg calls as
// the kernel allows (MSG_NOSIGNAL | MSG_DONTWAIT; no descriptors). Returns
// how many were sent; `error` is 0 when all were, else the -errno that
// stopped the rest (-EAGAIN: the peer's queue is full).
[[nodiscard]] size_t send_frames(int sock, std::span<const iovec> frames, int& error) noexcept;
// The same for frames stored back to back from `buf`, frame i ending at
// byte ends[i] (how a fixed batch buffer keeps them).
[[nodiscard]] size_t send_packed_frames(int sock, const uint8_t* buf,
                                        std::span<const uint16_t> ends, int& error) noexcept;

// Receives one frame into `buf` (MSG_CMSG_CLOEXEC). Returns its size, 0 when
// the peer closed (a zero-length record reads the same; encode never makes one), or -errno: -EAGAIN
// nothing waiting, -EMSGSIZE the frame was larger than `buf`, -EPROTO a truncated control message,
// more than one descriptor or an unexpected control message. `fd_out` receives the one descriptor
// that came with a good frame; it is reset otherwise.
[[nodiscard]] ssize_t recv_frame(int sock, std::span<uint8_t> buf, UniqueFd& fd_out) noexcept;

// A SOCK_SEQPACKET socket pair, close-on-exec, optionally non-blocking.
// Returns 0 or -errno.
[[nodiscard]] int seqpacket_pair(UniqueFd& a, UniqueFd& b, bool nonblocking = true) noexcept;

}  // namespace sipmasq::proto
