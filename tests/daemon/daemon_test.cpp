// The real daemon, all three processes, sandbox as built (enforce in CI):
// privileges of the children, restarts, orderly stop, configuration check.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "daemon_harness.h"

namespace sipmasq::test {
namespace {

using namespace std::chrono_literals;

class DaemonTest : public RunningDaemonTest {
  protected:
    void expect_sandboxed(pid_t pid, const char* what) {
        SCOPED_TRACE(what);
        const auto st = read_proc_status(pid);
        ASSERT_TRUE(st.has_value());
        EXPECT_EQ(st->ppid, daemon_.pid());
        ASSERT_EQ(st->uid.size(), 4u);
        for (long id : st->uid) EXPECT_NE(id, 0);
        for (long id : st->gid) EXPECT_NE(id, 0);
        EXPECT_EQ(st->cap_eff, "0000000000000000");
        EXPECT_EQ(st->cap_prm, "0000000000000000");
        EXPECT_EQ(st->cap_bnd, "0000000000000000");
        EXPECT_EQ(st->cap_amb, "0000000000000000");
        EXPECT_EQ(st->no_new_privs, 1);
#if SIPMASQ_TEST_SANDBOX_ENFORCED
        EXPECT_EQ(st->seccomp, 2);
#endif
        char root[PATH_MAX] = {};
        const std::string link = "/proc/" + std::to_string(pid) + "/root";
        ASSERT_GT(::readlink(link.c_str(), root, sizeof root - 1), 0);
        EXPECT_EQ(std::string(root), dir_.file("jail"));
    }
};

// The bytes waiting in the receive queue of the UDP socket bound to
// addr:port, from /proc/net/udp (hex "0100007F:13C4" for 127.0.0.1:5060).
std::optional<unsigned long> udp_rx_queue(const char* addr, uint16_t port) {
    in_addr in{};
    ::inet_pton(AF_INET, addr, &in);
    char local[32];
    std::snprintf(local, sizeof local, "%08X:%04X", in.s_addr, port);
    std::ifstream net("/proc/net/udp");
    std::string line;
    while (std::getline(net, line)) {
        std::istringstream fields(line);
        std::string slot, loc, rem, state, queues;
        fields >> slot >> loc >> rem >> state >> queues;
        if (loc != local) continue;
        return std::stoul(queues.substr(queues.find(':') + 1), nullptr, 16);
    }
    return std::nullopt;
}

TEST_F(DaemonTest, TheParentNeverReadsTheSipSockets) {
    // The parent holds the SIP sockets (to hand them to a restarted sipd)
    // but never reads them: with sipd stopped, what arrives stays queued.
    const uint16_t port = sip_port_;
    ASSERT_EQ(::kill(*sipd_, SIGSTOP), 0);
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    const std::string junk = "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n\r\n";
    for (int i = 0; i < 20; ++i)
        ASSERT_GT(
            ::sendto(fd, junk.data(), junk.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            0);
    ::close(fd);
    std::this_thread::sleep_for(500ms);
    const auto queued = udp_rx_queue("127.0.0.1", port);
    ::kill(*sipd_, SIGCONT);
    ASSERT_TRUE(queued.has_value()) << "no socket on 127.0.0.1:" << port;
    EXPECT_GT(*queued, 0u) << "something read the SIP socket while sipd was stopped";

    // Once sipd runs again, it (and only it) drains the queue.
    std::optional<unsigned long> after;
    for (int i = 0; i < 100; ++i) {
        after = udp_rx_queue("127.0.0.1", port);
        if (after && *after == 0) break;
        std::this_thread::sleep_for(20ms);
    }
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(*after, 0u);
    EXPECT_TRUE(process_exists(*sipd_));
}

TEST_F(DaemonTest, ChildrenRunUnprivilegedJailedAndSandboxed) {
    expect_sandboxed(*sipd_, "sipd");
    expect_sandboxed(*rtpd_, "rtpd");
    // The parent keeps root: it is the one that may restart them.
    const auto parent = read_proc_status(daemon_.pid());
    ASSERT_TRUE(parent.has_value());
    EXPECT_EQ(parent->uid.at(1), 0);
    EXPECT_EQ(read_file(dir_.file("sipmasq.pid")), std::to_string(daemon_.pid()) + "\n");
}

TEST_F(DaemonTest, KilledChildrenAreRestartedAndReadyAgain) {
    for (auto [name, pid] : {std::pair{"rtpd", *rtpd_}, std::pair{"sipd", *sipd_}}) {
        SCOPED_TRACE(name);
        const size_t mark = daemon_.log_size();
        ASSERT_EQ(::kill(pid, SIGKILL), 0);
        const auto again = daemon_.wait_ready(name, 10s, mark);
        ASSERT_TRUE(again.has_value()) << daemon_.log();
        EXPECT_NE(*again, pid);
        EXPECT_FALSE(process_exists(pid));
        EXPECT_TRUE(daemon_.wait_for_log(
            std::string(name) + " \\(pid " + std::to_string(pid) + "\\) was killed by signal 9", 1s,
            mark));
        expect_sandboxed(*again, name);
    }
}

TEST_F(DaemonTest, SigtermStopsEverythingAndRemovesThePidFile) {
    const auto status = daemon_.stop(SIGTERM, 10s);
    ASSERT_TRUE(status.has_value()) << daemon_.log();
    EXPECT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 0);
    EXPECT_FALSE(process_exists(*sipd_));
    EXPECT_FALSE(process_exists(*rtpd_));
    EXPECT_FALSE(std::filesystem::exists(dir_.file("sipmasq.pid")));
    // Each child stopped on its own SIGTERM; none had to be killed.
    EXPECT_EQ(daemon_.log().find("did not stop"), std::string::npos) << daemon_.log();
    EXPECT_TRUE(daemon_.wait_for_log("sipd \\(pid [0-9]+\\) stopped", 1s));
    EXPECT_TRUE(daemon_.wait_for_log("rtpd \\(pid [0-9]+\\) stopped", 1s));
}

// One limit from /proc/PID/limits ("Max core file size  0  0  bytes"):
// soft and hard, as the kernel prints them.
std::optional<std::pair<std::string, std::string>> proc_limit(pid_t pid, const std::string& name) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(name, 0) != 0) continue;
        std::istringstream fields(line.substr(name.size()));
        std::string soft, hard;
        fields >> soft >> hard;
        return std::pair{soft, hard};
    }
    return std::nullopt;
}

TEST_F(DaemonTest, ChildrenRunWithTheirResourceLimits) {
    const std::pair<std::string, std::string> zero{"0", "0"};
    const std::pair<std::string, std::string> gib{"1073741824", "1073741824"};
    for (auto [name, pid] : {std::pair{"sipd", *sipd_}, std::pair{"rtpd", *rtpd_}}) {
        SCOPED_TRACE(name);
        EXPECT_EQ(proc_limit(pid, "Max core file size"), zero);
        EXPECT_EQ(proc_limit(pid, "Max processes"), zero);
#if !defined(__SANITIZE_ADDRESS__)
        EXPECT_EQ(proc_limit(pid, "Max address space"), gib);
#endif
    }
    const std::pair<std::string, std::string> regs{"67108864", "67108864"};
    EXPECT_EQ(proc_limit(*sipd_, "Max file size"), regs);
    EXPECT_EQ(proc_limit(*rtpd_, "Max file size"), zero);
    // The parent keeps its own (core and processes unlimited for root here).
    EXPECT_NE(proc_limit(daemon_.pid(), "Max processes"), zero);
}

// The environment a child starts with: a fixed PATH and glibc's malloc
// tuning, nothing of the parent's (the test's own variables must not leak).
// glibc cuts GLIBC_TUNABLES at its colons in place when it reads it, so
// separators are compared as one.
TEST_F(DaemonTest, ChildrenGetOnlyAFixedEnvironment) {
    for (auto [name, pid] : {std::pair{"sipd", *sipd_}, std::pair{"rtpd", *rtpd_}}) {
        SCOPED_TRACE(name);
        std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        std::string text = ss.str();
        std::replace(text.begin(), text.end(), '\0', ':');
        EXPECT_EQ(text,
                  "PATH=/usr/sbin:/usr/bin:/sbin:/bin:"
                  "GLIBC_TUNABLES=glibc.malloc.tcache_count=2000:glibc.malloc.mxfast=0:");
    }
}

TEST_F(DaemonTest, WhatAChildPrintsBecomesAParentLogLineNotRawOutput) {
    for (auto [name, pid] : {std::pair{"sipd", *sipd_}, std::pair{"rtpd", *rtpd_}}) {
        SCOPED_TRACE(name);
        // stdout and stderr are one pipe, not the daemon's own stderr.
        char out[64] = {}, err[64] = {}, own[64] = {};
        const std::string proc = "/proc/" + std::to_string(pid) + "/fd/";
        ASSERT_GT(::readlink((proc + "1").c_str(), out, sizeof out - 1), 0);
        ASSERT_GT(::readlink((proc + "2").c_str(), err, sizeof err - 1), 0);
        ASSERT_GT(::readlink(("/proc/" + std::to_string(daemon_.pid()) + "/fd/2").c_str(), own,
                             sizeof own - 1),
                  0);
        EXPECT_EQ(std::string(out).rfind("pipe:[", 0), 0u) << out;
        EXPECT_STREQ(out, err);
        EXPECT_STRNE(err, own);

        // Write into the child's stderr as the child would (through the
        // pipe it holds): two lines, one with a control character.
        const size_t mark = daemon_.log_size();
        const std::string marker = std::string("printed-by-") + name;
        {
            std::ofstream child_err(proc + "2");
            ASSERT_TRUE(child_err.is_open());
            child_err << marker << " first\n" << marker << "\x1b[31m second\n" << std::flush;
        }
        const std::string prefix =
            std::string(name) + "\\[" + std::to_string(pid) + "\\]: output: ";
        EXPECT_TRUE(daemon_.wait_for_log(prefix + marker + " first\n", 5s, mark)) << daemon_.log();
        EXPECT_TRUE(daemon_.wait_for_log(prefix + marker + "\\?\\[31m second\n", 5s, mark))
            << daemon_.log();
        // Every line with the marker is a parent log line, none is raw.
        std::istringstream lines(daemon_.log().substr(mark));
        for (std::string line; std::getline(lines, line);) {
            if (line.find(marker) == std::string::npos) continue;
            EXPECT_NE(line.find(std::string(name) + "[" + std::to_string(pid) + "]: output: "),
                      std::string::npos)
                << line;
            EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
        }
    }
}

TEST_F(DaemonTest, AChildsOutputHasTheSameLinesASecondBudget) {
    const size_t mark = daemon_.log_size();
    const std::string proc = "/proc/" + std::to_string(*rtpd_) + "/fd/2";
    {
        std::ofstream child_err(proc);
        ASSERT_TRUE(child_err.is_open());
        for (int i = 0; i < 2000; ++i) child_err << "flood line " << i << "\n";
    }
    EXPECT_TRUE(
        daemon_.wait_for_log("rtpd\\[[0-9]+\\]: more than 500 log lines a second", 5s, mark))
        << daemon_.log().substr(mark, 2000);
    std::this_thread::sleep_for(300ms);
    const std::string text = daemon_.log().substr(mark);
    size_t passed = 0;
    for (size_t at = text.find("output: flood line"); at != std::string::npos;
         at = text.find("output: flood line", at + 1))
        ++passed;
    EXPECT_GE(passed, 400u);
    EXPECT_LT(passed, 2000u);
    EXPECT_TRUE(process_exists(*rtpd_));
}

TEST_F(DaemonTest, SipdHoldsNoDirectoryOutsideItsJail) {
    const std::string jail = dir_.file("jail");
    const std::string fd_dir = "/proc/" + std::to_string(*sipd_) + "/fd";
    int directories = 0;
    for (const auto& entry : std::filesystem::directory_iterator(fd_dir)) {
        struct stat st {};
        if (::stat(entry.path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        ++directories;
        const auto target = std::filesystem::read_symlink(entry.path()).string();
        EXPECT_EQ(target.rfind(jail + "/", 0), 0u)
            << entry.path() << " -> " << target << " is outside " << jail;
    }
    EXPECT_EQ(directories, 1);  // the registration file's directory
    // The parent created that directory, so it gave it to `user`; the jail
    // it did not create stays root's.
    struct stat state {
    }, jail_st{};
    ASSERT_EQ(::stat((jail + "/state").c_str(), &state), 0);
    ASSERT_EQ(::stat(jail.c_str(), &jail_st), 0);
    const passwd* nobody = ::getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    EXPECT_EQ(state.st_uid, nobody->pw_uid);
    EXPECT_EQ(state.st_mode & 07777, 0750u);
    EXPECT_EQ(jail_st.st_uid, 0u);
    EXPECT_EQ(jail_st.st_mode & 07777, 0755u);
}

TEST(DaemonFiles, ADirectoryAnAdministratorMadeKeepsItsOwner) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: starts the privileged daemon";
    TempDir dir;
    const std::string config = dir.file("sipmasq.conf");
    write_file(config, loopback_config(dir, free_udp_port("127.0.0.1")));
    // The administrator's own state directory: root's, mode 0711.
    const std::string state = dir.file("jail") + "/state";
    ASSERT_EQ(::mkdir(state.c_str(), 0711), 0);
    ASSERT_EQ(::chmod(state.c_str(), 0711), 0);
    Daemon daemon;
    ASSERT_TRUE(daemon.start(config, dir.path()));
    const auto sipd = daemon.wait_ready("sipd", 10s);
    ASSERT_TRUE(sipd.has_value()) << daemon.log();
    struct stat st {};
    ASSERT_EQ(::stat(state.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_gid, 0u);
    EXPECT_EQ(st.st_mode & 07777, 0711u);
    EXPECT_TRUE(daemon.wait_for_log(state + " exists and is not writable by nobody", 1s))
        << daemon.log();
}

TEST(DaemonFiles, ARegistrationFileOutsideTheJailIsRefusedAtStart) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: starts the privileged daemon";
    TempDir dir;
    const std::string config = dir.file("sipmasq.conf");
    std::string text = loopback_config(dir, free_udp_port("127.0.0.1"));
    const std::string inside = "registration_file = " + dir.file("jail") + "/state/registrations";
    ASSERT_NE(text.find(inside), std::string::npos);
    text.replace(text.find(inside), inside.size(),
                 "registration_file = " + dir.file("outside/regs"));
    write_file(config, text);
    std::string out;
    const std::string binary = build_root() + "/parent/sipmasq";
    EXPECT_EQ(run_command({binary, "-t", "-c", config}, out), 1) << out;
    EXPECT_NE(out.find("registration_file " + dir.file("outside/regs") + " is outside chrootjail"),
              std::string::npos)
        << out;
    Daemon daemon;
    ASSERT_TRUE(daemon.start(config, dir.path()));
    const auto status = daemon.wait_exit(10s);
    ASSERT_TRUE(status.has_value()) << daemon.log();
    EXPECT_EQ(WEXITSTATUS(*status), 1);
    EXPECT_NE(daemon.log().find("is outside chrootjail"), std::string::npos) << daemon.log();
    EXPECT_FALSE(std::filesystem::exists(dir.file("outside")));
}

TEST(DaemonUsers, RtpUserRunsTheRelayUnderAUidOfItsOwn) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: starts the privileged daemon";
    // An existing Debian system user other than nobody.
    const passwd* relay = ::getpwnam("daemon");
    if (relay == nullptr || relay->pw_uid == 0) GTEST_SKIP() << "no user 'daemon' here";
    const uid_t relay_uid = relay->pw_uid;
    const gid_t relay_gid = relay->pw_gid;
    const passwd* nobody = ::getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    const uid_t nobody_uid = nobody->pw_uid;
    ASSERT_NE(relay_uid, nobody_uid);
    TempDir dir;
    const std::string config = dir.file("sipmasq.conf");
    write_file(config, loopback_config(dir, free_udp_port("127.0.0.1"), "rtp_user = daemon\n"));
    std::string out;
    EXPECT_EQ(run_command({build_root() + "/parent/sipmasq", "-t", "-c", config}, out), 0) << out;
    Daemon daemon;
    ASSERT_TRUE(daemon.start(config, dir.path()));
    const auto sipd = daemon.wait_ready("sipd", 10s);
    const auto rtpd = daemon.wait_ready("rtpd", 10s);
    ASSERT_TRUE(sipd && rtpd) << daemon.log();
    const auto sipd_st = read_proc_status(*sipd);
    const auto rtpd_st = read_proc_status(*rtpd);
    ASSERT_TRUE(sipd_st && rtpd_st);
    for (long id : sipd_st->uid) EXPECT_EQ(id, static_cast<long>(nobody_uid));
    for (long id : rtpd_st->uid) EXPECT_EQ(id, static_cast<long>(relay_uid));
    for (long id : rtpd_st->gid) EXPECT_EQ(id, static_cast<long>(relay_gid));
    EXPECT_EQ(rtpd_st->cap_eff, "0000000000000000");
    // Still one working pair: the relay answers sipd (both said ready) and
    // a restart of rtpd comes back as the same user.
    const size_t mark = daemon.log_size();
    ASSERT_EQ(::kill(*rtpd, SIGKILL), 0);
    const auto again = daemon.wait_ready("rtpd", 10s, mark);
    ASSERT_TRUE(again.has_value()) << daemon.log();
    const auto again_st = read_proc_status(*again);
    ASSERT_TRUE(again_st.has_value());
    EXPECT_EQ(again_st->uid.at(0), static_cast<long>(relay_uid));
}

TEST(DaemonStaysUp, ASipdThatKeepsDyingIsRestartedForEverAndRtpdNeverNotices) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: starts the privileged daemon";
    TempDir dir;
    const std::string config = dir.file("sipmasq.conf");
    // A 1 s cap keeps 20 deaths within the test's time; the default is 30 s.
    write_file(config,
               loopback_config(dir, free_udp_port("127.0.0.1"), "restart_backoff_max = 1\n"));
    Daemon daemon;
    ASSERT_TRUE(daemon.start(config, dir.path()));
    auto sipd = daemon.wait_ready("sipd", 10s);
    const auto rtpd = daemon.wait_ready("rtpd", 10s);
    ASSERT_TRUE(sipd && rtpd) << daemon.log();
    const size_t first_mark = daemon.log_size();

    const long expected_delay[] = {200, 400, 800};
    for (int round = 1; round <= 20; ++round) {
        SCOPED_TRACE("death " + std::to_string(round));
        const size_t mark = daemon.log_size();
        ASSERT_EQ(::kill(*sipd, SIGKILL), 0);
        // Each death is logged: which child, how it died, how many deaths
        // within the last minute, the delay before the next start.
        const auto delay = daemon.wait_for_log(
            "sipd \\(pid " + std::to_string(*sipd) + "\\) was killed by signal 9 \\(Killed\\); " +
                std::to_string(round) + " deaths in the last 60 s; restarting it in ([0-9]+) ms",
            5s, mark);
        ASSERT_TRUE(delay.has_value()) << daemon.log().substr(mark);
        // 200 ms, doubling, capped at restart_backoff_max.
        EXPECT_EQ(std::stol(*delay), round <= 3 ? expected_delay[round - 1] : 1000);
        const auto again = daemon.wait_ready("sipd", 5s, mark);
        ASSERT_TRUE(again.has_value()) << daemon.log().substr(mark);
        EXPECT_NE(*again, *sipd);
        sipd = again;
        // The relay (and every call it carries) is never touched.
        ASSERT_TRUE(process_exists(*rtpd));
        const auto st = read_proc_status(*rtpd);
        ASSERT_TRUE(st.has_value());
        EXPECT_EQ(st->ppid, daemon.pid());
        ASSERT_TRUE(process_exists(daemon.pid()));
    }
    const std::string after = daemon.log().substr(first_mark);
    EXPECT_EQ(after.find("rtpd ready"), std::string::npos) << after;
    EXPECT_EQ(after.find("rtpd (pid"), std::string::npos) << after;
    EXPECT_EQ(after.find("giving up"), std::string::npos) << after;
    // Still a working daemon: an orderly stop ends it with status 0.
    const auto status = daemon.stop(SIGTERM, 10s);
    ASSERT_TRUE(status.has_value()) << daemon.log();
    EXPECT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 0);
    EXPECT_FALSE(process_exists(*rtpd));
}

TEST_F(DaemonTest, SighupRestartsOnlyTheChildWhoseKeysChanged) {
    // A relay key: rtpd starts again with it, sipd keeps running.
    size_t mark = daemon_.log_size();
    write_file(config_path_, read_file(config_path_) + "rtp_timeout = 123\n");
    ASSERT_EQ(::kill(daemon_.pid(), SIGHUP), 0);
    EXPECT_TRUE(daemon_.wait_for_log("reload: rtp_timeout: 300 -> 123", 5s, mark)) << daemon_.log();
    EXPECT_TRUE(daemon_.wait_for_log("reload: restarting rtpd", 5s, mark));
    const auto rtpd2 = daemon_.wait_ready("rtpd", 5s, mark);
    ASSERT_TRUE(rtpd2.has_value()) << daemon_.log();
    EXPECT_NE(*rtpd2, *rtpd_);
    EXPECT_TRUE(process_exists(*sipd_));
    EXPECT_FALSE(daemon_.wait_for_log("restarting sipd", 100ms, mark));

    // A signalling key: sipd starts again, rtpd keeps running.
    mark = daemon_.log_size();
    write_file(config_path_, read_file(config_path_) + "hosts_deny_sip = 198.51.100.0/24\n");
    ASSERT_EQ(::kill(daemon_.pid(), SIGHUP), 0);
    const auto sipd2 = daemon_.wait_ready("sipd", 5s, mark);
    ASSERT_TRUE(sipd2.has_value()) << daemon_.log();
    EXPECT_NE(*sipd2, *sipd_);
    EXPECT_TRUE(process_exists(*rtpd2));

    // A key that needs a restart of sipmasq: nothing is applied.
    mark = daemon_.log_size();
    std::string text = read_file(config_path_);
    text.replace(text.find("user = nobody"), 13, "user = daemon");
    write_file(config_path_, text);
    ASSERT_EQ(::kill(daemon_.pid(), SIGHUP), 0);
    EXPECT_TRUE(daemon_.wait_for_log("reload: not applied", 5s, mark)) << daemon_.log();
    EXPECT_TRUE(process_exists(*sipd2));
    EXPECT_TRUE(process_exists(*rtpd2));

    // A broken file: refused, everything stays.
    mark = daemon_.log_size();
    write_file(config_path_, read_file(config_path_) + "no_such_key = 1\n");
    ASSERT_EQ(::kill(daemon_.pid(), SIGHUP), 0);
    EXPECT_TRUE(daemon_.wait_for_log("reload refused", 5s, mark)) << daemon_.log();
    EXPECT_TRUE(process_exists(daemon_.pid()));
    EXPECT_TRUE(process_exists(*sipd2));
    // Restarts to reload are not crashes.
    EXPECT_EQ(daemon_.log().find("restarting it in"), std::string::npos) << daemon_.log();
}

TEST(DaemonReload, AHostOutboundNameIsLookedUpAgainOnEveryReload) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: starts the privileged daemon";
    TempDir dir;
    const std::string config = dir.file("sipmasq.conf");
    write_file(config,
               loopback_config(dir, free_udp_port("127.0.0.1"), "host_outbound = localhost\n"));
    Daemon daemon;
    ASSERT_TRUE(daemon.start(config, dir.path()));
    const auto sipd = daemon.wait_ready("sipd", 10s);
    const auto rtpd = daemon.wait_ready("rtpd", 10s);
    ASSERT_TRUE(sipd && rtpd) << daemon.log();
    // The file is unchanged, but the name may point elsewhere now (dyndns).
    const size_t mark = daemon.log_size();
    ASSERT_EQ(::kill(daemon.pid(), SIGHUP), 0);
    const auto again = daemon.wait_ready("sipd", 5s, mark);
    ASSERT_TRUE(again.has_value()) << daemon.log();
    EXPECT_NE(*again, *sipd);
    EXPECT_TRUE(process_exists(*rtpd));
    EXPECT_TRUE(daemon.wait_for_log("host_outbound localhost is a name", 1s, mark));
}

TEST(DaemonCheck, DashTSaysConfigurationOkOrNamesTheLine) {
    TempDir dir;
    const std::string good = dir.file("good.conf");
    write_file(good, loopback_config(dir, 5060));
    std::string out;
    const std::string binary = build_root() + "/parent/sipmasq";
    if (::geteuid() == 0) {
        EXPECT_EQ(run_command({binary, "-t", "-c", good}, out), 0) << out;
        EXPECT_NE(out.find("configuration OK"), std::string::npos) << out;
    }
    const std::string bad = dir.file("bad.conf");
    const std::string base = loopback_config(dir, 5060);
    const auto bad_line = std::count(base.begin(), base.end(), '\n') + 1;
    write_file(bad, base + "rtp_port_low = banana\n");
    out.clear();
    EXPECT_EQ(run_command({binary, "-t", "-c", bad}, out), 1) << out;
    EXPECT_NE(out.find(bad + ":" + std::to_string(bad_line) + ":"), std::string::npos) << out;
    EXPECT_EQ(out.find("configuration OK"), std::string::npos) << out;

    out.clear();
    EXPECT_EQ(run_command({binary, "-t", "-c", dir.file("missing.conf")}, out), 1) << out;
    EXPECT_NE(out.find("missing.conf"), std::string::npos) << out;
}

TEST(DaemonCheck, VersionAndHelp) {
    std::string out;
    const std::string binary = build_root() + "/parent/sipmasq";
    EXPECT_EQ(run_command({binary, "--version"}, out), 0);
    EXPECT_NE(out.find("sipmasq 0."), std::string::npos) << out;
    out.clear();
    EXPECT_EQ(run_command({binary, "-h"}, out), 0);
    EXPECT_NE(out.find("-t"), std::string::npos) << out;
    out.clear();
    EXPECT_EQ(run_command({binary, "-x"}, out), 2);
}

TEST(DaemonCheck, ChildrenRefuseToRunWithoutTheirParent) {
    std::string out;
    const int rc = run_command({build_root() + "/rtpd/sipmasq-rtpd", "-c", "/dev/null"}, out);
    EXPECT_EQ(rc, 1);
    EXPECT_NE(out.find("started by sipmasq(8)"), std::string::npos) << out;
}

}  // namespace
}  // namespace sipmasq::test
