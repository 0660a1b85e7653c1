#include "sip_samples.h"

namespace sipmasq::samples {

bool unique_branches = false;

std::string crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 64);
    char prev = '\0';
    for (char c : text) {
        if (c == '\n' && prev != '\r') out += '\r';
        out += c;
        prev = c;
    }
    // Played as a phone, each request a sample makes is a new one: its top
    // Via gets a branch of its own (a retransmission is the same bytes sent
    // again).
    static unsigned serial = 0;
    const size_t at = out.find("branch=z9hG4bK");
    if (unique_branches && out.rfind("SIP/2.0", 0) != 0 && at != std::string::npos) {
        const size_t end = out.find_first_of(";\r", at);
        out.insert(end == std::string::npos ? out.size() : end, "-" + std::to_string(++serial));
    }
    return out;
}

std::string with_body(std::string_view headers_without_length, std::string_view body) {
    std::string out = crlf(headers_without_length);
    const std::string b = crlf(body);
    out += "Content-Length: " + std::to_string(b.size()) + "\r\n\r\n";
    out += b;
    return out;
}

std::string register_alice() {
    return with_body(R"(REGISTER sip:203.0.113.1 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport
Max-Forwards: 70
To: "Alice" <sip:alice@203.0.113.1>
From: "Alice" <sip:alice@203.0.113.1>;tag=1928301774
Call-ID: a84b4c76e66710@192.0.2.10
CSeq: 314159 REGISTER
Contact: <sip:alice@192.0.2.10:5060;transport=udp>;expires=3600
User-Agent: Linphone/5.0
)",
                     "");
}

std::string register_alice_two_contacts() {
    return with_body(R"(REGISTER sip:203.0.113.1 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhdt;rport
Max-Forwards: 70
To: <sip:alice@203.0.113.1>
From: <sip:alice@203.0.113.1>;tag=1928301775
Call-ID: a84b4c76e66710@192.0.2.10
CSeq: 314160 REGISTER
Contact: <sip:alice@192.0.2.10:5060>;expires=600, <sip:alice@192.0.2.11:5062>
Expires: 1800
)",
                     "");
}

std::string register_alice_star() {
    return with_body(R"(REGISTER sip:203.0.113.1 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhdu
Max-Forwards: 70
To: <sip:alice@203.0.113.1>
From: <sip:alice@203.0.113.1>;tag=1928301776
Call-ID: a84b4c76e66710@192.0.2.10
CSeq: 314161 REGISTER
Contact: *
Expires: 0
)",
                     "");
}

std::string register_alice_query() {
    return with_body(R"(REGISTER sip:203.0.113.1 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhdv
Max-Forwards: 70
To: <sip:alice@203.0.113.1>
From: <sip:alice@203.0.113.1>;tag=1928301777
Call-ID: a84b4c76e66710@192.0.2.10
CSeq: 314162 REGISTER
)",
                     "");
}

std::string sdp_offer_alice() {
    return crlf(R"(v=0
o=alice 2890844526 2890844526 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
m=audio 49170 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=rtcp:49171 IN IP4 192.0.2.10
a=sendrecv
)");
}

std::string invite_alice_to_bob() {
    return with_body(R"(INVITE sip:bob@203.0.113.50 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8;rport
Max-Forwards: 70
To: Bob <sip:bob@203.0.113.50>
From: Alice <sip:alice@203.0.113.1>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 314159 INVITE
Contact: <sip:alice@192.0.2.10:5060>
Content-Type: application/sdp
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS
)",
                     sdp_offer_alice());
}

std::string ok_from_bob(std::string_view our_via_branch) {
    std::string text = R"(SIP/2.0 200 OK
Via: SIP/2.0/UDP 203.0.113.1:5060;branch=)";
    text += our_via_branch;
    text += R"(
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8;rport=5060;received=192.0.2.10
Record-Route: <sip:203.0.113.1:5060;lr>, <sip:192.0.2.1:5060;lr>
To: Bob <sip:bob@203.0.113.50>;tag=a6c85cf
From: Alice <sip:alice@203.0.113.1>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 314159 INVITE
Contact: <sip:bob@203.0.113.50:5060>
Content-Type: application/sdp
)";
    return with_body(text, R"(v=0
o=bob 2808844564 2808844564 IN IP4 203.0.113.50
s=-
c=IN IP4 203.0.113.50
t=0 0
m=audio 3456 RTP/AVP 0
a=rtpmap:0 PCMU/8000
)");
}

std::string invite_bob_to_alice_public() {
    return with_body(R"(INVITE sip:alice@203.0.113.1 SIP/2.0
Via: SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bKbob0001
Max-Forwards: 70
To: <sip:alice@203.0.113.1>
From: Bob <sip:bob@203.0.113.50>;tag=9fxced76sl
Call-ID: 3848276298220188511@203.0.113.50
CSeq: 1 INVITE
Contact: <sip:bob@203.0.113.50:5060>
Content-Type: application/sdp
)",
                     R"(v=0
o=bob 2808844564 2808844564 IN IP4 203.0.113.50
s=-
c=IN IP4 203.0.113.50
t=0 0
m=audio 3456 RTP/AVP 0
a=rtpmap:0 PCMU/8000
)");
}

}  // namespace sipmasq::samples
