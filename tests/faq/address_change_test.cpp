// Addresses that come and go, against the real daemon in the FAQ
// namespaces (faq_fixture.h) with `if_outbound = vo1`, an interface name,
// so the parent follows vo1's addresses (rtnetlink):
//   sipmasq starts while vo1 is down and has no address, answers calls out
//   503 meanwhile, never uses vo1's link-local IPv6 address, and serves
//   once 203.0.113.1 comes;
//   when the outside address moves (ip addr del / add) the running call
//   ends with a line that names it, and what the next call advertises
//   (Via, Contact, SDP c=) is the new address.
#include "faq_fixture.h"

namespace sipmasq::test {
namespace {

// An INVITE from alice (192.0.2.10:5070) to bob outside, without SDP.
std::string invite_to_bob(const std::string& call_id) {
    return "INVITE sip:bob@203.0.113.10 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-" +
           call_id +
           ";rport\r\n"
           "From: <sip:alice@203.0.113.1>;tag=a-" +
           call_id +
           "\r\n"
           "To: <sip:bob@203.0.113.10>\r\n"
           "Call-ID: " +
           call_id +
           "@192.0.2.10\r\n"
           "CSeq: 1 INVITE\r\n"
           "Contact: <sip:alice@192.0.2.10:5070>\r\n"
           "Max-Forwards: 70\r\n"
           "Content-Length: 0\r\n\r\n";
}

// The status line of the first final response within ~3 s, "" if none.
std::string final_status(int fd) {
    for (int i = 0; i < 10; ++i) {
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0) continue;  // timeout: try again
        const std::string text(buf, static_cast<size_t>(n));
        if (text.rfind("SIP/2.0 1", 0) == 0) continue;  // provisional
        return text.substr(0, text.find("\r\n"));
    }
    return "";
}

class AddressChangeTest : public FaqTest {
  protected:
    std::string if_outbound() override { return "vo1"; }

    // The parent's line for an address of vo1 that came.
    bool outside_came(const std::string& addr, size_t mark) {
        return daemon_
            .wait_for_log("outside address " + addr + " came on vo1: SIP sockets open", 10s, mark)
            .has_value();
    }

    // alice calls bob (outside, SIP 5060, RTP 40002) with SDP; bob's SIPp
    // answers. Returns bob's SIPp pid; the caller's is in `caller`.
    pid_t call_bob(const std::string& pause_ms, pid_t& caller, std::string& bob_msg) {
        const pid_t bob = sipp_background(out_, "uas_media.xml", "203.0.113.10",
                                          {"-p", "5060", "-key", "rtp_port", "40002"});
        bob_msg = bg_msg_;
        const auto args = sipp_args(in_, "call_uac_media.xml", "192.0.2.10", "192.0.2.1:5060",
                                    {"-p", "5062", "-s", "bob", "-key", "target", "203.0.113.10",
                                     "-key", "from_user", "alice", "-key", "from_domain",
                                     "203.0.113.1", "-key", "rtp_port", "40000", "-d", pause_ms});
        caller = spawn_process(args, dir_.file("caller-" + std::to_string(runs_) + ".out"));
        background_.push_back(caller);
        return bob;
    }

    // alice registers with her provider (203.0.113.10, which challenges)
    // through sipmasq, as outbound proxy; what the provider saw.
    std::string register_with_provider() {
        const pid_t registrar =
            sipp_background(out_, "registrar_401.xml", "203.0.113.10", {"-p", "5060"});
        const std::string seen_file = bg_msg_;
        std::string log;
        EXPECT_TRUE(sipp(in_, "register_auth.xml", "192.0.2.10", "192.0.2.1:5060",
                         {"-p", "5060", "-s", "alice", "-key", "domain", "203.0.113.10", "-au",
                          "alice", "-ap", "secret"},
                         &log))
            << log << daemon_.log();
        EXPECT_TRUE(background_ok(registrar)) << read_file(seen_file);
        return read_file(seen_file);
    }

    // What bob saw of alice's INVITE carries `addr` in Via, Contact and c=.
    static void expect_advertised(const std::string& seen, const std::string& addr) {
        EXPECT_NE(seen.find("Via: SIP/2.0/UDP " + addr + ":5060;"), std::string::npos) << seen;
        EXPECT_NE(seen.find("Contact: <sip:alice@" + addr + ":5060;smq="), std::string::npos)
            << seen;
        EXPECT_NE(seen.find("c=IN IP4 " + addr + "\r\n"), std::string::npos) << seen;
        EXPECT_EQ(seen.find("fe80"), std::string::npos) << seen;
    }
};

// vo1 is down and has no address when sipmasq starts.
class OutsideLaterTest : public AddressChangeTest {
  protected:
    std::string before_start() override {
        return "ip -n " + fw_ + " addr flush dev vo1 && ip -n " + fw_ + " link set vo1 down";
    }

    // vo1's link-local IPv6 address once its duplicate address detection
    // is over; "" when IPv6 is off in the namespace.
    std::string usable_link_local() {
        std::string off;
        sh("ip netns exec " + fw_ + " sysctl -n net.ipv6.conf.vo1.disable_ipv6", &off);
        if (off.rfind("1", 0) == 0) return "";
        for (int i = 0; i < 50; ++i) {
            std::string out;
            sh("ip -n " + fw_ + " -6 addr show dev vo1 scope link", &out);
            const size_t at = out.find("inet6 fe80");
            if (at != std::string::npos && out.find("tentative") == std::string::npos)
                return out.substr(at + 6, out.find('/', at) - at - 6);
            std::this_thread::sleep_for(200ms);
        }
        ADD_FAILURE() << "vo1 got no usable link-local address within 10 s";
        return "";
    }
};

TEST_F(OutsideLaterTest, StartsWithoutAnOutsideAddressAndServesOnceItComes) {
    EXPECT_TRUE(daemon_.wait_for_log("outside interface vo1 has no usable address yet", 1s))
        << daemon_.log();
    const int alice = bind_ns(in_, "192.0.2.10", 5070);
    ASSERT_GE(alice, 0);
    send_to(alice, "192.0.2.1", 5060, invite_to_bob("early-1"));
    EXPECT_EQ(final_status(alice), "SIP/2.0 503 Service Unavailable") << daemon_.log();

    // Up, with only its link-local IPv6 address: still nothing to use.
    size_t mark = daemon_.log_size();
    ASSERT_EQ(sh("ip -n " + fw_ + " link set vo1 up"), 0);
    const std::string link_local = usable_link_local();
    send_to(alice, "192.0.2.1", 5060, invite_to_bob("early-2"));
    EXPECT_EQ(final_status(alice), "SIP/2.0 503 Service Unavailable") << daemon_.log();
    if (!link_local.empty()) {
        EXPECT_EQ(daemon_.log().find(link_local), std::string::npos) << daemon_.log();
    }

    // The address comes (a DHCP lease, a PPPoE link): calls out work.
    mark = daemon_.log_size();
    ASSERT_EQ(sh("ip -n " + fw_ + " addr add 203.0.113.1/24 dev vo1"), 0);
    ASSERT_TRUE(outside_came("203.0.113.1", mark)) << daemon_.log();
    pid_t caller = -1;
    std::string bob_msg;
    const pid_t bob = call_bob("200", caller, bob_msg);
    EXPECT_TRUE(background_ok(caller)) << daemon_.log();
    EXPECT_TRUE(background_ok(bob)) << read_file(bob_msg);
    expect_advertised(read_file(bob_msg), "203.0.113.1");

    // A global IPv6 address is tentative at first (duplicate address
    // detection): waited for, then served, never fatal.
    if (!link_local.empty()) {
        mark = daemon_.log_size();
        ASSERT_EQ(sh("ip -n " + fw_ + " addr add 2001:db8:113::1/64 dev vo1"), 0);
        EXPECT_TRUE(daemon_.wait_for_log("outside address 2001:db8:113::1 came on vo1", 10s, mark))
            << daemon_.log();
        EXPECT_EQ(daemon_.log().find("cannot bind"), std::string::npos) << daemon_.log();
        EXPECT_GT(daemon_.pid(), 0);
    }
}

TEST_F(AddressChangeTest, AMovedOutsideAddressEndsTheCallAndIsAdvertisedNext) {
    const std::string first = register_with_provider();
    EXPECT_NE(first.find("Contact: <sip:alice@203.0.113.1:5060;smq="), std::string::npos) << first;

    pid_t caller = -1;
    std::string bob_msg;
    size_t mark = daemon_.log_size();
    const pid_t bob = call_bob("8000", caller, bob_msg);
    const auto started = daemon_.wait_for_log("call start: .* Call-ID [^ ]+", 8s, mark);
    ASSERT_TRUE(started.has_value()) << daemon_.log();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(*started, m, std::regex("Call-ID ([^ ]+)")));
    const std::string call_id = m[1];

    // The PPPoE reconnect: the old address goes, a new one comes.
    mark = daemon_.log_size();
    ASSERT_EQ(sh("ip -n " + fw_ + " addr del 203.0.113.1/24 dev vo1 && ip -n " + fw_ +
                 " addr add 203.0.113.2/24 dev vo1"),
              0);
    EXPECT_TRUE(daemon_.wait_for_log("outside address 203.0.113.1 went from vo1", 10s, mark))
        << daemon_.log();
    ASSERT_TRUE(outside_came("203.0.113.2", mark)) << daemon_.log();
    EXPECT_TRUE(daemon_.wait_for_log(
        "call " + call_id + ": ends: the outside address it used " + "\\(203.0.113.1\\) is gone",
        10s, mark))
        << daemon_.log();
    EXPECT_TRUE(daemon_.wait_for_log(
        "call end: .*Call-ID " + call_id + " .*\\(local address gone\\)", 10s, mark))
        << daemon_.log();
    // Whatever becomes of the old call's SIPp ends, they are stopped here.
    wait_process(caller, 0ms);
    wait_process(bob, 0ms);

    const pid_t bob2 = call_bob("200", caller, bob_msg);
    EXPECT_TRUE(background_ok(caller)) << daemon_.log();
    EXPECT_TRUE(background_ok(bob2)) << read_file(bob_msg);
    const std::string seen = read_file(bob_msg);
    expect_advertised(seen, "203.0.113.2");
    EXPECT_EQ(seen.find("203.0.113.1:"), std::string::npos) << seen;

    // The registration made through the old address: the phone's refresh
    // reaches the provider with the new one.
    EXPECT_TRUE(daemon_.wait_for_log(
        "1 registrations were made through the old outside address 203.0.113.1", 1s))
        << daemon_.log();
    const std::string refreshed = register_with_provider();
    EXPECT_NE(refreshed.find("Contact: <sip:alice@203.0.113.2:5060;smq="), std::string::npos)
        << refreshed;
    EXPECT_EQ(refreshed.find("203.0.113.1:"), std::string::npos) << refreshed;
}

}  // namespace
}  // namespace sipmasq::test
