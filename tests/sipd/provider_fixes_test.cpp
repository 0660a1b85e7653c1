// The provider fixes on real libosip2 messages: the codec filter on SDP,
// header stripping and replacing by parsed name (compact forms too),
// ua_string, and where default_target and did_range send an outside INVITE
// for a user with no registration (never back outside).
#include <gtest/gtest.h>

#include <cctype>

#include "codec_filter.h"
#include "header_fixes.h"
#include "osip_ptr.h"
#include "provider_routing.h"
#include "provider_targets.h"
#include "request_routing.h"
#include "sip_samples.h"

namespace sipmasq {
namespace {

const char* const kOffer =
    "v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 18 0 8 101\r\n"
    "a=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\n"
    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
    "m=video 40002 RTP/AVP 34\r\n";

SdpMessagePtr offer() {
    sip_parser_init();
    SdpMessagePtr sdp = parse_sdp(kOffer);
    EXPECT_NE(sdp, nullptr);
    return sdp;
}

std::vector<std::string> formats(const sdp_message_t* sdp, int m) {
    std::vector<std::string> out;
    const auto* media = static_cast<const sdp_media_t*>(osip_list_get(&sdp->m_medias, m));
    for (int i = 0; i < osip_list_size(&media->m_payloads); ++i)
        out.emplace_back(static_cast<const char*>(osip_list_get(&media->m_payloads, i)));
    return out;
}

std::string port(const sdp_message_t* sdp, int m) {
    return static_cast<const sdp_media_t*>(osip_list_get(&sdp->m_medias, m))->m_port;
}

TEST(CodecFilter, DenyByNameRemovesTheFormatAndItsAttributes) {
    auto sdp = offer();
    const auto r = filter_codecs(sdp.get(), {{}, {"g729"}});
    EXPECT_EQ(r.removed, 1u);
    EXPECT_EQ(r.active_left, 2u);
    EXPECT_EQ(formats(sdp.get(), 0), (std::vector<std::string>{"0", "8", "101"}));
    const std::string text = sdp_to_string(sdp.get());
    EXPECT_EQ(text.find("G729"), std::string::npos) << text;
    EXPECT_EQ(text.find("annexb"), std::string::npos) << text;
    EXPECT_NE(text.find("a=fmtp:101 0-16"), std::string::npos) << text;
    EXPECT_NE(text.find("m=audio 40000 RTP/AVP 0 8 101"), std::string::npos) << text;
    // What libosip2 writes parses again.
    EXPECT_NE(parse_sdp(text), nullptr);
}

TEST(CodecFilter, StaticPayloadTypesAreKnownByNameAndNumber) {
    auto sdp = offer();
    EXPECT_EQ(codec_name(static_cast<sdp_media_t*>(osip_list_get(&sdp->m_medias, 1)), "34"),
              "H263");
    (void)filter_codecs(sdp.get(), {{}, {"8"}});
    EXPECT_EQ(formats(sdp.get(), 0), (std::vector<std::string>{"18", "0", "101"}));
    EXPECT_EQ(sdp_to_string(sdp.get()).find("PCMA"), std::string::npos);
}

TEST(CodecFilter, AllowKeepsOnlyWhatItNames) {
    auto sdp = offer();
    const auto r = filter_codecs(sdp.get(), {{"PCMA", "telephone-event"}, {}});
    EXPECT_EQ(formats(sdp.get(), 0), (std::vector<std::string>{"8", "101"}));
    // The video stream had nothing allowed: disabled, not emptied.
    EXPECT_EQ(port(sdp.get(), 1), "0");
    EXPECT_EQ(formats(sdp.get(), 1), (std::vector<std::string>{"34"}));
    EXPECT_EQ(r.disabled, 1u);
    EXPECT_EQ(r.active_left, 1u);
}

TEST(CodecFilter, NothingLeftDisablesEveryStream) {
    auto sdp = offer();
    const auto r = filter_codecs(sdp.get(), {{"G722"}, {}});
    EXPECT_EQ(r.active_left, 0u);
    EXPECT_EQ(r.disabled, 2u);
    EXPECT_EQ(port(sdp.get(), 0), "0");
    EXPECT_EQ(port(sdp.get(), 1), "0");
    // No filter: nothing changes.
    auto untouched = offer();
    const auto none = filter_codecs(untouched.get(), {});
    EXPECT_EQ(none.removed + none.disabled, 0u);
    EXPECT_EQ(none.active_left, 2u);
}

// libosip2 writes the names of headers it does not parse in lower case.
std::string lowered(osip_message_t* msg) {
    std::string text = sip_message_to_string(msg);
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::string with_headers(const std::string& extra) {
    return samples::crlf(
        "INVITE sip:bob@203.0.113.50 SIP/2.0\n"
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKh1\n"
        "Max-Forwards: 70\nTo: <sip:bob@203.0.113.50>\n"
        "From: <sip:alice@203.0.113.1>;tag=1\nCall-ID: h1@192.0.2.10\nCSeq: 1 INVITE\n"
        "Contact: <sip:alice@192.0.2.10>\n" +
        extra + "Content-Length: 0\n\n");
}

TEST(HeaderFixes, StripMatchesTheParsedNameInEitherForm) {
    sip_parser_init();
    auto msg =
        parse_sip_message(with_headers("User-Agent: Phone 1.0\ns: full name\nSubject: long form\n"
                                       "Allow: INVITE, ACK\nX-Secret: 1\n"));
    ASSERT_NE(msg, nullptr);
    EXPECT_EQ(strip_header(msg.get(), "subject"), 2u);
    EXPECT_EQ(strip_header(msg.get(), "Allow"), 2u);  // libosip2 keeps one entry per method
    EXPECT_EQ(strip_header(msg.get(), "Via"), 0u);    // never what sipmasq needs
    const HeaderFixes fixes{{"x-secret"}, {}, ""};
    apply_header_fixes(msg.get(), fixes, Side::Outside);
    const std::string text = lowered(msg.get());
    EXPECT_EQ(text.find("subject"), std::string::npos) << text;
    EXPECT_EQ(text.find("\r\ns:"), std::string::npos) << text;
    EXPECT_EQ(text.find("allow"), std::string::npos) << text;
    EXPECT_EQ(text.find("x-secret"), std::string::npos) << text;
    EXPECT_NE(text.find("user-agent: phone 1.0"), std::string::npos) << text;
    EXPECT_NE(text.find("via: sip/2.0/udp 192.0.2.10:5060"), std::string::npos) << text;
    EXPECT_NE(parse_sip_message(sip_message_to_string(msg.get())), nullptr);
}

TEST(HeaderFixes, ReplaceOnlyWhereThePresentAndUaStringOutsideOnly) {
    sip_parser_init();
    const HeaderFixes fixes{{}, {{"Organization", "Example"}}, "sipmasq-gw"};
    auto out =
        parse_sip_message(with_headers("User-Agent: Phone 1.0\nUser-Agent: again\n"
                                       "Organization: Alice Inc\n"));
    apply_header_fixes(out.get(), fixes, Side::Outside);
    const std::string text = lowered(out.get());
    EXPECT_EQ(text.find("phone 1.0"), std::string::npos) << text;
    EXPECT_EQ(text.find("again"), std::string::npos) << text;
    EXPECT_EQ(text.find("alice inc"), std::string::npos) << text;
    EXPECT_NE(text.find("organization: example"), std::string::npos) << text;
    EXPECT_NE(text.find("user-agent: sipmasq-gw"), std::string::npos) << text;
    EXPECT_EQ(text.find("user-agent"), text.rfind("user-agent")) << text;  // exactly one

    // A request without User-Agent gets one outside, and none inside.
    auto bare = parse_sip_message(with_headers(""));
    apply_header_fixes(bare.get(), fixes, Side::Outside);
    EXPECT_NE(lowered(bare.get()).find("user-agent: sipmasq-gw"), std::string::npos);
    EXPECT_EQ(lowered(bare.get()).find("organization"), std::string::npos);
    auto inward = parse_sip_message(with_headers("User-Agent: Provider\n"));
    apply_header_fixes(inward.get(), fixes, Side::Inside);
    EXPECT_NE(lowered(inward.get()).find("user-agent: provider"), std::string::npos);
}

TEST(DidRange, NumbersInRangeOnly) {
    const std::vector<DidRange> ranges = {{"trunk@voip.example.com", "4930123400", "4930123499"},
                                          {"other@voip.example.com", "+4989100", "+4989199"}};
    EXPECT_EQ(did_account(ranges, "4930123400"), "trunk@voip.example.com");
    EXPECT_EQ(did_account(ranges, "4930123499"), "trunk@voip.example.com");
    EXPECT_EQ(did_account(ranges, "4930123500"), std::nullopt);
    EXPECT_EQ(did_account(ranges, "493012340"), std::nullopt);  // shorter
    EXPECT_EQ(did_account(ranges, "+4989150"), "other@voip.example.com");
    EXPECT_EQ(did_account(ranges, "4989150"), std::nullopt);  // without the +
    EXPECT_EQ(did_account(ranges, "alice"), std::nullopt);
}

// Routing of outside INVITEs with no registration.
struct Targets : ::testing::Test {
    RoutingPolicy p;
    RegistrationTable table;
    ContactMap map;
    const SockAddr outsider = *SockAddr::parse("203.0.113.50:5060");

    Targets() {
        sip_parser_init();
        p.us.inside = {"192.0.2.1", 5060};
        p.us.outside = {"203.0.113.1", 5060};
        p.public_host = "203.0.113.1";
        p.inside_networks = {*Cidr::parse("192.0.2.0/24")};
    }
    void add(const std::string& aor, const std::string& contact, const char* source) {
        Binding b;
        b.aor = aor;
        b.contact = contact;
        b.source = *SockAddr::parse(source);
        b.expires_at = 1000;
        table.upsert(b);
    }
    RouteDecision route(const std::string& method, const std::string& ruri,
                        const std::string& to = "") {
        auto m = parse_sip_message(samples::crlf(
            method + " " + ruri +
            " SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bKt1\n"
            "Max-Forwards: 70\nTo: <" +
            (to.empty() ? ruri : to) +
            ">\nFrom: <sip:x@203.0.113.50>;tag=1\nCall-ID: t1@203.0.113.50\nCSeq: 1 " + method +
            "\nContent-Length: 0\n\n"));
        EXPECT_NE(m, nullptr);
        return route_request(p, m.get(), Side::Outside, outsider, table, map, 10);
    }
};

TEST_F(Targets, WithoutConfigurationStill404) {
    EXPECT_EQ(route("INVITE", "sip:nobody@203.0.113.1").status, 404);
}

TEST_F(Targets, DefaultTargetAnAorOfOurs) {
    p.provider_targets.default_target = "sip:reception@203.0.113.1";
    // Not registered yet: 404 still.
    EXPECT_EQ(route("INVITE", "sip:nobody@203.0.113.1").status, 404);
    add("reception@203.0.113.1", "sip:reception@192.0.2.20:5062", "192.0.2.20:5062");
    const RouteDecision d = route("INVITE", "sip:nobody@203.0.113.1");
    ASSERT_EQ(d.action, RouteAction::Forward);
    EXPECT_EQ(d.out_side, Side::Inside);
    EXPECT_EQ(d.new_request_uri, "sip:reception@192.0.2.20:5062");
    EXPECT_EQ(d.next_hop.to_string(), "192.0.2.20:5062");
    // Only INVITE; a registered user still reaches its own phone.
    EXPECT_EQ(route("MESSAGE", "sip:nobody@203.0.113.1").status, 404);
    add("carol@203.0.113.1", "sip:carol@192.0.2.30", "192.0.2.30:5060");
    EXPECT_EQ(route("INVITE", "sip:carol@203.0.113.1").new_request_uri, "sip:carol@192.0.2.30");
}

// An AOR target with two phones rings both, as a call to the AOR would.
TEST_F(Targets, DefaultTargetWithTwoPhonesForks) {
    p.provider_targets.default_target = "sip:reception@203.0.113.1";
    add("reception@203.0.113.1", "sip:reception@192.0.2.20:5062", "192.0.2.20:5062");
    add("reception@203.0.113.1", "sip:reception@192.0.2.21:5060", "192.0.2.21:5060");
    const RouteDecision d = route("INVITE", "sip:nobody@203.0.113.1");
    ASSERT_EQ(d.action, RouteAction::Forward);
    ASSERT_EQ(d.forks.size(), 2u);
    EXPECT_EQ(d.forks[0].new_request_uri, d.new_request_uri);
    EXPECT_NE(d.forks[0].next_hop.to_string(), d.forks[1].next_hop.to_string());
}

TEST_F(Targets, DefaultTargetAnInsideHost) {
    p.provider_targets.default_target = "sip:pbx@192.0.2.40:5070";
    const RouteDecision d = route("INVITE", "sip:nobody@203.0.113.1");
    ASSERT_EQ(d.action, RouteAction::Forward);
    EXPECT_EQ(d.out_side, Side::Inside);
    EXPECT_EQ(d.new_request_uri, "sip:pbx@192.0.2.40:5070");
    EXPECT_EQ(d.next_hop.to_string(), "192.0.2.40:5070");
}

TEST_F(Targets, DefaultTargetOutsideIsNeverUsed) {
    for (const char* target : {"sip:voicemail@198.51.100.9", "sip:vm@provider.example.com",
                               "sip:x@127.0.0.1", "not a uri"}) {
        SCOPED_TRACE(target);
        p.provider_targets.default_target = target;
        const RouteDecision d = route("INVITE", "sip:nobody@203.0.113.1");
        EXPECT_EQ(d.action, RouteAction::Respond);
        EXPECT_EQ(d.status, 404);
    }
    // And a request not for us is refused before any target is looked at.
    p.provider_targets.default_target = "sip:pbx@192.0.2.40";
    EXPECT_EQ(route("INVITE", "sip:bob@198.51.100.7").status, 403);
}

TEST_F(Targets, DidRangeGoesToTheAccountAndKeepsTheNumberInTo) {
    p.provider_targets.did_ranges = {{"trunk@voip.example.com", "4930123400", "4930123499"}};
    add("trunk@voip.example.com", "sip:trunk@192.0.2.50:5060", "192.0.2.50:5060");
    auto m = parse_sip_message(samples::crlf(
        "INVITE sip:4930123456@203.0.113.1 SIP/2.0\n"
        "Via: SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bKd1\nMax-Forwards: 70\n"
        "To: <sip:4930123456@voip.example.com>\nFrom: <sip:caller@198.51.100.1>;tag=9\n"
        "Call-ID: d1@203.0.113.50\nCSeq: 1 INVITE\nContent-Length: 0\n\n"));
    ASSERT_NE(m, nullptr);
    const RouteDecision d = route_request(p, m.get(), Side::Outside, outsider, table, map, 10);
    ASSERT_EQ(d.action, RouteAction::Forward);
    EXPECT_EQ(d.new_request_uri, "sip:trunk@192.0.2.50:5060");
    EXPECT_EQ(d.next_hop.to_string(), "192.0.2.50:5060");
    // Routing leaves To alone: the dialled number reaches the phone there.
    EXPECT_EQ(std::string(m->to->url->username), "4930123456");
    // Outside the range, or the account not registered: 404.
    EXPECT_EQ(route("INVITE", "sip:4930123500@203.0.113.1").status, 404);
    table = RegistrationTable();
    EXPECT_EQ(route("INVITE", "sip:4930123456@203.0.113.1").status, 404);
}

}  // namespace
}  // namespace sipmasq
