// The real daemon, all three processes, sandbox as built (enforce in CI):
// privileges of the children, restarts, orderly stop, configuration check.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
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

TEST_F(DaemonTest, AChildThatKeepsDyingStopsSipmasqWithAReason) {
    pid_t victim = *rtpd_;
    std::optional<int> status;
    for (int round = 0; round < 8 && !status; ++round) {
        const size_t mark = daemon_.log_size();
        ::kill(victim, SIGKILL);
        const auto next = daemon_.wait_ready("rtpd", 5s, mark);
        if (!next) break;
        victim = *next;
    }
    status = daemon_.wait_exit(10s);
    ASSERT_TRUE(status.has_value()) << daemon_.log();
    EXPECT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 1);
    EXPECT_TRUE(daemon_.wait_for_log("rtpd .* died [0-9]+ times within [0-9]+ s, giving up", 1s));
    EXPECT_FALSE(process_exists(*sipd_));
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
