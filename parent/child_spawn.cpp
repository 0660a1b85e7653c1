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

pid_t spawn_child(const std::string& path, const std::vector<std::string>& args, int channel_fd) {
    // Everything exec needs is prepared before fork: the child may only
    // call async-signal-safe functions.
    std::vector<char*> argv;
    argv.reserve(args.size() + 2);
    argv.push_back(const_cast<char*>(path.c_str()));
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    char empty_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    char* envp[] = {empty_env, nullptr};

    const pid_t pid = ::fork();
    if (pid < 0) return -errno;
    if (pid > 0) return pid;

    // Child: fd 3 is the channel, fd 0 is /dev/null, the rest is closed.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);
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
    ::syscall(SYS_close_range, kChildChannelFd + 1, ~0U, 0U);
    ::execve(path.c_str(), argv.data(), envp);
    _exit(127);
}

}  // namespace sipmasq
