// Which side of the firewall: the inside (private) network or the outside.
// Trust comes from the interface a packet arrived through, never from what
// the packet says.
#pragma once

#include <cstdint>

namespace sipmasq {

enum class Side : uint8_t { Inside, Outside };

[[nodiscard]] inline const char* side_name(Side side) noexcept {
    return side == Side::Inside ? "inside" : "outside";
}

}  // namespace sipmasq
