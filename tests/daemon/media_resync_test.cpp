// A crash of the relay costs no call (DESIGN.md): a call's media flows
// through rtpd; rtpd is killed with -9; the parent starts a new one, sipd
// hands it every active forward with its old ports, and the same relay
// ports carry the media again. With several rtpd workers, only the calls
// of the worker that died see a gap. All real processes, sandbox as built.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>

#include <chrono>
#include <optional>
#include <regex>
#include <thread>

#include "daemon_harness.h"
#include "udp_peer.h"

namespace sipmasq::test {
namespace {

using namespace std::chrono_literals;

struct Datagram {
    std::string data;
    std::string from_host;
    uint16_t from_port = 0;
};

std::optional<Datagram> receive_within(const UdpPeer& peer, std::chrono::milliseconds wait) {
    pollfd pfd{peer.fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(wait.count())) <= 0) return std::nullopt;
    char buf[2048];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n = ::recvfrom(peer.fd, buf, sizeof buf, MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return std::nullopt;
    char host[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &from.sin_addr, host, sizeof host);
    return Datagram{std::string(buf, static_cast<size_t>(n)), host, ntohs(from.sin_port)};
}

// The "c=" address and the first "m=" port of an SDP body in a message.
std::pair<std::string, uint16_t> sdp_target(const std::string& message) {
    std::smatch c, m;
    std::regex_search(message, c, std::regex("c=IN IP4 ([0-9.]+)"));
    std::regex_search(message, m, std::regex("m=audio ([0-9]+) "));
    if (c.empty() || m.empty()) return {"", 0};
    return {c[1].str(), static_cast<uint16_t>(std::stoi(m[1].str()))};
}

// Every line of `request` whose header is one a response copies.
std::string response_headers(const std::string& request) {
    std::string out;
    std::istringstream lines(request);
    std::string line;
    while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        for (const char* name : {"Via:", "From:", "Call-ID:", "CSeq:", "Record-Route:"})
            if (line.rfind(name, 0) == 0) out += line + "\r\n";
        if (line.rfind("To:", 0) == 0) out += line + ";tag=alice1\r\n";
    }
    return out;
}

std::string sdp_body(const char* host, uint16_t port) {
    return std::string("v=0\r\no=x 1 1 IN IP4 ") + host + "\r\ns=-\r\nc=IN IP4 " + host +
           "\r\nt=0 0\r\nm=audio " + std::to_string(port) +
           " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
}

// Sends from `from` to target every 20 ms until `to` receives one (at most
// `wait`); returns what `to` received.
std::optional<Datagram> media_passes(const UdpPeer& from,
                                     const std::pair<std::string, uint16_t>& target,
                                     const UdpPeer& to, std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    int seq = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        from.send_to(target.first.c_str(), target.second, "rtp packet " + std::to_string(++seq));
        if (auto got = receive_within(to, 20ms)) return got;
    }
    return std::nullopt;
}

// alice (inside, 127.0.0.5) registered; each call is one from an outside
// phone to her, answered, with its relay ports on both sides.
struct Call {
    UdpPeer bob{"127.0.0.3"}, bob_media{"127.0.0.3"}, alice_media{"127.0.0.5"};
    std::pair<std::string, uint16_t> inside_relay, outside_relay;
};

void register_alice(const UdpPeer& alice, uint16_t sip_port, Daemon& daemon) {
    alice.send_to(
        "127.0.0.1", sip_port,
        with_length("REGISTER sip:127.0.0.2 SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP 127.0.0.5:" +
                        std::to_string(alice.port) +
                        ";branch=z9hG4bKres1;rport\r\n"
                        "From: <sip:alice@127.0.0.2>;tag=a1\r\nTo: <sip:alice@127.0.0.2>\r\n"
                        "Call-ID: reg-res@127.0.0.5\r\nCSeq: 1 REGISTER\r\n"
                        "Contact: <sip:alice@127.0.0.5:" +
                        std::to_string(alice.port) +
                        ">\r\n"
                        "Expires: 600\r\nMax-Forwards: 70\r\n",
                    ""));
    ASSERT_NE(alice.receive("SIP/2.0 200"), "") << daemon.log();
}

// Sets up call `name` and checks media passes both ways through it.
void establish(Call& call, const std::string& name, const UdpPeer& alice, uint16_t sip_port,
               Daemon& daemon) {
    call.bob.send_to(
        "127.0.0.2", sip_port,
        with_length("INVITE sip:alice@127.0.0.2 SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP 127.0.0.3:" +
                        std::to_string(call.bob.port) + ";branch=z9hG4bK" + name +
                        ";rport\r\n"
                        "From: <sip:bob@127.0.0.3>;tag=b1\r\nTo: <sip:alice@127.0.0.2>\r\n"
                        "Call-ID: " +
                        name +
                        "@127.0.0.3\r\nCSeq: 1 INVITE\r\n"
                        "Contact: <sip:bob@127.0.0.3:" +
                        std::to_string(call.bob.port) +
                        ">\r\n"
                        "Max-Forwards: 70\r\nContent-Type: application/sdp\r\n",
                    sdp_body("127.0.0.3", call.bob_media.port)));
    const std::string invite = alice.receive("INVITE ");
    ASSERT_NE(invite, "") << daemon.log();
    call.inside_relay = sdp_target(invite);
    ASSERT_EQ(call.inside_relay.first, "127.0.0.1") << invite;

    alice.send_to("127.0.0.1", sip_port,
                  with_length("SIP/2.0 200 OK\r\n" + response_headers(invite) +
                                  "Contact: <sip:alice@127.0.0.5:" + std::to_string(alice.port) +
                                  ">\r\nContent-Type: application/sdp\r\n",
                              sdp_body("127.0.0.5", call.alice_media.port)));
    const std::string ok = call.bob.receive("SIP/2.0 200");
    ASSERT_NE(ok, "") << daemon.log();
    call.outside_relay = sdp_target(ok);
    ASSERT_EQ(call.outside_relay.first, "127.0.0.2") << ok;

    // Media both ways, each phone seeing the relay's port on its side.
    auto to_alice = media_passes(call.bob_media, call.outside_relay, call.alice_media, 3s);
    ASSERT_TRUE(to_alice.has_value()) << daemon.log();
    EXPECT_EQ(to_alice->from_port, call.inside_relay.second);
    auto to_bob = media_passes(call.alice_media, call.inside_relay, call.bob_media, 3s);
    ASSERT_TRUE(to_bob.has_value()) << daemon.log();
    EXPECT_EQ(to_bob->from_port, call.outside_relay.second);
}

// After its relay restarted: media both ways again, from the same ports.
void expect_resumed(Call& call, Daemon& daemon) {
    while (receive_within(call.alice_media, 50ms) || receive_within(call.bob_media, 1ms)) {
    }
    auto to_alice = media_passes(call.bob_media, call.outside_relay, call.alice_media, 5s);
    ASSERT_TRUE(to_alice.has_value()) << daemon.log();
    EXPECT_EQ(to_alice->from_host, "127.0.0.1");
    EXPECT_EQ(to_alice->from_port, call.inside_relay.second);
    auto to_bob = media_passes(call.alice_media, call.inside_relay, call.bob_media, 3s);
    ASSERT_TRUE(to_bob.has_value()) << daemon.log();
    EXPECT_EQ(to_bob->from_port, call.outside_relay.second);
}

TEST(MediaResync, RtpdKilledMidCallResumesOnTheSameRelayPorts) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: starts the privileged daemon";
    TempDir dir;
    const uint16_t sip_port = free_udp_port("127.0.0.1");
    const std::string config = dir.file("sipmasq.conf");
    write_file(config, loopback_config(dir, sip_port));
    Daemon daemon;
    ASSERT_TRUE(daemon.start(config, dir.path()));
    ASSERT_TRUE(daemon.wait_ready("sipd", 10s) && daemon.wait_ready("rtpd", 10s)) << daemon.log();

    UdpPeer alice("127.0.0.5");
    ASSERT_NO_FATAL_FAILURE(register_alice(alice, sip_port, daemon));
    Call call;
    ASSERT_NO_FATAL_FAILURE(establish(call, "call-res", alice, sip_port, daemon));

    // The relay dies; the call must not.
    const auto rtpd = daemon.wait_ready("rtpd", 1s);
    ASSERT_TRUE(rtpd.has_value());
    const size_t mark = daemon.log_size();
    ASSERT_EQ(::kill(*rtpd, SIGKILL), 0);
    const auto killed_at = std::chrono::steady_clock::now();
    ASSERT_TRUE(daemon.wait_ready("rtpd", 10s, mark).has_value()) << daemon.log();
    ASSERT_NO_FATAL_FAILURE(expect_resumed(call, daemon));
    const auto resumed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - killed_at);
    RecordProperty("media_resumed_after_ms", static_cast<int>(resumed_ms.count()));
}

// sipmasqctl's answer (OK line dropped), or "" when it failed.
std::string ctl(const TempDir& dir, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {build_root() + "/ctl/sipmasqctl", "-s", dir.file("control")};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    return run_command(argv, out) == 0 ? out : "";
}

// The worker column of `call`'s rows in `sipmasqctl streams`, -1 if none.
int worker_of(const std::string& streams, const std::string& call) {
    std::smatch m;
    if (!std::regex_search(streams, m, std::regex("(^|\n)([0-9]+) +[0-9]+ +" + call + "@")))
        return -1;
    return std::stoi(m[2].str());
}

TEST(MediaResync, AKilledWorkerCostsOnlyItsOwnCallsAGap) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: starts the privileged daemon";
    TempDir dir;
    const uint16_t sip_port = free_udp_port("127.0.0.1");
    const std::string config = dir.file("sipmasq.conf");
    write_file(config, loopback_config(dir, sip_port, "rtp_workers = 2\n"));
    Daemon daemon;
    ASSERT_TRUE(daemon.start(config, dir.path()));
    ASSERT_TRUE(daemon.wait_ready("sipd", 10s)) << daemon.log();
    const std::optional<pid_t> workers[2] = {daemon.wait_ready("rtpd0", 10s),
                                             daemon.wait_ready("rtpd1", 10s)};
    ASSERT_TRUE(workers[0] && workers[1]) << daemon.log();

    UdpPeer alice("127.0.0.5");
    ASSERT_NO_FATAL_FAILURE(register_alice(alice, sip_port, daemon));
    Call first, second;
    ASSERT_NO_FATAL_FAILURE(establish(first, "call-w1", alice, sip_port, daemon));
    ASSERT_NO_FATAL_FAILURE(establish(second, "call-w2", alice, sip_port, daemon));

    // Each call on a worker of its own (the least loaded takes the next
    // call), both in one table.
    const std::string streams = ctl(dir, {"streams"});
    const int first_worker = worker_of(streams, "call-w1");
    const int second_worker = worker_of(streams, "call-w2");
    ASSERT_NE(first_worker, -1) << streams;
    ASSERT_NE(second_worker, -1) << streams;
    EXPECT_NE(first_worker, second_worker) << streams;
    EXPECT_NE(streams.find("2 streams"), std::string::npos) << streams;
    const std::string json = ctl(dir, {"-j", "streams"});
    EXPECT_NE(json.find("\"worker\":0,"), std::string::npos) << json;
    EXPECT_NE(json.find("\"worker\":1,"), std::string::npos) << json;
    EXPECT_NE(json.find("\"count\":2,\"workers\":2,\"down\":[]"), std::string::npos) << json;

    // The first call's worker dies. While it restarts, every packet of the
    // second call still gets across; then the first resumes on its ports.
    const size_t mark = daemon.log_size();
    ASSERT_EQ(::kill(*workers[first_worker], SIGKILL), 0);
    const std::string name = "rtpd" + std::to_string(first_worker);
    int second_sent = 0, second_lost = 0;
    for (int i = 0; i < 250 && !daemon.wait_for_log(name + " ready", 0ms, mark); ++i) {
        ++second_sent;
        if (!media_passes(second.bob_media, second.outside_relay, second.alice_media, 20ms)) {
            // Not within 20 ms: it must still come (bounded by 2 s).
            if (!receive_within(second.alice_media, 2s)) ++second_lost;
        }
    }
    ASSERT_TRUE(daemon.wait_ready(name, 10s, mark).has_value()) << daemon.log();
    EXPECT_GT(second_sent, 0);
    EXPECT_EQ(second_lost, 0) << second_sent << " sent through the other worker";
    ASSERT_NO_FATAL_FAILURE(expect_resumed(first, daemon));
    ASSERT_NO_FATAL_FAILURE(expect_resumed(second, daemon));
    // Only the dead worker was restarted: the other kept its pid.
    EXPECT_TRUE(daemon.wait_for_log(name + " ready", 0ms, mark).has_value());
    const std::string other = "rtpd" + std::to_string(1 - first_worker);
    EXPECT_FALSE(daemon.wait_for_log(other + " ready", 0ms, mark).has_value()) << daemon.log();
    EXPECT_EQ(::kill(*workers[1 - first_worker], 0), 0);
    const std::string after = ctl(dir, {"streams"});
    EXPECT_EQ(worker_of(after, "call-w1"), first_worker) << after;
    EXPECT_EQ(worker_of(after, "call-w2"), second_worker) << after;

    // sipd restarts and learns from each worker's LIST_FWD which worker
    // holds which call: when the second call's worker dies next, the new
    // sipd hands its successor that call again.
    const auto sipd = daemon.wait_ready("sipd", 1s);
    ASSERT_TRUE(sipd.has_value());
    const size_t sipd_mark = daemon.log_size();
    ASSERT_EQ(::kill(*sipd, SIGKILL), 0);
    ASSERT_TRUE(daemon.wait_ready("sipd", 10s, sipd_mark).has_value()) << daemon.log();
    ASSERT_TRUE(
        daemon.wait_for_log("rtpd worker [01] holds [0-9]+ forwards(.|\n)*rtpd worker "
                            "[01] holds [0-9]+ forwards",
                            5s, sipd_mark))
        << daemon.log();
    const size_t second_mark = daemon.log_size();
    ASSERT_EQ(::kill(*workers[second_worker], SIGKILL), 0);
    ASSERT_TRUE(daemon.wait_ready("rtpd" + std::to_string(second_worker), 10s, second_mark))
        << daemon.log();
    ASSERT_NO_FATAL_FAILURE(expect_resumed(second, daemon));
    ASSERT_NO_FATAL_FAILURE(expect_resumed(first, daemon));
}

}  // namespace
}  // namespace sipmasq::test
