// Starting a child: fork, then exec its binary with the channel to the
// parent on a fixed descriptor and every other descriptor closed.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace sipmasq {

// The descriptor on which every child finds its channel to the parent.
inline constexpr int kChildChannelFd = 3;

// Where the children's binaries are: beside the build tree's parent when
// sipmasq runs from its build directory, else the installed libexec path.
[[nodiscard]] std::string child_binary_path(const char* name);

// Resource limits a child gets between fork and exec (soft = hard, so the
// child cannot raise them again).
struct ChildLimits {
    rlim_t address_space = 0;  // RLIMIT_AS, bytes
    rlim_t file_size = 0;      // RLIMIT_FSIZE, bytes: the largest file it may write
    rlim_t open_files = 0;     // RLIMIT_NOFILE (at most the parent's); 0: the parent's
};

// sipd keeps the registration file (64 MiB is far beyond any table) and a
// few MiB of libosip2 and libevent; rtpd writes no file at all. Both may
// never dump core (a core holds SIP passwords and call data) and never fork
// (RLIMIT_NPROC 0 for their unprivileged uid; root is exempt until they
// drop to it).
[[nodiscard]] ChildLimits sipd_limits() noexcept;
// An rtpd worker gets the descriptors its slice of `pairs` port pairs
// needs (four a forward and some aside), so each worker has a budget of
// its own and no worker can take another's.
[[nodiscard]] ChildLimits rtpd_limits(uint32_t pairs) noexcept;

// Forks and execs `path` with `args`; the child gets `channel_fd` as fd 3,
// stdin on /dev/null, stdout and stderr on `output_fd` (a pipe the parent
// reads, so nothing a child prints reaches the terminal or the journal
// raw), and `limits`. Returns the pid or -errno.
[[nodiscard]] pid_t spawn_child(const std::string& path, const std::vector<std::string>& args,
                                int channel_fd, int output_fd, const ChildLimits& limits);

}  // namespace sipmasq
