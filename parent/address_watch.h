// The addresses of the interfaces named in if_inbound / if_outbound, as
// they come and go (a DHCP lease, a PPPoE link, an IPv6 address whose
// duplicate address detection ends, `ip addr del`). The parent reads them
// from an rtnetlink socket in its event loop: only the kernel's messages,
// never network input. A side given as a numeric address is not watched.
#pragma once

#include <event2/event.h>

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "address.h"
#include "event_ptr.h"
#include "netlink_message.h"
#include "side.h"
#include "unique_fd.h"

namespace sipmasq {

class AddressWatch {
  public:
    // An address that may now be used (came = true) or no longer (false).
    using Change = std::function<void(Side side, const SockAddr& addr, bool came)>;

    // Subscribes to the kernel's address and link events, then reads what
    // the interfaces have now. `inside_if` / `outside_if`: the interface
    // names, "" for a side that is not watched. nullptr (and why) on failure.
    static std::unique_ptr<AddressWatch> open(std::string inside_if, std::string outside_if,
                                              std::string& error);
    // Made by open() only (the passkey keeps the constructor its own).
    class Key {
        friend class AddressWatch;
        Key() = default;
    };
    explicit AddressWatch(Key /*key*/) {}
    ~AddressWatch();
    AddressWatch(const AddressWatch&) = delete;
    AddressWatch& operator=(const AddressWatch&) = delete;

    [[nodiscard]] bool watches(Side side) const noexcept { return !name(side).empty(); }
    [[nodiscard]] const std::string& name(Side side) const noexcept {
        return names_[static_cast<size_t>(side)];
    }
    // What SIP may use on a watched side now (IPv4 first, port 0): no
    // tentative, failed or link-local address.
    [[nodiscard]] const std::vector<SockAddr>& usable(Side side) const noexcept {
        return usable_[static_cast<size_t>(side)];
    }

    // Reports every later change through `change`, from `base`'s loop.
    [[nodiscard]] bool start(event_base* base, Change change);

    // What a batch of kernel messages changes (also what the tests feed).
    void apply(const NetlinkBatch& batch);

  private:
    struct Known {
        unsigned ifindex = 0;
        SockAddr addr;
        bool usable = false;
    };
    static void on_readable(evutil_socket_t fd, short what, void* arg) noexcept;
    void readable();
    // Everything again from a dump (at start, and when events were lost).
    [[nodiscard]] bool resync(std::string& error);
    void publish();

    UniqueFd fd_;
    EventPtr event_;
    Change change_;
    std::array<std::string, 2> names_;
    std::map<unsigned, NetlinkLink> links_;  // by index
    std::vector<Known> known_;
    std::array<std::vector<SockAddr>, 2> usable_;
};

}  // namespace sipmasq
