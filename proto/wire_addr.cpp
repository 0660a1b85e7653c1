// WireAddr <-> SockAddr. Kept apart from the codec so that code which only
// decodes (the fuzz target) does not pull in common/address.
#include <netinet/in.h>

#include <cstring>

#include "address.h"
#include "message.h"

namespace sipmasq::proto {

WireAddr to_wire(const SockAddr& addr) noexcept {
    WireAddr w{};
    if (!addr.valid()) return w;
    w.family = addr.is_v4() ? kWireV4 : kWireV6;
    w.port = addr.port();
    const size_t n = addr.addr_size() <= sizeof(w.addr) ? addr.addr_size() : sizeof(w.addr);
    if (n != 0) std::memcpy(w.addr, addr.addr_bytes(), n);
    return w;
}

std::optional<SockAddr> from_wire(const WireAddr& wire) noexcept {
    switch (wire.family) {
        case kWireV4:
            return SockAddr::from_bytes(AF_INET, wire.addr, wire.port);
        case kWireV6:
            return SockAddr::from_bytes(AF_INET6, wire.addr, wire.port);
        default:
            return std::nullopt;
    }
}

}  // namespace sipmasq::proto
