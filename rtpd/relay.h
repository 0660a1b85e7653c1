// The relay engine: forwards by id, their sockets on the event loop, source
// filtering, and timeouts owned by rtpd. The process around it (main.cpp)
// turns START_FWD / STOP_FWD / LIST_FWD / STATS into calls here, and
// on_timeout into FWD_TIMEOUT. Single-threaded: every call from the loop.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "endpoint.h"
#include "event_ptr.h"
#include "forward.h"
#include "forward_table.h"
#include "port_pool.h"
#include "relay_config.h"
#include "side.h"
#include "socket_park.h"
#include "udp_socket.h"

namespace sipmasq {

struct StartParams {
    // Relay addresses (port ignored): where the inside pair and the outside
    // pair are bound. One port pool per distinct address.
    Endpoint inside_local;
    Endpoint outside_local;
    // The phones' RTP addresses as signalling named them; family 0 = not
    // known yet (the answer has not arrived). Same family as its local.
    Endpoint inside_peer;
    Endpoint outside_peer;
    uint16_t inside_rtcp_port = 0;  // 0: RTP port + 1 (a=rtcp otherwise)
    uint16_t outside_rtcp_port = 0;
    // rtcp-mux (RFC 5761) on that side: no RTCP socket is bound there, RTCP
    // shares the RTP socket. May change on an update (re-INVITE).
    bool inside_mux = false;
    bool outside_mux = false;
    // Restart resync: re-create on exactly these RTP ports; 0 = allocate.
    uint16_t inside_port = 0;
    uint16_t outside_port = 0;
    bool on_hold = false;
    // Learn the source from the first packets (kFwdLatch), even when the
    // configured mode is strict. Fixed at creation.
    bool latch = false;
};

enum class StartError : uint8_t {
    None,
    BadParams,         // unknown local, family mismatch, peer port 0 ...
    TooManyForwards,   // max_forwards reached
    PoolExhausted,     // no free pair that could be bound
    PortsUnavailable,  // requested ports out of range, in use or quarantined
    PortsInUse,        // requested ports held by another process
    PortsMismatch,     // id exists on other ports, or other local addresses
    NoDescriptors,     // EMFILE / ENFILE
    Socket,            // other socket/bind error
    EventLoop,         // event_new / event_add failed
    PeerRefused,       // a peer the peer policy refuses on its side
};
[[nodiscard]] const char* start_error_name(StartError e) noexcept;

struct StartResult {
    StartError error = StartError::None;
    int sys_errno = 0;
    bool created = false;      // false: an existing forward (repeat or re-INVITE)
    uint16_t inside_port = 0;  // RTP; RTCP is +1
    uint16_t outside_port = 0;
    // PeerRefused: which side's peer, and why (PeerPolicy::refuse).
    Side refused_side = Side::Inside;
    const char* refused_why = nullptr;
    [[nodiscard]] bool ok() const noexcept { return error == StartError::None; }
};

enum class TimeoutReason : uint8_t { Idle = 0, NoBidirectional, MaxDuration, Count };
inline constexpr size_t kTimeoutReasons = static_cast<size_t>(TimeoutReason::Count);
[[nodiscard]] const char* timeout_reason_name(TimeoutReason r) noexcept;

struct ForwardInfo {
    uint32_t id = 0;
    Endpoint inside_local;  // with the RTP port
    Endpoint outside_local;
    Endpoint inside_peer;  // as signalled
    Endpoint outside_peer;
    uint16_t inside_rtcp_port = 0;
    uint16_t outside_rtcp_port = 0;
    bool inside_mux = false;
    bool outside_mux = false;
    // What is in force per socket (latched, or the signalled address).
    std::array<Endpoint, kLegs> sources;
    bool on_hold = false;
    bool latch = false;
    int64_t created_ms = 0;
    std::array<DirectionStats, kDirections> stats;
};

struct PoolInfo {
    Endpoint local;
    PortPoolStats stats;
};

struct RelayStats {
    uint32_t forwards = 0;
    uint64_t started_total = 0;
    uint64_t stopped_total = 0;
    uint64_t failed_total = 0;
    std::array<uint64_t, kTimeoutReasons> timeouts{};
    std::array<DirectionStats, kDirections> totals;  // all forwards, past and present
    std::vector<PoolInfo> pools;
    SocketParkStats sockets;
};

class Relay {
  public:
    using Clock = std::function<int64_t()>;
    using TimeoutHandler = std::function<void(uint32_t id, TimeoutReason reason)>;

    // `clock` defaults to monotonic_ms; tests pass their own. The sweep
    // timer runs on `base` every cfg.sweep_interval_ms (0: no timer; call
    // sweep() yourself).
    Relay(event_base* base, const RelayConfig& cfg, Clock clock = {});
    ~Relay();
    Relay(const Relay&) = delete;
    Relay& operator=(const Relay&) = delete;

    // Called after the forward is freed (its ports in quarantine).
    void set_timeout_handler(TimeoutHandler handler) { on_timeout_ = std::move(handler); }

    // Idempotent by id: a repeat returns the same ports; new peers update
    // the forward and keep its ports.
    [[nodiscard]] StartResult start(uint32_t id, const StartParams& params);
    // True when it existed; stopping an unknown id is not an error.
    bool stop(uint32_t id);
    [[nodiscard]] bool set_hold(uint32_t id, bool on_hold);
    void stop_all();
    // An address of ours came or went (LOCAL_ADDRESS from the parent): while
    // it is ours, no START_FWD may name it as a peer.
    void set_own_address(const SockAddr& addr, bool ours);

    [[nodiscard]] std::vector<ForwardInfo> list() const;
    [[nodiscard]] std::optional<ForwardInfo> info(uint32_t id) const;
    [[nodiscard]] RelayStats stats();
    [[nodiscard]] size_t size() const noexcept { return table_.size(); }

    // Ends every forward past a timeout at `now_ms`; the timer calls it
    // with clock().
    void sweep(int64_t now_ms);

    // The descriptor of one socket, -1 if none (tests, diagnostics).
    [[nodiscard]] int socket_fd(uint32_t id, Leg leg) const noexcept;

  private:
    struct Batch;
    // One local relay address: its pairs and their sockets.
    struct PoolEntry {
        Endpoint local;
        std::unique_ptr<PortPool> pool;
        PairTable sockets;
    };

    static void on_readable_cb(evutil_socket_t fd, short what, void* arg) noexcept;
    static void on_timer_cb(evutil_socket_t fd, short what, void* arg) noexcept;
    void on_readable(RelaySocket& s) noexcept;
    [[nodiscard]] bool accept_source(Forward& f, RelaySocket& s, const Endpoint& src, int64_t now,
                                     DirectionStats& st) noexcept;

    [[nodiscard]] PoolEntry* pool_for(const Endpoint& local);
    [[nodiscard]] StartResult update(Forward& f, const StartParams& p, int64_t now);
    void set_peers(Forward& f, const StartParams& p, int64_t now, bool force);
    [[nodiscard]] StartError set_mux(Forward& f, Side side, bool mux);
    void attach(RelaySocket& s, PortSocket* port) noexcept;
    void detach(RelaySocket& s) noexcept;
    void destroy(std::unique_ptr<Forward> f, int64_t now);
    [[nodiscard]] ForwardInfo make_info(const Forward& f) const;
    [[nodiscard]] StartResult fail(StartError e, int sys_errno);
    [[nodiscard]] UdpSocketOptions make_socket_options(Side side) const noexcept;
    [[nodiscard]] const UdpSocketOptions& socket_options(Side side) const noexcept {
        return socket_options_[side == Side::Inside ? 0 : 1];
    }
    [[nodiscard]] std::optional<StartResult> check_peers(uint32_t id, const StartParams& p);
    [[nodiscard]] bool is_hairpin(uint32_t id, const StartParams& p) const noexcept;

    event_base* base_;
    RelayConfig cfg_;
    Clock clock_;
    TimeoutHandler on_timeout_;
    ForwardTable table_;
    std::array<UdpSocketOptions, 2> socket_options_;  // inside, outside
    SocketPark park_;
    // Reserved for every pool there may be: an entry never moves, so a
    // pointer to it holds across pool_for() calls.
    std::vector<PoolEntry> pools_;
    std::unique_ptr<Batch> batch_;
    EventPtr timer_;
    uint64_t seed_;

    uint64_t started_total_ = 0;
    uint64_t stopped_total_ = 0;
    uint64_t failed_total_ = 0;
    std::array<uint64_t, kTimeoutReasons> timeouts_{};
    std::array<DirectionStats, kDirections> past_totals_;  // of freed forwards
    struct Expired {
        uint32_t id;
        uint64_t serial;
        TimeoutReason reason;
    };
    std::vector<Expired> expired_;  // reused by sweep
    uint64_t next_serial_ = 0;
};

}  // namespace sipmasq
