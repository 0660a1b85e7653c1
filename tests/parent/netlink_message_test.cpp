// The rtnetlink messages the parent reads, built byte for byte with the
// kernel's own structs (as the kernel sends them), and what AddressWatch
// makes of them: which addresses of a watched interface come and go.
#include "netlink_message.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <gtest/gtest.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cstring>
#include <vector>

#include "address_watch.h"
#include "event_ptr.h"

namespace sipmasq {
namespace {

// Builds a datagram of netlink messages, aligned as the kernel aligns them.
class NetlinkBytes {
  public:
    void begin(uint16_t type) {
        start_ = bytes_.size();
        nlmsghdr h{};
        h.nlmsg_type = type;
        append(&h, sizeof h);
    }
    template <class T>
    void body(const T& v) {
        append(&v, sizeof v);
    }
    void attr(uint16_t type, const void* data, size_t len) {
        rtattr a{};
        a.rta_type = type;
        a.rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
        append(&a, sizeof a);
        append(data, len);
    }
    void end() {
        const auto len = static_cast<uint32_t>(bytes_.size() - start_);
        std::memcpy(bytes_.data() + start_, &len, sizeof len);  // nlmsg_len comes first
    }
    [[nodiscard]] std::vector<uint8_t>& bytes() { return bytes_; }

  private:
    void append(const void* p, size_t n) {
        const auto* b = static_cast<const uint8_t*>(p);
        bytes_.insert(bytes_.end(), b, b + n);
        bytes_.resize(NLMSG_ALIGN(bytes_.size()));
    }
    std::vector<uint8_t> bytes_;
    size_t start_ = 0;
};

void add_v4_address(NetlinkBytes& nl, uint16_t type, unsigned index, const char* addr,
                    const char* peer = nullptr, uint8_t flags = 0) {
    nl.begin(type);
    ifaddrmsg ifa{};
    ifa.ifa_family = AF_INET;
    ifa.ifa_prefixlen = 24;
    ifa.ifa_flags = flags;
    ifa.ifa_index = index;
    nl.body(ifa);
    in_addr a{};
    ::inet_pton(AF_INET, addr, &a);
    if (peer != nullptr) {
        // A point-to-point link (ppp0): IFA_ADDRESS is the far end.
        in_addr p{};
        ::inet_pton(AF_INET, peer, &p);
        nl.attr(IFA_ADDRESS, &p, sizeof p);
        nl.attr(IFA_LOCAL, &a, sizeof a);
    } else {
        nl.attr(IFA_ADDRESS, &a, sizeof a);
        nl.attr(IFA_LOCAL, &a, sizeof a);
    }
    nl.end();
}

void add_v6_address(NetlinkBytes& nl, uint16_t type, unsigned index, const char* addr,
                    uint32_t flags) {
    nl.begin(type);
    ifaddrmsg ifa{};
    ifa.ifa_family = AF_INET6;
    ifa.ifa_prefixlen = 64;
    ifa.ifa_flags = static_cast<uint8_t>(flags);
    ifa.ifa_index = index;
    nl.body(ifa);
    in6_addr a{};
    ::inet_pton(AF_INET6, addr, &a);
    nl.attr(IFA_ADDRESS, &a, sizeof a);
    nl.attr(IFA_FLAGS, &flags, sizeof flags);  // all 32 bits, as the kernel sends them
    nl.end();
}

void add_link(NetlinkBytes& nl, uint16_t type, int index, const char* name, unsigned flags) {
    nl.begin(type);
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    ifi.ifi_flags = flags;
    nl.body(ifi);
    nl.attr(IFLA_IFNAME, name, std::strlen(name) + 1);
    nl.end();
}

NetlinkBatch parse(std::vector<uint8_t>& bytes, bool* ok = nullptr) {
    NetlinkBatch batch;
    const bool parsed = parse_netlink(bytes.data(), bytes.size(), batch);
    if (ok != nullptr) *ok = parsed;
    return batch;
}

TEST(NetlinkMessage, AddressesAndLinksInOneDatagram) {
    NetlinkBytes nl;
    add_link(nl, RTM_NEWLINK, 7, "ppp0", IFF_UP | IFF_RUNNING);
    add_v4_address(nl, RTM_NEWADDR, 7, "198.51.100.7", "198.51.100.1");
    add_v4_address(nl, RTM_DELADDR, 3, "203.0.113.1");
    add_v6_address(nl, RTM_NEWADDR, 3, "2001:db8::1", 0);
    bool ok = false;
    const NetlinkBatch b = parse(nl.bytes(), &ok);
    EXPECT_TRUE(ok);
    ASSERT_EQ(b.links.size(), 1u);
    EXPECT_EQ(b.links[0].ifindex, 7u);
    EXPECT_EQ(b.links[0].name, "ppp0");
    EXPECT_FALSE(b.links[0].removed);
    EXPECT_NE(b.links[0].flags & IFF_UP, 0u);
    ASSERT_EQ(b.addresses.size(), 3u);
    // Ours on a point-to-point link is IFA_LOCAL, not the peer's IFA_ADDRESS.
    EXPECT_EQ(b.addresses[0].addr.host_string(), "198.51.100.7");
    EXPECT_EQ(b.addresses[0].ifindex, 7u);
    EXPECT_TRUE(b.addresses[0].usable());
    EXPECT_TRUE(b.addresses[1].removed);
    EXPECT_EQ(b.addresses[1].addr.host_string(), "203.0.113.1");
    EXPECT_EQ(b.addresses[2].addr.host_string(), "2001:db8::1");
    EXPECT_EQ(b.addresses[2].addr.port(), 0);
    EXPECT_EQ(b.skipped, 0u);
}

TEST(NetlinkMessage, TentativeFailedAndLinkLocalAreNotUsable) {
    NetlinkBytes nl;
    add_v6_address(nl, RTM_NEWADDR, 3, "2001:db8::2", IFA_F_TENTATIVE);
    add_v6_address(nl, RTM_NEWADDR, 3, "2001:db8::3", IFA_F_DADFAILED | IFA_F_TENTATIVE);
    add_v6_address(nl, RTM_NEWADDR, 3, "fe80::1", 0);
    add_v4_address(nl, RTM_NEWADDR, 3, "169.254.7.7");
    // Only IFA_FLAGS has the bits above eight (IFA_F_MANAGETEMPADDR):
    // a deprecated, managed address is usable.
    add_v6_address(nl, RTM_NEWADDR, 3, "2001:db8::4", IFA_F_DEPRECATED | IFA_F_MANAGETEMPADDR);
    const NetlinkBatch b = parse(nl.bytes());
    ASSERT_EQ(b.addresses.size(), 5u);
    EXPECT_FALSE(b.addresses[0].usable());
    EXPECT_FALSE(b.addresses[1].usable());
    EXPECT_FALSE(b.addresses[2].usable());
    EXPECT_FALSE(b.addresses[3].usable());
    EXPECT_TRUE(b.addresses[4].usable());
    EXPECT_EQ(b.addresses[4].flags, uint32_t{IFA_F_DEPRECATED | IFA_F_MANAGETEMPADDR});
}

TEST(NetlinkMessage, DoneErrorAndOtherTypes) {
    NetlinkBytes nl;
    nl.begin(RTM_NEWROUTE);
    nl.body(rtmsg{});
    nl.end();
    nl.begin(NLMSG_ERROR);
    nlmsgerr e{};
    e.error = -EPERM;
    nl.body(e);
    nl.end();
    nl.begin(NLMSG_DONE);
    nl.body(int{0});
    nl.end();
    const NetlinkBatch b = parse(nl.bytes());
    EXPECT_TRUE(b.done);
    EXPECT_EQ(b.error, -EPERM);
    EXPECT_EQ(b.skipped, 1u);  // the route
}

TEST(NetlinkMessage, MalformedInputIsRefusedWithoutReadingPastIt) {
    NetlinkBytes nl;
    add_v4_address(nl, RTM_NEWADDR, 3, "203.0.113.1");
    std::vector<uint8_t> good = nl.bytes();
    // A length past the end of the datagram: refused, nothing decoded.
    std::vector<uint8_t> longer = good;
    const uint32_t too_long = static_cast<uint32_t>(longer.size() + 4);
    std::memcpy(longer.data(), &too_long, sizeof too_long);
    bool ok = true;
    EXPECT_TRUE(parse(longer, &ok).addresses.empty());
    EXPECT_FALSE(ok);
    // A length shorter than the header.
    std::vector<uint8_t> shorter = good;
    const uint32_t tiny = 8;
    std::memcpy(shorter.data(), &tiny, sizeof tiny);
    EXPECT_TRUE(parse(shorter, &ok).addresses.empty());
    EXPECT_FALSE(ok);
    // Every truncation of a valid message: no crash, never a wrong address.
    for (size_t n = 0; n < good.size(); ++n) {
        std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(n));
        const NetlinkBatch b = parse(cut);
        for (const auto& a : b.addresses) EXPECT_EQ(a.addr.host_string(), "203.0.113.1");
    }
    // An attribute whose length runs past its message: ignored, and an
    // address message left without an address is skipped.
    NetlinkBytes bad;
    bad.begin(RTM_NEWADDR);
    ifaddrmsg ifa{};
    ifa.ifa_family = AF_INET;
    ifa.ifa_index = 3;
    bad.body(ifa);
    rtattr a{};
    a.rta_type = IFA_LOCAL;
    a.rta_len = 200;
    bad.body(a);
    bad.end();
    const NetlinkBatch b = parse(bad.bytes());
    EXPECT_TRUE(b.addresses.empty());
    EXPECT_EQ(b.skipped, 1u);
    // An IPv4 address attribute of IPv6 size: not taken.
    NetlinkBytes wrong;
    wrong.begin(RTM_NEWADDR);
    wrong.body(ifa);
    in6_addr six{};
    wrong.attr(IFA_LOCAL, &six, sizeof six);
    wrong.end();
    EXPECT_TRUE(parse(wrong.bytes()).addresses.empty());
}

// AddressWatch on interfaces the test invents (the host has none by these
// names, so what the kernel dumps at open() adds nothing to them).
class AddressWatchTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string error;
        watch_ = AddressWatch::open("smqtin0", "smqtout0", error);
        if (!watch_) GTEST_SKIP() << "no rtnetlink here: " << error;
        ASSERT_TRUE(watch_->usable(Side::Outside).empty());
        ASSERT_TRUE(watch_->start(base_.get(), [this](Side side, const SockAddr& a, bool came) {
            changes_.push_back(std::string(came ? "+" : "-") + side_name(side) + " " +
                               a.host_string());
        }));
    }
    EventBasePtr base_{event_base_new()};
    std::unique_ptr<AddressWatch> watch_;
    std::vector<std::string> changes_;
};

TEST_F(AddressWatchTest, FollowsTheWatchedInterfaceByName) {
    NetlinkBytes nl;
    add_link(nl, RTM_NEWLINK, 90001, "smqtout0", 0);
    add_link(nl, RTM_NEWLINK, 90002, "other0", IFF_UP);
    add_v4_address(nl, RTM_NEWADDR, 90002, "198.51.100.9");  // not watched
    add_v6_address(nl, RTM_NEWADDR, 90001, "fe80::1", 0);    // link-local: never
    add_v6_address(nl, RTM_NEWADDR, 90001, "2001:db8::1", IFA_F_TENTATIVE);
    watch_->apply(parse(nl.bytes()));
    EXPECT_TRUE(changes_.empty());

    // DAD is over: the same address again without IFA_F_TENTATIVE.
    NetlinkBytes dad;
    add_v6_address(dad, RTM_NEWADDR, 90001, "2001:db8::1", 0);
    add_v4_address(dad, RTM_NEWADDR, 90001, "203.0.113.1");
    watch_->apply(parse(dad.bytes()));
    EXPECT_EQ(changes_, (std::vector<std::string>{"+outside 203.0.113.1", "+outside 2001:db8::1"}));
    EXPECT_EQ(watch_->usable(Side::Outside).front().host_string(), "203.0.113.1");  // IPv4 first

    // A repeat changes nothing; a move is a gone and a came.
    changes_.clear();
    NetlinkBytes move;
    add_v4_address(move, RTM_NEWADDR, 90001, "203.0.113.1");
    add_v4_address(move, RTM_DELADDR, 90001, "203.0.113.1");
    add_v4_address(move, RTM_NEWADDR, 90001, "203.0.113.2");
    watch_->apply(parse(move.bytes()));
    EXPECT_EQ(changes_, (std::vector<std::string>{"-outside 203.0.113.1", "+outside 203.0.113.2"}));

    // The link goes (PPPoE hangs up): every address of it with it.
    changes_.clear();
    NetlinkBytes gone;
    add_link(gone, RTM_DELLINK, 90001, "smqtout0", 0);
    watch_->apply(parse(gone.bytes()));
    EXPECT_EQ(changes_, (std::vector<std::string>{"-outside 203.0.113.2", "-outside 2001:db8::1"}));
    EXPECT_TRUE(watch_->usable(Side::Outside).empty());

    // It comes back under another index (a new ppp0): followed by name.
    changes_.clear();
    NetlinkBytes back;
    add_link(back, RTM_NEWLINK, 90003, "smqtout0", IFF_UP);
    add_v4_address(back, RTM_NEWADDR, 90003, "198.51.100.7", "198.51.100.1");
    watch_->apply(parse(back.bytes()));
    EXPECT_EQ(changes_, (std::vector<std::string>{"+outside 198.51.100.7"}));
}

}  // namespace
}  // namespace sipmasq
