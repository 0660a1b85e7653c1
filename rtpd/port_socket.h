// One bound relay socket of a pool port, and the two of a port pair. The
// socket outlives the forwards that use it: a forward borrows it (`user`),
// and when the forward ends it is parked, still bound and on the event loop,
// until a later forward on the same pair takes it again or the descriptor
// budget needs it closed (rtpd/socket_park.h). Its address is its libevent
// argument, so it never moves.
#pragma once

#include <memory>
#include <vector>

#include "event_ptr.h"
#include "udp_socket.h"
#include "unique_fd.h"

namespace sipmasq {

class SocketPark;
struct RelaySocket;

struct PortSocket {
    PortSocket() = default;
    PortSocket(const PortSocket&) = delete;
    PortSocket& operator=(const PortSocket&) = delete;

    UniqueFd fd;
    EventPtr ev;                  // declared after fd: freed before the descriptor closes
    RelaySocket* user = nullptr;  // the live forward's record; nullptr: parked or closed
    SocketPark* park = nullptr;   // serves it while it is parked
    UdpSocketOptions options;     // what it was opened with: reused only for the same
    // The parked list, oldest first; meaningful while `parked`.
    PortSocket* older = nullptr;
    PortSocket* newer = nullptr;
    bool parked = false;
};

struct PairSockets {
    PortSocket rtp;
    PortSocket rtcp;
};

// The pairs of one pool by index, each created on first use and kept (so
// memory grows with the pairs ever used, not with the configured range).
using PairTable = std::vector<std::unique_ptr<PairSockets>>;

}  // namespace sipmasq
