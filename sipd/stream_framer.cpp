#include "stream_framer.h"

#include "sip_types.h"

namespace sipmasq {

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kHeaderEnd = "\r\n\r\n";

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

long declared_content_length(std::string_view headers) noexcept {
    long found = -1;
    bool in_content_length = false;
    size_t pos = headers.find(kCrlf);  // the start line is skipped
    while (pos != std::string_view::npos) {
        const size_t start = pos + kCrlf.size();
        const size_t end = headers.find(kCrlf, start);
        const std::string_view line = headers.substr(
            start, end == std::string_view::npos ? std::string_view::npos : end - start);
        pos = end;
        if (line.empty()) continue;
        // A folded continuation of Content-Length is refused, not joined.
        if (line.front() == ' ' || line.front() == '\t') {
            if (in_content_length) return -1;
            continue;
        }
        in_content_length = false;
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = trim(line.substr(0, colon));
        if (!iequals(name, "content-length") && !iequals(name, "l")) continue;
        if (found >= 0) return -1;  // twice: which one frames the body is ambiguous
        in_content_length = true;
        const std::string_view value = trim(line.substr(colon + 1));
        if (value.empty() || value.size() > 9) return -1;
        long n = 0;
        for (char c : value) {
            if (c < '0' || c > '9') return -1;
            n = n * 10 + (c - '0');
        }
        found = n;
    }
    return found;
}

Frame StreamFramer::next() {
    Frame f;
    if (failed_) {
        f.kind = FrameKind::Error;
        f.error = "stream already failed";
        return f;
    }
    // Keep-alives between messages (RFC 5626 §4.4.1): CRLFCRLF is a ping,
    // a lone CRLF (the pong of one of ours) is skipped.
    while (buf_.size() >= 2 && buf_.compare(0, 2, kCrlf) == 0) {
        if (buf_.size() >= 4 && buf_.compare(0, 4, kHeaderEnd) == 0) {
            buf_.erase(0, 4);
            f.kind = FrameKind::Ping;
            return f;
        }
        if (buf_.size() < 4 && (buf_.size() == 2 || buf_[2] == '\r')) return f;  // wait
        buf_.erase(0, 2);
    }
    const size_t header_end = buf_.find(kHeaderEnd);
    if (header_end == std::string::npos) {
        if (buf_.size() > max_) {
            failed_ = true;
            f.kind = FrameKind::Error;
            f.error = "headers longer than the message size limit";
        }
        return f;
    }
    const long body = declared_content_length(std::string_view(buf_).substr(0, header_end));
    if (body < 0) {
        failed_ = true;
        f.kind = FrameKind::Error;
        f.error = "no valid Content-Length";
        return f;
    }
    const size_t total = header_end + kHeaderEnd.size() + static_cast<size_t>(body);
    if (total > max_) {
        failed_ = true;
        f.kind = FrameKind::Error;
        f.error = "message larger than the size limit";
        return f;
    }
    if (buf_.size() < total) return f;
    f.kind = FrameKind::Message;
    f.message = buf_.substr(0, total);
    buf_.erase(0, total);
    return f;
}

}  // namespace sipmasq
