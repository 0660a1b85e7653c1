// Next hops that are names: SipProxy holds the request until the resolver
// answers, then forwards it there; a failed lookup is answered 504.
#include "name_resolver.h"

#include <gtest/gtest.h>

#include "osip_ptr.h"
#include "sip_proxy.h"
#include "sip_samples.h"

namespace sipmasq {
namespace {

TEST(Hosts, ParsesTheFirstAddressOfTheFamily) {
    const auto h = parse_hosts(
        "127.0.0.1 localhost\n::1 localhost ip6-localhost\n# c\n198.51.100.7 Sip.Example.test "
        "alias # x\n198.51.100.8 sip.example.test\n",
        AF_INET);
    EXPECT_EQ(h.at("localhost").host_string(), "127.0.0.1");
    EXPECT_EQ(h.at("sip.example.test").host_string(), "198.51.100.7");
    EXPECT_EQ(h.at("alias").host_string(), "198.51.100.7");
    EXPECT_EQ(h.count("ip6-localhost"), 0u);
}

class FakeResolver : public NameResolver {
  public:
    std::vector<std::pair<std::string, Done>> asked;
    void resolve(const std::string& name, Done done) override {
        asked.emplace_back(name, std::move(done));
    }
};

class NoMedia : public MediaLink {
  public:
    [[nodiscard]] bool available() const override { return false; }
    void start(const MediaStart&, Done) override {}
    void stop(uint32_t) override {}
};

struct Sent {
    Side side;
    SockAddr dest;
    std::string data;
};

class DnsProxyTest : public ::testing::Test {
  protected:
    DnsProxyTest()
        : proxy_(make_settings(&resolver_), media_,
                 [this](Side s, const SockAddr& d, std::string_view t) {
                     sent_.push_back({s, d, std::string(t)});
                 }) {}
    static SipProxySettings make_settings(NameResolver* r) {
        sip_parser_init();
        SipProxySettings s;
        s.policy.us.inside = {"192.0.2.1", 5060};
        s.policy.us.outside = {"203.0.113.1", 5060};
        s.policy.public_host = "203.0.113.1";
        s.policy.inside_networks = {*Cidr::parse("192.0.2.0/24")};
        s.inside_local = *SockAddr::parse("192.0.2.1:5060");
        s.outside_local = *SockAddr::parse("203.0.113.1:5060");
        s.outside_advertised = *SockAddr::parse("203.0.113.1");
        s.resolver = r;
        return s;
    }
    // alice's OPTIONS (no SDP) to a name.
    static std::string options_to(const std::string& host) {
        return samples::with_body("OPTIONS sip:bob@" + host + R"( SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKopt1;rport
Max-Forwards: 70
To: <sip:bob@)" + host + R"(>
From: <sip:alice@203.0.113.1>;tag=77
Call-ID: opt1@192.0.2.10
CSeq: 1 OPTIONS
)",
                                  "");
    }

    FakeResolver resolver_;
    NoMedia media_;
    std::vector<Sent> sent_;
    SipProxy proxy_;
    const SockAddr alice_ = *SockAddr::parse("192.0.2.10:5060");
};

TEST_F(DnsProxyTest, HeldUntilResolvedThenForwarded) {
    proxy_.handle_datagram(options_to("bob.example.test:5070"), Side::Inside, alice_, 1000);
    ASSERT_EQ(resolver_.asked.size(), 1u);
    EXPECT_EQ(resolver_.asked[0].first, "bob.example.test");
    EXPECT_TRUE(sent_.empty());
    resolver_.asked[0].second(SockAddr::parse("198.51.100.20"), "");
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].side, Side::Outside);
    EXPECT_EQ(sent_[0].dest, *SockAddr::parse("198.51.100.20:5070"));
    EXPECT_NE(sent_[0].data.find("Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK"),
              std::string::npos)
        << sent_[0].data;
}

TEST_F(DnsProxyTest, FailedLookupIs504ToThePhone) {
    proxy_.handle_datagram(options_to("nowhere.example.test"), Side::Inside, alice_, 1000);
    ASSERT_EQ(resolver_.asked.size(), 1u);
    resolver_.asked[0].second(std::nullopt, "timeout");
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].side, Side::Inside);
    EXPECT_EQ(sent_[0].dest, alice_);
    auto resp = parse_sip_message(sent_[0].data);
    ASSERT_NE(resp, nullptr);
    EXPECT_EQ(resp->status_code, 504);
}

TEST_F(DnsProxyTest, NumericHostsSkipDns) {
    proxy_.handle_datagram(options_to("198.51.100.9"), Side::Inside, alice_, 1000);
    EXPECT_TRUE(resolver_.asked.empty());
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].dest, *SockAddr::parse("198.51.100.9:5060"));
}

TEST_F(DnsProxyTest, ANameThatIsUsIsALoop) {
    proxy_.handle_datagram(options_to("loop.example.test"), Side::Inside, alice_, 1000);
    ASSERT_EQ(resolver_.asked.size(), 1u);
    resolver_.asked[0].second(SockAddr::parse("203.0.113.1"), "");
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(parse_sip_message(sent_[0].data)->status_code, 482);
}

}  // namespace
}  // namespace sipmasq
