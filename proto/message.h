// The IPC messages: header, types, payload structs and the one table that
// says, per type, how big its payload is, who may send it where and when.
// Every struct here is a plain wire image: no implicit padding (checked
// below), copied in and out with memcpy, never cast onto a buffer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>

namespace sipmasq {
class SockAddr;
}

namespace sipmasq::proto {

inline constexpr uint8_t kProtoVersion = 1;

enum class Process : uint8_t { Parent = 0, Sipd = 1, Rtpd = 2 };
enum class ChannelKind : uint8_t { ParentSipd = 0, ParentRtpd = 1, SipdRtpd = 2 };

// A parent channel goes AwaitHello -(HELLO)-> AwaitReady -(READY)-> Running;
// the sipd<->rtpd channel starts Running.
enum class ChannelState : uint8_t { AwaitHello = 0, AwaitReady = 1, Running = 2 };

// Hard frame limits (header included), checked before anything is copied.
inline constexpr size_t kMaxFrameParent = 8192;
inline constexpr size_t kMaxFrameSipdRtpd = 512;
inline constexpr size_t kMaxFrame = kMaxFrameParent;  // the largest of all channels

[[nodiscard]] constexpr size_t max_frame_size(ChannelKind kind) noexcept {
    return kind == ChannelKind::SipdRtpd ? kMaxFrameSipdRtpd : kMaxFrameParent;
}

// flags bit 0: a descriptor rides with this message (SCM_RIGHTS).
inline constexpr uint8_t kFlagHasFd = 0x01;
inline constexpr uint8_t kKnownFlags = kFlagHasFd;

struct Header {
    uint8_t version;
    uint8_t flags;
    uint16_t type;     // MsgType
    uint32_t length;   // payload bytes after the header
    uint32_t peer_id;  // forward id on sipd<->rtpd, 0 on parent channels
    uint32_t seq;      // for matching replies
};
inline constexpr size_t kHeaderSize = 16;
static_assert(sizeof(Header) == kHeaderSize);

enum class MsgType : uint16_t {
    Hello = 1,
    Ready = 2,
    Log = 3,
    Ping = 4,
    Pong = 5,
    Shutdown = 6,
    PeerChannel = 7,
    SipSocket = 8,
    StateDir = 9,
    StartFwd = 10,
    FwdStarted = 11,
    FwdFailed = 12,
    StopFwd = 13,
    FwdStopped = 14,
    FwdTimeout = 15,
    ListFwd = 16,
    FwdEntry = 17,
    ListFwdEnd = 18,
    StatsReq = 19,
    Stats = 20,
    CtlRequest = 21,
    CtlReply = 22,
    Error = 23,
    LocalAddress = 24,
};
inline constexpr uint16_t kMsgTypeFirst = 1;
inline constexpr uint16_t kMsgTypeLast = 24;
inline constexpr size_t kMsgTypeCount = kMsgTypeLast - kMsgTypeFirst + 1;

// ---- payloads -------------------------------------------------------------

// An address on the wire. family: 0 none, 4 IPv4, 6 IPv6; addr in network
// order (4 or 16 bytes used, the rest zero); port in host order.
struct WireAddr {
    uint8_t family;
    uint8_t pad;
    uint16_t port;
    uint8_t addr[16];
};
static_assert(sizeof(WireAddr) == 20);

inline constexpr uint8_t kWireNone = 0;
inline constexpr uint8_t kWireV4 = 4;
inline constexpr uint8_t kWireV6 = 6;

// Conversions (wire_addr.cpp). An invalid SockAddr becomes family 0; a
// WireAddr with family 0 or an unknown family gives nullopt.
[[nodiscard]] WireAddr to_wire(const SockAddr& addr) noexcept;
[[nodiscard]] std::optional<SockAddr> from_wire(const WireAddr& wire) noexcept;

// HELLO child->parent.
struct HelloMsg {
    uint32_t pid;
    uint8_t process;  // Process of the sender
    uint8_t pad[3];
    uint32_t proto_version;  // kProtoVersion
};

// LOG child->parent: this head, then 1..kLogTextMax bytes of text (no NUL).
struct LogHead {
    uint8_t level;  // syslog priority 0..7 (LogLevel), | kLogRecord for a call record
};
// A call record (call start and end): the parent passes these within a
// budget of their own, so chatter never crowds out the records.
inline constexpr uint8_t kLogRecord = 0x80;
inline constexpr size_t kLogTextMax = 1024;

// PING / PONG, any direction; PONG echoes the nonce (and the seq).
struct PingMsg {
    uint64_t nonce;
};

// PEER_CHANNEL parent->child, with a sipd<->rtpd channel end as the fd:
// which rtpd worker that channel leads to (0-based) and how many there are,
// so sipd keeps one link per worker and rtpd can check it got its own.
inline constexpr uint32_t kMaxPeerWorkers = 16;  // rtp_workers' limit (common/rtp_workers.h)
struct PeerChannelMsg {
    uint32_t worker;
    uint32_t workers;
};

// SIP_SOCKET parent->sipd, with the socket as the fd: a UDP socket, or a
// TCP listener (listen() done, bound to its side's interface).
inline constexpr uint8_t kSideInside = 0;
inline constexpr uint8_t kSideOutside = 1;
inline constexpr uint8_t kSipUdp = 0;
inline constexpr uint8_t kSipTcpListener = 1;
struct SipSocketMsg {
    uint8_t side;       // kSideInside / kSideOutside
    uint8_t transport;  // kSipUdp / kSipTcpListener
    uint8_t pad[2];
    WireAddr local;
};

// LOCAL_ADDRESS parent->sipd and parent->rtpd: an address of a watched
// interface came (its SIP sockets were sent just before, as SIP_SOCKET) or
// went (sipd closes every socket bound to it; neither child uses it again).
// ifindex: the side's interface now (a PPPoE link comes back as a new
// interface), 0 when unknown.
inline constexpr uint8_t kAddressGone = 0;
inline constexpr uint8_t kAddressCame = 1;
struct LocalAddressMsg {
    uint8_t side;    // kSideInside / kSideOutside
    uint8_t change;  // kAddressGone / kAddressCame
    uint8_t pad[2];
    uint32_t ifindex;
    WireAddr local;  // port 0
};

// START_FWD sipd->rtpd (forward id in header.peer_id), and FWD_ENTRY
// rtpd->sipd (the same, with the ports actually bound).
inline constexpr uint32_t kFwdLatch = 0x1;  // learn the peer from the first packet
inline constexpr uint32_t kFwdHold = 0x2;   // on hold: keep the ports, expect silence
// RFC 5761 rtcp-mux on that leg: RTCP shares the RTP port, no RTCP socket.
inline constexpr uint32_t kFwdInsideMux = 0x4;
inline constexpr uint32_t kFwdOutsideMux = 0x8;
inline constexpr uint32_t kFwdKnownFlags = kFwdLatch | kFwdHold | kFwdInsideMux | kFwdOutsideMux;
inline constexpr size_t kTagSize = 64;
struct StartFwd {
    WireAddr inside_local;
    WireAddr outside_local;
    WireAddr inside_peer;
    WireAddr outside_peer;
    uint16_t inside_port;   // requested RTP port, 0 = allocate
    uint16_t outside_port;  // requested RTP port, 0 = allocate
    // The peers' RTCP ports (RFC 3605 a=rtcp); 0 = their RTP port + 1.
    uint16_t inside_rtcp_port;
    uint16_t outside_rtcp_port;
    uint32_t flags;      // kFwd*
    char tag[kTagSize];  // call-id for logs, NUL padded, last byte NUL
};

// FWD_STARTED rtpd->sipd: the addresses with the RTP ports bound (RTCP is +1).
struct FwdStartedMsg {
    WireAddr inside_local;
    WireAddr outside_local;
};

enum class FwdFailReason : uint32_t {
    NoPorts = 1,
    BindFailed = 2,
    BadRequest = 3,
    Exists = 4,
    Internal = 5
};
struct FwdFailedMsg {
    uint32_t reason;  // FwdFailReason
    char text[64];    // NUL padded, last byte NUL
};

enum class FwdTimeoutReason : uint32_t { Idle = 1, NeverBidirectional = 2, MaxDuration = 3 };
struct FwdTimeoutMsg {
    uint32_t reason;  // FwdTimeoutReason
};

struct ListFwdEndMsg {
    uint32_t count;  // FWD_ENTRY messages sent before this one
};

inline constexpr size_t kStatsMax = 32;
struct StatsMsg {
    uint32_t count;  // values used, <= kStatsMax
    uint32_t pad;
    uint64_t values[kStatsMax];
};

struct CtlRequestMsg {
    uint32_t what;
    uint32_t pad;
};

// CTL_REPLY child->parent: this head, then 0..kCtlTextMax bytes of text.
struct CtlReplyHead {
    uint8_t last;  // 1 on the final part of a reply
};
inline constexpr size_t kCtlTextMax = 4000;

// ERROR, any direction: the answer to a bad message.
struct ErrorMsg {
    uint32_t code;        // DecodeError (or another reason, see codec.h)
    uint16_t about_type;  // header.type of the message refused
    uint16_t pad;
};

#define SIPMASQ_PROTO_WIRE(T)                                                        \
    static_assert(std::is_trivially_copyable_v<T> && std::is_standard_layout_v<T> && \
                  std::has_unique_object_representations_v<T>)
SIPMASQ_PROTO_WIRE(Header);
SIPMASQ_PROTO_WIRE(WireAddr);
SIPMASQ_PROTO_WIRE(HelloMsg);
SIPMASQ_PROTO_WIRE(LogHead);
SIPMASQ_PROTO_WIRE(PingMsg);
SIPMASQ_PROTO_WIRE(PeerChannelMsg);
SIPMASQ_PROTO_WIRE(SipSocketMsg);
SIPMASQ_PROTO_WIRE(StartFwd);
SIPMASQ_PROTO_WIRE(FwdStartedMsg);
SIPMASQ_PROTO_WIRE(FwdFailedMsg);
SIPMASQ_PROTO_WIRE(FwdTimeoutMsg);
SIPMASQ_PROTO_WIRE(ListFwdEndMsg);
SIPMASQ_PROTO_WIRE(StatsMsg);
SIPMASQ_PROTO_WIRE(CtlRequestMsg);
SIPMASQ_PROTO_WIRE(CtlReplyHead);
SIPMASQ_PROTO_WIRE(ErrorMsg);
SIPMASQ_PROTO_WIRE(LocalAddressMsg);
#undef SIPMASQ_PROTO_WIRE
static_assert(sizeof(HelloMsg) == 12 && sizeof(SipSocketMsg) == 24 && sizeof(StartFwd) == 156 &&
              sizeof(FwdStartedMsg) == 40 && sizeof(FwdFailedMsg) == 68 &&
              sizeof(StatsMsg) == 264 && sizeof(ErrorMsg) == 8 && sizeof(LocalAddressMsg) == 28);

// ---- the table ------------------------------------------------------------

// Who sends on which channel, as bits, so a type lists every allowed route.
enum Route : uint8_t {
    kParentToSipd = 1 << 0,
    kParentToRtpd = 1 << 1,
    kSipdToParent = 1 << 2,
    kRtpdToParent = 1 << 3,
    kSipdToRtpd = 1 << 4,
    kRtpdToSipd = 1 << 5,
};
inline constexpr uint8_t kParentToChild = kParentToSipd | kParentToRtpd;
inline constexpr uint8_t kChildToParent = kSipdToParent | kRtpdToParent;
inline constexpr uint8_t kAnyRoute = 0x3f;

// The route of `sender` on a channel, or 0 when it is not an end of it.
[[nodiscard]] constexpr uint8_t route_of(ChannelKind kind, Process sender) noexcept {
    switch (kind) {
        case ChannelKind::ParentSipd:
            return sender == Process::Parent ? kParentToSipd
                   : sender == Process::Sipd ? kSipdToParent
                                             : 0;
        case ChannelKind::ParentRtpd:
            return sender == Process::Parent ? kParentToRtpd
                   : sender == Process::Rtpd ? kRtpdToParent
                                             : 0;
        case ChannelKind::SipdRtpd:
            return sender == Process::Sipd   ? kSipdToRtpd
                   : sender == Process::Rtpd ? kRtpdToSipd
                                             : 0;
    }
    return 0;
}
[[nodiscard]] constexpr uint8_t routes_of(ChannelKind kind) noexcept {
    switch (kind) {
        case ChannelKind::ParentSipd:
            return kParentToSipd | kSipdToParent;
        case ChannelKind::ParentRtpd:
            return kParentToRtpd | kRtpdToParent;
        case ChannelKind::SipdRtpd:
            return kSipdToRtpd | kRtpdToSipd;
    }
    return 0;
}
// The other end of a channel; nullopt when `self` is not an end of it.
[[nodiscard]] constexpr std::optional<Process> peer_of(ChannelKind kind, Process self) noexcept {
    switch (kind) {
        case ChannelKind::ParentSipd:
            if (self == Process::Parent) return Process::Sipd;
            if (self == Process::Sipd) return Process::Parent;
            break;
        case ChannelKind::ParentRtpd:
            if (self == Process::Parent) return Process::Rtpd;
            if (self == Process::Rtpd) return Process::Parent;
            break;
        case ChannelKind::SipdRtpd:
            if (self == Process::Sipd) return Process::Rtpd;
            if (self == Process::Rtpd) return Process::Sipd;
            break;
    }
    return std::nullopt;
}

[[nodiscard]] constexpr uint8_t state_bit(ChannelState s) noexcept {
    return static_cast<uint8_t>(1u << static_cast<unsigned>(s));
}
inline constexpr uint8_t kStAwaitHello = 1 << 0;
inline constexpr uint8_t kStAwaitReady = 1 << 1;
inline constexpr uint8_t kStRunning = 1 << 2;
inline constexpr uint8_t kStConfigured = kStAwaitReady | kStRunning;  // after HELLO
inline constexpr uint8_t kStAny = kStAwaitHello | kStAwaitReady | kStRunning;

enum class FdRule : uint8_t { None, One };
// On sipd<->rtpd: whether header.peer_id must name a forward. On parent
// channels peer_id is always 0.
enum class PeerIdRule : uint8_t { Zero, NonZero, Any };

struct MsgSpec {
    MsgType type;
    const char* name;
    uint16_t min_size;  // payload bytes
    uint16_t max_size;
    uint8_t routes;  // Route bits
    uint8_t states;  // kSt* bits: states of the receiver's view in which it is valid
    FdRule fd;
    PeerIdRule peer_id;
};

// clang-format off
inline constexpr std::array<MsgSpec, kMsgTypeCount> kMsgSpecs{{
    {MsgType::Hello,       "HELLO",        sizeof(HelloMsg), sizeof(HelloMsg), kChildToParent, kStAwaitHello, FdRule::None, PeerIdRule::Zero},
    {MsgType::Ready,       "READY",        0, 0,                               kChildToParent, kStAwaitReady, FdRule::None, PeerIdRule::Zero},
    {MsgType::Log,         "LOG",          sizeof(LogHead) + 1, sizeof(LogHead) + kLogTextMax, kChildToParent, kStConfigured, FdRule::None, PeerIdRule::Zero},
    {MsgType::Ping,        "PING",         sizeof(PingMsg), sizeof(PingMsg),   kAnyRoute,      kStConfigured, FdRule::None, PeerIdRule::Any},
    {MsgType::Pong,        "PONG",         sizeof(PingMsg), sizeof(PingMsg),   kAnyRoute,      kStConfigured, FdRule::None, PeerIdRule::Any},
    {MsgType::Shutdown,    "SHUTDOWN",     0, 0,                               kParentToChild, kStConfigured, FdRule::None, PeerIdRule::Zero},
    {MsgType::PeerChannel, "PEER_CHANNEL", sizeof(PeerChannelMsg), sizeof(PeerChannelMsg), kParentToChild, kStConfigured, FdRule::One, PeerIdRule::Zero},
    {MsgType::SipSocket,   "SIP_SOCKET",   sizeof(SipSocketMsg), sizeof(SipSocketMsg), kParentToSipd, kStConfigured, FdRule::One, PeerIdRule::Zero},
    {MsgType::StateDir,    "STATE_DIR",    0, 0,                               kParentToSipd,  kStConfigured, FdRule::One,  PeerIdRule::Zero},
    {MsgType::StartFwd,    "START_FWD",    sizeof(StartFwd), sizeof(StartFwd), kSipdToRtpd,    kStRunning,    FdRule::None, PeerIdRule::NonZero},
    {MsgType::FwdStarted,  "FWD_STARTED",  sizeof(FwdStartedMsg), sizeof(FwdStartedMsg), kRtpdToSipd, kStRunning, FdRule::None, PeerIdRule::NonZero},
    {MsgType::FwdFailed,   "FWD_FAILED",   sizeof(FwdFailedMsg), sizeof(FwdFailedMsg), kRtpdToSipd, kStRunning, FdRule::None, PeerIdRule::NonZero},
    {MsgType::StopFwd,     "STOP_FWD",     0, 0,                               kSipdToRtpd,    kStRunning,    FdRule::None, PeerIdRule::NonZero},
    {MsgType::FwdStopped,  "FWD_STOPPED",  0, 0,                               kRtpdToSipd,    kStRunning,    FdRule::None, PeerIdRule::NonZero},
    {MsgType::FwdTimeout,  "FWD_TIMEOUT",  sizeof(FwdTimeoutMsg), sizeof(FwdTimeoutMsg), kRtpdToSipd, kStRunning, FdRule::None, PeerIdRule::NonZero},
    {MsgType::ListFwd,     "LIST_FWD",     0, 0,                               kSipdToRtpd,    kStRunning,    FdRule::None, PeerIdRule::Zero},
    {MsgType::FwdEntry,    "FWD_ENTRY",    sizeof(StartFwd), sizeof(StartFwd), kRtpdToSipd,    kStRunning,    FdRule::None, PeerIdRule::NonZero},
    {MsgType::ListFwdEnd,  "LIST_FWD_END", sizeof(ListFwdEndMsg), sizeof(ListFwdEndMsg), kRtpdToSipd, kStRunning, FdRule::None, PeerIdRule::Zero},
    {MsgType::StatsReq,    "STATS_REQ",    0, 0,                               kParentToChild, kStRunning,    FdRule::None, PeerIdRule::Zero},
    {MsgType::Stats,       "STATS",        sizeof(StatsMsg), sizeof(StatsMsg), kChildToParent, kStRunning,    FdRule::None, PeerIdRule::Zero},
    {MsgType::CtlRequest,  "CTL_REQUEST",  sizeof(CtlRequestMsg), sizeof(CtlRequestMsg), kParentToChild, kStRunning, FdRule::None, PeerIdRule::Zero},
    {MsgType::CtlReply,    "CTL_REPLY",    sizeof(CtlReplyHead), sizeof(CtlReplyHead) + kCtlTextMax, kChildToParent, kStRunning, FdRule::None, PeerIdRule::Zero},
    {MsgType::Error,       "ERROR",        sizeof(ErrorMsg), sizeof(ErrorMsg), kAnyRoute,      kStAny,        FdRule::None, PeerIdRule::Any},
    {MsgType::LocalAddress, "LOCAL_ADDRESS", sizeof(LocalAddressMsg), sizeof(LocalAddressMsg), kParentToChild, kStConfigured, FdRule::None, PeerIdRule::Zero},
}};
// clang-format on

namespace detail {
constexpr bool specs_in_order() {
    for (size_t i = 0; i < kMsgSpecs.size(); ++i) {
        if (static_cast<size_t>(kMsgSpecs[i].type) != i + kMsgTypeFirst) return false;
        if (kMsgSpecs[i].min_size > kMsgSpecs[i].max_size) return false;
        // Every message must fit the smallest channel it may travel on.
        const size_t limit = (kMsgSpecs[i].routes & (kSipdToRtpd | kRtpdToSipd)) != 0
                                 ? kMaxFrameSipdRtpd
                                 : kMaxFrameParent;
        if (kHeaderSize + kMsgSpecs[i].max_size > limit) return false;
    }
    return true;
}
}  // namespace detail
static_assert(detail::specs_in_order(), "kMsgSpecs must be indexed by type and fit its channels");

// The spec of a type number, or nullptr if there is none.
[[nodiscard]] constexpr const MsgSpec* find_spec(uint16_t type) noexcept {
    if (type < kMsgTypeFirst || type > kMsgTypeLast) return nullptr;
    return &kMsgSpecs[type - kMsgTypeFirst];
}

}  // namespace sipmasq::proto
