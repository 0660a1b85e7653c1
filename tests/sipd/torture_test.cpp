// A few RFC 4475 style torture messages (written for these tests): the
// precheck and libosip2 either refuse them or yield something sane, and the
// proxy steps run on whatever parses without crashing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "osip_ptr.h"
#include "precheck.h"
#include "proxy_rewrite.h"
#include "request_routing.h"
#include "sdp_rewrite.h"
#include "sip_response.h"
#include "sip_samples.h"

namespace sipmasq {
namespace {

std::vector<std::string> torture() {
    using samples::crlf;
    return {
        // 3.1.1.1 wsinv-like: folding, odd whitespace, compact and long names.
        crlf("INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\n"
             "TO :\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\n"
             "from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\n  ;\n  tag = "
             "98asjd8\n"
             "MaX-fOrWaRdS: 0068\nCall-ID: wsinv.ndaksdj@192.0.2.1\nContent-Length   : 0\n"
             "cseq: 0009\n  INVITE\nVia  : SIP  /   2.0\n  /UDP\n    192.0.2.2;branch=390skdjuw\n"
             "s :\nNewFangledHeader:   newfangled value\n continued newfangled value\n"
             "UnknownHeaderWithUnusualValue: ;;,,;;,;\nm:\"Quoted "
             "string\\\"\\\"\"<sip:jdrosen@example.com> ; newparam =\n"
             "      newvalue ;\n  secondparam ; q = 0.33\n\n"),
        // 3.1.2.x: a negative Content-Length.
        crlf("INVITE sip:user@example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bK1\n"
             "Max-Forwards: 70\nFrom: <sip:a@b>;tag=1\nTo: <sip:user@example.com>\nCall-ID: ncl\n"
             "CSeq: 1 INVITE\nContent-Length: -999\nContent-Type: application/sdp\n\nv=0\n"),
        // Huge Content-Length, far past the datagram.
        crlf("INVITE sip:user@example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bK2\n"
             "Max-Forwards: 70\nFrom: <sip:a@b>;tag=1\nTo: <sip:user@example.com>\nCall-ID: bcl\n"
             "CSeq: 1 INVITE\nContent-Length: 9999999999\n\n"),
        // Max-Forwards overflow, escaped URI, bad port.
        crlf("OPTIONS sip:%75ser@example.com:99999 SIP/2.0\nVia: SIP/2.0/UDP "
             "192.0.2.1;branch=z9hG4bK3\n"
             "Max-Forwards: 300\nFrom: <sip:a@b>;tag=1\nTo: <sip:user@example.com>\nCall-ID: mf\n"
             "CSeq: 1 OPTIONS\nContent-Length: 0\n\n"),
        // Missing Call-ID and CSeq, no Via.
        crlf("BYE sip:user@example.com SIP/2.0\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>;tag=2\n"
             "Content-Length: 0\n\n"),
        // Unknown scheme and IPv6 with no brackets in Via.
        crlf("INVITE tel:+1-555-0100 SIP/2.0\nVia: SIP/2.0/UDP 2001:db8::9:5060;branch=z9hG4bK4\n"
             "Max-Forwards: 70\nFrom: <sip:a@b>;tag=1\nTo: <tel:+1-555-0100>\nCall-ID: tel\n"
             "CSeq: 1 INVITE\nContent-Length: 0\n\n"),
        // A response with an absurd status and no Via.
        crlf("SIP/2.0 699 Whatever\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCall-ID: x\nCSeq: 1 "
             "INVITE\n"
             "Content-Length: 0\n\n"),
        // SDP with a garbage media line and a c= with a TTL.
        samples::with_body(
            "INVITE sip:bob@203.0.113.50 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK5\n"
            "Max-Forwards: 70\nFrom: <sip:a@b>;tag=1\nTo: <sip:bob@203.0.113.50>\n"
            "Call-ID: sdp\nCSeq: 1 INVITE\nContent-Type: application/sdp\n",
            "v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 224.2.1.1/127\nt=0 0\n"
            "m=audio x RTP/AVP\nm=\n"),
        // Request-URI with an embedded header-ish escape and many params.
        crlf("INVITE sip:user@example.com;lr;maddr=192.0.2.66;transport=udp;a;b;c;d;e=f?Subject=x "
             "SIP/2.0\n"
             "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK6;rport;received=\nMax-Forwards: 1\n"
             "Route: <sip:192.0.2.1;lr>,<sip:192.0.2.1;lr>,<sip:192.0.2.1;lr>\n"
             "From: <sip:a@b>;tag=1\nTo: <sip:user@example.com>\nCall-ID: p\nCSeq: 1 INVITE\n"
             "Content-Length: 0\n\n"),
    };
}

TEST(Torture, NothingCrashesAndResultsAreSane) {
    sip_parser_init();
    RoutingPolicy p;
    p.us.inside = {"192.0.2.1", 5060};
    p.us.outside = {"203.0.113.1", 5060};
    p.public_host = "203.0.113.1";
    p.inside_networks = {*Cidr::parse("192.0.2.0/24")};
    RegistrationTable table;
    ContactMap map;
    const SockAddr src = *SockAddr::parse("203.0.113.50:5060");
    int parsed = 0;
    for (const std::string& text : torture()) {
        const auto pre = precheck_datagram(text);
        auto msg = parse_sip_message(text);
        if (msg == nullptr) continue;
        ++parsed;
        if (MSG_IS_RESPONSE(msg.get())) {
            EXPECT_FALSE(pop_own_via(msg.get(), p.us));  // not ours: dropped
            continue;
        }
        (void)pre;
        const int mf = check_and_decrement_max_forwards(msg.get());
        EXPECT_TRUE(mf == 0 || mf == 400 || mf == 483);
        stamp_received_rport(msg.get(), src);
        (void)pop_own_routes(msg.get(), p.us);
        for (Side side : {Side::Inside, Side::Outside}) {
            const auto d = route_request(p, msg.get(), side, src, table, map, 0);
            if (side == Side::Outside && d.action == RouteAction::Forward) {
                EXPECT_EQ(d.out_side, Side::Inside);  // never relayed back out
            }
        }
        const std::string branch = compute_branch(msg.get(), p.us);
        EXPECT_EQ(branch.rfind("z9hG4bKsmq", 0), 0u);
        if (osip_list_size(&msg->vias) > 0) {
            EXPECT_EQ(add_own_via(msg.get(), p.us.outside, branch), 0);
        }
        (void)build_response(msg.get(), 400);
        if (auto sdp = sdp_of_message(msg.get())) {
            SdpInfo info;
            EXPECT_NE(sdp_inspect(sdp.get(), {}, info), SdpStatus::Ok);
        }
        (void)sip_message_to_string(msg.get());
    }
    EXPECT_GT(parsed, 0);
}

TEST(Torture, PrecheckRefusesWhatItShould) {
    const auto t = torture();
    // The BYE without Via still has a valid start line: precheck passes it on.
    EXPECT_TRUE(precheck_datagram(t[4]).ok());
    // Truncated message: no end of headers.
    EXPECT_EQ(precheck_datagram(t[0].substr(0, 200)).reason, PrecheckReason::NoHeaderEnd);
}

TEST(Torture, RequestWithoutViaGetsNoResponse) {
    sip_parser_init();
    auto msg = parse_sip_message(torture()[4]);
    if (msg == nullptr) GTEST_SKIP() << "libosip2 refuses a request without Call-ID";
    EXPECT_EQ(build_response(msg.get(), 400), nullptr);
}

}  // namespace
}  // namespace sipmasq
