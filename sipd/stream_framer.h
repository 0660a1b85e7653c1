// RFC 3261 §18.3 framing of SIP over a stream: a message ends where its
// Content-Length says, so every message on TCP must carry one. Between
// messages a double CRLF is a keep-alive ping and a single CRLF its pong
// (RFC 5626 §4.4.1). Pure code on bytes, so it is unit-tested and fuzzed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sipmasq {

enum class FrameKind : unsigned char {
    Message,   // `message` holds one whole SIP message
    Ping,      // a CRLFCRLF keep-alive: answer with a single CRLF
    NeedMore,  // nothing whole yet
    Error,     // the stream cannot be framed: close the connection (`error` says why)
};

struct Frame {
    FrameKind kind = FrameKind::NeedMore;
    std::string message;
    const char* error = "";
};

// The body length a header block declares: the one Content-Length (or
// compact "l") header, found by a strict bounded scan of the header lines
// (digits only, at most 9 of them, no folding, not twice). -1 when it is
// missing or not exactly that. `headers` ends before the blank line.
[[nodiscard]] long declared_content_length(std::string_view headers) noexcept;

class StreamFramer {
  public:
    // `max_message`: the largest message (headers and body) accepted.
    explicit StreamFramer(size_t max_message) noexcept : max_(max_message) {}

    // Bytes read from the connection. The buffer never holds more than
    // one message's worth beyond what next() has taken.
    void append(std::string_view bytes) { buf_.append(bytes); }
    // The next frame; call until it says NeedMore or Error.
    [[nodiscard]] Frame next();
    [[nodiscard]] size_t buffered() const noexcept { return buf_.size(); }

  private:
    std::string buf_;
    size_t max_;
    bool failed_ = false;
};

}  // namespace sipmasq
