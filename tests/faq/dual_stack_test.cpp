// Dual stack end to end: the FAQ topology with an IPv6 network beside the
// IPv4 one on each side (documentation addresses, `nodad` so they are
// usable at once, no link-local addresses), sipmasq configured by
// interface name so it serves both families:
//   smq-in-<pid>   alice 2001:db8:1::10, carol 192.0.2.20
//   smq-fw-<pid>   sipmasq vi1 192.0.2.1 + 2001:db8:1::1, vo1 203.0.113.1 + 2001:db8:2::1
//   smq-out-<pid>  bob 203.0.113.10, dave 2001:db8:2::10
// An IPv6 phone is called by an IPv4 peer and calls it, and an IPv4
// phone calls an IPv6 peer, with RTP checked both ways through the relay,
// which bridges the families; RFC 5118's messages are answered 400 or forwarded, and sipd
// lives on.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <regex>

#include "faq_fixture.h"

namespace sipmasq::test {
namespace {

// `ip` (IPv4, or IPv6 when it has a colon) and `port` into `a`; its length.
socklen_t sockaddr_of(const std::string& ip, uint16_t port, sockaddr_storage& a) {
    if (ip.find(':') != std::string::npos) {
        auto* a6 = reinterpret_cast<sockaddr_in6*>(&a);
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        ::inet_pton(AF_INET6, ip.c_str(), &a6->sin6_addr);
        return sizeof *a6;
    }
    auto* a4 = reinterpret_cast<sockaddr_in*>(&a);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &a4->sin_addr);
    return sizeof *a4;
}

// A UDP socket of either family bound in a namespace.
int udp_any_in_ns(const std::string& ns, const std::string& ip, uint16_t port) {
    int fd = -1;
    std::thread t([&] {
        const int nsfd = ::open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
        if (nsfd < 0 || ::setns(nsfd, CLONE_NEWNET) != 0) return;
        ::close(nsfd);
        sockaddr_storage a{};
        const socklen_t len = sockaddr_of(ip, port, a);
        fd = ::socket(a.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0) {
            ::close(fd);
            fd = -1;
        }
        timeval tv{0, 300000};
        if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    });
    t.join();
    return fd;
}

void send_any(int fd, const std::string& ip, uint16_t port, const std::string& data) {
    sockaddr_storage a{};
    const socklen_t len = sockaddr_of(ip, port, a);
    (void)::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), len);
}

// "ip:port" ("[ip6]:port") of the first datagram carrying `data`, else "".
std::string receive_any(int fd, const std::string& data) {
    for (int i = 0; i < 10; ++i) {
        char buf[2048];
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        const ssize_t n =
            ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) return "";
        if (std::string(buf, static_cast<size_t>(n)) != data) continue;
        char ip[INET6_ADDRSTRLEN] = {};
        if (from.ss_family == AF_INET6) {
            const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&from);
            ::inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof ip);
            return "[" + std::string(ip) + "]:" + std::to_string(ntohs(a6->sin6_port));
        }
        const auto* a4 = reinterpret_cast<const sockaddr_in*>(&from);
        ::inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof ip);
        return std::string(ip) + ":" + std::to_string(ntohs(a4->sin_port));
    }
    return "";
}

// One datagram across the relay (it may latch on the first few).
std::string relay_any(int from_fd, const std::string& ip, uint16_t port, int to_fd,
                      const std::string& tag) {
    for (int i = 0; i < 10; ++i) {
        send_any(from_fd, ip, port, tag);
        const std::string src = receive_any(to_fd, tag);
        if (!src.empty()) return src;
    }
    return "";
}

class DualStackTest : public FaqTest {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root: creates network namespaces";
        if (sh("ip netns list") != 0) GTEST_SKIP() << "`ip netns` is not available";
        if (::access("/usr/bin/sipp", X_OK) != 0) GTEST_SKIP() << "sipp (sip-tester) is missing";
        const std::string p = std::to_string(::getpid());
        in_ = "smq-in-" + p;
        fw_ = "smq-fw-" + p;
        out_ = "smq-out-" + p;
        created_ = true;
        // No link-local addresses (addrgenmode none): the documentation
        // addresses, added with nodad, are the only IPv6 ones and usable at once.
        std::ostringstream s;
        s << "set -e; for n in " << in_ << " " << fw_ << " " << out_
          << "; do ip netns add $n; ip -n $n link set lo up; done;"
          << "ip link add vi0 netns " << in_ << " type veth peer name vi1 netns " << fw_ << ";"
          << "ip link add vo1 netns " << fw_ << " type veth peer name vo0 netns " << out_ << ";"
          << "for d in " << in_ << ":vi0 " << fw_ << ":vi1 " << fw_ << ":vo1 " << out_
          << ":vo0; do ip -n ${d%%:*} link set dev ${d#*:} addrgenmode none; done;"
          << "ip -n " << in_ << " addr add 192.0.2.20/24 dev vi0;"
          << "ip -n " << in_ << " addr add 2001:db8:1::10/64 dev vi0 nodad;"
          << "ip -n " << fw_ << " addr add 192.0.2.1/24 dev vi1;"
          << "ip -n " << fw_ << " addr add 2001:db8:1::1/64 dev vi1 nodad;"
          << "ip -n " << fw_ << " addr add 203.0.113.1/24 dev vo1;"
          << "ip -n " << fw_ << " addr add 2001:db8:2::1/64 dev vo1 nodad;"
          << "ip -n " << out_ << " addr add 203.0.113.10/24 dev vo0;"
          << "ip -n " << out_ << " addr add 2001:db8:2::10/64 dev vo0 nodad;"
          << "for d in " << in_ << ":vi0 " << fw_ << ":vi1 " << fw_ << ":vo1 " << out_
          << ":vo0; do ip -n ${d%%:*} link set ${d#*:} up; done";
        std::string o;
        ASSERT_EQ(sh(s.str(), &o), 0) << o;

        const std::string jail = dir_.file("jail");
        std::filesystem::create_directories(jail);
        config_ = dir_.file("sipmasq.conf");
        write_file(config_, "if_inbound = vi1\nif_outbound = vo1\nsip_listen_port = 5060\n" +
                                rtp_ports_ + "user = nobody\nchrootjail = " + jail +
                                "\nregistration_file = " + jail +
                                "/state/registrations\npid_file = " + dir_.file("sipmasq.pid") +
                                "\ncontrol_socket = " + dir_.file("control") + "\ndaemonize = 0\n");
        ASSERT_TRUE(daemon_.start_prefixed({"ip", "netns", "exec", fw_}, config_, dir_.path()));
        sipd_ = daemon_.wait_ready("sipd", 15s);
        ASSERT_TRUE(sipd_.has_value()) << daemon_.log();
        ASSERT_TRUE(daemon_.wait_ready("rtpd[0-9]*", 15s).has_value()) << daemon_.log();
    }

    int bind_any(const std::string& ns, const std::string& ip, uint16_t port) {
        const int fd = udp_any_in_ns(ns, ip, port);
        if (fd >= 0) fds_.push_back(fd);
        return fd;
    }

    // One end of a call: its namespace, address, SIP and RTP ports, and
    // sipmasq's address on its side (where its media goes).
    struct Party {
        std::string ns, ip, user;
        uint16_t sip_port, rtp_port;
        std::string us;
        bool inside;
    };

    // `caller` calls `callee` (Request-URI host `target`) through sipmasq's
    // address `proxy`; a datagram crosses the relay each way, from the
    // relay's port on the other side. Returns what the callee received.
    std::string call_with_media(const Party& caller, const std::string& proxy,
                                const std::string& target, const std::string& from_domain,
                                const Party& callee, const std::string& tag) {
        const auto hostport = [](const std::string& ip, uint16_t port) {
            const std::string host = ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
            return host + ":" + std::to_string(port);
        };
        const int caller_rtp = bind_any(caller.ns, caller.ip, caller.rtp_port);
        const int callee_rtp = bind_any(callee.ns, callee.ip, callee.rtp_port);
        EXPECT_GE(caller_rtp, 0);
        EXPECT_GE(callee_rtp, 0);
        if (caller_rtp < 0 || callee_rtp < 0) return "";
        const pid_t callee_pid = sipp_background(callee.ns, "uas_media_ip.xml", callee.ip,
                                                 {"-p", std::to_string(callee.sip_port), "-key",
                                                  "rtp_port", std::to_string(callee.rtp_port)});
        const std::string callee_msg = bg_msg_;
        const size_t mark = daemon_.log_size();
        const auto args =
            sipp_args(caller.ns, "call_uac_media_ip.xml", caller.ip, proxy,
                      {"-p", std::to_string(caller.sip_port), "-s", callee.user, "-key", "target",
                       target, "-key", "from_user", caller.user, "-key", "from_domain", from_domain,
                       "-key", "rtp_port", std::to_string(caller.rtp_port), "-d", "2000"});
        const std::string caller_msg = last_msg_;
        const pid_t caller_pid = spawn_process(args, dir_.file(caller.user + ".out"));
        background_.push_back(caller_pid);
        uint16_t in = 0, out = 0;
        EXPECT_TRUE(relay_ports(mark, in, out)) << daemon_.log();
        const uint16_t caller_port = caller.inside ? in : out;
        const uint16_t callee_port = callee.inside ? in : out;
        EXPECT_EQ(relay_any(caller_rtp, caller.us, caller_port, callee_rtp, tag + "-forth"),
                  hostport(callee.us, callee_port));
        EXPECT_EQ(relay_any(callee_rtp, callee.us, callee_port, caller_rtp, tag + "-back"),
                  hostport(caller.us, caller_port));
        EXPECT_TRUE(background_ok(caller_pid)) << read_file(caller_msg) << daemon_.log();
        EXPECT_TRUE(background_ok(callee_pid)) << read_file(callee_msg);
        return read_file(callee_msg);
    }

    // The relay ports of the next "call start:" line after `mark`.
    bool relay_ports(size_t mark, uint16_t& in, uint16_t& out) {
        const auto line = daemon_.wait_for_log(
            "call start: .* relay ports inside [0-9]+ outside [0-9]+", 8s, mark);
        std::smatch m;
        if (!line || !std::regex_search(*line, m, std::regex("inside ([0-9]+) outside ([0-9]+)")))
            return false;
        in = static_cast<uint16_t>(std::stoi(m[1]));
        out = static_cast<uint16_t>(std::stoi(m[2]));
        return true;
    }
};

TEST_F(DualStackTest, Ipv6PhoneAndIpv4PeerCallEachOtherWithMedia) {
    EXPECT_TRUE(
        daemon_.wait_for_log("SIP: dual stack: inside 192.0.2.1 and 2001:db8:1::1, "
                             "outside 203.0.113.1 and 2001:db8:2::1",
                             1s))
        << daemon_.log();

    // alice registers over IPv6; bob (IPv4, outside) calls her.
    std::string log;
    ASSERT_TRUE(sipp(in_, "register.xml", "2001:db8:1::10", "[2001:db8:1::1]:5060",
                     {"-p", "5060", "-s", "alice", "-key", "domain", "203.0.113.1"}, &log))
        << log << daemon_.log();
    const Party alice{in_, "2001:db8:1::10", "alice", 5060, 40000, "2001:db8:1::1", true};
    const Party bob_in{out_, "203.0.113.10", "bob", 5062, 40002, "203.0.113.1", false};
    // The inside leg is IPv6 from the relay's address to the SDP alice got.
    std::string seen =
        call_with_media(bob_in, "203.0.113.1:5060", "203.0.113.1", "203.0.113.10", alice, "v4-in");
    EXPECT_NE(seen.find("c=IN IP6 2001:db8:1::1"), std::string::npos) << seen;
    EXPECT_NE(seen.find("Via: SIP/2.0/UDP [2001:db8:1::1]:5060"), std::string::npos) << seen;

    // alice (IPv6) calls bob (IPv4 outside): the outside leg is IPv4.
    const Party alice_out{in_, "2001:db8:1::10", "alice", 5066, 40008, "2001:db8:1::1", true};
    const Party bob{out_, "203.0.113.10", "bob", 5064, 40010, "203.0.113.1", false};
    seen = call_with_media(alice_out, "[2001:db8:1::1]:5060", "203.0.113.10:5064", "203.0.113.1",
                           bob, "v6-out");
    EXPECT_NE(seen.find("c=IN IP4 203.0.113.1"), std::string::npos) << seen;
    EXPECT_NE(seen.find("Via: SIP/2.0/UDP 203.0.113.1:5060"), std::string::npos) << seen;
    EXPECT_EQ(seen.find("IN IP6"), std::string::npos) << seen;  // no IPv6 SDP outside

    // carol (IPv4, inside) calls dave at his IPv6 address outside.
    const Party carol{in_, "192.0.2.20", "carol", 5062, 40004, "192.0.2.1", true};
    const Party dave{out_, "2001:db8:2::10", "dave", 5060, 40006, "2001:db8:2::1", false};
    seen =
        call_with_media(carol, "192.0.2.1:5060", "[2001:db8:2::10]", "203.0.113.1", dave, "v4-out");
    EXPECT_NE(seen.find("c=IN IP6 2001:db8:2::1"), std::string::npos) << seen;
    EXPECT_NE(seen.find("Via: SIP/2.0/UDP [2001:db8:2::1]:5060"), std::string::npos) << seen;
    EXPECT_EQ(seen.find("IN IP4"), std::string::npos) << seen;  // no IPv4 SDP outside

    // RFC 5118 §4.2 over the wire: no brackets around the Request-URI's
    // address is answered 400, and sipd carries on.
    const int phone = bind_any(in_, "2001:db8:1::10", 5070);
    ASSERT_GE(phone, 0);
    const std::string bad =
        "OPTIONS sip:2001:db8::10 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP [2001:db8:1::10]:5070;branch=z9hG4bKbad6\r\n"
        "Max-Forwards: 70\r\nTo: <sip:user@[2001:db8::10]>\r\n"
        "From: <sip:user@[2001:db8:1::10]>;tag=b6\r\nCall-ID: bad6@2001:db8:1::10\r\n"
        "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    send_any(phone, "2001:db8:1::1", 5060, bad);
    char buf[2048];
    const ssize_t n = ::recv(phone, buf, sizeof buf, 0);
    ASSERT_GT(n, 0) << daemon_.log();
    EXPECT_EQ(std::string(buf, static_cast<size_t>(n)).rfind("SIP/2.0 400 ", 0), 0u)
        << std::string(buf, static_cast<size_t>(n));
    EXPECT_EQ(daemon_.wait_ready("sipd", 1s), sipd_) << "sipd restarted";
}

}  // namespace
}  // namespace sipmasq::test
