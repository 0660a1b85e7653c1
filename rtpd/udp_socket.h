// Opening the relay's UDP sockets: non-blocking, DSCP marked, enlarged
// receive buffer, bound to one local address; and binding an RTP/RTCP pair
// taken from a PortPool, skipping pairs another process holds.
#pragma once

#include <net/if.h>

#include <array>
#include <cstdint>

#include "endpoint.h"
#include "port_pool.h"
#include "unique_fd.h"

namespace sipmasq {

struct UdpSocketOptions {
    uint8_t dscp = 46;
    int rcvbuf_bytes = 256 * 1024;
    // SO_BINDTODEVICE: the socket only sees datagrams that arrived through
    // this interface (a datagram for the inside address that came in through
    // the outside interface is not delivered). Empty: any interface.
    std::array<char, IFNAMSIZ> device{};
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
};
[[nodiscard]] const char* pair_error_name(PairError e) noexcept;

struct BoundPair {
    uint16_t rtp_port = 0;
    UniqueFd rtp;
    UniqueFd rtcp;
    PairError error = PairError::None;
    int sys_errno = 0;  // the errno behind NoDescriptors / Socket
};

// requested_port == 0: a random pair, trying up to `attempts` pairs and
// setting aside those that fail with EADDRINUSE. Otherwise exactly that pair.
// On success the pair is Used in the pool; on failure the pool is as before
// except for pairs set aside. Without `bind_rtcp` (an rtcp-mux leg) the RTCP
// port stays reserved in the pool but is not bound: a later answer without
// rtcp-mux binds it then.
[[nodiscard]] BoundPair bind_pair(PortPool& pool, const Endpoint& local, uint16_t requested_port,
                                  uint32_t attempts, const UdpSocketOptions& opt, int64_t now_ms,
                                  bool bind_rtcp = true);

}  // namespace sipmasq
