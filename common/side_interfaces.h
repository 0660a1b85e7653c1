// Which interface each side lives on, and the side of a datagram by the
// interface it arrived through. Linux accepts a datagram for the inside
// address that came in through the outside interface (weak host model), so
// the address a datagram was sent to says nothing about where it came from;
// the arrival interface does.
#pragma once

#include <optional>
#include <string_view>

#include "interfaces.h"
#include "side.h"

namespace sipmasq {

struct SideInterfaces {
    InterfaceRef inside;
    InterfaceRef outside;

    // Both sides found on two different interfaces. Otherwise (both on lo,
    // an address on no interface) the arrival interface cannot tell them
    // apart and the side is the socket's.
    [[nodiscard]] bool distinct() const noexcept {
        return inside.index != 0 && outside.index != 0 && inside.index != outside.index;
    }

    // The side of a datagram received on a socket of `socket_side` through
    // interface `arrival` (0: unknown); nullopt when it came through neither
    // side's interface, or the interface is unknown, and must be dropped.
    [[nodiscard]] std::optional<Side> classify(unsigned arrival, Side socket_side) const noexcept {
        if (!distinct()) return socket_side;
        if (arrival == inside.index) return Side::Inside;
        if (arrival == outside.index) return Side::Outside;
        return std::nullopt;
    }
};

// From `if_inbound` / `if_outbound` (an interface name or an address on
// one). Uses getifaddrs, so it runs before the sandbox.
[[nodiscard]] inline SideInterfaces side_interfaces(std::string_view if_inbound,
                                                    std::string_view if_outbound) {
    return SideInterfaces{interface_of(if_inbound), interface_of(if_outbound)};
}

}  // namespace sipmasq
