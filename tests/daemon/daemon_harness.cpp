#include "daemon_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace sipmasq::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TempDir::TempDir() {
    char tmpl[] = "/tmp/sipmasq-test-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    if (made == nullptr) std::abort();
    path_ = made;
    // Jails below must be reachable and owned by root: 0755.
    ::chmod(path_.c_str(), 0755);
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

std::string build_root() {
    const char* env = std::getenv("SIPMASQ_BUILD_ROOT");
    return env != nullptr ? env : ".";
}

std::string source_root() {
    const char* env = std::getenv("SIPMASQ_SOURCE_ROOT");
    return env != nullptr ? env : "..";
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

uint16_t free_udp_port(const char* addr, bool even) {
    for (int attempt = 0; attempt < 200; ++attempt) {
        const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        ::inet_pton(AF_INET, addr, &sin.sin_addr);
        ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
        socklen_t len = sizeof sin;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
        ::close(fd);
        const uint16_t port = ntohs(sin.sin_port);
        if (!even || port % 2 == 0) return port;
    }
    return 0;
}

std::optional<ProcStatus> read_proc_status(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    if (!in) return std::nullopt;
    ProcStatus st;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string key;
        fields >> key;
        if (key == "Uid:" || key == "Gid:") {
            long v;
            auto& out = key == "Uid:" ? st.uid : st.gid;
            while (fields >> v) out.push_back(v);
        } else if (key == "CapEff:") {
            fields >> st.cap_eff;
        } else if (key == "CapPrm:") {
            fields >> st.cap_prm;
        } else if (key == "CapBnd:") {
            fields >> st.cap_bnd;
        } else if (key == "CapAmb:") {
            fields >> st.cap_amb;
        } else if (key == "NoNewPrivs:") {
            fields >> st.no_new_privs;
        } else if (key == "Seccomp:") {
            fields >> st.seccomp;
        } else if (key == "PPid:") {
            fields >> st.ppid;
        }
    }
    return st;
}

bool process_exists(pid_t pid) {
    if (pid <= 0) return false;
    if (::kill(pid, 0) != 0) return errno != ESRCH;
    // A zombie still answers kill(0); it is not running any more.
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    std::getline(in, stat);
    const auto close = stat.rfind(')');
    return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] != 'Z';
}

int run_command(const std::vector<std::string>& argv, std::string& output,
                std::chrono::milliseconds timeout) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(pipefd[1], 1);
        ::dup2(pipefd[1], 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        _exit(127);
    }
    ::close(pipefd[1]);
    ::fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    bool exited = false;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
        ssize_t n;
        while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0)
            output.append(buf, static_cast<size_t>(n));
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            exited = true;
            break;
        }
        std::this_thread::sleep_for(10ms);
    }
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) output.append(buf, static_cast<size_t>(n));
    ::close(pipefd[0]);
    if (!exited) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Daemon::~Daemon() {
    if (pid_ > 0) {
        // Children first (they belong to this daemon), then the parent.
        for (pid_t child : children_seen_)
            if (process_exists(child)) ::kill(child, SIGKILL);
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

bool Daemon::start(const std::string& config_path, const std::string& dir,
                   const std::vector<std::string>& extra) {
    log_path_ = dir + "/sipmasq.log";
    const std::string binary = build_root() + "/parent/sipmasq";
    std::vector<std::string> argv = {binary, "-f", "-c", config_path, "-d", "debug"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
        const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
        ::dup2(fd, 2);
        ::dup2(fd, 1);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        _exit(127);
    }
    pid_ = pid;
    return true;
}

std::string Daemon::log() const {
    return read_file(log_path_);
}

size_t Daemon::log_size() const {
    struct stat st {};
    return ::stat(log_path_.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

std::optional<std::string> Daemon::wait_for_log(const std::string& pattern,
                                                std::chrono::milliseconds timeout, size_t from) {
    const std::regex re(pattern);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
        const std::string text = log();
        if (text.size() > from) {
            std::smatch m;
            const std::string tail = text.substr(from);
            if (std::regex_search(tail, m, re)) return m.size() > 1 ? m[1].str() : m[0].str();
        }
        std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return std::nullopt;
}

std::optional<pid_t> Daemon::wait_ready(const std::string& child, std::chrono::milliseconds timeout,
                                        size_t from) {
    const auto found = wait_for_log(child + " ready \\(pid ([0-9]+)\\)", timeout, from);
    if (!found) return std::nullopt;
    const pid_t pid = static_cast<pid_t>(std::stol(*found));
    children_seen_.push_back(pid);
    return pid;
}

std::optional<int> Daemon::stop(int sig, std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return std::nullopt;
    ::kill(pid_, sig);
    return wait_exit(timeout);
}

std::optional<int> Daemon::wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return status;
        }
        std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
}

std::string loopback_config(const TempDir& dir, uint16_t sip_port, const std::string& extra) {
    const std::string jail = dir.file("jail");
    ::mkdir(jail.c_str(), 0755);
    const uint16_t rtp_low = static_cast<uint16_t>(40000 + (::getpid() % 500) * 40);
    std::ostringstream cfg;
    cfg << "# written by the integration test\n"
        << "if_inbound = 127.0.0.1\n"
        << "if_outbound = 127.0.0.2\n"
        << "sip_listen_port = " << sip_port << "\n"
        << "rtp_port_low = " << rtp_low << "\n"
        << "rtp_port_high = " << rtp_low + 39 << "\n"
        << "user = nobody\n"
        << "chrootjail = " << jail << "\n"
        << "registration_file = " << jail << "/state/registrations\n"
        << "pid_file = " << dir.file("sipmasq.pid") << "\n"
        << "control_socket = " << dir.file("control") << "\n"
        << "daemonize = 0\n"
        // One rtpd, the one these tests watch and kill, unless a test asks
        // for workers (tests/daemon/rtpd_workers_test.cpp).
        << (extra.find("rtp_workers") == std::string::npos ? "rtp_workers = 1\n" : "") << extra;
    return cfg.str();
}

}  // namespace sipmasq::test

namespace sipmasq::test {

bool Daemon::start_prefixed(const std::vector<std::string>& prefix, const std::string& config_path,
                            const std::string& dir) {
    log_path_ = dir + "/sipmasq.log";
    std::vector<std::string> argv = prefix;
    argv.push_back(build_root() + "/parent/sipmasq");
    argv.insert(argv.end(), {"-f", "-c", config_path, "-d", "debug"});
    const pid_t pid = spawn_process(argv, log_path_);
    if (pid < 0) return false;
    pid_ = pid;
    return true;
}

pid_t spawn_process(const std::vector<std::string>& argv, const std::string& log_path) {
    const pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
        const int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        ::dup2(fd, 2);
        ::dup2(fd, 1);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        _exit(127);
    }
    return pid;
}

std::optional<int> wait_process(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0) return std::nullopt;
        if (std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return std::nullopt;
}

void RunningDaemonTest::SetUp() {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: starts the privileged daemon";
    config_path_ = dir_.file("sipmasq.conf");
    sip_port_ = free_udp_port("127.0.0.1");
    write_file(config_path_, loopback_config(dir_, sip_port_));
    ASSERT_TRUE(daemon_.start(config_path_, dir_.path()));
    sipd_ = daemon_.wait_ready("sipd", 10s);
    rtpd_ = daemon_.wait_ready("rtpd", 10s);
    ASSERT_TRUE(sipd_ && rtpd_) << daemon_.log();
}

int RunningDaemonTest::ctl(const std::vector<std::string>& args, std::string& out) {
    std::vector<std::string> argv = {build_root() + "/ctl/sipmasqctl", "-s", dir_.file("control")};
    argv.insert(argv.end(), args.begin(), args.end());
    out.clear();
    return run_command(argv, out);
}

}  // namespace sipmasq::test
