// An attacker on the outside network of the FAQ topology against the real
// daemon (sandbox as built): what can a packet from 203.0.113.0/24 make
// sipmasq send, to whom, and what state does it leave behind? Each test
// asserts the answer "only what a phone inside asked for, and a bounded
// amount". mallory is 203.0.113.66, added beside bob in the outside
// namespace.
#include <regex>
#include <thread>

#include "faq_fixture.h"

namespace sipmasq::test {
namespace {

class AttackTest : public FaqTest {
  protected:
    void SetUp() override {
        FaqTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        std::string o;
        ASSERT_EQ(sh("ip -n " + out_ + " addr add 203.0.113.66/24 dev vo0", &o), 0) << o;
        mallory_ = bind_ns(out_, "203.0.113.66", 5099);
        ASSERT_GE(mallory_, 0);
    }

    // The first datagram on `fd` within about `tries` x 300 ms, else "".
    static std::string receive_any(int fd, int tries = 3) {
        for (int i = 0; i < tries; ++i) {
            char buf[65536];
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0) return std::string(buf, static_cast<size_t>(n));
        }
        return "";
    }

    static std::string crlf(const std::string& text) {
        std::string out;
        for (char c : text) {
            if (c == '\n') out += '\r';
            out += c;
        }
        return out;
    }

    static std::string with_body(const std::string& head, const std::string& body) {
        const std::string b = crlf(body);
        return crlf(head) + "Content-Length: " + std::to_string(b.size()) + "\r\n\r\n" + b;
    }

    long sipd_rss_kb() {
        const std::string status = read_file("/proc/" + std::to_string(*sipd_) + "/status");
        std::smatch m;
        if (!std::regex_search(status, m, std::regex("VmRSS:\\s+([0-9]+) kB"))) return -1;
        return std::stol(m[1]);
    }

    std::string ctl_text(const std::string& what) {
        std::string out;
        (void)run_command({build_root() + "/ctl/sipmasqctl", "-s", dir_.file("control"), what},
                          out);
        return out;
    }

    int mallory_ = -1;
};

TEST_F(AttackTest, AForgedResponseReachesNoInsideHostAndOpensNoRelayPort) {
    register_phone("alice", "192.0.2.10");
    const int lan_host = bind_ns(in_, "192.0.2.20", 5070);
    ASSERT_GE(lan_host, 0);
    const size_t mark = daemon_.log_size();
    const std::string forged = with_body(R"(SIP/2.0 200 OK
Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKsmq0123456789abcdef01234567
Via: SIP/2.0/UDP 192.0.2.20:5070;branch=z9hG4bKvictim
To: <sip:alice@203.0.113.1>;tag=evil
From: <sip:m@203.0.113.66>;tag=evil2
Call-ID: forged@203.0.113.66
CSeq: 1 INVITE
Contact: <sip:m@203.0.113.66:5099>
Content-Type: application/sdp
)",
                                         "v=0\no=m 1 1 IN IP4 203.0.113.66\ns=-\n"
                                         "c=IN IP4 203.0.113.66\nt=0 0\nm=audio 4000 RTP/AVP 0\n");
    send_to(mallory_, "203.0.113.1", 5060, forged);
    EXPECT_EQ(receive_any(lan_host), "") << "a forged response reached an inside host";
    EXPECT_TRUE(daemon_.wait_for_log("security: forged-response from 203.0.113.66:5099", 3s, mark))
        << daemon_.log();
    EXPECT_FALSE(daemon_.wait_for_log("call start|START_FWD|forward [0-9]+", 200ms, mark));
    const std::string streams = ctl_text("streams");
    EXPECT_EQ(streams.find("203.0.113.66"), std::string::npos) << streams;
}

TEST_F(AttackTest, ReceivedAndRportInAViaNeverRedirectAnAnswer) {
    const int lan_host = bind_ns(in_, "192.0.2.20", 5070);
    ASSERT_GE(lan_host, 0);
    // A CSeq whose method is not the request's: sipmasq answers 400 itself.
    const std::string bad = crlf(R"(OPTIONS sip:alice@203.0.113.1 SIP/2.0
Via: SIP/2.0/UDP 203.0.113.66:5099;branch=z9hG4bKredirect;received=192.0.2.20;rport=5070
Max-Forwards: 70
To: <sip:alice@203.0.113.1>
From: <sip:m@203.0.113.66>;tag=1
Call-ID: redirect@203.0.113.66
CSeq: 1 INVITE
Content-Length: 0

)");
    send_to(mallory_, "203.0.113.1", 5060, bad);
    const std::string answer = receive_any(mallory_);
    EXPECT_EQ(answer.rfind("SIP/2.0 400 ", 0), 0u) << answer;
    EXPECT_NE(answer.find("received=203.0.113.66"), std::string::npos) << answer;
    EXPECT_EQ(receive_any(lan_host, 1), "") << "the answer was redirected inside";
}

TEST_F(AttackTest, AnSdpWithAHundredStreamsOpensNoForward) {
    register_phone("alice", "192.0.2.10");
    const int alice = bind_ns(in_, "192.0.2.10", 5060);
    ASSERT_GE(alice, 0);
    std::string sdp = "v=0\no=m 1 1 IN IP4 203.0.113.66\ns=-\nc=IN IP4 203.0.113.66\nt=0 0\n";
    for (int i = 0; i < 100; ++i) sdp += "m=audio " + std::to_string(4000 + 2 * i) + " RTP/AVP 0\n";
    const size_t mark = daemon_.log_size();
    send_to(mallory_, "203.0.113.1", 5060,
            with_body(R"(INVITE sip:alice@203.0.113.1 SIP/2.0
Via: SIP/2.0/UDP 203.0.113.66:5099;branch=z9hG4bKstreams
Max-Forwards: 70
To: <sip:alice@203.0.113.1>
From: <sip:m@203.0.113.66>;tag=1
Call-ID: streams@203.0.113.66
CSeq: 1 INVITE
Contact: <sip:m@203.0.113.66:5099>
Content-Type: application/sdp
)",
                      sdp));
    std::string answer;
    for (int i = 0; i < 3 && answer.rfind("SIP/2.0 488", 0) != 0; ++i)
        answer = receive_any(mallory_);
    EXPECT_EQ(answer.rfind("SIP/2.0 488 ", 0), 0u) << answer;
    EXPECT_TRUE(
        daemon_.wait_for_log("security: media-refused from 203.0.113.66:5099: 100 media "
                             "streams, at most 4",
                             2s, mark))
        << daemon_.log();
    EXPECT_EQ(receive_any(alice, 1), "") << "the INVITE reached alice";
    const std::string streams = ctl_text("streams");
    EXPECT_EQ(streams.find("streams@"), std::string::npos) << streams;
}

TEST_F(AttackTest, AHundredThousandMethodNamesLeaveSipdsMemoryFlat) {
    const long before = sipd_rss_kb();
    ASSERT_GT(before, 0);
    for (int i = 0; i < 100000; ++i) {
        const std::string n = std::to_string(i);
        send_to(mallory_, "203.0.113.1", 5060,
                "M" + n + " sip:alice@203.0.113.1 SIP/2.0\r\nVia: SIP/2.0/UDP " +
                    "203.0.113.66:5099;branch=z9hG4bKm" + n +
                    "\r\nMax-Forwards: 70\r\nTo: <sip:alice@203.0.113.1>\r\nFrom: "
                    "<sip:m@203.0.113.66>;tag=1\r\nCall-ID: m" +
                    n + "@x\r\nCSeq: 1 M" + n + "\r\nContent-Length: 0\r\n\r\n");
        if (i % 200 == 199) std::this_thread::sleep_for(2ms);  // paced: most are read
    }
    std::this_thread::sleep_for(500ms);
    const long after = sipd_rss_kb();
    // Transactions, statistics and log budgets are bounded: a few MB at most.
    EXPECT_LT(after - before, 8 * 1024) << before << " kB before, " << after << " kB after";
    const std::string stats = ctl_text("stats");
    EXPECT_NE(stats.find("other"), std::string::npos) << stats;
    EXPECT_EQ(stats.find("M99999"), std::string::npos) << stats;
}

TEST_F(AttackTest, AnInviteFloodFromOneSourceLeavesRoomForARealCall) {
    register_phone("alice", "192.0.2.10");
    register_phone("carol", "192.0.2.20");
    // carol never answers: each of mallory's INVITEs would ring forever.
    const int carol = bind_ns(in_, "192.0.2.20", 5060);
    ASSERT_GE(carol, 0);
    for (int i = 0; i < 300; ++i) {
        const std::string n = std::to_string(i);
        const std::string head =
            "INVITE sip:carol@203.0.113.1 SIP/2.0\n"
            "Via: SIP/2.0/UDP 203.0.113.66:5099;branch=z9hG4bKflood" +
            n + "\nMax-Forwards: 70\nTo: <sip:carol@203.0.113.1>\n" +
            "From: <sip:m@203.0.113.66>;tag=1\nCall-ID: flood" + n +
            "@203.0.113.66\nCSeq: 1 INVITE\n" + "Contact: <sip:m@203.0.113.66:5099>\n" +
            "Content-Type: application/sdp\n";
        const std::string sdp =
            "v=0\no=m 1 1 IN IP4 203.0.113.66\ns=-\nc=IN IP4 203.0.113.66\n"
            "t=0 0\nm=audio " +
            std::to_string(4000 + 2 * i) + " RTP/AVP 0\n";
        send_to(mallory_, "203.0.113.1", 5060, with_body(head, sdp));
        if (i % 50 == 49) std::this_thread::sleep_for(5ms);
    }
    EXPECT_TRUE(daemon_.wait_for_log("security: call-limit from 203.0.113.66", 3s))
        << daemon_.log();
    const std::string calls = ctl_text("calls");
    EXPECT_LE(std::count(calls.begin(), calls.end(), '\n'), 1 + 8) << calls;

    // bob calls alice meanwhile: relay ports, media both ways, BYE.
    MediaCall call;
    start_media_call(call, in_, "192.0.2.10", "3000",
                     "call start: .*Call-ID [^ ]*@203.0.113.10 .* relay ports "
                     "(inside [0-9]+ outside [0-9]+)");
    if (HasFatalFailure()) return;
    expect_media_both_ways(call, "1");
    expect_call_completed(call);
}

}  // namespace
}  // namespace sipmasq::test
