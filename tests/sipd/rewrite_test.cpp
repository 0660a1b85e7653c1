#include <gtest/gtest.h>

#include <string>

#include "contact_masq.h"
#include "osip_ptr.h"
#include "proxy_rewrite.h"
#include "sip_response.h"
#include "sip_samples.h"

namespace sipmasq {
namespace {

ProxyAddresses us() {
    ProxyAddresses a;
    a.inside = {"192.0.2.1", 5060};
    a.outside = {"203.0.113.1", 5060};
    a.aliases = {"sipmasq.example.org"};
    return a;
}

OsipMessagePtr parse(const std::string& text) {
    sip_parser_init();
    auto msg = parse_sip_message(text);
    EXPECT_NE(msg, nullptr);
    return msg;
}

const osip_via_t* via_at(const osip_message_t* m, int pos) {
    return static_cast<const osip_via_t*>(osip_list_get(&m->vias, pos));
}

std::string header(osip_message_t* m, const char* name) {
    osip_header_t* h = nullptr;
    if (osip_message_header_get_byname(m, name, 0, &h) < 0 || h == nullptr) return {};
    return h->hvalue;
}

// Our hosts as text and as addresses agree, and an address that changes
// (a new lease) is ours from then on, the old one no longer.
TEST(Rewrite, OwnHostsAsTextAndAsAddresses) {
    ProxyAddresses a = us();
    a.outside_other_family = {"[2001:db8::1]", 5060};
    a.aliases.push_back("198.51.100.7");
    for (const char* mine : {"192.0.2.1", "203.0.113.1", "[2001:db8::1]", "2001:db8::1",
                             "198.51.100.7", "SIPMASQ.example.org"})
        EXPECT_TRUE(a.is_own_host(mine)) << mine;
    for (const char* mine :
         {"192.0.2.1:5060", "203.0.113.1:9", "[2001:db8::1]:5060", "198.51.100.7:5060"})
        EXPECT_TRUE(a.is_own_address(*SockAddr::parse(mine))) << mine;
    for (const char* other : {"192.0.2.2", "[2001:db8::2]", "203.0.113.10"}) {
        EXPECT_FALSE(a.is_own_host(other)) << other;
        EXPECT_FALSE(a.is_own_address(*SockAddr::parse(other))) << other;
    }
    EXPECT_FALSE(a.is_own_address(SockAddr()));
    a.outside.host = "203.0.113.2";
    EXPECT_FALSE(a.is_own_address(*SockAddr::parse("203.0.113.1:5060")));
    EXPECT_TRUE(a.is_own_address(*SockAddr::parse("203.0.113.2:5060")));
    EXPECT_FALSE(a.is_own_host("203.0.113.1"));
}

TEST(Rewrite, OutgoingInviteViaRecordRouteContact) {
    auto msg = parse(samples::invite_alice_to_bob());
    const auto a = us();
    ASSERT_EQ(check_and_decrement_max_forwards(msg.get()), 0);
    EXPECT_EQ(header(msg.get(), "max-forwards"), "69");
    stamp_received_rport(msg.get(), *SockAddr::parse("192.0.2.10:5062"));
    const std::string branch = compute_branch(msg.get(), a);
    EXPECT_EQ(branch.rfind("z9hG4bKsmq", 0), 0u);
    EXPECT_FALSE(detect_loop(msg.get(), branch, a));
    EXPECT_EQ(pop_own_routes(msg.get(), a), 0);
    ASSERT_EQ(add_record_route(msg.get(), a, Side::Inside, Side::Outside), 0);
    ASSERT_EQ(add_own_via(msg.get(), a.outside, branch), 0);
    ContactMap map;
    ASSERT_EQ(
        masquerade_contacts(msg.get(), a.outside, map, *SockAddr::parse("192.0.2.10:5062"), 100),
        1);
    const auto hop = request_next_hop(msg.get());
    ASSERT_TRUE(hop);
    EXPECT_EQ(hop->to_string(), "203.0.113.50:5060");

    const std::string out = sip_message_to_string(msg.get());
    // Our Via on top, the phone's with received/rport below.
    EXPECT_NE(out.find("Via: SIP/2.0/UDP 203.0.113.1:5060;branch=" + branch +
                       ";rport\r\n"
                       "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8;rport=5062;"
                       "received=192.0.2.10\r\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("Record-Route: <sip:203.0.113.1:5060;lr>\r\n"
                       "Record-Route: <sip:192.0.2.1:5060;lr>\r\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("Contact: <sip:alice@203.0.113.1:5060;smq=" +
                       contact_token("sip:alice@192.0.2.10:5060") + ">"),
              std::string::npos)
        << out;
    EXPECT_EQ(out.find("192.0.2.10:5060>"), std::string::npos);
    // Retransmission: same branch.
    auto again = parse(samples::invite_alice_to_bob());
    EXPECT_EQ(compute_branch(again.get(), a), branch);
    // The re-parsed output still yields the same branch (our Via is skipped),
    // and now it is a loop.
    auto looped = parse(out);
    EXPECT_EQ(compute_branch(looped.get(), a), branch);
    EXPECT_TRUE(detect_loop(looped.get(), branch, a));
}

TEST(Rewrite, SpiralIsNoLoop) {
    const auto a = us();
    auto msg = parse(samples::invite_alice_to_bob());
    const std::string branch = compute_branch(msg.get(), a);
    ASSERT_EQ(add_own_via(msg.get(), a.outside, branch), 0);
    // Came back with another Request-URI: a spiral, not a loop.
    osip_uri_t* uri = nullptr;
    ASSERT_EQ(osip_uri_init(&uri), 0);
    ASSERT_EQ(osip_uri_parse(uri, "sip:bob@198.51.100.7"), 0);
    osip_uri_free(msg->req_uri);
    msg->req_uri = uri;
    const std::string b2 = compute_branch(msg.get(), a);
    EXPECT_NE(b2, branch);
    EXPECT_FALSE(detect_loop(msg.get(), b2, a));
}

TEST(Rewrite, CancelAndAckOfNon2xxShareTheInviteBranch) {
    const auto a = us();
    auto invite = parse(samples::invite_alice_to_bob());
    std::string cancel_text = samples::crlf(R"(CANCEL sip:bob@203.0.113.50 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8;rport
Max-Forwards: 70
To: Bob <sip:bob@203.0.113.50>
From: Alice <sip:alice@203.0.113.1>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 314159 CANCEL
Content-Length: 0

)");
    auto cancel = parse(cancel_text);
    EXPECT_EQ(compute_branch(cancel.get(), a), compute_branch(invite.get(), a));
}

TEST(Rewrite, MaxForwards) {
    auto msg = parse(samples::invite_alice_to_bob());
    osip_header_t* h = nullptr;
    ASSERT_GE(osip_message_header_get_byname(msg.get(), "max-forwards", 0, &h), 0);
    osip_free(h->hvalue);
    h->hvalue = osip_strdup("0");
    EXPECT_EQ(check_and_decrement_max_forwards(msg.get()), 483);
    auto resp = build_response(msg.get(), 483);
    ASSERT_NE(resp, nullptr);
    const std::string out = sip_message_to_string(resp.get());
    EXPECT_EQ(out.rfind("SIP/2.0 483 Too Many Hops\r\n", 0), 0u) << out;
    EXPECT_NE(out.find("branch=z9hG4bKnashds8"), std::string::npos);
    EXPECT_NE(out.find("tag="), std::string::npos);
    EXPECT_NE(out.find("CSeq: 314159 INVITE"), std::string::npos);
    osip_free(h->hvalue);
    h->hvalue = osip_strdup("1");
    EXPECT_EQ(check_and_decrement_max_forwards(msg.get()), 0);
    EXPECT_EQ(header(msg.get(), "max-forwards"), "0");
    osip_free(h->hvalue);
    h->hvalue = osip_strdup("lots");
    EXPECT_EQ(check_and_decrement_max_forwards(msg.get()), 400);
}

TEST(Rewrite, MissingMaxForwardsIsAdded) {
    std::string text = samples::invite_alice_to_bob();
    text.erase(text.find("Max-Forwards: 70\r\n"), 18);
    auto msg = parse(text);
    EXPECT_EQ(check_and_decrement_max_forwards(msg.get()), 0);
    EXPECT_EQ(header(msg.get(), "max-forwards"), "70");
}

TEST(Rewrite, ReceivedOnlyWhenSourceDiffers) {
    std::string text = samples::invite_alice_to_bob();
    const std::string rport = ";rport";
    text.erase(text.find(rport), rport.size());
    auto msg = parse(text);
    stamp_received_rport(msg.get(), *SockAddr::parse("192.0.2.10:5060"));
    EXPECT_EQ(via_to_string(via_at(msg.get(), 0)),
              "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8");
    stamp_received_rport(msg.get(), *SockAddr::parse("192.0.2.77:1024"));
    EXPECT_EQ(via_to_string(via_at(msg.get(), 0)),
              "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8;received=192.0.2.77");
}

TEST(Rewrite, ResponseRouting) {
    const auto a = us();
    auto invite = parse(samples::invite_alice_to_bob());
    const std::string branch = compute_branch(invite.get(), a);
    auto ok = parse(samples::ok_from_bob(branch));
    ASSERT_TRUE(pop_own_via(ok.get(), a));
    auto hop = response_next_hop(ok.get());
    ASSERT_TRUE(hop);
    EXPECT_EQ(hop->to_string(), "192.0.2.10:5060");  // received + rport
    // Now the top Via is the phone's: not ours, drop.
    EXPECT_FALSE(pop_own_via(ok.get(), a));
    // A response whose top Via names us but with a foreign branch: drop.
    auto forged = parse(samples::ok_from_bob("z9hG4bKforged"));
    EXPECT_FALSE(pop_own_via(forged.get(), a));
}

TEST(Rewrite, NatRportHonoured) {
    auto via =
        parse_via("SIP/2.0/UDP 10.1.1.5:5060;branch=z9hG4bKa;rport=40123;received=192.0.2.99");
    ASSERT_NE(via, nullptr);
    auto hop = via_destination(via.get());
    ASSERT_TRUE(hop);
    EXPECT_EQ(hop->to_string(), "192.0.2.99:40123");
    via = parse_via("SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKa;rport");
    hop = via_destination(via.get());
    ASSERT_TRUE(hop);
    EXPECT_EQ(hop->to_string(), "192.0.2.10:5070");
}

TEST(Rewrite, LooseRoutingPopsOurRoutes) {
    const auto a = us();
    std::string text = samples::crlf(R"(BYE sip:alice@203.0.113.1:5060;smq=TOKEN SIP/2.0
Via: SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bKbye1
Max-Forwards: 70
Route: <sip:203.0.113.1:5060;lr>, <sip:192.0.2.1:5060;lr>
To: Alice <sip:alice@203.0.113.1>;tag=1928301774
From: Bob <sip:bob@203.0.113.50>;tag=a6c85cf
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 231 BYE
Content-Length: 0

)");
    auto msg = parse(text);
    EXPECT_EQ(pop_own_routes(msg.get(), a), 2);
    EXPECT_EQ(osip_list_size(&msg->routes), 0);
    // A foreign route below ours stays and becomes the next hop.
    auto msg2 = parse(samples::crlf(R"(BYE sip:bob@203.0.113.50 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKbye2
Max-Forwards: 70
Route: <sip:192.0.2.1:5060;lr>, <sip:203.0.113.1;lr>, <sip:198.51.100.9:5080;lr>
To: Bob <sip:bob@203.0.113.50>;tag=a6c85cf
From: Alice <sip:alice@203.0.113.1>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 2 BYE
Content-Length: 0

)"));
    EXPECT_EQ(pop_own_routes(msg2.get(), a), 2);
    auto hop = request_next_hop(msg2.get());
    ASSERT_TRUE(hop);
    EXPECT_EQ(hop->to_string(), "198.51.100.9:5080");
}

TEST(Rewrite, StrictRouterRequestUri) {
    const auto a = us();
    auto msg = parse(samples::crlf(R"(BYE sip:203.0.113.1:5060;lr SIP/2.0
Via: SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bKbye3
Max-Forwards: 70
Route: <sip:alice@192.0.2.10:5060>
To: Alice <sip:alice@203.0.113.1>;tag=1928301774
From: Bob <sip:bob@203.0.113.50>;tag=a6c85cf
Call-ID: x@203.0.113.50
CSeq: 232 BYE
Content-Length: 0

)"));
    EXPECT_EQ(pop_own_routes(msg.get(), a), 1);
    EXPECT_EQ(uri_to_string(msg->req_uri), "sip:alice@192.0.2.10:5060");
    EXPECT_EQ(osip_list_size(&msg->routes), 0);
}

TEST(Rewrite, ContactRestoredOnTheWayIn) {
    const auto a = us();
    ContactMap map;
    RegistrationTable table;
    auto out = parse(samples::invite_alice_to_bob());
    ASSERT_EQ(
        masquerade_contacts(out.get(), a.outside, map, *SockAddr::parse("192.0.2.10:5060"), 100),
        1);
    auto* contact = static_cast<osip_contact_t*>(osip_list_get(&out->contacts, 0));
    const std::string masq = uri_to_string(contact->url);
    // bob's in-dialog BYE targets the masqueraded contact.
    std::string bye = samples::crlf(
        "BYE " + masq +
        " SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bKbye9\nMax-Forwards: 70\n"
        "To: <sip:alice@203.0.113.1>;tag=1928301774\nFrom: <sip:bob@203.0.113.50>;tag=x\n"
        "Call-ID: a84b4c76e66710@pc33.example.com\nCSeq: 2 BYE\nContent-Length: 0\n\n");
    auto in = parse(bye);
    ASSERT_TRUE(restore_request_uri(in.get(), a.outside, map, table, 200));
    EXPECT_EQ(uri_to_string(in->req_uri), "sip:alice@192.0.2.10:5060");
    // Unknown token: not restored.
    auto in2 = parse(samples::crlf(
        "BYE sip:alice@203.0.113.1:5060;smq=0123456789abcdef SIP/2.0\nVia: SIP/2.0/UDP "
        "203.0.113.50:5060;branch=z9hG4bKbye8\nTo: <sip:a@b>;tag=1\nFrom: <sip:b@c>;tag=2\n"
        "Call-ID: q\nCSeq: 3 BYE\nContent-Length: 0\n\n"));
    EXPECT_FALSE(restore_request_uri(in2.get(), a.outside, map, table, 200));
    // Contacts of a message coming in (a registrar's 200) are restored too.
    EXPECT_EQ(restore_contacts(out.get(), a.outside, map, table, 200), 1);
    contact = static_cast<osip_contact_t*>(osip_list_get(&out->contacts, 0));
    EXPECT_EQ(uri_to_string(contact->url), "sip:alice@192.0.2.10:5060");
    // Via the registration table when the dialog map forgot it.
    ContactMap empty;
    Binding b;
    b.aor = "alice@203.0.113.1";
    b.contact = "sip:alice@192.0.2.10:5060";
    b.expires_at = 1000;
    table.upsert(b);
    auto in3 = parse(bye);
    ASSERT_TRUE(restore_request_uri(in3.get(), a.outside, empty, table, 200));
    EXPECT_EQ(uri_to_string(in3->req_uri), "sip:alice@192.0.2.10:5060");
}

TEST(Rewrite, StarContactLeftAlone) {
    const auto a = us();
    ContactMap map;
    auto msg = parse(samples::register_alice_star());
    EXPECT_EQ(masquerade_contacts(msg.get(), a.outside, map, SockAddr(), 0), 0);
    EXPECT_NE(sip_message_to_string(msg.get()).find("Contact: *"), std::string::npos);
}

}  // namespace
}  // namespace sipmasq
