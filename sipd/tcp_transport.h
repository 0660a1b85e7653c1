// The TCP half of sipd's transport layer (RFC 3261 §18): the listeners the
// parent opened (bound to their side's interface, so the side of an
// accepted connection is its listener's), connections accepted from them
// and connections sipd opens itself (non-blocking connect). Each
// connection is framed by StreamFramer and bounded: connections in total
// and per source, message size, idle time, connect time, and the bytes
// waiting to be written. A message goes out over the connection with its
// destination on that side, or a new one. libevent drives everything.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "address.h"
#include "connection_budget.h"
#include "event_ptr.h"
#include "rate_limit.h"
#include "side.h"
#include "unique_fd.h"

namespace sipmasq {

struct TcpSettings {
    ConnectionLimits limits;
    size_t max_message = 65535;        // bytes of one message, headers and body
    size_t max_queued = 1u << 20;      // bytes waiting to be written on one connection
    int64_t idle_ms = 600000;          // tcp_timeout: nothing received this long closes
    int64_t connect_timeout_ms = 500;  // tcp_connect_timeout
    int64_t keepalive_ms = 20000;      // tcp_keepalive: CRLFCRLF on our idle connections, 0 off
};

class TcpTransport {
  public:
    // One framed message from `peer` over a connection of `side`.
    using Deliver = std::function<void(std::string_view message, Side side, const SockAddr& peer)>;
    // Milliseconds, monotonic; tests may set their own.
    using Clock = std::function<int64_t()>;
    // A connection sipd opened to `peer` on `side` could not be set up
    // (refused, unreachable, tcp_connect_timeout): a transport error for
    // what was queued on it (RFC 3261 §18.4). Called from the event loop,
    // never from within send().
    using ConnectFailed = std::function<void(Side side, const SockAddr& peer)>;

    TcpTransport(event_base* base, TcpSettings settings, Deliver deliver, Clock clock = {});
    ~TcpTransport();
    TcpTransport(const TcpTransport&) = delete;
    TcpTransport& operator=(const TcpTransport&) = delete;

    // A listening socket of `side` (non-blocking; listen() done by the parent).
    bool add_listener(UniqueFd fd, Side side, const SockAddr& local);
    // Starts accepting (once the proxy exists); a listener added later
    // accepts at once.
    void start();
    // Closes the listeners of `side` bound to `host`'s address (it went).
    size_t remove_listeners(Side side, const SockAddr& host);
    void on_connect_failed(ConnectFailed handler) { connect_failed_ = std::move(handler); }

    // Queues `data` on the connection with `dest` on `side`, opening one if
    // there is none. False when it cannot (limits, socket error).
    bool send(Side side, const SockAddr& dest, std::string_view data);

    [[nodiscard]] size_t connections() const noexcept { return conns_.size(); }
    [[nodiscard]] bool connected_to(Side side, const SockAddr& peer) const;

  private:
    struct Listener;
    struct Connection;

    static void on_accept(evutil_socket_t fd, short what, void* arg) noexcept;
    static void on_readable(evutil_socket_t fd, short what, void* arg) noexcept;
    static void on_writable(evutil_socket_t fd, short what, void* arg) noexcept;
    static void on_timer(evutil_socket_t fd, short what, void* arg) noexcept;
    static void on_failures(evutil_socket_t fd, short what, void* arg) noexcept;

    void accept_from(Listener& l);
    Connection* add_connection(UniqueFd fd, Side side, const SockAddr& peer, bool outbound,
                               bool connecting);
    void read_from(Connection& c);
    void write_to(Connection& c);
    void timer(Connection& c);
    void arm_timer(Connection& c);
    bool queue(Connection& c, std::string_view data);
    void close(Connection& c, const char* why);
    void reap();
    [[nodiscard]] static std::string key_of(Side side, const SockAddr& peer);
    [[nodiscard]] int64_t now() const { return clock_(); }

    event_base* base_;
    TcpSettings settings_;
    Deliver deliver_;
    Clock clock_;
    ConnectionBudget budget_;
    std::vector<std::unique_ptr<Listener>> listeners_;
    bool started_ = false;
    std::unordered_map<std::string, std::unique_ptr<Connection>> conns_;  // by side and peer
    std::vector<std::unique_ptr<Connection>> closed_;  // freed once no callback runs on them
    int depth_ = 0;  // callbacks running; a connection is freed only at depth 0
    ConnectFailed connect_failed_;
    // Failed connects not yet reported, and the event that reports them.
    std::vector<std::pair<Side, SockAddr>> failures_;
    EventPtr failures_ev_;
    RateLimit log_{10, 10000};
};

}  // namespace sipmasq
