// The TCP transport on loopback with real sockets and a real event loop:
// accepted and opened connections, replies over the connection a message
// came on, keep-alive ping/pong, bad framing, and the connection limits.
#include "tcp_transport.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "event_ptr.h"
#include "unique_fd.h"

using namespace sipmasq;

namespace {

const std::string kMessage =
    "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKt\r\n"
    "Content-Length: 4\r\n\r\nbody";

UniqueFd listening_socket(SockAddr& bound) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    SockAddr any = *SockAddr::parse("127.0.0.1:0");
    EXPECT_EQ(::bind(fd.get(), any.sa(), any.len()), 0);
    EXPECT_EQ(::listen(fd.get(), 16), 0);
    socklen_t len = SockAddr::capacity();
    ::getsockname(fd.get(), bound.sa(), &len);
    return fd;
}

UniqueFd connect_to(const SockAddr& to) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_EQ(::connect(fd.get(), to.sa(), to.len()), 0);
    return fd;
}

SockAddr local_of(int fd) {
    SockAddr a;
    socklen_t len = SockAddr::capacity();
    ::getsockname(fd, a.sa(), &len);
    return a;
}

class TcpTransportTest : public ::testing::Test {
  protected:
    void SetUp() override { base_.reset(event_base_new()); }

    void make(TcpSettings s) {
        transport_ = std::make_unique<TcpTransport>(
            base_.get(), s, [this](std::string_view m, Side side, const SockAddr& peer) {
                got_.push_back({std::string(m), side, peer});
            });
        ASSERT_TRUE(
            transport_->add_listener(listening_socket(listen_addr_), Side::Inside, listen_addr_));
        transport_->start();
    }

    // Runs the loop until `done` or two seconds passed.
    bool run_until(const std::function<bool()>& done, int ms = 2000) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (std::chrono::steady_clock::now() < end) {
            event_base_loop(base_.get(), EVLOOP_NONBLOCK);
            if (done()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        return done();
    }

    // What the peer reads within `ms` (non-blocking), "" at EOF too.
    std::string read_some(int fd, int ms = 500, bool* eof = nullptr) {
        std::string out;
        run_until(
            [&] {
                char buf[4096];
                const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (n > 0) out.append(buf, static_cast<size_t>(n));
                if (n == 0 && eof != nullptr) *eof = true;
                return n == 0 || !out.empty();
            },
            ms);
        return out;
    }

    struct Got {
        std::string message;
        Side side;
        SockAddr peer;
    };
    EventBasePtr base_;
    SockAddr listen_addr_;
    std::unique_ptr<TcpTransport> transport_;
    std::vector<Got> got_;
};

TEST_F(TcpTransportTest, AcceptedMessageIsDeliveredAndTheReplyGoesBackOverIt) {
    make({});
    UniqueFd client = connect_to(listen_addr_);
    // Split in two writes: the framer joins them.
    ASSERT_GT(::send(client.get(), kMessage.data(), 20, 0), 0);
    ASSERT_TRUE(run_until([&] { return transport_->connections() == 1; }));
    ASSERT_GT(::send(client.get(), kMessage.data() + 20, kMessage.size() - 20, 0), 0);
    ASSERT_TRUE(run_until([&] { return got_.size() == 1; }));
    EXPECT_EQ(got_[0].message, kMessage);
    EXPECT_EQ(got_[0].side, Side::Inside);
    EXPECT_EQ(got_[0].peer, local_of(client.get()));
    // The reply to that peer reuses the connection: no new one is opened.
    ASSERT_TRUE(transport_->send(Side::Inside, got_[0].peer, "SIP/2.0 200 OK\r\n"));
    EXPECT_EQ(read_some(client.get()), "SIP/2.0 200 OK\r\n");
    EXPECT_EQ(transport_->connections(), 1u);
    // The same peer on the other side is another connection (never mixed up).
    EXPECT_FALSE(transport_->connected_to(Side::Outside, got_[0].peer));
}

TEST_F(TcpTransportTest, DoubleCrlfPingGetsASingleCrlfPong) {
    make({});
    UniqueFd client = connect_to(listen_addr_);
    ASSERT_EQ(::send(client.get(), "\r\n\r\n", 4, 0), 4);
    EXPECT_EQ(read_some(client.get()), "\r\n");
    EXPECT_TRUE(got_.empty());
}

TEST_F(TcpTransportTest, MessageWithoutContentLengthClosesTheConnection) {
    make({});
    UniqueFd client = connect_to(listen_addr_);
    const std::string bad = "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n";
    ASSERT_GT(::send(client.get(), bad.data(), bad.size(), 0), 0);
    bool eof = false;
    EXPECT_EQ(read_some(client.get(), 1000, &eof), "");
    EXPECT_TRUE(eof);
    EXPECT_TRUE(got_.empty());
    EXPECT_TRUE(run_until([&] { return transport_->connections() == 0; }));
}

TEST_F(TcpTransportTest, OversizeMessageClosesTheConnection) {
    TcpSettings s;
    s.max_message = 2048;
    make(s);
    UniqueFd client = connect_to(listen_addr_);
    const std::string big = "OPTIONS sip:x SIP/2.0\r\nContent-Length: 4000\r\n\r\n";
    ASSERT_GT(::send(client.get(), big.data(), big.size(), 0), 0);
    bool eof = false;
    (void)read_some(client.get(), 1000, &eof);
    EXPECT_TRUE(eof);
    EXPECT_TRUE(got_.empty());
}

TEST_F(TcpTransportTest, ConnectionsBeyondThePerSourceLimitAreClosed) {
    TcpSettings s;
    s.limits.max_per_source = 2;
    make(s);
    UniqueFd a = connect_to(listen_addr_);
    UniqueFd b = connect_to(listen_addr_);
    ASSERT_TRUE(run_until([&] { return transport_->connections() == 2; }));
    UniqueFd c = connect_to(listen_addr_);
    bool eof = false;
    (void)read_some(c.get(), 1000, &eof);
    EXPECT_TRUE(eof) << "the third connection from one address is closed";
    EXPECT_EQ(transport_->connections(), 2u);
    // One goes away: a new one fits again.
    a.reset();
    ASSERT_TRUE(run_until([&] { return transport_->connections() == 1; }));
    UniqueFd d = connect_to(listen_addr_);
    EXPECT_TRUE(run_until([&] { return transport_->connections() == 2; }));
    ASSERT_GT(::send(d.get(), kMessage.data(), kMessage.size(), 0), 0);
    EXPECT_TRUE(run_until([&] { return got_.size() == 1; }));
}

TEST_F(TcpTransportTest, IdleConnectionIsClosedAfterTheTimeout) {
    TcpSettings s;
    s.idle_ms = 300;
    make(s);
    UniqueFd client = connect_to(listen_addr_);
    ASSERT_TRUE(run_until([&] { return transport_->connections() == 1; }));
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_until([&] { return transport_->connections() == 0; }, 3000));
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
    bool eof = false;
    (void)read_some(client.get(), 500, &eof);
    EXPECT_TRUE(eof);
}

TEST_F(TcpTransportTest, SendOpensAConnectionAndItsAnswerComesBackFromThatPeer) {
    TcpSettings s;
    s.keepalive_ms = 200;
    make(s);
    SockAddr peer_addr;
    UniqueFd peer_listener = listening_socket(peer_addr);
    ASSERT_TRUE(transport_->send(Side::Outside, peer_addr, kMessage));
    UniqueFd conn;
    ASSERT_TRUE(run_until([&] {
        conn.reset(::accept4(peer_listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        return conn.valid();
    }));
    std::string seen;
    ASSERT_TRUE(run_until([&] {
        char buf[4096];
        const ssize_t n = ::recv(conn.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) seen.append(buf, static_cast<size_t>(n));
        return seen.size() >= kMessage.size();
    }));
    EXPECT_EQ(seen, kMessage);
    EXPECT_TRUE(transport_->connected_to(Side::Outside, peer_addr));
    // Its answer comes in on that connection, from that peer, on that side.
    ASSERT_GT(::send(conn.get(), kMessage.data(), kMessage.size(), 0), 0);
    ASSERT_TRUE(run_until([&] { return got_.size() == 1; }));
    EXPECT_EQ(got_[0].side, Side::Outside);
    EXPECT_EQ(got_[0].peer, peer_addr);
    // We opened it: idle, it gets our CRLFCRLF keep-alive (tcp_keepalive).
    EXPECT_EQ(read_some(conn.get(), 1000), "\r\n\r\n");
}

TEST_F(TcpTransportTest, ConnectToAClosedPortFailsWithoutAConnectionLeft) {
    make({});
    SockAddr closed;
    { UniqueFd l = listening_socket(closed); }  // bound, then closed: nobody listens
    (void)transport_->send(Side::Outside, closed, kMessage);
    EXPECT_TRUE(run_until([&] { return transport_->connections() == 0; }));
}

}  // namespace
