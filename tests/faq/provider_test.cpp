// Provider fixes through the real daemon in the FAQ namespaces, SIPp as
// the phones: the codec filter takes G729 out of alice's offer before bob
// sees it (and refuses an offer with nothing else with 488), and an
// outside call for a user with no registration reaches default_target,
// the reception phone inside.
#include "faq_fixture.h"

namespace sipmasq::test {
namespace {

using namespace std::chrono_literals;

class FaqProviderTest : public FaqTest {
  protected:
    std::string extra_config() override {
        return "codec_deny = G729\n"
               "default_target = sip:reception@203.0.113.1\n";
    }
};

TEST_F(FaqProviderTest, CodecFilterRemovesDeniedCodecFromTheOffer) {
    const size_t mark = daemon_.log().size();
    const pid_t bob = sipp_background(out_, "uas.xml", "203.0.113.10", {"-p", "5060"});
    std::string log;
    const bool ok = sipp(
        in_, "call_uac_codecs.xml", "192.0.2.10", "192.0.2.1:5060",
        {"-p", "5062", "-s", "bob", "-key", "target", "203.0.113.10", "-key", "from_user", "alice",
         "-key", "from_domain", "203.0.113.1", "-d", "200", "-key", "rtp_port", "40002"},
        &log);
    require_relay(mark);
    EXPECT_TRUE(ok) << log << daemon_.log();
    EXPECT_TRUE(background_ok(bob)) << read_file(bg_msg_);
    const std::string seen = read_file(bg_msg_);
    const size_t invite = seen.find("INVITE sip:bob@");
    ASSERT_NE(invite, std::string::npos) << seen;
    const std::string offer =
        seen.substr(invite, seen.find("\n\n", seen.find("m=audio", invite)) - invite);
    EXPECT_NE(offer.find("m=audio"), std::string::npos) << offer;
    EXPECT_EQ(offer.find("G729"), std::string::npos) << offer;
    EXPECT_EQ(offer.find("annexb"), std::string::npos) << offer;
    EXPECT_NE(offer.find("RTP/AVP 0 101"), std::string::npos) << offer;
    EXPECT_NE(offer.find("PCMU/8000"), std::string::npos) << offer;
    EXPECT_NE(offer.find("telephone-event"), std::string::npos) << offer;
    // The relay address, not alice's.
    EXPECT_NE(offer.find("c=IN IP4 203.0.113.1"), std::string::npos) << offer;
}

TEST_F(FaqProviderTest, OfferWithOnlyDeniedCodecsGets488) {
    // Anything sipmasq forwarded to bob would land here.
    const int bob = bind_ns(out_, "203.0.113.10", 5060);
    ASSERT_GE(bob, 0);
    std::string log;
    EXPECT_TRUE(
        sipp(in_, "call_488_codec.xml", "192.0.2.10", "192.0.2.1:5060",
             {"-p", "5062", "-s", "bob", "-key", "target", "203.0.113.10", "-key", "from_user",
              "alice", "-key", "from_domain", "203.0.113.1", "-key", "rtp_port", "40002"},
             &log))
        << log << daemon_.log();
    char buf[4096];
    EXPECT_LT(::recv(bob, buf, sizeof buf, MSG_DONTWAIT), 0) << "the INVITE went out";
    EXPECT_TRUE(daemon_.wait_for_log("no codec left after codec_allow/codec_deny", 5s))
        << daemon_.log();
}

TEST_F(FaqProviderTest, UnknownUserReachesTheDefaultTarget) {
    register_phone("reception", "192.0.2.20");
    const pid_t reception = sipp_background(in_, "uas.xml", "192.0.2.20", {"-p", "5060"});
    std::string log;
    EXPECT_TRUE(sipp(out_, "call_uac.xml", "203.0.113.10", "203.0.113.1:5060",
                     {"-p", "5062", "-s", "nobody", "-key", "target", "203.0.113.1", "-key",
                      "from_user", "bob", "-key", "from_domain", "203.0.113.10", "-d", "200"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(reception)) << read_file(bg_msg_);
    // The reception phone sees whom bob dialled.
    const std::string seen = read_file(bg_msg_);
    EXPECT_NE(seen.find("To: <sip:nobody@203.0.113.1>"), std::string::npos) << seen;
}

// A default target outside is never used: the caller gets 404, nothing
// goes back out.
class FaqOutsideTargetTest : public FaqTest {
  protected:
    std::string extra_config() override {
        return "default_target = sip:voicemail@203.0.113.10:5070\n";
    }
};

TEST_F(FaqOutsideTargetTest, OutsideDefaultTargetIsRefused) {
    const int target = bind_ns(out_, "203.0.113.10", 5070);
    ASSERT_GE(target, 0);
    std::string log;
    EXPECT_TRUE(sipp(out_, "call_404.xml", "203.0.113.10", "203.0.113.1:5060",
                     {"-p", "5062", "-s", "nobody", "-key", "target", "203.0.113.1", "-key",
                      "from_user", "mallory", "-key", "from_domain", "203.0.113.10"},
                     &log))
        << log << daemon_.log();
    char buf[2048];
    EXPECT_LT(::recv(target, buf, sizeof buf, MSG_DONTWAIT), 0) << "sipmasq relayed out again";
}

}  // namespace
}  // namespace sipmasq::test
