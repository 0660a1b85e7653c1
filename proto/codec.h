// Encoding and decoding of IPC frames: pure functions over byte spans, no
// I/O, so they can be fuzzed. decode() checks a frame against the table of
// message.h (size, route, state, fd) and the fields it can judge alone.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

#include "message.h"

namespace sipmasq::proto {

enum class DecodeError : uint8_t {
    Ok = 0,
    ShortHeader,     // fewer than kHeaderSize bytes
    BadVersion,      // header.version != kProtoVersion
    TooLong,         // frame or header.length beyond the channel's limit
    LengthMismatch,  // header.length != bytes after the header
    UnknownType,
    WrongChannel,    // this type never travels on this channel
    WrongSender,     // it does, but not from this end
    WrongState,      // not valid in the channel's current state
    BadPayloadSize,  // not the exact size (or outside min..max)
    MissingFd,       // the type needs a descriptor (or the flag says one) and none came
    UnexpectedFd,    // a descriptor came (or the flag says one) that the type does not take
    BadField,        // unknown flag bits, peer_id, or a payload field out of range
};
[[nodiscard]] const char* decode_error_name(DecodeError error) noexcept;

// A decoded frame. `payload` points into the caller's buffer.
struct Message {
    Header header{};
    std::span<const uint8_t> payload;

    [[nodiscard]] MsgType type() const noexcept { return static_cast<MsgType>(header.type); }
};

struct DecodeResult {
    DecodeError error = DecodeError::ShortHeader;
    // On success the message; on failure after the header was read, its
    // header (so the answer can name header.type and header.seq).
    Message message;

    [[nodiscard]] bool ok() const noexcept { return error == DecodeError::Ok; }
};

// Writes header + payload into `out`; returns the frame size, or 0 if it
// does not fit or the payload is longer than any frame.
[[nodiscard]] size_t encode(std::span<uint8_t> out, MsgType type, uint32_t peer_id, uint32_t seq,
                            std::span<const uint8_t> payload, bool with_fd) noexcept;

// A payload struct of message.h: a plain wire image (not a span or a view).
template <class T>
concept WirePayload = std::is_class_v<T> && std::is_trivially_copyable_v<T> &&
    std::is_standard_layout_v<T> && std::has_unique_object_representations_v<T> && !requires {
    typename T::element_type;
};

template <WirePayload T>
[[nodiscard]] std::span<const uint8_t> as_bytes(const T& payload) noexcept {
    return {reinterpret_cast<const uint8_t*>(&payload), sizeof(T)};
}

template <WirePayload T>
[[nodiscard]] size_t encode(std::span<uint8_t> out, MsgType type, uint32_t peer_id, uint32_t seq,
                            const T& payload, bool with_fd) noexcept {
    return encode(out, type, peer_id, seq, as_bytes(payload), with_fd);
}

// Checks `frame` as sent by `sender` on a channel of `kind` whose receiving
// end is in `state`; `has_fd`: a descriptor arrived with it.
[[nodiscard]] DecodeResult decode(std::span<const uint8_t> frame, ChannelKind kind, Process sender,
                                  ChannelState state, bool has_fd) noexcept;

// The payload as struct T: memcpy of min(sizeof T, payload) bytes into a
// zeroed T (for LOG / CTL_REPLY this reads the head; see payload_text).
template <class T>
[[nodiscard]] T payload_as(const Message& msg) noexcept {
    static_assert(std::is_trivially_copyable_v<T>, "payloads are copied with memcpy");
    T value{};
    const size_t n = msg.payload.size() < sizeof(T) ? msg.payload.size() : sizeof(T);
    if (n != 0) std::memcpy(&value, msg.payload.data(), n);
    return value;
}

// The text after a head of `head_size` bytes (LOG: sizeof(LogHead),
// CTL_REPLY: sizeof(CtlReplyHead)); empty if there is none.
[[nodiscard]] std::string_view payload_text(const Message& msg, size_t head_size) noexcept;

// A NUL-padded fixed char field (StartFwd::tag, FwdFailedMsg::text) as text.
template <size_t N>
[[nodiscard]] std::string_view fixed_text(const char (&field)[N]) noexcept {
    return {field, strnlen(field, N)};
}
// Copies `text` into a fixed field, truncated, NUL padded, last byte NUL.
template <size_t N>
void set_fixed_text(char (&field)[N], std::string_view text) noexcept {
    std::memset(field, 0, N);
    const size_t n = text.size() < N - 1 ? text.size() : N - 1;
    if (n != 0) std::memcpy(field, text.data(), n);
}

// "HELLO", "START_FWD", ...; "UNKNOWN" for a number with no type.
[[nodiscard]] const char* msg_type_name(MsgType type) noexcept;
[[nodiscard]] const char* process_name(Process process) noexcept;
[[nodiscard]] const char* channel_kind_name(ChannelKind kind) noexcept;
[[nodiscard]] const char* channel_state_name(ChannelState state) noexcept;

}  // namespace sipmasq::proto
