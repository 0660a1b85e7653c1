#include "sip_sockets.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace sipmasq {

int set_dscp(int fd, bool v6, uint8_t dscp) noexcept {
    const int tos = dscp << 2;  // DSCP is the upper six bits of the TOS / traffic class
    return v6 ? ::setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos)
              : ::setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
}

namespace {

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

bool open_sip_sockets(const Config& config, std::vector<SipSocket>& out, std::string& error) {
    for (const auto& addr : config.inbound_addrs)
        if (!open_one(addr, config.sip_listen_port, config.sip_dscp, 0, out, error)) return false;
    // sipd tells the sides apart by socket where it cannot by interface, so
    // one address on both sides is refused by bind() here rather than merged.
    for (const auto& addr : config.outbound_addrs)
        if (!open_one(addr, config.sip_listen_port, config.sip_dscp, 1, out, error)) return false;
    return true;
}

}  // namespace sipmasq
