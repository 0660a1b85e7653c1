// A configured interface (`if_inbound = eth0` or `if_inbound = 192.0.2.1`)
// resolved to the addresses sipmasq binds to. Names are looked up in the
// kernel's interface list (getifaddrs), never in DNS.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "address.h"

namespace sipmasq {

// A numeric address resolves to itself; an interface name to every IPv4
// and IPv6 address on it but the link-local ones (IPv4 first, port 0). On failure the result is
// empty and *error says why (no such interface, no address on it, ...).
[[nodiscard]] std::vector<SockAddr> resolve_interface(std::string_view spec, std::string* error);

// The networks (address and prefix length from the interface's netmask)
// that `addresses` lie in, e.g. 192.0.2.0/24 for 192.0.2.1 on in0; an
// address on no interface gives nothing.
[[nodiscard]] std::vector<Cidr> networks_of(const std::vector<SockAddr>& addresses);

// The interface a configured side lives on: the named interface, or the
// one that carries the numeric address. Index 0 (and no name) when the
// kernel knows none.
struct InterfaceRef {
    std::string name;
    unsigned index = 0;
};
[[nodiscard]] InterfaceRef interface_of(std::string_view spec);

// True if the kernel knows an interface of that name (up or down).
[[nodiscard]] bool interface_exists(std::string_view name) noexcept;

}  // namespace sipmasq
