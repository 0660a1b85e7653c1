// Forking through the real daemon in the FAQ namespaces, SIPp as the
// phones and the provider: a provider that forks (two 183s with their own
// to-tags and media, then a 200 from one of them: early media follows the
// fork that sent its SDP last, then the one that answered), and sipmasq
// forking a call to both phones of one AOR (CANCEL reaches both; when one
// answers the other is cancelled and the media goes to the one that did).
#include <regex>

#include "faq_fixture.h"

namespace sipmasq::test {
namespace {

using namespace std::chrono_literals;

class FaqForkingTest : public FaqTest {
  protected:
    // RTP through the relay until one datagram gets to `to_fd`, for as long
    // as a SIPp scenario may take to move the media there (bounded).
    static std::string reach(int from_fd, const std::string& ip, uint16_t port, int to_fd,
                             const std::string& tag) {
        for (int i = 0; i < 3; ++i) {
            const std::string src = relay_once(from_fd, ip, port, to_fd, tag);
            if (!src.empty()) return src;
        }
        return "";
    }

    std::pair<uint16_t, uint16_t> relay_ports(size_t mark) {
        const auto line = daemon_.wait_for_log(
            "call start: .* relay ports (inside [0-9]+ outside [0-9]+)", 8s, mark);
        if (!line) require_relay(mark);
        EXPECT_TRUE(line.has_value()) << daemon_.log();
        std::smatch m;
        if (!line || !std::regex_search(*line, m, std::regex("inside ([0-9]+) outside ([0-9]+)")))
            return {0, 0};
        return {static_cast<uint16_t>(std::stoi(m[1])), static_cast<uint16_t>(std::stoi(m[2]))};
    }
};

TEST_F(FaqForkingTest, ProviderForksAndEarlyMediaFollowsEachForkThenTheWinner) {
    const int alice = bind_ns(in_, "192.0.2.10", 40000);
    const int fork_a = bind_ns(out_, "203.0.113.10", 40002);
    const int fork_b = bind_ns(out_, "203.0.113.10", 40004);
    ASSERT_GE(alice, 0);
    ASSERT_GE(fork_a, 0);
    ASSERT_GE(fork_b, 0);
    const pid_t provider =
        sipp_background(out_, "uas_fork.xml", "203.0.113.10",
                        {"-p", "5060", "-key", "rtp_port", "40002", "-key", "fork_port", "40004"});
    const std::string provider_msg = bg_msg_;
    const size_t mark = daemon_.log_size();
    const auto args = sipp_args(
        in_, "call_uac_early.xml", "192.0.2.10", "192.0.2.1:5060",
        {"-p", "5062", "-s", "bob", "-key", "target", "203.0.113.10", "-key", "from_user", "alice",
         "-key", "from_domain", "203.0.113.1", "-key", "rtp_port", "40000", "-d", "1500"});
    const std::string caller_msg = last_msg_;
    const pid_t caller = spawn_process(args, dir_.file("caller.out"));
    background_.push_back(caller);
    const auto [in_port, out_port] = relay_ports(mark);
    ASSERT_NE(in_port, 0);
    const std::string relay_out = "203.0.113.1:" + std::to_string(out_port);
    // Fork A's 183: alice's early media reaches fork A.
    EXPECT_EQ(relay_once(alice, "192.0.2.1", in_port, fork_a, "early-a"), relay_out);
    // Fork B's 183 (SIPp sends it 2 s later) moves it to fork B.
    EXPECT_EQ(reach(alice, "192.0.2.1", in_port, fork_b, "early-b"), relay_out);
    // Fork A's 200 (2 s later again): the media goes to A, both ways.
    EXPECT_EQ(reach(alice, "192.0.2.1", in_port, fork_a, "answer-a"), relay_out);
    EXPECT_EQ(relay_once(fork_a, "203.0.113.1", out_port, alice, "back-a"),
              "192.0.2.1:" + std::to_string(in_port));
    // The 200 brought back the peer kept for fork A's tag (before its SDP
    // was even looked at).
    EXPECT_TRUE(
        daemon_.wait_for_log("media of stream 0 back to the answering fork forkA", 1s, mark))
        << daemon_.log();
    EXPECT_TRUE(background_ok(caller)) << read_file(caller_msg) << daemon_.log();
    EXPECT_TRUE(background_ok(provider)) << read_file(provider_msg);
    // alice heard of both forks.
    const std::string heard = read_file(caller_msg);
    EXPECT_NE(heard.find(";tag=forkA"), std::string::npos) << heard;
    EXPECT_NE(heard.find(";tag=forkB"), std::string::npos) << heard;
}

TEST_F(FaqForkingTest, BothPhonesOfAnAorRingCancelReachesBothAndTheFirstAnswerWins) {
    register_phone("alice", "192.0.2.10");
    register_phone("alice", "192.0.2.20");

    // bob gives up while both ring: each phone gets CANCEL and answers 487.
    pid_t one = sipp_background(in_, "uas_ring_cancel.xml", "192.0.2.10", {"-p", "5060"});
    std::string one_msg = bg_msg_;
    const pid_t two = sipp_background(in_, "uas_ring_cancel.xml", "192.0.2.20", {"-p", "5060"});
    const std::string two_msg = bg_msg_;
    std::string log;
    EXPECT_TRUE(
        sipp(out_, "call_uac_cancel.xml", "203.0.113.10", "203.0.113.1:5060",
             {"-p", "5062", "-s", "alice", "-key", "target", "203.0.113.1", "-key", "from_user",
              "bob", "-key", "from_domain", "203.0.113.10", "-key", "rtp_port", "40002"},
             &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(one)) << read_file(one_msg) << daemon_.log();
    EXPECT_TRUE(background_ok(two)) << read_file(two_msg);
    EXPECT_NE(read_file(one_msg).find("CANCEL sip:alice@192.0.2.10:5060"), std::string::npos);
    EXPECT_NE(read_file(two_msg).find("CANCEL sip:alice@192.0.2.20:5060"), std::string::npos);
    EXPECT_TRUE(daemon_.wait_for_log("call end: .* \\(final response 487\\)", 5s)) << daemon_.log();

    // bob calls again: the phone at .10 answers, the one at .20 (ringing)
    // is cancelled, and the media flows between bob and the one that answered.
    one = sipp_background(in_, "uas_ring_cancel.xml", "192.0.2.20", {"-p", "5060"});
    one_msg = bg_msg_;
    MediaCall call;
    start_media_call(call, in_, "192.0.2.10", "1500");
    expect_media_both_ways(call, "fork");
    expect_call_completed(call);
    EXPECT_TRUE(background_ok(one)) << read_file(one_msg) << daemon_.log();
    EXPECT_NE(read_file(one_msg).find("CANCEL sip:alice@192.0.2.20:5060"), std::string::npos);
    EXPECT_TRUE(daemon_.wait_for_log("call start: .* inside 192\\.0\\.2\\.10:5060", 1s))
        << daemon_.log();
}

}  // namespace
}  // namespace sipmasq::test
