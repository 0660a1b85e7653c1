#include "udp_socket.h"

#include <netinet/ip.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace sipmasq {

UdpSocketResult open_udp_socket(const Endpoint& local, const UdpSocketOptions& opt) noexcept {
    UdpSocketResult r;
    if (!local.known()) {
        r.error = -EAFNOSUPPORT;
        return r;
    }
    int fd = ::socket(local.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        r.error = -errno;
        return r;
    }
    UniqueFd owned(fd);
    int tos = static_cast<int>(opt.dscp) << 2;
    int rc;
    if (local.family() == AF_INET6) {
        int on = 1;
        // A v6 relay socket must never see v4-mapped traffic.
        if (::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) {
            r.error = -errno;
            return r;
        }
        rc = ::setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
    } else {
        rc = ::setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
    }
    if (rc != 0) {
        r.error = -errno;
        return r;
    }
    if (opt.rcvbuf_bytes > 0) {
        // Capped by net.core.rmem_max without error; a smaller buffer only
        // costs burst tolerance, so the result is not checked.
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &opt.rcvbuf_bytes, sizeof opt.rcvbuf_bytes);
    }
    // Before bind(): without privileges a socket may be bound to a device
    // once (Linux >= 5.7), and it must never be reachable through another.
    const size_t device_len = strnlen(opt.device.data(), opt.device.size());
    if (device_len > 0 && ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, opt.device.data(),
                                       static_cast<socklen_t>(device_len)) != 0) {
        r.error = -errno;
        return r;
    }
    if (::bind(fd, local.sa(), local.len()) != 0) {
        r.error = -errno;
        return r;
    }
    r.fd = std::move(owned);
    return r;
}

const char* pair_error_name(PairError e) noexcept {
    switch (e) {
        case PairError::None:
            return "none";
        case PairError::Exhausted:
            return "port pool exhausted";
        case PairError::Unavailable:
            return "requested ports unavailable";
        case PairError::InUse:
            return "requested ports held by another process";
        case PairError::NoDescriptors:
            return "out of file descriptors";
        case PairError::Socket:
            return "socket error";
        case PairError::EventLoop:
            return "event loop error";
    }
    return "unknown";
}

}  // namespace sipmasq
