// rtnetlink messages the parent reads from the kernel (addresses and links
// that come and go), decoded into plain values. Pure code, no I/O: the
// only bytes parsed here come from the kernel, and they are still checked
// against what remains before anything is copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "address.h"

namespace sipmasq {

// RTM_NEWADDR / RTM_DELADDR.
struct NetlinkAddress {
    bool removed = false;  // RTM_DELADDR
    unsigned ifindex = 0;
    SockAddr addr;       // port 0; IFA_LOCAL, else IFA_ADDRESS
    uint32_t flags = 0;  // IFA_F_*, from IFA_FLAGS when present (it has all 32 bits)

    // What SIP may bind and advertise: not tentative (DAD not done), DAD
    // did not fail, and not link-local.
    [[nodiscard]] bool usable() const noexcept;
};

// RTM_NEWLINK / RTM_DELLINK.
struct NetlinkLink {
    bool removed = false;  // RTM_DELLINK
    unsigned ifindex = 0;
    std::string name;    // IFLA_IFNAME ("" when absent)
    unsigned flags = 0;  // IFF_*
};

struct NetlinkBatch {
    std::vector<NetlinkAddress> addresses;
    std::vector<NetlinkLink> links;
    bool done = false;   // NLMSG_DONE: a dump ended
    int error = 0;       // NLMSG_ERROR's code (a negative errno; 0 is an ACK)
    size_t skipped = 0;  // messages of other types, or malformed ones
};

// Every message in one datagram from a NETLINK_ROUTE socket, in order.
// False when the datagram itself is malformed (a length that runs past its
// end): what was decoded before that point is kept.
[[nodiscard]] bool parse_netlink(const uint8_t* data, size_t size, NetlinkBatch& out);

}  // namespace sipmasq
