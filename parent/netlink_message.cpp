#include "netlink_message.h"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstring>

namespace sipmasq {

namespace {

// Netlink aligns every message and attribute to four bytes.
constexpr size_t align4(size_t n) noexcept {
    return (n + 3) & ~size_t{3};
}

// Calls visit(type, data, size) for each attribute of a message body that
// starts `offset` bytes in; stops at the first malformed one.
template <class Visit>
void for_each_attribute(const uint8_t* body, size_t size, size_t offset, Visit visit) {
    size_t pos = align4(offset);
    while (pos + sizeof(rtattr) <= size) {
        rtattr rta{};
        std::memcpy(&rta, body + pos, sizeof rta);
        if (rta.rta_len < sizeof(rtattr) || rta.rta_len > size - pos) return;
        visit(rta.rta_type, body + pos + sizeof(rtattr), rta.rta_len - sizeof(rtattr));
        pos += align4(rta.rta_len);
    }
}

bool parse_address(const uint8_t* body, size_t size, bool removed, NetlinkAddress& out) {
    ifaddrmsg ifa{};
    if (size < sizeof ifa) return false;
    std::memcpy(&ifa, body, sizeof ifa);
    if (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6) return false;
    const size_t want = ifa.ifa_family == AF_INET ? 4 : 16;
    out.removed = removed;
    out.ifindex = ifa.ifa_index;
    out.flags = ifa.ifa_flags;
    const uint8_t* local = nullptr;
    const uint8_t* address = nullptr;
    for_each_attribute(body, size, sizeof ifa, [&](unsigned type, const uint8_t* p, size_t n) {
        if (type == IFA_LOCAL && n == want) local = p;
        if (type == IFA_ADDRESS && n == want) address = p;
        if (type == IFA_FLAGS && n == sizeof(uint32_t)) std::memcpy(&out.flags, p, n);
    });
    // On a point-to-point link (ppp0) IFA_ADDRESS is the peer: IFA_LOCAL
    // is ours whenever it is there.
    const uint8_t* ours = local != nullptr ? local : address;
    if (ours == nullptr) return false;
    if (ifa.ifa_family == AF_INET) {
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        std::memcpy(&sin.sin_addr, ours, 4);
        out.addr = SockAddr(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
    } else {
        sockaddr_in6 sin6{};
        sin6.sin6_family = AF_INET6;
        std::memcpy(&sin6.sin6_addr, ours, 16);
        out.addr = SockAddr(reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6);
    }
    return out.addr.valid();
}

bool parse_link(const uint8_t* body, size_t size, bool removed, NetlinkLink& out) {
    ifinfomsg ifi{};
    if (size < sizeof ifi) return false;
    std::memcpy(&ifi, body, sizeof ifi);
    if (ifi.ifi_index <= 0) return false;
    out.removed = removed;
    out.ifindex = static_cast<unsigned>(ifi.ifi_index);
    out.flags = ifi.ifi_flags;
    for_each_attribute(body, size, sizeof ifi, [&](unsigned type, const uint8_t* p, size_t n) {
        if (type != IFLA_IFNAME) return;
        // NUL-terminated in the kernel's messages; take it up to the NUL.
        const void* nul = std::memchr(p, '\0', n);
        const size_t len =
            nul != nullptr ? static_cast<size_t>(static_cast<const uint8_t*>(nul) - p) : n;
        if (len > 0 && len < IFNAMSIZ) out.name.assign(reinterpret_cast<const char*>(p), len);
    });
    return true;
}

}  // namespace

bool NetlinkAddress::usable() const noexcept {
    if ((flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) != 0) return false;
    return addr.valid() && !addr.is_link_local();
}

bool parse_netlink(const uint8_t* data, size_t size, NetlinkBatch& out) {
    size_t pos = 0;
    while (size - pos >= sizeof(nlmsghdr)) {
        nlmsghdr h{};
        std::memcpy(&h, data + pos, sizeof h);
        if (h.nlmsg_len < sizeof h || h.nlmsg_len > size - pos) return false;
        const uint8_t* body = data + pos + NLMSG_HDRLEN;
        const size_t body_size = h.nlmsg_len > NLMSG_HDRLEN ? h.nlmsg_len - NLMSG_HDRLEN : 0;
        switch (h.nlmsg_type) {
            case RTM_NEWADDR:
            case RTM_DELADDR: {
                NetlinkAddress a;
                if (parse_address(body, body_size, h.nlmsg_type == RTM_DELADDR, a))
                    out.addresses.push_back(a);
                else
                    ++out.skipped;
                break;
            }
            case RTM_NEWLINK:
            case RTM_DELLINK: {
                NetlinkLink l;
                if (parse_link(body, body_size, h.nlmsg_type == RTM_DELLINK, l))
                    out.links.push_back(std::move(l));
                else
                    ++out.skipped;
                break;
            }
            case NLMSG_DONE:
                out.done = true;
                break;
            case NLMSG_ERROR: {
                nlmsgerr e{};
                if (body_size >= sizeof e.error) {
                    std::memcpy(&e.error, body, sizeof e.error);
                    out.error = e.error;
                } else {
                    ++out.skipped;
                }
                break;
            }
            default:
                ++out.skipped;  // NLMSG_NOOP, routes, ...
                break;
        }
        pos += align4(h.nlmsg_len);
        if (pos > size) pos = size;
    }
    return pos == size;
}

}  // namespace sipmasq
