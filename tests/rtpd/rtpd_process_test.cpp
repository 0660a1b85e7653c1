// The real sipmasq-rtpd through the real IPC with its sandbox enforcing: the
// test is its parent (fd 3) and its sipd, and the phones on loopback.
// Inside relay 127.0.0.1, outside relay 127.0.0.2, inside phone on
// 127.0.0.1, outside phone on 127.0.0.3.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "codec.h"
#include "relay_test_util.h"
#include "rtpd_harness.h"

namespace sipmasq::rtpdtest {
namespace {

using sipmasq::test::ep;
using sipmasq::test::Phone;

constexpr const char* kInside = "127.0.0.1";
constexpr const char* kOutside = "127.0.0.2";
constexpr const char* kInsidePhoneHost = "127.0.0.1";
constexpr const char* kOutsidePhoneHost = "127.0.0.3";

uint16_t range_low() {
    return static_cast<uint16_t>(44000 + (::getpid() % 200) * 40);
}

// A phone's RTP socket on an even port and its RTCP socket on the next.
struct PhonePair {
    std::unique_ptr<Phone> rtp;
    std::unique_ptr<Phone> rtcp;
};

PhonePair make_phone(const char* host) {
    static uint16_t next = static_cast<uint16_t>(20000 + (::getpid() % 2000) * 4);
    for (int attempt = 0; attempt < 500; ++attempt) {
        const uint16_t port = next;
        next = static_cast<uint16_t>(next + 2 >= 29998 ? 20000 : next + 2);
        auto rtp = std::make_unique<Phone>(host, port);
        auto rtcp = std::make_unique<Phone>(host, static_cast<uint16_t>(port + 1));
        if (rtp->ok() && rtcp->ok()) return PhonePair{std::move(rtp), std::move(rtcp)};
    }
    return {};
}

std::optional<std::pair<std::string, Endpoint>> recv_wait(const Phone& phone, int ms = 2000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
        if (auto got = phone.try_recv()) return got;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0) return std::nullopt;
        pollfd p{phone.fd(), POLLIN, 0};
        (void)::poll(&p, 1, static_cast<int>(std::min<long>(left, 50)));
    }
}

// Nothing arrives within `ms`.
bool silent(const Phone& phone, int ms = 300) {
    return !recv_wait(phone, ms).has_value();
}

class RtpdProcessTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root: rtpd drops to user nobody in a chroot";
    }

    // Starts rtpd with `extra` config lines, logging up to `level` (the
    // per-forward lines are at debug).
    void launch(const std::string& extra = "", uint16_t pairs = 20, const char* level = "info") {
        config_ = write_rtpd_config(dir_, range_low(),
                                    static_cast<uint16_t>(range_low() + 2 * pairs - 1), extra);
        level_ = level;
        std::string error;
        sipd_ = rtpd_.start(config_, error, level_);
        ASSERT_TRUE(sipd_) << error;
        ASSERT_EQ(seccomp_mode(rtpd_.pid()), 2) << "rtpd must run under its seccomp filter";
    }

    // START_FWD -> FWD_STARTED; the RTP ports (inside, outside).
    std::pair<uint16_t, uint16_t> start(uint32_t id, const PhonePair& in, const PhonePair& out,
                                        const std::string& tag, uint32_t flags = 0,
                                        uint16_t in_port = 0, uint16_t out_port = 0) {
        const uint32_t seq =
            sipd_->start_fwd(id, make_start(kInside, kOutside, in.rtp->addr(), out.rtp->addr(), tag,
                                            flags, in_port, out_port));
        EXPECT_NE(seq, 0u);
        auto reply = sipd_->wait_reply(seq, 3000);
        EXPECT_TRUE(reply);
        if (!reply) return {0, 0};
        EXPECT_EQ(reply->type(), proto::MsgType::FwdStarted);
        EXPECT_EQ(reply->header.peer_id, id);
        const auto started = reply->as<proto::FwdStartedMsg>();
        return {started.inside_local.port, started.outside_local.port};
    }

    // One datagram each way on RTP and RTCP, checking content and the
    // symmetric source port each phone sees.
    void expect_flow(const PhonePair& in, const PhonePair& out, uint16_t in_port, uint16_t out_port,
                     const std::string& label) {
        const Endpoint relay_in = ep(kInside, in_port);
        const Endpoint relay_out = ep(kOutside, out_port);
        const Endpoint relay_in_rtcp = ep(kInside, static_cast<uint16_t>(in_port + 1));
        const Endpoint relay_out_rtcp = ep(kOutside, static_cast<uint16_t>(out_port + 1));

        ASSERT_TRUE(in.rtp->send_to(relay_in, "rtp-in-" + label));
        auto got = recv_wait(*out.rtp);
        ASSERT_TRUE(got) << label << ": inside->outside RTP lost";
        EXPECT_EQ(got->first, "rtp-in-" + label);
        EXPECT_TRUE(got->second == relay_out) << got->second.to_string();

        ASSERT_TRUE(out.rtp->send_to(relay_out, "rtp-out-" + label));
        got = recv_wait(*in.rtp);
        ASSERT_TRUE(got) << label << ": outside->inside RTP lost";
        EXPECT_EQ(got->first, "rtp-out-" + label);
        EXPECT_TRUE(got->second == relay_in) << got->second.to_string();

        ASSERT_TRUE(in.rtcp->send_to(relay_in_rtcp, "rtcp-in-" + label));
        got = recv_wait(*out.rtcp);
        ASSERT_TRUE(got) << label << ": inside->outside RTCP lost";
        EXPECT_EQ(got->first, "rtcp-in-" + label);
        EXPECT_TRUE(got->second == relay_out_rtcp) << got->second.to_string();

        ASSERT_TRUE(out.rtcp->send_to(relay_out_rtcp, "rtcp-out-" + label));
        got = recv_wait(*in.rtcp);
        ASSERT_TRUE(got) << label << ": outside->inside RTCP lost";
        EXPECT_EQ(got->first, "rtcp-out-" + label);
        EXPECT_TRUE(got->second == relay_in_rtcp) << got->second.to_string();
    }

    ScratchDir dir_;
    std::string config_;
    const char* level_ = "info";
    RtpdProcess rtpd_;
    std::unique_ptr<SipdPeer> sipd_;
};

TEST_F(RtpdProcessTest, ForwardsBothWaysOnSymmetricPortsAndLogsTheCall) {
    ASSERT_NO_FATAL_FAILURE(launch("", 20, "debug"));
    PhonePair a = make_phone(kInsidePhoneHost);
    PhonePair b = make_phone(kOutsidePhoneHost);
    ASSERT_TRUE(a.rtp && b.rtp);
    auto [in_port, out_port] = start(7, a, b, "call-7@test");
    ASSERT_NE(in_port, 0);
    EXPECT_EQ(in_port % 2, 0);
    EXPECT_GE(in_port, range_low());
    expect_flow(a, b, in_port, out_port, "first");

    auto line = rtpd_.wait_log("forward 7 started (call call-7@test)", 2000);
    ASSERT_TRUE(line);
    EXPECT_NE(line->find(std::to_string(in_port)), std::string::npos) << *line;
    EXPECT_NE(line->find(b.rtp->addr().to_string()), std::string::npos) << *line;

    // A repeat is idempotent: the same ports.
    auto [again_in, again_out] = start(7, a, b, "call-7@test");
    EXPECT_EQ(again_in, in_port);
    EXPECT_EQ(again_out, out_port);

    const uint32_t seq = sipd_->stop_fwd(7);
    auto stopped = sipd_->wait_reply(seq, 2000);
    ASSERT_TRUE(stopped);
    EXPECT_EQ(stopped->type(), proto::MsgType::FwdStopped);
    EXPECT_TRUE(rtpd_.wait_log("forward 7 stopped (call call-7@test)", 2000));
    ASSERT_TRUE(a.rtp->send_to(ep(kInside, in_port), "after stop"));
    EXPECT_TRUE(silent(*b.rtp));
}

TEST_F(RtpdProcessTest, StrictSourceDropsOthersAndCountsThem) {
    ASSERT_NO_FATAL_FAILURE(launch());
    PhonePair a = make_phone(kInsidePhoneHost);
    PhonePair b = make_phone(kOutsidePhoneHost);
    PhonePair other_port = make_phone(kInsidePhoneHost);  // same host, wrong port
    Phone other_host("127.0.0.4");                        // wrong address
    PhonePair both_wrong = make_phone("127.0.0.5");
    ASSERT_TRUE(a.rtp && b.rtp && other_port.rtp && other_host.ok() && both_wrong.rtp);
    auto [in_port, out_port] = start(1, a, b, "strict");
    ASSERT_NE(in_port, 0);

    const Endpoint relay_in = ep(kInside, in_port);
    const Endpoint relay_out = ep(kOutside, out_port);
    ASSERT_TRUE(other_port.rtp->send_to(relay_in, "wrong port"));
    ASSERT_TRUE(other_host.send_to(relay_in, "wrong address"));
    ASSERT_TRUE(both_wrong.rtp->send_to(relay_out, "both wrong"));
    EXPECT_TRUE(silent(*b.rtp));
    EXPECT_TRUE(silent(*a.rtp, 100));
    EXPECT_TRUE(silent(*other_port.rtp, 50));
    EXPECT_TRUE(silent(other_host, 50));
    EXPECT_TRUE(silent(*both_wrong.rtp, 50));
    // The right source still passes.
    expect_flow(a, b, in_port, out_port, "strict");
}

TEST_F(RtpdProcessTest, LatchFlagLearnsTheSourceInsideTheWindow) {
    ASSERT_NO_FATAL_FAILURE(launch("rtp_latch_window = 1500\n"));
    PhonePair a = make_phone(kInsidePhoneHost);
    PhonePair b = make_phone(kOutsidePhoneHost);
    PhonePair nat = make_phone(kInsidePhoneHost);  // where a's packets really come from
    ASSERT_TRUE(a.rtp && b.rtp && nat.rtp);
    auto [in_port, out_port] = start(2, a, b, "latch", proto::kFwdLatch);
    ASSERT_NE(in_port, 0);
    ASSERT_TRUE(nat.rtp->send_to(ep(kInside, in_port), "from nat"));
    auto got = recv_wait(*b.rtp);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->first, "from nat");
    // Locked now: the signalled address no longer passes, and the answer
    // goes to the latched source.
    ASSERT_TRUE(a.rtp->send_to(ep(kInside, in_port), "signalled"));
    EXPECT_TRUE(silent(*b.rtp));
    ASSERT_TRUE(b.rtp->send_to(ep(kOutside, out_port), "answer"));
    got = recv_wait(*nat.rtp);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->first, "answer");

    const uint32_t seq = sipd_->list_fwd();
    auto entry = sipd_->wait_reply(seq, 2000);
    ASSERT_TRUE(entry);
    ASSERT_EQ(entry->type(), proto::MsgType::FwdEntry);
    EXPECT_EQ(entry->as<proto::StartFwd>().flags & proto::kFwdLatch, proto::kFwdLatch);
}

// Under the sandbox: rtcp-mux on both sides relays RTCP on the RTP ports
// with no RTCP port bound; an update that turns mux off binds the RTCP
// ports again, and RTCP then goes to the port a=rtcp announced.
TEST_F(RtpdProcessTest, RtcpMuxThenTheAnnouncedRtcpPort) {
    ASSERT_NO_FATAL_FAILURE(launch());
    PhonePair a = make_phone(kInsidePhoneHost);
    PhonePair b = make_phone(kOutsidePhoneHost);
    Phone b_rtcp(kOutsidePhoneHost);  // a=rtcp: anywhere but RTP + 1
    ASSERT_TRUE(a.rtp && b.rtp && b_rtcp.ok());
    auto [in_port, out_port] = start(7, a, b, "mux", proto::kFwdInsideMux | proto::kFwdOutsideMux);
    ASSERT_NE(in_port, 0);
    const std::string sr("\x80\xc8\x00\x06rtcp", 8);  // a sender report
    ASSERT_TRUE(a.rtp->send_to(ep(kInside, in_port), sr));
    auto got = recv_wait(*b.rtp);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->first, sr);
    ASSERT_TRUE(b.rtp->send_to(ep(kOutside, out_port), sr));
    got = recv_wait(*a.rtp);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->first, sr);
    {
        const Phone squatter(kOutside, static_cast<uint16_t>(out_port + 1));
        EXPECT_TRUE(squatter.ok()) << "the outside RTCP port of a mux side must stay unbound";
    }  // closed again before rtpd binds it

    proto::StartFwd sf =
        make_start(kInside, kOutside, a.rtp->addr(), b.rtp->addr(), "mux", 0, in_port, out_port);
    sf.outside_rtcp_port = b_rtcp.port();
    auto reply = sipd_->wait_reply(sipd_->start_fwd(7, sf), 3000);
    ASSERT_TRUE(reply);
    ASSERT_EQ(reply->type(), proto::MsgType::FwdStarted);
    ASSERT_TRUE(a.rtcp->send_to(ep(kInside, static_cast<uint16_t>(in_port + 1)), "rtcp-in"));
    got = recv_wait(b_rtcp);
    ASSERT_TRUE(got) << "RTCP must reach the announced port";
    EXPECT_EQ(got->first, "rtcp-in");
    EXPECT_TRUE(got->second == ep(kOutside, static_cast<uint16_t>(out_port + 1)));
    EXPECT_TRUE(silent(*b.rtcp));

    auto entry = sipd_->wait_reply(sipd_->list_fwd(), 2000);
    ASSERT_TRUE(entry);
    ASSERT_EQ(entry->type(), proto::MsgType::FwdEntry);
    EXPECT_EQ(entry->as<proto::StartFwd>().outside_rtcp_port, b_rtcp.port());
    EXPECT_EQ(entry->as<proto::StartFwd>().flags & (proto::kFwdInsideMux | proto::kFwdOutsideMux),
              0u);
}

TEST_F(RtpdProcessTest, ListStopUnknownPingAndPoolExhaustion) {
    ASSERT_NO_FATAL_FAILURE(launch("", 3));  // three pairs per address: three forwards
    PhonePair a = make_phone(kInsidePhoneHost);
    PhonePair b = make_phone(kOutsidePhoneHost);
    ASSERT_TRUE(a.rtp && b.rtp);
    std::map<uint32_t, std::pair<uint16_t, uint16_t>> ports;
    for (uint32_t id = 10; id < 13; ++id) {
        ports[id] = start(id, a, b, "call-" + std::to_string(id), id == 11 ? proto::kFwdHold : 0);
        ASSERT_NE(ports[id].first, 0);
    }
    // The fourth: no ports left.
    uint32_t seq = sipd_->start_fwd(
        13, make_start(kInside, kOutside, a.rtp->addr(), b.rtp->addr(), "call-13"));
    auto failed = sipd_->wait_reply(seq, 2000);
    ASSERT_TRUE(failed);
    ASSERT_EQ(failed->type(), proto::MsgType::FwdFailed);
    EXPECT_EQ(failed->as<proto::FwdFailedMsg>().reason,
              static_cast<uint32_t>(proto::FwdFailReason::NoPorts));
    EXPECT_TRUE(rtpd_.wait_log("cannot start forward 13 (call call-13", 2000));

    seq = sipd_->list_fwd();
    std::map<uint32_t, proto::StartFwd> listed;
    for (;;) {
        auto m = sipd_->wait_reply(seq, 2000);
        ASSERT_TRUE(m);
        if (m->type() == proto::MsgType::ListFwdEnd) {
            EXPECT_EQ(m->as<proto::ListFwdEndMsg>().count, 3u);
            break;
        }
        ASSERT_EQ(m->type(), proto::MsgType::FwdEntry);
        listed[m->header.peer_id] = m->as<proto::StartFwd>();
    }
    ASSERT_EQ(listed.size(), 3u);
    for (auto& [id, e] : listed) {
        EXPECT_EQ(e.inside_port, ports[id].first);
        EXPECT_EQ(e.outside_port, ports[id].second);
        EXPECT_EQ(e.inside_local.port, ports[id].first);
        EXPECT_EQ(e.inside_peer.port, a.rtp->port());
        EXPECT_EQ(e.outside_peer.port, b.rtp->port());
        EXPECT_EQ(std::string(proto::fixed_text(e.tag)), "call-" + std::to_string(id));
        EXPECT_EQ(e.flags & proto::kFwdHold, id == 11 ? proto::kFwdHold : 0u);
    }

    seq = sipd_->stop_fwd(999);
    auto stopped = sipd_->wait_reply(seq, 2000);
    ASSERT_TRUE(stopped);
    EXPECT_EQ(stopped->type(), proto::MsgType::FwdStopped);
    EXPECT_EQ(stopped->header.peer_id, 999u);

    seq = sipd_->ping(0x1234);
    auto pong = sipd_->wait_reply(seq, 2000);
    ASSERT_TRUE(pong);
    EXPECT_EQ(pong->type(), proto::MsgType::Pong);
    EXPECT_EQ(pong->as<proto::PingMsg>().nonce, 0x1234u);
}

// rtpd checks the peers of START_FWD itself: a compromised sipd cannot
// make it send media to a multicast group (refused even on loopback).
TEST_F(RtpdProcessTest, RefusesAPeerThePolicyForbidsAndSaysWhy) {
    ASSERT_NO_FATAL_FAILURE(launch());
    PhonePair a = make_phone(kInsidePhoneHost);
    ASSERT_TRUE(a.rtp);
    const uint32_t seq = sipd_->start_fwd(
        21, make_start(kInside, kOutside, a.rtp->addr(), ep("224.0.0.1", 5004), "call-21"));
    auto failed = sipd_->wait_reply(seq, 2000);
    ASSERT_TRUE(failed);
    ASSERT_EQ(failed->type(), proto::MsgType::FwdFailed);
    const auto msg = failed->as<proto::FwdFailedMsg>();
    EXPECT_EQ(msg.reason, static_cast<uint32_t>(proto::FwdFailReason::BadRequest));
    EXPECT_EQ(std::string(proto::fixed_text(msg.text)), "outside peer refused: multicast address");
    EXPECT_TRUE(rtpd_.wait_log(
        "forward 21 (call call-21) refused: outside peer 224.0.0.1:5004: multicast address", 2000));
    // Nothing was bound: the same id with an allowed peer starts normally.
    PhonePair b = make_phone(kOutsidePhoneHost);
    ASSERT_TRUE(b.rtp);
    auto [in_port, out_port] = start(21, a, b, "call-21");
    EXPECT_NE(in_port, 0);
    EXPECT_NE(out_port, 0);
}

// sipmasqctl streams / stats, as the parent passes them on.
TEST_F(RtpdProcessTest, AnswersStreamsAndStats) {
    ASSERT_NO_FATAL_FAILURE(launch("", 3));
    PhonePair a = make_phone(kInsidePhoneHost);
    PhonePair b = make_phone(kOutsidePhoneHost);
    PhonePair other_port = make_phone(kInsidePhoneHost);
    ASSERT_TRUE(a.rtp && b.rtp && other_port.rtp);
    auto [in_port, out_port] = start(1, a, b, "strict");
    ASSERT_NE(in_port, 0);
    for (uint32_t id = 2; id < 4; ++id) ASSERT_NE(start(id, a, b, "x").first, 0);
    const uint32_t seq = sipd_->start_fwd(
        4, make_start(kInside, kOutside, a.rtp->addr(), b.rtp->addr(), "none-left"));
    ASSERT_TRUE(sipd_->wait_reply(seq, 2000));
    ASSERT_TRUE(other_port.rtp->send_to(ep(kInside, in_port), "wrong port"));
    EXPECT_TRUE(silent(*b.rtp));
    expect_flow(a, b, in_port, out_port, "ctl");

    auto stats = rtpd_.ctl(CtlCommand::Stats, true);
    ASSERT_TRUE(stats);
    EXPECT_NE(stats->find("\"in_to_out\":{\"packets\":2,"), std::string::npos) << *stats;
    EXPECT_NE(stats->find("\"wrong_source\":1"), std::string::npos) << *stats;
    EXPECT_NE(stats->find("\"free\":0,\"used\":3"), std::string::npos) << *stats;
    stats = rtpd_.ctl(CtlCommand::Stats, false);
    ASSERT_TRUE(stats);
    EXPECT_NE(stats->find("forwards 3 (started 3, stopped 0, failed 1)"), std::string::npos)
        << *stats;
    EXPECT_NE(stats->find("pairs 3 free 0 used 3"), std::string::npos) << *stats;

    auto streams = rtpd_.ctl(CtlCommand::Streams, false);
    ASSERT_TRUE(streams);
    EXPECT_NE(streams->find("strict"), std::string::npos) << *streams;
    EXPECT_NE(streams->find("127.0.0.1:" + std::to_string(in_port)), std::string::npos);
    EXPECT_NE(streams->find("3 streams"), std::string::npos) << *streams;
    auto streams_json = rtpd_.ctl(CtlCommand::Streams, true);
    ASSERT_TRUE(streams_json);
    EXPECT_NE(streams_json->find("\"call\":\"strict\""), std::string::npos) << *streams_json;
    EXPECT_NE(streams_json->find("\"count\":3"), std::string::npos) << *streams_json;
}

TEST_F(RtpdProcessTest, ReportsTimeoutsToSipd) {
    ASSERT_NO_FATAL_FAILURE(launch("rtp_timeout = 2\nrtp_no_bidir_timeout = 1\n"));
    PhonePair a = make_phone(kInsidePhoneHost);
    PhonePair b = make_phone(kOutsidePhoneHost);
    ASSERT_TRUE(a.rtp && b.rtp);
    auto [one_in, one_out] = start(21, a, b, "one-way");
    auto [two_in, two_out] = start(22, a, b, "both-ways");
    ASSERT_NE(one_in, 0);
    ASSERT_NE(two_in, 0);
    // 21: only one way. 22: both ways once, then silence -> idle.
    ASSERT_TRUE(a.rtp->send_to(ep(kInside, one_in), "x"));
    ASSERT_TRUE(recv_wait(*b.rtp));
    expect_flow(a, b, two_in, two_out, "bidir");

    auto t = sipd_->wait_type(proto::MsgType::FwdTimeout, 21, 5000);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->as<proto::FwdTimeoutMsg>().reason,
              static_cast<uint32_t>(proto::FwdTimeoutReason::NeverBidirectional));
    t = sipd_->wait_type(proto::MsgType::FwdTimeout, 22, 6000);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->as<proto::FwdTimeoutMsg>().reason,
              static_cast<uint32_t>(proto::FwdTimeoutReason::Idle));
    auto line = rtpd_.wait_log("forward 22 timed out (idle) (call both-ways)", 2000);
    ASSERT_TRUE(line);
    EXPECT_NE(line->find(std::to_string(two_in)), std::string::npos) << *line;
    // At info the timeout is logged, the start (sipd's call record says it)
    // is not: it came before the timeout, on the same ordered channel.
    EXPECT_FALSE(rtpd_.wait_log("forward 22 started", 0));
    // Freed: the ports no longer forward. Their sockets are parked for the
    // next forward on the pairs; the late datagram was read and dropped.
    ASSERT_TRUE(a.rtp->send_to(ep(kInside, two_in), "late"));
    EXPECT_TRUE(silent(*b.rtp));
    const auto stats = rtpd_.ctl(CtlCommand::Stats, true);
    ASSERT_TRUE(stats);
    EXPECT_NE(stats->find("\"sockets\":{\"open\":8,\"parked\":8,"), std::string::npos) << *stats;
    EXPECT_NE(stats->find("\"late_dropped\":1}"), std::string::npos) << *stats;
}

TEST_F(RtpdProcessTest, NewPeerChannelKeepsForwardsRunning) {
    ASSERT_NO_FATAL_FAILURE(launch());
    PhonePair a = make_phone(kInsidePhoneHost);
    PhonePair b = make_phone(kOutsidePhoneHost);
    ASSERT_TRUE(a.rtp && b.rtp);
    auto [in_port, out_port] = start(31, a, b, "survives-sipd");
    ASSERT_NE(in_port, 0);
    expect_flow(a, b, in_port, out_port, "before");

    // sipd restarted: the parent hands rtpd a new channel.
    auto old_sipd = std::move(sipd_);
    sipd_ = rtpd_.new_sipd_channel();
    ASSERT_TRUE(sipd_);
    EXPECT_TRUE(old_sipd->wait_for([](const Got&) { return false; }, 2000) == std::nullopt);
    EXPECT_TRUE(old_sipd->closed()) << "rtpd keeps the old channel open";
    expect_flow(a, b, in_port, out_port, "after");

    // The new sipd resyncs with LIST_FWD and re-sends START_FWD with the
    // ports it learned: the same forward, the same ports.
    uint32_t seq = sipd_->list_fwd();
    auto entry = sipd_->wait_reply(seq, 2000);
    ASSERT_TRUE(entry);
    ASSERT_EQ(entry->type(), proto::MsgType::FwdEntry);
    EXPECT_EQ(entry->header.peer_id, 31u);
    EXPECT_EQ(std::string(proto::fixed_text(entry->as<proto::StartFwd>().tag)), "survives-sipd");
    auto [again_in, again_out] = start(31, a, b, "survives-sipd", 0, in_port, out_port);
    EXPECT_EQ(again_in, in_port);
    EXPECT_EQ(again_out, out_port);
    expect_flow(a, b, in_port, out_port, "resynced");
}

TEST_F(RtpdProcessTest, KillNineThenResumeOnTheSamePorts) {
    ASSERT_NO_FATAL_FAILURE(launch("", 20, "debug"));
    PhonePair a = make_phone(kInsidePhoneHost);
    PhonePair b = make_phone(kOutsidePhoneHost);
    ASSERT_TRUE(a.rtp && b.rtp);
    auto [in_port, out_port] = start(41, a, b, "resumes");
    ASSERT_NE(in_port, 0);
    expect_flow(a, b, in_port, out_port, "before-kill");

    const pid_t old_pid = rtpd_.pid();
    ASSERT_TRUE(rtpd_.kill9());
    std::string error;
    sipd_ = rtpd_.start(config_, error, level_);
    ASSERT_TRUE(sipd_) << error;
    EXPECT_NE(rtpd_.pid(), old_pid);

    // sipd re-creates the forward on the ports it knows.
    auto [new_in, new_out] = start(41, a, b, "resumes", 0, in_port, out_port);
    EXPECT_EQ(new_in, in_port);
    EXPECT_EQ(new_out, out_port);
    EXPECT_TRUE(
        rtpd_.wait_log("forward 41 started (call resumes, resumed on requested ports)", 2000));
    expect_flow(a, b, in_port, out_port, "after-kill");
}

}  // namespace
}  // namespace sipmasq::rtpdtest
