#include "supervisor.h"

#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "build_config.h"
#include "child_spawn.h"
#include "clock.h"
#include "codec.h"
#include "json_escape.h"
#include "log.h"
#include "rate_limit.h"
#include "rtp_workers.h"
#include "sip_sockets.h"

namespace sipmasq {

namespace {

constexpr int64_t kFirstBackoffMs = 200;   // audio resumes within a second
constexpr int64_t kStableAfterMs = 60000;  // up this long: backoff starts over
constexpr int kStopGraceSeconds = 5;
constexpr uint32_t kChildLogBurst = 500;  // lines per second and child
// Call records per second and child: two a call at 10,000 calls a second.
constexpr uint32_t kChildRecordBurst = 20000;
// A line a child prints longer than this is cut: the log is for people.
constexpr size_t kOutputLineMax = 1024;
// Bytes of a child's output read per wake-up, so a chatty child cannot
// starve the other one.
constexpr size_t kOutputReadMax = 16384;

}  // namespace

struct Supervisor::Child {
    Supervisor* owner = nullptr;
    proto::Process kind;
    std::string name;     // "sipd", "rtpd", or "rtpd0".."rtpdN" for several workers
    uint32_t worker = 0;  // rtpd: its index among the workers
    PortSlice ports;      // rtpd: its slice of the relay range
    std::string binary;
    pid_t pid = -1;
    std::unique_ptr<proto::Channel> channel;
    EventPtr read_event;
    EventPtr restart_timer;
    UniqueFd output;  // read end of the pipe on its stdout and stderr
    EventPtr output_event;
    std::string output_line;  // a line not yet ended by a newline
    // Its ends of the newest sipd<->rtpd pairs not yet handed over: an rtpd
    // worker has one; sipd one per worker (index = worker).
    std::vector<UniqueFd> pending_peers;
    bool ready = false;
    bool restart_to_reload = false;  // stopped on purpose: start again at once
    // A child (say, one turned by an attacker) cannot flood the log.
    RateLimit log_limit{kChildLogBurst, 1000};
    bool log_suppressing = false;
    RateLimit record_limit{kChildRecordBurst, 1000};
    bool record_suppressing = false;
    unsigned restarts = 0;
    int64_t started_ms = 0;
    int64_t backoff_ms = kFirstBackoffMs;
    std::deque<int64_t> deaths;
};

Supervisor::Supervisor(Config config, SupervisorOptions options, std::vector<SipSocket> sip_sockets,
                       UniqueFd state_dir)
    : config_(std::move(config)),
      options_(std::move(options)),
      sip_sockets_(std::move(sip_sockets)),
      state_dir_(std::move(state_dir)),
      base_(event_base_new()) {
    if (!base_) {
        log_error("cannot create the event loop");
        std::exit(EXIT_FAILURE);
    }
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) {
        EventPtr ev(evsignal_new(base_.get(), sig, on_signal, this));
        if (!ev || event_add(ev.get(), nullptr) != 0) {
            log_error("cannot watch signal %d", sig);
            std::exit(EXIT_FAILURE);
        }
        signal_events_.push_back(std::move(ev));
    }
    // A write to a child that just died must be an error, not a signal.
    (void)::signal(SIGPIPE, SIG_IGN);

    auto make_child = [this](proto::Process kind, std::string name, const char* binary) {
        auto child = std::make_unique<Child>();
        child->owner = this;
        child->kind = kind;
        child->name = std::move(name);
        child->binary = child_binary_path(binary);
        child->restart_timer.reset(evtimer_new(base_.get(), on_restart_timer, child.get()));
        return child;
    };
    // Each rtpd worker owns a slice of the relay range (the configuration
    // check made sure the range holds one for each).
    const auto slices =
        split_port_range(config_.rtp_port_low, config_.rtp_port_high, rtp_worker_count(config_));
    for (uint32_t i = 0; i < slices.size(); ++i) {
        auto worker =
            make_child(proto::Process::Rtpd,
                       slices.size() == 1 ? "rtpd" : "rtpd" + std::to_string(i), "sipmasq-rtpd");
        worker->worker = i;
        worker->ports = slices[i];
        worker->pending_peers.resize(1);
        rtpd_.push_back(std::move(worker));
    }
    sipd_ = make_child(proto::Process::Sipd, "sipd", "sipmasq-sipd");
    sipd_->pending_peers.resize(rtpd_.size());
    kill_timer_.reset(evtimer_new(base_.get(), on_kill_timer, this));
}

Supervisor::~Supervisor() = default;

std::vector<Supervisor::Child*> Supervisor::children() const {
    std::vector<Child*> all{sipd_.get()};
    for (const auto& worker : rtpd_) all.push_back(worker.get());
    return all;
}

int Supervisor::run() {
    started_ms_ = monotonic_ms();
    if (!config_.control_socket.empty()) {
        std::string error;
        control_ = ControlServer::open(base_.get(), config_.control_socket, *this, error);
        if (!control_) {
            log_error("%s", error.c_str());
            return EXIT_FAILURE;
        }
    }
    if (watch_ && !watch_->start(base_.get(), [this](Side side, const SockAddr& addr, bool came) {
            address_changed(side, addr, came);
        })) {
        log_error("cannot watch the interfaces' addresses");
        return EXIT_FAILURE;
    }
    if (rtpd_.empty()) {
        log_error("the RTP range %u-%u cannot be split among the rtpd workers",
                  config_.rtp_port_low, config_.rtp_port_high);
        return EXIT_FAILURE;
    }
    for (auto& worker : rtpd_) start_child(*worker);
    start_child(*sipd_);
    event_base_dispatch(base_.get());
    return exit_code_;
}

void Supervisor::on_signal(evutil_socket_t sig, short /*what*/, void* arg) noexcept {
    static_cast<Supervisor*>(arg)->handle_signal(static_cast<int>(sig));
}

void Supervisor::on_channel(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
    auto* child = static_cast<Child*>(arg);
    child->owner->handle_channel(*child);
}

void Supervisor::on_restart_timer(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
    auto* child = static_cast<Child*>(arg);
    if (!child->owner->stopping_) child->owner->start_child(*child);
}

void Supervisor::on_output(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
    auto* child = static_cast<Child*>(arg);
    child->owner->read_output(*child, false);
}

void Supervisor::on_kill_timer(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
    auto* self = static_cast<Supervisor*>(arg);
    for (Child* child : self->children()) {
        if (child->pid > 0) {
            log_warning("%s (pid %d) did not stop within %d s; killing it", child->name.c_str(),
                        static_cast<int>(child->pid), kStopGraceSeconds);
            ::kill(child->pid, SIGKILL);
        }
    }
}

void Supervisor::handle_signal(int sig) {
    switch (sig) {
        case SIGCHLD:
            reap_children();
            break;
        case SIGHUP:
            reload();
            break;
        default:
            log_notice("received %s; stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            begin_stop(0);
            break;
    }
}

void Supervisor::start_child(Child& child) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) {
        log_error("cannot create the channel to %s: %s", child.name.c_str(), std::strerror(errno));
        begin_stop(1);
        return;
    }
    UniqueFd ours(pair[0]);
    UniqueFd theirs(pair[1]);
    // Room for bursts of call records (two a call) on the child's side,
    // which never blocks on its log: beyond the kernel's default only with
    // CAP_NET_ADMIN, else as much as it allows.
    const int record_room = 4 << 20;
    if (::setsockopt(theirs.get(), SOL_SOCKET, SO_SNDBUFFORCE, &record_room, sizeof record_room) !=
        0)
        (void)::setsockopt(theirs.get(), SOL_SOCKET, SO_SNDBUF, &record_room, sizeof record_room);
    std::vector<std::string> args = {"-c", options_.config_path};
    if (!options_.log_level.empty()) {
        args.emplace_back("-d");
        args.push_back(options_.log_level);
    }
    int out_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        log_error("cannot create the output pipe of %s: %s", child.name.c_str(),
                  std::strerror(errno));
        begin_stop(1);
        return;
    }
    UniqueFd output(out_pipe[0]);
    const UniqueFd child_output(out_pipe[1]);
    // The child's end blocks: a child that prints faster than we read
    // waits instead of losing its line.
    ::fcntl(child_output.get(), F_SETFL, 0);
    if (child.kind == proto::Process::Rtpd) {
        // Its worker number and its slice of the range, from the parent's
        // configuration: a file edited since then cannot make two workers'
        // pools overlap.
        args.emplace_back("-w");
        args.push_back(std::to_string(child.worker) + ":" + child.ports.to_string());
    }
    const ChildLimits limits =
        child.kind == proto::Process::Sipd ? sipd_limits() : rtpd_limits(child.ports.pairs());
    const pid_t pid = spawn_child(child.binary, args, theirs.get(), child_output.get(), limits);
    if (pid < 0) {
        log_error("cannot start %s (%s): %s", child.name.c_str(), child.binary.c_str(),
                  std::strerror(-pid));
        begin_stop(1);
        return;
    }
    child.output = std::move(output);
    child.output_line.clear();
    child.output_event.reset(
        event_new(base_.get(), child.output.get(), EV_READ | EV_PERSIST, on_output, &child));
    event_add(child.output_event.get(), nullptr);
    child.pid = pid;
    child.ready = false;
    child.started_ms = monotonic_ms();
    const auto channel_kind = child.kind == proto::Process::Sipd ? proto::ChannelKind::ParentSipd
                                                                 : proto::ChannelKind::ParentRtpd;
    child.channel =
        std::make_unique<proto::Channel>(std::move(ours), channel_kind, proto::Process::Parent);
    child.read_event.reset(
        event_new(base_.get(), child.channel->fd(), EV_READ | EV_PERSIST, on_channel, &child));
    event_add(child.read_event.get(), nullptr);
    log_info("started %s (pid %d)", child.name.c_str(), static_cast<int>(pid));
    // Every start gets fresh sipd<->rtpd pairs; the survivors get their end
    // at once, the new child once it has said HELLO.
    refresh_peer_channel(child);
}

void Supervisor::refresh_peer_channel(Child& started) {
    // A new sipd gets a fresh pair with every worker; a new worker one with
    // sipd. Non-blocking at both ends (the flag travels with the
    // descriptor): each child drains its channel until EAGAIN inside its
    // event loop.
    for (auto& worker : rtpd_) {
        if (&started != sipd_.get() && &started != worker.get()) continue;
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) {
            log_error("cannot create the sipd-%s channel: %s", worker->name.c_str(),
                      std::strerror(errno));
            begin_stop(1);
            return;
        }
        sipd_->pending_peers[worker->worker].reset(pair[0]);
        worker->pending_peers[0].reset(pair[1]);
    }
    for (Child* child : children()) {
        if (child->channel && child->channel->state() != proto::ChannelState::AwaitHello)
            send_pending_peer(*child);
    }
}

void Supervisor::send_pending_peer(Child& child) {
    if (!child.channel) return;
    const auto workers = static_cast<uint32_t>(rtpd_.size());
    for (size_t i = 0; i < child.pending_peers.size(); ++i) {
        UniqueFd& fd = child.pending_peers[i];
        if (!fd) continue;
        // sipd's i-th end leads to worker i; a worker's one end to sipd.
        const uint32_t worker =
            child.kind == proto::Process::Sipd ? static_cast<uint32_t>(i) : child.worker;
        const proto::PeerChannelMsg payload{worker, workers};
        const int rc = child.channel->send(proto::MsgType::PeerChannel, 0, payload, fd.get());
        if (rc < 0) {
            log_error("cannot hand %s its channel to its peer: %s", child.name.c_str(),
                      std::strerror(-rc));
            continue;
        }
        fd.reset();
    }
}

void Supervisor::send_configuration(Child& child) {
    if (child.kind == proto::Process::Sipd) {
        for (const auto& sock : sip_sockets_) (void)send_sip_socket(child, sock);
        if (state_dir_) {
            const int rc = child.channel->send_empty(proto::MsgType::StateDir, 0, state_dir_.get());
            if (rc < 0) log_error("cannot hand sipd its state directory: %s", std::strerror(-rc));
        }
    }
    send_pending_peer(child);
}

void Supervisor::handle_channel(Child& child) {
    // The lines of one wake-up reach stderr (or the journal) in one write.
    const StderrBatch batch;
    // Every frame waiting, up to a bound per wake-up so one chatty child
    // cannot starve the other: a child sends a pass's lines together, at
    // most LogQueue::kFrames in one go.
    for (int i = 0; i < 64 && child.channel; ++i) {
        proto::Message msg{};
        UniqueFd fd;
        const auto status = child.channel->receive(msg, fd);
        if (status == proto::ReceiveStatus::Nothing) return;
        if (status == proto::ReceiveStatus::Closed) {
            // The child is gone or going; SIGCHLD does the rest.
            child.read_event.reset();
            return;
        }
        if (status == proto::ReceiveStatus::IoError) {
            log_warning("channel to %s (pid %d) failed: %s", child.name.c_str(),
                        static_cast<int>(child.pid), std::strerror(child.channel->last_errno()));
            child.read_event.reset();
            return;
        }
        if (status == proto::ReceiveStatus::Invalid) {
            log_warning("bad message from %s (pid %d): %s", child.name.c_str(),
                        static_cast<int>(child.pid),
                        proto::decode_error_name(child.channel->last_decode_error()));
            (void)child.channel->send_error_for_last();
            continue;
        }
        handle_message(child, msg, std::move(fd));
    }
}

void Supervisor::handle_message(Child& child, const proto::Message& msg, UniqueFd /*fd*/) {
    switch (static_cast<proto::MsgType>(msg.header.type)) {
        case proto::MsgType::Hello: {
            const auto hello = proto::payload_as<proto::HelloMsg>(msg);
            log_debug("%s (pid %d) says hello", child.name.c_str(), static_cast<int>(hello.pid));
            send_configuration(child);
            break;
        }
        case proto::MsgType::Ready:
            child.ready = true;
            log_notice("%s ready (pid %d)", child.name.c_str(), static_cast<int>(child.pid));
            break;
        case proto::MsgType::Log: {
            // proto allows syslog's 0..7; anything above error stays an error.
            const uint8_t raw = proto::payload_as<proto::LogHead>(msg).level;
            const auto level =
                std::max(static_cast<LogLevel>(raw & ~proto::kLogRecord), LogLevel::Error);
            relay_child_line(child, level, proto::payload_text(msg, sizeof(proto::LogHead)),
                             (raw & proto::kLogRecord) != 0);
            break;
        }
        case proto::MsgType::CtlReply:
            if (control_) {
                control_->child_reply(child.kind, child.worker, msg.header.seq,
                                      proto::payload_text(msg, sizeof(proto::CtlReplyHead)),
                                      proto::payload_as<proto::CtlReplyHead>(msg).last != 0);
            }
            break;
        case proto::MsgType::Ping: {
            const auto ping = proto::payload_as<proto::PingMsg>(msg);
            (void)child.channel->send(proto::MsgType::Pong, 0, ping, -1, msg.header.seq);
            break;
        }
        default:
            log_debug("%s sent %s; ignored", child.name.c_str(),
                      proto::msg_type_name(static_cast<proto::MsgType>(msg.header.type)));
            break;
    }
}

void Supervisor::relay_child_line(Child& child, LogLevel level, std::string_view text,
                                  bool record) {
    uint64_t suppressed = 0;
    if (record) {
        // Call records have their own, larger budget: chatter cannot crowd
        // them out, and a turned child still cannot flood without bound.
        if (!child.record_limit.allow(monotonic_ms(), suppressed)) {
            if (!child.record_suppressing)
                log_warning("%s[%d]: more than %u call records a second; suppressing",
                            child.name.c_str(), static_cast<int>(child.pid), kChildRecordBurst);
            child.record_suppressing = true;
            return;
        }
        child.record_suppressing = false;
        if (suppressed > 0)
            log_warning("%s[%d]: %llu call records suppressed (more than %u a second)",
                        child.name.c_str(), static_cast<int>(child.pid),
                        static_cast<unsigned long long>(suppressed), kChildRecordBurst);
        log_write(LogLevel::Notice, "%s[%d]: %.*s", child.name.c_str(), static_cast<int>(child.pid),
                  static_cast<int>(text.size()), text.data());
        return;
    }
    if (!child.log_limit.allow(monotonic_ms(), suppressed)) {
        if (!child.log_suppressing)
            log_warning("%s[%d]: more than %u log lines a second; suppressing", child.name.c_str(),
                        static_cast<int>(child.pid), kChildLogBurst);
        child.log_suppressing = true;
        return;
    }
    child.log_suppressing = false;
    if (suppressed > 0)
        log_warning("%s[%d]: %llu log lines suppressed (more than %u a second)", child.name.c_str(),
                    static_cast<int>(child.pid), static_cast<unsigned long long>(suppressed),
                    kChildLogBurst);
    log_write(level, "%s[%d]: %.*s", child.name.c_str(), static_cast<int>(child.pid),
              static_cast<int>(text.size()), text.data());
}

void Supervisor::read_output(Child& child, bool drain) {
    // Output is not a LOG message: it is what libc or a library printed
    // (or anything a turned child wants to say), so it is marked as such,
    // stripped of control characters and cut to one bounded line.
    const StderrBatch batch;
    auto flush = [this, &child] {
        for (char& c : child.output_line)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
        if (!child.output_line.empty())
            relay_child_line(child, LogLevel::Warning, "output: " + child.output_line);
        child.output_line.clear();
    };
    size_t total = 0;
    char buf[4096];
    while (child.output && (drain || total < kOutputReadMax)) {
        const ssize_t n = ::read(child.output.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                // Every writer is gone: the child exited.
                flush();
                child.output_event.reset();
                child.output.reset();
            }
            return;
        }
        total += static_cast<size_t>(n);
        for (ssize_t i = 0; i < n; ++i) {
            if (buf[i] == '\n') {
                flush();
            } else if (child.output_line.size() < kOutputLineMax) {
                child.output_line.push_back(buf[i]);
            }
        }
    }
}

void Supervisor::reap_children() {
    for (;;) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) break;
        for (Child* child : children()) {
            if (child->pid == pid) child_died(*child, status);
        }
    }
    if (stopping_ && all_stopped()) event_base_loopbreak(base_.get());
}

void Supervisor::child_died(Child& child, int status) {
    const pid_t pid = child.pid;
    // What it printed before it died belongs to it, not to its successor.
    read_output(child, true);
    child.output_event.reset();
    child.output.reset();
    child.output_line.clear();
    child.pid = -1;
    child.ready = false;
    child.read_event.reset();
    child.channel.reset();
    if (control_) control_->child_gone(child.kind, child.worker);
    if (stopping_) {
        log_info("%s (pid %d) stopped", child.name.c_str(), static_cast<int>(pid));
        return;
    }
    if (child.restart_to_reload) {
        // Not a crash: no backoff, not counted as a death.
        child.restart_to_reload = false;
        log_notice("%s (pid %d) stopped to apply the new configuration; starting it again",
                   child.name.c_str(), static_cast<int>(pid));
        start_child(child);
        return;
    }
    char how[64];
    if (WIFSIGNALED(status)) {
        (void)std::snprintf(how, sizeof how, "was killed by signal %d (%s)", WTERMSIG(status),
                            strsignal(WTERMSIG(status)));
    } else {
        (void)std::snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(status));
    }

    const int64_t now = monotonic_ms();
    if (now - child.started_ms >= kStableAfterMs) child.backoff_ms = kFirstBackoffMs;
    child.deaths.push_back(now);
    while (!child.deaths.empty() && now - child.deaths.front() > options_.death_window_ms)
        child.deaths.pop_front();
    ++child.restarts;
    log_error(
        "%s (pid %d) %s; %zu deaths in the last %lld s; restarting it in %lld ms (restart %u)",
        child.name.c_str(), static_cast<int>(pid), how, child.deaths.size(),
        static_cast<long long>(options_.death_window_ms / 1000),
        static_cast<long long>(child.backoff_ms), child.restarts);
    const timeval delay{static_cast<time_t>(child.backoff_ms / 1000),
                        static_cast<suseconds_t>((child.backoff_ms % 1000) * 1000)};
    evtimer_add(child.restart_timer.get(), &delay);
    // A child that keeps dying is retried for ever, at most
    // restart_backoff_max apart: giving up would stop the other child and
    // every running call with it.
    child.backoff_ms =
        std::min(child.backoff_ms * 2, static_cast<int64_t>(config_.restart_backoff_max) * 1000);
}

void Supervisor::begin_stop(int exit_code) {
    if (exit_code != 0) exit_code_ = exit_code;
    if (stopping_) return;
    stopping_ = true;
    for (Child* child : children()) {
        evtimer_del(child->restart_timer.get());
        if (child->pid > 0) ::kill(child->pid, SIGTERM);
    }
    if (all_stopped()) {
        event_base_loopbreak(base_.get());
        return;
    }
    const timeval grace{kStopGraceSeconds, 0};
    evtimer_add(kill_timer_.get(), &grace);
}

bool Supervisor::all_stopped() const {
    for (const Child* child : children())
        if (child->pid > 0) return false;
    return true;
}

std::vector<std::string> Supervisor::reload() {
    std::vector<std::string> lines;
    auto say = [&lines](LogLevel level, std::string line) {
        log_line(level, line);
        lines.push_back(std::move(line));
    };
    log_notice("re-reading %s", options_.config_path.c_str());
    ConfigResult result = load_config_file(options_.config_path);
    for (const auto& warning : result.warnings) say(LogLevel::Warning, warning.to_string());
    if (!result.ok()) {
        for (const auto& error : result.errors) say(LogLevel::Error, error.to_string());
        say(LogLevel::Error, "reload refused: " + options_.config_path + " has " +
                                 std::to_string(result.errors.size()) +
                                 " error(s); still running with the previous configuration");
        return lines;
    }
    // A watched interface's addresses are followed as they come and go: a
    // reload sees what the watch sees, not a change to apply.
    if (watch_)
        for (Side side : {Side::Inside, Side::Outside})
            if (watch_->watches(side))
                (side == Side::Inside ? result.config.inbound_addrs
                                      : result.config.outbound_addrs) = watch_->usable(side);
    const auto changes = config_diff(config_, result.config);
    if (changes.empty()) say(LogLevel::Notice, "reload: configuration unchanged");
    for (const auto& change : changes) say(LogLevel::Notice, "reload: " + change);

    // The children read the file when they start, so a reload restarts the
    // child whose keys changed. That costs no call: sipd reloads its
    // registrations and learns the forwards from rtpd; rtpd is handed
    // every forward again by sipd, on the same ports.
    bool needs_restart = false, sipd_affected = false, rtpd_affected = false;
    for (const auto& key : config_key_table()) {
        if (!key.supported ||
            config_value_string(config_, key.name) == config_value_string(result.config, key.name))
            continue;
        const std::string_view name(key.name);
        if (key.reload == ReloadPolicy::NeedsRestart) {
            needs_restart = true;
        } else if (name == "debug_level" || name == "silence_log") {
            sipd_affected = rtpd_affected = true;
        } else if (name.rfind("rtp_", 0) == 0) {
            rtpd_affected = true;
        } else {
            sipd_affected = true;
        }
    }
    if (needs_restart) {
        say(LogLevel::Warning,
            "reload: not applied: a key that needs a restart of sipmasq changed; the running "
            "configuration stays until then");
        return lines;
    }
    // A name in host_outbound (dyndns) is looked up when sipd starts, so a
    // reload looks it up again even when the file did not change.
    if (!result.config.host_outbound.empty() && !SockAddr::parse(result.config.host_outbound)) {
        sipd_affected = true;
        say(LogLevel::Notice, "reload: host_outbound " + result.config.host_outbound +
                                  " is a name: sipd looks it up again");
    }
    for (Child* child : children()) {
        const bool affected = child == sipd_.get() ? sipd_affected : rtpd_affected;
        if (!affected || child->pid <= 0) continue;
        child->restart_to_reload = true;
        ::kill(child->pid, SIGTERM);
        say(LogLevel::Notice, std::string("reload: restarting ") + child->name + " to apply it");
    }
    config_ = std::move(result.config);
    return lines;
}

std::string Supervisor::control_status(bool json) {
    const long long uptime = (monotonic_ms() - started_ms_) / 1000;
    std::string out;
    char line[256];
    if (json) {
        (void)std::snprintf(line, sizeof line,
                            "{\"version\":\"%s\",\"pid\":%d,\"uptime\":%lld,\"children\":[",
                            SIPMASQ_VERSION, static_cast<int>(::getpid()), uptime);
        out = line;
        bool first = true;
        for (const Child* child : children()) {
            (void)std::snprintf(line, sizeof line,
                                "%s{\"name\":\"%s\",\"pid\":%d,\"ready\":%s,\"restarts\":%u",
                                first ? "" : ",", child->name.c_str(), static_cast<int>(child->pid),
                                child->ready ? "true" : "false", child->restarts);
            out += line;
            if (child->kind == proto::Process::Rtpd)
                out += ",\"worker\":" + std::to_string(child->worker) + ",\"ports\":\"" +
                       child->ports.to_string() + "\"";
            out += "}";
            first = false;
        }
        out += "]}\n";
        return out;
    }
    (void)std::snprintf(line, sizeof line, "sipmasq %s, pid %d, up %lld s\n%-6s %8s %-9s %8s %s\n",
                        SIPMASQ_VERSION, static_cast<int>(::getpid()), uptime, "CHILD", "PID",
                        "STATE", "RESTARTS", "PORTS");
    out = line;
    for (const Child* child : children()) {
        const std::string ports =
            child->kind == proto::Process::Rtpd ? child->ports.to_string() : "-";
        (void)std::snprintf(line, sizeof line, "%-6s %8d %-9s %8u %s\n", child->name.c_str(),
                            static_cast<int>(child->pid),
                            child->ready ? "ready" : (child->pid > 0 ? "starting" : "down"),
                            child->restarts, ports.c_str());
        out += line;
    }
    return out;
}

std::string Supervisor::control_reload(bool json) {
    const auto lines = reload();
    std::string out = json ? "{\"log\":[" : "";
    bool first = true;
    for (const auto& line : lines) {
        if (json) {
            out += (first ? "\"" : ",\"") + json_escape(line) + "\"";
        } else {
            out += line + "\n";
        }
        first = false;
    }
    if (json) out += "]}\n";
    return out;
}

uint32_t Supervisor::control_workers() const {
    return static_cast<uint32_t>(rtpd_.size());
}

uint32_t Supervisor::control_ask(proto::Process kind, uint32_t worker, uint32_t what) {
    if (kind == proto::Process::Rtpd && worker >= rtpd_.size()) return 0;
    Child& child = kind == proto::Process::Sipd ? *sipd_ : *rtpd_[worker];
    if (!child.ready || !child.channel) return 0;
    proto::CtlRequestMsg request{};
    request.what = what;
    if (child.channel->send(proto::MsgType::CtlRequest, 0, request) < 0) return 0;
    return child.channel->last_sent_seq();
}

// Addresses that come and go on a watched interface: an address that
// came gets its SIP sockets, opened here (sipd cannot bind port 5060) and
// handed to sipd; one that went has them closed. Both children are told
// either way (LOCAL_ADDRESS): sipd moves what it advertises, rtpd what it
// counts as its own.
bool Supervisor::send_sip_socket(Child& child, const SipSocket& sock) {
    proto::SipSocketMsg payload{};
    payload.side = sock.side;
    payload.transport = sock.transport;
    payload.local = proto::to_wire(sock.local);
    const int rc = child.channel->send(proto::MsgType::SipSocket, 0, payload, sock.fd.get());
    if (rc < 0) log_error("cannot hand sipd its SIP socket: %s", std::strerror(-rc));
    return rc >= 0;
}

void Supervisor::address_changed(Side side, const SockAddr& addr, bool came) {
    const uint8_t wire_side = side == Side::Inside ? proto::kSideInside : proto::kSideOutside;
    const std::string& name = watch_->name(side);
    (side == Side::Inside ? config_.inbound_addrs : config_.outbound_addrs) = watch_->usable(side);
    std::vector<SipSocket> opened;
    if (came) {
        std::string error;
        if (!open_sip_sockets_for(config_, side, addr, opened, error)) {
            log_error("%s address %s came on %s, but %s; that address is not served",
                      side_name(side), addr.host_string().c_str(), name.c_str(), error.c_str());
            return;
        }
        log_notice("%s address %s came on %s: SIP sockets open on port %u", side_name(side),
                   addr.host_string().c_str(), name.c_str(), config_.sip_listen_port);
    } else {
        const size_t before = sip_sockets_.size();
        std::erase_if(sip_sockets_, [&](const SipSocket& s) {
            return s.side == wire_side && s.local.same_host(addr);
        });
        log_notice("%s address %s went from %s: %zu SIP sockets closed", side_name(side),
                   addr.host_string().c_str(), name.c_str(), before - sip_sockets_.size());
    }
    // A child still starting gets the sockets with its configuration, and
    // reads its addresses itself.
    auto configured = [](const Child& child) {
        return child.channel && child.channel->state() != proto::ChannelState::AwaitHello;
    };
    for (SipSocket& sock : opened) {
        if (configured(*sipd_)) (void)send_sip_socket(*sipd_, sock);
        sip_sockets_.push_back(std::move(sock));
    }
    proto::LocalAddressMsg msg{};
    msg.side = wire_side;
    msg.change = came ? proto::kAddressCame : proto::kAddressGone;
    msg.ifindex = ::if_nametoindex(name.c_str());
    SockAddr bare = addr;
    bare.set_port(0);
    msg.local = proto::to_wire(bare);
    for (Child* child : children()) {
        if (!configured(*child)) continue;
        const int rc = child->channel->send(proto::MsgType::LocalAddress, 0, msg);
        if (rc < 0)
            log_error("cannot tell %s about address %s: %s", child->name.c_str(),
                      addr.host_string().c_str(), std::strerror(-rc));
    }
}

}  // namespace sipmasq
