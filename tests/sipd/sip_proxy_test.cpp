// The orchestrator on real messages: REGISTER in both modes, calls out and
// in with the SDP through a fake relay, refusals, rtpd unavailable.
#include "sip_proxy.h"

#include <gtest/gtest.h>

#include "osip_ptr.h"
#include "proxy_fixture.h"
#include "registration_store.h"
#include "sip_samples.h"

namespace sipmasq {
namespace {

using samples::with_body;

struct Sent {
    Side side;
    SockAddr dest;
    std::string data;
};

class SipProxyTest : public ::testing::Test {
  protected:
    SipProxyTest()
        : proxy_(test::faq_proxy_settings(), media_,
                 [this](Side side, const SockAddr& dest, std::string_view d) {
                     // 100 Trying is hop by hop: kept apart, checked on its own.
                     (d.rfind("SIP/2.0 100 ", 0) == 0 ? trying_ : sent_)
                         .push_back({side, dest, std::string(d)});
                 }) {
        sip_parser_init();
        samples::unique_branches = true;
    }
    OsipMessagePtr last() { return parse_sip_message(sent_.back().data); }

    test::FakeMedia media_;
    std::vector<Sent> sent_;
    std::vector<Sent> trying_;
    SipProxy proxy_;
    const SockAddr alice_ = test::addr("192.0.2.10:5060");
    const SockAddr bob_ = test::addr("203.0.113.50:5060");
};

TEST_F(SipProxyTest, RegistrarAnswersAndKeepsTheBinding) {
    proxy_.handle_datagram(samples::register_alice(), Side::Inside, alice_, 1000);
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].side, Side::Inside);
    EXPECT_EQ(sent_[0].dest, alice_);
    auto resp = last();
    ASSERT_NE(resp, nullptr);
    EXPECT_EQ(resp->status_code, 200);
    ASSERT_EQ(osip_list_size(&resp->contacts), 1);
    EXPECT_NE(sent_[0].data.find("expires=3600"), std::string::npos) << sent_[0].data;
    auto live = proxy_.table().lookup("alice@203.0.113.1", 1000);
    ASSERT_EQ(live.size(), 1u);
    EXPECT_EQ(live[0]->contact, "sip:alice@192.0.2.10:5060;transport=udp");
    EXPECT_TRUE(proxy_.state_dirty());

    // The same Call-ID with an older CSeq is refused and changes nothing.
    std::string old = samples::register_alice();
    old.replace(old.find("314159"), 6, "314100");
    proxy_.handle_datagram(old, Side::Inside, alice_, 1001);
    EXPECT_EQ(last()->status_code, 500);

    proxy_.handle_datagram(samples::register_alice_star(), Side::Inside, alice_, 1002);
    EXPECT_EQ(last()->status_code, 200);
    EXPECT_TRUE(proxy_.table().lookup("alice@203.0.113.1", 1002).empty());
}

TEST_F(SipProxyTest, RegisterFromOutsideIsRefused) {
    proxy_.handle_datagram(samples::register_alice(), Side::Outside, bob_, 1000);
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].side, Side::Outside);
    EXPECT_EQ(last()->status_code, 403);
    EXPECT_EQ(proxy_.table().size(), 0u);
}

TEST_F(SipProxyTest, CallOutRewritesViaContactAndSdp) {
    proxy_.handle_datagram(samples::invite_alice_to_bob(), Side::Inside, alice_, 1000);
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].side, Side::Outside);
    EXPECT_EQ(sent_[0].dest, bob_);
    const std::string& out = sent_[0].data;
    EXPECT_NE(out.find("Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKsmq"), std::string::npos)
        << out;
    EXPECT_NE(out.find("smq="), std::string::npos) << out;
    EXPECT_EQ(out.find("c=IN IP4 192.0.2.10"), std::string::npos) << out;
    EXPECT_NE(out.find("c=IN IP4 203.0.113.1"), std::string::npos) << out;
    EXPECT_NE(out.find("m=audio 30002 "), std::string::npos) << out;
    ASSERT_EQ(media_.starts.size(), 1u);
    EXPECT_EQ(media_.starts[0].inside_peer, test::addr("192.0.2.10:49170"));
    EXPECT_FALSE(media_.starts[0].outside_peer.valid());

    // bob's answer comes back with our branch; the same forward gets bob.
    auto fwd = parse_sip_message(out);
    auto* via = static_cast<osip_via_t*>(osip_list_get(&fwd->vias, 0));
    osip_generic_param_t* br = nullptr;
    ASSERT_EQ(osip_via_param_get_byname(via, const_cast<char*>("branch"), &br), 0);
    proxy_.handle_datagram(samples::ok_from_bob(br->gvalue), Side::Outside, bob_, 1001);
    ASSERT_EQ(sent_.size(), 2u);
    EXPECT_EQ(sent_[1].side, Side::Inside);
    EXPECT_EQ(sent_[1].dest, alice_);
    EXPECT_NE(sent_[1].data.find("c=IN IP4 192.0.2.1\r\n"), std::string::npos) << sent_[1].data;
    EXPECT_NE(sent_[1].data.find("m=audio 30000 "), std::string::npos) << sent_[1].data;
    ASSERT_EQ(media_.starts.size(), 2u);
    EXPECT_EQ(media_.starts[1].id, media_.starts[0].id);
    EXPECT_EQ(media_.starts[1].outside_peer, test::addr("203.0.113.50:3456"));
    EXPECT_EQ(media_.starts[1].outside_port, 30002);  // the ports stay
    ASSERT_EQ(proxy_.calls().size(), 1u);
    EXPECT_EQ(proxy_.active_forwards().size(), 1u);
}

// rtpd keeps a call's tag in 63 characters: a longer Call-ID is keyed by
// its start and a hash, the same in the call table and in rtpd, so a
// restarted sipd that learns the forwards from rtpd finds the call again.
TEST_F(SipProxyTest, ALongCallIdIsFoundAgainAfterARestart) {
    const std::string long_id = std::string(90, 'x') + "@192.0.2.10";
    std::string invite = samples::invite_alice_to_bob();
    const size_t at = invite.find("Call-ID: ") + 9;
    invite.replace(at, invite.find('\r', at) - at, long_id);
    proxy_.handle_datagram(invite, Side::Inside, alice_, 1000);
    ASSERT_EQ(media_.starts.size(), 1u);
    const std::string tag = media_.starts[0].tag;
    EXPECT_LE(tag.size(), 63u);
    EXPECT_EQ(tag.rfind(std::string(40, 'x'), 0), 0u) << tag;
    ASSERT_EQ(proxy_.calls().count(tag), 1u);

    // A new sipd learns the forward from rtpd (LIST_FWD): the same key.
    test::FakeMedia media2;
    SipProxy restarted(test::faq_proxy_settings(), media2,
                       [](Side, const SockAddr&, std::string_view) {});
    MediaStart entry = media_.starts[0];
    entry.inside_port = 30000;
    entry.outside_port = 30002;
    restarted.adopt_forward(entry.id, entry);
    EXPECT_EQ(restarted.calls().count(tag), 1u);
    // Two long Call-IDs that share their start stay two calls.
    std::string other = invite;
    other.replace(other.find(long_id), long_id.size(), std::string(90, 'x') + "@192.0.2.11");
    other.replace(other.find("z9hG4bK"), 7, "z9hG4bKother");  // a new request, not a retransmission
    proxy_.handle_datagram(other, Side::Inside, alice_, 1000);
    EXPECT_EQ(proxy_.calls().size(), 2u);
}

TEST_F(SipProxyTest, CallInReachesTheRegisteredPhoneOnly) {
    proxy_.handle_datagram(samples::invite_bob_to_alice_public(), Side::Outside, bob_, 1000);
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(last()->status_code, 404);
    EXPECT_EQ(sent_[0].side, Side::Outside);
    EXPECT_TRUE(media_.starts.empty());

    proxy_.handle_datagram(samples::register_alice(), Side::Inside, alice_, 1000);
    sent_.clear();
    proxy_.handle_datagram(samples::invite_bob_to_alice_public(), Side::Outside, bob_, 1001);
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].side, Side::Inside);
    EXPECT_EQ(sent_[0].dest, alice_);
    auto req = last();
    ASSERT_NE(req, nullptr);
    EXPECT_EQ(uri_to_string(req->req_uri), "sip:alice@192.0.2.10:5060;transport=udp");
    EXPECT_NE(sent_[0].data.find("c=IN IP4 192.0.2.1\r\n"), std::string::npos) << sent_[0].data;
}

TEST_F(SipProxyTest, OutsideToOutsideIsNeverRelayed) {
    std::string inv = samples::invite_bob_to_alice_public();
    inv.replace(inv.find("sip:alice@203.0.113.1 SIP"), 21, "sip:carol@198.51.100.7");
    proxy_.handle_datagram(inv, Side::Outside, bob_, 1000);
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].side, Side::Outside);
    EXPECT_EQ(sent_[0].dest, bob_);
    EXPECT_EQ(last()->status_code, 403);
}

TEST_F(SipProxyTest, NoRelayMeans503AndNoSdpPointingNowhere) {
    media_.up = false;
    proxy_.handle_datagram(samples::invite_alice_to_bob(), Side::Inside, alice_, 1000);
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].side, Side::Inside);
    auto resp = last();
    ASSERT_NE(resp, nullptr);
    EXPECT_EQ(resp->status_code, 503);
    EXPECT_EQ(osip_list_size(&resp->vias), 1);  // ours was taken off
    media_.up = true;
    media_.fail = true;
    sent_.clear();
    proxy_.handle_datagram(samples::invite_alice_to_bob(), Side::Inside, alice_, 1001);
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(last()->status_code, 503);
    EXPECT_TRUE(proxy_.calls().empty());
}

TEST_F(SipProxyTest, ByeStopsTheForwards) {
    proxy_.handle_datagram(samples::invite_alice_to_bob(), Side::Inside, alice_, 1000);
    std::string bye = with_body(R"(BYE sip:bob@203.0.113.50:5060 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKbye1;rport
Max-Forwards: 70
Route: <sip:192.0.2.1:5060;lr>, <sip:203.0.113.1:5060;lr>
To: Bob <sip:bob@203.0.113.50>;tag=a6c85cf
From: Alice <sip:alice@203.0.113.1>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 314160 BYE
)",
                                "");
    proxy_.handle_datagram(bye, Side::Inside, alice_, 1002);
    ASSERT_EQ(sent_.size(), 2u);
    EXPECT_EQ(sent_[1].dest, bob_);
    ASSERT_EQ(media_.stops.size(), 1u);
    EXPECT_EQ(media_.stops[0], media_.starts[0].id);
    EXPECT_TRUE(proxy_.calls().empty());
}

TEST_F(SipProxyTest, OutboundProxyRegisterIsProvisionalUntilThe2xx) {
    const std::string reg = with_body(R"(REGISTER sip:203.0.113.10 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKob1;rport
Max-Forwards: 70
To: <sip:alice@203.0.113.10>
From: <sip:alice@203.0.113.10>;tag=77
Call-ID: ob-1@192.0.2.10
CSeq: 1 REGISTER
Contact: <sip:alice@192.0.2.10:5060>
Expires: 300
)",
                                      "");
    proxy_.handle_datagram(reg, Side::Inside, alice_, 1000);
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].side, Side::Outside);
    EXPECT_EQ(sent_[0].dest, test::addr("203.0.113.10:5060"));
    auto fwd = last();
    auto* contact = static_cast<osip_contact_t*>(osip_list_get(&fwd->contacts, 0));
    ASSERT_NE(contact, nullptr);
    const std::string masq = uri_to_string(contact->url);
    EXPECT_NE(masq.find("203.0.113.1:5060;smq="), std::string::npos) << masq;
    EXPECT_TRUE(proxy_.table().lookup("alice@203.0.113.10", 1000).empty());
    ASSERT_EQ(proxy_.table().bindings_of("alice@203.0.113.10").size(), 1u);
    auto* via = static_cast<osip_via_t*>(osip_list_get(&fwd->vias, 0));
    osip_generic_param_t* br = nullptr;
    ASSERT_EQ(osip_via_param_get_byname(via, const_cast<char*>("branch"), &br), 0);
    const std::string ok = with_body("SIP/2.0 200 OK\nVia: SIP/2.0/UDP 203.0.113.1:5060;branch=" +
                                         std::string(br->gvalue) + R"(
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKob1;rport=5060;received=192.0.2.10
To: <sip:alice@203.0.113.10>;tag=reg1
From: <sip:alice@203.0.113.10>;tag=77
Call-ID: ob-1@192.0.2.10
CSeq: 1 REGISTER
Contact: <)" + masq + R"(>;expires=120
)",
                                     "");
    proxy_.handle_datagram(ok, Side::Outside, test::addr("203.0.113.10:5060"), 1001);
    ASSERT_EQ(sent_.size(), 2u);
    EXPECT_EQ(sent_[1].side, Side::Inside);
    EXPECT_NE(sent_[1].data.find("sip:alice@192.0.2.10:5060"), std::string::npos) << sent_[1].data;
    auto live = proxy_.table().lookup("alice@203.0.113.10", 1001);
    ASSERT_EQ(live.size(), 1u);
    EXPECT_EQ(live[0]->expires_at, 1121);

    // A call to the masqueraded contact from the registrar reaches alice.
    const std::string inv = with_body("INVITE " + masq + R"( SIP/2.0
Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bKin1
Max-Forwards: 70
To: <sip:alice@203.0.113.10>
From: <sip:bob@203.0.113.10>;tag=5
Call-ID: in-1@203.0.113.10
CSeq: 1 INVITE
Contact: <sip:bob@203.0.113.10:5060>
)",
                                      "");
    proxy_.handle_datagram(inv, Side::Outside, test::addr("203.0.113.10:5060"), 1002);
    ASSERT_EQ(sent_.size(), 3u);
    EXPECT_EQ(sent_[2].side, Side::Inside);
    EXPECT_EQ(sent_[2].dest, alice_);
}

TEST_F(SipProxyTest, StateFileKeepsDialogContacts) {
    proxy_.handle_datagram(samples::register_alice(), Side::Inside, alice_, 1000);
    proxy_.handle_datagram(samples::invite_alice_to_bob(), Side::Inside, alice_, 1000);
    ASSERT_GT(proxy_.contacts().size(), 0u);
    const std::string text = format_state(proxy_.table(), &proxy_.contacts());
    RegistrationTable table;
    ContactMap map;
    const auto r = parse_state(text, table, &map, 1001);
    EXPECT_EQ(r.skipped, 0u);
    EXPECT_EQ(table.size(), 1u);
    EXPECT_EQ(map.size(), proxy_.contacts().size());
    // The old reader skips the new lines without calling them corrupt.
    RegistrationTable only;
    EXPECT_EQ(parse_registrations(text, only, 1001).skipped, 0u);
}

// A provider that does not anchor media hands an inside call's SDP (our
// outside address and relay port) to a call it routes back in: accepted
// only while that port is a live stream of another call.
TEST_F(SipProxyTest, HairpinNamesALiveRelayPortOfAnotherCall) {
    proxy_.handle_datagram(samples::register_alice(), Side::Inside, alice_, 1000);
    std::string back_in = samples::invite_bob_to_alice_public();
    back_in.replace(back_in.find("c=IN IP4 203.0.113.50"), 21, "c=IN IP4 203.0.113.1");
    back_in.replace(back_in.find("m=audio 3456"), 12, "m=audio 30002");
    sent_.clear();
    proxy_.handle_datagram(back_in, Side::Outside, bob_, 1001);  // no such call yet
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(last()->status_code, 488);
    EXPECT_TRUE(media_.starts.empty());

    proxy_.handle_datagram(samples::invite_alice_to_bob(), Side::Inside, alice_, 1002);
    ASSERT_EQ(media_.starts.size(), 1u);  // its outside relay port: 30002
    sent_.clear();
    back_in.replace(back_in.find("Call-ID: 38"), 11, "Call-ID: 48");  // a new call
    back_in.replace(back_in.find("bob0001"), 7, "bob0002");
    proxy_.handle_datagram(back_in, Side::Outside, bob_, 1003);
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].side, Side::Inside);
    EXPECT_EQ(sent_[0].dest, alice_);
    ASSERT_EQ(media_.starts.size(), 2u);
    EXPECT_EQ(media_.starts[1].outside_peer, test::addr("203.0.113.1:30002"));
    EXPECT_NE(media_.starts[1].id, media_.starts[0].id);

    // After an rtpd restart the hairpinned forward comes back first without
    // its outside peer, then with it, after the forward it relays to.
    const auto again = proxy_.active_forwards();
    ASSERT_EQ(again.size(), 3u);
    EXPECT_EQ(again.back().id, media_.starts[1].id);
    EXPECT_EQ(again.back().outside_peer, test::addr("203.0.113.1:30002"));
    for (size_t i = 0; i + 1 < again.size(); ++i) EXPECT_FALSE(again[i].outside_peer.valid());
}

// Behind a NAT router (host_outbound) the SDP names the public address;
// rtpd is asked to send to the port on the address it is bound to.
TEST(SipProxyHairpin, TheAdvertisedAddressMapsToTheRelaysOwn) {
    sip_parser_init();
    samples::unique_branches = true;
    SipProxySettings settings = test::faq_proxy_settings();
    settings.outside_local = test::addr("198.51.100.2:5060");  // towards the router
    settings.policy.us.aliases = {"198.51.100.2"};
    test::FakeMedia media;
    std::vector<std::string> sent;
    SipProxy proxy(settings, media,
                   [&sent](Side, const SockAddr&, std::string_view d) { sent.emplace_back(d); });
    const SockAddr alice = test::addr("192.0.2.10:5060");
    proxy.handle_datagram(samples::register_alice(), Side::Inside, alice, 1000);
    proxy.handle_datagram(samples::invite_alice_to_bob(), Side::Inside, alice, 1001);
    ASSERT_EQ(media.starts.size(), 1u);
    std::string back_in = samples::invite_bob_to_alice_public();
    back_in.replace(back_in.find("c=IN IP4 203.0.113.50"), 21, "c=IN IP4 203.0.113.1");
    back_in.replace(back_in.find("m=audio 3456"), 12, "m=audio 30002");
    proxy.handle_datagram(back_in, Side::Outside, test::addr("203.0.113.50:5060"), 1002);
    ASSERT_EQ(media.starts.size(), 2u) << (sent.empty() ? "" : sent.back());
    EXPECT_EQ(media.starts[1].outside_peer, test::addr("198.51.100.2:30002"));
}

TEST(SecurityLine, FormatIsStable) {
    EXPECT_EQ(security_line("register-refused", *SockAddr::parse("203.0.113.9:5060"), "403 x\r\ny"),
              "security: register-refused from 203.0.113.9:5060: 403 x??y");
}

}  // namespace
}  // namespace sipmasq

namespace sipmasq {
namespace {

// The outside address moves under a running proxy (proxy_addresses.cpp).
TEST_F(SipProxyTest, AMovedOutsideAddressEndsItsCallsAndIsAdvertisedNext) {
    proxy_.handle_datagram(samples::invite_alice_to_bob(), Side::Inside, alice_, 1000);
    ASSERT_EQ(proxy_.calls().size(), 1u);
    ASSERT_EQ(media_.starts.size(), 1u);

    SipProxySettings moved = test::faq_proxy_settings();
    moved.outside_local = test::addr("203.0.113.2:5060");
    moved.outside_advertised = test::addr("203.0.113.2");
    moved.policy.us.outside = {"203.0.113.2", 5060};
    moved.policy.public_host = "203.0.113.2";
    proxy_.change_addresses(moved);
    EXPECT_TRUE(proxy_.calls().empty());
    ASSERT_EQ(media_.stops.size(), 1u);
    EXPECT_EQ(media_.stops[0], media_.starts[0].id);

    std::string next = samples::invite_alice_to_bob();
    next.replace(next.find("a84b4c76e66710"), 14, "second-call-01");
    proxy_.handle_datagram(next, Side::Inside, alice_, 1001);
    ASSERT_EQ(sent_.size(), 2u);
    const std::string& out = sent_[1].data;
    EXPECT_EQ(sent_[1].side, Side::Outside);
    EXPECT_NE(out.find("Via: SIP/2.0/UDP 203.0.113.2:5060;"), std::string::npos) << out;
    EXPECT_NE(out.find("c=IN IP4 203.0.113.2\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("Contact: <sip:alice@203.0.113.2:5060;smq="), std::string::npos) << out;
    EXPECT_EQ(out.find("Via: SIP/2.0/UDP 203.0.113.1"), std::string::npos) << out;
    EXPECT_EQ(out.find("<sip:203.0.113.1:5060;lr>"), std::string::npos) << out;
    ASSERT_EQ(media_.starts.size(), 2u);
    EXPECT_TRUE(media_.starts[1].outside_local.same_host(test::addr("203.0.113.2")));

    // No outside address at all (the link went down): 503 to the phone,
    // nothing sent out.
    SipProxySettings none = moved;
    none.outside_local = SockAddr();
    none.outside_advertised = SockAddr();
    none.policy.us.outside = {"", 5060};
    none.policy.public_host.clear();
    proxy_.change_addresses(none);
    EXPECT_TRUE(proxy_.calls().empty());
    next = samples::invite_alice_to_bob();
    next.replace(next.find("a84b4c76e66710"), 14, "third-call-001");
    proxy_.handle_datagram(next, Side::Inside, alice_, 1002);
    ASSERT_EQ(sent_.size(), 3u);
    EXPECT_EQ(sent_[2].side, Side::Inside);
    EXPECT_EQ(sent_[2].dest, alice_);
    EXPECT_EQ(last()->status_code, 503);
    EXPECT_EQ(media_.starts.size(), 2u);
}

}  // namespace
}  // namespace sipmasq
