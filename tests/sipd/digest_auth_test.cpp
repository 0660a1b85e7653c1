// Digest authentication of registrar-mode REGISTERs: MD5 against RFC 1321,
// HMAC-MD5 against RFC 2104, the RFC 2617 example, and the proxy on real
// messages (missing credentials, right and wrong password, stale nonce,
// replayed nonce counts, qop required, failures throttled per source and
// per user).
#include "digest_auth.h"

#include <gtest/gtest.h>

#include "osip_ptr.h"
#include "sip_proxy.h"
#include "sip_samples.h"

namespace sipmasq {
namespace {

TEST(Md5, Rfc1321Vectors) {
    EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(md5_hex("a"), "0cc175b9c0f1b6a831c399e269772661");
    EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(md5_hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
    EXPECT_EQ(md5_hex("12345678901234567890123456789012345678901234567890123456789012345678901234"
                      "567890"),
              "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Md5, HmacRfc2104Vector) {
    EXPECT_EQ(hmac_md5_hex("Jefe", "what do ya want for nothing?"),
              "750c783e6ab0b503eaa86e310a5db738");
}

TEST(Md5, Rfc2617Example) {
    // RFC 2617 §3.5 (its published response is for these exact inputs).
    const std::string ha1 = md5_hex("Mufasa:testrealm@host.com:Circle Of Life");
    const std::string ha2 = md5_hex("GET:/dir/index.html");
    EXPECT_EQ(md5_hex(ha1 + ":dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:" + ha2),
              "6629fae49393a05397450978507c4ef1");
}

TEST(PasswordFile, SiproxdFormat) {
    size_t bad = 0;
    const auto pw = parse_password_file(
        "# siproxd passwords\n\nalice secret\n  bob\tpass word \ncarol\n", &bad);
    EXPECT_EQ(pw.size(), 2u);
    EXPECT_EQ(pw.at("alice"), "secret");
    EXPECT_EQ(pw.at("bob"), "pass word");
    EXPECT_EQ(bad, 1u);
}

TEST(Unquote, QuotedStrings) {
    EXPECT_EQ(unquote("\"alice\""), "alice");
    EXPECT_EQ(unquote("\"a\\\"b\""), "a\"b");
    EXPECT_EQ(unquote("MD5"), "MD5");
}

struct Sent {
    Side side;
    SockAddr dest;
    std::string data;
};

class NoMedia : public MediaLink {
  public:
    [[nodiscard]] bool available() const override { return false; }
    void start(const MediaStart&, Done) override {}
    void stop(uint32_t) override {}
};

constexpr int64_t kNow = 1700000000;
const char* const kRealm = "sipmasq.example";

class DigestProxyTest : public ::testing::Test {
  protected:
    DigestProxyTest()
        : proxy_(make_settings(), media_, [this](Side s, const SockAddr& d, std::string_view t) {
              sent_.push_back({s, d, std::string(t)});
          }) {
        samples::unique_branches = true;
    }

    static SipProxySettings make_settings() {
        sip_parser_init();
        SipProxySettings s;
        s.policy.us.inside = {"192.0.2.1", 5060};
        s.policy.us.outside = {"203.0.113.1", 5060};
        s.policy.public_host = "203.0.113.1";
        s.policy.inside_networks = {*Cidr::parse("192.0.2.0/24")};
        s.inside_local = *SockAddr::parse("192.0.2.1:5060");
        s.outside_local = *SockAddr::parse("203.0.113.1:5060");
        s.outside_advertised = *SockAddr::parse("203.0.113.1");
        s.auth = std::make_shared<DigestAuth>(
            kRealm, parse_password_file("alice secret\nbob other\n"), "0123456789abcdef");
        return s;
    }

    // alice's REGISTER with an Authorization computed as a phone would;
    // an empty `nc` answers without qop (RFC 2069 style).
    static std::string authorized(const std::string& nonce, const std::string& password,
                                  const std::string& user = "alice",
                                  const std::string& uri = "sip:203.0.113.1",
                                  const std::string& nc = "00000001") {
        const std::string ha1 = md5_hex(user + ":" + kRealm + ":" + password);
        const std::string ha2 = md5_hex("REGISTER:" + uri);
        const std::string response =
            nc.empty() ? md5_hex(ha1 + ":" + nonce + ":" + ha2)
                       : md5_hex(ha1 + ":" + nonce + ":" + nc + ":4f1b2c:auth:" + ha2);
        std::string msg = samples::register_alice();
        const std::string header =
            "Authorization: Digest username=\"" + user + "\", realm=\"" + kRealm + "\", nonce=\"" +
            nonce + "\", uri=\"" + uri + "\", response=\"" + response + "\", algorithm=MD5" +
            (nc.empty() ? "" : ", qop=auth, nc=" + nc + ", cnonce=\"4f1b2c\"") + "\r\n";
        msg.insert(msg.find("User-Agent:"), header);
        return msg;
    }

    // `msg` with every `from` replaced by `to`.
    static std::string replaced(std::string msg, const std::string& from, const std::string& to) {
        for (size_t at = msg.find(from); at != std::string::npos;
             at = msg.find(from, at + to.size()))
            msg.replace(at, from.size(), to);
        return msg;
    }
    // The REGISTER of another user: its To, From and Contact name `user`.
    static std::string for_user(const std::string& msg, const std::string& user) {
        return replaced(msg, "alice@", user + "@");
    }
    // The phone's next REGISTER of the same Call-ID (the registrar wants
    // its CSeq to grow).
    // The same bytes on a new transaction (a replay, not a retransmission:
    // a retransmission only gets the transaction's last answer again).
    static std::string rebranched(std::string msg) {
        msg.replace(msg.find("branch=z9hG4bK"), 14, "branch=z9hG4bKreplay");
        return msg;
    }
    static std::string with_cseq(const std::string& msg, int cseq) {
        return replaced(msg, "CSeq: 314159 ", "CSeq: " + std::to_string(cseq) + " ");
    }

    // A fresh challenge to alice, and its nonce.
    std::string challenge_nonce(const SockAddr& from, int64_t now) {
        proxy_.handle_datagram(samples::register_alice(), Side::Inside, from, now);
        EXPECT_EQ(last()->status_code, 401);
        return last_nonce();
    }

    OsipMessagePtr last() { return parse_sip_message(sent_.back().data); }

    // The nonce of the last 401's WWW-Authenticate.
    std::string last_nonce() {
        const std::string& d = sent_.back().data;
        const size_t at = d.find("nonce=\"");
        if (at == std::string::npos) return "";
        return d.substr(at + 7, d.find('"', at + 7) - at - 7);
    }

    NoMedia media_;
    std::vector<Sent> sent_;
    SipProxy proxy_;
    const SockAddr alice_ = *SockAddr::parse("192.0.2.10:5060");
};

TEST_F(DigestProxyTest, MissingCredentialsAreChallenged) {
    proxy_.handle_datagram(samples::register_alice(), Side::Inside, alice_, kNow);
    ASSERT_EQ(sent_.size(), 1u);
    auto resp = last();
    ASSERT_NE(resp, nullptr);
    EXPECT_EQ(resp->status_code, 401);
    osip_www_authenticate_t* w = nullptr;
    ASSERT_EQ(osip_message_get_www_authenticate(resp.get(), 0, &w), 0);
    EXPECT_EQ(unquote(osip_sv(w->realm)), kRealm);
    EXPECT_EQ(unquote(osip_sv(w->qop_options)), "auth");
    EXPECT_EQ(std::string(osip_sv(w->algorithm)), "MD5");
    EXPECT_EQ(w->stale, nullptr);
    EXPECT_EQ(proxy_.table().size(), 0u);
}

TEST_F(DigestProxyTest, RightPasswordRegisters) {
    proxy_.handle_datagram(samples::register_alice(), Side::Inside, alice_, kNow);
    const std::string nonce = last_nonce();
    ASSERT_FALSE(nonce.empty());
    proxy_.handle_datagram(authorized(nonce, "secret"), Side::Inside, alice_, kNow + 2);
    ASSERT_EQ(sent_.size(), 2u);
    EXPECT_EQ(last()->status_code, 200) << sent_.back().data;
    EXPECT_EQ(proxy_.table().lookup("alice@203.0.113.1", kNow + 2).size(), 1u);
}

TEST_F(DigestProxyTest, WrongPasswordIsChallengedAgainAndLogged) {
    proxy_.handle_datagram(samples::register_alice(), Side::Inside, alice_, kNow);
    const std::string nonce = last_nonce();
    ::testing::internal::CaptureStderr();
    proxy_.handle_datagram(authorized(nonce, "guess"), Side::Inside, alice_, kNow + 1);
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(last()->status_code, 401);
    EXPECT_EQ(sent_.back().data.find("stale"), std::string::npos);
    EXPECT_EQ(proxy_.table().size(), 0u);
    EXPECT_NE(log.find("security: auth-failed from 192.0.2.10:5060: user=alice"), std::string::npos)
        << log;
    EXPECT_EQ(proxy_.stats_text(true).find("\"auth\":1") != std::string::npos, true)
        << proxy_.stats_text(true);
}

TEST_F(DigestProxyTest, DigestUriMustNameTheRequestUriOrUs) {
    proxy_.handle_datagram(samples::register_alice(), Side::Inside, alice_, kNow);
    // SIPp puts the address it sends to in uri=: our inside address is fine.
    proxy_.handle_datagram(authorized(last_nonce(), "secret", "alice", "sip:192.0.2.1:5060"),
                           Side::Inside, alice_, kNow);
    EXPECT_EQ(last()->status_code, 200);
    // A uri of some other host is an answer made for elsewhere: refused.
    proxy_.handle_datagram(samples::register_alice(), Side::Inside, alice_, kNow);
    ASSERT_EQ(last()->status_code, 401);
    ::testing::internal::CaptureStderr();
    proxy_.handle_datagram(authorized(last_nonce(), "secret", "alice", "sip:198.51.100.7"),
                           Side::Inside, alice_, kNow);
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(last()->status_code, 401);
    EXPECT_NE(log.find("(uri is not the Request-URI)"), std::string::npos) << log;
}

TEST_F(DigestProxyTest, OtherUsersPasswordForAliceFails) {
    proxy_.handle_datagram(samples::register_alice(), Side::Inside, alice_, kNow);
    // bob's right password, but the To is alice's AOR.
    proxy_.handle_datagram(authorized(last_nonce(), "other", "bob"), Side::Inside, alice_, kNow);
    EXPECT_EQ(last()->status_code, 401);
    EXPECT_EQ(proxy_.table().size(), 0u);
}

TEST_F(DigestProxyTest, StaleNonceGetsStaleTrue) {
    proxy_.handle_datagram(samples::register_alice(), Side::Inside, alice_, kNow);
    const std::string nonce = last_nonce();
    proxy_.handle_datagram(authorized(nonce, "secret"), Side::Inside, alice_,
                           kNow + DigestAuth::kNonceSeconds + 1);
    EXPECT_EQ(last()->status_code, 401);
    EXPECT_NE(sent_.back().data.find("stale=true"), std::string::npos) << sent_.back().data;
    EXPECT_EQ(proxy_.table().size(), 0u);
    // A forged nonce with the right password is stale too, never accepted.
    proxy_.handle_datagram(
        authorized("0000000065537100.00000000000000000000000000000000", "secret"), Side::Inside,
        alice_, kNow);
    EXPECT_EQ(last()->status_code, 401);
    EXPECT_NE(sent_.back().data.find("stale=true"), std::string::npos);
    // The fresh nonce of that challenge works.
    proxy_.handle_datagram(authorized(last_nonce(), "secret"), Side::Inside, alice_, kNow + 1);
    EXPECT_EQ(last()->status_code, 200);
}

TEST_F(DigestProxyTest, AReplayedAnswerIsStaleAndAGreaterCountIsAccepted) {
    const std::string nonce = challenge_nonce(alice_, kNow);
    const std::string answer = authorized(nonce, "secret");
    proxy_.handle_datagram(answer, Side::Inside, alice_, kNow + 1);
    ASSERT_EQ(last()->status_code, 200) << sent_.back().data;
    // The same bytes again are a retransmission: the same answer, nothing new.
    const size_t bindings = proxy_.table().size();
    proxy_.handle_datagram(answer, Side::Inside, alice_, kNow + 2);
    EXPECT_EQ(last()->status_code, 200);
    EXPECT_EQ(proxy_.table().size(), bindings);
    // The same answer on a new transaction (captured and replayed): refused.
    ::testing::internal::CaptureStderr();
    proxy_.handle_datagram(rebranched(answer), Side::Inside, alice_, kNow + 2);
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(last()->status_code, 401);
    EXPECT_NE(sent_.back().data.find("stale=true"), std::string::npos) << sent_.back().data;
    EXPECT_EQ(log.find("auth-failed"), std::string::npos)
        << "a retransmission is no attack: " << log;
    // The phone's next REGISTER on the same nonce counts on: accepted, once.
    const std::string next =
        with_cseq(authorized(nonce, "secret", "alice", "sip:203.0.113.1", "00000002"), 314160);
    proxy_.handle_datagram(next, Side::Inside, alice_, kNow + 3);
    EXPECT_EQ(last()->status_code, 200) << sent_.back().data;
    proxy_.handle_datagram(rebranched(next), Side::Inside, alice_, kNow + 4);
    EXPECT_EQ(last()->status_code, 401);
    // A count lower than the last accepted one is a replay too.
    proxy_.handle_datagram(authorized(nonce, "secret", "alice", "sip:203.0.113.1", "00000001"),
                           Side::Inside, alice_, kNow + 5);
    EXPECT_EQ(last()->status_code, 401);
    EXPECT_NE(sent_.back().data.find("stale=true"), std::string::npos);
}

TEST_F(DigestProxyTest, EachChallengeHasItsOwnNonce) {
    // Two phones challenged in the same second answer with nc=1 each.
    const SockAddr carol = *SockAddr::parse("192.0.2.11:5060");
    const std::string first = challenge_nonce(alice_, kNow);
    const std::string second = challenge_nonce(carol, kNow);
    EXPECT_NE(first, second);
    proxy_.handle_datagram(authorized(first, "secret"), Side::Inside, alice_, kNow);
    EXPECT_EQ(last()->status_code, 200);
    proxy_.handle_datagram(replaced(authorized(second, "secret"), "a84b4c76e66710", "carol1"),
                           Side::Inside, carol, kNow);
    EXPECT_EQ(last()->status_code, 200);
}

TEST_F(DigestProxyTest, AnAnswerWithoutQopIsRefused) {
    const std::string nonce = challenge_nonce(alice_, kNow);
    ::testing::internal::CaptureStderr();
    // RFC 2069 style, with the right password: no nonce count to check.
    proxy_.handle_datagram(authorized(nonce, "secret", "alice", "sip:203.0.113.1", ""),
                           Side::Inside, alice_, kNow + 1);
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(last()->status_code, 401);
    EXPECT_EQ(proxy_.table().size(), 0u);
    EXPECT_NE(log.find("security: auth-failed from 192.0.2.10:5060: user=alice (no qop)"),
              std::string::npos)
        << log;
}

TEST_F(DigestProxyTest, ABadNonceCountIsRefused) {
    const std::string nonce = challenge_nonce(alice_, kNow);
    for (const char* nc : {"00000000", "1", "0000000g", "000000001"}) {
        proxy_.handle_datagram(authorized(nonce, "secret", "alice", "sip:203.0.113.1", nc),
                               Side::Inside, alice_, kNow + 1);
        EXPECT_EQ(last()->status_code, 401) << nc;
    }
    EXPECT_EQ(proxy_.table().size(), 0u);
}

TEST_F(DigestProxyTest, AGuessingSourceIsRefusedUncheckedForAWhile) {
    const SockAddr guesser = *SockAddr::parse("192.0.2.66:5060");
    // Five wrong answers within a minute, for names that do not exist.
    for (int i = 0; i < 5; ++i) {
        const std::string nonce = challenge_nonce(guesser, kNow + i);
        proxy_.handle_datagram(for_user(authorized(nonce, "x", "user" + std::to_string(i)),
                                        "user" + std::to_string(i)),
                               Side::Inside, guesser, kNow + i);
        ASSERT_EQ(last()->status_code, 401) << i;
    }
    // Now even alice's right password from that address (another port) is
    // refused, with no challenge to answer and no password checked.
    const SockAddr guesser_other_port = *SockAddr::parse("192.0.2.66:5062");
    const std::string nonce = challenge_nonce(guesser_other_port, kNow + 10);
    ::testing::internal::CaptureStderr();
    proxy_.handle_datagram(authorized(nonce, "secret"), Side::Inside, guesser_other_port,
                           kNow + 10);
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(last()->status_code, 403) << sent_.back().data;
    EXPECT_EQ(sent_.back().data.find("WWW-Authenticate"), std::string::npos);
    // Its line may be held back by the per-source log budget (five lines
    // about that address went out just now); the refusal is counted.
    EXPECT_NE(proxy_.stats_text(false).find("too many failures 1"), std::string::npos)
        << proxy_.stats_text(false) << log;
    // Other sources, alice included, are not affected.
    proxy_.handle_datagram(authorized(challenge_nonce(alice_, kNow + 10), "secret"), Side::Inside,
                           alice_, kNow + 10);
    EXPECT_EQ(last()->status_code, 200);
    // The block ends.
    const int64_t later = kNow + 4 + 61;
    proxy_.handle_datagram(with_cseq(authorized(challenge_nonce(guesser, later), "secret"), 314160),
                           Side::Inside, guesser, later);
    EXPECT_EQ(last()->status_code, 200) << sent_.back().data;
}

TEST_F(DigestProxyTest, FailuresSpreadOverTimeAreNotThrottled) {
    const SockAddr phone = *SockAddr::parse("192.0.2.12:5060");
    // A wrong password every 15 s: never five within a minute.
    for (int i = 0; i < 12; ++i) {
        const int64_t t = kNow + 15 * i;
        proxy_.handle_datagram(
            for_user(authorized(challenge_nonce(phone, t), "typo", "bob"), "bob"), Side::Inside,
            phone, t);
        ASSERT_EQ(last()->status_code, 401) << i;
    }
    const int64_t t = kNow + 15 * 12;
    proxy_.handle_datagram(for_user(authorized(challenge_nonce(phone, t), "other", "bob"), "bob"),
                           Side::Inside, phone, t);
    EXPECT_EQ(last()->status_code, 200) << sent_.back().data;
}

TEST_F(DigestProxyTest, GuessesAtOneUserFromManySourcesBlockThatUser) {
    for (int i = 0; i < 5; ++i) {
        const SockAddr from = *SockAddr::parse("192.0.2." + std::to_string(100 + i) + ":5060");
        proxy_.handle_datagram(authorized(challenge_nonce(from, kNow + i), "guess"), Side::Inside,
                               from, kNow + i);
        ASSERT_EQ(last()->status_code, 401) << i;
    }
    // alice is blocked wherever the answer comes from, even a right one...
    proxy_.handle_datagram(authorized(challenge_nonce(alice_, kNow + 5), "secret"), Side::Inside,
                           alice_, kNow + 5);
    EXPECT_EQ(last()->status_code, 403);
    // ...bob is not, not even from a source that guessed at alice.
    const SockAddr guesser = *SockAddr::parse("192.0.2.100:5060");
    proxy_.handle_datagram(
        for_user(authorized(challenge_nonce(guesser, kNow + 5), "other", "bob"), "bob"),
        Side::Inside, guesser, kNow + 5);
    EXPECT_EQ(last()->status_code, 200) << sent_.back().data;
    // alice again once the block is over.
    proxy_.handle_datagram(
        with_cseq(authorized(challenge_nonce(alice_, kNow + 4 + 61), "secret"), 314160),
        Side::Inside, alice_, kNow + 4 + 61);
    EXPECT_EQ(last()->status_code, 200);
}

TEST(DigestAuth, NonceIsSignedUniqueAndExpires) {
    const DigestAuth a("r", {}, "key");
    const DigestAuth b("r", {}, "other key");
    const std::string n = a.make_nonce(kNow);
    EXPECT_EQ(n.size(), 66u);
    EXPECT_NE(n, b.make_nonce(kNow));
    EXPECT_NE(n, a.make_nonce(kNow)) << "the same second, another challenge";
    // Issue order is sort order (the nonce-count table relies on it).
    EXPECT_LT(n, a.make_nonce(kNow));
    EXPECT_LT(a.make_nonce(kNow + 1), a.make_nonce(kNow + 2));
}

TEST(NonceCounts, EachCountIsAcceptedOnceAndOnlyUpwards) {
    NonceCounts counts(300, 16);
    EXPECT_EQ(counts.use("n1", kNow, 1, kNow), NonceCounts::Use::Accepted);
    EXPECT_EQ(counts.use("n1", kNow, 1, kNow), NonceCounts::Use::Replayed);
    EXPECT_EQ(counts.use("n1", kNow, 3, kNow), NonceCounts::Use::Accepted);
    EXPECT_EQ(counts.use("n1", kNow, 2, kNow), NonceCounts::Use::Replayed);
    EXPECT_EQ(counts.use("n2", kNow, 1, kNow), NonceCounts::Use::Accepted);
    EXPECT_EQ(counts.size(), 2u);
}

TEST(NonceCounts, ExpiredNoncesLeaveTheTable) {
    NonceCounts counts(300, 16);
    EXPECT_EQ(counts.use("a", kNow, 1, kNow), NonceCounts::Use::Accepted);
    EXPECT_EQ(counts.use("b", kNow + 100, 1, kNow + 100), NonceCounts::Use::Accepted);
    EXPECT_EQ(counts.use("c", kNow + 301, 1, kNow + 301), NonceCounts::Use::Accepted);
    EXPECT_EQ(counts.size(), 2u) << "a expired";
}

TEST(NonceCounts, AFullTableForgetsTheOldestAndNeverAcceptsItAgain) {
    NonceCounts counts(300, 3);
    // Sort order is issue order, as with DigestAuth's nonces.
    EXPECT_EQ(counts.use("n1", kNow, 1, kNow), NonceCounts::Use::Accepted);
    EXPECT_EQ(counts.use("n3", kNow, 1, kNow), NonceCounts::Use::Accepted);
    EXPECT_EQ(counts.use("n4", kNow, 1, kNow), NonceCounts::Use::Accepted);
    EXPECT_EQ(counts.use("n5", kNow, 1, kNow), NonceCounts::Use::Accepted);  // n1 goes
    EXPECT_EQ(counts.size(), 3u);
    // n1's answer again, with any count: not a first use, never accepted.
    EXPECT_EQ(counts.use("n1", kNow, 1, kNow), NonceCounts::Use::Forgotten);
    EXPECT_EQ(counts.use("n1", kNow, 9, kNow), NonceCounts::Use::Forgotten);
    // n2, issued before the oldest kept one, was never used: forgotten too.
    EXPECT_EQ(counts.use("n2", kNow, 1, kNow), NonceCounts::Use::Forgotten);
    EXPECT_EQ(counts.use("n3", kNow, 1, kNow), NonceCounts::Use::Replayed);
    for (int i = 0; i < 10000; ++i)
        (void)counts.use("p" + std::to_string(100000 + i), kNow, 1, kNow);
    EXPECT_EQ(counts.size(), 3u);
}

TEST(AuthThrottle, FiveFailuresWithinTheWindowBlock) {
    AuthThrottle t;  // 5 in 60 s block for 60 s
    for (int i = 0; i < 4; ++i) t.failure("192.0.2.66", kNow + i);
    EXPECT_FALSE(t.blocked("192.0.2.66", kNow + 4));
    t.failure("192.0.2.66", kNow + 4);
    EXPECT_TRUE(t.blocked("192.0.2.66", kNow + 4));
    EXPECT_TRUE(t.blocked("192.0.2.66", kNow + 63));
    EXPECT_FALSE(t.blocked("192.0.2.67", kNow + 5));
    EXPECT_FALSE(t.blocked("192.0.2.66", kNow + 64));
    // Failures while blocked are not counted: after the block, a fresh count.
    for (int i = 0; i < 4; ++i) t.failure("192.0.2.66", kNow + 64 + i);
    EXPECT_FALSE(t.blocked("192.0.2.66", kNow + 68));
}

TEST(AuthThrottle, TheWindowRestarts) {
    AuthThrottle t;
    for (int i = 0; i < 4; ++i) t.failure("alice", kNow + i);
    for (int i = 0; i < 4; ++i) t.failure("alice", kNow + 60 + i);
    EXPECT_FALSE(t.blocked("alice", kNow + 64));
}

TEST(AuthThrottle, TheTableIsBoundedAndKeepsTheRecentGuesser) {
    AuthThrottle::Limits limits;
    limits.max_keys = 100;
    AuthThrottle t(limits);
    for (int i = 0; i < 5; ++i) t.failure("guesser", kNow);
    ASSERT_TRUE(t.blocked("guesser", kNow));
    for (int i = 0; i < 99; ++i) t.failure("k" + std::to_string(i), kNow);
    EXPECT_TRUE(t.blocked("guesser", kNow)) << "99 others fit beside it";
    t.failure("one more", kNow);
    EXPECT_FALSE(t.blocked("guesser", kNow)) << "the least recent goes first";
    for (int i = 0; i < 100000; ++i) t.failure("flood" + std::to_string(i), kNow);
    EXPECT_EQ(t.size(), 100u);
}

// proxy_auth_passwd: siproxd's one password, whatever the user, through
// the real proxy; a wrong one is still refused.
TEST(SharedPassword, EveryUserWithTheOnePassword) {
    sip_parser_init();
    DigestAuth auth(kRealm, {}, "0123456789abcdef", "common");
    const int64_t now = kNow;
    const auto check = [&](const std::string& password) {
        const std::string nonce = auth.make_nonce(now);
        const std::string ha1 = md5_hex(std::string("alice:") + kRealm + ":" + password);
        const std::string ha2 = md5_hex("REGISTER:sip:203.0.113.1");
        const std::string response = md5_hex(ha1 + ":" + nonce + ":00000001:4f1b2c:auth:" + ha2);
        std::string msg = samples::register_alice();
        msg.insert(msg.find("User-Agent:"),
                   "Authorization: Digest username=\"alice\", realm=\"" + std::string(kRealm) +
                       "\", nonce=\"" + nonce + "\", uri=\"sip:203.0.113.1\", response=\"" +
                       response +
                       "\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"4f1b2c\"\r\n");
        OsipMessagePtr req = parse_sip_message(msg);
        EXPECT_NE(req, nullptr);
        return req ? auth.check(req.get(), now, *SockAddr::parse("192.0.2.10:5060")).verdict
                   : AuthVerdict::Missing;
    };
    EXPECT_EQ(check("common"), AuthVerdict::Ok);
    EXPECT_EQ(check("secret"), AuthVerdict::Failed);
}

}  // namespace
}  // namespace sipmasq
