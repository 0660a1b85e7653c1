#include "sipd_link.h"

#include <cerrno>
#include <cstring>

#include "address.h"
#include "clock.h"
#include "codec.h"
#include "log.h"

namespace sipmasq {

namespace {

// Messages read per wake-up: the relay's sockets get their turn between.
constexpr int kMaxReadsPerWakeup = 64;
// Replies held for a slow sipd. LIST_FWD of a full table is max_forwards
// entries; beyond this sipd is not reading at all.
constexpr size_t kMaxPending = 200000;

// The tag comes from a SIP Call-ID: printable ASCII only in our logs.
std::string clean_tag(std::string_view raw) {
    std::string tag(raw);
    for (char& c : tag)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    return tag;
}

Endpoint endpoint_of(const proto::WireAddr& wire) {
    const auto addr = proto::from_wire(wire);
    if (!addr) return Endpoint{};
    return Endpoint::from_sockaddr(addr->sa(), addr->len());
}

proto::WireAddr wire_of(const Endpoint& e) {
    if (!e.known()) return proto::WireAddr{};
    return proto::to_wire(SockAddr(e.sa(), e.len()));
}

const std::string kNoTag;

}  // namespace

proto::FwdFailReason fail_reason_of(StartError e) noexcept {
    switch (e) {
        case StartError::BadParams:
        case StartError::PeerRefused:
            return proto::FwdFailReason::BadRequest;
        case StartError::TooManyForwards:
        case StartError::PoolExhausted:
        case StartError::NoDescriptors:
            return proto::FwdFailReason::NoPorts;
        case StartError::PortsUnavailable:
        case StartError::PortsInUse:
        case StartError::Socket:
            return proto::FwdFailReason::BindFailed;
        case StartError::PortsMismatch:
            return proto::FwdFailReason::Exists;
        case StartError::EventLoop:
        case StartError::None:
            break;
    }
    return proto::FwdFailReason::Internal;
}

proto::FwdTimeoutReason wire_timeout_reason(TimeoutReason r) noexcept {
    switch (r) {
        case TimeoutReason::Idle:
            return proto::FwdTimeoutReason::Idle;
        case TimeoutReason::NoBidirectional:
            return proto::FwdTimeoutReason::NeverBidirectional;
        case TimeoutReason::MaxDuration:
        case TimeoutReason::Count:
            break;
    }
    return proto::FwdTimeoutReason::MaxDuration;
}

SipdLink::SipdLink(event_base* base, Relay& relay)
    : base_(base), relay_(relay), pass_end_(base, &on_pass_end, this) {}

SipdLink::~SipdLink() = default;

void SipdLink::attach(UniqueFd sock) {
    const bool had = chan_ != nullptr;
    detach(nullptr);
    chan_ = std::make_unique<proto::Channel>(std::move(sock), proto::ChannelKind::SipdRtpd,
                                             proto::Process::Rtpd);
    if (!chan_->valid()) {
        log_error("rtpd: the channel to sipd is not usable");
        chan_.reset();
        return;
    }
    read_ev_.reset(event_new(base_, chan_->fd(), EV_READ | EV_PERSIST, on_read_cb, this));
    write_ev_.reset(event_new(base_, chan_->fd(), EV_WRITE, on_write_cb, this));
    if (!read_ev_ || !write_ev_ || event_add(read_ev_.get(), nullptr) != 0) {
        log_error("rtpd: cannot watch the channel to sipd");
        detach(nullptr);
        return;
    }
    if (had || relay_.size() > 0)
        log_notice("rtpd: new channel to sipd; %zu forwards keep running", relay_.size());
    else
        log_debug("rtpd: channel to sipd");
}

void SipdLink::detach(const char* why) {
    if (why != nullptr && chan_)
        log_notice("rtpd: channel to sipd %s; %zu forwards keep running", why, relay_.size());
    pass_end_.disarm();
    write_ev_.reset();
    read_ev_.reset();
    chan_.reset();
    out_.clear();  // answers for a sipd that is gone
}

const std::string& SipdLink::tag_of(uint32_t id) const {
    auto it = meta_.find(id);
    return it == meta_.end() ? kNoTag : it->second.tag;
}

void SipdLink::on_read_cb(evutil_socket_t, short, void* arg) noexcept {
    static_cast<SipdLink*>(arg)->on_read();
}

void SipdLink::on_write_cb(evutil_socket_t, short, void* arg) noexcept {
    static_cast<SipdLink*>(arg)->flush();
}

void SipdLink::on_pass_end(void* arg) noexcept {
    static_cast<SipdLink*>(arg)->flush();
}

void SipdLink::on_read() {
    for (int i = 0; i < kMaxReadsPerWakeup && chan_; ++i) {
        proto::Message msg{};
        UniqueFd fd;  // none is allowed on this channel; closed if one came
        switch (chan_->receive(msg, fd)) {
            case proto::ReceiveStatus::Nothing:
                return;
            case proto::ReceiveStatus::Closed:
                detach("closed (sipd gone)");
                return;
            case proto::ReceiveStatus::IoError:
                log_error("rtpd: channel to sipd failed: %s", std::strerror(chan_->last_errno()));
                detach("dropped");
                return;
            case proto::ReceiveStatus::Invalid: {
                uint64_t suppressed = 0;
                if (bad_log_.allow(monotonic_ms(), suppressed))
                    log_warning("rtpd: bad message from sipd: %s (%llu similar suppressed)",
                                proto::decode_error_name(chan_->last_decode_error()),
                                static_cast<unsigned long long>(suppressed));
                (void)chan_->send_error_for_last();
                continue;
            }
            case proto::ReceiveStatus::Message:
                handle(msg);
                break;
        }
    }
    // More may be waiting: the persistent read event fires again.
}

void SipdLink::handle(const proto::Message& msg) {
    switch (msg.type()) {
        case proto::MsgType::StartFwd:
            handle_start(msg);
            break;
        case proto::MsgType::StopFwd:
            handle_stop(msg);
            break;
        case proto::MsgType::ListFwd:
            handle_list(msg);
            break;
        case proto::MsgType::Ping: {
            const auto ping = proto::payload_as<proto::PingMsg>(msg);
            send(proto::MsgType::Pong, msg.header.peer_id, ping, msg.header.seq);
            break;
        }
        case proto::MsgType::Pong:
            break;
        case proto::MsgType::Error: {
            const auto err = proto::payload_as<proto::ErrorMsg>(msg);
            log_warning("rtpd: sipd refused a %s: error %u",
                        proto::msg_type_name(static_cast<proto::MsgType>(err.about_type)),
                        err.code);
            break;
        }
        default:
            // The codec only lets through what sipd may send us.
            log_warning("rtpd: unexpected %s from sipd", proto::msg_type_name(msg.type()));
            break;
    }
}

void SipdLink::send_failed(uint32_t id, uint32_t seq, proto::FwdFailReason reason,
                           const char* text) {
    proto::FwdFailedMsg failed{};
    failed.reason = static_cast<uint32_t>(reason);
    proto::set_fixed_text(failed.text, text);
    send(proto::MsgType::FwdFailed, id, failed, seq);
}

void SipdLink::handle_start(const proto::Message& msg) {
    const uint32_t id = msg.header.peer_id;
    const auto sf = proto::payload_as<proto::StartFwd>(msg);
    StartParams p;
    p.inside_local = endpoint_of(sf.inside_local);
    p.outside_local = endpoint_of(sf.outside_local);
    p.inside_peer = endpoint_of(sf.inside_peer);
    p.outside_peer = endpoint_of(sf.outside_peer);
    p.inside_port = sf.inside_port;
    p.outside_port = sf.outside_port;
    p.inside_rtcp_port = sf.inside_rtcp_port;
    p.outside_rtcp_port = sf.outside_rtcp_port;
    p.on_hold = (sf.flags & proto::kFwdHold) != 0;
    p.latch = (sf.flags & proto::kFwdLatch) != 0;
    p.inside_mux = (sf.flags & proto::kFwdInsideMux) != 0;
    p.outside_mux = (sf.flags & proto::kFwdOutsideMux) != 0;
    std::string tag = clean_tag(proto::fixed_text(sf.tag));

    const StartResult r = relay_.start(id, p);
    if (r.error == StartError::PeerRefused) {
        // The relay would send to this address: a compromised sipd (or a bug)
        // must not aim it at hosts the configuration does not allow.
        const bool inside = r.refused_side == Side::Inside;
        const Endpoint& peer = inside ? p.inside_peer : p.outside_peer;
        const std::string text =
            std::string(side_name(r.refused_side)) + " peer refused: " + r.refused_why;
        uint64_t suppressed = 0;
        if (refused_log_.allow(monotonic_ms(), suppressed))
            log_warning(
                "rtpd: forward %u (call %s) refused: %s peer %s: %s (%llu similar suppressed)", id,
                tag.c_str(), side_name(r.refused_side), peer.to_string().c_str(), r.refused_why,
                static_cast<unsigned long long>(suppressed));
        send_failed(id, msg.header.seq, fail_reason_of(r.error), text.c_str());
        return;
    }
    if (!r.ok()) {
        const proto::FwdFailReason reason = fail_reason_of(r.error);
        RateLimit& limit = reason == proto::FwdFailReason::NoPorts ? exhausted_log_ : fail_log_;
        uint64_t suppressed = 0;
        if (limit.allow(monotonic_ms(), suppressed))
            log_warning(
                "rtpd: cannot start forward %u (call %s, requested ports %u/%u): %s%s%s "
                "(%llu similar suppressed)",
                id, tag.c_str(), sf.inside_port, sf.outside_port, start_error_name(r.error),
                r.sys_errno != 0 ? ": " : "", r.sys_errno != 0 ? std::strerror(r.sys_errno) : "",
                static_cast<unsigned long long>(suppressed));
        send_failed(id, msg.header.seq, reason, start_error_name(r.error));
        return;
    }

    ForwardMeta& m = meta_[id];
    const bool peers_changed =
        !(m.inside_peer == p.inside_peer) || !(m.outside_peer == p.outside_peer);
    if (r.created || !tag.empty()) m.tag = std::move(tag);
    m.inside_local = p.inside_local.with_port(r.inside_port);
    m.outside_local = p.outside_local.with_port(r.outside_port);
    m.inside_peer = p.inside_peer;
    m.outside_peer = p.outside_peer;
    // sipd's call records (call start / call end) name the call, the phone
    // and the relay ports already: these lines are for debugging.
    if (r.created) {
        log_debug("rtpd: forward %u started (call %s%s): inside %s <-> %s, outside %s <-> %s%s", id,
                  m.tag.c_str(), p.inside_port != 0 ? ", resumed on requested ports" : "",
                  m.inside_local.to_string().c_str(), m.inside_peer.to_string().c_str(),
                  m.outside_local.to_string().c_str(), m.outside_peer.to_string().c_str(),
                  p.on_hold ? " (on hold)" : "");
    } else if (peers_changed) {
        log_debug("rtpd: forward %u updated (call %s): inside %s <-> %s, outside %s <-> %s%s", id,
                  m.tag.c_str(), m.inside_local.to_string().c_str(),
                  m.inside_peer.to_string().c_str(), m.outside_local.to_string().c_str(),
                  m.outside_peer.to_string().c_str(), p.on_hold ? " (on hold)" : "");
    }

    proto::FwdStartedMsg started{};
    started.inside_local = wire_of(m.inside_local);
    started.outside_local = wire_of(m.outside_local);
    send(proto::MsgType::FwdStarted, id, started, msg.header.seq);
}

void SipdLink::handle_stop(const proto::Message& msg) {
    const uint32_t id = msg.header.peer_id;
    const auto info = log_enabled(LogLevel::Debug) ? relay_.info(id) : std::nullopt;
    if (relay_.stop(id) && info) {
        const auto& in = info->stats[static_cast<size_t>(Direction::InToOut)];
        const auto& out = info->stats[static_cast<size_t>(Direction::OutToIn)];
        log_debug(
            "rtpd: forward %u stopped (call %s): inside %s <-> %s, outside %s <-> %s, "
            "packets in->out %llu out->in %llu",
            id, tag_of(id).c_str(), info->inside_local.to_string().c_str(),
            info->inside_peer.to_string().c_str(), info->outside_local.to_string().c_str(),
            info->outside_peer.to_string().c_str(), static_cast<unsigned long long>(in.packets),
            static_cast<unsigned long long>(out.packets));
    }
    meta_.erase(id);
    send_bytes(proto::MsgType::FwdStopped, id, {}, msg.header.seq);
}

void SipdLink::handle_list(const proto::Message& msg) {
    const auto forwards = relay_.list();
    for (const ForwardInfo& f : forwards) {
        proto::StartFwd e{};
        e.inside_local = wire_of(f.inside_local);
        e.outside_local = wire_of(f.outside_local);
        e.inside_peer = wire_of(f.inside_peer);
        e.outside_peer = wire_of(f.outside_peer);
        e.inside_port = f.inside_local.port();
        e.outside_port = f.outside_local.port();
        e.inside_rtcp_port = f.inside_rtcp_port;
        e.outside_rtcp_port = f.outside_rtcp_port;
        e.flags = (f.latch ? proto::kFwdLatch : 0u) | (f.on_hold ? proto::kFwdHold : 0u) |
                  (f.inside_mux ? proto::kFwdInsideMux : 0u) |
                  (f.outside_mux ? proto::kFwdOutsideMux : 0u);
        proto::set_fixed_text(e.tag, tag_of(f.id));
        send(proto::MsgType::FwdEntry, f.id, e, msg.header.seq);
    }
    proto::ListFwdEndMsg end{};
    end.count = static_cast<uint32_t>(forwards.size());
    send(proto::MsgType::ListFwdEnd, 0, end, msg.header.seq);
}

void SipdLink::on_timeout(uint32_t id, TimeoutReason reason) {
    auto it = meta_.find(id);
    const ForwardMeta meta = it != meta_.end() ? std::move(it->second) : ForwardMeta{};
    if (it != meta_.end()) meta_.erase(it);
    log_info("rtpd: forward %u timed out (%s) (call %s): inside %s <-> %s, outside %s <-> %s%s", id,
             timeout_reason_name(reason), meta.tag.c_str(), meta.inside_local.to_string().c_str(),
             meta.inside_peer.to_string().c_str(), meta.outside_local.to_string().c_str(),
             meta.outside_peer.to_string().c_str(),
             chan_ ? "" : "; no sipd to tell (it learns from LIST_FWD)");
    if (!chan_) return;
    proto::FwdTimeoutMsg t{};
    t.reason = static_cast<uint32_t>(wire_timeout_reason(reason));
    send(proto::MsgType::FwdTimeout, id, t);
}

void SipdLink::send_bytes(proto::MsgType type, uint32_t peer_id, std::span<const uint8_t> payload,
                          uint32_t seq) {
    if (!chan_) return;  // sipd is gone; it resyncs with LIST_FWD
    if (out_.empty()) {
        const int rc = chan_->queue(type, peer_id, payload, seq);
        if (rc == 0) {
            pass_end_.arm();
            return;
        }
        if (rc != -EAGAIN && rc != -ENOBUFS) {
            log_error("rtpd: cannot send %s to sipd: %s", proto::msg_type_name(type),
                      std::strerror(-rc));
            if (rc != -EINVAL) detach("failed");
            return;
        }
    }
    if (out_.size() >= kMaxPending) {
        uint64_t suppressed = 0;
        if (overflow_log_.allow(monotonic_ms(), suppressed))
            log_error(
                "rtpd: sipd does not read; %s for forward %u dropped (%llu similar "
                "suppressed)",
                proto::msg_type_name(type), peer_id, static_cast<unsigned long long>(suppressed));
        return;
    }
    Pending p{type, peer_id, seq, static_cast<uint16_t>(payload.size()), {}};
    if (!payload.empty()) std::memcpy(p.data.data(), payload.data(), payload.size());
    out_.push_back(p);
    if (out_.size() == 1) event_add(write_ev_.get(), nullptr);
}

void SipdLink::flush() {
    if (!chan_) return;
    // The batch holds older replies than out_: queue() sends it first
    // whenever it is full, so order holds across both.
    while (!out_.empty()) {
        const Pending& p = out_.front();
        const int rc =
            chan_->queue(p.type, p.peer_id, std::span<const uint8_t>(p.data.data(), p.len), p.seq);
        if (rc == -EAGAIN || rc == -ENOBUFS) {
            event_add(write_ev_.get(), nullptr);
            return;
        }
        if (rc < 0) {
            log_error("rtpd: cannot send %s to sipd: %s", proto::msg_type_name(p.type),
                      std::strerror(-rc));
            if (rc != -EINVAL) {
                detach("failed");
                return;
            }
        }
        out_.pop_front();
    }
    const int rc = chan_->flush();
    if (rc == -EAGAIN || rc == -ENOBUFS) {
        event_add(write_ev_.get(), nullptr);
    } else if (rc < 0) {
        log_error("rtpd: cannot send answers to sipd: %s", std::strerror(-rc));
        detach("failed");
    }
}

}  // namespace sipmasq
