// The seccomp allow-lists of sipd and rtpd: in a forked child the list is
// loaded (enforce, whatever the build's mode) and then a forbidden call made
// with raw syscall() must kill the child by SIGSYS, while its allowed twin
// exits 0. Smoke tests prove libevent, glibc and the resolver still work.
#include <event2/event.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "build_config.h"
#include "child_process.h"
#include "event_ptr.h"
#include "privdrop.h"
#include "rtpd/sandbox_policy.h"
#include "seccomp_filter.h"
#include "sipd/sandbox_policy.h"
#include "unique_fd.h"

namespace sipmasq {
namespace {

using test::describe;
using test::died_by_signal;
using test::exited_with;
using test::run_in_child;

using Rules = std::span<const SyscallRule>;
using Call = std::function<long()>;

// Loads `rules` (enforce) in a child, then makes `call`; the child exits 0
// when the call returned (whatever it returned) and 1 when it failed with
// errno != 0 and `must_succeed` is set.
test::ChildResult run_call(Rules rules, const Call& call, bool must_succeed = true,
                           SandboxMode mode = SandboxMode::Enforce) {
    return run_in_child([&] {
        load_seccomp(rules, mode);
        errno = 0;
        const long r = call();
        if (must_succeed && r < 0) return 1;
        return 0;
    });
}

long raw_socket(int domain, int type) {
    return ::syscall(SYS_socket, domain, type, 0);
}

// --- What both processes must never do ------------------------------------

struct Forbidden {
    const char* what;
    Call call;
};

std::vector<Forbidden> forbidden_for_both() {
    static char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
    static char* const envp[] = {nullptr};
    return {
        {"execve", [] { return ::syscall(SYS_execve, "/nonexistent/sipmasq-test", argv, envp); }},
        {"execveat",
         [] {
             return ::syscall(SYS_execveat, AT_FDCWD, "/nonexistent/sipmasq-test", argv, envp, 0);
         }},
        {"fork", [] { return ::syscall(SYS_fork); }},
        {"vfork", [] { return ::syscall(SYS_vfork); }},
        {"clone", [] { return ::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); }},
        {"ptrace", [] { return ::syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0); }},
        {"socket(AF_UNIX)", [] { return raw_socket(AF_UNIX, SOCK_DGRAM); }},
        {"socket(AF_UNIX, SOCK_STREAM)", [] { return raw_socket(AF_UNIX, SOCK_STREAM); }},
        {"socket(AF_NETLINK, SOCK_DGRAM)",
         [] { return ::syscall(SYS_socket, AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE); }},
        {"socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT)",
         [] { return ::syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT); }},
        {"socket(AF_PACKET)", [] { return raw_socket(AF_PACKET, SOCK_RAW); }},
        {"socket(AF_INET, SOCK_RAW)", [] { return raw_socket(AF_INET, SOCK_RAW); }},
        {"socketpair",
         [] {
             int sv[2];
             return ::syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv);
         }},
        {"mmap(PROT_EXEC)",
         [] {
             return ::syscall(SYS_mmap, nullptr, 4096, PROT_READ | PROT_EXEC,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
         }},
        {"mprotect(PROT_EXEC)",
         [] {
             void* page =
                 ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
             return ::syscall(SYS_mprotect, page, 4096, PROT_READ | PROT_EXEC);
         }},
        {"setuid", [] { return ::syscall(SYS_setuid, 0); }},
        {"chroot", [] { return ::syscall(SYS_chroot, "/"); }},
        {"mount", [] { return ::syscall(SYS_mount, "none", "/", "tmpfs", 0, nullptr); }},
        {"kill", [] { return ::syscall(SYS_kill, 1, 0); }},
        {"unshare", [] { return ::syscall(SYS_unshare, CLONE_NEWUSER); }},
        {"fcntl(F_SETOWN)", [] { return ::syscall(SYS_fcntl, 0, F_SETOWN, 1); }},
        {"ioctl(TIOCSTI)",
         [] {
             char c = 'x';
             return ::syscall(SYS_ioctl, 0, TIOCSTI, &c);
         }},
        {"prctl(PR_SET_DUMPABLE)",
         [] { return ::syscall(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0); }},
        {"tgkill(SIGKILL)", [] { return ::syscall(SYS_tgkill, ::getpid(), ::gettid(), SIGKILL); }},
        // tgkill is pinned to the process itself (its pid when the filter
        // was loaded): SIGABRT to anyone else dies.
        {"tgkill(init, SIGABRT)", [] { return ::syscall(SYS_tgkill, 1, 1, SIGABRT); }},
        {"tgkill(parent, SIGABRT)",
         [] { return ::syscall(SYS_tgkill, ::getppid(), ::getppid(), SIGABRT); }},
        // Only UDP with protocol 0: a ping socket is a datagram socket too.
        {"socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)",
         [] { return ::syscall(SYS_socket, AF_INET, SOCK_DGRAM, IPPROTO_ICMP); }},
        {"socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6)",
         [] { return ::syscall(SYS_socket, AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6); }},
        {"socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE)",
         [] { return ::syscall(SYS_socket, AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE); }},
        // A positive PROT_* mask: any flag but read and write dies, not only exec.
        {"mmap(PROT_READ|PROT_SEM)",
         [] {
             return ::syscall(SYS_mmap, nullptr, 4096, PROT_READ | 0x8 /* PROT_SEM */,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
         }},
        {"mprotect(PROT_READ|PROT_GROWSDOWN)",
         [] {
             void* page =
                 ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
             return ::syscall(SYS_mprotect, page, 4096, PROT_READ | PROT_GROWSDOWN);
         }},
        {"setsockopt(SO_REUSEADDR)",
         [] {
             const int one = 1;
             return ::syscall(SYS_setsockopt, 0, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
         }},
        // The x32 ABI shares x86_64's audit arch: its numbers must not pass.
        {"x32 getpid", [] { return ::syscall(SYS_getpid | 0x40000000); }},
    };
}

void expect_all_killed(Rules rules, const std::vector<Forbidden>& calls) {
    for (const auto& forbidden : calls) {
        const auto result = run_call(rules, forbidden.call, false);
        EXPECT_TRUE(died_by_signal(result, SIGSYS)) << forbidden.what << ": " << describe(result);
    }
}

void expect_all_allowed(Rules rules, const std::vector<Forbidden>& calls) {
    for (const auto& allowed : calls) {
        const auto result = run_call(rules, allowed.call, true);
        EXPECT_TRUE(exited_with(result, 0)) << allowed.what << ": " << describe(result);
    }
}

// The allowed twins both lists share.
std::vector<Forbidden> allowed_for_both() {
    return {
        {"getpid", [] { return ::syscall(SYS_getpid); }},
        {"clock_gettime",
         [] {
             timespec ts{};
             return ::syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
         }},
        {"epoll_create1", [] { return ::syscall(SYS_epoll_create1, EPOLL_CLOEXEC); }},
        {"socket(AF_INET, SOCK_DGRAM)", [] { return raw_socket(AF_INET, SOCK_DGRAM); }},
        {"socket(AF_INET, SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC)",
         [] { return raw_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC); }},
        {"socket(AF_INET6, SOCK_DGRAM|SOCK_NONBLOCK)",
         [] {
             const long fd = raw_socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK);
             // A host without IPv6 answers EAFNOSUPPORT: still not killed.
             return fd < 0 && errno == EAFNOSUPPORT ? 0 : fd;
         }},
        {"mmap(PROT_NONE)",
         [] {
             return ::syscall(SYS_mmap, nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                              0) == -1
                        ? -1L
                        : 0L;
         }},
        {"mprotect(PROT_READ)",
         [] {
             void* page =
                 ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
             return ::syscall(SYS_mprotect, page, 4096, PROT_READ);
         }},
        {"mmap(PROT_READ|PROT_WRITE)",
         [] {
             return ::syscall(SYS_mmap, nullptr, 1 << 20, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == -1
                        ? -1L
                        : 0L;
         }},
        {"malloc+free of 4 MiB",
         [] {
             void* block = std::malloc(4 << 20);
             std::memset(block, 1, 4 << 20);
             std::free(block);
             return block != nullptr ? 0L : -1L;
         }},
        {"fcntl(F_GETFL)", [] { return ::syscall(SYS_fcntl, 2, F_GETFL); }},
        {"getrandom",
         [] {
             char buf[16];
             return ::syscall(SYS_getrandom, buf, sizeof buf, 0);
         }},
        {"write(stderr)", [] { return ::syscall(SYS_write, 2, "", 0); }},
        {"exit_group", [] { return ::syscall(SYS_exit_group, 0); }},
    };
}

// --- sipd ------------------------------------------------------------------

TEST(SipdSandbox, ForbiddenCallsDieBySigsys) {
    expect_all_killed(sipd_syscall_rules(), forbidden_for_both());
}

TEST(SipdSandbox, AllowedTwinsExitZero) {
    auto calls = allowed_for_both();
    calls.push_back({"openat", [] {
                         return ::syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);
                     }});
    // SIP over TCP: the twins of the forbidden variants below.
    calls.push_back({"socket(AF_INET, SOCK_STREAM)", [] {
                         return ::syscall(SYS_socket, AF_INET,
                                          SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                     }});
    calls.push_back(
        {"socket(AF_INET6, SOCK_STREAM)", [] { return raw_socket(AF_INET6, SOCK_STREAM); }});
    calls.push_back({"accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)", [] {
                         const int fd = socket(AF_INET, SOCK_STREAM, 0);
                         // Not listening: EINVAL, but the call itself is let through.
                         return ::syscall(SYS_accept4, fd, nullptr, nullptr,
                                          SOCK_NONBLOCK | SOCK_CLOEXEC) < 0 &&
                                        errno == EINVAL
                                    ? 0
                                    : -1;
                     }});
    calls.push_back({"connect(UDP)", [] {
                         const int fd = socket(AF_INET, SOCK_DGRAM, 0);
                         sockaddr_in to{};
                         to.sin_family = AF_INET;
                         to.sin_port = htons(53);
                         to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                         return ::syscall(SYS_connect, fd, &to, sizeof to);
                     }});
    expect_all_allowed(sipd_syscall_rules(), calls);
}

// What only glibc's resolver needed is gone: sipd resolves with evdns and
// its own SRV queries over UDP, and sets no socket option. (sendmmsg is
// back, in the base table: sipd batches its SIP sends.)
TEST(SipdSandbox, WhatOnlyGlibcsResolverNeededDiesBySigsys) {
    expect_all_killed(
        sipd_syscall_rules(),
        {{"socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP)",
          [] { return ::syscall(SYS_socket, AF_INET, SOCK_STREAM, IPPROTO_SCTP); }},
         {"socket(AF_INET, SOCK_SEQPACKET)", [] { return raw_socket(AF_INET, SOCK_SEQPACKET); }},
         {"accept", [] { return ::syscall(SYS_accept, 0, nullptr, nullptr); }},
         {"accept4 blocking", [] { return ::syscall(SYS_accept4, 0, nullptr, nullptr, 0); }},
         {"listen", [] { return ::syscall(SYS_listen, 0, 1); }},
         {"nscd probe",
          [] {
              return ::syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
          }},
         {"netlink probe",
          [] { return ::syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE); }},
         {"bind", [] { return ::syscall(SYS_bind, 0, nullptr, 0); }},
         {"poll", [] { return ::syscall(SYS_poll, nullptr, 0, 0); }},
         {"ppoll", [] { return ::syscall(SYS_ppoll, nullptr, 0, nullptr, nullptr, 0); }},
         {"recvmmsg", [] { return ::syscall(SYS_recvmmsg, 0, nullptr, 0, 0, nullptr); }},
         {"getpeername", [] { return ::syscall(SYS_getpeername, 0, nullptr, nullptr); }},
         {"setsockopt(IP_TOS)",
          [] {
              const int tos = 0;
              return ::syscall(SYS_setsockopt, 0, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
          }},
         {"getsockopt(SO_TYPE)", [] {
              int type = 0;
              socklen_t len = sizeof type;
              return ::syscall(SYS_getsockopt, 0, SOL_SOCKET, SO_TYPE, &type, &len);
          }}});
}

// The allowed twin of the tgkill pin: abort() on itself still raises SIGABRT
// (and dies by it, not by SIGSYS).
TEST(SandboxBoth, AbortOnItselfStillRaisesSigabrt) {
    for (const Rules rules : {sipd_syscall_rules(), rtpd_syscall_rules()}) {
        const auto result = run_in_child([rules] {
            load_seccomp(rules, SandboxMode::Enforce);
            ::syscall(SYS_tgkill, ::getpid(), ::gettid(), SIGABRT);
            return 0;
        });
        EXPECT_TRUE(died_by_signal(result, SIGABRT)) << describe(result);
    }
}

// The same probes kill rtpd, which resolves nothing either.
TEST(RtpdSandbox, GlibcResolverProbesDieBySigsys) {
    expect_all_killed(
        rtpd_syscall_rules(),
        {{"nscd probe",
          [] {
              return ::syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
          }},
         {"netlink probe", [] {
              return ::syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
          }}});
}

TEST(SipdSandbox, SeccompModeIsFilterInProcStatus) {
    const auto result = run_in_child([] {
        load_seccomp(sipd_syscall_rules(), SandboxMode::Enforce);
        std::FILE* status = std::fopen("/proc/self/status", "re");
        if (status == nullptr) return 2;
        char line[256];
        int seccomp = -1;
        while (std::fgets(line, sizeof line, status) != nullptr) {
            if (std::sscanf(line, "Seccomp: %d", &seccomp) == 1) break;
        }
        std::fclose(status);
        return seccomp == 2 ? 0 : 3;
    });
    EXPECT_TRUE(exited_with(result, 0)) << describe(result);
}

// --- rtpd ------------------------------------------------------------------

TEST(RtpdSandbox, ForbiddenCallsDieBySigsys) {
    auto calls = forbidden_for_both();
    calls.push_back({"openat", [] {
                         return ::syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);
                     }});
    calls.push_back({"open", [] { return ::syscall(SYS_open, "/dev/null", O_RDONLY); }});
    calls.push_back({"newfstatat(path)", [] {
                         struct stat st {};
                         return ::syscall(SYS_newfstatat, AT_FDCWD, "/etc/passwd", &st, 0);
                     }});
    calls.push_back(
        {"socket(AF_INET, SOCK_STREAM)", [] { return raw_socket(AF_INET, SOCK_STREAM); }});
    calls.push_back({"connect", [] { return ::syscall(SYS_connect, 0, nullptr, 0); }});
    calls.push_back({"setsockopt(IP_MTU_DISCOVER)", [] {
                         const int v = 0;
                         return ::syscall(SYS_setsockopt, 0, IPPROTO_IP, IP_MTU_DISCOVER, &v,
                                          sizeof v);
                     }});
    calls.push_back({"setsockopt(SO_SNDBUF)", [] {
                         const int v = 1 << 16;
                         return ::syscall(SYS_setsockopt, 0, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
                     }});
    // Only the SOL_SOCKET options in the table: a relay never broadcasts.
    calls.push_back({"setsockopt(SO_BROADCAST)", [] {
                         const int one = 1;
                         return ::syscall(SYS_setsockopt, 0, SOL_SOCKET, SO_BROADCAST, &one,
                                          sizeof one);
                     }});
    calls.push_back(
        {"unlinkat", [] { return ::syscall(SYS_unlinkat, AT_FDCWD, "/nonexistent", 0); }});
    calls.push_back({"getuid", [] { return ::syscall(SYS_getuid); }});
    calls.push_back({"getppid", [] { return ::syscall(SYS_getppid); }});
    calls.push_back({"pipe2", [] {
                         int fds[2];
                         return ::syscall(SYS_pipe2, fds, O_CLOEXEC);
                     }});
    expect_all_killed(rtpd_syscall_rules(), calls);
}

TEST(RtpdSandbox, AllowedTwinsExitZero) {
    auto calls = allowed_for_both();
    calls.push_back({"fstat(stderr)", [] {
                         struct stat st {};
                         return ::syscall(SYS_newfstatat, 2, "", &st, AT_EMPTY_PATH);
                     }});
    calls.push_back({"setsockopt(SO_RCVBUF)", [] {
                         const int fd = socket(AF_INET, SOCK_DGRAM, 0);
                         const int size = 1 << 16;
                         return ::syscall(SYS_setsockopt, fd, SOL_SOCKET, SO_RCVBUF, &size,
                                          sizeof size);
                     }});
    calls.push_back({"setsockopt(IP_TOS)", [] {
                         const int fd = socket(AF_INET, SOCK_DGRAM, 0);
                         const int tos = 0xb8;
                         return ::syscall(SYS_setsockopt, fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
                     }});
    // Each relay socket sees only its side's interface.
    calls.push_back({"setsockopt(SO_BINDTODEVICE)", [] {
                         const int fd = socket(AF_INET, SOCK_DGRAM, 0);
                         return ::syscall(SYS_setsockopt, fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 2);
                     }});
    expect_all_allowed(rtpd_syscall_rules(), calls);
}

// --- Modes -----------------------------------------------------------------

int g_trap_pipe = -1;

void forward_trap_line(const char* line, std::size_t len) noexcept {
    [[maybe_unused]] const ssize_t n = ::write(g_trap_pipe, line, len);
}

TEST(SandboxModes, TrapNamesTheDeniedCallOnStderrAndToTheReporter) {
    for (const Rules rules : {sipd_syscall_rules(), rtpd_syscall_rules()}) {
        int fds[2];
        ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
        UniqueFd read_end(fds[0]), write_end(fds[1]);
        g_trap_pipe = write_end.get();
        const auto result = run_in_child([rules] {
            set_seccomp_trap_reporter(forward_trap_line);
            load_seccomp(rules, SandboxMode::Trap);
            static char* const argv[] = {nullptr};
            ::syscall(SYS_execve, "/bin/true", argv, argv);
            return 0;  // not reached
        });
        write_end.reset();
        std::string hooked;
        char buf[256];
        ssize_t n = 0;
        while ((n = ::read(read_end.get(), buf, sizeof buf)) > 0)
            hooked.append(buf, static_cast<size_t>(n));

        EXPECT_TRUE(exited_with(result, kSeccompTrapExit)) << describe(result);
        const std::string expected =
            "seccomp: denied system call execve (" + std::to_string(SYS_execve) + ")";
        EXPECT_NE(result.err.find(expected + "\n"), std::string::npos) << result.err;
        EXPECT_EQ(hooked, expected);
    }
}

TEST(SandboxModes, LogLetsADeniedCallThrough) {
    // getppid is not in rtpd's list: in log mode the kernel only audits it.
    const auto result = run_call(
        rtpd_syscall_rules(), [] { return ::syscall(SYS_getppid); }, true, SandboxMode::Log);
    EXPECT_TRUE(exited_with(result, 0)) << describe(result);
    const auto enforced = run_call(rtpd_syscall_rules(), [] { return ::syscall(SYS_getppid); });
    EXPECT_TRUE(died_by_signal(enforced, SIGSYS)) << describe(enforced);
}

TEST(SandboxModes, OffLoadsNoFilter) {
    const auto result = run_in_child([] {
        load_seccomp(rtpd_syscall_rules(), SandboxMode::Off);
        // A call no list allows, and then the proof that no filter is there.
        if (::syscall(SYS_getppid) <= 0) return 2;
        std::ifstream status("/proc/self/status");
        std::string line;
        while (std::getline(status, line)) {
            if (line.rfind("Seccomp:", 0) == 0) return line.find('0') != std::string::npos ? 0 : 3;
        }
        return 4;
    });
    EXPECT_TRUE(exited_with(result, 0)) << describe(result);
    EXPECT_NE(result.err.find("sandbox mode is off"), std::string::npos) << result.err;
}

TEST(SandboxModes, BuildModeFollowsMesonOption) {
    constexpr SandboxMode kExpected[] = {SandboxMode::Enforce, SandboxMode::Trap, SandboxMode::Log,
                                         SandboxMode::Off};
    EXPECT_EQ(build_sandbox_mode(), kExpected[SIPMASQ_SANDBOX_MODE]);
    EXPECT_STREQ(sandbox_mode_name(SandboxMode::Trap), "trap");
}

TEST(SandboxModes, UnknownSyscallNameIsSkippedNotFatal) {
    static constexpr SyscallRule kRules[] = {
        allow("no_such_call_anywhere", "test: skipped"),
        allow("socketcall", "test: not on x86_64, skipped there"),
        allow("exit_group", "test: the child's exit"),
        allow("write", "test: stderr"),
    };
    const auto result = run_in_child([] {
        load_seccomp(kRules, SandboxMode::Enforce);
        return 0;
    });
    EXPECT_TRUE(exited_with(result, 0)) << describe(result);
}

// --- Smoke: the libraries the daemons use still work under the filter ------

void on_timer(evutil_socket_t, short, void* arg) noexcept {
    *static_cast<int*>(arg) += 1;
}

// Creates the base (before the filter, as the daemons do), loads `rules`,
// runs a 1 ms timer through one dispatch, then hands the base to `then`.
int timer_under_filter(Rules rules, const std::function<int(event_base*)>& then) {
    EventBasePtr base(event_base_new());
    if (!base) return 10;
    load_seccomp(rules, SandboxMode::Enforce);
    int fired = 0;
    EventPtr timer(evtimer_new(base.get(), on_timer, &fired));
    const timeval one_ms{0, 1000};
    if (!timer || evtimer_add(timer.get(), &one_ms) != 0) return 11;
    // A signal event too: libevent installs its handler with rt_sigaction.
    EventPtr usr1(evsignal_new(base.get(), SIGUSR1, on_timer, &fired));
    if (!usr1 || event_add(usr1.get(), nullptr) != 0) return 12;
    if (event_base_loop(base.get(), EVLOOP_ONCE) != 0) return 13;
    if (fired != 1) return 14;
    usr1.reset();
    timer.reset();
    return then ? then(base.get()) : 0;
}

TEST(SipdSandbox, SmokeEventLoopFilesAndSockets) {
    char tmpl[] = "/tmp/sipmasq-sipd-smoke-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = tmpl;
    // The DNS server's side is made before the filter (sipd never binds).
    UniqueFd server(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(server.valid());
    sockaddr_in server_addr{};
    server_addr.sin_family = AF_INET;
    server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t server_len = sizeof server_addr;
    ASSERT_EQ(::bind(server.get(), reinterpret_cast<sockaddr*>(&server_addr), sizeof server_addr),
              0);
    ASSERT_EQ(::getsockname(server.get(), reinterpret_cast<sockaddr*>(&server_addr), &server_len),
              0);
    const auto result = run_in_child([&dir, &server, &server_addr] {
        const int rc = timer_under_filter(sipd_syscall_rules(), nullptr);
        if (rc != 0) return rc;
        // The registration file: temporary through a directory fd, fsync, rename.
        UniqueFd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!dirfd) return 20;
        UniqueFd tmp(::openat(dirfd.get(), "registrations.tmp",
                              O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!tmp) return 21;
        if (::write(tmp.get(), "alice\n", 6) != 6 || ::fsync(tmp.get()) != 0) return 22;
        tmp.reset();
        if (::renameat(dirfd.get(), "registrations.tmp", dirfd.get(), "registrations") != 0) {
            return 23;
        }
        // stdio reading it back, as a loader would.
        const std::string path = dir + "/registrations";
        std::FILE* in = std::fopen(path.c_str(), "re");
        if (in == nullptr) return 24;
        char line[32] = {};
        const bool read_ok = std::fgets(line, sizeof line, in) != nullptr;
        std::fclose(in);
        if (!read_ok || std::strcmp(line, "alice\n") != 0) return 25;
        if (std::rename(path.c_str(), (dir + "/old").c_str()) != 0) return 26;
        if (::unlinkat(dirfd.get(), "old", 0) != 0) return 27;
        // An SRV-style UDP exchange on loopback, as name_resolver.cpp does it.
        UniqueFd client(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!client) return 30;
        if (::connect(client.get(), reinterpret_cast<const sockaddr*>(&server_addr),
                      sizeof server_addr) != 0)
            return 33;
        if (::send(client.get(), "q", 1, 0) != 1) return 34;
        char byte = 0;
        if (::recv(server.get(), &byte, 1, 0) != 1 || byte != 'q') return 35;
        return 0;
    });
    ::rmdir(dir.c_str());
    EXPECT_TRUE(exited_with(result, 0)) << describe(result);
}

// rtpd's hot path on loopback: sendmmsg a batch to itself, wait through
// libevent, recvmmsg it back.
int batched_udp(event_base* base) {
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!sock) return 20;
    const int tos = 0xb8;  // EF
    const int size = 1 << 18;
    if (::setsockopt(sock.get(), IPPROTO_IP, IP_TOS, &tos, sizeof tos) != 0 ||
        ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size) != 0) {
        return 21;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 22;
    if (::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 23;

    constexpr unsigned kBatch = 4;
    std::array<std::array<char, 172>, kBatch> payloads{};
    std::array<iovec, kBatch> iovs{};
    std::array<mmsghdr, kBatch> msgs{};
    for (unsigned i = 0; i < kBatch; ++i) {
        payloads[i].fill(static_cast<char>('a' + i));
        iovs[i] = {payloads[i].data(), payloads[i].size()};
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &addr;
        msgs[i].msg_hdr.msg_namelen = sizeof addr;
    }
    if (::sendmmsg(sock.get(), msgs.data(), kBatch, 0) != static_cast<int>(kBatch)) return 24;

    // Wait for readability through libevent, as the relay does.
    int ready = 0;
    EventPtr readable(event_new(base, sock.get(), EV_READ, on_timer, &ready));
    const timeval limit{2, 0};
    if (!readable || event_add(readable.get(), &limit) != 0) return 26;
    if (event_base_loop(base, EVLOOP_ONCE) != 0 || ready != 1) return 27;

    std::array<std::array<char, 256>, kBatch> inbox{};
    std::array<sockaddr_in, kBatch> from{};
    for (unsigned i = 0; i < kBatch; ++i) {
        iovs[i] = {inbox[i].data(), inbox[i].size()};
        msgs[i] = mmsghdr{};
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    unsigned received = 0;
    for (int tries = 0; tries < 100 && received < kBatch; ++tries) {
        const int n = ::recvmmsg(sock.get(), msgs.data() + received, kBatch - received,
                                 MSG_DONTWAIT, nullptr);
        if (n > 0) received += static_cast<unsigned>(n);
    }
    if (received != kBatch) return 28;
    for (unsigned i = 0; i < kBatch; ++i) {
        if (msgs[i].msg_len != payloads[i].size() || inbox[i][0] != static_cast<char>('a' + i)) {
            return 29;
        }
    }
    return 0;
}

TEST(RtpdSandbox, SmokeEventLoopAndBatchedUdp) {
    const auto result =
        run_in_child([] { return timer_under_filter(rtpd_syscall_rules(), batched_udp); });
    EXPECT_TRUE(exited_with(result, 0)) << describe(result);
}

}  // namespace
}  // namespace sipmasq
