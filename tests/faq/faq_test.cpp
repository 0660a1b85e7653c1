// The FAQ scenarios against the real daemon (all three processes, sandbox as
// built) in network namespaces this test creates and deletes:
//   smq-in-<pid>   phones   192.0.2.10 (alice), 192.0.2.20 (carol)
//   smq-fw-<pid>   sipmasq  192.0.2.1 inside, 203.0.113.1 outside
//   smq-out-<pid>  external host 203.0.113.10 (bob, a registrar)
// SIPp plays the phones, the registrar and the callers.
#include <atomic>
#include <regex>
#include <thread>

#include "faq_fixture.h"

namespace sipmasq::test {
namespace {

using namespace std::chrono_literals;

TEST_F(FaqTest, PhoneRegistersAtSipmasq) {
    register_phone("alice", "192.0.2.10");
    EXPECT_TRUE(daemon_.wait_for_log(
        "registration added: alice@203.0.113.1 contact sip:alice@192.0.2.10:5060 from "
        "192.0.2.10:5060",
        5s));
}

TEST_F(FaqTest, OutsideRegisterIsRefused) {
    std::string log;
    EXPECT_TRUE(sipp(out_, "register_403.xml", "203.0.113.10", "203.0.113.1:5060",
                     {"-p", "5060", "-s", "mallory", "-key", "domain", "203.0.113.1"}, &log))
        << log;
    EXPECT_TRUE(daemon_.wait_for_log("security: register-refused from 203.0.113.10:5060: 403", 5s))
        << daemon_.log();
}

TEST_F(FaqTest, CallOutToExternalHost) {
    const pid_t bob = sipp_background(out_, "uas.xml", "203.0.113.10", {"-p", "5060"});
    std::string log;
    EXPECT_TRUE(sipp(in_, "call_uac.xml", "192.0.2.10", "192.0.2.1:5060",
                     {"-p", "5062", "-s", "bob", "-key", "target", "203.0.113.10", "-key",
                      "from_user", "alice", "-key", "from_domain", "203.0.113.1", "-d", "200"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(bob)) << read_file(bg_msg_);
    // bob saw alice's contact masqueraded to sipmasq's outside address.
    const std::string seen = read_file(bg_msg_);
    EXPECT_EQ(seen.find("Contact: <sip:alice@192.0.2."), std::string::npos) << seen;
    EXPECT_NE(seen.find("Contact: <sip:alice@203.0.113.1:5060;smq="), std::string::npos) << seen;
}

TEST_F(FaqTest, CallInToThePublicAor) {
    register_phone("alice", "192.0.2.10");
    const pid_t alice = sipp_background(in_, "uas.xml", "192.0.2.10", {"-p", "5060"});
    std::string log;
    EXPECT_TRUE(sipp(out_, "call_uac.xml", "203.0.113.10", "203.0.113.1:5060",
                     {"-p", "5062", "-s", "alice", "-key", "target", "203.0.113.1", "-key",
                      "from_user", "bob", "-key", "from_domain", "203.0.113.10", "-d", "200"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(alice)) << read_file(bg_msg_);
}

TEST_F(FaqTest, LocalToLocalCall) {
    register_phone("carol", "192.0.2.20");
    const pid_t carol = sipp_background(in_, "uas.xml", "192.0.2.20", {"-p", "5060"});
    std::string log;
    EXPECT_TRUE(sipp(in_, "call_uac.xml", "192.0.2.10", "192.0.2.1:5060",
                     {"-p", "5062", "-s", "carol", "-key", "target", "203.0.113.1", "-key",
                      "from_user", "alice", "-key", "from_domain", "203.0.113.1", "-d", "200"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(carol)) << read_file(bg_msg_);
}

TEST_F(FaqTest, RefusalsOutsideToOutsideAndUnknownUser) {
    // Anything sipmasq relayed to 203.0.113.10:5070 would land here.
    const int target = bind_ns(out_, "203.0.113.10", 5070);
    ASSERT_GE(target, 0);
    std::string log;
    EXPECT_TRUE(sipp(out_, "call_403.xml", "203.0.113.10", "203.0.113.1:5060",
                     {"-p", "5062", "-s", "victim", "-key", "target", "203.0.113.10:5070", "-key",
                      "from_user", "mallory", "-key", "from_domain", "203.0.113.10"},
                     &log))
        << log << daemon_.log();
    char buf[2048];
    EXPECT_LT(::recv(target, buf, sizeof buf, 0), 0) << "sipmasq relayed an outside request out";
    EXPECT_TRUE(daemon_.wait_for_log("security: relay-refused from 203.0.113.10:5062: 403", 5s));
    EXPECT_TRUE(sipp(out_, "call_404.xml", "203.0.113.10", "203.0.113.1:5060",
                     {"-p", "5062", "-s", "nobody", "-key", "target", "203.0.113.1", "-key",
                      "from_user", "mallory", "-key", "from_domain", "203.0.113.10"},
                     &log))
        << log << daemon_.log();
}

TEST_F(FaqTest, OutboundProxyRegistrationWithChallenge) {
    const pid_t registrar =
        sipp_background(out_, "registrar_401.xml", "203.0.113.10", {"-p", "5060"});
    std::string log;
    EXPECT_TRUE(sipp(in_, "register_auth.xml", "192.0.2.10", "192.0.2.1:5060",
                     {"-p", "5060", "-s", "alice", "-key", "domain", "203.0.113.10", "-au", "alice",
                      "-ap", "secret"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(registrar)) << read_file(bg_msg_);
    EXPECT_TRUE(daemon_.wait_for_log(
        "registration confirmed: alice@203.0.113.10 contact sip:alice@192.0.2.10:5060", 5s))
        << daemon_.log();
    // The registrar only ever saw the masqueraded contact.
    EXPECT_EQ(read_file(bg_msg_).find("Contact: <sip:alice@192.0.2.10"), std::string::npos);
}

// Registrar mode with proxy_auth_realm: sipmasq itself challenges.
class FaqAuthTest : public FaqTest {
  protected:
    std::string extra_config() override {
        const std::string pwfile = dir_.file("passwd");
        write_file(pwfile, "# siproxd format\nalice secret\n");
        return "proxy_auth_realm = sipmasq.test\nproxy_auth_pwfile = " + pwfile + "\n";
    }
};

TEST_F(FaqAuthTest, RegistrarChallengesAndAcceptsTheRightPassword) {
    std::string log;
    EXPECT_TRUE(sipp(in_, "register_auth.xml", "192.0.2.10", "192.0.2.1:5060",
                     {"-p", "5060", "-s", "alice", "-key", "domain", "203.0.113.1", "-au", "alice",
                      "-ap", "secret"},
                     &log))
        << log << daemon_.log();
    EXPECT_NE(log.find("WWW-Authenticate: Digest realm=\"sipmasq.test\""), std::string::npos)
        << log;
    EXPECT_TRUE(daemon_.wait_for_log(
        "registration added: alice@203.0.113.1 contact sip:alice@192.0.2.10:5060", 5s))
        << daemon_.log();
}

TEST_F(FaqAuthTest, WrongPasswordIsRefusedAndLogged) {
    std::string log;
    EXPECT_TRUE(sipp(in_, "register_auth_wrong.xml", "192.0.2.10", "192.0.2.1:5060",
                     {"-p", "5060", "-s", "alice", "-key", "domain", "203.0.113.1", "-au", "alice",
                      "-ap", "guess"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(daemon_.wait_for_log(
        "security: auth-failed from 192.0.2.10:5060: user=alice \\(wrong password\\)", 5s))
        << log << daemon_.log();
    EXPECT_FALSE(daemon_.wait_for_log("registration added", 500ms)) << daemon_.log();
}

// A DNS server of a few lines in the outside namespace: A 203.0.113.10 for
// bob.example.test, SRV _sip._udp.provider.example.test -> 0 0 5070
// bob.example.test, A for gw.example.test (a dyndns name: the address the
// test sets, TTL 1 s), NXDOMAIN for anything else; counts the queries.
class TinyDns {
  public:
    // gw.example.test's address (a.b.c.d) from now on.
    void set_gw(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
        gw_ = (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d;
    }
    bool start(int fd) {
        fd_ = fd;
        if (fd_ < 0) return false;
        thread_ = std::thread([this] { serve(); });
        return true;
    }
    ~TinyDns() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    int queries() const { return queries_; }
    int srv_queries() const { return srv_queries_; }

  private:
    void serve() {
        for (int i = 0; i < 400 && !stop_; ++i) {  // ~2 minutes at most
            unsigned char q[512];
            sockaddr_in from{};
            socklen_t len = sizeof from;
            const ssize_t n =
                ::recvfrom(fd_, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n < 17) continue;  // timeout (300 ms) or too short
            ++queries_;
            size_t at = 12;
            std::string name;
            while (at < static_cast<size_t>(n) && q[at] != 0 && q[at] < 64) {
                if (!name.empty()) name += '.';
                name.append(reinterpret_cast<const char*>(q + at + 1), q[at]);
                at += q[at] + 1u;
            }
            const size_t qend = at + 5;  // the 0 label, type, class
            if (qend > static_cast<size_t>(n)) continue;
            const bool a = q[at + 1] == 0 && q[at + 2] == 1;
            const bool srv_type = q[at + 1] == 0 && q[at + 2] == 33;
            // evdns mixes the case of the letters (0x20 anti-spoofing).
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            const bool srv = srv_type && name == "_sip._udp.provider.example.test";
            if (srv) ++srv_queries_;
            const bool gw = a && name == "gw.example.test";
            const bool known = (a && name == "bob.example.test") || srv || gw;
            std::string r(reinterpret_cast<const char*>(q), qend);
            r[2] = static_cast<char>(0x81);
            r[3] = static_cast<char>(known ? 0x80 : 0x83);
            r[6] = 0;
            r[7] = known ? 1 : 0;
            r[8] = r[9] = r[10] = r[11] = 0;
            if (srv) {
                // Priority 0, weight 0, port 5070, target bob.example.test.
                const unsigned char ans[] = {0xc0, 12,  0,   33,  0,   1,   0,   0,    0,
                                             60,   0,   24,  0,   0,   0,   0,   0x13, 0xce,
                                             3,    'b', 'o', 'b', 7,   'e', 'x', 'a',  'm',
                                             'p',  'l', 'e', 4,   't', 'e', 's', 't',  0};
                r.append(reinterpret_cast<const char*>(ans), sizeof ans);
            } else if (gw) {
                // TTL 1 s; the address in network order.
                const unsigned char ans[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4};
                r.append(reinterpret_cast<const char*>(ans), sizeof ans);
                const uint32_t g = htonl(gw_);
                r.append(reinterpret_cast<const char*>(&g), sizeof g);
            } else if (known) {
                const unsigned char ans[] = {0xc0, 12, 0, 1, 0,   1, 0,   0,
                                             0,    60, 0, 4, 203, 0, 113, 10};
                r.append(reinterpret_cast<const char*>(ans), sizeof ans);
            }
            (void)::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
        }
    }
    int fd_ = -1;
    std::atomic<bool> stop_{false};
    std::atomic<int> queries_{0};
    std::atomic<int> srv_queries_{0};
    std::atomic<uint32_t> gw_{0xc6336407};  // 198.51.100.7
    std::thread thread_;
};

class FaqDnsTest : public FaqTest {
  protected:
    std::string extra_config() override { return "dns_server = 203.0.113.10\n"; }
};

TEST_F(FaqDnsTest, CallOutToANameResolvedByDns) {
    TinyDns dns;
    ASSERT_TRUE(dns.start(bind_ns(out_, "203.0.113.10", 53)));
    const pid_t bob = sipp_background(out_, "uas.xml", "203.0.113.10", {"-p", "5060"});
    std::string log;
    EXPECT_TRUE(sipp(in_, "call_uac.xml", "192.0.2.10", "192.0.2.1:5060",
                     {"-p", "5062", "-s", "bob", "-key", "target", "bob.example.test", "-key",
                      "from_user", "alice", "-key", "from_domain", "203.0.113.1", "-d", "200"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(bob)) << read_file(bg_msg_);
    EXPECT_GE(dns.queries(), 1);
    EXPECT_TRUE(daemon_.wait_for_log("DNS: bob.example.test is 203.0.113.10 \\(ttl 60\\)", 2s))
        << daemon_.log();
}

// RFC 3263: sip:bob@provider.example.test has no port, so its SRV record
// names the host and the port (5070) where bob's UAS listens.
TEST_F(FaqDnsTest, CallOutFollowsTheSrvRecord) {
    TinyDns dns;
    ASSERT_TRUE(dns.start(bind_ns(out_, "203.0.113.10", 53)));
    const pid_t bob = sipp_background(out_, "uas.xml", "203.0.113.10", {"-p", "5070"});
    std::string log;
    EXPECT_TRUE(sipp(in_, "call_uac.xml", "192.0.2.10", "192.0.2.1:5060",
                     {"-p", "5062", "-s", "bob", "-key", "target", "provider.example.test", "-key",
                      "from_user", "alice", "-key", "from_domain", "203.0.113.1", "-d", "200"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(bob)) << read_file(bg_msg_);
    EXPECT_GE(dns.srv_queries(), 1);
    EXPECT_NE(read_file(bg_msg_).find("INVITE sip:bob@provider.example.test SIP/2.0"),
              std::string::npos)
        << read_file(bg_msg_);
    EXPECT_TRUE(daemon_.wait_for_log(
        "DNS: SRV _sip._udp.provider.example.test: 0 0 5070 bob.example.test \\(ttl 60\\)", 2s))
        << daemon_.log();
    EXPECT_TRUE(daemon_.wait_for_log("DNS: bob.example.test is 203.0.113.10", 2s)) << daemon_.log();
}

TEST_F(FaqDnsTest, UnknownNameGets504) {
    TinyDns dns;
    ASSERT_TRUE(dns.start(bind_ns(out_, "203.0.113.10", 53)));
    std::string log;
    sipp(in_, "call_uac.xml", "192.0.2.10", "192.0.2.1:5060",
         {"-p", "5062", "-s", "bob", "-key", "target", "nowhere.example.test", "-key", "from_user",
          "alice", "-key", "from_domain", "203.0.113.1"},
         &log);
    EXPECT_NE(log.find("SIP/2.0 504"), std::string::npos) << log << daemon_.log();
    EXPECT_TRUE(daemon_.wait_for_log("next hop nowhere.example.test:5060: .* answered 504", 2s))
        << daemon_.log();
}

// sipmasq in front of a NAT router whose public address is a dyndns name
// (host_outbound): the name is looked up again when its TTL runs out (never
// sooner than 60 s apart), not only on SIGHUP, and what sipmasq advertises
// follows the new address.
class FaqDyndnsTest : public FaqTest {
  protected:
    std::string extra_config() override {
        return "dns_server = 203.0.113.10\nhost_outbound = gw.example.test\n";
    }
};

TEST_F(FaqDyndnsTest, HostOutboundIsLookedUpAgainWhenItsTtlRunsOut) {
    TinyDns dns;
    ASSERT_TRUE(dns.start(bind_ns(out_, "203.0.113.10", 53)));
    EXPECT_TRUE(daemon_.wait_for_log(
        "host_outbound gw.example.test is now 198.51.100.7 \\(was [^)]*\\); advertising it", 10s))
        << daemon_.log();
    dns.set_gw(198, 51, 100, 8);  // the router got a new address
    // TTL 1 s, clamped to the 60 s minimum: one more lookup within ~61 s.
    EXPECT_TRUE(daemon_.wait_for_log(
        "host_outbound gw.example.test is now 198.51.100.8 \\(was 198.51.100.7\\); advertising "
        "it",
        75s))
        << daemon_.log();
    // A call out now names the new address in its Via.
    const pid_t bob = sipp_background(out_, "uas.xml", "203.0.113.10", {"-p", "5060"});
    std::string log;
    EXPECT_TRUE(sipp(in_, "call_uac.xml", "192.0.2.10", "192.0.2.1:5060",
                     {"-p", "5062", "-s", "bob", "-key", "target", "203.0.113.10", "-key",
                      "from_user", "alice", "-key", "from_domain", "203.0.113.1"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(bob)) << read_file(bg_msg_);
    const std::string seen = read_file(bg_msg_);
    EXPECT_NE(seen.find("Via: SIP/2.0/UDP 198.51.100.8"), std::string::npos) << seen;
    EXPECT_EQ(seen.find("198.51.100.7"), std::string::npos) << seen;
}

class FaqMediaTest : public FaqTest {
  protected:
    void run(bool kill_sipd) {
        register_phone("alice", "192.0.2.10");
        const size_t mark = daemon_.log_size();
        MediaCall call;
        start_media_call(call, in_, "192.0.2.10", kill_sipd ? "40000" : "3000");
        if (HasFatalFailure() || IsSkipped()) return;
        expect_media_both_ways(call, "1");
        if (kill_sipd) {
            // Saves are coalesced to one a second: let the last one happen.
            std::this_thread::sleep_for(1500ms);
            // sipd killed 20 times in a row: the parent keeps starting it
            // (backoff capped at 1 s here) and the media never stops.
            pid_t sipd = *sipd_;
            for (int kill = 1; kill <= 20; ++kill) {
                const size_t before = daemon_.log_size();
                ASSERT_EQ(::kill(sipd, SIGKILL), 0) << "kill " << kill;
                expect_media_both_ways(call, "down-" + std::to_string(kill));  // sipd away
                const auto again = daemon_.wait_ready("sipd", 15s, before);
                ASSERT_TRUE(again.has_value()) << "kill " << kill << daemon_.log();
                sipd = *again;
                EXPECT_TRUE(daemon_.wait_for_log("forward [0-9]+ adopted from rtpd", 5s, before))
                    << daemon_.log();
                // The same relay ports carry it.
                expect_media_both_ways(call, "up-" + std::to_string(kill));
            }
        }
        expect_call_completed(call);
        EXPECT_TRUE(daemon_.wait_for_log("call end: .*\\(BYE\\)", 5s, mark)) << daemon_.log();
        // Released: nothing crosses any more.
        std::this_thread::sleep_for(300ms);
        EXPECT_EQ(relay_once(call.phone, "192.0.2.1", call.in_port, call.remote, "late"), "");
    }
};

TEST_F(FaqMediaTest, RtpBothWaysThroughTheRelayAndByeReleasesIt) {
    run(false);
}

class FaqKillTest : public FaqMediaTest {
  protected:
    std::string extra_config() override { return "restart_backoff_max = 1\n"; }
};

TEST_F(FaqKillTest, SipdKilledTwentyTimesMidCallKeepsRegistrationsAndMedia) {
    sipp_timeout_ = "90s";
    run(true);
}

}  // namespace
}  // namespace sipmasq::test
