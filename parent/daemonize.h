// Detaching from the terminal, the classic double fork.
#pragma once

namespace sipmasq {

// Forks twice with setsid in between, chdir("/"), and points stdin,
// stdout and stderr at /dev/null. Returns false (errno set) on failure.
[[nodiscard]] bool daemonize() noexcept;

}  // namespace sipmasq
