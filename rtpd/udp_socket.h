// Opening the relay's UDP sockets: non-blocking, DSCP marked, enlarged
// receive buffer, bound to one local address; and why binding a pair of
// them failed (rtpd/socket_park.h takes pairs from a PortPool).
#pragma once

#include <net/if.h>

#include <array>
#include <cstdint>

#include "endpoint.h"
#include "unique_fd.h"

namespace sipmasq {

struct UdpSocketOptions {
    uint8_t dscp = 46;
    int rcvbuf_bytes = 256 * 1024;
    // SO_BINDTODEVICE: the socket only sees datagrams that arrived through
    // this interface (a datagram for the inside address that came in through
    // the outside interface is not delivered). Empty: any interface.
    std::array<char, IFNAMSIZ> device{};

    [[nodiscard]] bool operator==(const UdpSocketOptions&) const = default;
};

// A bound socket or -errno (EADDRINUSE, EMFILE, ENFILE, ...).
struct UdpSocketResult {
    UniqueFd fd;
    int error = 0;
};
[[nodiscard]] UdpSocketResult open_udp_socket(const Endpoint& local,
                                              const UdpSocketOptions& opt) noexcept;

enum class PairError : uint8_t {
    None,
    Exhausted,      // no free pair, or every pair tried was held elsewhere
    Unavailable,    // the requested pair is out of range, in use or quarantined
    InUse,          // the requested pair is bound by another process
    NoDescriptors,  // EMFILE / ENFILE
    Socket,         // any other socket() / setsockopt() / bind() failure
    EventLoop,      // bound, but event_new / event_add failed
};
[[nodiscard]] const char* pair_error_name(PairError e) noexcept;

}  // namespace sipmasq
