// sipd: a single-threaded libevent (epoll) + libosip2 process that parses
// untrusted SIP, keeps the registration file in its jail, resolves names
// with libevent's evdns and its own SRV queries (UDP only; glibc's resolver
// runs only before the filter, for host_outbound), carries SIP over TCP
// (accepts on the listeners the parent bound, connects out to next hops)
// and talks to rtpd and the parent over inherited Unix sockets. Everything
// it opens or creates itself is in its jail; it never executes, forks,
// binds, or opens a Unix, netlink or raw socket, and sets no socket option.
// The event base and evdns's nameserver sockets exist before the filter is
// loaded.
#include "sandbox_policy.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <cerrno>

namespace sipmasq {
namespace {

// The socket type without SOCK_NONBLOCK / SOCK_CLOEXEC.
constexpr long long kSockTypeMask = ~static_cast<long long>(SOCK_NONBLOCK | SOCK_CLOEXEC);

constexpr SyscallRule kSipdRules[] = {
    // I/O on the descriptors it holds.
    allow("read", "channels, registration file, resolver files"),
    allow("write", "channels, registration file, stderr"),
    allow("readv", "libevent and stdio buffers"),
    allow("writev", "libevent and stdio buffers"),
    allow("close", "every descriptor it opens"),
    // Networking: SIP datagrams, IPC messages with fds, DNS.
    allow("recvfrom", "SIP datagrams, DNS answers"),
    allow("sendto", "SIP datagrams, DNS queries"),
    allow("recvmsg", "IPC messages (with SCM_RIGHTS) from parent and rtpd"),
    allow("sendmsg", "IPC messages to parent and rtpd, LOG lines"),
    // Only UDP with protocol 0, as evdns and the SRV lookup open it.
    allow_if("socket", "SRV queries and evdns over UDP (IPv4)", arg_eq(0, AF_INET),
             arg_masked_eq(1, kSockTypeMask, SOCK_DGRAM), arg_eq(2, 0)),
    allow_if("socket", "SRV queries and evdns over UDP (IPv6)", arg_eq(0, AF_INET6),
             arg_masked_eq(1, kSockTypeMask, SOCK_DGRAM), arg_eq(2, 0)),
    // SIP over TCP: plain TCP sockets to next hops, accepted connections
    // non-blocking and close-on-exec like every descriptor sipd opens.
    allow_if("socket", "SIP over TCP to a next hop (IPv4)", arg_eq(0, AF_INET),
             arg_masked_eq(1, kSockTypeMask, SOCK_STREAM), arg_eq(2, 0)),
    allow_if("socket", "SIP over TCP to a next hop (IPv6)", arg_eq(0, AF_INET6),
             arg_masked_eq(1, kSockTypeMask, SOCK_STREAM), arg_eq(2, 0)),
    allow_if("accept4", "SIP TCP connections on the parent's listeners, non-blocking",
             arg_eq(3, SOCK_NONBLOCK | SOCK_CLOEXEC)),
    allow("connect", "TCP to a next hop, and an SRV query's socket hears only its DNS server"),
    allow("getsockname", "its own SIP addresses"),
    allow_if("getsockopt", "SO_ERROR after a failed send or a TCP connect", arg_eq(1, SOL_SOCKET),
             arg_eq(2, SO_ERROR)),
    // The event loop (libevent, epoll backend; the base is created before the filter).
    allow("epoll_create1", "a second event base (e.g. after a restart of a module)"),
    allow("epoll_ctl", "libevent adds and removes events"),
    allow("epoll_wait", "libevent dispatch"),
    allow("epoll_pwait", "libevent dispatch (glibc may use it for epoll_wait)"),
    allow("epoll_pwait2", "libevent dispatch on newer glibc"),
    allow("timerfd_settime", "libevent's precise timer, if enabled"),
    allow("timerfd_gettime", "libevent's precise timer, if enabled"),
    // Time.
    allow("clock_gettime", "timers and timestamps (vDSO fallback)"),
    allow("clock_getres", "libevent probes the monotonic clock"),
    allow("gettimeofday", "libevent and osip timestamps (vDSO fallback)"),
    allow("time", "expiry of registrations (vDSO fallback)"),
    allow("nanosleep", "short back-off sleeps"),
    allow("clock_nanosleep", "glibc's nanosleep"),
    // Process and signals.
    allow("getpid", "log lines, osip's random seed"),
    allow("gettid", "glibc abort()"),
    allow("getppid", "checks that the parent is still there"),
    allow("getuid", "glibc"),
    allow("geteuid", "glibc"),
    allow("getgid", "glibc"),
    allow("getegid", "glibc"),
    allow("uname", "glibc gethostname(), osip"),
    allow("getrusage", "STATS: CPU time"),
    allow("getrandom", "tags, branches, Call-IDs, digest nonces"),
    allow("rt_sigreturn", "return from signal handlers"),
    allow("rt_sigprocmask", "libevent signal handling, glibc"),
    allow("rt_sigaction", "libevent signal events"),
    allow("restart_syscall", "a call interrupted by a signal resumes"),
    allow_if("tgkill", "abort() raises SIGABRT on itself (no other process, no other signal)",
             arg_self_pid(0), arg_self_pid(1), arg_eq(2, SIGABRT)),
    allow("futex", "glibc locks (contended only, which a single thread never is)"),
    allow_if("prctl", "naming the process", arg_eq(0, PR_SET_NAME)),
    allow_if("prctl", "reading the process name", arg_eq(0, PR_GET_NAME)),
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
    // Files, all inside the jail: the registration file (written to a
    // temporary and renamed). resolv.conf and hosts are read before the filter.
    allow("openat", "registration file and its temporary"),
    allow("newfstatat", "stat() of the registration file; fstat()"),
    allow("fstat", "stdio on an opened file"),
    allow("lseek", "stdio on an opened file"),
    allow("fsync", "registration file reaches the disk before the rename"),
    allow("fdatasync", "registration file reaches the disk before the rename"),
    allow("ftruncate", "registration file rewritten in place"),
    allow("rename", "glibc rename() of the registration file's temporary"),
    allow("renameat", "registration file: atomic replace through a directory fd"),
    allow("renameat2", "registration file: atomic replace (newer glibc)"),
    allow("unlink", "glibc unlink() of a stale temporary"),
    allow("unlinkat", "removing a stale temporary through a directory fd"),
    allow_if("fcntl", "libevent: O_NONBLOCK", arg_eq(1, F_GETFL)),
    allow_if("fcntl", "libevent: O_NONBLOCK", arg_eq(1, F_SETFL)),
    allow_if("fcntl", "libevent: FD_CLOEXEC", arg_eq(1, F_GETFD)),
    allow_if("fcntl", "libevent: FD_CLOEXEC", arg_eq(1, F_SETFD)),
    allow_if("ioctl", "libevent: bytes waiting on a socket", arg_eq(1, FIONREAD)),
    allow_if("ioctl", "non-blocking mode", arg_eq(1, FIONBIO)),
    allow_if("ioctl", "stdio's isatty()", arg_eq(1, TCGETS)),
};

}  // namespace

std::span<const SyscallRule> sipd_syscall_rules() noexcept {
    return kSipdRules;
}

}  // namespace sipmasq
