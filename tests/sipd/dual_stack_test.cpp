// Dual stack through the whole SipProxy: each side of a call speaks the
// address family of its next hop there (Via, Record-Route, Contact, SDP,
// the relay's addresses), and RFC 5118's IPv6 messages are forwarded or
// refused with 400, never a crash.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "osip_ptr.h"
#include "proxy_fixture.h"
#include "sip_proxy.h"
#include "sip_samples.h"

namespace sipmasq {
namespace {

using samples::crlf;
using samples::with_body;

struct Sent {
    Side side;
    SockAddr dest;
    std::string data;
};

// The FAQ's IPv4 addresses and, on each side, an IPv6 one.
SipProxySettings dual_stack_settings() {
    SipProxySettings s = test::faq_proxy_settings();
    s.policy.us.inside_other_family = {"2001:db8:1::1", 5060};
    s.policy.us.outside_other_family = {"2001:db8:2::1", 5060};
    s.policy.inside_networks.push_back(*Cidr::parse("2001:db8:1::/64"));
    s.inside_local_other_family = test::addr("[2001:db8:1::1]:5060");
    s.outside_local_other_family = test::addr("[2001:db8:2::1]:5060");
    return s;
}

class DualStackTest : public ::testing::Test {
  protected:
    DualStackTest()
        : proxy_(dual_stack_settings(), media_,
                 [this](Side side, const SockAddr& dest, std::string_view d) {
                     if (d.rfind("SIP/2.0 100 ", 0) != 0)
                         sent_.push_back({side, dest, std::string(d)});
                 }) {
        sip_parser_init();
        samples::unique_branches = true;
    }

    static std::string branch_of(const std::string& text) {
        OsipMessagePtr m = parse_sip_message(text);
        auto* via = static_cast<osip_via_t*>(osip_list_get(&m->vias, 0));
        osip_generic_param_t* br = nullptr;
        if (osip_via_param_get_byname(via, const_cast<char*>("branch"), &br) != 0) return "";
        return br->gvalue;
    }

    test::FakeMedia media_;
    std::vector<Sent> sent_;
    SipProxy proxy_;
};

std::string sdp_of(const char* family, const char* addr, int port) {
    std::string a = addr;
    return crlf("v=0\no=x 1 1 IN " + std::string(family) + " " + a + "\ns=-\nc=IN " + family + " " +
                a + "\nt=0 0\nm=audio " + std::to_string(port) +
                " RTP/AVP 0\na=rtpmap:0 PCMU/8000\n");
}

// An IPv6 phone inside calls an IPv4 peer: the outside leg is IPv4 from
// Via to SDP, the inside leg IPv6, and the relay bridges the two.
TEST_F(DualStackTest, Ipv6PhoneCallsIpv4Peer) {
    const SockAddr phone = test::addr("[2001:db8:1::10]:5060");
    const SockAddr bob = test::addr("203.0.113.50:5060");
    const std::string invite = with_body(
        "INVITE sip:bob@203.0.113.50 SIP/2.0\n"
        "Via: SIP/2.0/UDP [2001:db8:1::10]:5060;branch=z9hG4bKv6a;rport\n"
        "Max-Forwards: 70\nTo: <sip:bob@203.0.113.50>\n"
        "From: <sip:alice@203.0.113.1>;tag=v6a\nCall-ID: v6-to-v4@2001:db8:1::10\n"
        "CSeq: 1 INVITE\nContact: <sip:alice@[2001:db8:1::10]:5060>\n"
        "Content-Type: application/sdp\n",
        sdp_of("IP6", "2001:db8:1::10", 40000));
    proxy_.handle_datagram(invite, Side::Inside, phone, 1000);
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].side, Side::Outside);
    EXPECT_EQ(sent_[0].dest, bob);
    const std::string& out = sent_[0].data;
    EXPECT_NE(out.find("Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKsmq"), std::string::npos)
        << out;
    // Each leg's route set names us the way that leg reaches us.
    EXPECT_NE(out.find("Record-Route: <sip:203.0.113.1:5060;lr>"), std::string::npos) << out;
    EXPECT_NE(out.find("<sip:[2001:db8:1::1]:5060;lr>"), std::string::npos) << out;
    EXPECT_NE(out.find("Contact: <sip:alice@203.0.113.1:5060;smq="), std::string::npos) << out;
    EXPECT_NE(out.find("c=IN IP4 203.0.113.1\r\n"), std::string::npos) << out;
    EXPECT_EQ(out.find("IP6"), std::string::npos) << out;  // nothing of the inside leg's SDP
    ASSERT_EQ(media_.starts.size(), 1u);
    EXPECT_TRUE(media_.starts[0].inside_local.same_host(test::addr("2001:db8:1::1")));
    EXPECT_TRUE(media_.starts[0].outside_local.same_host(test::addr("203.0.113.1")));
    EXPECT_EQ(media_.starts[0].inside_peer, test::addr("[2001:db8:1::10]:40000"));

    const std::string ok =
        with_body("SIP/2.0 200 OK\nVia: SIP/2.0/UDP 203.0.113.1:5060;branch=" + branch_of(out) +
                      "\nVia: SIP/2.0/UDP [2001:db8:1::10]:5060;branch=z9hG4bKv6a;rport=5060\n"
                      "To: <sip:bob@203.0.113.50>;tag=b1\n"
                      "From: <sip:alice@203.0.113.1>;tag=v6a\nCall-ID: v6-to-v4@2001:db8:1::10\n"
                      "CSeq: 1 INVITE\nContact: <sip:bob@203.0.113.50:5060>\n"
                      "Content-Type: application/sdp\n",
                  sdp_of("IP4", "203.0.113.50", 3456));
    proxy_.handle_datagram(ok, Side::Outside, bob, 1001);
    ASSERT_EQ(sent_.size(), 2u);
    EXPECT_EQ(sent_[1].dest, phone);
    EXPECT_NE(sent_[1].data.find("c=IN IP6 2001:db8:1::1\r\n"), std::string::npos) << sent_[1].data;
    ASSERT_EQ(media_.starts.size(), 2u);
    EXPECT_EQ(media_.starts[1].outside_peer, test::addr("203.0.113.50:3456"));
    EXPECT_TRUE(media_.starts[1].inside_local.same_host(test::addr("2001:db8:1::1")));
}

// An IPv4 phone calls an IPv6 peer: the outside leg is IPv6 throughout.
TEST_F(DualStackTest, Ipv4PhoneCallsIpv6Peer) {
    std::string invite = samples::invite_alice_to_bob();
    for (size_t at; (at = invite.find("bob@203.0.113.50")) != std::string::npos;)
        invite.replace(at, 16, "bob@[2001:db8:2::50]");
    proxy_.handle_datagram(invite, Side::Inside, test::addr("192.0.2.10:5060"), 1000);
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].dest, test::addr("[2001:db8:2::50]:5060"));
    const std::string& out = sent_[0].data;
    EXPECT_NE(out.find("Via: SIP/2.0/UDP [2001:db8:2::1]:5060;branch=z9hG4bKsmq"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("Record-Route: <sip:[2001:db8:2::1]:5060;lr>"), std::string::npos) << out;
    EXPECT_NE(out.find("<sip:192.0.2.1:5060;lr>"), std::string::npos) << out;
    EXPECT_NE(out.find("Contact: <sip:alice@[2001:db8:2::1]:5060;smq="), std::string::npos) << out;
    EXPECT_NE(out.find("c=IN IP6 2001:db8:2::1\r\n"), std::string::npos) << out;
    ASSERT_EQ(media_.starts.size(), 1u);
    EXPECT_TRUE(media_.starts[0].inside_local.same_host(test::addr("192.0.2.1")));
    EXPECT_TRUE(media_.starts[0].outside_local.same_host(test::addr("2001:db8:2::1")));
}

// An IPv6 peer outside calls a registered IPv4 phone at our IPv6 address,
// spelt another way than we spell it (RFC 5118 §4.3: still us).
TEST_F(DualStackTest, Ipv6PeerReachesRegisteredIpv4Phone) {
    const SockAddr alice = test::addr("192.0.2.10:5060");
    proxy_.handle_datagram(samples::register_alice(), Side::Inside, alice, 1000);
    ASSERT_EQ(sent_.size(), 1u);
    const SockAddr peer = test::addr("[2001:db8:2::50]:5060");
    const std::string invite = with_body(
        "INVITE sip:alice@[2001:DB8:2:0:0::1] SIP/2.0\n"
        "Via: SIP/2.0/UDP [2001:db8:2::50];branch=z9hG4bKin6\n"
        "Max-Forwards: 70\nTo: <sip:alice@[2001:db8:2::1]>\n"
        "From: <sip:carol@[2001:db8:2::50]>;tag=c6\nCall-ID: v6-in@2001:db8:2::50\n"
        "CSeq: 1 INVITE\nContact: <sip:carol@[2001:db8:2::50]>\n"
        "Content-Type: application/sdp\n",
        sdp_of("IP6", "2001:db8:2::50", 5004));
    proxy_.handle_datagram(invite, Side::Outside, peer, 1001);
    ASSERT_EQ(sent_.size(), 2u);
    EXPECT_EQ(sent_[1].side, Side::Inside);
    EXPECT_EQ(sent_[1].dest, alice);
    const std::string& in = sent_[1].data;
    EXPECT_NE(in.find("Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsmq"), std::string::npos)
        << in;
    EXPECT_NE(in.find("Record-Route: <sip:192.0.2.1:5060;lr>"), std::string::npos) << in;
    EXPECT_NE(in.find("<sip:[2001:db8:2::1]:5060;lr>"), std::string::npos) << in;
    EXPECT_NE(in.find("c=IN IP4 192.0.2.1\r\n"), std::string::npos) << in;
    ASSERT_EQ(media_.starts.size(), 1u);
    EXPECT_TRUE(media_.starts[0].inside_local.same_host(test::addr("192.0.2.1")));
    EXPECT_TRUE(media_.starts[0].outside_local.same_host(test::addr("2001:db8:2::1")));
    EXPECT_EQ(media_.starts[0].outside_peer, test::addr("[2001:db8:2::50]:5004"));
}

// A side without an IPv6 address cannot reach an IPv6 next hop: the
// caller hears 503 at once instead of 408 after the transaction timeout.
TEST(SingleStack, AnIpv6NextHopWithoutAnIpv6AddressIs503) {
    sip_parser_init();
    test::FakeMedia media;
    std::vector<Sent> sent;
    SipProxy proxy(test::faq_proxy_settings(), media,
                   [&sent](Side side, const SockAddr& dest, std::string_view d) {
                       if (d.rfind("SIP/2.0 100 ", 0) != 0)
                           sent.push_back({side, dest, std::string(d)});
                   });
    std::string invite = samples::invite_alice_to_bob();
    for (size_t at; (at = invite.find("bob@203.0.113.50")) != std::string::npos;)
        invite.replace(at, 16, "bob@[2001:db8:2::50]");
    const SockAddr alice = test::addr("192.0.2.10:5060");
    proxy.handle_datagram(invite, Side::Inside, alice, 1000);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].dest, alice);
    EXPECT_EQ(parse_sip_message(sent[0].data)->status_code, 503);
    EXPECT_TRUE(proxy.calls().empty());
    EXPECT_TRUE(media.starts.empty());
}

// RFC 5118's cases, written for this test: requests from an IPv6 phone
// inside. `bad`: must be refused with 400; else it must be forwarded (or
// answered with anything but 400). None may crash the proxy.
struct V6Case {
    const char* name;
    std::string text;
    bool bad;
};

std::string v6_request(const std::string& request_line, const std::string& via,
                       const std::string& contact, const std::string& extra = "") {
    return crlf(request_line + "\nVia: " + via +
                "\nMax-Forwards: 70\nTo: <sip:user@[2001:db8::10]>\n"
                "From: <sip:user@[2001:db8::10]>;tag=81x2\nCall-ID: SSG9559905523997077@hlau_4100\n"
                "CSeq: 1 OPTIONS\nContact: " +
                contact + "\n" + extra + "Content-Length: 0\n\n");
}

std::vector<V6Case> rfc5118_cases() {
    const std::string via = "SIP/2.0/UDP [2001:db8:1::10]:5060;branch=z9hG4bKv6";
    std::vector<V6Case> cases = {
        // §4.1: a valid IPv6 reference in the Request-URI, Via and Contact.
        {"ipv6-good",
         v6_request("OPTIONS sip:[2001:db8::10] SIP/2.0", via + "1",
                    "\"Caller\" <sip:caller@[2001:db8:1::10]>"),
         false},
        // §4.2: no brackets around the address in the Request-URI.
        {"ipv6-bad",
         v6_request("OPTIONS sip:2001:db8::10 SIP/2.0", via + "2",
                    "\"Caller\" <sip:caller@[2001:db8:1::10]>"),
         true},
        // §4.3: the port is part of the address (no port outside the brackets).
        {"port-ambiguous",
         v6_request("OPTIONS sip:[2001:db8::10:5070] SIP/2.0", via + "3",
                    "\"Caller\" <sip:caller@[2001:db8:1::10]>"),
         false},
        // §4.4: the port outside the brackets.
        {"port-unambiguous",
         v6_request("OPTIONS sip:[2001:db8::10]:5070 SIP/2.0", via + "4",
                    "\"Caller\" <sip:caller@[2001:db8:1::10]:5060>"),
         false},
        // §4.5: received= with and without brackets.
        {"via-received-plain",
         v6_request("OPTIONS sip:[2001:db8::10] SIP/2.0",
                    "SIP/2.0/UDP [2001:db8:1::10]:6050;branch=z9hG4bKv65;received=2001:db8:1::10",
                    "<sip:caller@[2001:db8:1::10]:6050>"),
         false},
        {"via-received-brackets",
         v6_request("OPTIONS sip:[2001:db8::10] SIP/2.0",
                    "SIP/2.0/UDP [2001:db8:1::10]:6050;branch=z9hG4bKv66;received=[2001:db8:1::10]",
                    "<sip:caller@[2001:db8:1::10]:6050>"),
         false},
        // §4.7: IPv4 and IPv6 mixed in Vias and Contacts.
        {"mixed",
         v6_request("OPTIONS sip:user@[2001:db8::10] SIP/2.0",
                    via + "7\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKv4x",
                    "<sip:caller@192.0.2.10>, <sip:caller@[2001:db8:1::10]>"),
         false},
        // §4.9: an IPv4-mapped IPv6 address in the Via and Contact.
        {"v4-mapped",
         v6_request("OPTIONS sip:user@[2001:db8::10] SIP/2.0",
                    "SIP/2.0/UDP [::ffff:192.0.2.10]:5060;branch=z9hG4bKv69",
                    "<sip:caller@[::ffff:192.0.2.10]>"),
         false},
        // §4.10: an IPv6 reference with a leading zero group and upper case.
        {"abnf-forms",
         v6_request("OPTIONS sip:user@[2001:0DB8:0000::0010] SIP/2.0", via + "a",
                    "<sip:caller@[2001:DB8:1:0::10]>"),
         false},
        // A scoped address: no zone in RFC 3261's IPv6reference.
        {"scoped",
         v6_request("OPTIONS sip:user@[fe80::1%25eth0] SIP/2.0", via + "b",
                    "<sip:caller@[2001:db8:1::10]>"),
         true},
        // A Request-URI bracketed but not an address.
        {"brackets-garbage",
         v6_request("OPTIONS sip:user@[2001:db8::zz] SIP/2.0", via + "c",
                    "<sip:caller@[2001:db8:1::10]>"),
         true},
        // A link-local next hop without a zone: the send policy refuses it (403).
        {"link-local",
         v6_request("OPTIONS sip:user@[fe80::1] SIP/2.0", via + "d",
                    "<sip:caller@[2001:db8:1::10]>"),
         false},
    };
    // §4.6 and §4.8: IPv6 (and mixed) addresses in the SDP of an INVITE.
    const std::string invite_head =
        "INVITE sip:user@[2001:db8::10] SIP/2.0\n" + std::string("Via: ") + via +
        "s\nMax-Forwards: 70\nTo: <sip:user@[2001:db8::10]>\nFrom: "
        "<sip:c@[2001:db8:1::10]>;tag=s6\n"
        "Call-ID: sdp6@2001:db8:1::10\nCSeq: 1 INVITE\nContact: <sip:c@[2001:db8:1::10]>\n"
        "Content-Type: application/sdp\n";
    cases.push_back(
        {"sdp-ipv6", with_body(invite_head, sdp_of("IP6", "2001:db8:1::10", 6000)), false});
    std::string mixed_head = invite_head;
    mixed_head.replace(mixed_head.find("sdp6@"), 5, "sdp46@");
    mixed_head.replace(mixed_head.find("tag=s6"), 6, "tag=s46");
    cases.push_back({"sdp-mixed",
                     with_body(mixed_head, crlf("v=0\no=c 1 1 IN IP6 2001:db8:1::10\ns=-\n"
                                                "t=0 0\nm=audio 6000 RTP/AVP 0\n"
                                                "c=IN IP6 2001:db8:1::10\n"
                                                "m=audio 6002 RTP/AVP 0\nc=IN IP4 192.0.2.10\n")),
                     false});
    return cases;
}

TEST_F(DualStackTest, Rfc5118MessagesAreForwardedOrRefusedWith400) {
    const SockAddr phone = test::addr("[2001:db8:1::10]:5060");
    int64_t now = 2000;
    for (const V6Case& c : rfc5118_cases()) {
        SCOPED_TRACE(c.name);
        sent_.clear();
        proxy_.handle_datagram(c.text, Side::Inside, phone, now++);
        if (c.bad) {
            ASSERT_EQ(sent_.size(), 1u);
            EXPECT_EQ(sent_[0].dest, phone);
            OsipMessagePtr resp = parse_sip_message(sent_[0].data);
            ASSERT_NE(resp, nullptr);
            EXPECT_EQ(resp->status_code, 400);
            continue;
        }
        EXPECT_FALSE(sent_.empty());
        for (const Sent& s : sent_) {
            OsipMessagePtr m = parse_sip_message(s.data);
            ASSERT_NE(m, nullptr) << s.data;
            if (MSG_IS_RESPONSE(m.get())) {
                EXPECT_NE(m->status_code, 400) << s.data;
                EXPECT_EQ(s.dest, phone);
            } else {
                // Forwarded: out over IPv6, with our IPv6 outside Via.
                EXPECT_EQ(s.side, Side::Outside);
                EXPECT_TRUE(s.dest.is_v6()) << s.dest.to_string();
                EXPECT_NE(s.data.find("Via: SIP/2.0/UDP [2001:db8:2::1]:5060;"), std::string::npos)
                    << s.data;
            }
        }
    }
    // A well-formed message still goes through afterwards.
    sent_.clear();
    proxy_.handle_datagram(rfc5118_cases()[0].text, Side::Inside, phone, now);
    EXPECT_FALSE(sent_.empty());
}

}  // namespace
}  // namespace sipmasq
