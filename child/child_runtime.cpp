#include "child_runtime.h"

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "codec.h"
#include "log.h"
#include "log_queue.h"
#include "privdrop.h"

namespace sipmasq {

namespace {

constexpr int kParentFd = 3;

// Log lines travel to the parent as LOG frames, gathered per pass of the
// event loop while it runs (child/log_queue.h). Plain storage, no
// constructor or destructor to run: it serves the exit paths too.
constinit LogQueue g_parent_log{kParentFd};

void parent_log_sink(LogLevel level, std::string_view line) noexcept {
    g_parent_log.write(level, line);
}

void parent_record_sink(std::string_view line) noexcept {
    g_parent_log.write(LogLevel::Notice, line, true);
}

void trap_reporter(const char* line, size_t len) noexcept {
    g_parent_log.write(LogLevel::Error, std::string_view(line, len));
}

void flush_parent_log(void* /*arg*/) noexcept {
    g_parent_log.flush();
}

// std::exit from anywhere (a fatal error after a line at info) sends what
// the pass had kept.
void flush_parent_log_at_exit() noexcept {
    g_parent_log.flush();
}

bool is_seqpacket(int fd) {
    int type = 0;
    socklen_t len = sizeof type;
    return ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET;
}

}  // namespace

ChildRuntime::ChildRuntime(proto::Process self, const char* ident, int argc, char** argv)
    : self_(self) {
    log_set_ident(ident);
    std::string config_path;
    int c;
    while ((c = getopt(argc, argv, "c:d:w:")) != -1) {
        switch (c) {
            case 'c':
                config_path = optarg;
                break;
            case 'w':
                worker_arg_ = optarg;
                break;
            case 'd': {
                LogLevel level{};
                if (log_level_from_string(optarg, level)) log_set_max_level(level);
                break;
            }
            default:
                break;
        }
    }
    if (!is_seqpacket(kParentFd)) {
        (void)std::fprintf(stderr,
                           "%s: started without its channel on fd 3; it is started by sipmasq(8), "
                           "not by hand\n",
                           ident);
        std::exit(EXIT_FAILURE);
    }
    const int flags = ::fcntl(kParentFd, F_GETFL);
    ::fcntl(kParentFd, F_SETFL, flags | O_NONBLOCK);
    ::fcntl(kParentFd, F_SETFD, FD_CLOEXEC);
    const auto kind = self == proto::Process::Sipd ? proto::ChannelKind::ParentSipd
                                                   : proto::ChannelKind::ParentRtpd;
    parent_ = std::make_unique<proto::Channel>(UniqueFd(kParentFd), kind, self);
    // HELLO first: from then on the parent accepts our log lines, so even a
    // configuration error below reaches the administrator.
    send_hello();
    log_set_sink(parent_log_sink);
    log_set_record_sink(parent_record_sink);
    set_seccomp_trap_reporter(trap_reporter);
    (void)std::atexit(flush_parent_log_at_exit);

    ConfigResult result = load_config_file(config_path);
    if (!result.ok()) {
        for (const auto& error : result.errors) log_error("%s", error.to_string().c_str());
        std::exit(EXIT_FAILURE);
    }
    config_ = std::move(result.config);

    base_.reset(event_base_new());
    if (!base_) {
        log_error("cannot create the event loop");
        std::exit(EXIT_FAILURE);
    }
    parent_event_.reset(event_new(base_.get(), kParentFd, EV_READ | EV_PERSIST, on_parent, this));
    parent_write_event_.reset(
        event_new(base_.get(), kParentFd, EV_WRITE, on_parent_writable, this));
    log_pass_end_ = std::make_unique<EndOfPass>(base_.get(), flush_parent_log, nullptr);
    term_event_.reset(evsignal_new(base_.get(), SIGTERM, on_signal, this));
    int_event_.reset(evsignal_new(base_.get(), SIGINT, on_signal, this));
    if (!parent_event_ || !term_event_ || !int_event_ ||
        event_add(parent_event_.get(), nullptr) != 0 ||
        event_add(term_event_.get(), nullptr) != 0 || event_add(int_event_.get(), nullptr) != 0) {
        log_error("cannot watch the parent channel and signals");
        std::exit(EXIT_FAILURE);
    }
    (void)::signal(SIGPIPE, SIG_IGN);
}

ChildRuntime::~ChildRuntime() {
    g_parent_log.defer_to(nullptr);
}

void ChildRuntime::enter_sandbox(std::span<const SyscallRule> rules) {
    PrivDropSpec spec;
    spec.jail = config_.chrootjail;
    // rtpd may have a user of its own (rtp_user); sipd always runs as `user`.
    const bool rtpd = self_ == proto::Process::Rtpd;
    spec.uid = rtpd ? config_.rtp_uid : config_.uid;
    spec.gid = rtpd ? config_.rtp_gid : config_.gid;
    drop_privileges(spec);
    load_seccomp(rules, build_sandbox_mode());
}

void ChildRuntime::send_hello() {
    proto::HelloMsg hello{};
    hello.pid = static_cast<uint32_t>(::getpid());
    hello.process = static_cast<uint8_t>(self_);
    hello.proto_version = proto::kProtoVersion;
    if (parent_->send(proto::MsgType::Hello, 0, hello) < 0) {
        log_error("cannot greet the parent; exiting");
        std::exit(EXIT_FAILURE);
    }
}

void ChildRuntime::send_ready() {
    if (parent_->send_empty(proto::MsgType::Ready) < 0) {
        log_error("cannot tell the parent we are ready; exiting");
        std::exit(EXIT_FAILURE);
    }
}

int ChildRuntime::run() {
    g_parent_log.defer_to(log_pass_end_.get());
    event_base_dispatch(base_.get());
    // The loop may have ended before the pass's lines went.
    log_pass_end_->disarm();
    g_parent_log.defer_to(nullptr);
    return EXIT_SUCCESS;
}

void ChildRuntime::stop() {
    if (stopping_) return;
    stopping_ = true;
    if (on_stop_) on_stop_();
    event_base_loopexit(base_.get(), nullptr);
}

void ChildRuntime::on_parent(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
    static_cast<ChildRuntime*>(arg)->handle_parent();
}

void ChildRuntime::on_signal(evutil_socket_t /*sig*/, short /*what*/, void* arg) noexcept {
    static_cast<ChildRuntime*>(arg)->stop();
}

void ChildRuntime::handle_parent() {
    for (int i = 0; i < 64; ++i) {
        proto::Message msg{};
        UniqueFd fd;
        const auto status = parent_->receive(msg, fd);
        if (status == proto::ReceiveStatus::Nothing) return;
        if (status == proto::ReceiveStatus::Closed) {
            // Without its parent a child has no one to log to or answer.
            parent_event_.reset();
            stop();
            return;
        }
        if (status == proto::ReceiveStatus::IoError) {
            log_error("channel to the parent failed: %s", std::strerror(parent_->last_errno()));
            parent_event_.reset();
            stop();
            return;
        }
        if (status == proto::ReceiveStatus::Invalid) {
            log_warning("bad message from the parent: %s",
                        proto::decode_error_name(parent_->last_decode_error()));
            (void)parent_->send_error_for_last();
            continue;
        }
        switch (static_cast<proto::MsgType>(msg.header.type)) {
            case proto::MsgType::Ping: {
                const auto ping = proto::payload_as<proto::PingMsg>(msg);
                (void)parent_->send(proto::MsgType::Pong, 0, ping, -1, msg.header.seq);
                break;
            }
            case proto::MsgType::Shutdown:
                stop();
                return;
            case proto::MsgType::CtlRequest:
                answer_ctl(msg);
                break;
            default:
                if (handler_) handler_(msg, std::move(fd));
                break;
        }
    }
}

}  // namespace sipmasq

namespace sipmasq {

void ChildRuntime::answer_ctl(const proto::Message& msg) {
    const auto request = proto::payload_as<proto::CtlRequestMsg>(msg);
    const auto command = static_cast<CtlCommand>(request.what & kCtlCommandMask);
    const bool json = (request.what & kCtlJsonFlag) != 0;
    std::string text = ctl_handler_ ? ctl_handler_(command, json)
                                    : std::string(json ? "{\"error\":\"not supported\"}\n"
                                                       : "not supported by this process\n");
    // NUL is not allowed in CTL_REPLY text.
    for (char& c : text)
        if (c == '\0') c = '?';
    replies_.push_back(PendingReply{msg.header.seq, std::move(text), 0});
    flush_replies();
}

void ChildRuntime::flush_replies() {
    while (!replies_.empty()) {
        auto& reply = replies_.front();
        const size_t len = std::min(proto::kCtlTextMax, reply.text.size() - reply.offset);
        const bool last = reply.offset + len == reply.text.size();
        uint8_t payload[sizeof(proto::CtlReplyHead) + proto::kCtlTextMax];
        payload[0] = last ? 1 : 0;
        std::copy_n(reply.text.data() + reply.offset, len, payload + 1);  // bytes, no terminator
        const int rc = parent_->send(proto::MsgType::CtlReply, 0,
                                     std::span<const uint8_t>(payload, len + 1), -1, reply.seq);
        if (rc == -EAGAIN) {
            // The parent reads slower than we write: go on when it drained.
            event_add(parent_write_event_.get(), nullptr);
            return;
        }
        if (rc < 0) {
            log_warning("cannot answer a control request: %s", std::strerror(-rc));
            replies_.pop_front();
            continue;
        }
        reply.offset += len;
        if (last) replies_.pop_front();
    }
}

void ChildRuntime::on_parent_writable(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
    static_cast<ChildRuntime*>(arg)->flush_replies();
}

}  // namespace sipmasq
