// Hostile and broken input through the whole SipProxy: malformed requests
// answered 400 (when there is enough to answer) or dropped, never forwarded;
// unparseable responses dropped; oversized and NUL-laden datagrams; a
// garbage flood that must neither lose a registration nor flood the log;
// a REGISTER storm from outside; SDP with hostile values refused cleanly.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "log.h"
#include "osip_ptr.h"
#include "proxy_fixture.h"
#include "sip_proxy.h"
#include "sip_samples.h"

namespace sipmasq {
namespace {

using samples::with_body;

// Every log line the proxy writes, captured by a sink (plain function
// pointer, so the lines live in a global guarded by a mutex).
std::mutex g_log_mutex;
std::vector<std::string> g_log;

void capture_log(LogLevel /*level*/, std::string_view line) noexcept {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    g_log.emplace_back(line);
}

struct Sent {
    Side side;
    SockAddr dest;
    std::string data;
};

size_t count_lines(const std::string& needle) {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    size_t n = 0;
    for (const auto& l : g_log)
        if (l.find(needle) != std::string::npos) ++n;
    return n;
}

size_t log_lines() {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    return g_log.size();
}

std::string all_log() {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    std::string out;
    for (const auto& l : g_log) out += l + "\n";
    return out;
}

// An OPTIONS from outside to an outside host (never relayed), as a base
// for malformed variants; `drop` names a header line to leave out.
std::string options_from_inside(const std::string& drop = "", const std::string& extra = "") {
    std::string head = R"(OPTIONS sip:bob@203.0.113.50 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKopt77
Max-Forwards: 70
To: <sip:bob@203.0.113.50>
From: <sip:alice@203.0.113.1>;tag=o77
Call-ID: opt77@192.0.2.10
CSeq: 7 OPTIONS
)";
    if (!drop.empty()) {
        const size_t at = head.find(drop);
        if (at != std::string::npos) head.erase(at, head.find('\n', at) - at + 1);
    }
    head += extra;
    return with_body(head, "");
}

std::string invite_with_sdp(const std::string& sdp) {
    return with_body(R"(INVITE sip:bob@203.0.113.50 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKsdpbad;rport
Max-Forwards: 70
To: Bob <sip:bob@203.0.113.50>
From: Alice <sip:alice@203.0.113.1>;tag=sdpbad
Call-ID: sdpbad@192.0.2.10
CSeq: 1 INVITE
Contact: <sip:alice@192.0.2.10:5060>
Content-Type: application/sdp
)",
                     sdp);
}

class BadInputTest : public ::testing::Test {
  protected:
    BadInputTest()
        : proxy_(settings(), media_, [this](Side side, const SockAddr& dest, std::string_view d) {
              // 100 Trying is hop by hop: kept apart.
              (d.rfind("SIP/2.0 100 ", 0) == 0 ? trying_ : sent_)
                  .push_back({side, dest, std::string(d)});
          }) {
        sip_parser_init();
        samples::unique_branches = true;
        {
            std::lock_guard<std::mutex> lock(g_log_mutex);
            g_log.clear();
        }
        log_set_sink(capture_log);
        log_set_max_level(LogLevel::Info);
    }
    ~BadInputTest() override { log_set_sink(log_sink_stderr); }

    // The status of the one response sent back to `to` on `side`; 0 when
    // nothing was sent, -1 when something else was.
    int only_response(Side side, const SockAddr& to) {
        if (sent_.size() != 1) return sent_.empty() ? 0 : -1;
        if (sent_[0].side != side || sent_[0].dest != to) return -1;
        auto m = parse_sip_message(sent_[0].data);
        if (m == nullptr || !MSG_IS_RESPONSE(m.get())) return -1;
        return m->status_code;
    }

    void register_alice() {
        proxy_.handle_datagram(samples::register_alice(), Side::Inside, alice_, 1000);
        ASSERT_EQ(only_response(Side::Inside, alice_), 200);
        sent_.clear();
    }

    // bob's INVITE to alice's public AOR reaches alice.
    void expect_call_in_reaches_alice(int64_t now) {
        sent_.clear();
        proxy_.handle_datagram(samples::invite_bob_to_alice_public(), Side::Outside, bob_, now);
        ASSERT_EQ(sent_.size(), 1u);
        EXPECT_EQ(sent_[0].side, Side::Inside);
        EXPECT_EQ(sent_[0].dest, alice_);
        sent_.clear();
    }

    test::FakeMedia media_;
    std::vector<Sent> sent_;
    std::vector<Sent> trying_;
    int64_t now_ms_ = 1000000;

    SipProxySettings settings() {
        SipProxySettings s = test::faq_proxy_settings();
        s.clock_ms = [this] { return now_ms_; };
        return s;
    }
    SipProxy proxy_;
    const SockAddr alice_ = test::addr("192.0.2.10:5060");
    const SockAddr bob_ = test::addr("203.0.113.50:5060");
};

TEST_F(BadInputTest, WellFormedBaseIsForwarded) {
    // The base of the malformed variants below is itself fine.
    proxy_.handle_datagram(options_from_inside(), Side::Inside, alice_, 1000);
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].side, Side::Outside);
    EXPECT_EQ(sent_[0].dest, bob_);
}

TEST_F(BadInputTest, MissingMandatoryHeadersAreNeverForwarded) {
    struct Case {
        const char* header;
        bool answerable;  // enough left to build a response
    };
    // Without Via there is nowhere to answer; the response echoes From, To,
    // Call-ID and CSeq, so without one of them it is dropped too.
    for (const Case& c : {Case{"Via:", false}, Case{"From:", false}, Case{"To:", false},
                          Case{"Call-ID:", false}, Case{"CSeq:", false}}) {
        SCOPED_TRACE(c.header);
        sent_.clear();
        const size_t before = count_lines("security: bad-request from 192.0.2.10:5060");
        proxy_.handle_datagram(options_from_inside(c.header), Side::Inside, alice_, 1000);
        for (const Sent& s : sent_) EXPECT_NE(s.side, Side::Outside) << s.data;
        const int status = only_response(Side::Inside, alice_);
        if (c.answerable)
            EXPECT_EQ(status, 400);
        else
            EXPECT_TRUE(status == 0 || status == 400) << status;
        EXPECT_EQ(count_lines("security: bad-request from 192.0.2.10:5060"), before + 1)
            << all_log();
    }
}

TEST_F(BadInputTest, MalformedButAnswerableRequestsGet400) {
    // CSeq method that is not the request's.
    std::string mismatch = options_from_inside();
    mismatch.replace(mismatch.find("7 OPTIONS"), 9, "7 INVITE");
    proxy_.handle_datagram(mismatch, Side::Inside, alice_, 1000);
    EXPECT_EQ(only_response(Side::Inside, alice_), 400);
    EXPECT_NE(all_log().find("security: bad-request from 192.0.2.10:5060: 400 CSeq method"),
              std::string::npos)
        << all_log();
    // Max-Forwards that is no number, or too big.
    for (const char* mf : {"abc", "256", "-1", "99999999999999999999"}) {
        SCOPED_TRACE(mf);
        sent_.clear();
        std::string m = options_from_inside();
        m.replace(m.find("Max-Forwards: 70"), 16, std::string("Max-Forwards: ") + mf);
        proxy_.handle_datagram(m, Side::Outside, bob_, 1000);
        EXPECT_EQ(only_response(Side::Outside, bob_), 400);
    }
}

// A request libosip2 cannot parse as a whole (here a broken Contact or
// Content-Type) still gets 400 at its source, built by libosip2 from the
// headers a response copies; an ACK never gets an answer.
TEST_F(BadInputTest, UnparseableRequestsGet400WhenTheyNameWhereToAnswer) {
    for (const char* broken :
         {"Contact: <<<>>>\n", "Content-Type: ///\n", "Contact: \"unterminated\n"}) {
        SCOPED_TRACE(broken);
        sent_.clear();
        const std::string request = options_from_inside("", broken);
        ASSERT_EQ(parse_sip_message(samples::crlf(request)), nullptr) << "libosip2 parses it";
        proxy_.handle_datagram(request, Side::Inside, alice_, 1000);
        ASSERT_EQ(only_response(Side::Inside, alice_), 400);
        EXPECT_NE(sent_[0].data.find("Call-ID: opt77@192.0.2.10"), std::string::npos)
            << sent_[0].data;
        EXPECT_NE(sent_[0].data.find("CSeq: 7 OPTIONS"), std::string::npos) << sent_[0].data;
    }
    sent_.clear();
    std::string ack = options_from_inside("", "Contact: <<<>>>\n");
    ack.replace(ack.find("OPTIONS sip:"), 7, "ACK");
    ack.replace(ack.find("7 OPTIONS"), 9, "7 ACK");
    proxy_.handle_datagram(ack, Side::Inside, alice_, 1000);
    EXPECT_TRUE(sent_.empty());
}

TEST_F(BadInputTest, MaxForwardsZeroGets483) {
    std::string m = options_from_inside();
    m.replace(m.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
    proxy_.handle_datagram(m, Side::Inside, alice_, 1000);
    EXPECT_EQ(only_response(Side::Inside, alice_), 483);
    EXPECT_EQ(count_lines("security: loop from 192.0.2.10:5060"), 1u) << all_log();
}

TEST_F(BadInputTest, UnparseableAndStrayResponsesAreDropped) {
    // A status line followed by junk libosip2 refuses, one without the end of
    // headers, and a well-formed one whose top Via is not ours.
    const std::vector<std::string> bad = {
        samples::crlf("SIP/2.0 200 OK\nVia: \nTo: <<<>>>\nFrom: ;;;\nCSeq: x\n\n"),
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKx\r\nTo: <sip:a@b>",
        samples::ok_from_bob("z9hG4bKnotours")
            .replace(samples::ok_from_bob("z9hG4bKnotours").find("203.0.113.1:5060"), 16,
                     "198.51.100.9:5060"),
    };
    for (const std::string& r : bad) {
        SCOPED_TRACE(r);
        sent_.clear();
        proxy_.handle_datagram(r, Side::Outside, bob_, 1000);
        proxy_.handle_datagram(r, Side::Inside, alice_, 1000);
        EXPECT_TRUE(sent_.empty()) << sent_.front().data;
    }
    EXPECT_GE(count_lines("security: bad-request from 203.0.113.50:5060"), 1u) << all_log();
}

TEST_F(BadInputTest, OversizedDatagramIsDroppedAndLogged) {
    std::string big = options_from_inside(
        "", "X-Padding: " + std::string(1500, 'p') + "\n" + std::string(20, '\n'));
    // Many header lines, each short, so only the total size is too big.
    std::string head = "OPTIONS sip:bob@203.0.113.50 SIP/2.0\r\n";
    while (head.size() < 20000) head += "X-Filler: " + std::string(100, 'f') + "\r\n";
    head += "\r\n";
    proxy_.handle_datagram(head, Side::Outside, bob_, 1000);
    EXPECT_TRUE(sent_.empty());
    EXPECT_EQ(count_lines("security: bad-request from 203.0.113.50:5060: too long"), 1u)
        << all_log();
    // One line far beyond the line limit.
    proxy_.handle_datagram(options_from_inside("", "X-Long: " + std::string(5000, 'l') + "\n"),
                           Side::Outside, bob_, 1000);
    EXPECT_TRUE(sent_.empty());
    EXPECT_EQ(count_lines("security: bad-request from 203.0.113.50:5060: line too long"), 1u)
        << all_log();
    (void)big;
}

TEST_F(BadInputTest, NulBytesAreDroppedAndLoggedWithoutThem) {
    std::string m = options_from_inside();
    m.replace(m.find("opt77@"), 6, std::string("op\0t77", 6));
    m[m.find("Call-ID")] = '\0';
    proxy_.handle_datagram(m, Side::Outside, bob_, 1000);
    EXPECT_TRUE(sent_.empty());
    EXPECT_EQ(count_lines("security: bad-request from 203.0.113.50:5060: contains NUL"), 1u)
        << all_log();
    std::lock_guard<std::mutex> lock(g_log_mutex);
    for (const auto& l : g_log) EXPECT_EQ(l.find('\0'), std::string::npos);
}

TEST_F(BadInputTest, AttackerTextInLogLinesIsEscapedAndCapped) {
    // Control characters in what ends up in a refusal line (the To URI of a
    // refused request) become '?', and the details are capped.
    std::string inv = samples::invite_bob_to_alice_public();
    const std::string user = "carol" + std::string(300, 'z');
    inv.replace(inv.find("sip:alice@203.0.113.1 SIP"), 21, "sip:" + user + "@203.0.113.1");
    proxy_.handle_datagram(inv, Side::Outside, bob_, 1000);
    ASSERT_EQ(sent_.size(), 1u);
    std::lock_guard<std::mutex> lock(g_log_mutex);
    ASSERT_FALSE(g_log.empty());
    for (const auto& l : g_log) {
        EXPECT_LT(l.size(), 300u) << l;
        for (char ch : l) EXPECT_GE(static_cast<unsigned char>(ch), 0x20) << l;
    }
}

TEST_F(BadInputTest, GarbageFloodKeepsRegistrationAndBoundsTheLog) {
    register_alice();
    const size_t lines_before = log_lines();
    // Varied junk: random bytes, truncated SIP, bad start lines, NULs, requests
    // libosip2 refuses, from many sources on both sides.
    const std::string invite = samples::invite_bob_to_alice_public();
    const std::string reg = samples::register_alice();
    uint32_t seed = 12345;
    auto rnd = [&seed] {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 16) & 0x7fff;
    };
    constexpr int kFlood = 10000;
    for (int i = 0; i < kFlood; ++i) {
        std::string d;
        switch (i % 6) {
            case 0:  // random bytes
                d.resize(32 + rnd() % 400);
                for (char& c : d) c = static_cast<char>(rnd() & 0xff);
                break;
            case 1:  // truncated INVITE
                d = invite.substr(0, 40 + rnd() % (invite.size() - 40));
                break;
            case 2:  // bad start line
                d = "HELLO WORLD\r\n" + invite.substr(invite.find('\n') + 1);
                break;
            case 3:  // NUL in the middle
                d = invite;
                d[40 + rnd() % 100] = '\0';
                break;
            case 4:  // mangled headers: what libosip2 itself may refuse
                d = "INVITE sip:x@y SIP/2.0\r\nVia: \x01\x02\r\nFrom: <<<\r\nTo: >>>\r\n"
                    "Call-ID: \r\nCSeq: abc\r\n\r\n";
                break;
            default:  // a REGISTER with a random byte flipped
                d = reg;
                d[rnd() % d.size()] = static_cast<char>(rnd() & 0xff);
                break;
        }
        const std::string src =
            "203.0.113." + std::to_string(2 + i % 200) + ":" + std::to_string(1024 + i % 60000);
        // Alternate sides per round of six; a mutated REGISTER from inside
        // may well be a valid registration, so those come from outside only.
        const bool inside = (i / 6) % 2 == 1 && (i % 6) != 5;
        proxy_.handle_datagram(
            d, inside ? Side::Inside : Side::Outside,
            inside ? test::addr(("192.0.2." + std::to_string(20 + i % 200) + ":5060").c_str())
                   : test::addr(src.c_str()),
            1001);
    }
    // Nothing changed alice's binding: it answers calls.
    const auto live = proxy_.table().lookup("alice@203.0.113.1", 1002);
    ASSERT_EQ(live.size(), 1u);
    EXPECT_EQ(live[0]->contact, "sip:alice@192.0.2.10:5060;transport=udp");
    expect_call_in_reaches_alice(1002);
    // Rate limiting: 10,000 bad datagrams, a few dozen lines at most.
    const size_t flood_lines = log_lines() - lines_before;
    EXPECT_LT(flood_lines, 100u) << all_log();
    EXPECT_GE(count_lines("similar suppressed"), 1u);
    // The stats count what the log suppressed.
    EXPECT_NE(proxy_.stats_text(true).find("\"unparseable\":"), std::string::npos);
}

TEST_F(BadInputTest, RegisterStormFromOutsideIsAllRefused) {
    register_alice();
    const size_t lines_before = log_lines();
    const auto storm_start = std::chrono::steady_clock::now();
    constexpr int kStorm = 2000;
    int refused = 0;
    for (int i = 0; i < kStorm; ++i) {
        std::string reg = samples::register_alice();
        // Each a different user from a different source, and some trying to
        // take over alice's own AOR.
        if (i % 2 == 0) reg.replace(reg.find("alice@"), 5, "u" + std::to_string(i));
        sent_.clear();
        const SockAddr src = test::addr(
            ("198.51.100." + std::to_string(1 + i % 250) + ":" + std::to_string(5060 + i)).c_str());
        proxy_.handle_datagram(reg, Side::Outside, src, 1001);
        if (only_response(Side::Outside, src) == 403) ++refused;
    }
    EXPECT_EQ(refused, kStorm);
    EXPECT_EQ(proxy_.table().size(), 1u);
    const auto live = proxy_.table().lookup("alice@203.0.113.1", 1002);
    ASSERT_EQ(live.size(), 1u);
    EXPECT_EQ(live[0]->source, alice_);
    // The global budget of security lines: a burst of 60, earning 60 more
    // per 10 s of the monotonic clock the storm took (a loaded machine is
    // slow), and a few others.
    const auto storm_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - storm_start)
                              .count();
    const auto budget = static_cast<size_t>(60 + (storm_ms * 60) / 10000 + 1);
    EXPECT_LE(log_lines() - lines_before, budget) << all_log();
    EXPECT_GE(count_lines("security: register-refused from 198.51.100."), 1u);
    expect_call_in_reaches_alice(1002);
}

struct HostileSdp {
    const char* name;
    const char* from;  // replaced in alice's offer
    const char* to;
};

class HostileSdpTest : public BadInputTest, public ::testing::WithParamInterface<HostileSdp> {};

TEST_P(HostileSdpTest, RefusedWith488AndNoForward) {
    std::string sdp = samples::sdp_offer_alice();
    const HostileSdp& h = GetParam();
    const size_t at = sdp.find(h.from);
    ASSERT_NE(at, std::string::npos);
    sdp.replace(at, std::string(h.from).size(), h.to);
    proxy_.handle_datagram(invite_with_sdp(sdp), Side::Inside, alice_, 1000);
    // Answered to alice only: nothing goes out, no relay asked, no call left.
    EXPECT_EQ(only_response(Side::Inside, alice_), 488) << (sent_.empty() ? "" : sent_[0].data);
    EXPECT_TRUE(media_.starts.empty());
    EXPECT_GE(count_lines("security: bad-request from 192.0.2.10:5060: SDP refused"), 1u)
        << all_log();
    // The response carries only alice's own Via (ours was taken off).
    if (!sent_.empty()) {
        auto resp = parse_sip_message(sent_[0].data);
        ASSERT_NE(resp, nullptr);
        EXPECT_EQ(osip_list_size(&resp->vias), 1);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Values, HostileSdpTest,
    ::testing::Values(HostileSdp{"HugePort", "m=audio 49170", "m=audio 4294967296"},
                      HostileSdp{"PortAbove65535", "m=audio 49170", "m=audio 65536"},
                      HostileSdp{"NegativePort", "m=audio 49170", "m=audio -1"},
                      HostileSdp{"PortNotANumber", "m=audio 49170", "m=audio 0x10"},
                      HostileSdp{"MissingConnection", "c=IN IP4 192.0.2.10\r\n", ""},
                      HostileSdp{"Multicast", "c=IN IP4 192.0.2.10", "c=IN IP4 224.2.17.12/127"},
                      HostileSdp{"Broadcast", "c=IN IP4 192.0.2.10", "c=IN IP4 255.255.255.255"},
                      HostileSdp{"OurOwnAddress", "c=IN IP4 192.0.2.10", "c=IN IP4 203.0.113.1"},
                      HostileSdp{"HostName", "c=IN IP4 192.0.2.10", "c=IN IP4 evil.example.com"},
                      HostileSdp{"V6InIp4", "c=IN IP4 192.0.2.10", "c=IN IP4 2001:db8::1"},
                      HostileSdp{"BadRtcpPort", "a=rtcp:49171", "a=rtcp:99999"}),
    [](const ::testing::TestParamInfo<HostileSdp>& p) { return std::string(p.param.name); });

// An INVITE whose SDP is refused (488) leaves no call entry behind, so
// hostile INVITEs with fresh Call-IDs cannot grow the call table.
TEST_F(BadInputTest, RefusedSdpLeavesNoCall) {
    std::string sdp = samples::sdp_offer_alice();
    sdp.replace(sdp.find("m=audio 49170"), 13, "m=audio 65536");
    for (int i = 0; i < 10; ++i) {
        std::string inv = invite_with_sdp(sdp);
        inv.replace(inv.find("sdpbad@"), 7, "sdpbad" + std::to_string(i) + "@");
        proxy_.handle_datagram(inv, Side::Inside, alice_, 1000);
    }
    EXPECT_TRUE(proxy_.calls().empty()) << proxy_.calls().size() << " calls left";
}

// An INVITE that is forwarded but never answered is sent again (timer A)
// and ends with its transaction (timer B: 32 s), the caller told 408, so
// unanswered call attempts cannot pile up either.
TEST_F(BadInputTest, UnansweredInviteEndsWithItsTransaction) {
    for (int i = 0; i < 5; ++i) {
        std::string inv = invite_with_sdp(samples::sdp_offer_alice());
        inv.replace(inv.find("sdpbad@"), 7, "ringing" + std::to_string(i) + "@");
        proxy_.handle_datagram(inv, Side::Inside, alice_, 1000);
    }
    ASSERT_EQ(proxy_.calls().size(), 5u);
    ASSERT_EQ(sent_.size(), 5u);
    // Timer A: at 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s.
    for (int64_t t = 0; t <= 31750; t += 250) {
        now_ms_ = 1000000 + t;
        proxy_.run_timers();
    }
    EXPECT_EQ(sent_.size(), 5u * 7u) << "six retransmissions each within timer B";
    EXPECT_EQ(proxy_.calls().size(), 5u) << "ended before timer B";
    now_ms_ = 1000000 + 32500;
    proxy_.run_timers();
    EXPECT_TRUE(proxy_.calls().empty()) << proxy_.calls().size() << " calls left";
    EXPECT_EQ(media_.stops.size(), media_.starts.size()) << "a relay kept running";
    size_t timeouts = 0;
    for (const Sent& s : sent_)
        if (s.data.rfind("SIP/2.0 408 ", 0) == 0 && s.dest == alice_) ++timeouts;
    EXPECT_EQ(timeouts, 5u);
    // Everything is forgotten once the answers have rested.
    now_ms_ = 1000000 + 70000;
    proxy_.run_timers();
    EXPECT_EQ(proxy_.transactions().servers(), 0u);
    EXPECT_EQ(proxy_.transactions().clients(), 0u);
}

TEST_F(BadInputTest, UnspecifiedAddressIsHoldNeverARelayToNowhere) {
    // c=0.0.0.0 is the RFC 2543 hold: accepted as hold (forward flagged
    // hold) and left as 0.0.0.0, so the SDP never points at a relay port
    // nobody sends to, and never at 0.0.0.0 with a live port of ours.
    for (const char* dir : {"a=sendrecv", "a=sendonly"}) {
        SCOPED_TRACE(dir);
        sent_.clear();
        media_.starts.clear();
        std::string sdp = samples::sdp_offer_alice();
        sdp.replace(sdp.find("c=IN IP4 192.0.2.10"), 19, "c=IN IP4 0.0.0.0");
        sdp.replace(sdp.find("a=sendrecv"), 10, dir);
        proxy_.handle_datagram(invite_with_sdp(sdp), Side::Inside, alice_, 1000);
        ASSERT_EQ(sent_.size(), 1u);
        if (sent_[0].side == Side::Inside) {
            EXPECT_EQ(only_response(Side::Inside, alice_), 488);
            EXPECT_TRUE(media_.starts.empty());
            continue;
        }
        EXPECT_EQ(sent_[0].dest, bob_);
        ASSERT_EQ(media_.starts.size(), 1u);
        EXPECT_TRUE(media_.starts[0].hold);
        EXPECT_FALSE(media_.starts[0].inside_peer.valid()) << "0.0.0.0 is no peer";
        EXPECT_NE(sent_[0].data.find("c=IN IP4 0.0.0.0"), std::string::npos) << sent_[0].data;
    }
}

}  // namespace
}  // namespace sipmasq

namespace sipmasq {
namespace {

// libosip2 5.3 reads past the end of an SDP with bare-CR line ends (found
// by fuzz_sip; tests/fuzz/corpus/sip/regression-sdp-bare-cr): refused
// before libosip2 sees it, while CRLF and LF-only SDP still parse.
TEST(SdpLineEnds, BareCrIsRefusedCrlfAndLfParse) {
    EXPECT_EQ(parse_sdp("v=0\ro=e 2 2 N 1 t\rt=0 h\nm=a p h\n"), nullptr);
    EXPECT_EQ(parse_sdp("v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r"), nullptr);
    const char* crlf =
        "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 0\r\n";
    EXPECT_NE(parse_sdp(crlf), nullptr);
    const char* lf =
        "v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 4000 RTP/AVP 0\n";
    EXPECT_NE(parse_sdp(lf), nullptr);
}

}  // namespace
}  // namespace sipmasq
