#include "address_watch.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "log.h"

namespace sipmasq {

namespace {

constexpr size_t kReceiveBuffer = 32768;  // one datagram of a dump fits
constexpr int kReadsPerWakeup = 64;       // bounded, like every reader here
constexpr int kDumpTimeoutMs = 2000;
constexpr int kSocketBuffer = 1 << 20;  // so a burst of events is not lost

// One datagram from the kernel (nl_pid 0): anything else is dropped, since
// another local process may send to a netlink socket too. Returns the
// size, -errno, or 0 for a datagram that was not the kernel's.
ssize_t receive_from_kernel(int fd, uint8_t* buf, size_t size) {
    sockaddr_nl from{};
    iovec iov{buf, size};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    const ssize_t n = ::recvmsg(fd, &msg, 0);
    if (n < 0) return -errno;
    if ((msg.msg_flags & MSG_TRUNC) != 0) return -ENOBUFS;  // cut: treat as lost events
    if (msg.msg_namelen != sizeof from || from.nl_family != AF_NETLINK || from.nl_pid != 0)
        return 0;
    return n;
}

// A dump of `type` (RTM_GETLINK, RTM_GETADDR) on a socket of its own,
// read to its end.
bool dump(uint16_t type, NetlinkBatch& out, std::string& error) {
    UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd) {
        error = std::string("cannot open a netlink socket: ") + std::strerror(errno);
        return false;
    }
    const timeval timeout{kDumpTimeoutMs / 1000, suseconds_t{kDumpTimeoutMs % 1000} * 1000};
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    struct {
        nlmsghdr header;
        rtgenmsg body;
    } request{};
    request.header.nlmsg_len = sizeof request;
    request.header.nlmsg_type = type;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    request.header.nlmsg_seq = 1;
    request.body.rtgen_family = AF_UNSPEC;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd.get(), &request, sizeof request, 0, reinterpret_cast<sockaddr*>(&kernel),
                 sizeof kernel) < 0) {
        error = std::string("cannot ask the kernel for its interfaces: ") + std::strerror(errno);
        return false;
    }
    std::vector<uint8_t> buf(kReceiveBuffer);
    // A dump ends with NLMSG_DONE; a bound on datagrams all the same.
    for (int i = 0; i < 100000 && !out.done; ++i) {
        const ssize_t n = receive_from_kernel(fd.get(), buf.data(), buf.size());
        if (n < 0) {
            error = std::string("reading the kernel's interfaces: ") +
                    std::strerror(static_cast<int>(-n));
            return false;
        }
        if (n == 0) continue;
        if (!parse_netlink(buf.data(), static_cast<size_t>(n), out)) {
            error = "a malformed netlink message from the kernel";
            return false;
        }
        if (out.error < 0) {
            error =
                std::string("the kernel refused the interface dump: ") + std::strerror(-out.error);
            return false;
        }
    }
    if (!out.done) error = "the kernel's interface dump did not end";
    return out.done;
}

}  // namespace

std::unique_ptr<AddressWatch> AddressWatch::open(std::string inside_if, std::string outside_if,
                                                 std::string& error) {
    auto w = std::make_unique<AddressWatch>(Key{});
    w->names_ = {std::move(inside_if), std::move(outside_if)};
    // Subscribed before the dump, so nothing that happens in between is lost
    // (an event that repeats what the dump said changes nothing).
    w->fd_.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!w->fd_) {
        error = std::string("cannot open a netlink socket: ") + std::strerror(errno);
        return nullptr;
    }
    if (::setsockopt(w->fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &kSocketBuffer,
                     sizeof kSocketBuffer) != 0)
        (void)::setsockopt(w->fd_.get(), SOL_SOCKET, SO_RCVBUF, &kSocketBuffer,
                           sizeof kSocketBuffer);
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
    if (::bind(w->fd_.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        error = std::string("cannot watch the interfaces (netlink): ") + std::strerror(errno);
        return nullptr;
    }
    if (!w->resync(error)) return nullptr;
    return w;
}

AddressWatch::~AddressWatch() = default;

bool AddressWatch::start(event_base* base, Change change) {
    change_ = std::move(change);
    event_.reset(event_new(base, fd_.get(), EV_READ | EV_PERSIST, &on_readable, this));
    return event_ && event_add(event_.get(), nullptr) == 0;
}

void AddressWatch::on_readable(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
    static_cast<AddressWatch*>(arg)->readable();
}

void AddressWatch::readable() {
    std::vector<uint8_t> buf(kReceiveBuffer);
    for (int i = 0; i < kReadsPerWakeup; ++i) {
        const ssize_t n = receive_from_kernel(fd_.get(), buf.data(), buf.size());
        if (n == -EAGAIN || n == -EWOULDBLOCK) return;
        if (n == -EINTR || n == 0) continue;
        if (n == -ENOBUFS) {
            // The kernel dropped events: what the interfaces hold is read again.
            log_warning("interface events were lost (netlink buffer full); reading them again");
            std::string error;
            if (!resync(error)) log_error("%s", error.c_str());
            continue;
        }
        if (n < 0) {
            log_error("reading interface events: %s", std::strerror(static_cast<int>(-n)));
            return;
        }
        NetlinkBatch batch;
        if (!parse_netlink(buf.data(), static_cast<size_t>(n), batch))
            log_warning("a malformed netlink message from the kernel; the rest of it ignored");
        apply(batch);
    }
}

bool AddressWatch::resync(std::string& error) {
    NetlinkBatch links, addresses;
    if (!dump(RTM_GETLINK, links, error) || !dump(RTM_GETADDR, addresses, error)) return false;
    links_.clear();
    known_.clear();
    links.addresses = std::move(addresses.addresses);
    apply(links);
    return true;
}

void AddressWatch::apply(const NetlinkBatch& batch) {
    for (const NetlinkLink& l : batch.links) {
        if (l.removed) {
            links_.erase(l.ifindex);
            std::erase_if(known_, [&l](const Known& k) { return k.ifindex == l.ifindex; });
            continue;
        }
        NetlinkLink& now = links_[l.ifindex];
        const bool was_up = (now.flags & IFF_UP) != 0;
        const bool seen = now.ifindex != 0;
        now.ifindex = l.ifindex;
        now.flags = l.flags;
        if (!l.name.empty()) now.name = l.name;
        for (Side side : {Side::Inside, Side::Outside})
            if (watches(side) && now.name == name(side) && seen &&
                was_up != ((l.flags & IFF_UP) != 0))
                log_notice("%s interface %s is %s", side_name(side), now.name.c_str(),
                           (l.flags & IFF_UP) != 0 ? "up" : "down");
    }
    for (const NetlinkAddress& a : batch.addresses) {
        auto it = std::find_if(known_.begin(), known_.end(), [&a](const Known& k) {
            return k.ifindex == a.ifindex && k.addr == a.addr;
        });
        if (a.removed) {
            if (it != known_.end()) known_.erase(it);
            continue;
        }
        if (it == known_.end()) it = known_.insert(known_.end(), Known{a.ifindex, a.addr, false});
        it->usable = a.usable();
    }
    publish();
}

void AddressWatch::publish() {
    for (Side side : {Side::Inside, Side::Outside}) {
        if (!watches(side)) continue;
        std::vector<SockAddr> now;
        for (const Known& k : known_) {
            const auto link = links_.find(k.ifindex);
            if (!k.usable || link == links_.end() || link->second.name != name(side)) continue;
            if (std::find(now.begin(), now.end(), k.addr) == now.end()) now.push_back(k.addr);
        }
        std::stable_partition(now.begin(), now.end(), [](const SockAddr& a) { return a.is_v4(); });
        std::vector<SockAddr>& before = usable_[static_cast<size_t>(side)];
        const std::vector<SockAddr> old = before;
        before = now;
        if (!change_) continue;
        for (const SockAddr& a : old)
            if (std::find(now.begin(), now.end(), a) == now.end()) change_(side, a, false);
        for (const SockAddr& a : now)
            if (std::find(old.begin(), old.end(), a) == old.end()) change_(side, a, true);
    }
}

}  // namespace sipmasq
