#include "sip_sockets.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "message.h"
#include "side_interfaces.h"

namespace sipmasq {

int set_dscp(int fd, bool v6, uint8_t dscp) noexcept {
    const int tos = dscp << 2;  // DSCP is the upper six bits of the TOS / traffic class
    return v6 ? ::setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos)
              : ::setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
}

namespace {

// Pending connections the kernel queues for sipd before it accepts them.
constexpr int kListenBacklog = 64;

bool open_listener(const SockAddr& addr_in, uint16_t port, uint8_t dscp, uint8_t side,
                   const InterfaceRef* device, std::vector<SipSocket>& out, std::string& error) {
    SockAddr addr = addr_in;
    addr.set_port(port);
    UniqueFd fd(::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        error = std::string("cannot create a TCP socket: ") + std::strerror(errno);
        return false;
    }
    const int one = 1;
    if (addr.is_v6()) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    // A restarted sipmasq binds again while old connections linger in TIME_WAIT.
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
        error = "SO_REUSEADDR on " + addr.to_string() + ": " + std::strerror(errno);
        return false;
    }
    if (device != nullptr &&
        ::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, device->name.c_str(),
                     static_cast<socklen_t>(device->name.size())) != 0) {
        error = "cannot bind the TCP listener " + addr.to_string() + " to " + device->name + ": " +
                std::strerror(errno);
        return false;
    }
    // Accepted connections inherit the listener's DSCP marking.
    if (dscp != 0 && set_dscp(fd.get(), addr.is_v6(), dscp) != 0) {
        error = "sip_dscp on the TCP listener " + addr.to_string() + ": " + std::strerror(errno);
        return false;
    }
    if (::bind(fd.get(), addr.sa(), addr.len()) != 0) {
        error = "cannot bind SIP TCP listener " + addr.to_string() + ": " + std::strerror(errno);
        return false;
    }
    if (::listen(fd.get(), kListenBacklog) != 0) {
        error = "cannot listen on " + addr.to_string() + ": " + std::strerror(errno);
        return false;
    }
    SipSocket sock;
    sock.fd = std::move(fd);
    sock.side = side;
    sock.transport = proto::kSipTcpListener;
    sock.local = addr;
    out.push_back(std::move(sock));
    return true;
}

bool open_one(const SockAddr& addr_in, uint16_t port, uint8_t dscp, uint8_t side,
              std::vector<SipSocket>& out, std::string& error) {
    SockAddr addr = addr_in;
    addr.set_port(port);
    UniqueFd fd(::socket(addr.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        error = std::string("cannot create a UDP socket: ") + std::strerror(errno);
        return false;
    }
    const int one = 1;
    if (addr.is_v6()) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    // sipd learns the arrival interface of each datagram (trust by
    // interface) and cannot set the option itself under its seccomp filter.
    const int rc = addr.is_v6()
                       ? ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one)
                       : ::setsockopt(fd.get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    if (rc != 0) {
        error = "cannot ask for the arrival interface on " + addr.to_string() + ": " +
                std::strerror(errno);
        return false;
    }
    // sip_dscp: marked here, so sipd's seccomp filter needs no setsockopt.
    if (dscp != 0 && set_dscp(fd.get(), addr.is_v6(), dscp) != 0) {
        error = "cannot set sip_dscp on " + addr.to_string() + ": " + std::strerror(errno);
        return false;
    }
    // Room for a burst: 500 INVITEs at once overflowed the default buffer
    // (~100 datagrams), and their retransmissions came in waves that
    // overflowed it again until calls failed. Beyond net.core.rmem_max
    // only with CAP_NET_ADMIN; else as much as that allows.
    const int burst_room = 4 << 20;
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &burst_room, sizeof burst_room) != 0)
        (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &burst_room, sizeof burst_room);
    if (::bind(fd.get(), addr.sa(), addr.len()) != 0) {
        error = "cannot bind SIP socket " + addr.to_string() + ": " + std::strerror(errno);
        return false;
    }
    SipSocket sock;
    sock.fd = std::move(fd);
    sock.side = side;
    sock.local = addr;
    out.push_back(std::move(sock));
    return true;
}

}  // namespace

bool open_sip_sockets_for(const Config& config, Side side, const SockAddr& addr,
                          std::vector<SipSocket>& out, std::string& error) {
    const uint8_t wire_side = side == Side::Inside ? proto::kSideInside : proto::kSideOutside;
    const SideInterfaces sides = side_interfaces(config.if_inbound, config.if_outbound);
    const InterfaceRef* device = nullptr;
    if (sides.distinct()) device = side == Side::Inside ? &sides.inside : &sides.outside;
    std::vector<SipSocket> opened;
    if (!open_one(addr, config.sip_listen_port, config.sip_dscp, wire_side, opened, error) ||
        !open_listener(addr, config.sip_listen_port, config.sip_dscp, wire_side, device, opened,
                       error))
        return false;
    for (SipSocket& s : opened) out.push_back(std::move(s));
    return true;
}

bool open_sip_sockets(const Config& config, std::vector<SipSocket>& out, std::string& error) {
    for (const auto& addr : config.inbound_addrs)
        if (!open_one(addr, config.sip_listen_port, config.sip_dscp, 0, out, error)) return false;
    // sipd tells the sides apart by socket where it cannot by interface, so
    // one address on both sides is refused by bind() here rather than merged.
    for (const auto& addr : config.outbound_addrs)
        if (!open_one(addr, config.sip_listen_port, config.sip_dscp, 1, out, error)) return false;
    const SideInterfaces sides = side_interfaces(config.if_inbound, config.if_outbound);
    const bool bind_device = sides.distinct();
    for (const auto& addr : config.inbound_addrs)
        if (!open_listener(addr, config.sip_listen_port, config.sip_dscp, 0,
                           bind_device ? &sides.inside : nullptr, out, error))
            return false;
    for (const auto& addr : config.outbound_addrs)
        if (!open_listener(addr, config.sip_listen_port, config.sip_dscp, 1,
                           bind_device ? &sides.outside : nullptr, out, error))
            return false;
    return true;
}

}  // namespace sipmasq
