// libFuzzer target for the IPC decoder: every input is decoded as if it came
// from every sender on every channel in every state, with and without a
// descriptor; what is accepted is read as its payload struct, and the
// decoder's promises are checked (a broken one traps, so the fuzzer sees it).
#include <cstddef>
#include <cstdint>
#include <span>

#include "address.h"
#include "codec.h"
#include "message.h"

namespace {

using namespace sipmasq::proto;

[[noreturn]] void broken() {
    __builtin_trap();
}

// Reads the payload the way a receiver would; the result feeds a checksum
// so that nothing is optimised away.
uint64_t consume(const Message& m) {
    uint64_t sum = 0;
    switch (m.type()) {
        case MsgType::Hello:
            sum += payload_as<HelloMsg>(m).pid;
            break;
        case MsgType::Log: {
            sum += payload_as<LogHead>(m).level;
            const auto text = payload_text(m, sizeof(LogHead));
            if (text.empty() || text.size() > kLogTextMax) broken();
            sum += static_cast<unsigned char>(text.back());
            break;
        }
        case MsgType::Ping:
        case MsgType::Pong:
            sum += payload_as<PingMsg>(m).nonce;
            break;
        case MsgType::SipSocket: {
            const auto s = payload_as<SipSocketMsg>(m);
            const auto addr = from_wire(s.local);
            if (!addr || !addr->valid()) broken();
            sum += addr->port();
            break;
        }
        case MsgType::StartFwd:
        case MsgType::FwdEntry: {
            const auto s = payload_as<StartFwd>(m);
            if (!from_wire(s.inside_local) || !from_wire(s.outside_local)) broken();
            sum += fixed_text(s.tag).size() + s.inside_port + s.outside_port;
            if (fixed_text(s.tag).size() >= kTagSize) broken();
            break;
        }
        case MsgType::FwdStarted: {
            const auto f = payload_as<FwdStartedMsg>(m);
            if (!from_wire(f.inside_local) || !from_wire(f.outside_local)) broken();
            break;
        }
        case MsgType::FwdFailed: {
            const auto f = payload_as<FwdFailedMsg>(m);
            if (fixed_text(f.text).size() >= sizeof(f.text)) broken();
            sum += f.reason;
            break;
        }
        case MsgType::FwdTimeout:
            sum += payload_as<FwdTimeoutMsg>(m).reason;
            break;
        case MsgType::ListFwdEnd:
            sum += payload_as<ListFwdEndMsg>(m).count;
            break;
        case MsgType::Stats: {
            const auto s = payload_as<StatsMsg>(m);
            if (s.count > kStatsMax) broken();
            for (uint32_t i = 0; i < s.count; ++i) sum += s.values[i];
            break;
        }
        case MsgType::CtlRequest:
            sum += payload_as<CtlRequestMsg>(m).what;
            break;
        case MsgType::CtlReply:
            sum += payload_text(m, sizeof(CtlReplyHead)).size();
            break;
        case MsgType::Error:
            sum += payload_as<ErrorMsg>(m).about_type;
            break;
        case MsgType::LocalAddress:
            sum += payload_as<LocalAddressMsg>(m).change;
            break;
        default:
            break;
    }
    return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> frame(data, size);
    static constexpr ChannelKind kinds[] = {ChannelKind::ParentSipd, ChannelKind::ParentRtpd,
                                            ChannelKind::SipdRtpd};
    static constexpr Process senders[] = {Process::Parent, Process::Sipd, Process::Rtpd};
    static constexpr ChannelState states[] = {ChannelState::AwaitHello, ChannelState::AwaitReady,
                                              ChannelState::Running};
    volatile uint64_t sink = 0;
    for (ChannelKind kind : kinds) {
        for (Process sender : senders) {
            for (ChannelState state : states) {
                for (bool has_fd : {false, true}) {
                    const DecodeResult r = decode(frame, kind, sender, state, has_fd);
                    if (decode_error_name(r.error) == nullptr) broken();
                    if (!r.ok()) continue;
                    // What the decoder promises about an accepted message.
                    const Message& m = r.message;
                    const MsgSpec* spec = find_spec(m.header.type);
                    if (spec == nullptr) broken();
                    if (size > max_frame_size(kind)) broken();
                    if (m.payload.size() != m.header.length) broken();
                    if (m.payload.size() + kHeaderSize != size) broken();
                    if (m.payload.size() < spec->min_size || m.payload.size() > spec->max_size)
                        broken();
                    if ((spec->routes & route_of(kind, sender)) == 0) broken();
                    if ((spec->states & state_bit(state)) == 0) broken();
                    if ((spec->fd == FdRule::One) != has_fd) broken();
                    if (m.payload.data() != data + kHeaderSize) broken();
                    sink = sink + consume(m);
                }
            }
        }
    }
    return 0;
}
