// rtpd: the RTP relay, strict. A single-threaded libevent (epoll) process
// that binds UDP ports (IPv4/IPv6, never anything else), moves datagrams
// between them and talks to sipd and the parent over inherited Unix sockets.
// It opens no file at all, never executes or forks, and opens no Unix,
// netlink, raw or TCP socket. The event base exists before the filter.
#include "sandbox_policy.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

namespace sipmasq {
namespace {

// The socket type without SOCK_NONBLOCK / SOCK_CLOEXEC.
constexpr long long kSockTypeMask = ~static_cast<long long>(SOCK_NONBLOCK | SOCK_CLOEXEC);

constexpr SyscallRule kRtpdRules[] = {
    // I/O on the descriptors it holds.
    allow("read", "channels"),
    allow("write", "channels, stderr"),
    allow("readv", "libevent buffers"),
    allow("writev", "libevent buffers, stderr"),
    allow("close", "released media ports"),
    // Media and IPC.
    allow("recvfrom", "RTP/RTCP datagrams"),
    allow("sendto", "RTP/RTCP datagrams"),
    allow("recvmsg", "IPC messages from parent and sipd"),
    allow("sendmsg", "IPC messages, LOG lines"),
    allow("recvmmsg", "batched RTP reads when several datagrams wait"),
    allow("sendmmsg", "batched RTP sends"),
    allow_if("socket", "media ports (IPv4 UDP, protocol 0)", arg_eq(0, AF_INET),
             arg_masked_eq(1, kSockTypeMask, SOCK_DGRAM), arg_eq(2, 0)),
    allow_if("socket", "media ports (IPv6 UDP, protocol 0)", arg_eq(0, AF_INET6),
             arg_masked_eq(1, kSockTypeMask, SOCK_DGRAM), arg_eq(2, 0)),
    allow("bind", "media ports from rtp_port_low..rtp_port_high"),
    allow("getsockname", "the address a media port got"),
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
    // (Room here for SO_BINDTODEVICE: a media port bound to its side's
    // interface is being added on another branch, level SOL_SOCKET only.)
    allow_if("getsockopt", "SO_ERROR, buffer sizes", arg_eq(1, SOL_SOCKET)),
    // The event loop (libevent, epoll backend; the base is created before the filter).
    allow("epoll_create1", "libevent (a second base)"),
    allow("epoll_ctl", "libevent adds and removes media sockets"),
    allow("epoll_wait", "libevent dispatch"),
    allow("epoll_pwait", "libevent dispatch (glibc may use it for epoll_wait)"),
    allow("epoll_pwait2", "libevent dispatch on newer glibc"),
    allow("timerfd_settime", "libevent's precise timer, if enabled"),
    allow("timerfd_gettime", "libevent's precise timer, if enabled"),
    // Time: idle timeouts of forwards.
    allow("clock_gettime", "timeouts and timestamps (vDSO fallback)"),
    allow("clock_getres", "libevent probes the monotonic clock"),
    allow("gettimeofday", "libevent (vDSO fallback)"),
    allow("time", "vDSO fallback"),
    allow("nanosleep", "short back-off sleeps"),
    allow("clock_nanosleep", "glibc's nanosleep"),
    // Process and signals.
    allow("getpid", "log lines"),
    allow("gettid", "glibc abort()"),
    allow("getrusage", "STATS: CPU time"),
    allow("getrandom", "shuffling the free port list"),
    allow("rt_sigreturn", "return from signal handlers"),
    allow("rt_sigprocmask", "libevent signal handling, glibc"),
    allow("rt_sigaction", "libevent signal events"),
    allow("restart_syscall", "a call interrupted by a signal resumes"),
    allow_if("tgkill", "abort() raises SIGABRT on itself (no other process, no other signal)",
             arg_self_pid(0), arg_self_pid(1), arg_eq(2, SIGABRT)),
    allow("futex", "glibc locks (contended only, which a single thread never is)"),
    allow_if("prctl", "naming the process", arg_eq(0, PR_SET_NAME)),
    allow("exit", "end of the process"),
    allow("exit_group", "end of the process"),
    // Memory, never executable.
    allow("brk", "malloc"),
    allow_if("mmap", "malloc of large blocks: readable, writable or neither, never executable",
             arg_only(2, PROT_READ | PROT_WRITE)),
    allow("munmap", "free of large blocks"),
    allow("mremap", "realloc of large blocks"),
    allow("madvise", "malloc trimming"),
    allow_if("mprotect", "malloc arenas: readable, writable or neither, never executable",
             arg_only(2, PROT_READ | PROT_WRITE)),
    // Descriptors it already has; no path is ever looked up.
    allow("fstat", "stdio on stderr"),
    allow_if("newfstatat", "fstat() as glibc spells it: only with AT_EMPTY_PATH",
             arg_masked_eq(3, AT_EMPTY_PATH, AT_EMPTY_PATH)),
    allow_if("fcntl", "libevent: O_NONBLOCK", arg_eq(1, F_GETFL)),
    allow_if("fcntl", "libevent: O_NONBLOCK", arg_eq(1, F_SETFL)),
    allow_if("fcntl", "libevent: FD_CLOEXEC", arg_eq(1, F_GETFD)),
    allow_if("fcntl", "libevent: FD_CLOEXEC", arg_eq(1, F_SETFD)),
    allow_if("ioctl", "bytes waiting on a media socket", arg_eq(1, FIONREAD)),
    allow_if("ioctl", "non-blocking mode", arg_eq(1, FIONBIO)),
    allow_if("ioctl", "stdio's isatty()", arg_eq(1, TCGETS)),
};

}  // namespace

std::span<const SyscallRule> rtpd_syscall_rules() noexcept {
    return kRtpdRules;
}

}  // namespace sipmasq
