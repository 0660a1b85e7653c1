// RFC 3261 §18.3 framing on TCP: messages split and merged across reads,
// missing and invalid Content-Length, the size limit, and the RFC 5626
// keep-alives.
#include "stream_framer.h"

#include <gtest/gtest.h>

#include <string>

using namespace sipmasq;

namespace {

std::string options(std::string_view body, std::string_view length_header) {
    return "OPTIONS sip:bob@192.0.2.1 SIP/2.0\r\n"
           "Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK1\r\n"
           "Call-ID: a@b\r\nCSeq: 1 OPTIONS\r\n" +
           std::string(length_header) + "\r\n\r\n" + std::string(body);
}

std::string with_length(std::string_view body) {
    return options(body, "Content-Length: " + std::to_string(body.size()));
}

}  // namespace

TEST(StreamFramer, OneMessageWithBody) {
    StreamFramer f(65535);
    const std::string m = with_length("v=0\r\n");
    f.append(m);
    Frame fr = f.next();
    ASSERT_EQ(fr.kind, FrameKind::Message);
    EXPECT_EQ(fr.message, m);
    EXPECT_EQ(f.next().kind, FrameKind::NeedMore);
    EXPECT_EQ(f.buffered(), 0u);
}

TEST(StreamFramer, SplitAcrossReadsByteByByte) {
    StreamFramer f(65535);
    const std::string m = with_length("hello body");
    for (size_t i = 0; i + 1 < m.size(); ++i) {
        f.append(m.substr(i, 1));
        ASSERT_EQ(f.next().kind, FrameKind::NeedMore) << "after " << i + 1 << " bytes";
    }
    f.append(m.substr(m.size() - 1));
    Frame fr = f.next();
    ASSERT_EQ(fr.kind, FrameKind::Message);
    EXPECT_EQ(fr.message, m);
}

TEST(StreamFramer, MergedMessagesComeOutOneByOne) {
    StreamFramer f(65535);
    const std::string a = with_length("first");
    const std::string b = with_length("");
    const std::string c = with_length("third body");
    f.append(a + b + c.substr(0, 20));
    EXPECT_EQ(f.next().message, a);
    EXPECT_EQ(f.next().message, b);
    EXPECT_EQ(f.next().kind, FrameKind::NeedMore);
    f.append(c.substr(20));
    EXPECT_EQ(f.next().message, c);
}

TEST(StreamFramer, CompactAndSpacedContentLength) {
    StreamFramer f(65535);
    const std::string m = options("abc", "l :  3 ");
    f.append(m);
    Frame fr = f.next();
    ASSERT_EQ(fr.kind, FrameKind::Message);
    EXPECT_EQ(fr.message, m);
}

TEST(StreamFramer, MissingContentLengthIsAnError) {
    StreamFramer f(65535);
    f.append(options("", "Max-Forwards: 70"));
    Frame fr = f.next();
    EXPECT_EQ(fr.kind, FrameKind::Error);
    EXPECT_STREQ(fr.error, "no valid Content-Length");
    f.append(with_length(""));  // nothing after a failure: the connection closes
    EXPECT_EQ(f.next().kind, FrameKind::Error);
}

TEST(StreamFramer, InvalidContentLengthsAreErrors) {
    for (const char* bad : {"Content-Length: -1", "Content-Length: 12x",
                            "Content-Length:", "Content-Length: 1234567890", "Content-Length: 0x10",
                            "Content-Length: 1\r\nContent-Length: 1", "Content-Length: 0\r\n 5",
                            "Content-Length: +4"}) {
        StreamFramer f(65535);
        f.append(options("", bad));
        EXPECT_EQ(f.next().kind, FrameKind::Error) << bad;
    }
}

TEST(StreamFramer, OversizeMessageIsAnErrorBeforeTheBodyArrives) {
    StreamFramer f(1024);
    f.append(options("", "Content-Length: 5000"));
    Frame fr = f.next();
    EXPECT_EQ(fr.kind, FrameKind::Error);
    EXPECT_STREQ(fr.error, "message larger than the size limit");
}

TEST(StreamFramer, EndlessHeadersAreAnError) {
    StreamFramer f(1024);
    f.append("OPTIONS sip:x SIP/2.0\r\n");
    std::string filler = "X-Filler: " + std::string(100, 'a') + "\r\n";
    Frame fr;
    for (int i = 0; i < 20 && fr.kind != FrameKind::Error; ++i) {
        f.append(filler);
        fr = f.next();
    }
    EXPECT_EQ(fr.kind, FrameKind::Error);
    EXPECT_STREQ(fr.error, "headers longer than the message size limit");
}

TEST(StreamFramer, DoubleCrlfIsAPingAndSingleCrlfIsSkipped) {
    StreamFramer f(65535);
    f.append("\r\n\r\n");
    EXPECT_EQ(f.next().kind, FrameKind::Ping);
    EXPECT_EQ(f.next().kind, FrameKind::NeedMore);
    const std::string m = with_length("");
    f.append("\r\n" + m);  // a pong, then a message
    Frame fr = f.next();
    ASSERT_EQ(fr.kind, FrameKind::Message);
    EXPECT_EQ(fr.message, m);
    // A ping split over two reads is still one ping.
    f.append("\r\n");
    EXPECT_EQ(f.next().kind, FrameKind::NeedMore);
    f.append("\r\n");
    EXPECT_EQ(f.next().kind, FrameKind::Ping);
}

TEST(StreamFramer, DeclaredContentLengthScanIsStrict) {
    EXPECT_EQ(declared_content_length("INVITE x SIP/2.0\r\ncontent-length: 42"), 42);
    EXPECT_EQ(declared_content_length("INVITE x SIP/2.0\r\nL: 7\r\nVia: x"), 7);
    // A header whose name merely contains it does not count.
    EXPECT_EQ(declared_content_length("INVITE x SIP/2.0\r\nX-Content-Length: 3"), -1);
    // The start line is never a header.
    EXPECT_EQ(declared_content_length("Content-Length: 3"), -1);
}
