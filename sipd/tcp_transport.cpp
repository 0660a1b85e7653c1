#include "tcp_transport.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>

#include "clock.h"
#include "log.h"
#include "stream_framer.h"

namespace sipmasq {

namespace {

constexpr std::string_view kPing = "\r\n\r\n";  // RFC 5626 §4.4.1
constexpr std::string_view kPong = "\r\n";
constexpr int kAcceptsPerWake = 16;  // one busy listener cannot starve the loop
constexpr int kReadsPerWake = 8;

}  // namespace

struct TcpTransport::Listener {
    TcpTransport* owner = nullptr;
    UniqueFd fd;
    Side side = Side::Inside;
    SockAddr local;
    EventPtr event;
};

struct TcpTransport::Connection {
    Connection(TcpTransport* o, size_t max_message) : owner(o), framer(max_message) {}
    TcpTransport* owner;
    UniqueFd fd;
    Side side = Side::Inside;
    SockAddr peer;
    std::string key;
    bool outbound = false;    // we opened it: we send the keep-alive pings
    bool connecting = false;  // a non-blocking connect() in progress
    StreamFramer framer;
    std::string out;  // bytes not yet written
    int64_t opened_ms = 0;
    int64_t last_rx_ms = 0;
    int64_t last_tx_ms = 0;
    EventPtr read_ev;
    EventPtr write_ev;
    EventPtr timer_ev;
};

// Every entry point counts itself, so a connection closed meanwhile is
// freed only once no callback of it can still be running.
class DepthGuard {
  public:
    DepthGuard(int& depth, std::function<void()> at_zero)
        : depth_(depth), at_zero_(std::move(at_zero)) {
        ++depth_;
    }
    ~DepthGuard() {
        if (--depth_ == 0) at_zero_();
    }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

  private:
    int& depth_;
    std::function<void()> at_zero_;
};

TcpTransport::TcpTransport(event_base* base, TcpSettings settings, Deliver deliver, Clock clock)
    : base_(base),
      settings_(settings),
      deliver_(std::move(deliver)),
      clock_(clock ? std::move(clock) : Clock([] { return monotonic_ms(); })),
      budget_(settings.limits),
      failures_ev_(event_new(base, -1, 0, &on_failures, this)) {}

void TcpTransport::on_failures(evutil_socket_t, short, void* arg) noexcept {
    auto* self = static_cast<TcpTransport*>(arg);
    std::vector<std::pair<Side, SockAddr>> failures;
    failures.swap(self->failures_);
    for (const auto& [side, peer] : failures)
        if (self->connect_failed_) self->connect_failed_(side, peer);
}

TcpTransport::~TcpTransport() = default;

std::string TcpTransport::key_of(Side side, const SockAddr& peer) {
    return std::string(side_name(side)) + "/" + peer.to_string();
}

bool TcpTransport::add_listener(UniqueFd fd, Side side, const SockAddr& local) {
    auto l = std::make_unique<Listener>();
    l->owner = this;
    l->side = side;
    l->local = local;
    l->fd = std::move(fd);
    l->event.reset(event_new(base_, l->fd.get(), EV_READ | EV_PERSIST, &on_accept, l.get()));
    if (!l->event) return false;
    if (started_ && event_add(l->event.get(), nullptr) != 0) return false;
    listeners_.push_back(std::move(l));
    return true;
}

size_t TcpTransport::remove_listeners(Side side, const SockAddr& host) {
    return std::erase_if(listeners_, [&](const std::unique_ptr<Listener>& l) {
        return l->side == side && l->local.same_host(host);
    });
}

void TcpTransport::start() {
    started_ = true;
    for (auto& l : listeners_)
        if (event_add(l->event.get(), nullptr) != 0)
            log_error("cannot watch the TCP listener %s", l->local.to_string().c_str());
}

bool TcpTransport::connected_to(Side side, const SockAddr& peer) const {
    return conns_.count(key_of(side, peer)) != 0;
}

void TcpTransport::on_accept(evutil_socket_t, short, void* arg) noexcept {
    auto* l = static_cast<Listener*>(arg);
    TcpTransport* self = l->owner;
    DepthGuard g(self->depth_, [self] { self->reap(); });
    self->accept_from(*l);
}

void TcpTransport::on_readable(evutil_socket_t, short, void* arg) noexcept {
    auto* c = static_cast<Connection*>(arg);
    TcpTransport* self = c->owner;
    DepthGuard g(self->depth_, [self] { self->reap(); });
    if (c->fd) self->read_from(*c);
}

void TcpTransport::on_writable(evutil_socket_t, short, void* arg) noexcept {
    auto* c = static_cast<Connection*>(arg);
    TcpTransport* self = c->owner;
    DepthGuard g(self->depth_, [self] { self->reap(); });
    if (c->fd) self->write_to(*c);
}

void TcpTransport::on_timer(evutil_socket_t, short, void* arg) noexcept {
    auto* c = static_cast<Connection*>(arg);
    TcpTransport* self = c->owner;
    DepthGuard g(self->depth_, [self] { self->reap(); });
    if (c->fd) self->timer(*c);
}

void TcpTransport::accept_from(Listener& l) {
    for (int i = 0; i < kAcceptsPerWake; ++i) {
        SockAddr peer;
        socklen_t len = SockAddr::capacity();
        UniqueFd fd(::accept4(l.fd.get(), peer.sa(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            const int err = errno;
            if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR && err != ECONNABORTED) {
                uint64_t suppressed = 0;
                if (log_.allow(monotonic_ms(), suppressed))
                    log_warning("accept on %s: %s (%" PRIu64 " similar suppressed)",
                                l.local.to_string().c_str(), std::strerror(err), suppressed);
            }
            return;
        }
        // The listener is bound to its side's interface by the parent, so
        // the side of the connection is the listener's (trust by interface).
        (void)add_connection(std::move(fd), l.side, peer, false, false);
    }
}

TcpTransport::Connection* TcpTransport::add_connection(UniqueFd fd, Side side, const SockAddr& peer,
                                                       bool outbound, bool connecting) {
    const auto admission = budget_.take(peer);
    if (admission != ConnectionBudget::Admission::Ok) {
        uint64_t suppressed = 0;
        if (log_.allow(monotonic_ms(), suppressed))
            log_notice("security: connection-limit from %s: %s; TCP connection %s (%" PRIu64
                       " similar suppressed)",
                       peer.to_string().c_str(),
                       admission == ConnectionBudget::Admission::Full
                           ? "too many TCP connections in all"
                           : "too many TCP connections from this source",
                       outbound ? "not opened" : "closed", suppressed);
        return nullptr;  // `fd` closes here
    }
    std::string key = key_of(side, peer);
    if (auto old = conns_.find(key); old != conns_.end()) close(*old->second, "replaced");
    auto c = std::make_unique<Connection>(this, settings_.max_message);
    c->fd = std::move(fd);
    c->side = side;
    c->peer = peer;
    c->key = key;
    c->outbound = outbound;
    c->connecting = connecting;
    c->opened_ms = c->last_rx_ms = c->last_tx_ms = now();
    c->read_ev.reset(event_new(base_, c->fd.get(), EV_READ | EV_PERSIST, &on_readable, c.get()));
    c->write_ev.reset(event_new(base_, c->fd.get(), EV_WRITE, &on_writable, c.get()));
    c->timer_ev.reset(event_new(base_, -1, 0, &on_timer, c.get()));
    if (!c->read_ev || !c->write_ev || !c->timer_ev ||
        (!connecting && event_add(c->read_ev.get(), nullptr) != 0) ||
        (connecting && event_add(c->write_ev.get(), nullptr) != 0)) {
        budget_.give_back(peer);
        log_error("cannot watch a TCP connection with %s", peer.to_string().c_str());
        return nullptr;
    }
    Connection* raw = c.get();
    conns_.emplace(std::move(key), std::move(c));
    arm_timer(*raw);
    log_debug("TCP connection %s %s on the %s", outbound ? "to" : "from", peer.to_string().c_str(),
              side_name(side));
    return raw;
}

void TcpTransport::read_from(Connection& c) {
    static char buf[16384];
    for (int i = 0; i < kReadsPerWake; ++i) {
        const ssize_t n = ::read(c.fd.get(), buf, sizeof buf);
        if (n == 0) {
            close(c, nullptr);  // the peer closed: nothing to log
            return;
        }
        if (n < 0) {
            const int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) break;
            close(c, std::strerror(err));
            return;
        }
        c.last_rx_ms = now();
        c.framer.append(std::string_view(buf, static_cast<size_t>(n)));
        for (;;) {
            Frame f = c.framer.next();
            if (f.kind == FrameKind::NeedMore) break;
            if (f.kind == FrameKind::Error) {
                uint64_t suppressed = 0;
                if (log_.allow(monotonic_ms(), suppressed))
                    log_notice(
                        "security: bad-request from %s: TCP: %s; connection closed "
                        "(%" PRIu64 " similar suppressed)",
                        c.peer.to_string().c_str(), f.error, suppressed);
                close(c, nullptr);
                return;
            }
            if (f.kind == FrameKind::Ping) {
                if (!queue(c, kPong)) return;
                continue;
            }
            const SockAddr peer = c.peer;  // the proxy may close `c` while it handles this
            const Side side = c.side;
            deliver_(f.message, side, peer);
            if (!c.fd || conns_.count(c.key) == 0) return;
        }
        if (static_cast<size_t>(n) < sizeof buf) break;
    }
}

bool TcpTransport::send(Side side, const SockAddr& dest, std::string_view data) {
    DepthGuard g(depth_, [this] { reap(); });
    if (auto it = conns_.find(key_of(side, dest)); it != conns_.end())
        return queue(*it->second, data);
    UniqueFd fd(::socket(dest.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        log_warning("cannot open a TCP socket for %s: %s", dest.to_string().c_str(),
                    std::strerror(errno));
        return false;
    }
    bool connecting = false;
    if (::connect(fd.get(), dest.sa(), dest.len()) != 0) {
        if (errno != EINPROGRESS) {
            log_warning("TCP connect to %s: %s", dest.to_string().c_str(), std::strerror(errno));
            return false;
        }
        connecting = true;
    }
    Connection* c = add_connection(std::move(fd), side, dest, true, connecting);
    return c != nullptr && queue(*c, data);
}

bool TcpTransport::queue(Connection& c, std::string_view data) {
    if (!c.fd) return false;
    if (c.out.size() + data.size() > settings_.max_queued) {
        close(c, "the peer does not read (write queue full)");
        return false;
    }
    c.out.append(data);
    c.last_tx_ms = now();
    if (!c.connecting) write_to(c);
    return c.fd.valid();
}

void TcpTransport::write_to(Connection& c) {
    if (c.connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(c.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err != 0) {
            close(c, std::strerror(err));
            return;
        }
        c.connecting = false;
        if (event_add(c.read_ev.get(), nullptr) != 0) {
            close(c, "cannot watch it");
            return;
        }
        arm_timer(c);
    }
    while (!c.out.empty()) {
        const ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n < 0) {
            const int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) break;
            close(c, std::strerror(err));
            return;
        }
        c.out.erase(0, static_cast<size_t>(n));
    }
    if (!c.out.empty() && event_add(c.write_ev.get(), nullptr) != 0) close(c, "cannot watch it");
}

void TcpTransport::arm_timer(Connection& c) {
    int64_t deadline = c.connecting ? c.opened_ms + settings_.connect_timeout_ms
                                    : c.last_rx_ms + settings_.idle_ms;
    if (!c.connecting && c.outbound && settings_.keepalive_ms > 0)
        deadline = std::min(deadline, c.last_tx_ms + settings_.keepalive_ms);
    const int64_t delay = std::max<int64_t>(0, deadline - now());
    const timeval tv{static_cast<time_t>(delay / 1000),
                     static_cast<suseconds_t>((delay % 1000) * 1000)};
    if (event_add(c.timer_ev.get(), &tv) != 0) log_error("cannot set a TCP connection's timer");
}

void TcpTransport::timer(Connection& c) {
    const int64_t t = now();
    if (c.connecting) {
        if (t >= c.opened_ms + settings_.connect_timeout_ms) {
            close(c, "connect timed out (tcp_connect_timeout)");
            return;
        }
    } else {
        if (t >= c.last_rx_ms + settings_.idle_ms) {
            log_info("TCP connection with %s idle for %" PRId64 " s (tcp_timeout): closed",
                     c.peer.to_string().c_str(), (t - c.last_rx_ms) / 1000);
            close(c, nullptr);
            return;
        }
        if (c.outbound && settings_.keepalive_ms > 0 &&
            t >= c.last_tx_ms + settings_.keepalive_ms && !queue(c, kPing))
            return;
    }
    arm_timer(c);
}

void TcpTransport::close(Connection& c, const char* why) {
    if (!c.fd) return;
    if (why != nullptr)
        log_info("TCP connection with %s on the %s closed: %s", c.peer.to_string().c_str(),
                 side_name(c.side), why);
    (void)event_del(c.read_ev.get());
    (void)event_del(c.write_ev.get());
    (void)event_del(c.timer_ev.get());
    c.fd.reset();
    budget_.give_back(c.peer);
    // Reported from the loop: the proxy may be the caller of this close.
    if (c.outbound && c.connecting && connect_failed_ && failures_ev_ &&
        failures_.size() < settings_.limits.max_total) {
        failures_.emplace_back(c.side, c.peer);
        event_active(failures_ev_.get(), EV_TIMEOUT, 0);
    }
    auto it = conns_.find(c.key);
    if (it != conns_.end() && it->second.get() == &c) {
        closed_.push_back(std::move(it->second));
        conns_.erase(it);
    }
    if (depth_ == 0) reap();
}

void TcpTransport::reap() {
    closed_.clear();
}

}  // namespace sipmasq
