#include "codec.h"

#include <cstring>

namespace sipmasq::proto {
namespace {

bool wire_addr_ok(const WireAddr& a, bool required) noexcept {
    switch (a.family) {
        case kWireNone:
            return !required;
        case kWireV4:
            // Only 4 address bytes are used; the rest must be zero so that
            // two encodings of one address compare equal.
            for (size_t i = 4; i < sizeof(a.addr); ++i)
                if (a.addr[i] != 0) return false;
            return true;
        case kWireV6:
            return true;
        default:
            return false;
    }
}

template <size_t N>
bool nul_terminated(const char (&field)[N]) noexcept {
    return field[N - 1] == '\0';
}

bool start_fwd_ok(const StartFwd& s, bool actual_ports) noexcept {
    if (!wire_addr_ok(s.inside_local, true) || !wire_addr_ok(s.outside_local, true)) return false;
    if (!wire_addr_ok(s.inside_peer, false) || !wire_addr_ok(s.outside_peer, false)) return false;
    if ((s.flags & ~kFwdKnownFlags) != 0) return false;
    if (!nul_terminated(s.tag)) return false;
    if (actual_ports && (s.inside_port == 0 || s.outside_port == 0)) return false;
    return true;
}

// The checks that need the payload's content. The size is already exact
// (or within min..max) when this runs.
bool fields_ok(const Message& msg, Process sender) noexcept {
    switch (msg.type()) {
        case MsgType::Hello: {
            const auto h = payload_as<HelloMsg>(msg);
            return h.process == static_cast<uint8_t>(sender) && h.proto_version == kProtoVersion;
        }
        case MsgType::Log: {
            const auto head = payload_as<LogHead>(msg);
            if ((head.level & ~kLogRecord) > 7) return false;
            // NUL-free, so the parent can pass it on as a C string.
            const auto text = msg.payload.subspan(sizeof(LogHead));
            return std::memchr(text.data(), '\0', text.size()) == nullptr;
        }
        case MsgType::PeerChannel: {
            const auto p = payload_as<PeerChannelMsg>(msg);
            return p.workers >= 1 && p.workers <= kMaxPeerWorkers && p.worker < p.workers;
        }
        case MsgType::SipSocket: {
            const auto s = payload_as<SipSocketMsg>(msg);
            return (s.side == kSideInside || s.side == kSideOutside) &&
                   (s.transport == kSipUdp || s.transport == kSipTcpListener) &&
                   wire_addr_ok(s.local, true);
        }
        case MsgType::LocalAddress: {
            const auto a = payload_as<LocalAddressMsg>(msg);
            return (a.side == kSideInside || a.side == kSideOutside) &&
                   (a.change == kAddressGone || a.change == kAddressCame) && a.pad[0] == 0 &&
                   a.pad[1] == 0 && wire_addr_ok(a.local, true) && a.local.port == 0;
        }
        case MsgType::StartFwd:
            return start_fwd_ok(payload_as<StartFwd>(msg), false);
        case MsgType::FwdEntry:
            return start_fwd_ok(payload_as<StartFwd>(msg), true);
        case MsgType::FwdStarted: {
            const auto f = payload_as<FwdStartedMsg>(msg);
            return wire_addr_ok(f.inside_local, true) && wire_addr_ok(f.outside_local, true);
        }
        case MsgType::FwdFailed:
            return nul_terminated(payload_as<FwdFailedMsg>(msg).text);
        case MsgType::FwdTimeout: {
            const auto r = payload_as<FwdTimeoutMsg>(msg).reason;
            return r >= static_cast<uint32_t>(FwdTimeoutReason::Idle) &&
                   r <= static_cast<uint32_t>(FwdTimeoutReason::MaxDuration);
        }
        case MsgType::Stats:
            return payload_as<StatsMsg>(msg).count <= kStatsMax;
        case MsgType::CtlReply: {
            const auto head = payload_as<CtlReplyHead>(msg);
            const auto text = msg.payload.subspan(sizeof(CtlReplyHead));
            return head.last <= 1 && std::memchr(text.data(), '\0', text.size()) == nullptr;
        }
        default:
            return true;
    }
}

}  // namespace

size_t encode(std::span<uint8_t> out, MsgType type, uint32_t peer_id, uint32_t seq,
              std::span<const uint8_t> payload, bool with_fd) noexcept {
    if (payload.size() > kMaxFrame - kHeaderSize) return 0;
    const size_t total = kHeaderSize + payload.size();
    if (out.size() < total) return 0;
    Header h{};
    h.version = kProtoVersion;
    h.flags = with_fd ? kFlagHasFd : 0;
    h.type = static_cast<uint16_t>(type);
    h.length = static_cast<uint32_t>(payload.size());
    h.peer_id = peer_id;
    h.seq = seq;
    std::memcpy(out.data(), &h, kHeaderSize);
    if (!payload.empty()) std::memcpy(out.data() + kHeaderSize, payload.data(), payload.size());
    return total;
}

DecodeResult decode(std::span<const uint8_t> frame, ChannelKind kind, Process sender,
                    ChannelState state, bool has_fd) noexcept {
    DecodeResult r;
    if (frame.size() < kHeaderSize) {
        r.error = DecodeError::ShortHeader;
        return r;
    }
    Header& h = r.message.header;
    std::memcpy(&h, frame.data(), kHeaderSize);
    auto fail = [&r](DecodeError e) {
        r.error = e;
        return r;
    };

    if (h.version != kProtoVersion) return fail(DecodeError::BadVersion);
    const size_t limit = max_frame_size(kind);
    // The declared length is judged against the limit before it is trusted.
    if (frame.size() > limit || h.length > limit - kHeaderSize) return fail(DecodeError::TooLong);
    if (h.length != frame.size() - kHeaderSize) return fail(DecodeError::LengthMismatch);

    const MsgSpec* spec = find_spec(h.type);
    if (spec == nullptr) return fail(DecodeError::UnknownType);
    if ((spec->routes & routes_of(kind)) == 0) return fail(DecodeError::WrongChannel);
    if ((spec->routes & route_of(kind, sender)) == 0) return fail(DecodeError::WrongSender);
    if ((spec->states & state_bit(state)) == 0) return fail(DecodeError::WrongState);
    if (h.length < spec->min_size || h.length > spec->max_size)
        return fail(DecodeError::BadPayloadSize);

    const bool flag_fd = (h.flags & kFlagHasFd) != 0;
    const bool wants_fd = spec->fd == FdRule::One;
    if (wants_fd && !has_fd) return fail(DecodeError::MissingFd);
    if (!wants_fd && has_fd) return fail(DecodeError::UnexpectedFd);
    if (flag_fd && !has_fd) return fail(DecodeError::MissingFd);
    if (!flag_fd && has_fd) return fail(DecodeError::UnexpectedFd);

    if ((h.flags & ~kKnownFlags) != 0) return fail(DecodeError::BadField);
    if (kind != ChannelKind::SipdRtpd) {
        if (h.peer_id != 0) return fail(DecodeError::BadField);
    } else if ((spec->peer_id == PeerIdRule::Zero && h.peer_id != 0) ||
               (spec->peer_id == PeerIdRule::NonZero && h.peer_id == 0)) {
        return fail(DecodeError::BadField);
    }

    r.message.payload = frame.subspan(kHeaderSize, h.length);
    if (!fields_ok(r.message, sender)) {
        r.message.payload = {};
        return fail(DecodeError::BadField);
    }
    r.error = DecodeError::Ok;
    return r;
}

std::string_view payload_text(const Message& msg, size_t head_size) noexcept {
    if (msg.payload.size() <= head_size) return {};
    const auto text = msg.payload.subspan(head_size);
    return {reinterpret_cast<const char*>(text.data()), text.size()};
}

const char* decode_error_name(DecodeError error) noexcept {
    switch (error) {
        case DecodeError::Ok:
            return "ok";
        case DecodeError::ShortHeader:
            return "short header";
        case DecodeError::BadVersion:
            return "bad version";
        case DecodeError::TooLong:
            return "too long";
        case DecodeError::LengthMismatch:
            return "length mismatch";
        case DecodeError::UnknownType:
            return "unknown type";
        case DecodeError::WrongChannel:
            return "wrong channel";
        case DecodeError::WrongSender:
            return "wrong sender";
        case DecodeError::WrongState:
            return "wrong state";
        case DecodeError::BadPayloadSize:
            return "bad payload size";
        case DecodeError::MissingFd:
            return "missing fd";
        case DecodeError::UnexpectedFd:
            return "unexpected fd";
        case DecodeError::BadField:
            return "bad field";
    }
    return "unknown error";
}

const char* msg_type_name(MsgType type) noexcept {
    const MsgSpec* spec = find_spec(static_cast<uint16_t>(type));
    return spec != nullptr ? spec->name : "UNKNOWN";
}

const char* process_name(Process process) noexcept {
    switch (process) {
        case Process::Parent:
            return "parent";
        case Process::Sipd:
            return "sipd";
        case Process::Rtpd:
            return "rtpd";
    }
    return "unknown";
}

const char* channel_kind_name(ChannelKind kind) noexcept {
    switch (kind) {
        case ChannelKind::ParentSipd:
            return "parent<->sipd";
        case ChannelKind::ParentRtpd:
            return "parent<->rtpd";
        case ChannelKind::SipdRtpd:
            return "sipd<->rtpd";
    }
    return "unknown";
}

const char* channel_state_name(ChannelState state) noexcept {
    switch (state) {
        case ChannelState::AwaitHello:
            return "await-hello";
        case ChannelState::AwaitReady:
            return "await-ready";
        case ChannelState::Running:
            return "running";
    }
    return "unknown";
}

}  // namespace sipmasq::proto
