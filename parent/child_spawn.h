// Starting a child: fork, then exec its binary with the channel to the
// parent on a fixed descriptor and every other descriptor closed.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sipmasq {

// The descriptor on which every child finds its channel to the parent.
inline constexpr int kChildChannelFd = 3;

// Where the children's binaries are: beside the build tree's parent when
// sipmasq runs from its build directory, else the installed libexec path.
[[nodiscard]] std::string child_binary_path(const char* name);

// Forks and execs `path` with `args`; the child gets `channel_fd` as fd 3,
// stdin on /dev/null, stdout and stderr inherited. Returns the pid or -errno.
[[nodiscard]] pid_t spawn_child(const std::string& path, const std::vector<std::string>& args,
                                int channel_fd);

}  // namespace sipmasq
