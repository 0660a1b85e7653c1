// Where a call for a registered phone goes, with the real daemon in the FAQ
// namespaces: to the Contact it registered (RFC 3261), also when that names
// another port than the REGISTER came from; and, for a phone behind a
// further NAT inside the LAN (a fourth namespace smq-ph-<pid>, 198.51.100.10,
// masqueraded by the inside host to 192.0.2.30), to where its registration
// came from, with its media relayed from where its signalling comes.
#include <regex>

#include "faq_fixture.h"

namespace sipmasq::test {
namespace {

using ContactTest = FaqTest;

TEST_F(ContactTest, APhoneRegisteringFromAnotherPortThanItsContactRings) {
    std::string log;
    ASSERT_TRUE(sipp(in_, "register_contact.xml", "192.0.2.10", "192.0.2.1:5060",
                     {"-p", "5061", "-s", "alice", "-key", "domain", "203.0.113.1", "-key",
                      "contact_port", "5062"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(daemon_.wait_for_log(
        "registration added: alice@203.0.113.1 contact sip:alice@192.0.2.10:5062 from "
        "192.0.2.10:5061",
        5s));
    const pid_t alice = sipp_background(in_, "uas.xml", "192.0.2.10", {"-p", "5062"});
    EXPECT_TRUE(sipp(out_, "call_uac.xml", "203.0.113.10", "203.0.113.1:5060",
                     {"-p", "5062", "-s", "alice", "-key", "target", "203.0.113.1", "-key",
                      "from_user", "bob", "-key", "from_domain", "203.0.113.10", "-d", "200"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(alice)) << read_file(bg_msg_);
}

class NatContactTest : public FaqTest {
  protected:
    void SetUp() override {
        if (::access("/usr/sbin/nft", X_OK) != 0) GTEST_SKIP() << "nft (nftables) is missing";
        FaqTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        ph_ = "smq-ph-" + std::to_string(::getpid());
        std::string o;
        const std::string cmd =
            "set -e; ip netns add " + ph_ + "; ip -n " + ph_ + " link set lo up;" +
            "ip link add vp0 netns " + ph_ + " type veth peer name vp1 netns " + in_ + ";" +
            "ip -n " + ph_ + " addr add 198.51.100.10/24 dev vp0;" + "ip -n " + in_ +
            " addr add 198.51.100.1/24 dev vp1;" + "ip -n " + in_ +
            " addr add 192.0.2.30/24 dev vi0;" + "ip -n " + ph_ + " link set vp0 up;" + "ip -n " +
            in_ + " link set vp1 up;" + "ip -n " + ph_ + " route add default via 198.51.100.1;" +
            "ip netns exec " + in_ + " sysctl -qw net.ipv4.ip_forward=1;" + "ip netns exec " + in_ +
            " nft -f - <<'EOF'\n"
            "table ip nat {\n"
            "  chain post { type nat hook postrouting priority 100;\n"
            "    ip saddr 198.51.100.0/24 oifname \"vi0\" snat to 192.0.2.30\n"
            "  }\n"
            "}\n"
            "EOF\n";
        ASSERT_EQ(sh(cmd, &o), 0) << o;
        std::this_thread::sleep_for(500ms);
    }
    void TearDown() override {
        FaqTest::TearDown();
        if (!ph_.empty()) sh("ip netns del " + ph_ + " 2>/dev/null; true");
    }
    std::string ph_;
};

TEST_F(NatContactTest, APhoneBehindANatIsReachedWhereItRegisteredFromWithItsMedia) {
    std::string log;
    ASSERT_TRUE(sipp(ph_, "register.xml", "198.51.100.10", "192.0.2.1:5060",
                     {"-p", "5060", "-s", "alice", "-key", "domain", "203.0.113.1"}, &log))
        << log << daemon_.log();
    ASSERT_TRUE(daemon_.wait_for_log(
        "registration added: alice@203.0.113.1 contact sip:alice@198.51.100.10:5060 from "
        "192.0.2.30:[0-9]+",
        5s))
        << daemon_.log();
    MediaCall call;
    start_media_call(call, ph_, "198.51.100.10", "3000",
                     "call start: .* inside 192.0.2.30:[0-9]+ relay ports "
                     "(inside [0-9]+ outside [0-9]+)");
    if (HasFatalFailure()) return;
    // Media from behind the NAT arrives from 192.0.2.30 and is relayed.
    expect_media_both_ways(call, "1");
    expect_call_completed(call);
}

}  // namespace
}  // namespace sipmasq::test
