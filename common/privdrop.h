// The privilege drop of a child (DESIGN.md's order): chroot, setgroups,
// setresgid, setresuid, no capability left in any set, then proof that root
// cannot be regained, then PR_SET_NO_NEW_PRIVS. Every failure is fatal.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace sipmasq {

struct PrivDropSpec {
    std::string jail;  // absolute path of the chroot jail; "" = no chroot (warned)
    uid_t uid = 0;     // target user: never 0
    gid_t gid = 0;     // target group: never 0
};

// The exit status of a child whose privilege drop failed, so the parent can
// tell it from a crash.
inline constexpr int kPrivDropFailedExit = 71;

// Drops everything or _exit(kPrivDropFailedExit) after logging the step and
// strerror. Returns only when the process is unprivileged, jailed and
// cannot get root back. Needs root (or CAP_SYS_CHROOT, CAP_SETUID,
// CAP_SETGID, CAP_SETPCAP) to start with.
void drop_privileges(const PrivDropSpec& spec) noexcept;

// nullopt when `path` is fit to be a jail; else why not (not absolute,
// missing, not a directory, not owned by root, writable by group or others).
[[nodiscard]] std::optional<std::string> check_jail(const std::string& path);

}  // namespace sipmasq
