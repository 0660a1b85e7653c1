// Runs a function in a forked child and reports how the child ended, with
// what it wrote to stderr: the sandbox tests judge deaths, so each
// misbehaving call happens in a process of its own.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

namespace sipmasq::test {

struct ChildResult {
    int status = 0;          // as from waitpid
    bool timed_out = false;  // killed by the parent after the time limit
    std::string err;         // the child's stderr
};

// The child runs `body` and _exit()s with its return value; it never returns
// into the test framework. The parent waits at most `limit_ms`.
[[nodiscard]] ChildResult run_in_child(const std::function<int()>& body, int limit_ms = 10000);

// Waits for `pid` at most `limit_ms`, then SIGKILLs it (only that pid).
[[nodiscard]] int wait_bounded(pid_t pid, int limit_ms, bool& timed_out);

[[nodiscard]] bool died_by_signal(const ChildResult& result, int sig);
[[nodiscard]] bool exited_with(const ChildResult& result, int code);
[[nodiscard]] std::string describe(const ChildResult& result);

}  // namespace sipmasq::test
