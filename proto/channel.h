// One end of an IPC channel: the socket, who is at each end, the state of
// the conversation, a fixed receive buffer (no allocation per message) and
// the sequence counter. Made for a libevent read callback on a non-blocking
// socket: receive() until it says Nothing. Messages may also be gathered
// (queue()) and sent together (flush(), one sendmmsg), each still a record
// of its own on the SOCK_SEQPACKET socket.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "codec.h"
#include "message.h"
#include "unique_fd.h"

namespace sipmasq::proto {

enum class ReceiveStatus : uint8_t {
    Message,  // `out` holds a valid message (and `fd_out` its descriptor)
    Nothing,  // nothing waiting (EAGAIN)
    Closed,   // the peer closed the channel
    Invalid,  // a bad message: last_decode_error(); log it and send_error()
    IoError,  // the socket failed: last_errno()
};
[[nodiscard]] const char* receive_status_name(ReceiveStatus status) noexcept;

class Channel {
  public:
    // A parent channel starts in AwaitHello at both ends, sipd<->rtpd in Running.
    Channel(UniqueFd sock, ChannelKind kind, Process self) noexcept;

    // Tries once more to send what queue() kept (the socket does not block).
    ~Channel();
    Channel(Channel&&) noexcept = default;
    Channel& operator=(Channel&&) noexcept = default;
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;

    // False when `self` is not an end of `kind` or the socket is missing;
    // then send() and receive() refuse.
    [[nodiscard]] bool valid() const noexcept { return valid_ && sock_.valid(); }
    [[nodiscard]] int fd() const noexcept { return sock_.get(); }
    [[nodiscard]] ChannelKind kind() const noexcept { return kind_; }
    [[nodiscard]] Process self() const noexcept { return self_; }
    [[nodiscard]] Process peer() const noexcept { return peer_; }
    [[nodiscard]] ChannelState state() const noexcept { return state_; }
    [[nodiscard]] size_t max_frame() const noexcept { return max_frame_size(kind_); }

    // Sends one message. seq 0 takes the next number of this end (never 0);
    // a reply passes the request's seq. The message is checked against the
    // table as the peer will check it, so an invalid one is never sent
    // (-EINVAL). Sending HELLO / READY moves this end's state. What queue()
    // kept goes first, so messages leave in the order they were given; when
    // it cannot all go, neither does this one. Returns 0 or -errno (-EAGAIN:
    // the peer's queue is full).
    [[nodiscard]] int send(MsgType type, uint32_t peer_id, std::span<const uint8_t> payload,
                           int fd = -1, uint32_t seq = 0) noexcept;
    template <WirePayload T>
    [[nodiscard]] int send(MsgType type, uint32_t peer_id, const T& payload, int fd = -1,
                           uint32_t seq = 0) noexcept {
        return send(type, peer_id, as_bytes(payload), fd, seq);
    }
    // A message with an empty payload.
    [[nodiscard]] int send_empty(MsgType type, uint32_t peer_id = 0, int fd = -1,
                                 uint32_t seq = 0) noexcept {
        return send(type, peer_id, std::span<const uint8_t>{}, fd, seq);
    }
    // The answer to a bad message: ERROR {code, about_type}, with the seq
    // (and peer_id on sipd<->rtpd) of the message refused.
    [[nodiscard]] int send_error(DecodeError error, uint16_t about_type, uint32_t seq = 0,
                                 uint32_t peer_id = 0) noexcept;
    // send_error() for what the last receive() refused.
    [[nodiscard]] int send_error_for_last() noexcept;
    // LOG {level, text}: text cut to kLogTextMax, NULs replaced, an empty
    // line sent as "-" (a LOG carries at least one byte).
    [[nodiscard]] int send_log(uint8_t level, std::string_view text) noexcept;
    // Gathering: queue() checks and numbers a message exactly as send()
    // does (no descriptor rides in a batch) and keeps it in a fixed buffer
    // of kBatchFrames frames; flush() sends what is kept, in order, with one
    // sendmmsg. A full batch is flushed before a message is added. Returns 0
    // (kept), -EAGAIN (the batch is full and the peer's queue too: not
    // kept) or another -errno.
    [[nodiscard]] int queue(MsgType type, uint32_t peer_id, std::span<const uint8_t> payload,
                            uint32_t seq = 0) noexcept;
    template <WirePayload T>
    [[nodiscard]] int queue(MsgType type, uint32_t peer_id, const T& payload,
                            uint32_t seq = 0) noexcept {
        return queue(type, peer_id, as_bytes(payload), seq);
    }
    // 0 when nothing is kept any more; -EAGAIN when the peer's queue filled
    // (the rest stays kept, in order, for the next flush); another -errno
    // when the socket failed (the rest is dropped).
    [[nodiscard]] int flush() noexcept;
    [[nodiscard]] size_t queued() const noexcept { return batch_frames_; }
    static constexpr size_t kBatchFrames = 64;
    static constexpr size_t kBatchBytes = 16384;

    // The seq of the last message sent (or queued).
    [[nodiscard]] uint32_t last_sent_seq() const noexcept { return last_sent_seq_; }

    // Receives one message. `out.payload` points into this channel's buffer
    // and is valid until the next receive(). A valid HELLO / READY moves the
    // state. Never throws, never crashes, whatever the peer sends.
    [[nodiscard]] ReceiveStatus receive(Message& out, UniqueFd& fd_out) noexcept;
    // Why the last receive() said Invalid, and the header it had read (type
    // 0 when none).
    [[nodiscard]] DecodeError last_decode_error() const noexcept { return last_error_; }
    [[nodiscard]] const Header& last_bad_header() const noexcept { return last_bad_header_; }
    // errno of the last IoError (or of a framing error behind Invalid).
    [[nodiscard]] int last_errno() const noexcept { return last_errno_; }

    // For a supervisor that re-creates a channel's conversation (and tests).
    void set_state(ChannelState state) noexcept { state_ = state; }

  private:
    void advance_on(MsgType type) noexcept;
    // Numbers, encodes and checks a message into `buf`; its size, or -errno.
    [[nodiscard]] int encode_checked(std::span<uint8_t> buf, MsgType type, uint32_t peer_id,
                                     std::span<const uint8_t> payload, int fd,
                                     uint32_t& seq) noexcept;

    UniqueFd sock_;
    ChannelKind kind_;
    Process self_;
    Process peer_ = Process::Parent;
    ChannelState state_;
    bool valid_ = false;
    uint32_t next_seq_ = 1;
    uint32_t last_sent_seq_ = 0;
    DecodeError last_error_ = DecodeError::Ok;
    Header last_bad_header_{};
    int last_errno_ = 0;
    std::array<uint8_t, kMaxFrame> send_buf_{};
    std::array<uint8_t, kMaxFrame> recv_buf_{};
    // The batch: frames back to back in batch_buf_, where each ends in
    // batch_end_ (offsets, so that a moved Channel keeps it valid).
    std::array<uint8_t, kBatchBytes> batch_buf_{};
    std::array<uint16_t, kBatchFrames> batch_end_{};
    size_t batch_frames_ = 0;
};

}  // namespace sipmasq::proto
