#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "clock.h"
#include "unique_fd.h"

namespace sipmasq::test {

int wait_bounded(pid_t pid, int limit_ms, bool& timed_out) {
    timed_out = false;
    int status = 0;
    for (int waited_ms = 0;; waited_ms += 5) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0) return -1;
        if (waited_ms >= limit_ms) {
            timed_out = true;
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return status;
        }
        const timespec pause{0, 5 * 1000 * 1000};
        ::nanosleep(&pause, nullptr);
    }
}

ChildResult run_in_child(const std::function<int()>& body, int limit_ms) {
    ChildResult result;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        result.status = -1;
        return result;
    }
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);
    const pid_t pid = ::fork();
    if (pid < 0) {
        result.status = -1;
        return result;
    }
    if (pid == 0) {
        ::dup2(write_end.get(), STDERR_FILENO);
        _exit(body());
    }
    write_end.reset();
    // Drain stderr while the child runs, so a chatty child cannot block.
    const int64_t deadline = monotonic_ms() + limit_ms;
    char buf[4096];
    for (;;) {
        const int64_t left = deadline - monotonic_ms();
        if (left <= 0) break;
        pollfd pfd{read_end.get(), POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(left)) <= 0) break;
        const ssize_t n = ::read(read_end.get(), buf, sizeof buf);
        if (n <= 0) break;
        result.err.append(buf, static_cast<size_t>(n));
    }
    const int64_t left = deadline - monotonic_ms();
    result.status = wait_bounded(pid, left > 0 ? static_cast<int>(left) : 0, result.timed_out);
    return result;
}

bool died_by_signal(const ChildResult& result, int sig) {
    return !result.timed_out && WIFSIGNALED(result.status) && WTERMSIG(result.status) == sig;
}

bool exited_with(const ChildResult& result, int code) {
    return !result.timed_out && WIFEXITED(result.status) && WEXITSTATUS(result.status) == code;
}

std::string describe(const ChildResult& result) {
    std::string text;
    if (result.timed_out) {
        text = "timed out";
    } else if (WIFEXITED(result.status)) {
        text = "exited " + std::to_string(WEXITSTATUS(result.status));
    } else if (WIFSIGNALED(result.status)) {
        text = std::string("killed by ") + strsignal(WTERMSIG(result.status));
    } else {
        text = "status " + std::to_string(result.status);
    }
    return text + "; stderr: " + result.err;
}

}  // namespace sipmasq::test
