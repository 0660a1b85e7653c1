// sipd: a single-threaded libevent (epoll) + libosip2 process that parses
// untrusted SIP, keeps the registration file in its jail, resolves names
// with libevent's evdns and its own SRV queries (UDP only; glibc's resolver
// runs only before the filter, for host_outbound), carries SIP over TCP
// (accepts on the listeners the parent bound, connects out to next hops)
// and talks to rtpd and the parent over inherited Unix sockets. Everything
// it opens or creates itself is in its jail; it never executes, forks,
// binds, or opens a Unix, netlink or raw socket, and sets no socket option.
// The event base and evdns's nameserver sockets exist before the filter is
// loaded. Its table is the children's base (common/seccomp_base.h) and the
// rules below.
#include "sandbox_policy.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "seccomp_base.h"

namespace sipmasq {
namespace {

constexpr SyscallRule kSipdOwnRules[] = {
    // SIP over TCP: plain TCP sockets to next hops, accepted connections
    // non-blocking and close-on-exec like every descriptor sipd opens.
    allow_if("socket", "SIP over TCP to a next hop (IPv4)", arg_eq(0, AF_INET),
             arg_masked_eq(1, kSockTypeMask, SOCK_STREAM), arg_eq(2, 0)),
    allow_if("socket", "SIP over TCP to a next hop (IPv6)", arg_eq(0, AF_INET6),
             arg_masked_eq(1, kSockTypeMask, SOCK_STREAM), arg_eq(2, 0)),
    allow_if("accept4", "SIP TCP connections on the parent's listeners, non-blocking",
             arg_eq(3, SOCK_NONBLOCK | SOCK_CLOEXEC)),
    allow("connect", "TCP to a next hop, and an SRV query's socket hears only its DNS server"),
    allow_if("getsockopt", "SO_ERROR after a failed send or a TCP connect", arg_eq(1, SOL_SOCKET),
             arg_eq(2, SO_ERROR)),
    // Process.
    allow("getppid", "checks that the parent is still there"),
    allow("getuid", "glibc"),
    allow("geteuid", "glibc"),
    allow("getgid", "glibc"),
    allow("getegid", "glibc"),
    allow("uname", "glibc gethostname(), osip"),
    allow_if("prctl", "reading the process name", arg_eq(0, PR_GET_NAME)),
    // Files, all inside the jail: the registration file (written to a
    // temporary and renamed). resolv.conf and hosts are read before the filter.
    allow("openat", "registration file and its temporary"),
    allow("newfstatat", "stat() of the registration file; fstat()"),
    allow("lseek", "stdio on an opened file"),
    allow("fsync", "registration file reaches the disk before the rename"),
    allow("fdatasync", "registration file reaches the disk before the rename"),
    allow("ftruncate", "registration file rewritten in place"),
    allow("rename", "glibc rename() of the registration file's temporary"),
    allow("renameat", "registration file: atomic replace through a directory fd"),
    allow("renameat2", "registration file: atomic replace (newer glibc)"),
    allow("unlink", "glibc unlink() of a stale temporary"),
    allow("unlinkat", "removing a stale temporary through a directory fd"),
};

constexpr auto kSipdRules = join_rules(kChildBaseRules, kSipdOwnRules);

}  // namespace

std::span<const SyscallRule> sipd_syscall_rules() noexcept {
    return kSipdRules;
}

}  // namespace sipmasq
