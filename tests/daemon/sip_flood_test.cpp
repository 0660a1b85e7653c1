// The real daemon under a burst of garbage and truncated SIP on both of its
// SIP sockets: sipd must not crash or restart, a registration made before
// must still route a call in, the security log must stay rate-limited, and
// neither the parent (which writes sipd's log lines) nor sipd may grow.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <regex>
#include <string>
#include <string_view>
#include <thread>

#include "daemon_harness.h"
#include "udp_peer.h"

namespace sipmasq::test {
namespace {

using namespace std::chrono_literals;

// Resident set size in kB, from /proc/<pid>/status; -1 when unreadable.
long rss_kb(pid_t pid) {
    std::ifstream st("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(st, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

size_t count_matches(const std::string& text, const std::regex& re) {
    return static_cast<size_t>(
        std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

struct LogCounts {
    size_t debug = 0;       // "debug:" lines of the daemon
    size_t osip_trace = 0;  // libosip2's own trace on a child's stdio ("| ERROR | ...")
    size_t other = 0;
};

LogCounts count_log(const std::string& log) {
    LogCounts c;
    size_t pos = 0;
    while (pos < log.size()) {
        size_t end = log.find('\n', pos);
        if (end == std::string::npos) end = log.size();
        const std::string_view line(log.data() + pos, end - pos);
        if (line.rfind("| ", 0) == 0)
            ++c.osip_trace;
        else if (line.find(" debug: ") != std::string_view::npos)
            ++c.debug;
        else if (!line.empty())
            ++c.other;
        pos = end + 1;
    }
    return c;
}

class SipFloodTest : public RunningDaemonTest {
  protected:
    std::string register_request(const UdpPeer& phone) const {
        const std::string p = std::to_string(phone.port);
        return with_length(
            "REGISTER sip:127.0.0.2 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:" +
                p +
                ";branch=z9hG4bKflreg1;rport\r\n"
                "From: <sip:alice@127.0.0.2>;tag=fl1\r\n"
                "To: <sip:alice@127.0.0.2>\r\n"
                "Call-ID: flood-reg-1@127.0.0.1\r\n"
                "CSeq: 1 REGISTER\r\n"
                "Contact: <sip:alice@127.0.0.1:" +
                p +
                ">\r\n"
                "Expires: 600\r\nMax-Forwards: 70\r\n",
            "");
    }

    // An OPTIONS from bob (outside) to alice's public AOR; `n` makes it unique.
    std::string options_to_alice(const UdpPeer& bob, int n) const {
        const std::string p = std::to_string(bob.port);
        return with_length("OPTIONS sip:alice@127.0.0.2:" + std::to_string(sip_port_) +
                               " SIP/2.0\r\n"
                               "Via: SIP/2.0/UDP 127.0.0.3:" +
                               p + ";branch=z9hG4bKflopt" + std::to_string(n) +
                               "\r\n"
                               "From: <sip:bob@127.0.0.3>;tag=b" +
                               std::to_string(n) +
                               "\r\n"
                               "To: <sip:alice@127.0.0.2>\r\n"
                               "Call-ID: flood-opt-" +
                               std::to_string(n) +
                               "@127.0.0.3\r\n"
                               "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n",
                           "");
    }
};

TEST_F(SipFloodTest, GarbageBurstOnBothSocketsChangesNothing) {
    UdpPeer alice("127.0.0.1");
    UdpPeer bob("127.0.0.3");
    ASSERT_NE(alice.port, 0);
    ASSERT_NE(bob.port, 0);

    // alice registers; bob's OPTIONS to her public AOR reaches her socket.
    ASSERT_TRUE(alice.send_to("127.0.0.1", sip_port_, register_request(alice)));
    ASSERT_NE(alice.receive("SIP/2.0 200", 3s), "") << daemon_.log();
    ASSERT_TRUE(bob.send_to("127.0.0.2", sip_port_, options_to_alice(bob, 0)));
    ASSERT_NE(alice.receive("OPTIONS sip:alice@127.0.0.1", 3s), "") << daemon_.log();

    const long parent_rss_before = rss_kb(daemon_.pid());
    const long sipd_rss_before = rss_kb(*sipd_);
    ASSERT_GT(parent_rss_before, 0);
    ASSERT_GT(sipd_rss_before, 0);
    const size_t log_from = daemon_.log_size();

    // The burst: 20,000 datagrams in at most 5 s, half to each socket, from
    // several sources: random bytes, truncated SIP, bad start lines, NULs,
    // oversized, and requests with headers libosip2 refuses.
    const std::string reg = register_request(alice);
    const std::string opt = options_to_alice(bob, 1);
    UdpPeer junk_in("127.0.0.1");
    UdpPeer junk_out("127.0.0.4");
    uint32_t seed = 4242;
    auto rnd = [&seed] {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 16) & 0x7fff;
    };
    constexpr int kBurst = 20000;
    const auto start = std::chrono::steady_clock::now();
    int sent = 0;
    for (int i = 0; i < kBurst && std::chrono::steady_clock::now() - start < 5s; ++i) {
        std::string d;
        switch (i % 7) {
            case 0:
                d.resize(32 + rnd() % 600);
                for (char& c : d) c = static_cast<char>(rnd() & 0xff);
                break;
            case 1:
                d = opt.substr(0, 33 + rnd() % (opt.size() - 40));
                break;
            case 2:
                d = reg.substr(0, 33 + rnd() % (reg.size() - 40));
                break;
            case 3:
                d = "FOO BAR BAZ\r\n" + opt.substr(opt.find('\n') + 1);
                break;
            case 4:
                d = opt;
                d[40 + rnd() % 60] = '\0';
                break;
            case 5:
                d = "INVITE sip:x@y SIP/2.0\r\nVia: \x01\r\nFrom: <<<\r\nTo: >>>\r\n"
                    "Call-ID: \r\nCSeq: abc\r\n\r\n";
                break;
            default:
                d = "OPTIONS sip:a@b SIP/2.0\r\n" + std::string(17000, 'x') + "\r\n\r\n";
                break;
        }
        const bool inside = (i % 2) == 0;
        if ((inside ? junk_in : junk_out).send_to(inside ? "127.0.0.1" : "127.0.0.2", sip_port_, d))
            ++sent;
        // Let the daemon breathe now and then so most of the burst is read
        // rather than lost in a full receive queue.
        if (i % 500 == 499) std::this_thread::sleep_for(10ms);
    }
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(sent, kBurst * 9 / 10);
    EXPECT_LE(took, 6s);

    // The registration still answers: a new OPTIONS (queued behind the
    // burst) reaches alice's socket.
    alice.drain();
    std::string got;
    for (int attempt = 2; attempt < 12 && got.empty(); ++attempt) {
        ASSERT_TRUE(bob.send_to("127.0.0.2", sip_port_, options_to_alice(bob, attempt)));
        got = alice.receive("OPTIONS sip:alice@127.0.0.1", 1s);
    }
    EXPECT_NE(got, "") << daemon_.log().substr(log_from);

    std::string out;
    ASSERT_EQ(ctl({"registrations"}, out), 0) << out;
    EXPECT_NE(out.find("alice@127.0.0.2"), std::string::npos) << out;
    EXPECT_NE(out.find("127.0.0.1:" + std::to_string(alice.port)), std::string::npos) << out;

    // Same sipd: no crash, no restart.
    EXPECT_TRUE(process_exists(*sipd_));
    EXPECT_TRUE(process_exists(*rtpd_));
    EXPECT_TRUE(process_exists(daemon_.pid()));
    const std::string log = daemon_.log().substr(log_from);
    EXPECT_EQ(log.find("ready (pid"), std::string::npos) << log;
    EXPECT_EQ(log.find("killed by signal"), std::string::npos) << log;
    EXPECT_EQ(log.find("exited with status"), std::string::npos) << log;

    // Rate limited: a handful of bad-request lines for ~20,000 bad datagrams.
    const size_t bad = count_matches(log, std::regex("security: bad-request from "));
    EXPECT_GE(bad, 1u) << log;
    EXPECT_LT(bad, 100u) << log;
    EXPECT_NE(log.find("similar suppressed"), std::string::npos) << log;
    // ... and nothing else is written per datagram either, at any level but
    // debug (the harness runs -d debug: one "N bytes from" line each).
    const LogCounts counts = count_log(log);
    EXPECT_LT(counts.other, 100u) << log.substr(0, 20000);
    RecordProperty("libosip2_trace_lines", static_cast<int>(counts.osip_trace));

    // Neither the parent nor sipd kept anything per datagram.
    const long parent_rss_after = rss_kb(daemon_.pid());
    const long sipd_rss_after = rss_kb(*sipd_);
    EXPECT_LT(parent_rss_after - parent_rss_before, 2048)
        << parent_rss_before << " -> " << parent_rss_after << " kB";
    EXPECT_LT(sipd_rss_after - sipd_rss_before, 4096)
        << sipd_rss_before << " -> " << sipd_rss_after << " kB";
    // sipd logs a debug line per datagram (-d debug): the parent passes at
    // most 500 a second per child on and says how many it dropped.
    EXPECT_TRUE(daemon_.wait_for_log(
        "sipd\\[[0-9]+\\]: more than 500 log lines a second; suppressing", 2s, log_from))
        << "no child log rate limit seen";
    EXPECT_LT(counts.debug, 5000u) << "child log lines were not limited";
    RecordProperty("datagrams_sent", sent);
    RecordProperty("bad_request_lines", static_cast<int>(bad));
    RecordProperty("parent_rss_kb_delta", static_cast<int>(parent_rss_after - parent_rss_before));
    RecordProperty("sipd_rss_kb_delta", static_cast<int>(sipd_rss_after - sipd_rss_before));
}

// libosip2's own trace ("| ERROR | <osip_messa: 663> End of header Not
// found", two lines per unparseable datagram) would go to sipd's stdio,
// the parent's log, unlimited; sipd sends it nowhere and logs refusals
// itself, rate-limited.
TEST_F(SipFloodTest, NoLibosipTraceInTheLog) {
    UdpPeer junk("127.0.0.4");
    const size_t log_from = daemon_.log_size();
    for (int i = 0; i < 200; ++i)
        (void)junk.send_to("127.0.0.2", sip_port_,
                           "INVITE sip:x@y SIP/2.0\r\nVia: \x01\r\nFrom: <<<\r\nTo: >>>\r\n"
                           "Call-ID: \r\nCSeq: abc\r\n\r\n");
    // A marker the daemon logs once all of the above has been read.
    UdpPeer alice("127.0.0.1");
    ASSERT_TRUE(alice.send_to("127.0.0.1", sip_port_, register_request(alice)));
    ASSERT_NE(alice.receive("SIP/2.0 200", 3s), "") << daemon_.log();
    const LogCounts counts = count_log(daemon_.log().substr(log_from));
    EXPECT_EQ(counts.osip_trace, 0u);
}

}  // namespace
}  // namespace sipmasq::test
