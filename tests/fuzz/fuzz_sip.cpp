// libFuzzer target for the SIP path of sipd. Each input goes, as one
// datagram, through a fresh SipProxy (registrar mode, one phone already
// registered, a relay that answers at once) first as arriving on the inside
// socket and then on the outside one, so precheck, libosip2, routing,
// rewriting, REGISTER handling and SDP rewriting all see it. The same bytes
// are also parsed as an SDP body and inspected/rewritten on their own.
// Whatever is sent out must pass sipd's own precheck and go to a valid
// address (a broken promise traps, so the fuzzer reports it).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "address.h"
#include "log.h"
#include "media_link.h"
#include "osip_ptr.h"
#include "precheck.h"
#include "proxy_fixture.h"
#include "sdp_rewrite.h"
#include "sip_proxy.h"

namespace {

using namespace sipmasq;

[[noreturn]] void broken() {
    __builtin_trap();
}

void discard_log(LogLevel /*level*/, std::string_view line) noexcept {
    // Touch the bytes so formatting bugs show under the sanitizers.
    volatile size_t n = 0;
    for (char c : line) n = n + static_cast<unsigned char>(c);
}

// alice behind sipmasq, so that calls in have somewhere to go.
constexpr std::string_view kRegisterAlice =
    "REGISTER sip:192.0.2.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds7\r\n"
    "Max-Forwards: 70\r\n"
    "To: Alice <sip:alice@192.0.2.1>\r\n"
    "From: Alice <sip:alice@192.0.2.1>;tag=456248\r\n"
    "Call-ID: 843817637684230@998sdasdh09\r\n"
    "CSeq: 1826 REGISTER\r\n"
    "Contact: <sip:alice@192.0.2.10:5060>\r\n"
    "Expires: 3600\r\n"
    "Content-Length: 0\r\n\r\n";

void check_sent(std::string_view data) {
    if (data.empty()) broken();
    // A forwarded message may grow past our own size limits (Via,
    // Record-Route); anything else precheck refuses is our fault.
    const PrecheckReason r = precheck_datagram(data).reason;
    if (r != PrecheckReason::Ok && r != PrecheckReason::TooLong && r != PrecheckReason::LineTooLong)
        broken();
    // Not required: that it parses again. libosip2 accepts some garbage
    // (e.g. a mangled Via with 0xff bytes) that its own re-serialisation
    // turns into a message it then refuses; sipd forwards it as it is.
    (void)parse_sip_message(data);
}

void fuzz_proxy(std::string_view data) {
    // A relay that answers at once; what it records is dropped per input.
    static test::FakeMedia media;
    media.starts.clear();
    media.stops.clear();
    size_t sent = 0;
    SipProxy proxy(test::faq_proxy_settings(), media,
                   [&sent](Side, const SockAddr& dest, std::string_view out) {
                       if (!dest.valid()) broken();
                       check_sent(out);
                       ++sent;
                   });
    const SockAddr alice = test::addr("192.0.2.10:5060");
    const SockAddr bob = test::addr("203.0.113.50:5060");
    proxy.handle_datagram(kRegisterAlice, Side::Inside, alice, 1000);
    if (proxy.table().size() != 1) broken();
    proxy.handle_datagram(data, Side::Inside, alice, 1001);
    proxy.handle_datagram(data, Side::Outside, bob, 1002);
    // The tables stay printable, and time runs out for everything.
    (void)proxy.registrations_text(true, 1003);
    (void)proxy.calls_text(true);
    (void)proxy.stats_text(true);
    (void)proxy.active_forwards();
    proxy.expire(1000000);
    (void)sent;
}

void fuzz_sdp(std::string_view data) {
    SdpMessagePtr sdp = parse_sdp(data);
    if (sdp == nullptr) return;
    const std::vector<SockAddr> own = {test::addr("192.0.2.1:5060"), test::addr("203.0.113.1:5060"),
                                       test::addr("203.0.113.1")};
    SdpInfo info;
    const SdpStatus st = sdp_inspect(sdp.get(), own, info);
    (void)sdp_status_name(st);
    if (st != SdpStatus::Ok) return;
    std::vector<std::optional<RelayTarget>> targets;
    for (const SdpMedia& m : info.media) {
        if (m.index < 0) broken();
        const auto i = static_cast<size_t>(m.index);
        if (targets.size() <= i) targets.resize(i + 1);
        if (m.disabled) continue;
        RelayTarget t;
        t.rtp = test::addr("203.0.113.1:30002");
        t.rtcp_port = 30003;
        targets[i] = t;
    }
    if (sdp_rewrite(sdp.get(), targets) != SdpStatus::Ok) return;
    const std::string text = sdp_to_string(sdp.get());
    // What we rewrote must parse again and still be acceptable to us.
    SdpMessagePtr again = parse_sdp(text);
    if (again == nullptr) broken();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const bool init = [] {
        sip_parser_init();  // which also sends libosip2's own trace nowhere
        log_set_sink(discard_log);
        log_set_max_level(LogLevel::Debug);
        return true;
    }();
    (void)init;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    fuzz_proxy(text);
    fuzz_sdp(text);
    return 0;
}
