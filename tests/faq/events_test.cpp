// Transfer, events and hairpins through the real daemon in the FAQ
// namespaces, SIPp as the phones and the providers: REFER with a Refer-To
// naming an inside phone (and its Replaces), SUBSCRIBE/NOTIFY and MESSAGE
// both ways, what an outsider gets for them without a registration or a
// dialog, and a local call through a provider that does not anchor media
// (both legs through sipmasq, RTP between the two inside phones).
#include "faq_fixture.h"

namespace sipmasq::test {
namespace {

using namespace std::chrono_literals;

class FaqEventsTest : public FaqTest {
  protected:
    // Starts SIPp with `remote` in the background (sipp_background has none).
    pid_t sipp_to(const std::string& ns, const std::string& file, const std::string& local_ip,
                  const std::string& remote, std::vector<std::string> extra, std::string* msg) {
        const auto args = sipp_args(ns, file, local_ip, remote, std::move(extra));
        *msg = last_msg_;
        const pid_t pid = spawn_process(args, dir_.file("sipp-" + std::to_string(runs_) + ".out"));
        background_.push_back(pid);
        return pid;
    }

    // The relay ports of the call whose start line matches `from` (a regex
    // for its From).
    std::pair<uint16_t, uint16_t> relay_ports(const std::string& from, size_t mark) {
        const auto line = daemon_.wait_for_log(
            "call start: From " + from + ".* relay ports (inside [0-9]+ outside [0-9]+)", 10s,
            mark);
        if (!line) return {0, 0};
        std::smatch m;
        if (!std::regex_search(*line, m, std::regex("inside ([0-9]+) outside ([0-9]+)")))
            return {0, 0};
        return {static_cast<uint16_t>(std::stoi(m[1])), static_cast<uint16_t>(std::stoi(m[2]))};
    }
};

// alice calls bob at a provider that does not anchor media; the provider
// calls carol back through sipmasq with alice's SDP as it came (sipmasq's
// outside address and relay port). Media goes alice - relay - relay - carol.
TEST_F(FaqEventsTest, HairpinThroughAProviderThatDoesNotAnchorMedia) {
    register_phone("carol", "192.0.2.20");
    const int alice_rtp = bind_ns(in_, "192.0.2.10", 40000);
    const int carol_rtp = bind_ns(in_, "192.0.2.20", 40000);
    ASSERT_GE(alice_rtp, 0);
    ASSERT_GE(carol_rtp, 0);
    std::string carol_msg, callee_leg_msg, caller_leg_msg, alice_msg;
    const pid_t carol = sipp_to(in_, "uas_media.xml", "192.0.2.20", "",
                                {"-p", "5060", "-key", "rtp_port", "40000"}, &carol_msg);
    // The provider's two legs talk over 3PCC; the callee leg listens first.
    const pid_t callee_leg =
        sipp_to(out_, "hairpin_provider_b.xml", "203.0.113.10", "203.0.113.1:5060",
                {"-p", "5072", "-3pcc", "127.0.0.1:5099", "-s", "carol", "-key", "target",
                 "203.0.113.1", "-d", "3000"},
                &callee_leg_msg);
    std::this_thread::sleep_for(500ms);
    const pid_t caller_leg = sipp_to(out_, "hairpin_provider_a.xml", "203.0.113.10", "",
                                     {"-p", "5070", "-3pcc", "127.0.0.1:5099"}, &caller_leg_msg);
    std::this_thread::sleep_for(500ms);
    const size_t mark = daemon_.log_size();
    const pid_t alice = sipp_to(
        in_, "call_uac_media.xml", "192.0.2.10", "192.0.2.1:5060",
        {"-p", "5062", "-s", "bob", "-key", "target", "203.0.113.10:5070", "-key", "from_user",
         "alice", "-key", "from_domain", "203.0.113.1", "-key", "rtp_port", "40000", "-d", "4000"},
        &alice_msg);
    const auto [alice_in, alice_out] = relay_ports("sip:alice@", mark);
    const auto [carol_in, carol_out] = relay_ports("sip:provider@", mark);
    require_relay(mark);
    ASSERT_NE(alice_in, 0) << daemon_.log() << read_file(caller_leg_msg);
    ASSERT_NE(carol_in, 0) << daemon_.log() << read_file(callee_leg_msg);
    // Each leg's outside peer is the other leg's outside relay port.
    EXPECT_NE(alice_out, carol_out);
    EXPECT_EQ(relay_once(alice_rtp, "192.0.2.1", alice_in, carol_rtp, "alice-to-carol"),
              "192.0.2.1:" + std::to_string(carol_in))
        << daemon_.log();
    EXPECT_EQ(relay_once(carol_rtp, "192.0.2.1", carol_in, alice_rtp, "carol-to-alice"),
              "192.0.2.1:" + std::to_string(alice_in))
        << daemon_.log();
    EXPECT_TRUE(background_ok(alice)) << read_file(alice_msg) << daemon_.log();
    EXPECT_TRUE(background_ok(caller_leg)) << read_file(caller_leg_msg);
    EXPECT_TRUE(background_ok(callee_leg)) << read_file(callee_leg_msg);
    EXPECT_TRUE(background_ok(carol)) << read_file(carol_msg);
    EXPECT_FALSE(daemon_.wait_for_log("media-refused", 10ms, mark)) << daemon_.log();
}

}  // namespace
}  // namespace sipmasq::test
