// Offer/answer wherever it happens, end to end with SIPp phones: early
// media in a reliable 183 and PRACK, UPDATE, re-INVITEs (hold with
// sendonly and with c=0.0.0.0, resume with another codec, a video stream
// added and removed, T.38), the offer in a 2xx answered in the ACK, the
// offer in a 183 answered in the PRACK; and RTCP: a=rtcp (RFC 3605) and
// a=rtcp-mux (RFC 5761). After each step media crosses both ways on the
// relay ports of the call's start: they never move. Two daemon starts.
#include "faq_fixture.h"

namespace sipmasq::test {
namespace {

// How long SIPp waits after each step while the test sends media.
const std::string kStepPause = "2000";

class OfferAnswerTest : public FaqTest {
  protected:
    OfferAnswerTest() { sipp_timeout_ = "60s"; }  // eleven steps in one call
    // SIPp touches [marker]<step> when it reached a step (oa_*.xml).
    bool reached(const std::string& step) {
        for (int i = 0; i < 200; ++i) {
            if (std::filesystem::exists(marker_ + step)) return true;
            std::this_thread::sleep_for(50ms);
        }
        return false;
    }
    void media_after(const MediaCall& call, const std::string& step) {
        SCOPED_TRACE("media after " + step);
        expect_media_both_ways(call, step);
    }
    uint16_t port_plus1(uint16_t p) { return static_cast<uint16_t>(p + 1); }
    // The relay ports of a call's start line after `mark`.
    void relay_ports(size_t mark, MediaCall& call) {
        const auto line = daemon_.wait_for_log(
            "call start: .* relay ports (inside [0-9]+ outside [0-9]+)", 10s, mark);
        ASSERT_TRUE(line.has_value()) << daemon_.log();
        std::smatch m;
        ASSERT_TRUE(std::regex_search(*line, m, std::regex("inside ([0-9]+) outside ([0-9]+)")));
        call.in_port = static_cast<uint16_t>(std::stoi(m[1]));
        call.out_port = static_cast<uint16_t>(std::stoi(m[2]));
    }
    std::string ctl_text(const std::string& what) {
        std::string out;
        (void)run_command({build_root() + "/ctl/sipmasqctl", "-s", dir_.file("control"), what},
                          out);
        return out;
    }

    std::string marker_ = dir_.file("mark-");
};

// bob (outside) calls alice (inside), who answers in a reliable 183; then
// UPDATE, the 200, six re-INVITEs and one without an offer (oa_caller.xml).
TEST_F(OfferAnswerTest, EveryOfferAndAnswerKeepsTheRelayPortsAndMediaFlowsAfterIt) {
    register_phone("alice", "192.0.2.10");
    // alice: RTP 40000 (RTCP 40001), then 40010, video 40016; bob: RTP
    // 40002 with RTCP announced at 40007, then 40012, video 40014.
    const int alice1 = bind_ns(in_, "192.0.2.10", 40000);
    const int alice1_rtcp = bind_ns(in_, "192.0.2.10", 40001);
    const int alice2 = bind_ns(in_, "192.0.2.10", 40010);
    const int alice_video = bind_ns(in_, "192.0.2.10", 40016);
    const int bob1 = bind_ns(out_, "203.0.113.10", 40002);
    const int bob_rtcp = bind_ns(out_, "203.0.113.10", 40007);
    const int bob2 = bind_ns(out_, "203.0.113.10", 40012);
    const int bob_video = bind_ns(out_, "203.0.113.10", 40014);
    for (int fd : {alice1, alice1_rtcp, alice2, alice_video, bob1, bob_rtcp, bob2, bob_video})
        ASSERT_GE(fd, 0);

    MediaCall call;
    call.callee = sipp_background(in_, "oa_callee.xml", "192.0.2.10",
                                  {"-p", "5060", "-key", "marker", marker_, "-d", kStepPause});
    call.callee_msg = bg_msg_;
    const size_t mark = daemon_.log_size();
    const auto args = sipp_args(
        out_, "oa_caller.xml", "203.0.113.10", "203.0.113.1:5060",
        {"-p", "5062", "-s", "alice", "-key", "target", "203.0.113.1", "-key", "from_user", "bob",
         "-key", "from_domain", "203.0.113.10", "-key", "marker", marker_, "-d", kStepPause});
    call.caller_msg = last_msg_;
    call.caller = spawn_process(args, dir_.file("caller.out"));
    background_.push_back(call.caller);
    relay_ports(mark, call);
    if (HasFatalFailure()) return;

    // Early media: the 183's answer is relayed before any 200.
    call.phone = alice1;
    call.remote = bob1;
    ASSERT_TRUE(reached("early")) << read_file(call.caller_msg) << daemon_.log();
    media_after(call, "early");
    // a=rtcp:40007: bob's RTCP goes there (not to 40003), from our RTCP port.
    EXPECT_EQ(relay_once(alice1_rtcp, "192.0.2.1", port_plus1(call.in_port), bob_rtcp, "rtcp-out"),
              "203.0.113.1:" + std::to_string(port_plus1(call.out_port)));
    EXPECT_EQ(
        relay_once(bob_rtcp, "203.0.113.1", port_plus1(call.out_port), alice1_rtcp, "rtcp-in"),
        "192.0.2.1:" + std::to_string(port_plus1(call.in_port)));

    // UPDATE moved both phones to new ports; the relay ports stay.
    call.phone = alice2;
    call.remote = bob2;
    for (const char* step : {"update", "answered", "hold", "hold0", "resume"}) {
        ASSERT_TRUE(reached(step)) << step << read_file(call.caller_msg) << daemon_.log();
        media_after(call, step);
    }

    // Video added: a second stream on its own relay ports, audio unchanged.
    ASSERT_TRUE(reached("video")) << read_file(call.caller_msg) << daemon_.log();
    media_after(call, "video-audio");
    const std::string calls = ctl_text("calls");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(calls, m,
                                  std::regex(std::to_string(call.in_port) + "/" +
                                             std::to_string(call.out_port) + " ([0-9]+)/([0-9]+)")))
        << calls;
    MediaCall video = call;
    video.in_port = static_cast<uint16_t>(std::stoi(m[1]));
    video.out_port = static_cast<uint16_t>(std::stoi(m[2]));
    video.phone = alice_video;
    video.remote = bob_video;
    media_after(video, "video");

    // Video removed (port 0): its forward ends, audio goes on.
    ASSERT_TRUE(reached("novideo")) << read_file(call.caller_msg) << daemon_.log();
    EXPECT_TRUE(daemon_.wait_for_log("stream 1 removed", 2s, mark)) << daemon_.log();
    media_after(call, "novideo");
    send_to(alice_video, "192.0.2.1", video.in_port, "video-gone");
    EXPECT_EQ(receive_from(bob_video, "video-gone"), "");

    // T.38: m=image udptl on the same relay ports.
    ASSERT_TRUE(reached("t38")) << read_file(call.caller_msg) << daemon_.log();
    media_after(call, "udptl");

    // A re-INVITE without SDP: alice offers 40000 in the 200, bob answers
    // 40002 in the ACK.
    call.phone = alice1;
    call.remote = bob1;
    ASSERT_TRUE(reached("delayed")) << read_file(call.caller_msg) << daemon_.log();
    media_after(call, "delayed");
    expect_call_completed(call);
}

// alice (inside) calls bob without an offer: bob offers in a reliable 183
// with a=rtcp-mux, alice answers in the PRACK with it. RTCP then shares the
// RTP ports both ways, and no RTCP port is bound on either leg.
TEST_F(OfferAnswerTest, OfferInAReliable183AnsweredInThePrackWithRtcpMux) {
    const int alice = bind_ns(in_, "192.0.2.10", 40020);
    const int bob = bind_ns(out_, "203.0.113.10", 40022);
    ASSERT_GE(alice, 0);
    ASSERT_GE(bob, 0);
    MediaCall call;
    call.callee = sipp_background(out_, "oa_prack_callee.xml", "203.0.113.10",
                                  {"-p", "5060", "-d", kStepPause});
    call.callee_msg = bg_msg_;
    const size_t mark = daemon_.log_size();
    const auto args =
        sipp_args(in_, "oa_prack_caller.xml", "192.0.2.10", "192.0.2.1:5060",
                  {"-p", "5062", "-s", "bob", "-key", "target", "203.0.113.10", "-key", "from_user",
                   "alice", "-key", "from_domain", "203.0.113.1", "-key", "marker", marker_});
    call.caller_msg = last_msg_;
    call.caller = spawn_process(args, dir_.file("caller.out"));
    background_.push_back(call.caller);
    relay_ports(mark, call);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(reached("prack")) << read_file(call.caller_msg) << daemon_.log();
    call.phone = alice;
    call.remote = bob;
    media_after(call, "mux");
    // RTCP sender reports (PT 200) on the RTP ports.
    const std::string sr_out("\x80\xc8\x00\x06sr-out", 10);
    const std::string sr_in("\x80\xc8\x00\x06sr-in", 9);
    EXPECT_EQ(relay_once(alice, "192.0.2.1", call.in_port, bob, sr_out),
              "203.0.113.1:" + std::to_string(call.out_port));
    EXPECT_EQ(relay_once(bob, "203.0.113.1", call.out_port, alice, sr_in),
              "192.0.2.1:" + std::to_string(call.in_port));
    // Neither leg holds its RTCP port: the test can bind both.
    EXPECT_GE(bind_ns(fw_, "192.0.2.1", port_plus1(call.in_port)), 0);
    EXPECT_GE(bind_ns(fw_, "203.0.113.1", port_plus1(call.out_port)), 0);
    expect_call_completed(call);
}

}  // namespace
}  // namespace sipmasq::test
