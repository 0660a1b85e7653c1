// The transaction core against an attacker on the outside and against the
// RFC 3261 flows a phone relies on: forged responses, Via parameters that
// try to redirect answers, floods, CANCEL, the ACK of a non-2xx and
// retransmissions. Each test says what a packet can make sipmasq send, to
// whom, and what state it leaves behind.
#include <gtest/gtest.h>

#include <tuple>

#include "osip_ptr.h"
#include "proxy_fixture.h"
#include "response_context.h"
#include "sip_proxy.h"
#include "sip_samples.h"

namespace sipmasq {
namespace {

using samples::with_body;

struct Sent {
    Side side;
    SockAddr dest;
    std::string data;
};

class TransactionTest : public ::testing::Test {
  protected:
    TransactionTest()
        : proxy_(settings(), media_, [this](Side side, const SockAddr& dest, std::string_view d) {
              sent_.push_back({side, dest, std::string(d)});
          }) {
        sip_parser_init();
        samples::unique_branches = true;
    }

    SipProxySettings settings() {
        SipProxySettings s = test::faq_proxy_settings();
        s.clock_ms = [this] { return now_ms_; };
        return s;
    }

    void register_alice() {
        proxy_.handle_datagram(samples::register_alice(), Side::Inside, alice_, 1000);
        ASSERT_EQ(proxy_.table().size(), 1u);
        sent_.clear();
    }

    // Everything sent to `dest`, 100 Trying included.
    std::vector<const Sent*> sent_to(const SockAddr& dest) const {
        std::vector<const Sent*> out;
        for (const Sent& s : sent_)
            if (s.dest == dest) out.push_back(&s);
        return out;
    }
    size_t count_status(int status, const SockAddr& dest) const {
        size_t n = 0;
        const std::string start = "SIP/2.0 " + std::to_string(status) + " ";
        for (const Sent& s : sent_)
            if (s.dest == dest && s.data.rfind(start, 0) == 0) ++n;
        return n;
    }
    const Sent* first_request_to(const SockAddr& dest) const {
        for (const Sent& s : sent_)
            if (s.dest == dest && s.data.rfind("SIP/2.0", 0) != 0) return &s;
        return nullptr;
    }
    static std::string top_branch(const std::string& msg) {
        OsipMessagePtr m = parse_sip_message(msg);
        auto* via = static_cast<osip_via_t*>(osip_list_get(&m->vias, 0));
        osip_generic_param_t* br = nullptr;
        if (osip_via_param_get_byname(via, const_cast<char*>("branch"), &br) != 0) return "";
        return br->gvalue;
    }
    // A response of bob to the request sipmasq sent him (our branch).
    static std::string bob_answers(int status, const std::string& forwarded, bool sdp) {
        std::string text = "SIP/2.0 " + std::to_string(status) + " Whatever\r\nVia: SIP/2.0/UDP ";
        text += "203.0.113.1:5060;branch=" + top_branch(forwarded) + "\r\n";
        text +=
            R"(Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8;rport=5060;received=192.0.2.10
To: Bob <sip:bob@203.0.113.50>;tag=a6c85cf
From: Alice <sip:alice@203.0.113.1>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 314159 INVITE
Contact: <sip:bob@203.0.113.50:5060>
)";
        if (!sdp) return samples::crlf(text + "Content-Length: 0\r\n\r\n");
        text += "Content-Type: application/sdp\n";
        return with_body(text,
                         "v=0\no=bob 1 1 IN IP4 203.0.113.50\ns=-\nc=IN IP4 "
                         "203.0.113.50\nt=0 0\nm=audio 3456 RTP/AVP 0\n");
    }

    test::FakeMedia media_;
    std::vector<Sent> sent_;
    int64_t now_ms_ = 5000000;
    SipProxy proxy_;
    const SockAddr alice_ = test::addr("192.0.2.10:5060");
    const SockAddr lan_host_ = test::addr("192.0.2.99:5060");
    const SockAddr bob_ = test::addr("203.0.113.50:5060");
    const SockAddr mallory_ = test::addr("198.51.100.66:5060");
};

// The forged 200 of the issue: our branch prefix on top, a LAN host below.
std::string forged_ok(std::string_view lan_host) {
    std::string text = R"(SIP/2.0 200 OK
Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKsmq0123456789abcdef01234567
Via: SIP/2.0/UDP )";
    text += lan_host;
    text += R"(;branch=z9hG4bKvictim
To: <sip:x@203.0.113.1>;tag=evil
From: <sip:y@198.51.100.66>;tag=evil2
Call-ID: forged@198.51.100.66
CSeq: 1 INVITE
Contact: <sip:y@198.51.100.66>
Content-Type: application/sdp
)";
    return with_body(text,
                     "v=0\no=m 1 1 IN IP4 198.51.100.66\ns=-\nc=IN IP4 198.51.100.66\n"
                     "t=0 0\nm=audio 4000 RTP/AVP 0\n");
}

TEST_F(TransactionTest, ForgedResponseReachesNoInsideHostAndOpensNoPort) {
    register_alice();
    ::testing::internal::CaptureStderr();
    proxy_.handle_datagram(forged_ok("192.0.2.99:5060"), Side::Outside, mallory_, 1001);
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_TRUE(sent_.empty()) << sent_[0].data;
    EXPECT_TRUE(media_.starts.empty());
    EXPECT_TRUE(proxy_.calls().empty());
    EXPECT_NE(log.find("security: forged-response from 198.51.100.66:5060: 200 INVITE"),
              std::string::npos)
        << log;
}

TEST_F(TransactionTest, ResponseFromAnotherAddressThanTheRequestWentToIsDropped) {
    proxy_.handle_datagram(samples::invite_alice_to_bob(), Side::Inside, alice_, 1000);
    const Sent* invite = first_request_to(bob_);
    ASSERT_NE(invite, nullptr);
    const std::string forwarded = invite->data;
    sent_.clear();
    const size_t starts = media_.starts.size();
    // The right branch, from mallory: dropped, no media peer set.
    proxy_.handle_datagram(bob_answers(200, forwarded, true), Side::Outside, mallory_, 1001);
    // The right branch and address, but arriving on the inside: dropped.
    proxy_.handle_datagram(bob_answers(200, forwarded, true), Side::Inside, bob_, 1001);
    EXPECT_TRUE(sent_.empty());
    EXPECT_EQ(media_.starts.size(), starts);
    // From bob himself it goes through, to alice's source.
    proxy_.handle_datagram(bob_answers(200, forwarded, true), Side::Outside, bob_, 1001);
    EXPECT_EQ(count_status(200, alice_), 1u);
}

TEST_F(TransactionTest, ReceivedAndRportInAViaNeverRedirectAnAnswer) {
    // A CSeq whose method differs from the request's gets sipmasq's own 400,
    // which goes to the packet's source whatever received/rport say.
    const std::string bad = samples::crlf(R"(OPTIONS sip:alice@203.0.113.1 SIP/2.0
Via: SIP/2.0/UDP 198.51.100.66:5060;branch=z9hG4bKmal1;received=192.0.2.99;rport=5060
Max-Forwards: 70
To: <sip:alice@203.0.113.1>
From: <sip:m@198.51.100.66>;tag=1
Call-ID: redirect@198.51.100.66
CSeq: 1 INVITE
Content-Length: 0

)");
    proxy_.handle_datagram(bad, Side::Outside, mallory_, 1000);
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].dest, mallory_);
    EXPECT_EQ(sent_[0].side, Side::Outside);
    EXPECT_NE(sent_[0].data.find("received=198.51.100.66"), std::string::npos) << sent_[0].data;
    // Same for a request that is answered 404 after routing.
    std::string unknown = bad;
    unknown.replace(unknown.find("CSeq: 1 INVITE"), 14, "CSeq: 1 OPTIONS");
    unknown.replace(unknown.find("sip:alice@203.0.113.1 SIP"), 21, "sip:nobody@203.0.113.1");
    proxy_.handle_datagram(unknown, Side::Outside, mallory_, 1000);
    ASSERT_EQ(sent_.size(), 2u);
    EXPECT_EQ(sent_[1].dest, mallory_);
    EXPECT_TRUE(sent_to(lan_host_).empty());
}

TEST_F(TransactionTest, ManyStreamsInOneSdpAreRefusedWithoutAllocating) {
    register_alice();
    std::string sdp = "v=0\no=m 1 1 IN IP4 198.51.100.66\ns=-\nc=IN IP4 198.51.100.66\nt=0 0\n";
    for (int i = 0; i < 100; ++i) sdp += "m=audio " + std::to_string(4000 + 2 * i) + " RTP/AVP 0\n";
    std::string inv = samples::invite_bob_to_alice_public();
    const size_t body = inv.find("\r\n\r\n");
    inv = with_body(inv.substr(0, inv.find("Content-Length")), sdp);
    (void)body;
    proxy_.handle_datagram(inv, Side::Outside, bob_, 1001);
    EXPECT_TRUE(media_.starts.empty());
    EXPECT_EQ(count_status(488, bob_), 1u);
    EXPECT_TRUE(sent_to(alice_).empty());
    EXPECT_TRUE(proxy_.calls().empty());
}

TEST_F(TransactionTest, OutsideSdpNamingAnInsideHostIsRefused) {
    register_alice();
    std::string inv = samples::invite_bob_to_alice_public();
    inv = with_body(inv.substr(0, inv.find("Content-Length")),
                    "v=0\no=b 1 1 IN IP4 203.0.113.50\ns=-\nc=IN IP4 192.0.2.99\nt=0 0\n"
                    "m=audio 4000 RTP/AVP 0\n");
    proxy_.handle_datagram(inv, Side::Outside, bob_, 1001);
    EXPECT_TRUE(media_.starts.empty());
    EXPECT_EQ(count_status(488, bob_), 1u);
    EXPECT_TRUE(sent_to(alice_).empty());
}

TEST_F(TransactionTest, UnansweredInviteFloodFromOneSourceLeavesRoomForOthers) {
    register_alice();
    for (int i = 0; i < 300; ++i) {
        std::string inv = samples::invite_bob_to_alice_public();
        inv.replace(inv.find("3848276298220188511@"), 20, "flood" + std::to_string(i) + "@");
        proxy_.handle_datagram(inv, Side::Outside, mallory_, 1001);
    }
    const size_t budget = ProxyLimits{}.max_setup_calls_per_source;
    EXPECT_EQ(proxy_.calls().size(), budget);
    EXPECT_EQ(media_.starts.size(), budget);
    EXPECT_LE(sent_to(alice_).size(), budget);
    // bob, another source, still gets through with media.
    proxy_.handle_datagram(samples::invite_bob_to_alice_public(), Side::Outside, bob_, 1002);
    EXPECT_EQ(media_.starts.size(), budget + 1);
    EXPECT_EQ(proxy_.calls().count("3848276298220188511@203.0.113.50"), 1u);
}

TEST_F(TransactionTest, DistinctMethodNamesKeepTheTablesBounded) {
    for (int i = 0; i < 100000; ++i) {
        const std::string method = "M" + std::to_string(i);
        std::string req =
            "X sip:alice@203.0.113.1 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 198.51.100.66:5060;branch=z9hG4bKm" +
            std::to_string(i) +
            "\r\nMax-Forwards: 70\r\nTo: <sip:alice@203.0.113.1>\r\n"
            "From: <sip:m@198.51.100.66>;tag=1\r\nCall-ID: m" +
            std::to_string(i) + "@x\r\nCSeq: 1 X\r\nContent-Length: 0\r\n\r\n";
        req.replace(req.find("X sip"), 1, method);
        req.replace(req.find("CSeq: 1 X"), 9, "CSeq: 1 " + method);
        proxy_.handle_datagram(req, Side::Outside, mallory_, 1000);
    }
    EXPECT_LE(proxy_.transactions().servers(), TransactionLimits{}.max_total);
    const std::string stats = proxy_.stats_text(true);
    EXPECT_NE(stats.find("\"other\":100000"), std::string::npos) << stats;
    EXPECT_EQ(stats.find("M99999"), std::string::npos);
    // Answered or dropped, the source got at most one answer per request.
    EXPECT_LE(sent_.size(), 100000u);
    now_ms_ += 200000;
    proxy_.run_timers();
    EXPECT_EQ(proxy_.transactions().servers(), 0u);
}

TEST_F(TransactionTest, RetransmittedInviteIsAbsorbedAndItsTransactionRetransmits) {
    const std::string inv = samples::invite_alice_to_bob();
    proxy_.handle_datagram(inv, Side::Inside, alice_, 1000);
    EXPECT_EQ(count_status(100, alice_), 1u);
    ASSERT_EQ(sent_to(bob_).size(), 1u);
    proxy_.handle_datagram(inv, Side::Inside, alice_, 1000);  // the same bytes again
    EXPECT_EQ(sent_to(bob_).size(), 1u) << "a retransmission is not forwarded";
    EXPECT_EQ(count_status(100, alice_), 2u) << "it gets the last answer again";
    now_ms_ += 600;
    proxy_.run_timers();
    EXPECT_EQ(sent_to(bob_).size(), 2u) << "timer A sends the INVITE again";
    EXPECT_EQ(top_branch(sent_to(bob_)[1]->data), top_branch(sent_to(bob_)[0]->data));
}

TEST_F(TransactionTest, CancelIsAnsweredAndSentOnOnceTheNextHopRang) {
    proxy_.handle_datagram(samples::invite_alice_to_bob(), Side::Inside, alice_, 1000);
    const std::string forwarded = first_request_to(bob_)->data;
    std::string cancel = samples::invite_alice_to_bob();
    // The CANCEL of that INVITE: same top Via branch (the sample's, made
    // unique per call, so take the INVITE's), method CANCEL, no body.
    samples::unique_branches = false;
    cancel = samples::crlf(R"(CANCEL sip:bob@203.0.113.50 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=BRANCH;rport
Max-Forwards: 70
To: Bob <sip:bob@203.0.113.50>
From: Alice <sip:alice@203.0.113.1>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 314159 CANCEL
Content-Length: 0

)");
    OsipMessagePtr inv = parse_sip_message(sent_.front().data);  // the 100 copies alice's Via
    auto* via = static_cast<osip_via_t*>(osip_list_get(&inv->vias, 0));
    osip_generic_param_t* br = nullptr;
    ASSERT_EQ(osip_via_param_get_byname(via, const_cast<char*>("branch"), &br), 0);
    cancel.replace(cancel.find("BRANCH"), 6, br->gvalue);

    // Before bob rang: 200 to alice, the CANCEL waits.
    proxy_.handle_datagram(cancel, Side::Inside, alice_, 1001);
    EXPECT_EQ(count_status(200, alice_), 1u);
    EXPECT_EQ(sent_to(bob_).size(), 1u);
    // bob rings: the CANCEL goes to him with the INVITE's branch.
    proxy_.handle_datagram(bob_answers(180, forwarded, false), Side::Outside, bob_, 1001);
    ASSERT_EQ(sent_to(bob_).size(), 2u);
    const std::string sent_cancel = sent_to(bob_)[1]->data;
    EXPECT_EQ(sent_cancel.rfind("CANCEL sip:bob@203.0.113.50 SIP/2.0", 0), 0u) << sent_cancel;
    EXPECT_EQ(top_branch(sent_cancel), top_branch(forwarded));
    // bob's 487: ACKed by sipmasq (hop by hop), passed to alice.
    proxy_.handle_datagram(bob_answers(487, forwarded, false), Side::Outside, bob_, 1002);
    ASSERT_EQ(sent_to(bob_).size(), 3u);
    EXPECT_EQ(sent_to(bob_)[2]->data.rfind("ACK sip:bob@203.0.113.50 SIP/2.0", 0), 0u);
    EXPECT_EQ(count_status(487, alice_), 1u);
    EXPECT_TRUE(proxy_.calls().empty());
    // alice's ACK of the 487 ends the transaction here: not forwarded.
    std::string ack = cancel;
    ack.replace(0, 6, "ACK");
    ack.replace(ack.find("CSeq: 314159 CANCEL"), 19, "CSeq: 314159 ACK");
    ack.replace(ack.find("To: Bob <sip:bob@203.0.113.50>"), 30,
                "To: Bob <sip:bob@203.0.113.50>;tag=a6c85cf");
    proxy_.handle_datagram(ack, Side::Inside, alice_, 1002);
    EXPECT_EQ(sent_to(bob_).size(), 3u);
    // A CANCEL from anyone else for that INVITE: 481, nothing sent on.
    proxy_.handle_datagram(cancel, Side::Outside, mallory_, 1003);
    EXPECT_EQ(count_status(481, mallory_), 1u);
}

TEST_F(TransactionTest, ByeFromOutsideTheDialogEndsNothing) {
    proxy_.handle_datagram(samples::invite_alice_to_bob(), Side::Inside, alice_, 1000);
    const std::string forwarded = first_request_to(bob_)->data;
    proxy_.handle_datagram(bob_answers(200, forwarded, true), Side::Outside, bob_, 1001);
    ASSERT_EQ(proxy_.calls().size(), 1u);
    // The masqueraded Contact bob was given routes a BYE back to alice.
    const size_t at = forwarded.find("<sip:alice@203.0.113.1:5060;smq=");
    ASSERT_NE(at, std::string::npos) << forwarded;
    const std::string contact = forwarded.substr(at + 1, forwarded.find('>', at) - at - 1);
    auto bye = [&](const char* from_tag, int n) {
        return samples::crlf("BYE " + contact + " SIP/2.0\n" +
                             "Via: SIP/2.0/UDP 198.51.100.66:5060;branch=z9hG4bKbye" +
                             std::to_string(n) + R"(
Max-Forwards: 70
To: Alice <sip:alice@203.0.113.1>;tag=1928301774
From: Bob <sip:bob@203.0.113.50>;tag=)" +
                             from_tag + R"(
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 2 BYE
Content-Length: 0

)");
    };
    // A guessed tag, then the right tags from the wrong host: 481 each.
    proxy_.handle_datagram(bye("guessed", 1), Side::Outside, mallory_, 1002);
    proxy_.handle_datagram(bye("a6c85cf", 2), Side::Outside, mallory_, 1002);
    EXPECT_EQ(count_status(481, mallory_), 2u);
    EXPECT_EQ(proxy_.calls().size(), 1u);
    EXPECT_TRUE(media_.stops.empty());
    EXPECT_EQ(first_request_to(alice_), nullptr) << first_request_to(alice_)->data;
    // bob's own BYE ends the call.
    proxy_.handle_datagram(bye("a6c85cf", 3), Side::Outside, bob_, 1003);
    ASSERT_NE(first_request_to(alice_), nullptr);
    EXPECT_TRUE(proxy_.calls().empty());
    EXPECT_EQ(media_.stops.size(), 1u);
}

// Registrations: at most 10 contacts per AOR and a fixed total; a
// REGISTER past either is refused and changes nothing.
TEST_F(TransactionTest, RegistrationsAreBoundedPerAorAndInTotal) {
    auto register_contact = [&](const std::string& user, int port) {
        std::string reg = samples::register_alice();
        reg.replace(reg.find("sip:alice@192.0.2.10:5060"), 25,
                    "sip:" + user + "@192.0.2.10:" + std::to_string(port));
        for (size_t at = reg.find("alice@203.0.113.1"); at != std::string::npos;
             at = reg.find("alice@203.0.113.1", at + 1))
            reg.replace(at, 5, user);
        sent_.clear();
        proxy_.handle_datagram(reg, Side::Inside, alice_, 1000);
        return sent_.empty() ? 0 : parse_sip_message(sent_.back().data)->status_code;
    };
    for (int i = 0; i < 10; ++i) EXPECT_EQ(register_contact("alice", 6000 + i), 200) << i;
    EXPECT_EQ(register_contact("alice", 6010), 403);
    EXPECT_EQ(proxy_.table().bindings_of("alice@203.0.113.1").size(), 10u);
    std::string refresh = samples::register_alice();
    refresh.replace(refresh.find("CSeq: 314159"), 12, "CSeq: 314160");
    refresh.replace(refresh.find("sip:alice@192.0.2.10:5060"), 25, "sip:alice@192.0.2.10:6003");
    sent_.clear();
    proxy_.handle_datagram(refresh, Side::Inside, alice_, 1000);
    ASSERT_FALSE(sent_.empty());
    EXPECT_EQ(parse_sip_message(sent_.back().data)->status_code, 200)
        << "a refresh is no new contact";
    for (int i = 0; i < 9990; ++i) ASSERT_EQ(register_contact("u" + std::to_string(i), 5060), 200);
    EXPECT_EQ(proxy_.table().size(), 10000u);
    EXPECT_EQ(register_contact("late", 5060), 503);
    EXPECT_EQ(proxy_.table().size(), 10000u);
}

// Requests in progress (forwarded, unanswered) are budgeted per source:
// past the budget a source's new requests are dropped, others go on.
TEST_F(TransactionTest, RequestsInProgressAreBudgetedPerSource) {
    auto options = [](int i) {
        return samples::crlf(
            "OPTIONS sip:bob@203.0.113.50 SIP/2.0\n"
            "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKopt" +
            std::to_string(i) + R"(;rport
Max-Forwards: 70
To: <sip:bob@203.0.113.50>
From: <sip:alice@203.0.113.1>;tag=1
Call-ID: opt)" +
            std::to_string(i) + R"(@192.0.2.10
CSeq: 1 OPTIONS
Content-Length: 0

)");
    };
    for (int i = 0; i < 200; ++i) proxy_.handle_datagram(options(i), Side::Inside, alice_, 1000);
    const size_t budget = TransactionLimits{}.max_per_source;
    EXPECT_EQ(sent_to(bob_).size(), budget);
    EXPECT_EQ(proxy_.transactions().servers(), budget);
    // Another phone is not held back.
    proxy_.handle_datagram(options(1000), Side::Inside, test::addr("192.0.2.20:5060"), 1000);
    EXPECT_EQ(sent_to(bob_).size(), budget + 1);
    // When they have ended (timer F: 408 each), the budget is free again.
    now_ms_ += 33000;
    proxy_.run_timers();
    EXPECT_EQ(count_status(408, alice_), budget);
    const size_t before = sent_to(bob_).size();
    proxy_.handle_datagram(options(5000), Side::Inside, alice_, 1000);
    EXPECT_EQ(sent_to(bob_).size(), before + 1);
}

TEST_F(TransactionTest, DialogContactsAreBounded) {
    ContactMap map;
    map.set_capacity(100);
    for (int i = 0; i < 1000; ++i)
        (void)map.remember("sip:a@192.0.2.10:" + std::to_string(1000 + i), alice_, i);
    EXPECT_EQ(map.size(), 100u);
    // The newest are kept.
    EXPECT_NE(map.find(contact_token("sip:a@192.0.2.10:1999")), nullptr);
    EXPECT_EQ(map.find(contact_token("sip:a@192.0.2.10:1000")), nullptr);
}

// A keep-alive OPTIONS to sipmasq itself gets 200 and no security line,
// from either side; an OPTIONS for a user is routed as any request.
TEST_F(TransactionTest, OptionsPingToSipmasqItselfIsAnswered) {
    for (const auto& [side, source, host] : {std::tuple{Side::Outside, mallory_, "203.0.113.1"},
                                             std::tuple{Side::Inside, alice_, "192.0.2.1:5060"}}) {
        sent_.clear();
        ::testing::internal::CaptureStderr();
        proxy_.handle_datagram(samples::crlf(std::string("OPTIONS sip:") + host + R"( SIP/2.0
Via: SIP/2.0/UDP )" + source.to_string() + R"(;branch=z9hG4bKping)" +
                                             host + R"(
Max-Forwards: 70
To: <sip:)" + host + R"(>
From: <sip:ping@example.test>;tag=1
Call-ID: ping@example.test
CSeq: 1 OPTIONS
Content-Length: 0

)"),
                               side, source, 1000);
        const std::string log = ::testing::internal::GetCapturedStderr();
        ASSERT_EQ(sent_.size(), 1u) << host;
        EXPECT_EQ(sent_[0].dest, source);
        EXPECT_EQ(sent_[0].data.rfind("SIP/2.0 200 ", 0), 0u) << sent_[0].data;
        EXPECT_EQ(log.find("security:"), std::string::npos) << log;
    }
}

// The table keeps its timers ordered: the next deadline and what is due
// come without a scan, and a removed or rescheduled transaction leaves no
// stale timer behind.
TEST(TransactionTimers, OrderedAndNeverStale) {
    TransactionTable table({100000, 100000, 1, 1u << 30});
    for (int i = 0; i < 20000; ++i) {
        ServerTransaction st;
        st.key = "s" + std::to_string(i);
        st.source = *SockAddr::parse("192.0.2.10:5060");
        st.expires_at_ms = 100000 + (i * 7919) % 20000;
        table.add_server(std::move(st));
    }
    EXPECT_EQ(table.next_deadline_ms(), 100000);
    EXPECT_EQ(table.due(100009).server_expired.size(), 10u);
    // Rescheduled: its old deadline is gone.
    ServerTransaction* first = table.find_server("s0");
    ASSERT_NE(first, nullptr);
    table.set_timers(*first, 100001, 200000);
    EXPECT_EQ(table.due(100001).server_retransmit, std::vector<std::string>{"s0"});
    EXPECT_EQ(table.due(100000).server_expired.size(), 0u);
    // Expiry wins over a retransmission due at the same time.
    table.set_timers(*first, 200000, 200000);
    const auto both = table.due(200000);
    EXPECT_TRUE(both.server_retransmit.empty());
    EXPECT_EQ(both.server_expired.size(), 20000u);
    for (int i = 0; i < 20000; ++i) table.remove_server("s" + std::to_string(i));
    EXPECT_EQ(table.next_deadline_ms(), 0);
}

// An ACK from outside has no transaction to budget it by: it goes in only
// for a call sipmasq knows.
TEST_F(TransactionTest, AnAckFromOutsideForNoCallGoesNowhere) {
    register_alice();
    proxy_.handle_datagram(samples::crlf(R"(ACK sip:alice@203.0.113.1 SIP/2.0
Via: SIP/2.0/UDP 198.51.100.66:5060;branch=z9hG4bKack1
Max-Forwards: 70
To: <sip:alice@203.0.113.1>;tag=x
From: <sip:m@198.51.100.66>;tag=1
Call-ID: nocall@198.51.100.66
CSeq: 1 ACK
Content-Length: 0

)"),
                           Side::Outside, mallory_, 1001);
    EXPECT_TRUE(sent_.empty()) << sent_[0].data;
}

// A server transaction has a client transaction per branch, at most
// kMaxBranches; it is final when every branch is, and goes with them all.
TEST(TransactionBranches, BoundedFinalTogetherAndRemovedTogether) {
    TransactionTable table;
    ServerTransaction fresh;
    fresh.key = "invite";
    fresh.method = "INVITE";
    fresh.source = *SockAddr::parse("203.0.113.50:5060");
    ServerTransaction& st = table.add_server(std::move(fresh));
    EXPECT_TRUE(table.all_branches_final(st)) << "no branch: nothing to wait for";
    for (size_t i = 0; i < kMaxBranches + 5; ++i) {
        ClientTransaction ct;
        ct.key = "branch" + std::to_string(i);
        ct.server_key = st.key;
        ct.request = "INVITE";
        table.add_client(std::move(ct));
        EXPECT_EQ(table.add_branch(st, "branch" + std::to_string(i)), i < kMaxBranches) << i;
    }
    EXPECT_EQ(st.client_keys.size(), kMaxBranches);
    EXPECT_TRUE(table.add_branch(st, "branch0")) << "a branch it has is no new one";
    EXPECT_EQ(st.client_keys.size(), kMaxBranches);
    EXPECT_FALSE(table.all_branches_final(st));
    for (size_t i = 0; i + 1 < kMaxBranches; ++i)
        table.find_client("branch" + std::to_string(i))->last_status = 486;
    EXPECT_FALSE(table.all_branches_final(st));
    // A branch whose transaction ended (timer C, never sent) counts as final.
    table.remove_client("branch" + std::to_string(kMaxBranches - 1));
    EXPECT_TRUE(table.all_branches_final(st));
    // The kept best answer counts against the byte budget, and is freed.
    const size_t before = table.bytes();
    table.set_best_response(st, 486, std::string(1000, 'x'));
    EXPECT_EQ(table.bytes(), before + 1000);
    table.remove_server("invite");
    EXPECT_EQ(table.servers(), 0u);
    EXPECT_EQ(table.clients(), 5u) << "only the branches beyond the bound are left";
    for (size_t i = kMaxBranches; i < kMaxBranches + 5; ++i)
        table.remove_client("branch" + std::to_string(i));
    EXPECT_EQ(table.bytes(), 0u);
}

// RFC 3261 §16.7: 6xx over everything, else the lowest class, the first
// of a class kept; 503 goes up as 500; 401/407 challenges merged.
TEST(ResponseContext, ChoosesAsSection16_7Says) {
    EXPECT_TRUE(better_final_answer(486, 0));
    EXPECT_TRUE(better_final_answer(486, 503));
    EXPECT_TRUE(better_final_answer(302, 486));
    EXPECT_FALSE(better_final_answer(404, 486));
    EXPECT_TRUE(better_final_answer(603, 302));
    EXPECT_FALSE(better_final_answer(302, 600));
    EXPECT_FALSE(better_final_answer(604, 603));
    EXPECT_EQ(upstream_status(503), 500);
    EXPECT_EQ(upstream_status(486), 486);

    sip_parser_init();
    auto challenge = [](int status, const char* header, const char* realm) {
        return parse_sip_message(samples::crlf("SIP/2.0 " + std::to_string(status) +
                                               R"( Unauthorized
Via: SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bKx
To: <sip:alice@203.0.113.1>;tag=1
From: <sip:bob@203.0.113.50>;tag=2
Call-ID: c@x
CSeq: 1 INVITE
)" + header + ": Digest realm=\"" + realm + "\", nonce=\"n\"\nContent-Length: 0\n\n"));
    };
    OsipMessagePtr into = challenge(401, "WWW-Authenticate", "one");
    OsipMessagePtr from = challenge(407, "Proxy-Authenticate", "two");
    ASSERT_NE(into, nullptr);
    ASSERT_NE(from, nullptr);
    ASSERT_TRUE(merge_challenges(into.get(), from.get()));
    const std::string merged = sip_message_to_string(into.get());
    EXPECT_NE(merged.find("WWW-Authenticate: Digest realm=\"one\""), std::string::npos) << merged;
    EXPECT_NE(merged.find("Proxy-Authenticate: Digest realm=\"two\""), std::string::npos) << merged;
}

}  // namespace
}  // namespace sipmasq
