#include "channel.h"

#include <cerrno>
#include <cstring>

#include "framing.h"

namespace sipmasq::proto {

const char* receive_status_name(ReceiveStatus status) noexcept {
    switch (status) {
        case ReceiveStatus::Message:
            return "message";
        case ReceiveStatus::Nothing:
            return "nothing";
        case ReceiveStatus::Closed:
            return "closed";
        case ReceiveStatus::Invalid:
            return "invalid";
        case ReceiveStatus::IoError:
            return "io error";
    }
    return "unknown";
}

Channel::Channel(UniqueFd sock, ChannelKind kind, Process self) noexcept
    : sock_(std::move(sock)),
      kind_(kind),
      self_(self),
      state_(kind == ChannelKind::SipdRtpd ? ChannelState::Running : ChannelState::AwaitHello) {
    if (const auto p = peer_of(kind, self)) {
        peer_ = *p;
        valid_ = true;
    }
}

void Channel::advance_on(MsgType type) noexcept {
    if (type == MsgType::Hello && state_ == ChannelState::AwaitHello)
        state_ = ChannelState::AwaitReady;
    else if (type == MsgType::Ready && state_ == ChannelState::AwaitReady)
        state_ = ChannelState::Running;
}

Channel::~Channel() {
    if (batch_frames_ > 0 && sock_.valid()) (void)flush();
}

int Channel::encode_checked(std::span<uint8_t> buf, MsgType type, uint32_t peer_id,
                            std::span<const uint8_t> payload, int fd, uint32_t& seq) noexcept {
    if (!valid()) return -EBADF;
    if (seq == 0) {
        seq = next_seq_++;
        if (next_seq_ == 0) next_seq_ = 1;
    }
    const size_t n = encode(buf, type, peer_id, seq, payload, fd >= 0);
    if (n == 0) return -EMSGSIZE;
    // The peer's view of the state is ours before the message moves it.
    const auto check =
        decode(std::span<const uint8_t>(buf.data(), n), kind_, self_, state_, fd >= 0);
    if (!check.ok()) return -EINVAL;
    return static_cast<int>(n);
}

int Channel::send(MsgType type, uint32_t peer_id, std::span<const uint8_t> payload, int fd,
                  uint32_t seq) noexcept {
    if (const int rc = flush(); rc != 0) return rc;
    const std::span<uint8_t> buf(send_buf_.data(), max_frame());
    const int n = encode_checked(buf, type, peer_id, payload, fd, seq);
    if (n < 0) return n;
    const ssize_t sent =
        send_frame(sock_.get(), std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)), fd);
    if (sent < 0) return static_cast<int>(sent);
    last_sent_seq_ = seq;
    advance_on(type);
    return 0;
}

int Channel::queue(MsgType type, uint32_t peer_id, std::span<const uint8_t> payload,
                   uint32_t seq) noexcept {
    const std::span<uint8_t> buf(send_buf_.data(), max_frame());
    const int n = encode_checked(buf, type, peer_id, payload, -1, seq);
    if (n < 0) return n;
    const size_t used = batch_frames_ > 0 ? batch_end_[batch_frames_ - 1] : 0;
    if (batch_frames_ == kBatchFrames || used + static_cast<size_t>(n) > kBatchBytes) {
        if (const int rc = flush(); rc != 0) return rc;
    }
    const size_t at = batch_frames_ > 0 ? batch_end_[batch_frames_ - 1] : 0;
    std::memcpy(batch_buf_.data() + at, buf.data(), static_cast<size_t>(n));
    batch_end_[batch_frames_++] = static_cast<uint16_t>(at + static_cast<size_t>(n));
    last_sent_seq_ = seq;
    advance_on(type);
    return 0;
}

int Channel::flush() noexcept {
    if (batch_frames_ == 0) return 0;
    if (!valid()) return -EBADF;
    int error = 0;
    const size_t sent =
        send_packed_frames(sock_.get(), batch_buf_.data(),
                           std::span<const uint16_t>(batch_end_.data(), batch_frames_), error);
    if (error != 0 && error != -EAGAIN && error != -ENOBUFS) {
        batch_frames_ = 0;
        return error;
    }
    if (sent > 0 && sent < batch_frames_) {
        // What the peer could not take yet moves to the front, in order.
        const size_t gone = batch_end_[sent - 1];
        std::memmove(batch_buf_.data(), batch_buf_.data() + gone,
                     batch_end_[batch_frames_ - 1] - gone);
        for (size_t i = sent; i < batch_frames_; ++i)
            batch_end_[i - sent] = static_cast<uint16_t>(batch_end_[i] - gone);
    }
    batch_frames_ -= sent;
    return batch_frames_ == 0 ? 0 : -EAGAIN;
}

int Channel::send_error(DecodeError error, uint16_t about_type, uint32_t seq,
                        uint32_t peer_id) noexcept {
    ErrorMsg e{};
    e.code = static_cast<uint32_t>(error);
    e.about_type = about_type;
    if (kind_ != ChannelKind::SipdRtpd) peer_id = 0;
    return send(MsgType::Error, peer_id, e, -1, seq);
}

int Channel::send_log(uint8_t level, std::string_view text) noexcept {
    std::array<uint8_t, sizeof(LogHead) + kLogTextMax> buf;
    if (text.empty()) text = "-";
    if (text.size() > kLogTextMax) text = text.substr(0, kLogTextMax);
    buf[0] = level;
    for (size_t i = 0; i < text.size(); ++i)
        buf[1 + i] = text[i] == '\0' ? uint8_t{'?'} : static_cast<uint8_t>(text[i]);
    return send(MsgType::Log, 0, std::span<const uint8_t>(buf.data(), 1 + text.size()));
}

int Channel::send_error_for_last() noexcept {
    return send_error(last_error_, last_bad_header_.type, last_bad_header_.seq,
                      last_bad_header_.peer_id);
}

ReceiveStatus Channel::receive(Message& out, UniqueFd& fd_out) noexcept {
    out = Message{};
    fd_out.reset();
    last_error_ = DecodeError::Ok;
    last_bad_header_ = Header{};
    last_errno_ = 0;
    if (!valid()) {
        last_errno_ = EBADF;
        return ReceiveStatus::IoError;
    }

    const std::span<uint8_t> buf(recv_buf_.data(), max_frame());
    UniqueFd fd;
    const ssize_t n = recv_frame(sock_.get(), buf, fd);
    if (n == 0) return ReceiveStatus::Closed;
    if (n < 0) {
        const int err = static_cast<int>(-n);
        last_errno_ = err;
        switch (err) {
            case EAGAIN:
                return ReceiveStatus::Nothing;
            case ECONNRESET:
                return ReceiveStatus::Closed;
            case EMSGSIZE:
                last_error_ = DecodeError::TooLong;
                return ReceiveStatus::Invalid;
            case EPROTO:
                last_error_ = DecodeError::UnexpectedFd;
                return ReceiveStatus::Invalid;
            default:
                return ReceiveStatus::IoError;
        }
    }

    const auto r = decode(std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)), kind_,
                          peer_, state_, fd.valid());
    if (!r.ok()) {
        // `fd` closes here: a bad message's descriptor is never handed on.
        last_error_ = r.error;
        last_bad_header_ = r.message.header;
        return ReceiveStatus::Invalid;
    }
    out = r.message;
    fd_out = std::move(fd);
    advance_on(out.type());
    return ReceiveStatus::Message;
}

}  // namespace sipmasq::proto
