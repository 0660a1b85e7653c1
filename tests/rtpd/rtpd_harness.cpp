#include "rtpd_harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "address.h"
#include "codec.h"

namespace sipmasq::rtpdtest {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

int remaining_ms(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

bool wait_readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) > 0;
}

Got copy_of(const proto::Message& msg) {
    Got g;
    g.header = msg.header;
    g.payload.assign(msg.payload.begin(), msg.payload.end());
    return g;
}

}  // namespace

ScratchDir::ScratchDir() {
    char tmpl[] = "/tmp/sipmasq-rtpd-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    if (made == nullptr) std::abort();
    path_ = made;
    ::chmod(path_.c_str(), 0755);
}

ScratchDir::~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

std::string build_root() {
    const char* env = std::getenv("SIPMASQ_BUILD_ROOT");
    return env != nullptr ? env : ".";
}

std::string write_rtpd_config(const ScratchDir& dir, uint16_t port_low, uint16_t port_high,
                              const std::string& extra) {
    const std::string jail = dir.file("jail");
    ::mkdir(jail.c_str(), 0755);
    ::chmod(jail.c_str(), 0755);
    std::ostringstream cfg;
    cfg << "# written by the rtpd integration test\n"
        << "if_inbound = 127.0.0.1\n"
        << "if_outbound = 127.0.0.2\n"
        << "rtp_port_low = " << port_low << "\n"
        << "rtp_port_high = " << port_high << "\n"
        << "user = nobody\n"
        << "chrootjail = " << jail << "\n"
        << "registration_file = " << jail << "/state/registrations\n"
        << "pid_file = " << dir.file("sipmasq.pid") << "\n"
        << "daemonize = 0\n"
        << extra;
    const std::string path = dir.file("sipmasq.conf");
    std::ofstream(path, std::ios::trunc) << cfg.str();
    return path;
}

// ---- sipd end ---------------------------------------------------------------

SipdPeer::SipdPeer(UniqueFd sock)
    : chan_(std::move(sock), proto::ChannelKind::SipdRtpd, proto::Process::Sipd) {}

uint32_t SipdPeer::start_fwd(uint32_t id, const proto::StartFwd& sf) {
    if (chan_.send(proto::MsgType::StartFwd, id, sf) != 0) return 0;
    return chan_.last_sent_seq();
}

uint32_t SipdPeer::stop_fwd(uint32_t id) {
    if (chan_.send_empty(proto::MsgType::StopFwd, id) != 0) return 0;
    return chan_.last_sent_seq();
}

uint32_t SipdPeer::list_fwd() {
    if (chan_.send_empty(proto::MsgType::ListFwd, 0) != 0) return 0;
    return chan_.last_sent_seq();
}

uint32_t SipdPeer::ping(uint64_t nonce) {
    proto::PingMsg p{nonce};
    if (chan_.send(proto::MsgType::Ping, 0, p) != 0) return 0;
    return chan_.last_sent_seq();
}

void SipdPeer::poll_once(int ms) {
    if (closed_) return;
    if (!wait_readable(chan_.fd(), ms)) return;
    for (int i = 0; i < 100000; ++i) {
        proto::Message msg{};
        UniqueFd fd;
        const auto st = chan_.receive(msg, fd);
        if (st == proto::ReceiveStatus::Message) {
            backlog_.push_back(copy_of(msg));
            continue;
        }
        if (st == proto::ReceiveStatus::Closed || st == proto::ReceiveStatus::IoError)
            closed_ = true;
        return;  // Nothing, or Invalid (the test fails on the missing reply)
    }
}

std::optional<Got> SipdPeer::wait_for(const std::function<bool(const Got&)>& pred, int ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    size_t checked = 0;
    for (;;) {
        for (size_t i = checked; i < backlog_.size(); ++i) {
            if (pred(backlog_[i])) {
                Got g = std::move(backlog_[i]);
                backlog_.erase(backlog_.begin() + static_cast<std::ptrdiff_t>(i));
                return g;
            }
        }
        checked = backlog_.size();
        if (closed_ || Clock::now() >= deadline) return std::nullopt;
        poll_once(std::min(remaining_ms(deadline), 50));
    }
}

std::optional<Got> SipdPeer::wait_reply(uint32_t seq, int ms) {
    return wait_for([seq](const Got& g) { return g.header.seq == seq; }, ms);
}

std::optional<Got> SipdPeer::wait_type(proto::MsgType type, uint32_t peer_id, int ms) {
    return wait_for([&](const Got& g) { return g.type() == type && g.header.peer_id == peer_id; },
                    ms);
}

proto::StartFwd make_start(const char* inside_local, const char* outside_local,
                           const Endpoint& inside_peer, const Endpoint& outside_peer,
                           const std::string& tag, uint32_t flags, uint16_t inside_port,
                           uint16_t outside_port) {
    proto::StartFwd sf{};
    sf.inside_local = proto::to_wire(*SockAddr::parse(inside_local));
    sf.outside_local = proto::to_wire(*SockAddr::parse(outside_local));
    if (inside_peer.known())
        sf.inside_peer = proto::to_wire(SockAddr(inside_peer.sa(), inside_peer.len()));
    if (outside_peer.known())
        sf.outside_peer = proto::to_wire(SockAddr(outside_peer.sa(), outside_peer.len()));
    sf.inside_port = inside_port;
    sf.outside_port = outside_port;
    sf.flags = flags;
    proto::set_fixed_text(sf.tag, tag);
    return sf;
}

// ---- the process --------------------------------------------------------------

RtpdProcess::~RtpdProcess() {
    (void)kill9();
}

std::unique_ptr<SipdPeer> RtpdProcess::start(const std::string& config, std::string& error,
                                             const char* level, int ready_ms,
                                             const WorkerSlot& worker) {
    worker_ = worker.index;
    workers_ = worker.count;
    const std::string worker_arg =
        worker.ports.empty() ? "" : std::to_string(worker.index) + ":" + worker.ports;
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        error = std::string("socketpair: ") + std::strerror(errno);
        return nullptr;
    }
    UniqueFd ours(sv[0]);
    UniqueFd theirs(sv[1]);
    const std::string exe = build_root() + "/rtpd/sipmasq-rtpd";
    const pid_t pid = ::fork();
    if (pid < 0) {
        error = std::string("fork: ") + std::strerror(errno);
        return nullptr;
    }
    if (pid == 0) {
        // The child: the channel on fd 3, nothing else beyond stdio.
        int fd = theirs.get();
        if (fd == 3) {
            ::fcntl(3, F_SETFD, 0);
        } else if (::dup2(fd, 3) != 3) {
            _exit(127);
        }
        ::close_range(4, ~0U, 0);
        const char* argv[] = {exe.c_str(),
                              "-c",
                              config.c_str(),
                              "-d",
                              level,
                              worker_arg.empty() ? nullptr : "-w",
                              worker_arg.c_str(),
                              nullptr};
        ::execv(exe.c_str(), const_cast<char* const*>(argv));
        _exit(127);
    }
    pid_ = pid;
    theirs.reset();
    ::fcntl(ours.get(), F_SETFL, ::fcntl(ours.get(), F_GETFL) | O_NONBLOCK);
    parent_ = std::make_unique<proto::Channel>(std::move(ours), proto::ChannelKind::ParentRtpd,
                                               proto::Process::Parent);
    parent_backlog_.clear();
    logs_.clear();

    const auto deadline = Clock::now() + std::chrono::milliseconds(ready_ms);
    auto hello = next_parent(remaining_ms(deadline));
    if (!hello || hello->type() != proto::MsgType::Hello) {
        error = "no HELLO from rtpd";
        return nullptr;
    }
    auto sipd = new_sipd_channel();
    if (!sipd) {
        error = "cannot send PEER_CHANNEL";
        return nullptr;
    }
    for (;;) {
        auto m = next_parent(remaining_ms(deadline));
        if (!m) {
            error = "no READY from rtpd; log:";
            for (const auto& l : logs_) error += "\n  " + l;
            return nullptr;
        }
        if (m->type() == proto::MsgType::Ready) break;
    }
    return sipd;
}

std::unique_ptr<SipdPeer> RtpdProcess::new_sipd_channel() {
    int sv[2];
    if (!parent_ ||
        ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) != 0)
        return nullptr;
    UniqueFd sipd_end(sv[0]);
    UniqueFd rtpd_end(sv[1]);
    const proto::PeerChannelMsg peer{worker_, workers_};
    if (parent_->send(proto::MsgType::PeerChannel, 0, peer, rtpd_end.get()) != 0) return nullptr;
    return std::make_unique<SipdPeer>(std::move(sipd_end));
}

std::optional<Got> RtpdProcess::next_parent(int ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
        if (!parent_) return std::nullopt;
        proto::Message msg{};
        UniqueFd fd;
        const auto st = parent_->receive(msg, fd);
        if (st == proto::ReceiveStatus::Message) {
            if (msg.type() == proto::MsgType::Log) {
                logs_.emplace_back(proto::payload_text(msg, sizeof(proto::LogHead)));
                continue;
            }
            return copy_of(msg);
        }
        if (st == proto::ReceiveStatus::Closed || st == proto::ReceiveStatus::IoError)
            return std::nullopt;
        if (st == proto::ReceiveStatus::Invalid) continue;
        if (Clock::now() >= deadline) return std::nullopt;
        (void)wait_readable(parent_->fd(), std::min(remaining_ms(deadline), 50));
    }
}

void RtpdProcess::read_parent(int ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    while (auto m = next_parent(remaining_ms(deadline))) parent_backlog_.push_back(std::move(*m));
}

std::optional<std::string> RtpdProcess::wait_log(const std::string& needle, int ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    size_t checked = 0;
    for (;;) {
        for (; checked < logs_.size(); ++checked)
            if (logs_[checked].find(needle) != std::string::npos) return logs_[checked];
        if (Clock::now() >= deadline) return std::nullopt;
        read_parent(std::min(remaining_ms(deadline), 50));
    }
}

std::optional<std::string> RtpdProcess::ctl(CtlCommand command, bool json, int ms) {
    if (!parent_) return std::nullopt;
    proto::CtlRequestMsg req{};
    req.what = static_cast<uint32_t>(command) | (json ? kCtlJsonFlag : 0u);
    if (parent_->send(proto::MsgType::CtlRequest, 0, req) != 0) return std::nullopt;
    const uint32_t seq = parent_->last_sent_seq();
    const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    std::string text;
    for (;;) {
        auto m = next_parent(remaining_ms(deadline));
        if (!m) return std::nullopt;
        if (m->type() != proto::MsgType::CtlReply || m->header.seq != seq) {
            parent_backlog_.push_back(std::move(*m));
            continue;
        }
        text.append(m->payload.begin() + 1, m->payload.end());
        if (m->payload[0] == 1) return text;
    }
}

bool RtpdProcess::kill9() {
    if (pid_ <= 0) return false;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    parent_.reset();
    return true;
}

std::optional<int> RtpdProcess::terminate(int ms) {
    if (pid_ <= 0) return std::nullopt;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            parent_.reset();
            return status;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
}

int seccomp_mode(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("Seccomp:", 0) == 0) return std::atoi(line.c_str() + 8);
    return -1;
}

}  // namespace sipmasq::rtpdtest
