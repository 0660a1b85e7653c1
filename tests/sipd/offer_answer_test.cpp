// Offer/answer through SipProxy beyond INVITE/200: a=rtcp and a=rtcp-mux
// (RFC 3605, 5761), re-INVITE adding and removing a stream, the delayed
// offer of RFC 3264 (offer in the 2xx, answer in the ACK), and PRACK /
// UPDATE outside a dialog (RFC 3262, 3311).
#include <gtest/gtest.h>

#include "osip_ptr.h"
#include "proxy_fixture.h"
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

constexpr const char* kDialog = R"(To: Bob <sip:bob@203.0.113.50>;tag=a6c85cf
From: Alice <sip:alice@203.0.113.1>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
)";

std::string alice_sdp(const std::string& media) {
    return samples::crlf("v=0\no=alice 1 2 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\n" +
                         media);
}

std::string bob_sdp(const std::string& media) {
    return samples::crlf("v=0\no=bob 1 2 IN IP4 203.0.113.50\ns=-\nc=IN IP4 203.0.113.50\nt=0 0\n" +
                         media);
}

class OfferAnswerTest : public ::testing::Test {
  protected:
    OfferAnswerTest()
        : proxy_(test::faq_proxy_settings(), media_,
                 [this](Side side, const SockAddr& dest, std::string_view d) {
                     if (d.rfind("SIP/2.0 100 ", 0) != 0)
                         sent_.push_back({side, dest, std::string(d)});
                 }) {
        sip_parser_init();
        samples::unique_branches = true;
    }

    // alice's request in the dialog (INVITE, ACK, UPDATE, PRACK), routed
    // through us to bob.
    void from_alice(const std::string& method, int cseq, const std::string& sdp,
                    bool initial = false) {
        std::string head = method + " sip:bob@203.0.113.50:5060 SIP/2.0\n" +
                           "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK" + method +
                           std::to_string(cseq) + ";rport\nMax-Forwards: 70\n";
        if (initial)
            head +=
                "To: Bob <sip:bob@203.0.113.50>\nFrom: Alice <sip:alice@203.0.113.1>;"
                "tag=1928301774\nCall-ID: a84b4c76e66710@pc33.example.com\n";
        else
            head += std::string("Route: <sip:192.0.2.1:5060;lr>, <sip:203.0.113.1:5060;lr>\n") +
                    kDialog;
        head += "CSeq: " + std::to_string(cseq) + " " + method +
                "\nContact: <sip:alice@192.0.2.10:5060>\n";
        if (!sdp.empty()) head += "Content-Type: application/sdp\n";
        proxy_.handle_datagram(with_body(head, sdp), Side::Inside, alice_, 1000);
    }
    // bob's answer to what we sent him last.
    void from_bob(int code, const std::string& method, int cseq, const std::string& sdp) {
        auto fwd = parse_sip_message(sent_.back().data);
        ASSERT_NE(fwd, nullptr);
        std::string text = "SIP/2.0 " + std::to_string(code) + " X\n";
        for (int i = 0; i < osip_list_size(&fwd->vias); ++i) {
            char* v = nullptr;
            ASSERT_EQ(osip_via_to_str(static_cast<osip_via_t*>(osip_list_get(&fwd->vias, i)), &v),
                      0);
            text += std::string("Via: ") + v + "\n";
            osip_free(v);
        }
        text += std::string("Record-Route: <sip:203.0.113.1:5060;lr>, <sip:192.0.2.1:5060;lr>\n") +
                kDialog + "CSeq: " + std::to_string(cseq) + " " + method +
                "\nContact: <sip:bob@203.0.113.50:5060>\n";
        if (!sdp.empty()) text += "Content-Type: application/sdp\n";
        proxy_.handle_datagram(with_body(text, sdp), Side::Outside, bob_, 1001);
    }
    const std::string& last() const { return sent_.back().data; }

    test::FakeMedia media_;
    std::vector<Sent> sent_;
    SipProxy proxy_;
    const SockAddr alice_ = test::addr("192.0.2.10:5060");
    const SockAddr bob_ = test::addr("203.0.113.50:5060");
};

// a=rtcp reaches rtpd as the peer's RTCP port and names our own RTCP port
// on each leg; a=rtcp-mux offered and answered puts both legs on mux, and
// the a=rtcp then names our RTP port.
TEST_F(OfferAnswerTest, RtcpPortAndRtcpMuxReachRtpdAndEachLegSeesOurPorts) {
    from_alice("INVITE", 1, alice_sdp("m=audio 49170 RTP/AVP 0\na=rtcp:49175\na=rtcp-mux\n"), true);
    ASSERT_EQ(media_.starts.size(), 1u);
    EXPECT_EQ(media_.starts[0].inside_rtcp_port, 49175);
    EXPECT_FALSE(media_.starts[0].inside_mux);  // offered, not answered yet
    EXPECT_NE(last().find("a=rtcp:30003\r\n"), std::string::npos) << last();
    EXPECT_NE(last().find("a=rtcp-mux"), std::string::npos) << last();

    from_bob(200, "INVITE", 1, bob_sdp("m=audio 3456 RTP/AVP 0\na=rtcp-mux\na=rtcp:3456\n"));
    ASSERT_EQ(media_.starts.size(), 2u);
    const MediaStart& s = media_.starts[1];
    EXPECT_EQ(s.id, media_.starts[0].id);
    EXPECT_EQ(s.outside_rtcp_port, 3456);
    EXPECT_EQ(s.inside_rtcp_port, 49175);
    EXPECT_TRUE(s.inside_mux);
    EXPECT_TRUE(s.outside_mux);
    EXPECT_EQ(sent_.back().dest, alice_);
    EXPECT_NE(last().find("a=rtcp:30000\r\n"), std::string::npos) << last();
    EXPECT_NE(last().find("a=rtcp-mux"), std::string::npos) << last();
    // What rtpd is asked again after its restart keeps both.
    const auto again = proxy_.active_forwards();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_TRUE(again[0].inside_mux && again[0].outside_mux);
    EXPECT_EQ(again[0].outside_rtcp_port, 3456);
}

// An answer with a=rtcp-mux to an offer without it: no mux on either leg,
// and the offerer never sees the attribute it did not ask for.
TEST_F(OfferAnswerTest, RtcpMuxOnlyInTheAnswerIsStripped) {
    from_alice("INVITE", 1, alice_sdp("m=audio 49170 RTP/AVP 0\n"), true);
    from_bob(200, "INVITE", 1, bob_sdp("m=audio 3456 RTP/AVP 0\na=rtcp-mux\n"));
    ASSERT_EQ(media_.starts.size(), 2u);
    EXPECT_FALSE(media_.starts[1].inside_mux);
    EXPECT_FALSE(media_.starts[1].outside_mux);
    EXPECT_EQ(media_.starts[1].outside_rtcp_port, 0);  // none announced: RTP + 1
    EXPECT_EQ(last().find("a=rtcp-mux"), std::string::npos) << last();
}

TEST_F(OfferAnswerTest, AnRtcpPortOfZeroIsRefused) {
    from_alice("INVITE", 1, alice_sdp("m=audio 49170 RTP/AVP 0\na=rtcp:0\n"), true);
    EXPECT_TRUE(media_.starts.empty());
    ASSERT_FALSE(sent_.empty());
    EXPECT_EQ(last().rfind("SIP/2.0 488 ", 0), 0u) << last();
}

// Removed streams stay as port-0 lines, but not without bound: forty m=
// lines are refused even with one stream active.
TEST_F(OfferAnswerTest, AnSdpWithTooManyMediaLinesIsRefused) {
    std::string media = "m=audio 49170 RTP/AVP 0\n";
    for (int i = 0; i < 39; ++i) media += "m=audio 0 RTP/AVP 0\n";
    from_alice("INVITE", 1, alice_sdp(media), true);
    EXPECT_TRUE(media_.starts.empty());
    ASSERT_FALSE(sent_.empty());
    EXPECT_EQ(last().rfind("SIP/2.0 488 ", 0), 0u) << last();
    EXPECT_TRUE(proxy_.calls().empty());
}

// RFC 3264 §5: no offer in the INVITE, the offer in the 2xx, the answer in
// the ACK, which settles rtcp-mux.
TEST_F(OfferAnswerTest, DelayedOfferIsAnsweredInTheAck) {
    from_alice("INVITE", 1, "", true);
    EXPECT_TRUE(media_.starts.empty());
    from_bob(200, "INVITE", 1, bob_sdp("m=audio 3456 RTP/AVP 0\na=rtcp-mux\n"));
    ASSERT_EQ(media_.starts.size(), 1u);
    EXPECT_EQ(media_.starts[0].outside_peer, test::addr("203.0.113.50:3456"));
    EXPECT_FALSE(media_.starts[0].outside_mux);  // an offer
    EXPECT_NE(last().find("m=audio 30000 "), std::string::npos) << last();
    from_alice("ACK", 1, alice_sdp("m=audio 49170 RTP/AVP 0\na=rtcp-mux\n"));
    ASSERT_EQ(media_.starts.size(), 2u);
    EXPECT_EQ(media_.starts[1].id, media_.starts[0].id);
    EXPECT_EQ(media_.starts[1].inside_peer, test::addr("192.0.2.10:49170"));
    EXPECT_EQ(media_.starts[1].inside_port, 30000);  // the ports stay
    EXPECT_TRUE(media_.starts[1].inside_mux && media_.starts[1].outside_mux);
    EXPECT_EQ(sent_.back().dest, bob_);
    EXPECT_NE(last().find("m=audio 30002 "), std::string::npos) << last();
    EXPECT_NE(last().find("a=rtcp-mux"), std::string::npos) << last();
}

// A re-INVITE that adds video gets a second forward and keeps the audio
// ports; one that sets the video port to 0 ends its forward.
TEST_F(OfferAnswerTest, ReInviteAddsAndRemovesAStreamKeepingTheAudioPorts) {
    from_alice("INVITE", 1, alice_sdp("m=audio 49170 RTP/AVP 0\n"), true);
    from_bob(200, "INVITE", 1, bob_sdp("m=audio 3456 RTP/AVP 0\n"));
    from_alice("ACK", 1, "");
    const uint32_t audio = media_.starts[0].id;
    media_.starts.clear();

    from_alice("INVITE", 2, alice_sdp("m=audio 49170 RTP/AVP 8\nm=video 49180 RTP/AVP 96\n"));
    ASSERT_EQ(media_.starts.size(), 2u);
    EXPECT_EQ(media_.starts[0].id, audio);
    EXPECT_EQ(media_.starts[0].inside_port, 30000);
    EXPECT_EQ(media_.starts[0].outside_port, 30002);
    EXPECT_NE(media_.starts[1].id, audio);
    EXPECT_EQ(media_.starts[1].inside_port, 0);  // a new stream: new ports
    const uint32_t video = media_.starts[1].id;
    from_bob(200, "INVITE", 2, bob_sdp("m=audio 3456 RTP/AVP 8\nm=video 3458 RTP/AVP 96\n"));
    from_alice("ACK", 2, "");
    ASSERT_EQ(proxy_.active_forwards().size(), 2u);

    from_alice("INVITE", 3, alice_sdp("m=audio 49170 RTP/AVP 8\nm=video 0 RTP/AVP 96\n"));
    ASSERT_EQ(media_.stops.size(), 1u);
    EXPECT_EQ(media_.stops[0], video);
    EXPECT_NE(last().find("m=video 0 "), std::string::npos) << last();
    from_bob(200, "INVITE", 3, bob_sdp("m=audio 3456 RTP/AVP 8\nm=video 0 RTP/AVP 96\n"));
    ASSERT_EQ(proxy_.active_forwards().size(), 1u);
    EXPECT_EQ(proxy_.active_forwards()[0].id, audio);
}

// RFC 3262 / 3311: PRACK and UPDATE exist only inside an INVITE dialog;
// outside one (no call, or other tags) they get 481 and go nowhere.
TEST_F(OfferAnswerTest, PrackAndUpdateOutsideADialogGet481) {
    const std::string stray = with_body(R"(UPDATE sip:alice@203.0.113.1 SIP/2.0
Via: SIP/2.0/UDP 203.0.113.66:5060;branch=z9hG4bKstray1
Max-Forwards: 70
To: <sip:alice@203.0.113.1>;tag=x1
From: <sip:m@203.0.113.66>;tag=y1
Call-ID: no-such-call@203.0.113.66
CSeq: 5 UPDATE
Content-Type: application/sdp
)",
                                        bob_sdp("m=audio 4000 RTP/AVP 0\n"));
    proxy_.handle_datagram(stray, Side::Outside, test::addr("203.0.113.66:5060"), 1000);
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].data.rfind("SIP/2.0 481 ", 0), 0u) << sent_[0].data;
    EXPECT_TRUE(media_.starts.empty());

    from_alice("INVITE", 1, alice_sdp("m=audio 49170 RTP/AVP 0\n"), true);
    const size_t before = sent_.size();
    std::string prack = with_body(R"(PRACK sip:alice@203.0.113.1 SIP/2.0
Via: SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bKprack9
Max-Forwards: 70
To: Alice <sip:alice@203.0.113.1>;tag=1928301774
From: Bob <sip:bob@203.0.113.50>;tag=not-the-callee
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 2 PRACK
RAck: 1 1 INVITE
)",
                                  "");
    proxy_.handle_datagram(prack, Side::Outside, bob_, 1000);
    ASSERT_EQ(sent_.size(), before + 1);
    EXPECT_EQ(last().rfind("SIP/2.0 481 ", 0), 0u) << last();
    EXPECT_EQ(sent_.back().dest, bob_);
    EXPECT_EQ(media_.starts.size(), 1u);
}

// A re-INVITE whose tags are not the call's moves none of its streams.
TEST_F(OfferAnswerTest, AReInviteOfAnotherDialogGets481AndMovesNoStream) {
    from_alice("INVITE", 1, alice_sdp("m=audio 49170 RTP/AVP 0\n"), true);
    from_bob(200, "INVITE", 1, bob_sdp("m=audio 3456 RTP/AVP 0\n"));
    from_alice("ACK", 1, "");
    const size_t starts = media_.starts.size();
    // Routed like alice's own re-INVITE, but with tags of no dialog here.
    const std::string forged = with_body(R"(INVITE sip:bob@203.0.113.50:5060 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKforged1;rport
Max-Forwards: 70
Route: <sip:192.0.2.1:5060;lr>, <sip:203.0.113.1:5060;lr>
To: Bob <sip:bob@203.0.113.50>;tag=a6c85cf
From: Alice <sip:alice@203.0.113.1>;tag=someone-else
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 7 INVITE
Content-Type: application/sdp
)",
                                         alice_sdp("m=audio 6666 RTP/AVP 0\n"));
    proxy_.handle_datagram(forged, Side::Inside, alice_, 1002);
    EXPECT_EQ(last().rfind("SIP/2.0 481 ", 0), 0u) << last();
    EXPECT_EQ(media_.starts.size(), starts);
    EXPECT_EQ(sent_.back().dest, alice_);
    EXPECT_EQ(proxy_.active_forwards()[0].inside_peer, test::addr("192.0.2.10:49170"));
}

}  // namespace
}  // namespace sipmasq
