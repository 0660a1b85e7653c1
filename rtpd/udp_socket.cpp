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
    }
    return "unknown";
}

namespace {

// Binds port and, unless RTCP shares it, port+1; 0 or -errno of the first
// failure.
int bind_both(const Endpoint& local, uint16_t port, const UdpSocketOptions& opt, bool bind_rtcp,
              BoundPair& out) {
    UdpSocketResult rtp = open_udp_socket(local.with_port(port), opt);
    if (rtp.error != 0) return rtp.error;
    if (bind_rtcp) {
        UdpSocketResult rtcp =
            open_udp_socket(local.with_port(static_cast<uint16_t>(port + 1)), opt);
        if (rtcp.error != 0) return rtcp.error;
        out.rtcp = std::move(rtcp.fd);
    }
    out.rtp_port = port;
    out.rtp = std::move(rtp.fd);
    return 0;
}

void set_failure(BoundPair& out, int err) {
    out.sys_errno = -err;
    out.error = (err == -EMFILE || err == -ENFILE) ? PairError::NoDescriptors : PairError::Socket;
}

}  // namespace

BoundPair bind_pair(PortPool& pool, const Endpoint& local, uint16_t requested_port,
                    uint32_t attempts, const UdpSocketOptions& opt, int64_t now_ms,
                    bool bind_rtcp) {
    BoundPair out;
    if (requested_port != 0) {
        if (!pool.try_reserve(requested_port, now_ms)) {
            out.error = PairError::Unavailable;
            return out;
        }
        int err = bind_both(local, requested_port, opt, bind_rtcp, out);
        if (err == -EADDRINUSE) {
            pool.set_aside(requested_port, now_ms);
            out.error = PairError::InUse;
            out.sys_errno = EADDRINUSE;
        } else if (err != 0) {
            pool.give_back(requested_port);
            set_failure(out, err);
        }
        return out;
    }
    for (uint32_t i = 0; i < attempts; ++i) {
        auto port = pool.acquire(now_ms);
        if (!port) break;
        int err = bind_both(local, *port, opt, bind_rtcp, out);
        if (err == 0) return out;
        if (err == -EADDRINUSE) {
            pool.set_aside(*port, now_ms);  // held elsewhere: never handed out
            continue;
        }
        pool.give_back(*port);
        set_failure(out, err);
        return out;
    }
    out.error = PairError::Exhausted;
    return out;
}

}  // namespace sipmasq
