#include "privdrop.h"

#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <type_traits>

#include "log.h"

namespace sipmasq {
namespace {

struct CapDeleter {
    void operator()(cap_t caps) const noexcept { cap_free(caps); }
};
using CapPtr = std::unique_ptr<std::remove_pointer_t<cap_t>, CapDeleter>;

// Capability numbers run to 63 at most; the kernel's last one answers
// PR_CAPBSET_READ, the next one EINVAL. Asking the kernel (not /proc, which
// the jail lacks, nor libcap's compiled-in list) covers a newer kernel too.
constexpr unsigned long kMaxCapabilities = 64;

[[noreturn]] void fail(const char* step, int err) noexcept {
    log_error("privilege drop failed at %s: %s", step, std::strerror(err));
    _exit(kPrivDropFailedExit);
}

[[noreturn]] void fail_check(const char* what) noexcept {
    log_error("privilege drop check failed: %s", what);
    _exit(kPrivDropFailedExit);
}

// Why `path` cannot be a jail, or nullptr.
const char* jail_problem(const char* path) noexcept {
    if (path[0] != '/') return "is not an absolute path";
    struct stat st {};
    if (::stat(path, &st) != 0) {
        return errno == ENOENT ? "does not exist" : "cannot be examined (stat failed)";
    }
    if (!S_ISDIR(st.st_mode)) return "is not a directory";
    if (st.st_uid != 0) return "is not owned by root";
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) return "is writable by group or others";
    return nullptr;
}

void enter_jail(const std::string& jail) noexcept {
    if (jail.empty()) {
        log_warning("no chroot jail configured: the process keeps the whole file system in view");
        return;
    }
    if (const char* problem = jail_problem(jail.c_str())) {
        log_error("privilege drop failed: jail %s %s", jail.c_str(), problem);
        _exit(kPrivDropFailedExit);
    }
    if (::chroot(jail.c_str()) != 0) fail("chroot", errno);
    if (::chdir("/") != 0) fail("chdir(\"/\")", errno);
}

// Empties the bounding set (so no exec could ever gain a capability back)
// and the ambient set; needs CAP_SETPCAP, so it runs while we are root.
void drop_bounding_and_ambient() noexcept {
    for (unsigned long cap = 0; cap < kMaxCapabilities; ++cap) {
        const int present = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (present < 0) {
            if (errno == EINVAL) break;  // past the kernel's last capability
            fail("prctl(PR_CAPBSET_READ)", errno);
        }
        if (present == 0) continue;
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) fail("prctl(PR_CAPBSET_DROP)", errno);
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
        fail("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", errno);
    }
    // Without KEEPCAPS, setresuid() away from 0 clears permitted/effective.
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) fail("prctl(PR_SET_KEEPCAPS, 0)", errno);
}

void clear_capabilities() noexcept {
    CapPtr caps(cap_get_proc());
    if (!caps) fail("cap_get_proc", errno);
    if (cap_clear(caps.get()) != 0) fail("cap_clear", errno);
    if (cap_set_proc(caps.get()) != 0) fail("cap_set_proc", errno);
}

// OpenSSH's habit: after the drop, try to get root back and die if it works.
void verify(const PrivDropSpec& spec) noexcept {
    if (::setuid(0) == 0) fail_check("setuid(0) succeeded");
    if (::setresuid(0, 0, 0) == 0) fail_check("setresuid(0, 0, 0) succeeded");
    if (::seteuid(0) == 0) fail_check("seteuid(0) succeeded");
    if (::setgid(0) == 0) fail_check("setgid(0) succeeded");
    if (::setegid(0) == 0) fail_check("setegid(0) succeeded");
    const gid_t root_group = 0;
    if (::setgroups(1, &root_group) == 0) fail_check("setgroups([0]) succeeded");

    uid_t ruid = 0, euid = 0, suid = 0;
    if (::getresuid(&ruid, &euid, &suid) != 0) fail("getresuid", errno);
    if (ruid != spec.uid || euid != spec.uid || suid != spec.uid) {
        fail_check("real, effective and saved uid are not all the target uid");
    }
    gid_t rgid = 0, egid = 0, sgid = 0;
    if (::getresgid(&rgid, &egid, &sgid) != 0) fail("getresgid", errno);
    if (rgid != spec.gid || egid != spec.gid || sgid != spec.gid) {
        fail_check("real, effective and saved gid are not all the target gid");
    }
    gid_t groups[2] = {};
    const int ngroups = ::getgroups(2, groups);
    if (ngroups < 0 && errno != EINVAL) fail("getgroups", errno);
    if (ngroups != 1 || groups[0] != spec.gid) {
        fail_check("supplementary groups are not exactly the target gid");
    }

    CapPtr now(cap_get_proc());
    if (!now) fail("cap_get_proc", errno);
    CapPtr empty(cap_init());
    if (!empty) fail("cap_init", errno);
    if (cap_compare(now.get(), empty.get()) != 0) {
        fail_check("a capability is left in the effective, permitted or inheritable set");
    }
    for (unsigned long cap = 0; cap < kMaxCapabilities; ++cap) {
        const int bound = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (bound < 0 && errno == EINVAL) break;
        if (bound != 0) fail_check("a capability is left in the bounding set");
        const int ambient = ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);
        if (ambient != 0) fail_check("a capability is left in the ambient set");
    }
}

}  // namespace

std::optional<std::string> check_jail(const std::string& path) {
    if (path.empty()) return std::string("is empty");
    if (const char* problem = jail_problem(path.c_str())) return std::string(problem);
    return std::nullopt;
}

void drop_privileges(const PrivDropSpec& spec) noexcept {
    if (spec.uid == 0 || spec.gid == 0) {
        log_error(
            "privilege drop refused: the target user and group must not be root (uid %u gid %u)",
            static_cast<unsigned>(spec.uid), static_cast<unsigned>(spec.gid));
        _exit(kPrivDropFailedExit);
    }
    enter_jail(spec.jail);
    if (::setgroups(1, &spec.gid) != 0) fail("setgroups", errno);
    if (::setresgid(spec.gid, spec.gid, spec.gid) != 0) fail("setresgid", errno);
    drop_bounding_and_ambient();
    if (::setresuid(spec.uid, spec.uid, spec.uid) != 0) fail("setresuid", errno);
    clear_capabilities();
    verify(spec);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("prctl(PR_SET_NO_NEW_PRIVS)", errno);
    if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) fail_check("no_new_privs is not set");
    log_info("privileges dropped: uid %u gid %u, jail %s", static_cast<unsigned>(spec.uid),
             static_cast<unsigned>(spec.gid), spec.jail.empty() ? "(none)" : spec.jail.c_str());
}

}  // namespace sipmasq
