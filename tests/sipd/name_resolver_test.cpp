// Next hops that are names: SipProxy holds the request until the resolver
// answers, then forwards it there; a failed lookup is answered 504. The
// SRV message encoder/decoder (dns_srv.h) on crafted packets.
#include "name_resolver.h"

#include <gtest/gtest.h>

#include <cerrno>

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

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

// The query for _sip._udp.provider.example.test turned into an answer
// header: id, QR|RD, RA|rcode, QDCOUNT 1, ANCOUNT `an`.
Bytes answer_head(uint16_t id, uint8_t rcode, uint16_t an) {
    Bytes b = build_srv_query(id, "_sip._udp.provider.example.test");
    b[2] = 0x81;
    b[3] = static_cast<uint8_t>(0x80 | rcode);
    b[6] = static_cast<uint8_t>(an >> 8);
    b[7] = static_cast<uint8_t>(an);
    return b;
}

// An SRV RR whose owner is the question's name (a pointer to offset 12).
void srv_rr(Bytes& b, uint16_t prio, uint16_t weight, uint16_t port, uint32_t ttl,
            const Bytes& target) {
    b.insert(b.end(), {0xc0, 12});
    put16(b, 33);
    put16(b, 1);
    put16(b, static_cast<uint16_t>(ttl >> 16));
    put16(b, static_cast<uint16_t>(ttl));
    put16(b, static_cast<uint16_t>(6 + target.size()));
    put16(b, prio);
    put16(b, weight);
    put16(b, port);
    b.insert(b.end(), target.begin(), target.end());
}

// "bob" then a pointer to "example.test" inside the question (offset 31:
// 12 + len("_sip")+1 + len("_udp")+1 + len("provider")+1).
const Bytes kBobCompressed = {3, 'b', 'o', 'b', 0xc0, 31};
const Bytes kAliceFull = {5,   'a', 'l', 'i', 'c', 'e', 7,   'e', 'x', 'a',
                          'm', 'p', 'l', 'e', 4,   't', 'e', 's', 't', 0};
const std::string kAsked = "_sip._udp.provider.example.test";

// RFC 3263 4.2: SRV only for a next hop without an explicit port (5060 is
// all HostPort can tell of that); with another port, the address alone.
class RecordingResolver final : public NameResolver {
  public:
    std::vector<std::string> calls;
    void resolve(const std::string& name, Done done) override {
        calls.push_back("srv+a " + name);
        done(std::nullopt, "test");
    }
    void resolve_address(const std::string& name, Done done) override {
        calls.push_back("a " + name);
        done(std::nullopt, "test");
    }
};

TEST(ResolveHop, SrvOnlyWithoutAnExplicitPort) {
    RecordingResolver r;
    auto ignore = [](std::optional<SockAddr>, const char*) {};
    r.resolve_hop(HostPort{"provider.example.test", 5060}, ignore);
    r.resolve_hop(HostPort{"proxy.example.test", 5070}, ignore);
    ASSERT_EQ(r.calls.size(), 2u);
    EXPECT_EQ(r.calls[0], "srv+a provider.example.test");
    EXPECT_EQ(r.calls[1], "a proxy.example.test");
}

TEST(DnsSrv, QueryHasIdRdAndTypeSrv) {
    const Bytes q = build_srv_query(0xbeef, "_sip._udp.A.test");
    const Bytes want = {0xbe, 0xef, 0x01, 0,   0,   1, 0,   0,   0,   0,   0, 0,
                        4,    '_',  's',  'i', 'p', 4, '_', 'u', 'd', 'p', 1, 'A',
                        4,    't',  'e',  's', 't', 0, 0,   33,  0,   1};
    EXPECT_EQ(q, want);
    EXPECT_TRUE(build_srv_query(1, "a..test").empty());
    EXPECT_TRUE(build_srv_query(1, std::string(64, 'a') + ".test").empty());
    EXPECT_TRUE(build_srv_query(1, "a b.test").empty());
}

TEST(DnsSrv, TwoRecordsWithCompressionAndPriorityThenWeight) {
    Bytes b = answer_head(0x1234, 0, 3);
    srv_rr(b, 20, 0, 5080, 300, kAliceFull);
    srv_rr(b, 10, 60, 5070, 120, kBobCompressed);
    srv_rr(b, 10, 40, 5072, 100, kAliceFull);
    SrvAnswer a;
    ASSERT_EQ(parse_srv_answer(b, 0x1234, "_SIP._udp.Provider.example.test", a), 0);
    EXPECT_FALSE(a.nxdomain);
    ASSERT_EQ(a.records.size(), 3u);
    EXPECT_EQ(a.records[0].target, "alice.example.test");
    EXPECT_EQ(a.records[0].priority, 20);
    EXPECT_EQ(a.records[0].port, 5080);
    EXPECT_EQ(a.records[0].ttl, 300u);
    EXPECT_EQ(a.records[1].target, "bob.example.test");
    EXPECT_EQ(a.records[1].weight, 60);
    EXPECT_EQ(a.records[1].port, 5070);
    // Priority 10 wins over 20; within it, weights 60/40 split [0, 100].
    int bob = 0, alice = 0;
    for (uint32_t r = 0; r < 101; ++r) {
        const SrvRecord* p = pick_srv(a.records, r);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(p->priority, 10);
        (p->port == 5070 ? bob : alice)++;
    }
    EXPECT_EQ(bob, 61);  // 0..60
    EXPECT_EQ(alice, 40);
    EXPECT_EQ(pick_srv({}, 7), nullptr);
}

TEST(DnsSrv, OtherRecordsAndNamesAreSkipped) {
    Bytes b = answer_head(7, 0, 2);
    // A CNAME-typed RR for the name, then an SRV for another owner.
    b.insert(b.end(), {0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60});
    put16(b, static_cast<uint16_t>(kAliceFull.size()));
    b.insert(b.end(), kAliceFull.begin(), kAliceFull.end());
    const size_t other = b.size();
    b.insert(b.end(), kAliceFull.begin(), kAliceFull.end());
    b.insert(b.end(), {0, 33, 0, 1, 0, 0, 0, 60, 0, 8, 0, 1, 0, 1, 0x13, 0xc4});
    b.insert(b.end(), {0xc0, static_cast<uint8_t>(other)});
    SrvAnswer a;
    ASSERT_EQ(parse_srv_answer(b, 7, kAsked, a), 0);
    EXPECT_TRUE(a.records.empty());
}

TEST(DnsSrv, PointerLoopFails) {
    Bytes b = answer_head(9, 0, 1);
    const size_t at = b.size();
    // The owner is a pointer to itself.
    b.insert(b.end(), {0xc0, static_cast<uint8_t>(at)});
    b.insert(b.end(), {0, 33, 0, 1, 0, 0, 0, 60, 0, 8, 0, 1, 0, 1, 0x13, 0xc4, 0xc0, 12});
    SrvAnswer a;
    EXPECT_EQ(parse_srv_answer(b, 9, kAsked, a), -EBADMSG);
    // Two labels pointing at each other, forwards then backwards.
    Bytes c = answer_head(9, 0, 1);
    const size_t x = c.size();
    c.insert(c.end(),
             {1, 'x', 0xc0, static_cast<uint8_t>(x + 4), 1, 'y', 0xc0, static_cast<uint8_t>(x)});
    c.insert(c.end(), {0, 33, 0, 1, 0, 0, 0, 60, 0, 8, 0, 1, 0, 1, 0x13, 0xc4, 0xc0, 12});
    EXPECT_EQ(parse_srv_answer(c, 9, kAsked, a), -EBADMSG);
}

TEST(DnsSrv, TruncatedPacketsFailAtEveryLength) {
    Bytes b = answer_head(0x55aa, 0, 2);
    srv_rr(b, 10, 60, 5070, 120, kBobCompressed);
    srv_rr(b, 10, 40, 5072, 100, kAliceFull);
    SrvAnswer a;
    ASSERT_EQ(parse_srv_answer(b, 0x55aa, kAsked, a), 0);
    for (size_t n = 0; n < b.size(); ++n)
        EXPECT_EQ(parse_srv_answer(std::span<const uint8_t>(b.data(), n), 0x55aa, kAsked, a),
                  -EBADMSG)
            << n;
    // An RDLENGTH past the end; one that cuts the target short.
    Bytes c = answer_head(1, 0, 1);
    srv_rr(c, 1, 1, 5060, 60, kAliceFull);
    c[c.size() - kAliceFull.size() - 7] = 0xff;
    EXPECT_EQ(parse_srv_answer(c, 1, kAsked, a), -EBADMSG);
    Bytes d = answer_head(1, 0, 1);
    srv_rr(d, 1, 1, 5060, 60, kAliceFull);
    d[d.size() - kAliceFull.size() - 7] = 10;
    EXPECT_EQ(parse_srv_answer(d, 1, kAsked, a), -EBADMSG);
    // The TC bit: no answer over UDP.
    Bytes t = b;
    t[2] |= 0x02;
    EXPECT_EQ(parse_srv_answer(t, 0x55aa, kAsked, a), -EBADMSG);
}

TEST(DnsSrv, WrongIdQueryOrQuestionFails) {
    Bytes b = answer_head(0x1111, 0, 1);
    srv_rr(b, 10, 60, 5070, 120, kBobCompressed);
    SrvAnswer a;
    EXPECT_EQ(parse_srv_answer(b, 0x1112, kAsked, a), -EBADMSG);
    EXPECT_EQ(parse_srv_answer(b, 0x1111, "_sip._udp.other.example.test", a), -EBADMSG);
    Bytes q = b;
    q[2] &= 0x7f;  // a query, not a response
    EXPECT_EQ(parse_srv_answer(q, 0x1111, kAsked, a), -EBADMSG);
    Bytes two = b;
    two[5] = 2;  // QDCOUNT 2
    EXPECT_EQ(parse_srv_answer(two, 0x1111, kAsked, a), -EBADMSG);
    Bytes servfail = b;
    servfail[3] = 0x82;
    EXPECT_EQ(parse_srv_answer(servfail, 0x1111, kAsked, a), -EBADMSG);
}

TEST(DnsSrv, NxdomainMeansFallBack) {
    const Bytes b = answer_head(42, 3, 0);
    SrvAnswer a;
    ASSERT_EQ(parse_srv_answer(b, 42, kAsked, a), 0);
    EXPECT_TRUE(a.nxdomain);
    EXPECT_TRUE(a.records.empty());
}

TEST(DnsSrv, DotTargetMeansNoService) {
    Bytes b = answer_head(3, 0, 1);
    srv_rr(b, 0, 0, 0, 60, Bytes{0});
    SrvAnswer a;
    ASSERT_EQ(parse_srv_answer(b, 3, kAsked, a), 0);
    ASSERT_EQ(a.records.size(), 1u);
    EXPECT_EQ(a.records[0].target, ".");
    EXPECT_EQ(pick_srv(a.records, 0), nullptr);
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

TEST_F(DnsProxyTest, AnSrvPortFromTheResolverIsKept) {
    proxy_.handle_datagram(options_to("provider.example.test"), Side::Inside, alice_, 1000);
    ASSERT_EQ(resolver_.asked.size(), 1u);
    resolver_.asked[0].second(SockAddr::parse("203.0.113.10:5070"), "");
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].dest, *SockAddr::parse("203.0.113.10:5070"));
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
