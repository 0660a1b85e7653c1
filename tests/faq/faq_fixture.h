// The FAQ topology for tests with the real daemon: three network namespaces
// this fixture creates and deletes,
//   smq-in-<pid>   phones   192.0.2.10 (alice), 192.0.2.20 (carol)
//   smq-fw-<pid>   sipmasq  192.0.2.1 inside, 203.0.113.1 outside
//   smq-out-<pid>  external host 203.0.113.10 (bob, a registrar)
// with sipmasq started in the middle one, and helpers for SIPp and raw UDP.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>

#include "daemon_harness.h"

namespace sipmasq::test {

using namespace std::chrono_literals;

inline int sh(const std::string& cmd, std::string* out = nullptr) {
    std::string o;
    const int rc = run_command({"/bin/sh", "-c", cmd}, o, 20s);
    if (out != nullptr) *out = o;
    return rc;
}

inline std::string scenario(const std::string& name) {
    return source_root() + "/tests/faq/scenarios/" + name;
}

// A UDP socket bound inside a namespace (setns moves only this thread).
inline int udp_in_ns(const std::string& ns, const std::string& ip, uint16_t port) {
    int fd = -1;
    std::thread t([&] {
        const int nsfd = ::open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
        if (nsfd < 0 || ::setns(nsfd, CLONE_NEWNET) != 0) return;
        ::close(nsfd);
        fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(fd);
            fd = -1;
        }
        timeval tv{0, 300000};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    });
    t.join();
    return fd;
}

inline void send_to(int fd, const std::string& ip, uint16_t port, const std::string& data) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    (void)::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
}

// "ip:port" of the first datagram within ~300 ms carrying `data`, else "".
inline std::string receive_from(int fd, const std::string& data) {
    for (int i = 0; i < 10; ++i) {
        char buf[2048];
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const ssize_t n =
            ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) return "";
        if (std::string(buf, static_cast<size_t>(n)) != data) continue;
        char ip[INET_ADDRSTRLEN] = {};
        ::inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
        return std::string(ip) + ":" + std::to_string(ntohs(from.sin_port));
    }
    return "";
}

// RTP through the relay until one datagram gets across (rtpd may latch).
inline std::string relay_once(int from_fd, const std::string& ip, uint16_t port, int to_fd,
                              const std::string& tag) {
    for (int i = 0; i < 10; ++i) {
        send_to(from_fd, ip, port, tag);
        const std::string src = receive_from(to_fd, tag);
        if (!src.empty()) return src;
    }
    return "";
}

class FaqTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root: creates network namespaces";
        if (sh("ip netns list") != 0) GTEST_SKIP() << "`ip netns` is not available";
        if (::access("/usr/bin/sipp", X_OK) != 0) GTEST_SKIP() << "sipp (sip-tester) is missing";
        const std::string p = std::to_string(::getpid());
        in_ = "smq-in-" + p;
        fw_ = "smq-fw-" + p;
        out_ = "smq-out-" + p;
        created_ = true;
        std::ostringstream s;
        s << "set -e; for n in " << in_ << " " << fw_ << " " << out_
          << "; do ip netns add $n; ip -n $n link set lo up; done;"
          << "ip link add vi0 netns " << in_ << " type veth peer name vi1 netns " << fw_ << ";"
          << "ip link add vo1 netns " << fw_ << " type veth peer name vo0 netns " << out_ << ";"
          << "ip -n " << in_ << " addr add 192.0.2.10/24 dev vi0;"
          << "ip -n " << in_ << " addr add 192.0.2.20/24 dev vi0;"
          << "ip -n " << fw_ << " addr add 192.0.2.1/24 dev vi1;"
          << "ip -n " << fw_ << " addr add 203.0.113.1/24 dev vo1;"
          << "ip -n " << out_ << " addr add 203.0.113.10/24 dev vo0;"
          << "for d in " << in_ << ":vi0 " << fw_ << ":vi1 " << fw_ << ":vo1 " << out_
          << ":vo0; do ip -n ${d%%:*} link set ${d#*:} up; done";
        std::string o;
        ASSERT_EQ(sh(s.str(), &o), 0) << o;
        if (const std::string cmd = before_start(); !cmd.empty()) {
            ASSERT_EQ(sh(cmd, &o), 0) << o;
        }
        std::this_thread::sleep_for(1500ms);  // IPv4 addresses are usable at once; be safe

        const std::string jail = dir_.file("jail");
        std::filesystem::create_directories(jail);
        config_ = dir_.file("sipmasq.conf");
        write_file(config_,
                   "if_inbound = 192.0.2.1\n"
                   "if_outbound = " +
                       if_outbound() +
                       "\n"
                       "sip_listen_port = 5060\n" +
                       rtp_ports_ +
                       "user = nobody\n"
                       "chrootjail = " +
                       jail +
                       "\n"
                       "registration_file = " +
                       jail +
                       "/state/registrations\n"
                       "pid_file = " +
                       dir_.file("sipmasq.pid") +
                       "\n"
                       "control_socket = " +
                       dir_.file("control") +
                       "\n"
                       "daemonize = 0\n" +
                       extra_config());
        ASSERT_TRUE(daemon_.start_prefixed({"ip", "netns", "exec", fw_}, config_, dir_.path()));
        sipd_ = daemon_.wait_ready("sipd", 15s);
        ASSERT_TRUE(sipd_.has_value()) << daemon_.log();
        // As many rtpd workers as cores (rtp_workers' default): each says so.
        ASSERT_TRUE(daemon_.wait_ready("rtpd[0-9]*", 15s).has_value()) << daemon_.log();
    }

    // Appended to the configuration by the variants below.
    virtual std::string extra_config() { return ""; }
    // The firewall's outside side: its address, or a variant's interface name.
    virtual std::string if_outbound() { return "203.0.113.1"; }
    // A shell command run once the namespaces exist, before sipmasq starts.
    virtual std::string before_start() { return ""; }

    void TearDown() override {
        for (pid_t pid : background_) wait_process(pid, 0ms);  // kills what still runs
        if (daemon_.pid() > 0) (void)daemon_.stop(SIGTERM, 10s);
        if (created_)
            sh("ip netns del " + in_ + " 2>/dev/null; ip netns del " + fw_ +
               " 2>/dev/null; ip netns del " + out_ + " 2>/dev/null; true");
        for (int fd : fds_) ::close(fd);
    }

    std::vector<std::string> sipp_args(const std::string& ns, const std::string& file,
                                       const std::string& local_ip, const std::string& remote,
                                       std::vector<std::string> extra) {
        const std::string name = file + "-" + std::to_string(++runs_);
        std::vector<std::string> a = {"ip", "netns", "exec", ns, "sipp"};
        if (!remote.empty()) a.push_back(remote);
        for (const std::string& x :
             {std::string("-sf"), scenario(file), std::string("-i"), local_ip, std::string("-m"),
              std::string("1"), std::string("-timeout"), sipp_timeout_,
              std::string("-timeout_error"), std::string("-nostdin"), std::string("-trace_err"),
              std::string("-error_file"), dir_.file(name + ".err"), std::string("-trace_msg"),
              std::string("-message_file"), dir_.file(name + ".msg")})
            a.push_back(x);
        a.insert(a.end(), extra.begin(), extra.end());
        last_msg_ = dir_.file(name + ".msg");
        return a;
    }

    // Runs SIPp to completion; true when its one call succeeded.
    bool sipp(const std::string& ns, const std::string& file, const std::string& local_ip,
              const std::string& remote, std::vector<std::string> extra,
              std::string* log = nullptr) {
        const auto args = sipp_args(ns, file, local_ip, remote, std::move(extra));
        const std::string msg = last_msg_;
        const pid_t pid = spawn_process(args, dir_.file("sipp.out"));
        const auto st = wait_process(pid, 30s);
        if (log != nullptr) *log = read_file(msg) + read_file(dir_.file("sipp.out"));
        return st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0;
    }

    pid_t sipp_background(const std::string& ns, const std::string& file,
                          const std::string& local_ip, std::vector<std::string> extra) {
        const auto args = sipp_args(ns, file, local_ip, "", std::move(extra));
        bg_msg_ = last_msg_;
        const pid_t pid =
            spawn_process(args, dir_.file("sipp-bg-" + std::to_string(runs_) + ".out"));
        background_.push_back(pid);
        std::this_thread::sleep_for(500ms);  // let it bind
        return pid;
    }

    bool background_ok(pid_t pid) {
        const auto st = wait_process(pid, 30s);
        return st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0;
    }

    void register_phone(const std::string& user, const std::string& ip) {
        std::string log;
        ASSERT_TRUE(sipp(in_, "register.xml", ip, "192.0.2.1:5060",
                         {"-p", "5060", "-s", user, "-key", "domain", "203.0.113.1"}, &log))
            << log << daemon_.log();
    }

    // A call with media: bob (outside, 203.0.113.10, SIP 5062, RTP 40002)
    // calls alice, whose SIPp UAS answers from `phone_ns` at `phone_ip`
    // (SIP 5060, RTP 40000); the relay ports come from the call start line,
    // which must match `start` (a regex; its group is the ports).
    struct MediaCall {
        pid_t callee = -1, caller = -1;
        std::string callee_msg, caller_msg;
        uint16_t in_port = 0, out_port = 0;
        int phone = -1, remote = -1;  // the phones' RTP sockets
    };
    void start_media_call(
        MediaCall& call, const std::string& phone_ns, const std::string& phone_ip,
        const std::string& pause_ms = "3000",
        const std::string& start = "call start: .* relay ports (inside [0-9]+ outside [0-9]+)") {
        call.phone = bind_ns(phone_ns, phone_ip, 40000);
        call.remote = bind_ns(out_, "203.0.113.10", 40002);
        ASSERT_GE(call.phone, 0);
        ASSERT_GE(call.remote, 0);
        call.callee = sipp_background(phone_ns, "uas_media.xml", phone_ip,
                                      {"-p", "5060", "-key", "rtp_port", "40000"});
        call.callee_msg = bg_msg_;
        const size_t mark = daemon_.log_size();
        const auto args = sipp_args(out_, "call_uac_media.xml", "203.0.113.10", "203.0.113.1:5060",
                                    {"-p", "5062", "-s", "alice", "-key", "target", "203.0.113.1",
                                     "-key", "from_user", "bob", "-key", "from_domain",
                                     "203.0.113.10", "-key", "rtp_port", "40002", "-d", pause_ms});
        call.caller_msg = last_msg_;
        call.caller = spawn_process(args, dir_.file("caller.out"));
        background_.push_back(call.caller);
        const auto ports = daemon_.wait_for_log(start, 8s, mark);
        if (!ports) require_relay(mark);
        ASSERT_TRUE(ports.has_value()) << daemon_.log();
        std::smatch m;
        ASSERT_TRUE(std::regex_search(*ports, m, std::regex("inside ([0-9]+) outside ([0-9]+)")));
        call.in_port = static_cast<uint16_t>(std::stoi(m[1]));
        call.out_port = static_cast<uint16_t>(std::stoi(m[2]));
    }
    // RTP from the phone reaches bob from the outside relay port, and back.
    void expect_media_both_ways(const MediaCall& call, const std::string& tag) {
        EXPECT_EQ(relay_once(call.phone, "192.0.2.1", call.in_port, call.remote, "out-" + tag),
                  "203.0.113.1:" + std::to_string(call.out_port));
        EXPECT_EQ(relay_once(call.remote, "203.0.113.1", call.out_port, call.phone, "in-" + tag),
                  "192.0.2.1:" + std::to_string(call.in_port));
    }
    // Both SIPp ends finished their call.
    void expect_call_completed(const MediaCall& call) {
        EXPECT_TRUE(background_ok(call.caller)) << read_file(call.caller_msg) << daemon_.log();
        EXPECT_TRUE(background_ok(call.callee)) << read_file(call.callee_msg);
    }

    // Skips when rtpd does not relay yet (its START_FWD handling is the rtpd issue).
    void require_relay(size_t mark) {
        if (daemon_.wait_for_log("rtpd did not answer|rtpd unavailable", 100ms, mark))
            GTEST_SKIP() << "rtpd does not answer START_FWD in this build";
    }

    int bind_ns(const std::string& ns, const std::string& ip, uint16_t port) {
        const int fd = udp_in_ns(ns, ip, port);
        if (fd >= 0) fds_.push_back(fd);
        return fd;
    }

    TempDir dir_;
    std::string sipp_timeout_ = "20s";  // SIPp's limit for one whole call
    // The relay range (a variant may want more ports).
    std::string rtp_ports_ = "rtp_port_low = 31000\nrtp_port_high = 31099\n";
    std::string in_, fw_, out_, config_, last_msg_, bg_msg_;
    bool created_ = false;
    Daemon daemon_;
    std::optional<pid_t> sipd_;
    std::vector<pid_t> background_;
    std::vector<int> fds_;
    int runs_ = 0;
};

}  // namespace sipmasq::test
