// SipProxy with a message over TCP on one leg: answers go back over the
// connection the request came on, transport=tcp in the Request-URI sends
// the request over TCP with a TCP Via and a Record-Route per transport, a
// response to it is taken only over TCP from where it went, and nothing is
// retransmitted on TCP.
#include <gtest/gtest.h>

#include "osip_ptr.h"
#include "proxy_fixture.h"
#include "sip_proxy.h"
#include "sip_samples.h"

namespace sipmasq {
namespace {

struct Sent {
    Side side;
    SockAddr dest;
    std::string data;
};

class TcpProxyTest : public ::testing::Test {
  protected:
    TcpProxyTest()
        : proxy_(settings(), media_, [this](Side s, const SockAddr& d, std::string_view t) {
              if (t.rfind("SIP/2.0 100 ", 0) != 0) udp_.push_back({s, d, std::string(t)});
          }) {
        sip_parser_init();
        samples::unique_branches = true;
    }
    SipProxySettings settings() {
        SipProxySettings s = test::faq_proxy_settings();
        s.clock_ms = [this] { return now_ms_; };
        s.tcp_sender = [this](Side side, const SockAddr& d, std::string_view t) {
            if (!tcp_can_connect_) return false;
            if (t.rfind("SIP/2.0 100 ", 0) != 0) tcp_.push_back({side, d, std::string(t)});
            return true;
        };
        s.tcp_connected = [this](Side side, const SockAddr& peer) {
            for (const auto& [open_side, open_peer] : open_connections_)
                if (open_side == side && open_peer == peer) return true;
            return false;
        };
        return s;
    }
    // alice's INVITE with transport=tcp in its Request-URI.
    static std::string invite_over_tcp() {
        std::string m = samples::invite_alice_to_bob();
        const std::string from = "INVITE sip:bob@203.0.113.50 SIP/2.0";
        m.replace(m.find(from), from.size(), "INVITE sip:bob@203.0.113.50;transport=tcp SIP/2.0");
        return m;
    }
    static std::string branch_of(const std::string& msg) {
        auto m = parse_sip_message(msg);
        auto* via = static_cast<osip_via_t*>(osip_list_get(&m->vias, 0));
        osip_generic_param_t* br = nullptr;
        osip_via_param_get_byname(via, const_cast<char*>("branch"), &br);
        return br != nullptr ? br->gvalue : "";
    }

    int64_t now_ms_ = 1000000;
    bool tcp_can_connect_ = true;
    std::vector<std::pair<Side, SockAddr>> open_connections_;
    test::FakeMedia media_;
    std::vector<Sent> udp_, tcp_;
    SipProxy proxy_;
    const SockAddr alice_ = test::addr("192.0.2.10:40001");
    const SockAddr bob_ = test::addr("203.0.113.50:5060");
};

TEST_F(TcpProxyTest, RegisterOverTcpIsAnsweredOverItsConnection) {
    proxy_.handle_message(samples::register_alice(), Side::Inside, Transport::Tcp, alice_, 1000);
    ASSERT_EQ(tcp_.size(), 1u);
    EXPECT_TRUE(udp_.empty());
    EXPECT_EQ(tcp_[0].side, Side::Inside);
    EXPECT_EQ(tcp_[0].dest, alice_);
    EXPECT_EQ(parse_sip_message(tcp_[0].data)->status_code, 200);
}

TEST_F(TcpProxyTest, TransportTcpInTheRequestUriSendsOverTcpAndOnlyATcpAnswerMatches) {
    proxy_.handle_datagram(invite_over_tcp(), Side::Inside, alice_, 1000);
    ASSERT_EQ(tcp_.size(), 1u);
    EXPECT_TRUE(udp_.empty());
    EXPECT_EQ(tcp_[0].side, Side::Outside);
    EXPECT_EQ(tcp_[0].dest, bob_);
    const std::string& out = tcp_[0].data;
    EXPECT_NE(out.find("Via: SIP/2.0/TCP 203.0.113.1:5060;branch="), std::string::npos) << out;
    // Double Record-Route: the TCP leg outside on top, the UDP leg inside below.
    const size_t rr_out = out.find("Record-Route: <sip:203.0.113.1:5060;transport=tcp;lr>");
    const size_t rr_in = out.find("Record-Route: <sip:192.0.2.1:5060;lr>");
    EXPECT_NE(rr_out, std::string::npos) << out;
    EXPECT_NE(rr_in, std::string::npos) << out;
    EXPECT_LT(rr_out, rr_in) << out;

    // No retransmission over TCP (timer A is UDP's).
    now_ms_ += 2000;
    proxy_.run_timers();
    EXPECT_EQ(tcp_.size(), 1u);

    // bob's answer over UDP, from bob's very address: not the way the
    // request went, so it matches nothing and reaches no one.
    const std::string ok = samples::ok_from_bob(branch_of(out));
    proxy_.handle_message(ok, Side::Outside, Transport::Udp, bob_, 1001);
    EXPECT_TRUE(udp_.empty());
    // Over the TCP connection to bob it goes on to alice, over her UDP.
    proxy_.handle_message(ok, Side::Outside, Transport::Tcp, bob_, 1001);
    ASSERT_EQ(udp_.size(), 1u);
    EXPECT_EQ(udp_[0].side, Side::Inside);
    EXPECT_EQ(udp_[0].dest, alice_);
    EXPECT_EQ(parse_sip_message(udp_[0].data)->status_code, 200);
}

TEST_F(TcpProxyTest, WithoutATcpSenderTheRequestIsNotSentAnywhere) {
    SipProxySettings s = settings();
    s.tcp_sender = nullptr;
    std::vector<Sent> udp;
    SipProxy proxy(std::move(s), media_, [&udp](Side side, const SockAddr& d, std::string_view t) {
        if (t.rfind("SIP/2.0 100 ", 0) != 0) udp.push_back({side, d, std::string(t)});
    });
    proxy.handle_datagram(invite_over_tcp(), Side::Inside, alice_, 1000);
    for (const Sent& m : udp) EXPECT_NE(m.dest, bob_) << m.data;  // never falls back to UDP
    EXPECT_TRUE(tcp_.empty());
}

// A phone that registered over TCP is reached over that connection while
// it is open, though its Contact does not say transport=tcp (RFC 5626).
TEST_F(TcpProxyTest, APhoneRegisteredOverTcpIsCalledOverItsConnection) {
    proxy_.handle_message(samples::register_alice(), Side::Inside, Transport::Tcp, alice_, 1000);
    ASSERT_EQ(tcp_.size(), 1u);
    tcp_.clear();
    open_connections_.emplace_back(Side::Inside, alice_);
    proxy_.handle_datagram(samples::invite_bob_to_alice_public(), Side::Outside, bob_, 1001);
    ASSERT_EQ(tcp_.size(), 1u) << (udp_.empty() ? "" : udp_.back().data);
    EXPECT_EQ(tcp_[0].side, Side::Inside);
    EXPECT_EQ(tcp_[0].dest, alice_);
    EXPECT_NE(tcp_[0].data.find("Via: SIP/2.0/TCP 192.0.2.1:5060;branch="), std::string::npos)
        << tcp_[0].data;
    EXPECT_NE(tcp_[0].data.find("<sip:192.0.2.1:5060;transport=tcp;lr>"), std::string::npos)
        << tcp_[0].data;

    // Once that connection is gone, the Contact decides: UDP to 5060.
    open_connections_.clear();
    tcp_.clear();
    std::string again = samples::invite_bob_to_alice_public();
    again.replace(again.find("Call-ID: "), 9, "Call-ID: 2");
    proxy_.handle_datagram(again, Side::Outside, bob_, 1002);
    EXPECT_TRUE(tcp_.empty());
    ASSERT_FALSE(udp_.empty());
    EXPECT_EQ(udp_.back().dest, test::addr("192.0.2.10:5060"));
}

// A TCP connection that cannot be opened ends the request at once as a 503
// (RFC 3261 §8.1.3.1, §16.9), which an INVITE's caller hears as 500 (§16.7
// step 6), not with 408 when timer B runs out: whether connect() fails at
// once or later (refused, tcp_connect_timeout).
TEST_F(TcpProxyTest, ATcpConnectFailureIsAnsweredAtOnce) {
    proxy_.handle_datagram(invite_over_tcp(), Side::Inside, alice_, 1000);
    ASSERT_EQ(tcp_.size(), 1u);
    EXPECT_TRUE(udp_.empty());
    proxy_.transport_failed(Side::Outside, test::addr("203.0.113.99:5060"));  // someone else
    EXPECT_TRUE(udp_.empty());
    proxy_.transport_failed(Side::Outside, bob_);
    ASSERT_EQ(udp_.size(), 1u);
    EXPECT_EQ(udp_[0].dest, alice_);
    EXPECT_EQ(parse_sip_message(udp_[0].data)->status_code, 500);
    EXPECT_TRUE(proxy_.calls().empty());
    proxy_.transport_failed(Side::Outside, bob_);  // nothing left to end
    EXPECT_EQ(udp_.size(), 1u);

    tcp_can_connect_ = false;
    std::string again = invite_over_tcp();
    again.replace(again.find("Call-ID: "), 9, "Call-ID: 2");
    proxy_.handle_datagram(again, Side::Inside, alice_, 1001);
    ASSERT_EQ(udp_.size(), 2u);
    EXPECT_EQ(parse_sip_message(udp_[1].data)->status_code, 500);
    now_ms_ += 40000;  // and no 408 later
    proxy_.run_timers();
    EXPECT_EQ(udp_.size(), 2u);
}

}  // namespace
}  // namespace sipmasq
