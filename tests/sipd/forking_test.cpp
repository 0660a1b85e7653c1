// Forking through the whole SipProxy, the phones and providers played by
// the test: a provider that forks downstream (early media from each fork,
// the winner's media after its 2xx, a later 2xx of another fork), and
// sipmasq forking an INVITE to every phone of an AOR (RFC 3261 §16.6-16.7:
// first 2xx wins and cancels the rest, CANCEL reaches every branch, the
// best final answer once every branch has one).
#include <gtest/gtest.h>

#include <tuple>

#include "osip_ptr.h"
#include "proxy_fixture.h"
#include "sdp_rewrite.h"
#include "sip_proxy.h"
#include "sip_response.h"
#include "sip_samples.h"

namespace sipmasq {
namespace {

struct Sent {
    Side side;
    SockAddr dest;
    std::string data;
};

class ForkingTest : public ::testing::Test {
  protected:
    ForkingTest()
        : proxy_(settings(), media_, [this](Side side, const SockAddr& dest, std::string_view d) {
              sent_.push_back({side, dest, std::string(d)});
          }) {
        sip_parser_init();
        samples::unique_branches = true;
    }
    ~ForkingTest() override { samples::unique_branches = false; }

    SipProxySettings settings() {
        SipProxySettings s = test::faq_proxy_settings();
        s.clock_ms = [this] { return now_ms_; };
        return s;
    }

    // alice registers from two phones: 192.0.2.10 and 192.0.2.20.
    void register_two_phones() {
        proxy_.handle_datagram(samples::register_alice(), Side::Inside, phone1_, 1000);
        std::string second = samples::register_alice();
        second.replace(second.find("sip:alice@192.0.2.10:5060"), 25, "sip:alice@192.0.2.20:5060");
        second.replace(second.find("192.0.2.10:5060;branch"), 15, "192.0.2.20:5060");
        second.replace(second.find("a84b4c76e66710@192.0.2.10"), 25, "second-phone@192.0.2.20");
        proxy_.handle_datagram(second, Side::Inside, phone2_, 1000);
        ASSERT_EQ(proxy_.table().lookup("alice@203.0.113.1", 1000).size(), 2u);
        sent_.clear();
    }

    std::vector<const Sent*> requests_to(const SockAddr& dest, std::string_view method) const {
        std::vector<const Sent*> out;
        for (const Sent& s : sent_)
            if (s.dest == dest && s.data.rfind(std::string(method) + " ", 0) == 0)
                out.push_back(&s);
        return out;
    }
    std::vector<const Sent*> responses_to(const SockAddr& dest, int status) const {
        std::vector<const Sent*> out;
        const std::string start = "SIP/2.0 " + std::to_string(status) + " ";
        for (const Sent& s : sent_)
            if (s.dest == dest && s.data.rfind(start, 0) == 0) out.push_back(&s);
        return out;
    }
    static std::string top_branch(const std::string& msg) {
        OsipMessagePtr m = parse_sip_message(msg);
        auto* via = static_cast<osip_via_t*>(osip_list_get(&m->vias, 0));
        osip_generic_param_t* br = nullptr;
        if (osip_via_param_get_byname(via, const_cast<char*>("branch"), &br) != 0) return "";
        return br->gvalue;
    }

    // The answer of whoever got `request` from sipmasq: `tag` in To, an
    // SDP naming `media` ("" = none).
    static std::string answer(const std::string& request, int status, const std::string& tag,
                              const std::string& contact, const std::string& media = "") {
        OsipMessagePtr req = parse_sip_message(request);
        EXPECT_NE(req, nullptr);
        OsipMessagePtr resp = build_response(req.get(), status, tag);
        EXPECT_NE(resp, nullptr);
        osip_message_set_contact(resp.get(), ("<" + contact + ">").c_str());
        if (!media.empty()) {
            const auto peer = SockAddr::parse(media);
            osip_message_set_content_type(resp.get(), "application/sdp");
            EXPECT_TRUE(replace_message_body(
                resp.get(),
                samples::crlf("v=0\no=x 1 1 IN IP4 " + peer->host_string() + "\ns=-\nc=IN IP4 " +
                              peer->host_string() + "\nt=0 0\nm=audio " +
                              std::to_string(peer->port()) + " RTP/AVP 0\n")));
        }
        return sip_message_to_string(resp.get());
    }

    // bob's CANCEL of his INVITE to alice's AOR.
    static std::string bob_cancel() {
        samples::unique_branches = false;
        std::string cancel = samples::invite_bob_to_alice_public();
        samples::unique_branches = true;
        cancel = cancel.substr(0, cancel.find("Contact:"));
        cancel.replace(0, 6, "CANCEL");
        cancel.replace(cancel.find("CSeq: 1 INVITE"), 14, "CSeq: 1 CANCEL");
        return cancel + "Content-Length: 0\r\n\r\n";
    }
    std::string invite_from_bob() {
        samples::unique_branches = false;  // its CANCEL must name the same branch
        std::string inv = samples::invite_bob_to_alice_public();
        samples::unique_branches = true;
        return inv;
    }

    // bob calls alice's AOR (call `n` has a branch and Call-ID of its own);
    // the INVITEs the two phones got.
    std::pair<std::string, std::string> ring_both(int n = 0) {
        std::string inv = invite_from_bob();
        if (n > 0) {
            inv.replace(inv.find("z9hG4bKbob0001"), 14, "z9hG4bKbob100" + std::to_string(n));
            inv.replace(inv.find("3848276298220188511@"), 20, "call" + std::to_string(n) + "@");
        }
        sent_.clear();
        proxy_.handle_datagram(inv, Side::Outside, bob_, 1001);
        EXPECT_EQ(requests_to(phone1_, "INVITE").size(), 1u);
        EXPECT_EQ(requests_to(phone2_, "INVITE").size(), 1u);
        if (requests_to(phone1_, "INVITE").empty() || requests_to(phone2_, "INVITE").empty())
            return {};
        return {requests_to(phone1_, "INVITE")[0]->data, requests_to(phone2_, "INVITE")[0]->data};
    }
    // Phone 1 (tag "one") or 2 (tag "two") answers the INVITE it got.
    void phone_answers(int phone, const std::string& inv, int status,
                       const std::string& media = "") {
        const bool first = phone == 1;
        proxy_.handle_datagram(
            answer(inv, status,
                   status == 100 ? ""
                   : first       ? "one"
                                 : "two",
                   first ? "sip:alice@192.0.2.10:5060" : "sip:alice@192.0.2.20:5060", media),
            Side::Inside, first ? phone1_ : phone2_, 1002);
    }

    const MediaStart& last_start() const { return media_.starts.back(); }

    test::FakeMedia media_;
    std::vector<Sent> sent_;
    int64_t now_ms_ = 5000000;
    SipProxy proxy_;
    const SockAddr phone1_ = test::addr("192.0.2.10:5060");
    const SockAddr phone2_ = test::addr("192.0.2.20:5060");
    const SockAddr bob_ = test::addr("203.0.113.50:5060");
};

// An INVITE for an AOR with two phones rings both, each on a branch of its
// own; the first 2xx goes to the caller and the other phone gets CANCEL;
// its 487 is ACKed and goes nowhere.
TEST_F(ForkingTest, InviteRingsEveryContactAndTheFirstAnswerWins) {
    register_two_phones();
    const auto [inv1, inv2] = ring_both();
    EXPECT_NE(top_branch(inv1), top_branch(inv2));
    EXPECT_EQ(inv1.rfind("INVITE sip:alice@192.0.2.10:5060", 0), 0u) << inv1;
    EXPECT_EQ(inv2.rfind("INVITE sip:alice@192.0.2.20:5060", 0), 0u) << inv2;
    // Both offers name the same relay port inside.
    EXPECT_NE(inv1.find("c=IN IP4 192.0.2.1"), std::string::npos) << inv1;
    EXPECT_EQ(media_.starts.size(), 2u);
    EXPECT_EQ(media_.starts[0].id, media_.starts[1].id);

    phone_answers(1, inv1, 180);
    phone_answers(2, inv2, 180);
    EXPECT_EQ(responses_to(bob_, 180).size(), 2u);
    phone_answers(2, inv2, 200, "192.0.2.20:40000");
    ASSERT_EQ(responses_to(bob_, 200).size(), 1u);
    EXPECT_EQ(responses_to(bob_, 200)[0]->data.find("192.0.2.20"), std::string::npos)
        << "the answer leaves masqueraded";
    EXPECT_EQ(last_start().inside_peer, test::addr("192.0.2.20:40000"));
    // The phone that lost rang: it gets CANCEL on its own branch.
    ASSERT_EQ(requests_to(phone1_, "CANCEL").size(), 1u);
    EXPECT_EQ(top_branch(requests_to(phone1_, "CANCEL")[0]->data), top_branch(inv1));
    EXPECT_TRUE(requests_to(phone2_, "CANCEL").empty());
    phone_answers(1, inv1, 487);
    EXPECT_EQ(requests_to(phone1_, "ACK").size(), 1u);
    EXPECT_TRUE(responses_to(bob_, 487).empty());
    ASSERT_EQ(proxy_.calls().size(), 1u);
    const Call& call = proxy_.calls().begin()->second;
    EXPECT_TRUE(call.established);
    EXPECT_EQ(call.to_tag, "two");
    EXPECT_EQ(call.inside_addr, phone2_);
    EXPECT_TRUE(media_.stops.empty());
}

// A phone that rings only after the other answered is cancelled then, and
// its 180 does not reach the caller after the 200 (nor replace the 200 a
// retransmitted INVITE gets again).
TEST_F(ForkingTest, ARingAfterTheAnswerIsCancelledAndGoesNowhere) {
    register_two_phones();
    const auto [inv1, inv2] = ring_both();
    phone_answers(2, inv2, 200, "192.0.2.20:40000");
    ASSERT_EQ(responses_to(bob_, 200).size(), 1u);
    EXPECT_TRUE(requests_to(phone1_, "CANCEL").empty()) << "phone 1 has not answered yet";
    phone_answers(1, inv1, 180);
    EXPECT_EQ(requests_to(phone1_, "CANCEL").size(), 1u);
    EXPECT_TRUE(responses_to(bob_, 180).empty());
    proxy_.handle_datagram(invite_from_bob(), Side::Outside, bob_, 1003);
    EXPECT_EQ(responses_to(bob_, 200).size(), 2u) << "the retransmission gets the 200 again";
    phone_answers(1, inv1, 487);
    EXPECT_TRUE(responses_to(bob_, 487).empty());
    EXPECT_EQ(proxy_.calls().size(), 1u);
}

// A branch that has not rung yet is cancelled when its first provisional
// comes (RFC 3261 §9.1), never before.
TEST_F(ForkingTest, CancelFromTheCallerReachesEveryBranch) {
    register_two_phones();
    const auto [inv1, inv2] = ring_both();
    phone_answers(1, inv1, 180);
    proxy_.handle_datagram(bob_cancel(), Side::Outside, bob_, 1002);
    EXPECT_EQ(responses_to(bob_, 200).size(), 1u) << "the CANCEL is answered";
    EXPECT_EQ(requests_to(phone1_, "CANCEL").size(), 1u);
    EXPECT_TRUE(requests_to(phone2_, "CANCEL").empty()) << "phone 2 has not answered yet";
    phone_answers(2, inv2, 100);
    ASSERT_EQ(requests_to(phone2_, "CANCEL").size(), 1u);
    EXPECT_EQ(top_branch(requests_to(phone2_, "CANCEL")[0]->data), top_branch(inv2));
    // One 487 is not the end: the caller hears once every branch has ended.
    phone_answers(1, inv1, 487);
    EXPECT_TRUE(responses_to(bob_, 487).empty());
    EXPECT_EQ(proxy_.calls().size(), 1u);
    phone_answers(2, inv2, 487);
    EXPECT_EQ(responses_to(bob_, 487).size(), 1u);
    EXPECT_EQ(requests_to(phone1_, "ACK").size(), 1u);
    EXPECT_EQ(requests_to(phone2_, "ACK").size(), 1u);
    EXPECT_TRUE(proxy_.calls().empty());
    EXPECT_EQ(media_.stops.size(), 1u);
}

// The response context: the lowest class once every branch answered, a
// 503 passed on as 500, a 6xx cancelling the branches still ringing.
TEST_F(ForkingTest, TheBestFinalAnswerGoesUpOnceEveryBranchEnded) {
    register_two_phones();
    auto [inv1, inv2] = ring_both();
    phone_answers(1, inv1, 503);
    EXPECT_TRUE(responses_to(bob_, 503).empty());
    phone_answers(2, inv2, 486);
    EXPECT_EQ(responses_to(bob_, 486).size(), 1u);
    EXPECT_TRUE(responses_to(bob_, 503).empty());
    EXPECT_TRUE(proxy_.calls().empty());

    // Both unavailable: 500, not 503.
    std::tie(inv1, inv2) = ring_both(2);
    phone_answers(1, inv1, 503);
    phone_answers(2, inv2, 503);
    EXPECT_TRUE(responses_to(bob_, 503).empty());
    EXPECT_EQ(responses_to(bob_, 500).size(), 1u);

    // A 603 from one phone: the other, ringing, is cancelled; its 487 does
    // not beat the 603.
    std::tie(inv1, inv2) = ring_both(3);
    phone_answers(2, inv2, 180);
    phone_answers(1, inv1, 603);
    EXPECT_EQ(requests_to(phone2_, "CANCEL").size(), 1u);
    EXPECT_TRUE(responses_to(bob_, 603).empty());
    phone_answers(2, inv2, 487);
    EXPECT_EQ(responses_to(bob_, 603).size(), 1u);
    EXPECT_TRUE(responses_to(bob_, 487).empty());
}

// Timer C runs per branch: a phone that rings for ever is cancelled and
// counts as a 408, while the other branch decides.
TEST_F(ForkingTest, TimerCEndsOneBranchOnly) {
    register_two_phones();
    const auto [inv1, inv2] = ring_both();
    phone_answers(1, inv1, 180);
    now_ms_ += 60000;
    phone_answers(2, inv2, 180);
    now_ms_ += kTimerCMs - 60000 + 1000;
    proxy_.run_timers();
    EXPECT_EQ(requests_to(phone1_, "CANCEL").size(), 1u);
    EXPECT_TRUE(requests_to(phone2_, "CANCEL").empty());
    EXPECT_TRUE(responses_to(bob_, 408).empty()) << "the other branch still rings";
    phone_answers(2, inv2, 200, "192.0.2.20:40000");
    EXPECT_EQ(responses_to(bob_, 200).size(), 1u);
    EXPECT_TRUE(responses_to(bob_, 408).empty());
}

// A provider forks downstream: each 183's SDP moves the early media to
// its fork; the 2xx (without SDP) brings it back to the fork that
// answered; a later 2xx of the other fork goes to the caller but leaves the
// media alone, and the caller's BYE for that dialog ends only that one.
TEST_F(ForkingTest, ForkedAnswersEachHaveTheirOwnMediaPeer) {
    const SockAddr alice = test::addr("192.0.2.10:5060");
    proxy_.handle_datagram(samples::invite_alice_to_bob(), Side::Inside, alice, 1000);
    ASSERT_EQ(requests_to(bob_, "INVITE").size(), 1u);
    const std::string inv = requests_to(bob_, "INVITE")[0]->data;
    const SockAddr fork_a = test::addr("203.0.113.50:3456");
    const SockAddr fork_b = test::addr("203.0.113.60:4000");
    proxy_.handle_datagram(answer(inv, 183, "forkA", "sip:bob@203.0.113.50", fork_a.to_string()),
                           Side::Outside, bob_, 1001);
    EXPECT_EQ(last_start().outside_peer, fork_a);
    proxy_.handle_datagram(answer(inv, 183, "forkB", "sip:bob@203.0.113.60", fork_b.to_string()),
                           Side::Outside, bob_, 1001);
    EXPECT_EQ(last_start().outside_peer, fork_b) << "early media from the fork that sent it";
    EXPECT_EQ(responses_to(alice, 183).size(), 2u);
    const uint32_t id = last_start().id;
    proxy_.handle_datagram(answer(inv, 200, "forkA", "sip:bob@203.0.113.50"), Side::Outside, bob_,
                           1002);
    EXPECT_EQ(last_start().outside_peer, fork_a) << "the media of the fork that answered";
    EXPECT_EQ(last_start().id, id) << "the same relay ports";
    ASSERT_EQ(responses_to(alice, 200).size(), 1u);
    const size_t starts = media_.starts.size();
    // The other fork answers too: alice hears of it (she ACKs and ends
    // it), its SDP names the relay, and the media stays with fork A.
    proxy_.handle_datagram(answer(inv, 200, "forkB", "sip:bob@203.0.113.60", fork_b.to_string()),
                           Side::Outside, bob_, 1003);
    ASSERT_EQ(responses_to(alice, 200).size(), 2u);
    const std::string late = responses_to(alice, 200)[1]->data;
    EXPECT_EQ(late.find("IN IP4 203.0.113.60"), std::string::npos) << late;
    EXPECT_NE(late.find("c=IN IP4 192.0.2.1"), std::string::npos) << late;
    for (size_t i = starts; i < media_.starts.size(); ++i)
        EXPECT_EQ(media_.starts[i].outside_peer, fork_a);
    ASSERT_EQ(proxy_.calls().size(), 1u);
    EXPECT_EQ(proxy_.calls().begin()->second.to_tag, "forkA");

    // alice's BYE of fork B's dialog goes out, and the call goes on.
    auto bye = [&](const char* tag, const char* branch) {
        return samples::crlf(std::string("BYE sip:bob@203.0.113.50:5060 SIP/2.0\n") +
                             "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=" + branch + R"(;rport
Max-Forwards: 70
Route: <sip:192.0.2.1:5060;lr>
To: Bob <sip:bob@203.0.113.50>;tag=)" +
                             tag + R"(
From: Alice <sip:alice@203.0.113.1>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 314160 BYE
Content-Length: 0

)");
    };
    proxy_.handle_datagram(bye("forkB", "z9hG4bKbyeB"), Side::Inside, alice, 1004);
    EXPECT_EQ(requests_to(bob_, "BYE").size(), 1u);
    EXPECT_EQ(proxy_.calls().size(), 1u);
    EXPECT_TRUE(media_.stops.empty());
    proxy_.handle_datagram(bye("forkA", "z9hG4bKbyeA"), Side::Inside, alice, 1005);
    EXPECT_EQ(requests_to(bob_, "BYE").size(), 2u);
    EXPECT_TRUE(proxy_.calls().empty());
    EXPECT_EQ(media_.stops.size(), 1u);
}

// A provider inventing to-tags gets no more than kMaxCallForks early
// dialogs of state.
TEST_F(ForkingTest, ForkStateIsBounded) {
    const SockAddr alice = test::addr("192.0.2.10:5060");
    proxy_.handle_datagram(samples::invite_alice_to_bob(), Side::Inside, alice, 1000);
    const std::string inv = requests_to(bob_, "INVITE")[0]->data;
    for (int i = 0; i < 200; ++i)
        proxy_.handle_datagram(answer(inv, 183, "tag" + std::to_string(i), "sip:bob@203.0.113.50",
                                      "203.0.113.50:" + std::to_string(4000 + 2 * i)),
                               Side::Outside, bob_, 1001);
    ASSERT_EQ(proxy_.calls().size(), 1u);
    EXPECT_EQ(proxy_.calls().begin()->second.forks.size(), kMaxCallForks);
    EXPECT_EQ(responses_to(alice, 183).size(), 200u);
}

TEST_F(ForkingTest, LongTagsGetNoForkState) {
    const SockAddr alice = test::addr("192.0.2.10:5060");
    proxy_.handle_datagram(samples::invite_alice_to_bob(), Side::Inside, alice, 1000);
    const std::string inv = requests_to(bob_, "INVITE")[0]->data;
    proxy_.handle_datagram(answer(inv, 180, "short", "sip:bob@203.0.113.50"), Side::Outside, bob_,
                           1001);
    for (int i = 0; i < 20; ++i)
        proxy_.handle_datagram(
            answer(inv, 180, std::to_string(i) + std::string(10000, 'x'), "sip:bob@203.0.113.50"),
            Side::Outside, bob_, 1001);
    ASSERT_EQ(proxy_.calls().size(), 1u);
    ASSERT_EQ(proxy_.calls().begin()->second.forks.size(), 1u);
    EXPECT_EQ(proxy_.calls().begin()->second.forks[0].tag, "short");
}

// rtpd answers later: a CANCEL while every branch waits for its relay
// ports ends the INVITE with one 487, and no branch goes out afterwards.
class SlowMedia : public MediaLink {
  public:
    std::vector<std::pair<MediaStart, Done>> waiting;
    [[nodiscard]] bool available() const override { return true; }
    void start(const MediaStart& r, Done done) override {
        waiting.emplace_back(r, std::move(done));
    }
    void stop(uint32_t /*id*/) override {}
    void answer_all() {
        auto all = std::move(waiting);
        waiting.clear();
        for (auto& [r, done] : all) {
            MediaResult res;
            res.ok = true;
            res.inside_local = r.inside_local;
            res.inside_local.set_port(30000);
            res.outside_local = r.outside_local;
            res.outside_local.set_port(30002);
            done(res);
        }
    }
};

TEST(ForkingSlowRelay, CancelBeforeAnyBranchWentOutEndsItOnce) {
    sip_parser_init();
    SlowMedia media;
    std::vector<Sent> sent;
    SipProxySettings settings = test::faq_proxy_settings();
    SipProxy proxy(settings, media, [&sent](Side side, const SockAddr& dest, std::string_view d) {
        sent.push_back({side, dest, std::string(d)});
    });
    const SockAddr bob = test::addr("203.0.113.50:5060");
    proxy.handle_datagram(samples::register_alice(), Side::Inside, test::addr("192.0.2.10:5060"),
                          1000);
    std::string second = samples::register_alice();
    second.replace(second.find("sip:alice@192.0.2.10:5060"), 25, "sip:alice@192.0.2.20:5060");
    second.replace(second.find("192.0.2.10:5060;branch"), 15, "192.0.2.20:5060");
    second.replace(second.find("a84b4c76e66710@192.0.2.10"), 25, "second-phone@192.0.2.20");
    proxy.handle_datagram(second, Side::Inside, test::addr("192.0.2.20:5060"), 1000);
    sent.clear();
    proxy.handle_datagram(samples::invite_bob_to_alice_public(), Side::Outside, bob, 1001);
    EXPECT_EQ(media.waiting.size(), 2u) << "one relay request per branch";
    std::string cancel = samples::invite_bob_to_alice_public();
    cancel = cancel.substr(0, cancel.find("Contact:"));
    cancel.replace(0, 6, "CANCEL");
    cancel.replace(cancel.find("CSeq: 1 INVITE"), 14, "CSeq: 1 CANCEL");
    proxy.handle_datagram(cancel + "Content-Length: 0\r\n\r\n", Side::Outside, bob, 1002);
    media.answer_all();
    size_t finals = 0;
    for (const Sent& s : sent) {
        EXPECT_EQ(s.dest, bob) << s.data;
        if (s.data.rfind("SIP/2.0 487 ", 0) == 0 || s.data.rfind("SIP/2.0 5", 0) == 0) ++finals;
    }
    EXPECT_EQ(finals, 1u);
    EXPECT_TRUE(proxy.calls().empty());
}

}  // namespace
}  // namespace sipmasq
