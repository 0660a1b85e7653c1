// The seccomp rules both children need, in one commented table: a
// single-threaded libevent (epoll) process that talks over inherited
// descriptors and UDP, keeps time, handles signals and allocates memory that
// is never executable. Each process's table (sipd/ and rtpd/
// sandbox_policy.cpp) is this base followed by its own additions, joined
// with join_rules(); a rule belongs here only if both need it with exactly
// the same argument checks.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "seccomp_filter.h"

namespace sipmasq {

// The socket type without SOCK_NONBLOCK / SOCK_CLOEXEC.
inline constexpr long long kSockTypeMask = ~static_cast<long long>(SOCK_NONBLOCK | SOCK_CLOEXEC);

inline constexpr SyscallRule kChildBaseRules[] = {
    // I/O on the descriptors it holds.
    allow("read", "IPC channels and what it holds open (sipd: the registration file)"),
    allow("write", "IPC channels, stderr (sipd: the registration file)"),
    allow("readv", "libevent and stdio buffers"),
    allow("writev", "libevent and stdio buffers, stderr"),
    allow("close", "every descriptor it opens"),
    // Datagrams (SIP and DNS in sipd, media in rtpd) and IPC messages.
    allow("recvfrom", "UDP datagrams"),
    allow("sendto", "UDP datagrams"),
    allow("recvmsg", "IPC messages (with SCM_RIGHTS) from the parent and the other child"),
    allow("sendmsg", "IPC messages to the parent and the other child, LOG lines"),
    allow("sendmmsg", "batched sends: SIP and RTP datagrams, IPC messages, LOG lines"),
    // Only UDP with protocol 0: sipd's DNS queries, rtpd's media ports.
    allow_if("socket", "sipd's DNS queries, rtpd's media ports (IPv4)", arg_eq(0, AF_INET),
             arg_masked_eq(1, kSockTypeMask, SOCK_DGRAM), arg_eq(2, 0)),
    allow_if("socket", "sipd's DNS queries, rtpd's media ports (IPv6)", arg_eq(0, AF_INET6),
             arg_masked_eq(1, kSockTypeMask, SOCK_DGRAM), arg_eq(2, 0)),
    allow("getsockname", "the address a socket has"),
    // The event loop (libevent, epoll backend; the base is created before the filter).
    allow("epoll_create1", "a second event base (e.g. after a restart of a module)"),
    allow("epoll_ctl", "libevent adds and removes events"),
    allow("epoll_wait", "libevent dispatch"),
    allow("epoll_pwait", "libevent dispatch (glibc may use it for epoll_wait)"),
    allow("epoll_pwait2", "libevent dispatch on newer glibc"),
    allow("timerfd_settime", "libevent's precise timer, if enabled"),
    allow("timerfd_gettime", "libevent's precise timer, if enabled"),
    // Time.
    allow("clock_gettime", "timers, timeouts and timestamps (vDSO fallback)"),
    allow("clock_getres", "libevent probes the monotonic clock"),
    allow("gettimeofday", "libevent and osip timestamps (vDSO fallback)"),
    allow("time", "expiry times (vDSO fallback)"),
    allow("nanosleep", "short back-off sleeps"),
    allow("clock_nanosleep", "glibc's nanosleep"),
    // Process and signals.
    allow("getpid", "log lines, osip's random seed"),
    allow("gettid", "glibc abort()"),
    allow("getrusage", "STATS: CPU time"),
    allow("getrandom", "random SIP tags, branches, Call-IDs and nonces, or port order"),
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
    // Descriptors it already has.
    allow("fstat", "stdio on an open descriptor"),
    allow_if("fcntl", "libevent: O_NONBLOCK", arg_eq(1, F_GETFL)),
    allow_if("fcntl", "libevent: O_NONBLOCK", arg_eq(1, F_SETFL)),
    allow_if("fcntl", "libevent: FD_CLOEXEC", arg_eq(1, F_GETFD)),
    allow_if("fcntl", "libevent: FD_CLOEXEC", arg_eq(1, F_SETFD)),
    allow_if("ioctl", "libevent: bytes waiting on a socket", arg_eq(1, FIONREAD)),
    allow_if("ioctl", "non-blocking mode", arg_eq(1, FIONBIO)),
    allow_if("ioctl", "stdio's isatty()", arg_eq(1, TCGETS)),
};

}  // namespace sipmasq
