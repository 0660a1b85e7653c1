// A valid message of every type, with the channel, sender and state in which
// it is valid: the base that each proto test bends one way, and the seeds
// of the fuzz corpus.
#pragma once

#include <cstring>
#include <string_view>
#include <vector>

#include "codec.h"
#include "message.h"

namespace sipmasq::proto::testing {

struct Sample {
    MsgType type;
    ChannelKind kind;
    Process sender;
    ChannelState state;
    std::vector<uint8_t> payload;
    bool fd;
    uint32_t peer_id;
    uint32_t seq = 42;
};

inline constexpr ChannelKind kAllKinds[] = {ChannelKind::ParentSipd, ChannelKind::ParentRtpd,
                                            ChannelKind::SipdRtpd};
inline constexpr ChannelState kAllStates[] = {ChannelState::AwaitHello, ChannelState::AwaitReady,
                                              ChannelState::Running};
inline constexpr Process kAllProcesses[] = {Process::Parent, Process::Sipd, Process::Rtpd};

inline std::vector<MsgType> all_types() {
    std::vector<MsgType> v;
    for (uint16_t t = kMsgTypeFirst; t <= kMsgTypeLast; ++t) v.push_back(static_cast<MsgType>(t));
    return v;
}

inline const MsgSpec& spec_of(MsgType t) {
    return kMsgSpecs.at(static_cast<size_t>(t) - kMsgTypeFirst);
}

// The channel and sender of one route bit.
inline void route_endpoints(uint8_t route, ChannelKind& kind, Process& sender) {
    switch (route) {
        case kParentToSipd:
            kind = ChannelKind::ParentSipd;
            sender = Process::Parent;
            return;
        case kParentToRtpd:
            kind = ChannelKind::ParentRtpd;
            sender = Process::Parent;
            return;
        case kSipdToParent:
            kind = ChannelKind::ParentSipd;
            sender = Process::Sipd;
            return;
        case kRtpdToParent:
            kind = ChannelKind::ParentRtpd;
            sender = Process::Rtpd;
            return;
        case kSipdToRtpd:
            kind = ChannelKind::SipdRtpd;
            sender = Process::Sipd;
            return;
        default:
            kind = ChannelKind::SipdRtpd;
            sender = Process::Rtpd;
            return;
    }
}

template <class T>
std::vector<uint8_t> bytes_of(const T& v) {
    const auto b = as_bytes(v);
    return {b.begin(), b.end()};
}

inline WireAddr wire_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
    WireAddr w{};
    w.family = kWireV4;
    w.port = port;
    w.addr[0] = a;
    w.addr[1] = b;
    w.addr[2] = c;
    w.addr[3] = d;
    return w;
}

inline StartFwd sample_start_fwd() {
    StartFwd s{};
    s.inside_local = wire_v4(192, 0, 2, 1, 0);
    s.outside_local = wire_v4(203, 0, 113, 1, 0);
    s.inside_peer = wire_v4(192, 0, 2, 10, 8000);
    s.outside_peer = {};
    s.inside_port = 30000;
    s.outside_port = 30002;
    s.inside_rtcp_port = 8005;  // a=rtcp
    s.flags = kFwdLatch;
    set_fixed_text(s.tag, "call-1@192.0.2.10");
    return s;
}

// A head byte then `text_len` bytes of 'a'.
inline std::vector<uint8_t> head_and_text(uint8_t head, size_t text_len) {
    std::vector<uint8_t> v{head};
    v.insert(v.end(), text_len, uint8_t{'a'});
    return v;
}

// Valid payload content for `type` of `size` bytes (variable types only
// take a size other than their fixed one).
inline std::vector<uint8_t> payload_for(MsgType type, Process sender, size_t size) {
    switch (type) {
        case MsgType::Hello: {
            HelloMsg h{};
            h.pid = 1234;
            h.process = static_cast<uint8_t>(sender);
            h.proto_version = kProtoVersion;
            return bytes_of(h);
        }
        case MsgType::Log:
            return head_and_text(6, size - 1);
        case MsgType::CtlReply:
            return head_and_text(1, size - 1);
        case MsgType::Ping:
        case MsgType::Pong:
            return bytes_of(PingMsg{0x0102030405060708ULL});
        case MsgType::PeerChannel:
            return bytes_of(PeerChannelMsg{1, 2});
        case MsgType::SipSocket: {
            SipSocketMsg s{};
            s.side = kSideOutside;
            s.local = wire_v4(203, 0, 113, 1, 5060);
            return bytes_of(s);
        }
        case MsgType::LocalAddress: {
            LocalAddressMsg a{};
            a.side = kSideOutside;
            a.change = kAddressCame;
            a.local = wire_v4(203, 0, 113, 7, 0);
            return bytes_of(a);
        }
        case MsgType::StartFwd:
        case MsgType::FwdEntry:
            return bytes_of(sample_start_fwd());
        case MsgType::FwdStarted: {
            FwdStartedMsg f{};
            f.inside_local = wire_v4(192, 0, 2, 1, 30000);
            f.outside_local = wire_v4(203, 0, 113, 1, 30002);
            return bytes_of(f);
        }
        case MsgType::FwdFailed: {
            FwdFailedMsg f{};
            f.reason = static_cast<uint32_t>(FwdFailReason::NoPorts);
            set_fixed_text(f.text, "no free port pair");
            return bytes_of(f);
        }
        case MsgType::FwdTimeout:
            return bytes_of(FwdTimeoutMsg{static_cast<uint32_t>(FwdTimeoutReason::Idle)});
        case MsgType::ListFwdEnd:
            return bytes_of(ListFwdEndMsg{3});
        case MsgType::Stats: {
            StatsMsg s{};
            s.count = 2;
            s.values[0] = 10;
            s.values[1] = 20;
            return bytes_of(s);
        }
        case MsgType::CtlRequest:
            return bytes_of(CtlRequestMsg{1, 0});
        case MsgType::Error:
            return bytes_of(ErrorMsg{5, 10, 0});
        default:
            return {};
    }
}

inline Sample valid_sample(MsgType type) {
    const MsgSpec& spec = spec_of(type);
    Sample s{};
    s.type = type;
    // The lowest route and state the table allows.
    const uint8_t route = static_cast<uint8_t>(spec.routes & -spec.routes);
    route_endpoints(route, s.kind, s.sender);
    s.state = (spec.states & kStAwaitHello) != 0   ? ChannelState::AwaitHello
              : (spec.states & kStAwaitReady) != 0 ? ChannelState::AwaitReady
                                                   : ChannelState::Running;
    s.payload = payload_for(type, s.sender, spec.min_size);
    s.fd = spec.fd == FdRule::One;
    s.peer_id = spec.peer_id == PeerIdRule::NonZero ? 7 : 0;
    return s;
}

// Rewrites header.length in place.
inline void set_header_length(std::vector<uint8_t>& frame, uint32_t length) {
    std::memcpy(frame.data() + 4, &length, sizeof(length));
}

// The frame of `s`; built by hand when the payload is beyond what encode()
// takes, so that oversized frames can be tested too.
inline std::vector<uint8_t> frame_of(const Sample& s) {
    std::vector<uint8_t> out(kHeaderSize + s.payload.size());
    if (encode(out, s.type, s.peer_id, s.seq, s.payload, s.fd) == out.size()) return out;
    out.resize(kHeaderSize);
    (void)encode(out, s.type, s.peer_id, s.seq, {}, s.fd);
    out.insert(out.end(), s.payload.begin(), s.payload.end());
    set_header_length(out, static_cast<uint32_t>(s.payload.size()));
    return out;
}

// Decodes `s` into `frame`, which the result's payload points into.
inline DecodeResult decode_kept(const Sample& s, std::vector<uint8_t>& frame) {
    frame = frame_of(s);
    return decode(frame, s.kind, s.sender, s.state, s.fd);
}

// Decodes `s` for its verdict (and header): the payload view is dropped
// with the frame.
inline DecodeResult decode_sample(const Sample& s) {
    std::vector<uint8_t> frame;
    DecodeResult r = decode_kept(s, frame);
    r.message.payload = {};
    return r;
}

}  // namespace sipmasq::proto::testing
