// SIP over TCP with the real daemon in the FAQ namespaces and SIPp as the
// phones and the provider: a phone registering over TCP (-t t1), a call in
// to a phone on TCP (by its Contact, or over its registration connection), a call out from one, a
// phone on UDP calling a provider on TCP (transport=tcp in the Request-URI, or the provider
// configured ;transport=tcp), a TCP hop that refuses (500 at once), and trust by interface for
// connections (a connection to the inside address through the outside interface is refused).
#include "faq_fixture.h"

namespace sipmasq::test {
namespace {

using TcpTest = FaqTest;

TEST_F(TcpTest, APhoneRegistersOverTcpAndGetsItsAnswerOverItsConnection) {
    std::string log;
    // SIPp -t t1 hears nothing but its one connection: its 200 came over it.
    ASSERT_TRUE(sipp(in_, "register_tcp.xml", "192.0.2.10", "192.0.2.1:5060",
                     {"-t", "t1", "-p", "5061", "-s", "alice", "-key", "domain", "203.0.113.1",
                      "-key", "contact_port", "5062"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(daemon_.wait_for_log(
        "registration added: alice@203.0.113.1 contact sip:alice@192.0.2.10:5062;transport=TCP "
        "from 192.0.2.10:[0-9]+",
        5s))
        << daemon_.log();
    // sipmasq's answer kept the phone's TCP Via (received= says the source).
    EXPECT_NE(log.find("SIP/2.0 200"), std::string::npos) << log;
    EXPECT_NE(log.find("Via: SIP/2.0/TCP 192.0.2.10:"), std::string::npos) << log;
}

TEST_F(TcpTest, ACallFromOutsideReachesAPhoneOnTcp) {
    std::string log;
    ASSERT_TRUE(sipp(in_, "register_tcp.xml", "192.0.2.10", "192.0.2.1:5060",
                     {"-t", "t1", "-p", "5061", "-s", "alice", "-key", "domain", "203.0.113.1",
                      "-key", "contact_port", "5062"},
                     &log))
        << log << daemon_.log();
    // The registering connection is gone: sipmasq connects to the Contact.
    const pid_t alice =
        sipp_background(in_, "uas_tcp.xml", "192.0.2.10", {"-t", "t1", "-p", "5062"});
    EXPECT_TRUE(sipp(out_, "call_uac.xml", "203.0.113.10", "203.0.113.1:5060",
                     {"-p", "5062", "-s", "alice", "-key", "target", "203.0.113.1", "-key",
                      "from_user", "bob", "-key", "from_domain", "203.0.113.10", "-d", "200"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(alice)) << read_file(bg_msg_) << daemon_.log();
    const std::string seen = read_file(bg_msg_);
    // The inside leg is TCP: our Via says so, and the Record-Route for it too
    // (double record-routing, the transport changes with the side).
    EXPECT_NE(seen.find("Via: SIP/2.0/TCP 192.0.2.1:5060;branch="), std::string::npos) << seen;
    EXPECT_NE(seen.find("Record-Route: <sip:192.0.2.1:5060;transport=tcp;lr>"), std::string::npos)
        << seen;
    EXPECT_EQ(seen.find("Via: SIP/2.0/UDP 192.0.2.1"), std::string::npos) << seen;
}

// A phone registered over TCP whose Contact does not say transport=tcp
// (SIPp -t t1 listens on nothing else) is called over its registration
// connection, as RFC 5626 and Kamailio do.
TEST_F(TcpTest, APhoneRegisteredOverTcpIsCalledOverItsConnection) {
    const pid_t alice =
        sipp_background(in_, "register_answer_tcp.xml", "192.0.2.10",
                        {"192.0.2.1:5060", "-t", "t1", "-p", "5061", "-s", "alice", "-key",
                         "domain", "203.0.113.1", "-cid_str", "regtcp-%u@192.0.2.10"});
    const std::string alice_msg = bg_msg_;
    ASSERT_TRUE(
        daemon_.wait_for_log("registration added: alice@203.0.113.1 contact "
                             "sip:alice@192.0.2.10:5061 from 192.0.2.10:",
                             5s))
        << daemon_.log() << read_file(alice_msg);
    std::string log;
    EXPECT_TRUE(sipp(
        out_, "call_uac.xml", "203.0.113.10", "203.0.113.1:5060",
        {"-p", "5062", "-s", "alice", "-key", "target", "203.0.113.1", "-key", "from_user", "bob",
         "-key", "from_domain", "203.0.113.10", "-d", "200", "-cid_str", "regtcp-%u@192.0.2.10"},
        &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(alice)) << read_file(alice_msg) << daemon_.log();
    const std::string seen = read_file(alice_msg);
    EXPECT_NE(seen.find("Via: SIP/2.0/TCP 192.0.2.1:5060;branch="), std::string::npos) << seen;
}

TEST_F(TcpTest, APhoneOnTcpCallsOut) {
    const pid_t bob = sipp_background(out_, "uas.xml", "203.0.113.10", {"-p", "5060"});
    std::string log;
    EXPECT_TRUE(
        sipp(in_, "call_uac.xml", "192.0.2.10", "192.0.2.1:5060",
             {"-t", "t1", "-p", "5062", "-s", "bob", "-key", "target", "203.0.113.10", "-key",
              "from_user", "alice", "-key", "from_domain", "203.0.113.1", "-d", "200"},
             &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(bob)) << read_file(bg_msg_) << daemon_.log();
    const std::string seen = read_file(bg_msg_);
    // The outside leg stays UDP, with both of our Record-Routes (UDP out, TCP in).
    EXPECT_NE(seen.find("Via: SIP/2.0/UDP 203.0.113.1:5060;branch="), std::string::npos) << seen;
    EXPECT_NE(seen.find("<sip:203.0.113.1:5060;lr>"), std::string::npos) << seen;
    EXPECT_NE(seen.find("<sip:192.0.2.1:5060;transport=tcp;lr>"), std::string::npos) << seen;
    // The phone heard every answer over its one connection (SIPp -t t1).
    EXPECT_NE(log.find("SIP/2.0 200"), std::string::npos) << log;
}

TEST_F(TcpTest, APhoneOnUdpCallsAProviderOnTcp) {
    const pid_t provider =
        sipp_background(out_, "uas_tcp.xml", "203.0.113.10", {"-t", "t1", "-p", "5060"});
    std::string log;
    EXPECT_TRUE(
        sipp(in_, "call_uac.xml", "192.0.2.10", "192.0.2.1:5060",
             {"-p", "5062", "-s", "bob", "-key", "target", "203.0.113.10:5060;transport=tcp",
              "-key", "from_user", "alice", "-key", "from_domain", "203.0.113.1", "-d", "200"},
             &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(provider)) << read_file(bg_msg_) << daemon_.log();
    const std::string seen = read_file(bg_msg_);
    EXPECT_NE(seen.find("Via: SIP/2.0/TCP 203.0.113.1:5060;branch="), std::string::npos) << seen;
    EXPECT_NE(seen.find("<sip:203.0.113.1:5060;transport=tcp;lr>"), std::string::npos) << seen;
    // The phone's leg stayed UDP.
    EXPECT_NE(log.find("Via: SIP/2.0/UDP 192.0.2.10"), std::string::npos) << log;
}

// A provider that needs TCP, said in the configuration as a Kamailio user
// would write it (outbound_proxy_host = host;transport=tcp): a phone on UDP
// calling any URI reaches it over TCP.
class TcpProviderTest : public FaqTest {
  protected:
    std::string extra_config() override {
        return "outbound_proxy_host = 203.0.113.10;transport=tcp\n";
    }
};

TEST_F(TcpProviderTest, APhoneOnUdpReachesTheProviderOverTcp) {
    const pid_t provider =
        sipp_background(out_, "uas_tcp.xml", "203.0.113.10", {"-t", "t1", "-p", "5060"});
    std::string log;
    EXPECT_TRUE(sipp(in_, "call_uac.xml", "192.0.2.10", "192.0.2.1:5060",
                     {"-p", "5062", "-s", "bob", "-key", "target", "voip.example.com", "-key",
                      "from_user", "alice", "-key", "from_domain", "voip.example.com", "-d", "200"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(provider)) << read_file(bg_msg_) << daemon_.log();
    const std::string seen = read_file(bg_msg_);
    EXPECT_NE(seen.find("INVITE sip:bob@voip.example.com SIP/2.0"), std::string::npos) << seen;
    EXPECT_NE(seen.find("Via: SIP/2.0/TCP 203.0.113.1:5060;branch="), std::string::npos) << seen;
    EXPECT_NE(seen.find("<sip:203.0.113.1:5060;transport=tcp;lr>"), std::string::npos) << seen;
}

// A next hop on TCP that refuses the connection: the branch ends at once as
// a 503 (RFC 3261 §8.1.3.1, §16.9), which the caller hears as 500 (§16.7
// step 6), not 408 after 32 s (SIPp gives up at 20 s).
TEST_F(TcpTest, ATcpHopThatRefusesTheConnectionIsAnsweredAtOnce) {
    std::string log;
    EXPECT_TRUE(
        sipp(in_, "call_unreachable.xml", "192.0.2.10", "192.0.2.1:5060",
             {"-p", "5062", "-s", "bob", "-key", "target", "203.0.113.10:5099;transport=tcp",
              "-key", "from_user", "alice", "-key", "from_domain", "203.0.113.1"},
             &log))
        << log << daemon_.log();
    EXPECT_TRUE(
        daemon_.wait_for_log("INVITE .* to 203.0.113.10:5099 \\(TCP\\): TCP connection "
                             "failed, 503",
                             2s))
        << daemon_.log();
}

// The listeners are bound to their side's interface: a connection to the
// inside address that comes in through the outside interface finds no
// listener (refused), while the same connection from inside is accepted.
TEST_F(TcpTest, AConnectionToTheInsideAddressThroughTheOutsideInterfaceIsRefused) {
    std::string o;
    ASSERT_EQ(sh("ip -n " + out_ + " route add 192.0.2.0/24 via 203.0.113.1", &o), 0) << o;
    const auto connects = [this](const std::string& ns, const std::string& to) {
        return sh("ip netns exec " + ns + " timeout 3 bash -c 'exec 3<>/dev/tcp/" + to +
                  "/5060' 2>/dev/null") == 0;
    };
    EXPECT_TRUE(connects(in_, "192.0.2.1"));
    EXPECT_TRUE(connects(out_, "203.0.113.1"));
    EXPECT_FALSE(connects(out_, "192.0.2.1"));
}

}  // namespace
}  // namespace sipmasq::test
