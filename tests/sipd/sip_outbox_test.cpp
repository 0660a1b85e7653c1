// SipOutbox on real loopback sockets: a pass's datagrams leave in order,
// one sendmmsg per run on a socket, and nothing is lost when the storage
// fills or a destination fails.
#include "sip_outbox.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "unique_fd.h"

namespace sipmasq {
namespace {

struct Udp {
    UniqueFd fd;
    SockAddr addr;
    explicit Udp(const char* host) {
        fd.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
        SockAddr local = *SockAddr::parse(host);
        EXPECT_EQ(::bind(fd.get(), local.sa(), local.len()), 0);
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
        addr = SockAddr(reinterpret_cast<sockaddr*>(&ss), len);
    }
    std::optional<std::string> recv() const {
        char buf[70000];
        const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n < 0) return std::nullopt;
        return std::string(buf, static_cast<size_t>(n));
    }
};

TEST(SipOutbox, NothingLeavesBeforeTheFlushAndEverythingInOrderAfter) {
    Udp a("127.0.0.1"), b("127.0.0.1"), phone("127.0.0.1"), provider("127.0.0.1");
    SipOutbox box;
    box.queue(a.fd.get(), phone.addr, "100 Trying");
    box.queue(b.fd.get(), provider.addr, "INVITE 1");
    box.queue(b.fd.get(), provider.addr, "INVITE 2");
    box.queue(a.fd.get(), phone.addr, "180 Ringing");
    EXPECT_EQ(box.queued(), 4u);
    EXPECT_FALSE(phone.recv().has_value());  // queued, not sent
    EXPECT_EQ(box.flush(), 0u);
    EXPECT_TRUE(box.empty());
    EXPECT_EQ(box.sent(), 4u);
    EXPECT_EQ(box.calls(), 3u);  // a, b b, a: three runs, three sendmmsg
    EXPECT_EQ(phone.recv(), "100 Trying");
    EXPECT_EQ(phone.recv(), "180 Ringing");
    EXPECT_EQ(provider.recv(), "INVITE 1");
    EXPECT_EQ(provider.recv(), "INVITE 2");
    // And from the socket each was queued on.
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    char buf[64];
    box.queue(b.fd.get(), phone.addr, "from b");
    box.flush();
    ASSERT_GT(
        ::recvfrom(phone.fd.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len),
        0);
    EXPECT_EQ(SockAddr(reinterpret_cast<sockaddr*>(&from), len), b.addr);
}

TEST(SipOutbox, AFullArenaOrTableSendsWhatWasQueuedFirst) {
    Udp a("127.0.0.1"), phone("127.0.0.1");
    SipOutbox box(100, 3);
    box.queue(a.fd.get(), phone.addr, std::string(60, 'x'));
    box.queue(a.fd.get(), phone.addr, std::string(60, 'y'));  // does not fit: x goes first
    EXPECT_EQ(box.queued(), 1u);
    EXPECT_EQ(phone.recv(), std::string(60, 'x'));
    box.queue(a.fd.get(), phone.addr, "1");
    box.queue(a.fd.get(), phone.addr, "2");
    box.queue(a.fd.get(), phone.addr, "3");  // the table holds three
    EXPECT_EQ(phone.recv(), std::string(60, 'y'));
    EXPECT_EQ(phone.recv(), "1");
    EXPECT_EQ(phone.recv(), "2");
    // Larger than the whole arena: what is queued, then it, at once.
    box.queue(a.fd.get(), phone.addr, std::string(500, 'z'));
    EXPECT_TRUE(box.empty());
    EXPECT_EQ(phone.recv(), "3");
    EXPECT_EQ(phone.recv(), std::string(500, 'z'));
    EXPECT_FALSE(phone.recv().has_value());
}

TEST(SipOutbox, AFailedDatagramIsReportedAndTheRestStillGo) {
    Udp a("127.0.0.1"), phone("127.0.0.1");
    SipOutbox box;
    std::vector<std::pair<SockAddr, int>> errors;
    box.on_error([&](const SockAddr& dest, int error) { errors.emplace_back(dest, error); });
    // An IPv6 destination on an IPv4 socket: EAFNOSUPPORT or EINVAL.
    const SockAddr v6 = *SockAddr::parse("[::1]:5060");
    box.queue(a.fd.get(), phone.addr, "before");
    box.queue(a.fd.get(), v6, "cannot go");
    box.queue(a.fd.get(), phone.addr, "after");
    EXPECT_EQ(box.flush(), 1u);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].first, v6);
    EXPECT_NE(errors[0].second, 0);
    EXPECT_EQ(phone.recv(), "before");
    EXPECT_EQ(phone.recv(), "after");
    EXPECT_EQ(box.sent(), 2u);
}

}  // namespace
}  // namespace sipmasq
