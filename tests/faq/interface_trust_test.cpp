// Trust by interface, against the real daemon in the FAQ namespaces
// (faq_fixture.h), with two additions:
//   the outside host 203.0.113.10 has a route to 192.0.2.0/24 through the
//   firewall, which (rp_filter off) accepts datagrams for its inside
//   address on vo1;
//   smq-x-<pid>, a third network, 198.51.100.10 on the firewall's vx1.
// What arrives through vo1 is from outside, whatever address it was sent to.
#include "faq_fixture.h"

namespace sipmasq::test {
namespace {

struct Datagram {
    std::string from;  // "ip:port"
    std::string data;
};

// The first datagram within `tries` x 300 ms whose text starts with
// `prefix`; nullopt if none.
std::optional<Datagram> receive_starting(int fd, const std::string& prefix, int tries = 10) {
    for (int i = 0; i < tries; ++i) {
        char buf[4096];
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const ssize_t n =
            ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) continue;  // timeout: try again
        std::string text(buf, static_cast<size_t>(n));
        if (text.rfind(prefix, 0) != 0) continue;
        char ip[INET_ADDRSTRLEN] = {};
        ::inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
        return Datagram{std::string(ip) + ":" + std::to_string(ntohs(from.sin_port)),
                        std::move(text)};
    }
    return std::nullopt;
}

std::string register_request(const std::string& user, const std::string& ip,
                             const std::string& call_id) {
    return "REGISTER sip:203.0.113.1 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP " +
           ip + ":5060;branch=z9hG4bK-" + call_id +
           "\r\n"
           "From: <sip:" +
           user + "@203.0.113.1>;tag=" + call_id +
           "\r\n"
           "To: <sip:" +
           user +
           "@203.0.113.1>\r\n"
           "Call-ID: " +
           call_id +
           "\r\n"
           "CSeq: 1 REGISTER\r\n"
           "Contact: <sip:" +
           user + "@" + ip +
           ":5060>\r\n"
           "Expires: 3600\r\n"
           "Max-Forwards: 70\r\n"
           "Content-Length: 0\r\n\r\n";
}

class InterfaceTrustTest : public FaqTest {
  protected:
    void SetUp() override {
        FaqTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        x_ = "smq-x-" + std::to_string(::getpid());
        registrations_ = dir_.file("jail") + "/state/registrations";
        std::ostringstream s;
        s << "set -e; ip netns add " << x_ << "; ip -n " << x_ << " link set lo up;"
          << "ip link add vx1 netns " << fw_ << " type veth peer name vx0 netns " << x_ << ";"
          << "ip -n " << fw_ << " addr add 198.51.100.1/24 dev vx1;"
          << "ip -n " << x_ << " addr add 198.51.100.10/24 dev vx0;"
          << "ip -n " << fw_ << " link set vx1 up; ip -n " << x_ << " link set vx0 up;"
          << "ip -n " << x_ << " route add 192.0.2.0/24 via 198.51.100.1;"
          << "ip -n " << in_
          << " route add default via 192.0.2.1;"
          // The attacker's way to the inside address: through the outside.
          << "ip -n " << out_ << " route add 192.0.2.0/24 via 203.0.113.1;"
          << "ip netns exec " << fw_
          << " sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 "
             "net.ipv4.conf.vo1.rp_filter=0 net.ipv4.conf.vi1.rp_filter=0 "
             "net.ipv4.conf.vx1.rp_filter=0";
        std::string o;
        ASSERT_EQ(sh(s.str(), &o), 0) << o;
    }

    void TearDown() override {
        FaqTest::TearDown();
        if (!x_.empty()) sh("ip netns del " + x_ + " 2>/dev/null; true");
    }

    std::string registrations() {
        std::string out;
        EXPECT_EQ(run_command({build_root() + "/ctl/sipmasqctl", "-s", dir_.file("control"),
                               "registrations"},
                              out),
                  0)
            << out;
        return out;
    }

    // REGISTER from the inside phone; the 200 comes from the inside address.
    void register_inside(int phone, const std::string& user) {
        send_to(phone, "192.0.2.1", 5060, register_request(user, "192.0.2.10", "in-" + user));
        const auto answer = receive_starting(phone, "SIP/2.0 200");
        ASSERT_TRUE(answer.has_value()) << daemon_.log();
        EXPECT_EQ(answer->from, "192.0.2.1:5060");
    }

    std::string x_, registrations_;
};

TEST_F(InterfaceTrustTest, RegisterSentFromOutsideToTheInsideAddressIsRefused) {
    EXPECT_TRUE(daemon_.wait_for_log(
        "trust by interface: inside vi1 \\(index [0-9]+\\), outside vo1 \\(index [0-9]+\\)", 2s))
        << daemon_.log();
    const int mallory = bind_ns(out_, "203.0.113.10", 5060);
    ASSERT_GE(mallory, 0);
    send_to(mallory, "192.0.2.1", 5060, register_request("mallory", "203.0.113.10", "out-1"));
    // Answered as an outside request, and from the outside socket.
    const auto answer = receive_starting(mallory, "SIP/2.0 ");
    ASSERT_TRUE(answer.has_value()) << daemon_.log();
    EXPECT_EQ(answer->data.rfind("SIP/2.0 403", 0), 0u) << answer->data;
    EXPECT_EQ(answer->from, "203.0.113.1:5060");
    EXPECT_TRUE(daemon_.wait_for_log("security: register-refused from 203.0.113.10:5060: 403", 5s))
        << daemon_.log();

    // The inside still registers, through the same inside socket.
    const int phone = bind_ns(in_, "192.0.2.10", 5060);
    ASSERT_GE(phone, 0);
    ASSERT_NO_FATAL_FAILURE(register_inside(phone, "alice"));
    EXPECT_TRUE(daemon_.wait_for_log("registration added: alice@203.0.113.1", 5s)) << daemon_.log();
    std::this_thread::sleep_for(1500ms);  // saves are coalesced to one a second

    const std::string listed = registrations();
    EXPECT_NE(listed.find("alice"), std::string::npos) << listed;
    EXPECT_EQ(listed.find("mallory"), std::string::npos) << listed;
    const std::string saved = read_file(registrations_);
    EXPECT_NE(saved.find("alice"), std::string::npos) << saved;
    EXPECT_EQ(saved.find("mallory"), std::string::npos) << saved;
    EXPECT_FALSE(daemon_.wait_for_log("registration added: mallory", 10ms)) << daemon_.log();
}

// A third network reaches 192.0.2.1 through vx1, neither side's interface:
// nothing answers it and the drop is logged.
TEST_F(InterfaceTrustTest, ThroughAThirdInterfaceNothingIsAnswered) {
    const int eve = bind_ns(x_, "198.51.100.10", 5099);
    ASSERT_GE(eve, 0);
    send_to(eve, "192.0.2.1", 5060, register_request("eve", "198.51.100.10", "x-1"));
    EXPECT_FALSE(receive_starting(eve, "SIP/2.0 ", 3).has_value());
    EXPECT_TRUE(daemon_.wait_for_log(
        "security: wrong-interface from 198.51.100.10:5099: to 192.0.2.1 through interface "
        "[0-9]+, "
        "neither the inside \\(vi1\\) nor the outside \\(vo1\\)",
        5s))
        << daemon_.log();
    EXPECT_FALSE(daemon_.wait_for_log("registration added: eve", 10ms)) << daemon_.log();
}

TEST_F(InterfaceTrustTest, MediaSentFromOutsideToTheInsideRelayPortIsNotRelayed) {
    if (::access("/usr/bin/sipp", X_OK) != 0) GTEST_SKIP() << "sipp (sip-tester) is missing";
    {
        // alice registers from 5060 and hands the port to the UAS below.
        const int sip_phone = udp_in_ns(in_, "192.0.2.10", 5060);
        ASSERT_GE(sip_phone, 0);
        register_inside(sip_phone, "alice");
        ::close(sip_phone);
        ASSERT_FALSE(HasFatalFailure());
    }

    const int phone = bind_ns(in_, "192.0.2.10", 40000);
    const int remote = bind_ns(out_, "203.0.113.10", 40002);
    ASSERT_GE(phone, 0);
    ASSERT_GE(remote, 0);
    // alice's contact is 192.0.2.10:5060, where the UAS answers.
    const std::string scenarios = source_root() + "/tests/faq/scenarios/";
    const pid_t alice = spawn_process({"ip",
                                       "netns",
                                       "exec",
                                       in_,
                                       "sipp",
                                       "-sf",
                                       scenarios + "uas_media.xml",
                                       "-i",
                                       "192.0.2.10",
                                       "-p",
                                       "5060",
                                       "-m",
                                       "1",
                                       "-timeout",
                                       "20s",
                                       "-timeout_error",
                                       "-nostdin",
                                       "-key",
                                       "rtp_port",
                                       "40000"},
                                      dir_.file("alice.out"));
    background_.push_back(alice);
    std::this_thread::sleep_for(500ms);  // let it bind
    const size_t mark = daemon_.log_size();
    const pid_t bob = spawn_process({"ip",
                                     "netns",
                                     "exec",
                                     out_,
                                     "sipp",
                                     "203.0.113.1:5060",
                                     "-sf",
                                     scenarios + "call_uac_media.xml",
                                     "-i",
                                     "203.0.113.10",
                                     "-p",
                                     "5062",
                                     "-m",
                                     "1",
                                     "-timeout",
                                     "20s",
                                     "-timeout_error",
                                     "-nostdin",
                                     "-s",
                                     "alice",
                                     "-key",
                                     "target",
                                     "203.0.113.1",
                                     "-key",
                                     "from_user",
                                     "bob",
                                     "-key",
                                     "from_domain",
                                     "203.0.113.10",
                                     "-key",
                                     "rtp_port",
                                     "40002",
                                     "-d",
                                     "6000"},
                                    dir_.file("bob.out"));
    background_.push_back(bob);
    const auto ports =
        daemon_.wait_for_log("call start: .* relay ports (inside [0-9]+ outside [0-9]+)", 8s, mark);
    ASSERT_TRUE(ports.has_value()) << daemon_.log() << read_file(dir_.file("bob.out"));
    std::smatch m;
    const std::regex re("inside ([0-9]+) outside ([0-9]+)");
    ASSERT_TRUE(std::regex_search(*ports, m, re));
    const auto in_port = static_cast<uint16_t>(std::stoi(m[1]));

    // The relay works from the phone (so silence below means refusal).
    bool relayed = false;
    for (int i = 0; i < 10 && !relayed; ++i) {
        send_to(phone, "192.0.2.1", in_port, "from-phone");
        relayed = receive_starting(remote, "from-phone", 1).has_value();
    }
    ASSERT_TRUE(relayed) << daemon_.log();

    // The attacker outside sends as the phone (its address and port) to the
    // inside relay port; the firewall accepts it on vo1. Nothing may cross.
    std::string o;
    ASSERT_EQ(sh("ip -n " + out_ + " addr add 192.0.2.10/32 dev lo", &o), 0) << o;
    const int spoofer = bind_ns(out_, "192.0.2.10", 40000);
    ASSERT_GE(spoofer, 0);
    for (int i = 0; i < 3; ++i) send_to(spoofer, "192.0.2.1", in_port, "spoofed");
    EXPECT_FALSE(receive_starting(remote, "spoofed", 3).has_value())
        << "a datagram that came in through the outside interface was relayed";
    EXPECT_FALSE(receive_starting(phone, "spoofed", 1).has_value());

    // The call goes on, and ends cleanly.
    send_to(phone, "192.0.2.1", in_port, "after");
    EXPECT_TRUE(receive_starting(remote, "after").has_value());
    const auto bob_status = wait_process(bob, 30s);
    EXPECT_TRUE(bob_status && WIFEXITED(*bob_status) && WEXITSTATUS(*bob_status) == 0)
        << read_file(dir_.file("bob.out"));
    const auto alice_status = wait_process(alice, 30s);
    EXPECT_TRUE(alice_status && WIFEXITED(*alice_status) && WEXITSTATUS(*alice_status) == 0)
        << read_file(dir_.file("alice.out"));
}

}  // namespace
}  // namespace sipmasq::test
