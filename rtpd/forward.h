// One media stream of a call: an RTP+RTCP pair on the inside relay address
// facing the inside phone and one on the outside relay address facing the
// outside peer. The bound sockets belong to their pairs (rtpd/port_socket.h)
// and outlive the forward; each points at the forward's record of it while
// the forward runs, so a packet finds its forward and its twin without any
// lookup.
#pragma once

#include <array>
#include <cstdint>

#include "endpoint.h"
#include "port_socket.h"

namespace sipmasq {

class PortPool;
class Relay;
struct Forward;

// The four sockets. A datagram received on leg L goes out of twin(L).
enum class Leg : uint8_t { InsideRtp = 0, InsideRtcp = 1, OutsideRtp = 2, OutsideRtcp = 3 };
inline constexpr size_t kLegs = 4;
[[nodiscard]] constexpr Leg twin(Leg l) noexcept {
    return static_cast<Leg>(static_cast<uint8_t>(l) ^ 2u);
}
[[nodiscard]] constexpr bool is_inside(Leg l) noexcept {
    return static_cast<uint8_t>(l) < 2;
}

// Directions of flow: from the inside phone to the outside peer and back.
enum class Direction : uint8_t { InToOut = 0, OutToIn = 1 };
inline constexpr size_t kDirections = 2;

enum class DropReason : uint8_t {
    WrongSource = 0,  // not the peer signalling named (or latched)
    NoPeer,           // the peer of the receiving or the sending side is unknown
    Truncated,        // MSG_TRUNC (cannot happen with 64 KiB buffers; counted anyway)
    SendError,        // sendmmsg failed or sent fewer (EAGAIN, ENOBUFS, ...)
    Count,
};
inline constexpr size_t kDropReasons = static_cast<size_t>(DropReason::Count);
[[nodiscard]] const char* drop_reason_name(DropReason r) noexcept;

struct DirectionStats {
    uint64_t packets = 0;  // forwarded (sent)
    uint64_t bytes = 0;
    std::array<uint64_t, kDropReasons> drops{};
    int64_t last_ms = 0;  // last accepted packet received; 0 = never
};

// What a forward knows of one of its four sockets.
struct RelaySocket {
    Forward* forward = nullptr;
    Leg leg = Leg::InsideRtp;
    // Accepted source and destination of what its twin receives. Family 0:
    // not known yet.
    Endpoint peer;
    bool latched = false;  // Latch mode: the source is locked
    // The bound socket it uses; nullptr: none (the RTCP leg of an rtcp-mux
    // side). Its `user` points back here while the forward runs.
    PortSocket* port = nullptr;
    // port's descriptor (-1 without one), here so that sending to the twin
    // reads nothing outside the forward. Only parked sockets are ever
    // closed, so it stays valid while the forward holds the socket.
    int fd = -1;
};

struct Forward {
    uint32_t id = 0;
    uint64_t serial = 0;     // unique per creation, even when an id is reused
    Relay* owner = nullptr;  // the engine whose callbacks serve it
    std::array<RelaySocket, kLegs> sockets;
    std::array<DirectionStats, kDirections> stats;

    Endpoint inside_local;  // relay address, port = RTP port
    Endpoint outside_local;
    PortPool* inside_pool = nullptr;
    PortPool* outside_pool = nullptr;
    // The sockets of the two pairs (0 inside, 1 outside), with the RTCP
    // socket an rtcp-mux side does not open.
    std::array<PairSockets*, 2> pairs{};

    // Peers as signalling named them (the sockets hold what is in force).
    Endpoint inside_peer;
    Endpoint outside_peer;
    uint16_t inside_rtcp_port = 0;  // 0: RTP port + 1
    uint16_t outside_rtcp_port = 0;
    // RFC 5761 rtcp-mux per side (0 inside, 1 outside): RTCP travels on the
    // RTP socket, and that side has no RTCP socket.
    std::array<bool, 2> mux{};

    bool on_hold = false;
    bool latch = false;  // Latch mode for this forward (config or kFwdLatch)
    int64_t created_ms = 0;
    int64_t control_ms = 0;  // last start/hold for this id: timeouts count from here
    std::array<int64_t, 2> latch_until_ms{};  // per side (0 inside, 1 outside)

    [[nodiscard]] RelaySocket& socket(Leg l) noexcept { return sockets[static_cast<size_t>(l)]; }
    [[nodiscard]] const RelaySocket& socket(Leg l) const noexcept {
        return sockets[static_cast<size_t>(l)];
    }
};

}  // namespace sipmasq
