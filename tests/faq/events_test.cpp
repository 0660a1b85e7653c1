// Transfer, events and hairpins through the real daemon in the FAQ
// namespaces, SIPp as the phones and the providers: REFER with a Refer-To
// naming an inside phone (and its Replaces), SUBSCRIBE/NOTIFY and MESSAGE
// both ways, what an outsider gets for them without a registration or a
// dialog, and a local call through a provider that does not anchor media
// (both legs through sipmasq, RTP between the two inside phones).
#include <cctype>
#include <cstdio>
#include <cstring>

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

    // A SIPp in the background that answers (given time to bind).
    pid_t answering(const std::string& ns, const std::string& file, const std::string& ip,
                    std::vector<std::string> extra, std::string* msg) {
        const pid_t pid = sipp_to(ns, file, ip, "", std::move(extra), msg);
        std::this_thread::sleep_for(500ms);
        return pid;
    }

    // The status line sipmasq answers a raw request from bob's address with.
    std::string status_for(const std::string& request) {
        if (raw_ < 0) raw_ = bind_ns(out_, "203.0.113.10", 5090);
        send_to(raw_, "203.0.113.1", 5060, request);
        for (int i = 0; i < 10; ++i) {
            char buf[4096];
            const ssize_t n = ::recv(raw_, buf, sizeof buf, 0);
            if (n < 0) return "";
            const std::string text(buf, static_cast<size_t>(n));
            if (text.rfind("SIP/2.0 1", 0) == 0) continue;  // provisional
            return text.substr(0, text.find("\r\n"));
        }
        return "";
    }

    int raw_ = -1;
};

// The first message SIPp logged as `direction` ("received" or "sent") in
// `log` whose start line begins with `start`; "" if none.
std::string logged(const std::string& log, const std::string& direction, const std::string& start) {
    size_t at = 0;
    while ((at = log.find("UDP message " + direction, at)) != std::string::npos) {
        const size_t begin = log.find("\n\n", at);
        if (begin == std::string::npos) break;
        const size_t end = log.find("\n-----------------------------------------------", begin);
        const std::string message =
            log.substr(begin + 2, end == std::string::npos ? end : end - begin - 2);
        if (message.rfind(start, 0) == 0) return message;
        at = begin;
    }
    return "";
}

// The value of the first header `name` in `message`, the name compared
// without case (libosip2 writes "Refer-to", "Subscription-state").
std::string header_value(const std::string& message, const std::string& name) {
    std::string lower = message;
    std::string key = "\n" + name + ": ";
    for (std::string* t : {&lower, &key})
        for (char& c : *t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const size_t at = lower.find(key);
    if (at == std::string::npos) return "";
    const size_t begin = at + key.size();
    std::string value = message.substr(begin, message.find('\n', begin) - begin);
    if (!value.empty() && value.back() == '\r') value.pop_back();
    return value;
}

std::string tag_in(const std::string& value) {
    const size_t at = value.find(";tag=");
    if (at == std::string::npos) return "";
    return value.substr(at + 5, value.find_first_of(";>", at + 5) - at - 5);
}

// RFC 3261 §19.1.2: a header value inside a URI, escaped.
std::string uri_escaped(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0 ||
            std::strchr("-_.!~*'()", c) != nullptr) {
            out += c;
        } else {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
            out += hex;
        }
    }
    return out;
}

std::string uri_unescaped(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

// A request as an outsider would write it, from bob's host.
std::string sip_request(const std::string& method, const std::string& ruri,
                        const std::string& extra) {
    static int n = 0;
    const std::string id = std::to_string(++n);
    std::string text = method + " " + ruri + " SIP/2.0\r\n";
    text += "Via: SIP/2.0/UDP 203.0.113.10:5090;branch=z9hG4bK-raw" + id + ";rport\r\n";
    text += "From: <sip:mallory@203.0.113.10>;tag=m" + id + "\r\n";
    text += "To: <" + ruri + ">\r\n";
    text += "Call-ID: raw" + id + "@203.0.113.10\r\n";
    text += "CSeq: 1 " + method + "\r\n";
    text += "Max-Forwards: 70\r\n" + extra + "Content-Length: 0\r\n\r\n";
    return text;
}

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
                 "203.0.113.1", "-d", "6000"},
                &callee_leg_msg);
    std::this_thread::sleep_for(500ms);
    const pid_t caller_leg = sipp_to(out_, "hairpin_provider_a.xml", "203.0.113.10", "",
                                     {"-p", "5070", "-3pcc", "127.0.0.1:5099"}, &caller_leg_msg);
    std::this_thread::sleep_for(500ms);
    const size_t mark = daemon_.log_size();
    const pid_t alice = sipp_to(
        in_, "call_uac_media.xml", "192.0.2.10", "192.0.2.1:5060",
        {"-p", "5062", "-s", "bob", "-key", "target", "203.0.113.10:5070", "-key", "from_user",
         "alice", "-key", "from_domain", "203.0.113.1", "-key", "rtp_port", "40000", "-d", "6000"},
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

    // rtpd dies: sipd hands the new one both forwards, which name each other.
    // With several rtpd workers (rtp_workers, one per core) both forwards
    // are on one worker (rtpd takes only its own forward as a peer): that
    // one dies, "rtpdN" in the log.
    std::smatch holder;
    const std::string log_now = daemon_.log();
    ASSERT_TRUE(std::regex_search(log_now, holder,
                                  std::regex("(rtpd[0-9]*)\\[[0-9]+\\]: rtpd: forward [0-9]+ "
                                             "started \\(call [^)]*\\): inside 192\\.0\\.2\\.1:" +
                                             std::to_string(carol_in))))
        << log_now;
    const std::string worker = holder[1].str();
    const auto rtpd = daemon_.wait_ready(worker, 1s);
    ASSERT_TRUE(rtpd.has_value());
    const size_t before_kill = daemon_.log_size();
    ASSERT_EQ(::kill(*rtpd, SIGKILL), 0);
    ASSERT_TRUE(daemon_.wait_ready(worker, 10s, before_kill).has_value()) << daemon_.log();
    EXPECT_TRUE(daemon_.wait_for_log("rtpd (worker [0-9]+ )?is new: starting", 5s, before_kill))
        << daemon_.log();
    EXPECT_EQ(relay_once(alice_rtp, "192.0.2.1", alice_in, carol_rtp, "alice-to-carol-again"),
              "192.0.2.1:" + std::to_string(carol_in))
        << daemon_.log();
    EXPECT_EQ(relay_once(carol_rtp, "192.0.2.1", carol_in, alice_rtp, "carol-to-alice-again"),
              "192.0.2.1:" + std::to_string(alice_in))
        << daemon_.log();
    EXPECT_FALSE(daemon_.wait_for_log("not restarted", 10ms, before_kill)) << daemon_.log();
    EXPECT_TRUE(background_ok(alice)) << read_file(alice_msg) << daemon_.log();
    EXPECT_TRUE(background_ok(caller_leg)) << read_file(caller_leg_msg);
    EXPECT_TRUE(background_ok(callee_leg)) << read_file(callee_leg_msg);
    EXPECT_TRUE(background_ok(carol)) << read_file(carol_msg);
    EXPECT_FALSE(daemon_.wait_for_log("media-refused", 10ms, mark)) << daemon_.log();
}

// BLF both ways, MWI and MESSAGE: alice inside watches bob outside and gets
// his NOTIFYs in her SUBSCRIBE's dialog; bob watches alice, registered, and
// gets hers; a voicemail server's NOTIFY and bob's MESSAGE reach alice, and
// hers reaches bob. An outsider's NOTIFY, MESSAGE or SUBSCRIBE for no
// registration or dialog is refused and reaches no phone.
TEST_F(FaqEventsTest, SubscribeNotifyAndMessageBothWays) {
    register_phone("alice", "192.0.2.10");
    const std::vector<std::string> alice_uac = {
        "-p",        "5062",  "-key", "target",      "203.0.113.10", "-key",
        "from_user", "alice", "-key", "from_domain", "203.0.113.1"};
    const std::vector<std::string> bob_uac = {
        "-p",   "5062",      "-s",  "alice", "-key",        "target",      "203.0.113.1",
        "-key", "from_user", "bob", "-key",  "from_domain", "203.0.113.10"};
    std::string peer_msg, log;

    // alice watches bob.
    pid_t peer = answering(out_, "subscribe_uas.xml", "203.0.113.10", {"-p", "5060"}, &peer_msg);
    auto args = alice_uac;
    args.insert(args.end(), {"-s", "bob"});
    EXPECT_TRUE(sipp(in_, "subscribe_uac.xml", "192.0.2.10", "192.0.2.1:5060", args, &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(peer)) << read_file(peer_msg);
    const std::string subscribe = logged(read_file(peer_msg), "received", "SUBSCRIBE sip:bob@");
    EXPECT_NE(header_value(subscribe, "Contact").find("@203.0.113.1:5060;smq="), std::string::npos)
        << subscribe;
    EXPECT_NE(logged(log, "received", "NOTIFY ").find("<dialog-info"), std::string::npos) << log;
    // In her SUBSCRIBE's dialog, to her true contact.
    EXPECT_FALSE(logged(log, "received", "NOTIFY sip:alice@192.0.2.10:5062 ").empty()) << log;
    EXPECT_NE(log.find("terminated;reason=timeout"), std::string::npos) << log;

    // bob watches alice.
    peer = answering(in_, "subscribe_uas.xml", "192.0.2.10", {"-p", "5060"}, &peer_msg);
    EXPECT_TRUE(sipp(out_, "subscribe_uac.xml", "203.0.113.10", "203.0.113.1:5060", bob_uac, &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(peer)) << read_file(peer_msg);
    const std::string notify = logged(log, "received", "NOTIFY ");
    EXPECT_NE(notify.find("<dialog-info"), std::string::npos) << log;
    EXPECT_NE(header_value(notify, "Contact").find("203.0.113.1:5060;smq="), std::string::npos)
        << notify;

    // A voicemail server's MWI, then bob's MESSAGE, reach alice.
    for (const char* file : {"notify_mwi_uac.xml", "message_uac.xml"}) {
        peer = answering(in_, "request_uas.xml", "192.0.2.10", {"-p", "5060"}, &peer_msg);
        EXPECT_TRUE(sipp(out_, file, "203.0.113.10", "203.0.113.1:5060", bob_uac, &log))
            << file << log << daemon_.log();
        EXPECT_TRUE(background_ok(peer)) << read_file(peer_msg);
    }
    EXPECT_NE(read_file(peer_msg).find("hello from bob"), std::string::npos);
    // alice's MESSAGE reaches bob.
    peer = answering(out_, "request_uas.xml", "203.0.113.10", {"-p", "5060"}, &peer_msg);
    EXPECT_TRUE(sipp(in_, "message_uac.xml", "192.0.2.10", "192.0.2.1:5060", args, &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(peer)) << read_file(peer_msg);
    EXPECT_NE(read_file(peer_msg).find("hello from alice"), std::string::npos);

    // An outsider: no registration, no dialog, nothing through.
    const int alice_sip = bind_ns(in_, "192.0.2.10", 5060);
    ASSERT_GE(alice_sip, 0);
    const std::string mwi = "Event: message-summary\r\nSubscription-State: active\r\n";
    EXPECT_EQ(status_for(sip_request("NOTIFY", "sip:carol@203.0.113.1", mwi)),
              "SIP/2.0 404 Not Found");
    EXPECT_EQ(status_for(sip_request("MESSAGE", "sip:carol@203.0.113.1", "")),
              "SIP/2.0 404 Not Found");
    EXPECT_EQ(status_for(sip_request("SUBSCRIBE", "sip:carol@203.0.113.1",
                                     "Event: dialog\r\nExpires: 60\r\n")),
              "SIP/2.0 404 Not Found");
    EXPECT_EQ(status_for(sip_request("NOTIFY", "sip:alice@203.0.113.1:5060;smq=0123456789abcdef",
                                     "Event: dialog\r\nSubscription-State: active\r\n")),
              "SIP/2.0 404 Not Found");
    EXPECT_EQ(status_for(sip_request("NOTIFY", "sip:alice@192.0.2.10:5060", mwi)),
              "SIP/2.0 403 Forbidden");
    EXPECT_EQ(status_for(sip_request("MESSAGE", "sip:alice@203.0.113.1",
                                     "Route: <sip:192.0.2.10:5060;lr>\r\n")),
              "SIP/2.0 403 Forbidden");
    char buf[2048];
    EXPECT_LT(::recv(alice_sip, buf, sizeof buf, MSG_DONTWAIT), 0) << "a refused request got in";
}

// Attended transfer across the NAT: alice (inside) has a call with carol
// (inside, registered) and refers bob (outside) to carol's contact with a
// Replaces naming that call. bob sees a masqueraded Refer-To, calls it, and
// carol gets his INVITE with the Replaces as alice wrote it: the Call-ID
// and tags of the call are what both ends saw. A REFER from bob naming the
// masqueraded contact reaches alice with carol's true contact.
TEST_F(FaqEventsTest, ReferToAnInsidePhoneKeepsItsReplaces) {
    register_phone("carol", "192.0.2.20");
    register_phone("alice", "192.0.2.10");
    std::string carol_msg, bob_msg, log;

    // The call alice - carol that the Replaces will name.
    pid_t carol = answering(in_, "uas.xml", "192.0.2.20", {"-p", "5060"}, &carol_msg);
    EXPECT_TRUE(sipp(in_, "call_uac.xml", "192.0.2.10", "192.0.2.1:5060",
                     {"-p", "5062", "-s", "carol", "-key", "target", "203.0.113.1", "-key",
                      "from_user", "alice", "-key", "from_domain", "203.0.113.1", "-d", "100"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(carol)) << read_file(carol_msg);
    const std::string ok_at_alice = logged(log, "received", "SIP/2.0 200");
    const std::string ok_by_carol = logged(read_file(carol_msg), "sent", "SIP/2.0 200");
    const std::string call_id = header_value(ok_at_alice, "Call-ID");
    const std::string from_tag = tag_in(header_value(ok_at_alice, "From"));
    const std::string to_tag = tag_in(header_value(ok_at_alice, "To"));
    ASSERT_FALSE(call_id.empty()) << log;
    EXPECT_EQ(header_value(ok_by_carol, "Call-ID"), call_id);
    EXPECT_EQ(tag_in(header_value(ok_by_carol, "From")), from_tag);
    EXPECT_EQ(tag_in(header_value(ok_by_carol, "To")), to_tag);
    const std::string replaces = call_id + ";to-tag=" + to_tag + ";from-tag=" + from_tag;
    const std::string carol_contact =
        header_value(ok_at_alice, "Contact");  // <sip:192.0.2.20:5060>
    ASSERT_EQ(carol_contact, "<sip:192.0.2.20:5060>");

    // alice refers bob to carol.
    pid_t bob = answering(out_, "refer_uas.xml", "203.0.113.10", {"-p", "5060"}, &bob_msg);
    EXPECT_TRUE(sipp(in_, "refer_uac.xml", "192.0.2.10", "192.0.2.1:5060",
                     {"-p", "5062", "-s", "bob", "-key", "target", "203.0.113.10", "-key",
                      "from_user", "alice", "-key", "from_domain", "203.0.113.1", "-key",
                      "refer_to", "<sip:192.0.2.20:5060?Replaces=" + uri_escaped(replaces) + ">"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(bob)) << read_file(bob_msg);
    const std::string refer_to =
        header_value(logged(read_file(bob_msg), "received", "REFER "), "Refer-To");
    EXPECT_EQ(refer_to.find("192.0.2.20"), std::string::npos) << refer_to;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(
        refer_to, m, std::regex("<(sip:203\\.0\\.113\\.1:5060;smq=[0-9a-f]+)\\?Replaces=(.*)>")))
        << refer_to;
    const std::string masqueraded = m[1];
    EXPECT_EQ(uri_unescaped(m[2]), replaces);

    // bob calls the target the REFER named; carol gets the Replaces intact.
    carol = answering(in_, "uas.xml", "192.0.2.20", {"-p", "5060"}, &carol_msg);
    EXPECT_TRUE(sipp(out_, "call_uac_replaces.xml", "203.0.113.10", "203.0.113.1:5060",
                     {"-p", "5062", "-key", "ruri", masqueraded, "-key", "replaces", replaces,
                      "-key", "from_user", "bob", "-key", "from_domain", "203.0.113.10", "-key",
                      "rtp_port", "40002", "-d", "100"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(carol)) << read_file(carol_msg);
    EXPECT_EQ(header_value(logged(read_file(carol_msg), "received", "INVITE "), "Replaces"),
              replaces)
        << read_file(carol_msg);

    // bob refers alice back to carol by the masqueraded contact.
    pid_t alice = answering(in_, "refer_uas.xml", "192.0.2.10", {"-p", "5060"}, &bob_msg);
    EXPECT_TRUE(sipp(out_, "refer_uac.xml", "203.0.113.10", "203.0.113.1:5060",
                     {"-p", "5062", "-s", "alice", "-key", "target", "203.0.113.1", "-key",
                      "from_user", "bob", "-key", "from_domain", "203.0.113.10", "-key", "refer_to",
                      "<" + masqueraded + "?Replaces=" + uri_escaped(replaces) + ">"},
                     &log))
        << log << daemon_.log();
    EXPECT_TRUE(background_ok(alice)) << read_file(bob_msg);
    const std::string at_alice =
        header_value(logged(read_file(bob_msg), "received", "REFER "), "Refer-To");
    ASSERT_EQ(at_alice.rfind("<sip:192.0.2.20:5060?Replaces=", 0), 0u) << at_alice;
    EXPECT_EQ(uri_unescaped(at_alice.substr(30, at_alice.size() - 31)), replaces);
}

}  // namespace
}  // namespace sipmasq::test
