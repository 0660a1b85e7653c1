// Digest authentication of registrar-mode REGISTERs: MD5 against RFC 1321,
// HMAC-MD5 against RFC 2104, the RFC 2617 example, and the proxy on real
// messages (missing credentials, right and wrong password, stale nonce).
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

    // alice's REGISTER with an Authorization computed as a phone would.
    static std::string authorized(const std::string& nonce, const std::string& password,
                                  const std::string& user = "alice",
                                  const std::string& uri = "sip:203.0.113.1") {
        const std::string ha1 = md5_hex(user + ":" + kRealm + ":" + password);
        const std::string ha2 = md5_hex("REGISTER:" + uri);
        const std::string response = md5_hex(ha1 + ":" + nonce + ":00000001:4f1b2c:auth:" + ha2);
        std::string msg = samples::register_alice();
        const std::string header =
            "Authorization: Digest username=\"" + user + "\", realm=\"" + kRealm + "\", nonce=\"" +
            nonce + "\", uri=\"" + uri + "\", response=\"" + response +
            "\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"4f1b2c\"\r\n";
        msg.insert(msg.find("User-Agent:"), header);
        return msg;
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

TEST(DigestAuth, NonceIsSignedAndExpires) {
    const DigestAuth a("r", {}, "key");
    const DigestAuth b("r", {}, "other key");
    const std::string n = a.make_nonce(kNow);
    EXPECT_EQ(n.size(), 49u);
    EXPECT_NE(n, b.make_nonce(kNow));
    EXPECT_NE(n, a.make_nonce(kNow + 1));
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
        const std::string response =
            md5_hex(ha1 + ":" + nonce + ":00000001:4f1b2c:auth:" + ha2);
        std::string msg = samples::register_alice();
        msg.insert(msg.find("User-Agent:"),
                   "Authorization: Digest username=\"alice\", realm=\"" + std::string(kRealm) +
                       "\", nonce=\"" + nonce + "\", uri=\"sip:203.0.113.1\", response=\"" +
                       response + "\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"4f1b2c\"\r\n");
        OsipMessagePtr req = parse_sip_message(msg);
        EXPECT_NE(req, nullptr);
        return req ? auth.check(req.get(), now).verdict : AuthVerdict::Missing;
    };
    EXPECT_EQ(check("common"), AuthVerdict::Ok);
    EXPECT_EQ(check("secret"), AuthVerdict::Failed);
}

}  // namespace
}  // namespace sipmasq
