// Which addresses sipmasq may talk to on each side. One policy for every
// datagram sipd sends, every media peer an SDP names and every peer rtpd
// accepts (rtpd checks again in its own process, so a compromised sipd
// cannot turn the relay against arbitrary hosts).
#pragma once

#include <string>
#include <vector>

#include "address.h"
#include "side.h"

namespace sipmasq {

struct PeerPolicy {
    // The inside networks (from the inside interface's netmasks): a peer
    // inside is in one of them, a peer outside in none.
    std::vector<Cidr> inside_networks;
    // sipmasq's own addresses, whatever the port: the SIP and relay sockets
    // and host_outbound. Never a peer.
    std::vector<SockAddr> own;
    // Both sides on loopback (a test or a developer's box): the peers are
    // local processes, so loopback and own addresses are allowed and the
    // sides cannot be told apart by network.
    bool loopback_only = false;

    // nullptr when `peer` may be talked to on `side`, else why not ("loopback",
    // "inside address on the outside", ...).
    [[nodiscard]] const char* refuse(Side side, const SockAddr& peer) const noexcept;
    [[nodiscard]] bool allows(Side side, const SockAddr& peer) const noexcept {
        return refuse(side, peer) == nullptr;
    }
    [[nodiscard]] bool is_inside(const SockAddr& peer) const noexcept;
};

// The policy of a configuration: inside networks (the interfaces' subnets,
// else the inside addresses themselves) and every local address given.
[[nodiscard]] PeerPolicy make_peer_policy(std::vector<Cidr> inside_networks,
                                          const std::vector<SockAddr>& inside_addrs,
                                          const std::vector<SockAddr>& outside_addrs,
                                          const std::vector<SockAddr>& advertised);

}  // namespace sipmasq
