#include <gtest/gtest.h>

#include <string>

#include "osip_ptr.h"
#include "sdp_rewrite.h"
#include "sip_samples.h"

namespace sipmasq {
namespace {

const std::vector<SockAddr> kOwn = {*SockAddr::parse("192.0.2.1"), *SockAddr::parse("203.0.113.1")};

RelayTarget relay(const char* addr, uint16_t port) {
    RelayTarget r;
    r.rtp = *SockAddr::parse(addr);
    r.rtp.set_port(port);
    r.rtcp_port = static_cast<uint16_t>(port + 1);
    return r;
}

TEST(Sdp, InspectAndRewriteSessionLevel) {
    auto sdp = parse_sdp(samples::sdp_offer_alice());
    ASSERT_NE(sdp, nullptr);
    SdpInfo info;
    ASSERT_EQ(sdp_inspect(sdp.get(), kOwn, info), SdpStatus::Ok);
    ASSERT_EQ(info.media.size(), 1u);
    EXPECT_EQ(info.media[0].media, "audio");
    EXPECT_EQ(info.media[0].addr.to_string(), "192.0.2.10:49170");
    EXPECT_FALSE(info.media[0].hold);
    EXPECT_FALSE(info.media[0].disabled);
    EXPECT_EQ(info.media[0].rtcp_port, 49171);

    ASSERT_EQ(sdp_rewrite(sdp.get(), {relay("203.0.113.1", 30000)}), SdpStatus::Ok);
    const std::string out = sdp_to_string(sdp.get());
    EXPECT_NE(out.find("o=alice 2890844526 2890844526 IN IP4 203.0.113.1\r\n"), std::string::npos)
        << out;
    EXPECT_NE(out.find("c=IN IP4 203.0.113.1\r\n"), std::string::npos);
    EXPECT_NE(out.find("m=audio 30000 RTP/AVP 0 8 101\r\n"), std::string::npos);
    EXPECT_NE(out.find("a=rtcp:30001 IN IP4 203.0.113.1\r\n"), std::string::npos);
    EXPECT_EQ(out.find("192.0.2.10"), std::string::npos);
}

const char* kTwoStreams = R"(v=0
o=carol 28908764872 28908764872 IN IP4 192.0.2.20
s=-
c=IN IP4 192.0.2.20
t=0 0
m=audio 4000 RTP/AVP 0
c=IN IP4 192.0.2.21
a=rtcp:4005
m=video 0 RTP/AVP 31
m=video 5000 RTP/AVP 96
a=rtpmap:96 H264/90000
a=sendonly
)";

TEST(Sdp, TwoStreamsMediaLevelPortZeroAndHold) {
    auto sdp = parse_sdp(samples::crlf(kTwoStreams));
    ASSERT_NE(sdp, nullptr);
    SdpInfo info;
    ASSERT_EQ(sdp_inspect(sdp.get(), kOwn, info), SdpStatus::Ok);
    ASSERT_EQ(info.media.size(), 3u);
    EXPECT_EQ(info.media[0].addr.to_string(), "192.0.2.21:4000");  // media level wins
    EXPECT_EQ(info.media[0].rtcp_port, 4005);
    EXPECT_TRUE(info.media[1].disabled);
    EXPECT_EQ(info.media[2].addr.to_string(), "192.0.2.20:5000");  // session level
    EXPECT_TRUE(info.media[2].hold);
    EXPECT_FALSE(info.media[0].hold);

    // A missing relay for an active stream: refused, SDP untouched.
    const std::string before = sdp_to_string(sdp.get());
    EXPECT_EQ(sdp_rewrite(sdp.get(), {relay("203.0.113.1", 30000)}), SdpStatus::NoRelay);
    EXPECT_EQ(sdp_to_string(sdp.get()), before);

    ASSERT_EQ(sdp_rewrite(sdp.get(),
                          {relay("203.0.113.1", 30000), std::nullopt, relay("203.0.113.1", 30002)}),
              SdpStatus::Ok);
    const std::string out = sdp_to_string(sdp.get());
    EXPECT_NE(out.find("m=audio 30000 RTP/AVP 0\r\nc=IN IP4 203.0.113.1\r\na=rtcp:30001\r\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("m=video 0 RTP/AVP 31\r\n"), std::string::npos);
    EXPECT_NE(out.find("m=video 30002 RTP/AVP 96\r\n"), std::string::npos);
    EXPECT_EQ(out.find("192.0.2.2"), std::string::npos) << out;
}

TEST(Sdp, HoldWithUnspecifiedAddressKeepsIt) {
    auto sdp = parse_sdp(samples::crlf(R"(v=0
o=alice 2890844526 2890844527 IN IP4 192.0.2.10
s=-
c=IN IP4 0.0.0.0
t=0 0
m=audio 49170 RTP/AVP 0
)"));
    ASSERT_NE(sdp, nullptr);
    SdpInfo info;
    ASSERT_EQ(sdp_inspect(sdp.get(), kOwn, info), SdpStatus::Ok);
    EXPECT_TRUE(info.media[0].hold);
    ASSERT_EQ(sdp_rewrite(sdp.get(), {relay("203.0.113.1", 30000)}), SdpStatus::Ok);
    const std::string out = sdp_to_string(sdp.get());
    EXPECT_NE(out.find("c=IN IP4 0.0.0.0\r\n"), std::string::npos);
    EXPECT_NE(out.find("m=audio 30000 "), std::string::npos);
    EXPECT_NE(out.find("o=alice 2890844526 2890844527 IN IP4 203.0.113.1"), std::string::npos);
}

TEST(Sdp, InactiveIsHold) {
    std::string text = samples::sdp_offer_alice();
    text.replace(text.find("a=sendrecv"), 10, "a=inactive");
    auto sdp = parse_sdp(text);
    SdpInfo info;
    ASSERT_EQ(sdp_inspect(sdp.get(), kOwn, info), SdpStatus::Ok);
    EXPECT_TRUE(info.media[0].hold);
}

TEST(Sdp, RefusedAddresses) {
    for (const char* addr : {"255.255.255.255", "224.2.1.1", "192.0.2.1", "203.0.113.1"}) {
        std::string text = samples::sdp_offer_alice();
        text.replace(text.find("c=IN IP4 192.0.2.10"), 19, std::string("c=IN IP4 ") + addr);
        auto sdp = parse_sdp(text);
        ASSERT_NE(sdp, nullptr);
        SdpInfo info;
        EXPECT_EQ(sdp_inspect(sdp.get(), kOwn, info), SdpStatus::RefusedAddress) << addr;
    }
    // Unspecified without hold direction is still hold (RFC 2543); but a name is refused.
    std::string text = samples::sdp_offer_alice();
    text.replace(text.find("c=IN IP4 192.0.2.10"), 19, "c=IN IP4 host.example.org");
    SdpInfo info;
    EXPECT_EQ(sdp_inspect(parse_sdp(text).get(), kOwn, info), SdpStatus::BadAddress);
    text = samples::crlf("v=0\no=a 1 1 IN IP4 192.0.2.10\ns=-\nt=0 0\nm=audio 4000 RTP/AVP 0\n");
    EXPECT_EQ(sdp_inspect(parse_sdp(text).get(), kOwn, info), SdpStatus::NoConnection);
    text = samples::crlf("v=0\no=a 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\n");
    EXPECT_EQ(sdp_inspect(parse_sdp(text).get(), kOwn, info), SdpStatus::NoMedia);
    text = samples::crlf(
        "v=0\no=a 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 99999 RTP/AVP "
        "0\n");
    EXPECT_EQ(sdp_inspect(parse_sdp(text).get(), kOwn, info), SdpStatus::BadPort);
}

TEST(Sdp, Ipv6Relay) {
    auto sdp = parse_sdp(samples::sdp_offer_alice());
    ASSERT_EQ(sdp_rewrite(sdp.get(), {relay("2001:db8::1", 30010)}), SdpStatus::Ok);
    const std::string out = sdp_to_string(sdp.get());
    EXPECT_NE(out.find("c=IN IP6 2001:db8::1\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("a=rtcp:30011 IN IP6 2001:db8::1"), std::string::npos);
}

TEST(Sdp, MessageBodyReplacedAndContentLengthFixed) {
    sip_parser_init();
    auto msg = parse_sip_message(samples::invite_alice_to_bob());
    ASSERT_NE(msg, nullptr);
    auto sdp = sdp_of_message(msg.get());
    ASSERT_NE(sdp, nullptr);
    ASSERT_EQ(sdp_rewrite(sdp.get(), {relay("203.0.113.1", 31234)}), SdpStatus::Ok);
    const std::string body = sdp_to_string(sdp.get());
    ASSERT_TRUE(replace_message_body(msg.get(), body));
    const std::string out = sip_message_to_string(msg.get());
    const size_t sep = out.find("\r\n\r\n");
    ASSERT_NE(sep, std::string::npos);
    EXPECT_EQ(out.substr(sep + 4), body);
    // libosip2 writes the length itself, right-aligned: "Content-Length:   244".
    const size_t cl = out.find("Content-Length:");
    ASSERT_NE(cl, std::string::npos);
    const size_t eol = out.find("\r\n", cl);
    std::string value = out.substr(cl + 15, eol - cl - 15);
    value.erase(0, value.find_first_not_of(' '));
    EXPECT_EQ(value, std::to_string(body.size())) << out;
    EXPECT_EQ(out.find("Content-Length", out.find("Content-Length") + 1), std::string::npos);
    // And it parses back to the same SDP.
    auto again = parse_sip_message(out);
    ASSERT_NE(again, nullptr);
    auto sdp2 = sdp_of_message(again.get());
    ASSERT_NE(sdp2, nullptr);
    SdpInfo info;
    ASSERT_EQ(sdp_inspect(sdp2.get(), {}, info), SdpStatus::Ok);
    EXPECT_EQ(info.media[0].addr.to_string(), "203.0.113.1:31234");
}

TEST(Sdp, NoSdpBody) {
    sip_parser_init();
    auto msg = parse_sip_message(samples::register_alice());
    ASSERT_NE(msg, nullptr);
    EXPECT_EQ(sdp_of_message(msg.get()), nullptr);
}

}  // namespace
}  // namespace sipmasq
