// sipmasqctl against the real daemon: what it shows, and that the control
// socket is root's alone and survives malformed requests.
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <regex>

#include "daemon_harness.h"

namespace sipmasq::test {
namespace {

using namespace std::chrono_literals;

class CtlTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root: starts the privileged daemon";
        config_path_ = dir_.file("sipmasq.conf");
        write_file(config_path_, loopback_config(dir_, free_udp_port("127.0.0.1")));
        ASSERT_TRUE(daemon_.start(config_path_, dir_.path()));
        sipd_ = daemon_.wait_ready("sipd", 10s);
        rtpd_ = daemon_.wait_ready("rtpd", 10s);
        ASSERT_TRUE(sipd_ && rtpd_) << daemon_.log();
    }

    int ctl(const std::vector<std::string>& args, std::string& out) {
        std::vector<std::string> argv = {build_root() + "/ctl/sipmasqctl", "-s",
                                         dir_.file("control")};
        argv.insert(argv.end(), args.begin(), args.end());
        out.clear();
        return run_command(argv, out);
    }

    // A raw request on the socket, for what sipmasqctl would never send.
    std::string raw_request(const std::string& bytes) {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        const std::string path = dir_.file("control");
        std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
            ::close(fd);
            return "connect failed";
        }
        (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        timeval tv{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string reply;
        char buf[1024];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) reply.append(buf, static_cast<size_t>(n));
        ::close(fd);
        return reply;
    }

    TempDir dir_;
    std::string config_path_;
    Daemon daemon_;
    std::optional<pid_t> sipd_, rtpd_;
};

TEST_F(CtlTest, StatusNamesEachChildWithPidAndRestarts) {
    std::string out;
    ASSERT_EQ(ctl({"status"}, out), 0) << out;
    EXPECT_TRUE(std::regex_search(
        out, std::regex("sipmasq 0\\.[0-9.]+, pid " + std::to_string(daemon_.pid()))))
        << out;
    EXPECT_TRUE(
        std::regex_search(out, std::regex("sipd +" + std::to_string(*sipd_) + " +ready +0")))
        << out;
    EXPECT_TRUE(
        std::regex_search(out, std::regex("rtpd +" + std::to_string(*rtpd_) + " +ready +0")))
        << out;

    const size_t mark = daemon_.log_size();
    ASSERT_EQ(::kill(*rtpd_, SIGKILL), 0);
    const auto again = daemon_.wait_ready("rtpd", 10s, mark);
    ASSERT_TRUE(again.has_value());
    ASSERT_EQ(ctl({"-j", "status"}, out), 0) << out;
    EXPECT_NE(out.find("{\"name\":\"rtpd\",\"pid\":" + std::to_string(*again) +
                       ",\"ready\":true,\"restarts\":1}"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("\"version\":\""), std::string::npos) << out;
}

TEST_F(CtlTest, ReloadReportsWhatChangedAndRefusesABrokenFile) {
    std::string out;
    ASSERT_EQ(ctl({"reload"}, out), 0) << out;
    EXPECT_NE(out.find("configuration unchanged"), std::string::npos) << out;
    write_file(config_path_, read_file(config_path_) + "rtp_timeout = 77\n");
    ASSERT_EQ(ctl({"reload"}, out), 0) << out;
    EXPECT_NE(out.find("rtp_timeout"), std::string::npos) << out;
    write_file(config_path_, read_file(config_path_) + "rtp_timeout = soon\n");
    ASSERT_EQ(ctl({"-j", "reload"}, out), 0) << out;
    EXPECT_NE(out.find("reload refused"), std::string::npos) << out;
}

TEST_F(CtlTest, StatsCombineTheParentAndBothChildren) {
    std::string out;
    ASSERT_EQ(ctl({"-j", "stats"}, out), 0) << out;
    EXPECT_EQ(out.rfind("{\"parent\":{", 0), 0u) << out;
    EXPECT_NE(out.find(",\"sipd\":"), std::string::npos) << out;
    EXPECT_NE(out.find(",\"rtpd\":"), std::string::npos) << out;
}

TEST_F(CtlTest, MalformedRequestsGetAnErrorAndTheDaemonCarriesOn) {
    EXPECT_EQ(raw_request("bogus\n").rfind("ERR unknown request", 0), 0u);
    EXPECT_EQ(raw_request(std::string(1000, 'x')).rfind("ERR request too long", 0), 0u);
    EXPECT_EQ(raw_request(std::string("status\0json\n", 12)).rfind("ERR", 0), 0u);
    EXPECT_EQ(raw_request("status\n").rfind("OK\n", 0), 0u);
    std::string out;
    EXPECT_EQ(ctl({"nonsense"}, out), 2) << out;
    EXPECT_TRUE(process_exists(daemon_.pid()));
    EXPECT_TRUE(process_exists(*sipd_));
}

TEST_F(CtlTest, OnlyRootMayUseTheControlSocket) {
    struct stat st {};
    ASSERT_EQ(::stat(dir_.file("control").c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_uid, 0u);

    const passwd* nobody = ::getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgid(nobody->pw_gid) != 0 || ::setuid(nobody->pw_uid) != 0) _exit(10);
        std::string out;
        const int rc = ctl({"status"}, out);
        _exit(rc == 1 && out.find("only root may control sipmasq") != std::string::npos ? 0 : 11);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace sipmasq::test
