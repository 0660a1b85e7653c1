#include "rtpd_link.h"

#include <fcntl.h>

#include <cstring>
#include <iterator>

#include "clock.h"
#include "codec.h"
#include "log.h"

namespace sipmasq {

namespace {

SockAddr from_wire_or_none(const proto::WireAddr& w) {
    auto a = proto::from_wire(w);
    return a ? *a : SockAddr();
}

MediaStart entry_of(uint32_t id, const proto::StartFwd& f) {
    MediaStart m;
    m.id = id;
    m.inside_local = from_wire_or_none(f.inside_local);
    m.outside_local = from_wire_or_none(f.outside_local);
    m.inside_peer = from_wire_or_none(f.inside_peer);
    m.outside_peer = from_wire_or_none(f.outside_peer);
    m.inside_port = f.inside_port != 0 ? f.inside_port : m.inside_local.port();
    m.outside_port = f.outside_port != 0 ? f.outside_port : m.outside_local.port();
    m.inside_rtcp_port = f.inside_rtcp_port;
    m.outside_rtcp_port = f.outside_rtcp_port;
    m.inside_mux = (f.flags & proto::kFwdInsideMux) != 0;
    m.outside_mux = (f.flags & proto::kFwdOutsideMux) != 0;
    m.hold = (f.flags & proto::kFwdHold) != 0;
    m.tag = std::string(proto::fixed_text(f.tag));
    return m;
}

const char* timeout_reason(uint32_t r) {
    switch (static_cast<proto::FwdTimeoutReason>(r)) {
        case proto::FwdTimeoutReason::Idle:
            return "idle";
        case proto::FwdTimeoutReason::NeverBidirectional:
            return "never both ways";
        case proto::FwdTimeoutReason::MaxDuration:
            return "maximum duration";
    }
    return "unknown reason";
}

}  // namespace

void RtpdLink::set_channel(UniqueFd fd) {
    drop_channel("new channel to rtpd");
    // receive() is drained until EAGAIN: the socket must not block.
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags >= 0) (void)::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK);
    channel_ = std::make_unique<proto::Channel>(std::move(fd), proto::ChannelKind::SipdRtpd,
                                                proto::Process::Sipd);
    if (!channel_->valid()) {
        log_error("the channel to rtpd is not usable");
        channel_.reset();
        return;
    }
    read_event_.reset(event_new(base_, channel_->fd(), EV_READ | EV_PERSIST, &on_readable, this));
    write_event_.reset(event_new(base_, channel_->fd(), EV_WRITE, &on_writable, this));
    if (!read_event_ || !write_event_ || event_add(read_event_.get(), nullptr) != 0) {
        log_error("cannot watch the channel to rtpd");
        channel_.reset();
        read_event_.reset();
    }
}

void RtpdLink::drop_channel(const char* why) {
    pass_end_.disarm();
    read_event_.reset();
    write_event_.reset();
    out_.clear();
    channel_.reset();
    // Whoever waited on the old rtpd gets a failure now, not never.
    auto pending = std::move(pending_);
    pending_.clear();
    MediaResult fail;
    fail.error = why;
    for (auto& [id, waiters] : pending)
        for (auto& w : waiters) w.done(fail);
}

bool RtpdLink::request_list() {
    return channel_ != nullptr && send_or_queue(proto::MsgType::ListFwd, 0, {}) == 0;
}

int RtpdLink::send_or_queue(proto::MsgType type, uint32_t id, std::span<const uint8_t> payload) {
    if (channel_ == nullptr) return -ENOTCONN;
    if (out_.empty()) {
        const int rc = channel_->queue(type, id, payload);
        if (rc == 0) {
            pass_end_.arm();
            return 0;
        }
        if (rc != -EAGAIN && rc != -ENOBUFS) return rc;
    }
    if (out_.size() >= kMaxQueued || payload.size() > sizeof(Outgoing::data)) return -ENOBUFS;
    Outgoing o{type, id, static_cast<uint16_t>(payload.size()), {}};
    if (!payload.empty()) std::memcpy(o.data.data(), payload.data(), payload.size());
    out_.push_back(o);
    if (out_.size() == 1) event_add(write_event_.get(), nullptr);
    return 0;
}

void RtpdLink::on_writable(evutil_socket_t, short, void* arg) noexcept {
    static_cast<RtpdLink*>(arg)->flush();
}

void RtpdLink::on_pass_end(void* arg) noexcept {
    static_cast<RtpdLink*>(arg)->flush();
}

void RtpdLink::flush() {
    if (channel_ == nullptr) return;
    // The batch holds older requests than out_: queue() sends it first
    // whenever it is full, so order holds across both.
    while (!out_.empty()) {
        const Outgoing& o = out_.front();
        const int rc =
            channel_->queue(o.type, o.id, std::span<const uint8_t>(o.data.data(), o.len));
        if (rc == -EAGAIN || rc == -ENOBUFS) {
            event_add(write_event_.get(), nullptr);
            return;
        }
        if (rc != 0)
            log_warning("%s %u not sent: %s", proto::msg_type_name(o.type), o.id,
                        std::strerror(-rc));
        out_.pop_front();
    }
    const int rc = channel_->flush();
    if (rc == -EAGAIN || rc == -ENOBUFS) {
        event_add(write_event_.get(), nullptr);
    } else if (rc != 0) {
        log_warning("requests to rtpd not sent: %s", std::strerror(-rc));
    }
}

void RtpdLink::start(const MediaStart& r, Done done) {
    MediaResult fail;
    if (channel_ == nullptr) {
        fail.error = "rtpd unavailable";
        done(fail);
        return;
    }
    proto::StartFwd msg{};
    msg.inside_local = proto::to_wire(r.inside_local);
    msg.outside_local = proto::to_wire(r.outside_local);
    msg.inside_peer = proto::to_wire(r.inside_peer);
    msg.outside_peer = proto::to_wire(r.outside_peer);
    msg.inside_port = r.inside_port;
    msg.outside_port = r.outside_port;
    msg.inside_rtcp_port = r.inside_rtcp_port;
    msg.outside_rtcp_port = r.outside_rtcp_port;
    msg.flags = (r.hold ? proto::kFwdHold : 0u) | (r.inside_mux ? proto::kFwdInsideMux : 0u) |
                (r.outside_mux ? proto::kFwdOutsideMux : 0u);
    proto::set_fixed_text(msg.tag, r.tag);
    const int rc = send_or_queue(proto::MsgType::StartFwd, r.id, proto::as_bytes(msg));
    if (rc != 0) {
        fail.error = std::string("START_FWD not sent: ") + std::strerror(-rc);
        done(fail);
        return;
    }
    pending_[r.id].push_back({std::move(done), monotonic_ms() + kAnswerTimeoutMs});
    if (!check_event_) {
        check_event_.reset(event_new(base_, -1, EV_PERSIST, &on_check, this));
        const timeval half{0, 500000};
        if (check_event_) event_add(check_event_.get(), &half);
    }
}

void RtpdLink::on_check(evutil_socket_t, short, void* arg) noexcept {
    static_cast<RtpdLink*>(arg)->fail_overdue();
}

void RtpdLink::fail_overdue() {
    const int64_t now = monotonic_ms();
    std::vector<Done> overdue;
    for (auto it = pending_.begin(); it != pending_.end();) {
        auto& v = it->second;
        for (auto w = v.begin(); w != v.end();) {
            if (w->deadline_ms <= now) {
                overdue.push_back(std::move(w->done));
                w = v.erase(w);
            } else {
                ++w;
            }
        }
        it = v.empty() ? pending_.erase(it) : std::next(it);
    }
    MediaResult fail;
    fail.error = "rtpd did not answer";
    for (auto& done : overdue) done(fail);
}

void RtpdLink::complete(uint32_t id, const MediaResult& res) {
    auto it = pending_.find(id);
    if (it == pending_.end() || it->second.empty()) return;
    Done done = std::move(it->second.front().done);
    it->second.erase(it->second.begin());
    if (it->second.empty()) pending_.erase(it);
    done(res);
}

void RtpdLink::stop(uint32_t id) {
    if (channel_ == nullptr) return;
    if (const int rc = send_or_queue(proto::MsgType::StopFwd, id, {}); rc != 0)
        log_warning("STOP_FWD %u not sent: %s", id, std::strerror(-rc));
}

void RtpdLink::on_readable(evutil_socket_t, short, void* arg) noexcept {
    static_cast<RtpdLink*>(arg)->drain();
}

void RtpdLink::drain() {
    for (int i = 0; i < 256 && channel_ != nullptr; ++i) {
        proto::Message msg;
        UniqueFd fd;
        switch (channel_->receive(msg, fd)) {
            case proto::ReceiveStatus::Nothing:
                return;
            case proto::ReceiveStatus::Closed:
            case proto::ReceiveStatus::IoError:
                log_warning("the channel to rtpd closed");
                drop_channel("rtpd went away");
                return;
            case proto::ReceiveStatus::Invalid:
                log_warning("invalid message from rtpd (%s)",
                            proto::decode_error_name(channel_->last_decode_error()));
                (void)channel_->send_error_for_last();
                continue;
            case proto::ReceiveStatus::Message:
                break;
        }
        const uint32_t id = msg.header.peer_id;
        switch (msg.type()) {
            case proto::MsgType::FwdStarted:
            case proto::MsgType::FwdFailed: {
                MediaResult res;
                if (msg.type() == proto::MsgType::FwdStarted) {
                    const auto p = proto::payload_as<proto::FwdStartedMsg>(msg);
                    res.ok = true;
                    res.inside_local = from_wire_or_none(p.inside_local);
                    res.outside_local = from_wire_or_none(p.outside_local);
                } else {
                    const auto p = proto::payload_as<proto::FwdFailedMsg>(msg);
                    res.error = std::string(proto::fixed_text(p.text));
                }
                complete(id, res);
                break;
            }
            case proto::MsgType::FwdTimeout:
                if (on_timeout_)
                    on_timeout_(
                        id, timeout_reason(proto::payload_as<proto::FwdTimeoutMsg>(msg).reason));
                break;
            case proto::MsgType::FwdEntry:
                if (on_entry_) on_entry_(id, entry_of(id, proto::payload_as<proto::StartFwd>(msg)));
                break;
            case proto::MsgType::ListFwdEnd:
                if (on_list_end_) on_list_end_(proto::payload_as<proto::ListFwdEndMsg>(msg).count);
                break;
            case proto::MsgType::FwdStopped:
            case proto::MsgType::Pong:
                break;
            case proto::MsgType::Ping:
                if (channel_->queue(proto::MsgType::Pong, 0, proto::payload_as<proto::PingMsg>(msg),
                                    msg.header.seq) == 0)
                    pass_end_.arm();
                break;
            case proto::MsgType::Error: {
                log_warning("rtpd refused a message (forward %u)", id);
                MediaResult res;
                res.error = "refused by rtpd";
                complete(id, res);
                break;
            }
            default:
                break;
        }
    }
}

}  // namespace sipmasq
