#include "peer_policy.h"

#include <arpa/inet.h>

#include <cstring>

namespace sipmasq {

namespace {

bool is_v4_mapped(const SockAddr& a) noexcept {
    static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return a.is_v6() && std::memcmp(a.addr_bytes(), kPrefix, sizeof kPrefix) == 0;
}

// The network and broadcast addresses of an IPv4 subnet larger than /31.
bool is_subnet_edge(const Cidr& net, const SockAddr& a) noexcept {
    if (!a.is_v4() || !net.network.is_v4() || net.prefix_len > 30 || !net.contains(a)) return false;
    uint32_t addr = 0;
    std::memcpy(&addr, a.addr_bytes(), 4);
    addr = ntohl(addr);
    const uint32_t host_mask =
        (net.prefix_len == 0) ? 0xffffffffu : (0xffffffffu >> net.prefix_len);
    return (addr & host_mask) == 0 || (addr & host_mask) == host_mask;
}

}  // namespace

bool PeerPolicy::is_inside(const SockAddr& peer) const noexcept {
    for (const Cidr& c : inside_networks)
        if (c.contains(peer)) return true;
    return false;
}

const char* PeerPolicy::refuse(Side side, const SockAddr& peer) const noexcept {
    if (!peer.valid()) return "no address";
    if (peer.port() == 0) return "port 0";
    if (peer.is_unspecified()) return "unspecified address";
    if (is_v4_mapped(peer)) return "IPv4-mapped IPv6 address";
    if (peer.is_multicast()) return "multicast address";
    if (peer.is_broadcast()) return "broadcast address";
    if (peer.is_link_local()) return "link-local address";
    for (const Cidr& c : inside_networks)
        if (is_subnet_edge(c, peer)) return "broadcast address";
    if (loopback_only) return nullptr;
    if (peer.is_loopback()) return "loopback address";
    for (const SockAddr& mine : own)
        if (mine.same_host(peer)) return "sipmasq's own address";
    const bool inside = is_inside(peer);
    if (side == Side::Outside && inside) return "inside address on the outside";
    if (side == Side::Inside && !inside) return "not an inside address";
    return nullptr;
}

PeerPolicy make_peer_policy(std::vector<Cidr> inside_networks,
                            const std::vector<SockAddr>& inside_addrs,
                            const std::vector<SockAddr>& outside_addrs,
                            const std::vector<SockAddr>& advertised) {
    PeerPolicy p;
    p.inside_networks = std::move(inside_networks);
    if (p.inside_networks.empty())
        for (const SockAddr& a : inside_addrs)
            if (auto c = Cidr::parse(a.host_string())) p.inside_networks.push_back(*c);
    bool all_loopback = !inside_addrs.empty() && !outside_addrs.empty();
    for (const auto* list : {&inside_addrs, &outside_addrs, &advertised})
        for (const SockAddr& a : *list) {
            p.own.push_back(a);
            p.own.back().set_port(0);
        }
    for (const auto* list : {&inside_addrs, &outside_addrs})
        for (const SockAddr& a : *list) all_loopback = all_loopback && a.is_loopback();
    p.loopback_only = all_loopback;
    return p;
}

}  // namespace sipmasq
