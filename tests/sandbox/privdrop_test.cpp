// The privilege drop: check_jail's verdicts, the refusals, and (as root) a
// child that drops to nobody in a jail, examined from outside through
// /proc/PID while it waits.
#include "privdrop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "child_process.h"
#include "unique_fd.h"

namespace sipmasq {
namespace {

using test::describe;
using test::exited_with;
using test::run_in_child;

// A directory under /tmp, removed at the end of the test.
class TempDir {
  public:
    TempDir() {
        char tmpl[] = "/tmp/sipmasq-jail-XXXXXX";
        if (::mkdtemp(tmpl) != nullptr) path_ = tmpl;
    }
    ~TempDir() {
        if (!path_.empty()) {
            ::unlink((path_ + "/file").c_str());
            ::rmdir(path_.c_str());
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }

  private:
    std::string path_;
};

bool is_root() {
    return ::geteuid() == 0;
}

const passwd* nobody() {
    return ::getpwnam("nobody");
}

TEST(CheckJail, EmptyPathIsRefused) {
    const auto why = check_jail("");
    ASSERT_TRUE(why.has_value());
    EXPECT_NE(why->find("empty"), std::string::npos) << *why;
}

TEST(CheckJail, RelativePathIsRefused) {
    const auto why = check_jail("var/lib/sipmasq");
    ASSERT_TRUE(why.has_value());
    EXPECT_NE(why->find("absolute"), std::string::npos) << *why;
}

TEST(CheckJail, MissingDirectoryIsRefused) {
    const auto why = check_jail("/nonexistent/sipmasq-jail-that-is-not-there");
    ASSERT_TRUE(why.has_value());
    EXPECT_NE(why->find("does not exist"), std::string::npos) << *why;
}

TEST(CheckJail, RegularFileIsRefused) {
    TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    const std::string file = dir.path() + "/file";
    UniqueFd fd(::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd.valid());
    const auto why = check_jail(file);
    ASSERT_TRUE(why.has_value());
    EXPECT_NE(why->find("not a directory"), std::string::npos) << *why;
}

TEST(CheckJail, DirectoryNotOwnedByRootIsRefused) {
    TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    if (is_root()) {
        const passwd* pw = nobody();
        if (pw == nullptr) GTEST_SKIP() << "no user nobody on this machine";
        ASSERT_EQ(::chown(dir.path().c_str(), pw->pw_uid, pw->pw_gid), 0);
    }
    const auto why = check_jail(dir.path());
    ASSERT_TRUE(why.has_value());
    EXPECT_NE(why->find("not owned by root"), std::string::npos) << *why;
}

TEST(CheckJail, GroupOrOtherWritableDirectoryIsRefused) {
    if (!is_root()) GTEST_SKIP() << "needs root: the directory must be owned by root";
    TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    for (const mode_t mode : {mode_t{0775}, mode_t{0757}, mode_t{01777}}) {
        ASSERT_EQ(::chmod(dir.path().c_str(), mode), 0);
        const auto why = check_jail(dir.path());
        ASSERT_TRUE(why.has_value()) << "mode " << std::oct << mode;
        EXPECT_NE(why->find("writable by group or others"), std::string::npos) << *why;
    }
}

TEST(CheckJail, RootOwnedPrivateDirectoryIsAccepted) {
    if (!is_root()) GTEST_SKIP() << "needs root: the directory must be owned by root";
    TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    EXPECT_EQ(check_jail(dir.path()), std::nullopt);
}

TEST(DropPrivileges, RefusesRootAsTarget) {
    const auto result = run_in_child([] {
        drop_privileges(PrivDropSpec{"", 0, 0});
        return 0;  // not reached when the refusal works
    });
    EXPECT_TRUE(exited_with(result, kPrivDropFailedExit)) << describe(result);
    EXPECT_NE(result.err.find("must not be root"), std::string::npos) << result.err;
}

TEST(DropPrivileges, RefusesRootGroupAsTarget) {
    const auto result = run_in_child([] {
        drop_privileges(PrivDropSpec{"", 65534, 0});
        return 0;
    });
    EXPECT_TRUE(exited_with(result, kPrivDropFailedExit)) << describe(result);
}

TEST(DropPrivileges, MissingJailIsFatal) {
    const auto result = run_in_child([] {
        drop_privileges(PrivDropSpec{"/nonexistent/sipmasq-jail", 65534, 65534});
        return 0;
    });
    EXPECT_TRUE(exited_with(result, kPrivDropFailedExit)) << describe(result);
    EXPECT_NE(result.err.find("does not exist"), std::string::npos) << result.err;
}

TEST(DropPrivileges, FailsFatallyWithoutRoot) {
    // As root, the child first becomes an ordinary user the plain way.
    const bool root = is_root();
    const auto result = run_in_child([root] {
        if (root && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return 9;
        drop_privileges(PrivDropSpec{"", 65534, 65534});
        return 0;
    });
    EXPECT_TRUE(exited_with(result, kPrivDropFailedExit)) << describe(result);
    EXPECT_NE(result.err.find("privilege drop failed"), std::string::npos) << result.err;
}

TEST(DropPrivileges, WithoutJailWarnsAndStillDrops) {
    if (!is_root()) GTEST_SKIP() << "needs root to drop privileges";
    const passwd* pw = nobody();
    if (pw == nullptr) GTEST_SKIP() << "no user nobody on this machine";
    const uid_t uid = pw->pw_uid;
    const gid_t gid = pw->pw_gid;
    const auto result = run_in_child([uid, gid] {
        drop_privileges(PrivDropSpec{"", uid, gid});
        if (::getuid() != uid || ::geteuid() != uid) return 2;
        if (::setuid(0) == 0) return 3;
        if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return 4;
        return 0;
    });
    EXPECT_TRUE(exited_with(result, 0)) << describe(result);
    EXPECT_NE(result.err.find("no chroot jail configured"), std::string::npos) << result.err;
}

// Parses "Key:\tvalue" lines of /proc/PID/status.
std::map<std::string, std::string> read_status(pid_t pid) {
    std::map<std::string, std::string> fields;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        auto value = line.substr(colon + 1);
        const auto start = value.find_first_not_of(" \t");
        const auto end = value.find_last_not_of(" \t");
        fields[line.substr(0, colon)] =
            start == std::string::npos ? "" : value.substr(start, end - start + 1);
    }
    return fields;
}

// What the child finds from inside, sent to the parent as one line.
std::string self_check(uid_t uid, gid_t gid) {
    std::ostringstream out;
    if (::getuid() != uid || ::geteuid() != uid) out << "uid not dropped;";
    if (::getgid() != gid || ::getegid() != gid) out << "gid not dropped;";
    if (::setuid(0) == 0) out << "setuid(0) worked;";
    if (::setgid(0) == 0) out << "setgid(0) worked;";
    if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) out << "no_new_privs unset;";
    if (::prctl(PR_CAPBSET_READ, CAP_NET_BIND_SERVICE, 0, 0, 0) != 0) out << "bounding set kept;";
    cap_t caps = cap_get_proc();
    cap_t empty = cap_init();
    if (caps == nullptr || empty == nullptr || cap_compare(caps, empty) != 0) out << "caps kept;";
    cap_free(caps);
    cap_free(empty);
    // The jail is empty: nothing of the host's file system is visible.
    if (::access("/etc/passwd", F_OK) == 0) out << "host files visible;";
    char cwd[PATH_MAX] = {};
    if (::getcwd(cwd, sizeof cwd) == nullptr || std::string(cwd) != "/") out << "cwd not /;";
    const std::string text = out.str();
    return text.empty() ? "ok" : text;
}

TEST(DropPrivileges, ChildInJailHasNoPrivilegeLeft) {
    if (!is_root()) GTEST_SKIP() << "needs root to chroot and change user";
    const passwd* pw = nobody();
    if (pw == nullptr) GTEST_SKIP() << "no user nobody on this machine";
    const uid_t uid = pw->pw_uid;
    const gid_t gid = pw->pw_gid;
    ASSERT_NE(uid, 0u);
    TempDir jail;
    ASSERT_FALSE(jail.path().empty());
    ASSERT_EQ(::chmod(jail.path().c_str(), 0755), 0);
    char real_jail[PATH_MAX] = {};
    ASSERT_NE(::realpath(jail.path().c_str(), real_jail), nullptr);

    int report[2];
    int release[2];
    ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(release, O_CLOEXEC), 0);
    UniqueFd report_read(report[0]), report_write(report[1]);
    UniqueFd release_read(release[0]), release_write(release[1]);

    const std::string jail_path = jail.path();
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        report_read.reset();
        release_write.reset();
        drop_privileges(PrivDropSpec{jail_path, uid, gid});
        const std::string line = self_check(uid, gid);
        if (::write(report_write.get(), line.data(), line.size()) < 0) _exit(2);
        report_write.reset();
        char byte = 0;
        _exit(::read(release_read.get(), &byte, 1) == 1 ? 0 : 3);
    }
    report_write.reset();
    release_read.reset();

    std::string line;
    char buf[512];
    ssize_t n = 0;
    while ((n = ::read(report_read.get(), buf, sizeof buf)) > 0)
        line.append(buf, static_cast<size_t>(n));
    // The child waits for the release byte, so its /proc entry is stable now.
    auto status = read_status(pid);
    char root[PATH_MAX] = {};
    const ssize_t root_len =
        ::readlink(("/proc/" + std::to_string(pid) + "/root").c_str(), root, sizeof root - 1);
    const char go = 'x';
    EXPECT_EQ(::write(release_write.get(), &go, 1), 1);
    release_write.reset();
    bool timed_out = false;
    const int wstatus = test::wait_bounded(pid, 10000, timed_out);
    ASSERT_FALSE(timed_out);
    EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << "status " << wstatus;

    EXPECT_EQ(line, "ok");
    const std::string u = std::to_string(uid);
    const std::string g = std::to_string(gid);
    EXPECT_EQ(status["Uid"], u + "\t" + u + "\t" + u + "\t" + u);
    EXPECT_EQ(status["Gid"], g + "\t" + g + "\t" + g + "\t" + g);
    EXPECT_EQ(status["Groups"], g);
    for (const char* key : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
        EXPECT_EQ(status[key], "0000000000000000") << key;
    }
    EXPECT_EQ(status["NoNewPrivs"], "1");
    ASSERT_GT(root_len, 0);
    EXPECT_EQ(std::string(root, static_cast<size_t>(root_len)), std::string(real_jail));
}

}  // namespace
}  // namespace sipmasq
