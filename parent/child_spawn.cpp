#include "child_spawn.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>

#include "build_config.h"

namespace sipmasq {

std::string child_binary_path(const char* name) {
    char self[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        const std::string exe(self);
        const std::string build_root = SIPMASQ_BUILD_ROOT;
        // Only a binary that is itself inside the build tree uses the
        // build tree's children; an installed sipmasq never does.
        if (exe.rfind(build_root + "/", 0) == 0) {
            const std::string dir = std::string(name) == "sipmasq-sipd" ? "sipd" : "rtpd";
            return build_root + "/" + dir + "/" + name;
        }
    }
    return std::string(SIPMASQ_LIBEXECDIR) + "/" + name;
}

namespace {

constexpr rlim_t kMiB = rlim_t{1024} * 1024;

// Async-signal-safe: called between fork and exec.
bool set_limit(int resource, rlim_t value) noexcept {
    const rlimit lim{value, value};
    return ::setrlimit(resource, &lim) == 0;
}

// A build with AddressSanitizer reserves terabytes of shadow memory; an
// address-space limit would stop it from starting at all.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kLimitAddressSpace = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kLimitAddressSpace = false;
#else
constexpr bool kLimitAddressSpace = true;
#endif
#else
constexpr bool kLimitAddressSpace = true;
#endif

}  // namespace

// Measured VmPeak under tests/daemon/media_resync_test (a call relayed,
// rtpd killed and restarted): sipd about 7 MiB, rtpd about 9 MiB. A forward
// costs rtpd 1.6-2 KiB (README), so even 20,000 of them stay far below the
// 1 GiB each child gets, while a runaway leak still ends in a failed
// allocation in that child rather than in the OOM killer's choice.
ChildLimits sipd_limits() noexcept {
    return ChildLimits{1024 * kMiB, 64 * kMiB};
}

ChildLimits rtpd_limits(uint32_t pairs) noexcept {
    // rtpd keeps 64 aside for its channels, stdio and libevent (rtpd/main.cpp).
    return ChildLimits{1024 * kMiB, 0, rlim_t{pairs} * 4 + 64};
}

pid_t spawn_child(const std::string& path, const std::vector<std::string>& args, int channel_fd,
                  int output_fd, const ChildLimits& limits) {
    // Everything exec needs is prepared before fork: the child may only
    // call async-signal-safe functions.
    std::vector<char*> argv;
    argv.reserve(args.size() + 2);
    argv.push_back(const_cast<char*>(path.c_str()));
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    char empty_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    // libosip2 allocates every header and parameter of every message, and
    // glibc's per-thread cache keeps only 7 free chunks of a size, so most
    // frees went to the arena's bins, and a 1 KiB allocation (a message's
    // text) then consolidated the fast bins. A deeper cache and no fast
    // bins cut sipd's CPU per call (README, Performance).
    char malloc_tuning[] = "GLIBC_TUNABLES=glibc.malloc.tcache_count=2000:glibc.malloc.mxfast=0";
    char* envp[] = {empty_env, malloc_tuning, nullptr};
    // Never above the parent's own ceiling: raising it needs a privilege
    // the parent may not have (CAP_SYS_RESOURCE), lowering it never does.
    rlim_t open_files = limits.open_files;
    if (rlimit own{}; open_files != 0 && ::getrlimit(RLIMIT_NOFILE, &own) == 0 &&
                      own.rlim_max != RLIM_INFINITY && open_files > own.rlim_max)
        open_files = own.rlim_max;

    const pid_t pid = ::fork();
    if (pid < 0) return -errno;
    if (pid > 0) return pid;

    // Child: fd 3 is the channel, fd 0 is /dev/null, 1 and 2 the output
    // pipe, the rest is closed.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) (void)signal(sig, SIG_DFL);
    // Output first: the parent's descriptors 0-2 are open, so neither pipe
    // nor channel is below 3, and the channel may then take 3.
    if (::dup2(output_fd, STDOUT_FILENO) < 0 || ::dup2(output_fd, STDERR_FILENO) < 0) _exit(126);
    if (channel_fd != kChildChannelFd) {
        if (::dup2(channel_fd, kChildChannelFd) < 0) _exit(126);
    } else {
        const int flags = ::fcntl(kChildChannelFd, F_GETFD);
        ::fcntl(kChildChannelFd, F_SETFD, flags & ~FD_CLOEXEC);
    }
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0 && devnull != 0) {
        ::dup2(devnull, 0);
        ::close(devnull);
    }
    // Every limit is fatal when it cannot be set: a child without them is
    // not the child sipmasq(8) describes.
    if (!set_limit(RLIMIT_CORE, 0) || !set_limit(RLIMIT_NPROC, 0) ||
        !set_limit(RLIMIT_FSIZE, limits.file_size) ||
        (kLimitAddressSpace && !set_limit(RLIMIT_AS, limits.address_space)) ||
        (open_files != 0 && !set_limit(RLIMIT_NOFILE, open_files)))
        _exit(126);
    ::syscall(SYS_close_range, kChildChannelFd + 1, ~0U, 0U);
    ::execve(path.c_str(), argv.data(), envp);
    _exit(127);
}

}  // namespace sipmasq
