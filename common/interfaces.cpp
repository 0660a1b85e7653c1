#include "interfaces.h"

#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace sipmasq {
namespace {

struct IfaddrsDeleter {
    void operator()(ifaddrs* p) const noexcept { freeifaddrs(p); }
};
using IfaddrsPtr = std::unique_ptr<ifaddrs, IfaddrsDeleter>;

bool valid_interface_name(std::string_view name) noexcept {
    if (name.empty() || name.size() >= IFNAMSIZ) return false;
    return std::none_of(name.begin(), name.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= ' ' || u == 0x7f || c == '/' || c == ':';
    });
}

}  // namespace

bool interface_exists(std::string_view name) noexcept {
    if (!valid_interface_name(name)) return false;
    char buf[IFNAMSIZ];
    std::memcpy(buf, name.data(), name.size());
    buf[name.size()] = '\0';
    return if_nametoindex(buf) != 0;
}

std::vector<SockAddr> resolve_interface(std::string_view spec, std::string* error) {
    std::vector<SockAddr> out;
    const auto set_error = [error](std::string message) {
        if (error != nullptr) *error = std::move(message);
    };

    if (auto numeric = SockAddr::parse(spec)) {
        if (numeric->port() != 0) {
            set_error("'" + std::string(spec) + "' has a port; give the address alone");
        } else if (numeric->is_unspecified() || numeric->is_multicast() ||
                   numeric->is_broadcast()) {
            set_error("'" + std::string(spec) +
                      "' is not a unicast address (unspecified, multicast or broadcast)");
        } else if (numeric->is_link_local()) {
            set_error("'" + std::string(spec) +
                      "' is link-local: it is valid on one link only, so sipmasq never binds "
                      "or advertises it");
        } else {
            out.push_back(*numeric);
        }
        return out;
    }
    if (!valid_interface_name(spec)) {
        set_error("'" + std::string(spec) + "' is neither a numeric address nor an interface name");
        return out;
    }
    if (!interface_exists(spec)) {
        set_error("no interface named '" + std::string(spec) + "'");
        return out;
    }

    ifaddrs* raw = nullptr;
    if (getifaddrs(&raw) != 0) {
        const int saved = errno;
        set_error("getifaddrs: " + std::string(std::strerror(saved)));
        return out;
    }
    const IfaddrsPtr list(raw);
    for (const ifaddrs* ifa = list.get(); ifa != nullptr; ifa = ifa->ifa_next) {
        if (ifa->ifa_addr == nullptr || ifa->ifa_name == nullptr) continue;
        if (std::string_view(ifa->ifa_name) != spec) continue;
        const int family = ifa->ifa_addr->sa_family;
        if (family != AF_INET && family != AF_INET6) continue;
        const socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
        SockAddr addr(ifa->ifa_addr, len);
        addr.set_port(0);
        // A link-local address means nothing beyond its link.
        if (addr.is_link_local()) continue;
        const bool seen =
            std::any_of(out.begin(), out.end(), [&addr](const SockAddr& a) { return a == addr; });
        if (addr.valid() && !seen) out.push_back(addr);
    }
    std::stable_partition(out.begin(), out.end(), [](const SockAddr& a) { return a.is_v4(); });
    if (out.empty()) {
        set_error("interface '" + std::string(spec) +
                  "' has no IPv4 or IPv6 address (link-local ones do not count)");
    }
    return out;
}

InterfaceRef interface_of(std::string_view spec) {
    InterfaceRef out;
    const auto numeric = SockAddr::parse(spec);
    if (!numeric) {
        if (!interface_exists(spec)) return out;
        out.name = std::string(spec);
        out.index = if_nametoindex(out.name.c_str());
        if (out.index == 0) out.name.clear();  // gone in between
        return out;
    }
    ifaddrs* raw = nullptr;
    if (getifaddrs(&raw) != 0) return out;
    const IfaddrsPtr list(raw);
    for (const ifaddrs* ifa = list.get(); ifa != nullptr; ifa = ifa->ifa_next) {
        if (ifa->ifa_addr == nullptr || ifa->ifa_name == nullptr) continue;
        const int family = ifa->ifa_addr->sa_family;
        if (family != AF_INET && family != AF_INET6) continue;
        const socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
        if (!SockAddr(ifa->ifa_addr, len).same_host(*numeric)) continue;
        const unsigned index = if_nametoindex(ifa->ifa_name);
        if (index == 0) continue;
        out.name = ifa->ifa_name;
        out.index = index;
        return out;
    }
    return out;
}

std::vector<Cidr> networks_of(const std::vector<SockAddr>& addresses) {
    std::vector<Cidr> out;
    ifaddrs* raw = nullptr;
    if (getifaddrs(&raw) != 0) return out;
    const IfaddrsPtr list(raw);
    for (const ifaddrs* ifa = list.get(); ifa != nullptr; ifa = ifa->ifa_next) {
        if (ifa->ifa_addr == nullptr || ifa->ifa_netmask == nullptr) continue;
        const int family = ifa->ifa_addr->sa_family;
        if (family != AF_INET && family != AF_INET6) continue;
        const socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
        const SockAddr addr(ifa->ifa_addr, len);
        if (std::none_of(addresses.begin(), addresses.end(),
                         [&addr](const SockAddr& a) { return a.same_host(addr); }))
            continue;
        const SockAddr mask(ifa->ifa_netmask, len);
        int bits = 0;
        for (size_t i = 0; i < mask.addr_size(); ++i)
            bits += __builtin_popcount(mask.addr_bytes()[i]);
        // Cidr::parse masks the host bits itself.
        if (auto cidr = Cidr::parse(addr.host_string() + "/" + std::to_string(bits)))
            out.push_back(*cidr);
    }
    return out;
}

}  // namespace sipmasq
