// Helpers for the relay tests: a controllable clock, UDP "phones" on
// loopback, and bounded pumping of the event loop.
#pragma once

#include <event2/event.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "endpoint.h"
#include "event_ptr.h"
#include "relay.h"
#include "unique_fd.h"

namespace sipmasq::test {

inline Endpoint ep(const char* host, uint16_t port = 0) {
    auto e = Endpoint::parse(host, port);
    if (!e) abort();
    return *e;
}

// A phone: one UDP socket bound to host:port (0 = any port).
class Phone {
  public:
    explicit Phone(const char* host, uint16_t port = 0) {
        Endpoint local = ep(host, port);
        fd_.reset(::socket(local.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        ok_ = fd_.valid() && ::bind(fd_.get(), local.sa(), local.len()) == 0;
        socklen_t len = sizeof(Endpoint::Storage);
        if (ok_) ok_ = ::getsockname(fd_.get(), &addr_.u.sa, &len) == 0;
    }
    [[nodiscard]] bool ok() const { return ok_; }
    [[nodiscard]] const Endpoint& addr() const { return addr_; }
    [[nodiscard]] uint16_t port() const { return addr_.port(); }
    [[nodiscard]] int fd() const { return fd_.get(); }

    bool send_to(const Endpoint& to, const std::string& data) const {
        return ::sendto(fd_.get(), data.data(), data.size(), 0, to.sa(), to.len()) ==
               static_cast<ssize_t>(data.size());
    }
    // One datagram if one is waiting now.
    std::optional<std::pair<std::string, Endpoint>> try_recv() const {
        std::string buf(70000, '\0');
        Endpoint from;
        socklen_t len = sizeof(Endpoint::Storage);
        ssize_t n = ::recvfrom(fd_.get(), buf.data(), buf.size(), 0, &from.u.sa, &len);
        if (n < 0) return std::nullopt;
        buf.resize(static_cast<size_t>(n));
        return std::make_pair(buf, from);
    }

  private:
    UniqueFd fd_;
    Endpoint addr_;
    bool ok_ = false;
};

// Runs the loop (non-blocking turns and short polls) for up to `ms`, or
// until `phone` has a datagram, which it returns.
inline std::optional<std::pair<std::string, Endpoint>> pump_until_recv(event_base* base,
                                                                       const Phone& phone,
                                                                       int ms = 1000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (auto got = phone.try_recv()) return got;
        pollfd p{phone.fd(), POLLIN, 0};
        (void)::poll(&p, 1, 5);
    }
    return std::nullopt;
}

// Runs the loop for `ms` regardless (to let drops happen).
inline void pump_for(event_base* base, int ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        ::usleep(2000);
    }
}

inline uint64_t drops(const DirectionStats& s, DropReason r) {
    return s.drops[static_cast<size_t>(r)];
}

// A relay on a fresh event base with a controllable clock.
struct RelayFixtureState {
    EventBasePtr base{event_base_new()};
    int64_t now_ms = 1'000'000;
    RelayConfig cfg;
    std::unique_ptr<Relay> relay;
    std::vector<std::pair<uint32_t, TimeoutReason>> timeouts;

    void make(const RelayConfig& c) {
        cfg = c;
        relay = std::make_unique<Relay>(base.get(), cfg, [this] { return now_ms; });
        relay->set_timeout_handler(
            [this](uint32_t id, TimeoutReason r) { timeouts.emplace_back(id, r); });
    }
};

inline RelayConfig test_config(uint16_t low, uint16_t high) {
    RelayConfig c;
    c.port_low = low;
    c.port_high = high;
    c.sweep_interval_ms = 0;  // tests call sweep() with their own clock
    c.seed = 42;
    return c;
}

inline StartParams params(const Endpoint& in_peer, const Endpoint& out_peer) {
    StartParams p;
    p.inside_local = ep("127.0.0.1");
    p.outside_local = ep("127.0.0.2");
    p.inside_peer = in_peer;
    p.outside_peer = out_peer;
    return p;
}

}  // namespace sipmasq::test
