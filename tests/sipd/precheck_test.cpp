#include "precheck.h"

#include <gtest/gtest.h>

#include <string>

#include "osip_ptr.h"
#include "sip_samples.h"

namespace sipmasq {
namespace {

TEST(Precheck, RealMessagesPass) {
    auto r = precheck_datagram(samples::invite_alice_to_bob());
    EXPECT_EQ(r.reason, PrecheckReason::Ok);
    EXPECT_EQ(r.kind, StartLineKind::Request);
    r = precheck_datagram(samples::ok_from_bob("z9hG4bKsmqabc"));
    EXPECT_EQ(r.reason, PrecheckReason::Ok);
    EXPECT_EQ(r.kind, StartLineKind::Response);
    EXPECT_EQ(precheck_datagram(samples::register_alice()).reason, PrecheckReason::Ok);
}

TEST(Precheck, KeepAlive) {
    EXPECT_EQ(precheck_datagram("\r\n\r\n").reason, PrecheckReason::KeepAlive);
    EXPECT_EQ(precheck_datagram("").reason, PrecheckReason::KeepAlive);
}

TEST(Precheck, SizeBounds) {
    EXPECT_EQ(precheck_datagram("OPTIONS sip:a SIP/2.0\r\n\r\n").reason, PrecheckReason::TooShort);
    std::string big = samples::invite_alice_to_bob();
    big += std::string(20000, 'x');
    EXPECT_EQ(precheck_datagram(big).reason, PrecheckReason::TooLong);
    PrecheckLimits tight;
    tight.max_size = 100;
    EXPECT_EQ(precheck_datagram(samples::invite_alice_to_bob(), tight).reason,
              PrecheckReason::TooLong);
}

TEST(Precheck, Nul) {
    std::string msg = samples::register_alice();
    msg[40] = '\0';
    EXPECT_EQ(precheck_datagram(msg).reason, PrecheckReason::ContainsNul);
}

TEST(Precheck, LineTooLong) {
    std::string msg = samples::register_alice();
    const std::string header = "X-Junk: " + std::string(3000, 'a') + "\r\n";
    msg.insert(msg.find("Max-Forwards"), header);
    EXPECT_EQ(precheck_datagram(msg).reason, PrecheckReason::LineTooLong);
}

TEST(Precheck, NoHeaderEnd) {
    std::string msg = samples::crlf(
        "OPTIONS sip:bob@203.0.113.50 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKx\n");
    EXPECT_EQ(precheck_datagram(msg).reason, PrecheckReason::NoHeaderEnd);
}

TEST(Precheck, BadStartLines) {
    const char* tail = "\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKx\r\n\r\n";
    for (const char* start : {
             "INVITE sip:bob@203.0.113.50 SIP/1.0",     // version
             "INVITE  sip:bob@203.0.113.50 SIP/2.0",    // double space
             "INVITE sip:bob@203.0.113.50",             // no version
             "INV(TE sip:bob@203.0.113.50 SIP/2.0",     // not a token
             "INVITE bob SIP/2.0 and more stuff here",  // no scheme, trailing junk
             "SIP/2.0 2000 OK",                         // four digits
             "SIP/2.0 099 Too low",                     // class 0
             "SIP/2.0 OK 200",                          // not a status
             "HTTP/1.1 200 OK",
             "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 sip:x SIP/2.0",  // TLS hello
         }) {
        const std::string msg = std::string(start) + tail;
        EXPECT_EQ(precheck_datagram(msg).reason, PrecheckReason::BadStartLine) << start;
    }
    EXPECT_EQ(precheck_datagram(std::string(100, 'a')).reason, PrecheckReason::BadStartLine);
}

TEST(Precheck, StatusWithoutReasonPhrase) {
    const std::string msg = samples::crlf(
        "SIP/2.0 180\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKx\nContent-Length: 0\n\n");
    EXPECT_TRUE(precheck_datagram(msg).ok());
}

TEST(Precheck, ReasonNames) {
    EXPECT_STREQ(precheck_reason_name(PrecheckReason::BadStartLine), "bad start line");
    EXPECT_STREQ(precheck_reason_name(PrecheckReason::Ok), "ok");
}

TEST(OsipPtr, ParseAndSerialiseRoundTrip) {
    sip_parser_init();
    auto msg = parse_sip_message(samples::invite_alice_to_bob());
    ASSERT_NE(msg, nullptr);
    EXPECT_STREQ(msg->sip_method, "INVITE");
    const std::string out = sip_message_to_string(msg.get());
    EXPECT_NE(out.find("INVITE sip:bob@203.0.113.50 SIP/2.0\r\n"), std::string::npos);
    EXPECT_NE(out.find("m=audio 49170 RTP/AVP 0 8 101"), std::string::npos);
    auto again = parse_sip_message(out);
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(parse_sip_message("garbage that is not sip\r\n\r\n"), nullptr);

    auto uri = parse_uri("sip:alice@192.0.2.10:5062;transport=udp");
    ASSERT_NE(uri, nullptr);
    EXPECT_STREQ(uri->host, "192.0.2.10");
    EXPECT_EQ(uri_to_string(uri.get()), "sip:alice@192.0.2.10:5062;transport=udp");
    EXPECT_EQ(parse_uri("not a uri"), nullptr);
    auto sdp = parse_sdp(samples::sdp_offer_alice());
    ASSERT_NE(sdp, nullptr);
    EXPECT_NE(sdp_to_string(sdp.get()).find("c=IN IP4 192.0.2.10"), std::string::npos);
}

}  // namespace
}  // namespace sipmasq
