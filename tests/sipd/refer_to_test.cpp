// Refer-To across sipmasq (sipd/refer_to_masq.cpp): an inside target leaves
// masqueraded and comes back as the true contact, with its Replaces intact.
#include <gtest/gtest.h>

#include "osip_ptr.h"
#include "refer_to_masq.h"
#include "sip_samples.h"

namespace sipmasq {
namespace {

constexpr const char* kReplaces = "?Replaces=c2%40192.0.2.10%3Bto-tag%3Dcarol1%3Bfrom-tag%3Dalice1";

OsipMessagePtr refer_with(const std::string& refer_to) {
    return parse_sip_message(
        samples::crlf("REFER sip:bob@203.0.113.50:5060 SIP/2.0\n"
                      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-refer1\n"
                      "From: <sip:alice@203.0.113.1>;tag=a1\n"
                      "To: <sip:bob@203.0.113.50>;tag=b1\n"
                      "Call-ID: c1@192.0.2.10\n"
                      "CSeq: 3 REFER\n"
                      "Contact: <sip:alice@192.0.2.10:5060>\n"
                      "Refer-To: " +
                      refer_to +
                      "\n"
                      "Referred-By: <sip:alice@203.0.113.1>\n"
                      "Max-Forwards: 70\n"
                      "Content-Length: 0\n\n"));
}

std::string refer_to_of(const osip_message_t* msg) {
    osip_header_t* h = nullptr;
    if (osip_message_header_get_byname(msg, "refer-to", 0, &h) < 0 || h == nullptr) return {};
    return osip_sv(h->hvalue).data();
}

struct ReferToTest : ::testing::Test {
    ProxyAddresses us{{"192.0.2.1", 5060}, {"203.0.113.1", 5060}, {}, {}, {}, {}};
    PeerPolicy peers =
        make_peer_policy({*Cidr::parse("192.0.2.0/24")}, {*SockAddr::parse("192.0.2.1:5060")},
                         {*SockAddr::parse("203.0.113.1:5060")}, {});
    ContactMap map;
    RegistrationTable table;
};

TEST_F(ReferToTest, InsideContactLeavesMasqueradedWithItsReplaces) {
    auto msg = refer_with(std::string("<sip:carol@192.0.2.20:5060") + kReplaces + ">");
    ASSERT_NE(msg, nullptr);
    EXPECT_EQ(masquerade_refer_to(msg.get(), us, us.outside, peers, map, table, 10),
              ReferToChange::Rewritten);
    const std::string out = refer_to_of(msg.get());
    EXPECT_EQ(out.find("192.0.2.20"), std::string::npos) << out;
    EXPECT_NE(out.find("<sip:carol@203.0.113.1:5060;smq="), std::string::npos) << out;
    EXPECT_NE(out.find(kReplaces), std::string::npos) << out;
    // Outside requests for that token reach carol's address, without the
    // Replaces in the Request-URI.
    ASSERT_EQ(map.size(), 1u);
    const ContactMap::Entry& e = map.entries().begin()->second;
    EXPECT_EQ(e.contact, "sip:carol@192.0.2.20:5060");
    EXPECT_EQ(e.source.to_string(), "192.0.2.20:5060");

    // Back in (a REFER from outside naming it): carol's true contact again.
    auto back = refer_with(out);
    ASSERT_NE(back, nullptr);
    EXPECT_EQ(restore_refer_to(back.get(), us.outside, map, table, 11), ReferToChange::Rewritten);
    EXPECT_EQ(refer_to_of(back.get()), std::string("<sip:carol@192.0.2.20:5060") + kReplaces + ">");
}

TEST_F(ReferToTest, RegisteredContactUsesItsBinding) {
    Binding b;
    b.aor = "carol@203.0.113.1";
    b.contact = "sip:carol@192.0.2.20:5060";
    b.source = *SockAddr::parse("192.0.2.20:5060");
    b.expires_at = 1000;
    table.upsert(b);
    auto msg = refer_with("<sip:carol@192.0.2.20:5060>");
    ASSERT_NE(msg, nullptr);
    EXPECT_EQ(masquerade_refer_to(msg.get(), us, us.outside, peers, map, table, 10),
              ReferToChange::Rewritten);
    EXPECT_EQ(map.size(), 0u);
    EXPECT_EQ(refer_to_of(msg.get()),
              "<sip:carol@203.0.113.1:5060;smq=" + contact_token(b.contact) + ">");
}

TEST_F(ReferToTest, AorAtTheInsideAddressLeavesAtTheOutsideAddress) {
    auto msg = refer_with("sip:carol@192.0.2.1");
    ASSERT_NE(msg, nullptr);
    EXPECT_EQ(masquerade_refer_to(msg.get(), us, us.outside, peers, map, table, 10),
              ReferToChange::Rewritten);
    EXPECT_EQ(refer_to_of(msg.get()), "<sip:carol@203.0.113.1>");
}

TEST_F(ReferToTest, OutsideTargetsAndUnknownTokensAreLeftAlone) {
    const std::string outside = std::string("<sip:dave@203.0.113.60") + kReplaces + ">";
    auto msg = refer_with(outside);
    ASSERT_NE(msg, nullptr);
    EXPECT_EQ(masquerade_refer_to(msg.get(), us, us.outside, peers, map, table, 10),
              ReferToChange::None);
    EXPECT_EQ(restore_refer_to(msg.get(), us.outside, map, table, 10), ReferToChange::None);
    EXPECT_EQ(refer_to_of(msg.get()), outside);
    EXPECT_EQ(map.size(), 0u);

    const std::string forged = "<sip:x@203.0.113.1:5060;smq=0123456789abcdef>";
    auto in = refer_with(forged);
    ASSERT_NE(in, nullptr);
    EXPECT_EQ(restore_refer_to(in.get(), us.outside, map, table, 10), ReferToChange::None);
    EXPECT_EQ(refer_to_of(in.get()), forged);
}

TEST_F(ReferToTest, CompactFormIsMasqueradedToo) {
    auto msg =
        parse_sip_message(samples::crlf("REFER sip:bob@203.0.113.50 SIP/2.0\n"
                                        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-refer2\n"
                                        "From: <sip:alice@203.0.113.1>;tag=a1\n"
                                        "To: <sip:bob@203.0.113.50>;tag=b1\n"
                                        "Call-ID: c3@192.0.2.10\n"
                                        "CSeq: 4 REFER\n"
                                        "r: <sip:192.0.2.20>\n"
                                        "Content-Length: 0\n\n"));
    ASSERT_NE(msg, nullptr);
    EXPECT_EQ(masquerade_refer_to(msg.get(), us, us.outside, peers, map, table, 10),
              ReferToChange::Rewritten);
    const std::string text = sip_message_to_string(msg.get());
    EXPECT_EQ(text.find("192.0.2.20"), std::string::npos) << text;
    EXPECT_NE(text.find("203.0.113.1:5060;smq="), std::string::npos) << text;
}

}  // namespace
}  // namespace sipmasq
