// rtpd: the RTP relay, strict. A single-threaded libevent (epoll) process
// that binds UDP ports (IPv4/IPv6, never anything else), moves datagrams
// between them and talks to sipd and the parent over inherited Unix sockets.
// It opens no file at all, never executes or forks, and opens no Unix,
// netlink, raw or TCP socket. The event base exists before the filter. Its
// table is the children's base (common/seccomp_base.h) and the rules below.
#include "sandbox_policy.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "seccomp_base.h"

namespace sipmasq {
namespace {

constexpr SyscallRule kRtpdOwnRules[] = {
    // Media.
    allow("recvmmsg", "batched RTP reads when several datagrams wait"),
    allow("bind", "media ports from rtp_port_low..rtp_port_high"),
    // Exactly the options udp_socket.cpp sets, by level and name.
    allow_if("setsockopt", "socket receive buffer for bursts of media", arg_eq(1, SOL_SOCKET),
             arg_eq(2, SO_RCVBUF)),
    allow_if("setsockopt", "a media port sees only its side's interface", arg_eq(1, SOL_SOCKET),
             arg_eq(2, SO_BINDTODEVICE)),
    allow_if("setsockopt", "DSCP marking of media (IPv4)", arg_eq(1, IPPROTO_IP),
             arg_eq(2, IP_TOS)),
    allow_if("setsockopt", "DSCP marking of media (IPv6)", arg_eq(1, IPPROTO_IPV6),
             arg_eq(2, IPV6_TCLASS)),
    allow_if("setsockopt", "IPv6 media sockets are IPv6 only", arg_eq(1, IPPROTO_IPV6),
             arg_eq(2, IPV6_V6ONLY)),
    allow_if("getsockopt", "SO_ERROR, buffer sizes", arg_eq(1, SOL_SOCKET)),
    // No path is ever looked up: fstat() only.
    allow_if("newfstatat", "fstat() as glibc spells it: only with AT_EMPTY_PATH",
             arg_masked_eq(3, AT_EMPTY_PATH, AT_EMPTY_PATH)),
};

constexpr auto kRtpdRules = join_rules(kChildBaseRules, kRtpdOwnRules);

}  // namespace

std::span<const SyscallRule> rtpd_syscall_rules() noexcept {
    return kRtpdRules;
}

}  // namespace sipmasq
