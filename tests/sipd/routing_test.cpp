#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "osip_ptr.h"
#include "request_routing.h"
#include "sip_samples.h"

namespace sipmasq {
namespace {

RoutingPolicy policy() {
    RoutingPolicy p;
    p.us.inside = {"192.0.2.1", 5060};
    p.us.outside = {"203.0.113.1", 5060};
    p.us.aliases = {"sipmasq.example.org"};
    p.public_host = "203.0.113.1";
    p.inside_networks = {*Cidr::parse("192.0.2.0/24")};
    return p;
}

OsipMessagePtr parse(const std::string& text) {
    sip_parser_init();
    auto m = parse_sip_message(text);
    EXPECT_NE(m, nullptr);
    return m;
}

std::string request(const std::string& method, const std::string& ruri,
                    const std::string& extra = "") {
    return samples::crlf(method + " " + ruri +
                         " SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bKr1\n"
                         "Max-Forwards: 70\nTo: <" +
                         ruri +
                         ">\nFrom: <sip:x@203.0.113.50>;tag=1\n"
                         "Call-ID: r1@203.0.113.50\nCSeq: 1 " +
                         method + "\n" + extra + "Content-Length: 0\n\n");
}

const SockAddr kOutsider = *SockAddr::parse("203.0.113.50:5060");
const SockAddr kAlice = *SockAddr::parse("192.0.2.10:5060");

struct Fixture : ::testing::Test {
    RoutingPolicy p = policy();
    RegistrationTable table;
    ContactMap map;
    void register_alice() {
        Binding b;
        b.aor = "alice@203.0.113.1";
        b.contact = "sip:alice@192.0.2.10:5060";
        b.source = *SockAddr::parse("192.0.2.10:5061");
        b.expires_at = 1000;
        table.upsert(b);
    }
    RouteDecision route(const std::string& text, Side side, const SockAddr& src, int64_t now = 10) {
        auto m = parse(text);
        return route_request(p, m.get(), side, src, table, map, now);
    }
};

TEST_F(Fixture, RegisterFromInsideToUsIsRegistrar) {
    auto d = route(samples::register_alice(), Side::Inside, kAlice);
    EXPECT_EQ(d.action, RouteAction::Register);
}

TEST_F(Fixture, RegisterFromOutsideIs403) {
    auto d = route(samples::register_alice(), Side::Outside, kOutsider);
    EXPECT_EQ(d.action, RouteAction::Respond);
    EXPECT_EQ(d.status, 403);
}

TEST_F(Fixture, HostsAllowReg) {
    p.hosts_allow_reg = *Acl::parse("192.0.2.100/32", nullptr);
    auto d = route(samples::register_alice(), Side::Inside, kAlice);
    EXPECT_EQ(d.status, 403);
    p.hosts_allow_reg = *Acl::parse("192.0.2.0/24", nullptr);
    EXPECT_EQ(route(samples::register_alice(), Side::Inside, kAlice).action, RouteAction::Register);
}

TEST_F(Fixture, RegisterToThirdPartyRegistrar) {
    const std::string reg = request("REGISTER", "sip:sip.example.net");
    auto d = route(reg, Side::Inside, kAlice);
    EXPECT_EQ(d.action, RouteAction::Forward);
    EXPECT_TRUE(d.relayed_register);
    EXPECT_EQ(d.out_side, Side::Outside);
    EXPECT_EQ(d.next_hop.to_string(), "sip.example.net:5060");
    p.outbound_proxy = {"198.51.100.5", 5070};
    EXPECT_EQ(route(reg, Side::Inside, kAlice).next_hop.to_string(), "198.51.100.5:5070");
    p.outbound_domains = {{{"sip.example.net"}, {"198.51.100.6", 5080}}};
    EXPECT_EQ(route(reg, Side::Inside, kAlice).next_hop.to_string(), "198.51.100.6:5080");
}

// A phone behind a further NAT registers a Contact that is not where its
// REGISTER came from (another host, or not an inside address): it is
// reached at the source of its registration.
TEST_F(Fixture, PhoneBehindANatIsReachedWhereItRegisteredFrom) {
    for (const char* contact : {"sip:alice@198.51.100.10:5060", "sip:alice@192.0.2.77:5060",
                                "sip:alice@phone.example.test:5060"}) {
        table.clear();
        Binding b;
        b.aor = "alice@203.0.113.1";
        b.contact = contact;
        b.source = *SockAddr::parse("192.0.2.30:40123");
        b.expires_at = 1000;
        table.upsert(b);
        auto d = route(samples::invite_bob_to_alice_public(), Side::Outside, kOutsider);
        ASSERT_EQ(d.action, RouteAction::Forward) << contact;
        EXPECT_EQ(d.new_request_uri, contact);
        EXPECT_EQ(d.next_hop.to_string(), "192.0.2.30:40123") << contact;
    }
}

// siproxd's repeated triples: each domain goes to its own host and port.
TEST_F(Fixture, SeveralOutboundDomainsEachToItsHost) {
    p.outbound_proxy = {"198.51.100.5", 5070};
    p.outbound_domains = {{{"voip-a.example.com"}, {"198.51.100.7", 5060}},
                          {{"voip-b.example.com", "voip-c.example.com"}, {"198.51.100.8", 5062}}};
    EXPECT_EQ(route(request("REGISTER", "sip:voip-a.example.com"), Side::Inside, kAlice)
                  .next_hop.to_string(),
              "198.51.100.7:5060");
    EXPECT_EQ(route(request("REGISTER", "sip:voip-b.example.com"), Side::Inside, kAlice)
                  .next_hop.to_string(),
              "198.51.100.8:5062");
    EXPECT_EQ(route(request("REGISTER", "sip:VOIP-C.example.com"), Side::Inside, kAlice)
                  .next_hop.to_string(),
              "198.51.100.8:5062");
    // Any other domain: the outbound proxy.
    EXPECT_EQ(route(request("REGISTER", "sip:other.example.org"), Side::Inside, kAlice)
                  .next_hop.to_string(),
              "198.51.100.5:5070");
}

// A provider configured ;transport=tcp is reached over TCP whatever the
// Request-URI says; other destinations follow their URI.
TEST_F(Fixture, AProviderThatNeedsTcpIsReachedOverTcp) {
    p.outbound_proxy = {"198.51.100.5", 5060};
    p.outbound_proxy_transport = Transport::Tcp;
    p.outbound_domains = {{{"voip-a.example.com"}, {"198.51.100.7", 5060}, Transport::Udp}};
    auto d = route(request("REGISTER", "sip:other.example.org"), Side::Inside, kAlice);
    EXPECT_EQ(d.next_hop.to_string(), "198.51.100.5:5060");
    EXPECT_EQ(d.transport, Transport::Tcp);
    d = route(request("INVITE", "sip:bob@other.example.org"), Side::Inside, kAlice);
    EXPECT_EQ(d.transport, Transport::Tcp);
    d = route(request("REGISTER", "sip:voip-a.example.com;transport=tcp"), Side::Inside, kAlice);
    EXPECT_EQ(d.next_hop.to_string(), "198.51.100.7:5060");
    EXPECT_EQ(d.transport, Transport::Udp);  // the provider's transport, not the URI's
    p.outbound_proxy = {};
    d = route(request("INVITE", "sip:bob@203.0.113.50;transport=tcp"), Side::Inside, kAlice);
    EXPECT_EQ(d.transport, Transport::Tcp);
    d = route(request("INVITE", "sip:bob@203.0.113.50"), Side::Inside, kAlice);
    EXPECT_EQ(d.transport, Transport::Udp);
}

TEST_F(Fixture, IncomingToRegisteredAor) {
    register_alice();
    auto d = route(samples::invite_bob_to_alice_public(), Side::Outside, kOutsider);
    ASSERT_EQ(d.action, RouteAction::Forward);
    EXPECT_EQ(d.out_side, Side::Inside);
    EXPECT_EQ(d.new_request_uri, "sip:alice@192.0.2.10:5060");
    // Its Contact, though it registered from port 5061 (RFC 3261).
    EXPECT_EQ(d.next_hop.to_string(), "192.0.2.10:5060");
    // Same user by our DNS name.
    d = route(request("INVITE", "sip:alice@SIPMASQ.example.org"), Side::Outside, kOutsider);
    EXPECT_EQ(d.action, RouteAction::Forward);
    // Expired: 404.
    d = route(samples::invite_bob_to_alice_public(), Side::Outside, kOutsider, 1000);
    EXPECT_EQ(d.action, RouteAction::Respond);
    EXPECT_EQ(d.status, 404);
}

TEST_F(Fixture, IncomingToUnregisteredUserIs404) {
    auto d = route(request("INVITE", "sip:mallory@203.0.113.1"), Side::Outside, kOutsider);
    EXPECT_EQ(d.action, RouteAction::Respond);
    EXPECT_EQ(d.status, 404);
    // ACK is never answered.
    d = route(request("ACK", "sip:mallory@203.0.113.1"), Side::Outside, kOutsider);
    EXPECT_EQ(d.action, RouteAction::Drop);
}

TEST_F(Fixture, OutsideToOutsideIsRefused) {
    auto d = route(request("INVITE", "sip:victim@198.51.100.77"), Side::Outside, kOutsider);
    EXPECT_EQ(d.action, RouteAction::Respond);
    EXPECT_EQ(d.status, 403);
    // Even to an inside address written literally: only registered phones.
    d = route(request("INVITE", "sip:alice@192.0.2.10"), Side::Outside, kOutsider);
    EXPECT_EQ(d.status, 403);
    // Nor through a Route past us.
    d = route(request("INVITE", "sip:alice@203.0.113.1", "Route: <sip:198.51.100.77;lr>\n"),
              Side::Outside, kOutsider);
    EXPECT_EQ(d.status, 403);
}

TEST_F(Fixture, InDialogFromOutsideByMasqueradedContact) {
    const std::string token = map.remember("sip:alice@192.0.2.10:5060", kAlice, 5);
    auto d =
        route(request("BYE", "sip:alice@203.0.113.1:5060;smq=" + token), Side::Outside, kOutsider);
    ASSERT_EQ(d.action, RouteAction::Forward);
    EXPECT_EQ(d.new_request_uri, "sip:alice@192.0.2.10:5060");
    EXPECT_EQ(d.out_side, Side::Inside);
    d = route(request("BYE", "sip:alice@203.0.113.1:5060;smq=ffffffffffffffff"), Side::Outside,
              kOutsider);
    EXPECT_EQ(d.status, 404);
}

TEST_F(Fixture, OutgoingCalls) {
    auto d = route(samples::invite_alice_to_bob(), Side::Inside, kAlice);
    ASSERT_EQ(d.action, RouteAction::Forward);
    EXPECT_EQ(d.out_side, Side::Outside);
    EXPECT_EQ(d.next_hop.to_string(), "203.0.113.50:5060");
    p.outbound_proxy = {"198.51.100.5", 5060};
    EXPECT_EQ(route(samples::invite_alice_to_bob(), Side::Inside, kAlice).next_hop.to_string(),
              "198.51.100.5:5060");
    // An explicit Route wins.
    d = route(request("INVITE", "sip:bob@203.0.113.50", "Route: <sip:198.51.100.9:5090;lr>\n"),
              Side::Inside, kAlice);
    EXPECT_EQ(d.next_hop.to_string(), "198.51.100.9:5090");
}

TEST_F(Fixture, LocalToLocal) {
    register_alice();
    const SockAddr carol = *SockAddr::parse("192.0.2.20:5060");
    auto d = route(request("INVITE", "sip:alice@203.0.113.1"), Side::Inside, carol);
    ASSERT_EQ(d.action, RouteAction::Forward);
    EXPECT_EQ(d.out_side, Side::Inside);
    EXPECT_EQ(d.new_request_uri, "sip:alice@192.0.2.10:5060");
    d = route(request("INVITE", "sip:alice@192.0.2.10:5060"), Side::Inside, carol);
    EXPECT_EQ(d.out_side, Side::Inside);
    EXPECT_EQ(d.next_hop.to_string(), "192.0.2.10:5060");
    d = route(request("INVITE", "sip:nobody@192.0.2.1"), Side::Inside, carol);
    EXPECT_EQ(d.status, 404);
}

TEST_F(Fixture, SipAcls) {
    p.hosts_deny_sip = *Acl::parse("203.0.113.50", nullptr);
    EXPECT_EQ(route(samples::invite_bob_to_alice_public(), Side::Outside, kOutsider).action,
              RouteAction::Drop);
    p.hosts_deny_sip = Acl();
    p.hosts_allow_sip = *Acl::parse("192.0.2.0/24", nullptr);
    EXPECT_EQ(route(samples::invite_bob_to_alice_public(), Side::Outside, kOutsider).action,
              RouteAction::Drop);
    EXPECT_EQ(route(samples::invite_alice_to_bob(), Side::Inside, kAlice).action,
              RouteAction::Forward);
}

// An INVITE for an AOR with several live contacts forks to each (newest
// first, at most kMaxForkTargets); any other request goes to the newest.
TEST_F(Fixture, InviteToAnAorWithSeveralContactsForks) {
    for (int i = 0; i < 14; ++i) {
        Binding b;
        b.aor = "alice@203.0.113.1";
        b.contact = "sip:alice@192.0.2." + std::to_string(10 + i) + ":5060";
        b.source = *SockAddr::parse("192.0.2." + std::to_string(10 + i) + ":5060");
        b.expires_at = 1000;
        table.upsert(b);
        const RouteDecision d =
            route(request("INVITE", "sip:alice@203.0.113.1"), Side::Outside, kOutsider);
        ASSERT_EQ(d.action, RouteAction::Forward);
        EXPECT_EQ(d.forks.size(), i == 0 ? 0u : std::min<size_t>(i + 1, kMaxForkTargets)) << i;
        EXPECT_EQ(d.new_request_uri, b.contact) << "the newest first";
        if (!d.forks.empty()) {
            EXPECT_EQ(d.forks.front().new_request_uri, b.contact);
            EXPECT_EQ(d.forks.front().next_hop.to_string(), b.source.to_string());
        }
    }
    const RouteDecision options =
        route(request("OPTIONS", "sip:alice@203.0.113.1"), Side::Outside, kOutsider);
    ASSERT_EQ(options.action, RouteAction::Forward);
    EXPECT_TRUE(options.forks.empty());
}

}  // namespace
}  // namespace sipmasq
