#include "sip_socket.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "clock.h"
#include "log.h"

namespace sipmasq {

namespace {

// The arrival interface and the destination address from IP_PKTINFO or
// IPV6_PKTINFO; 0 when neither is there (or the control data was cut).
unsigned arrival_of(msghdr& msg, SockAddr& to) noexcept {
    if ((msg.msg_flags & MSG_CTRUNC) != 0) return 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
            c->cmsg_len >= CMSG_LEN(sizeof(in_pktinfo))) {
            in_pktinfo info{};
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            to = SockAddr::from_bytes(AF_INET, &info.ipi_addr, 0);
            return info.ipi_ifindex > 0 ? static_cast<unsigned>(info.ipi_ifindex) : 0;
        }
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
            c->cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
            in6_pktinfo info{};
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            to = SockAddr::from_bytes(AF_INET6, &info.ipi6_addr, 0);
            return info.ipi6_ifindex;
        }
    }
    return 0;
}

}  // namespace

SipSideSocket::SipSideSocket(UniqueFd fd, Side socket_side, const SockAddr& local,
                             const SideInterfaces& interfaces) noexcept
    : fd_(std::move(fd)), side_(socket_side), local_(local), interfaces_(interfaces) {}

SipReceive SipSideSocket::receive(std::span<char> buf, SipDatagram& out) {
    iovec iov{buf.data(), buf.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo))];
    SockAddr from;
    msghdr msg{};
    msg.msg_name = from.sa();
    msg.msg_namelen = SockAddr::capacity();
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_DONTWAIT);
    if (n < 0) {
        error_ = errno;
        return error_ == EAGAIN || error_ == EWOULDBLOCK || error_ == EINTR ? SipReceive::Empty
                                                                            : SipReceive::Error;
    }
    SockAddr to;
    const unsigned arrival = arrival_of(msg, to);
    const auto side = interfaces_.classify(arrival, side_);
    if (!side) {
        uint64_t suppressed = 0;
        if (wrong_log_.allow(monotonic_ms(), suppressed))
            log_warning(
                "security: wrong-interface from %s: to %s through interface %u, neither the "
                "inside (%s) nor the outside (%s); dropped (%llu similar suppressed)",
                from.to_string().c_str(), to.valid() ? to.host_string().c_str() : "?", arrival,
                interfaces_.inside.name.c_str(), interfaces_.outside.name.c_str(),
                static_cast<unsigned long long>(suppressed));
        return SipReceive::Dropped;
    }
    out.size = static_cast<size_t>(n);
    out.from = from;
    out.side = *side;
    return SipReceive::Datagram;
}

}  // namespace sipmasq
