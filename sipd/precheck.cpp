#include "precheck.h"

namespace sipmasq {

namespace {

constexpr std::string_view kSipVersion = "SIP/2.0";

bool is_token_char(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '-':
        case '.':
        case '!':
        case '%':
        case '*':
        case '_':
        case '+':
        case '`':
        case '\'':
        case '~':
            return true;
        default:
            return false;
    }
}

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

// "SIP/2.0 NNN reason" (reason may be empty).
bool is_status_line(std::string_view line) noexcept {
    if (line.size() < kSipVersion.size() + 4) return false;
    if (line.substr(0, kSipVersion.size()) != kSipVersion) return false;
    std::string_view rest = line.substr(kSipVersion.size());
    if (rest[0] != ' ' || !is_digit(rest[1]) || !is_digit(rest[2]) || !is_digit(rest[3]))
        return false;
    if (rest[1] < '1' || rest[1] > '6') return false;
    return rest.size() == 4 || rest[4] == ' ';
}

// "METHOD SP Request-URI SP SIP/2.0", single spaces as RFC 3261 §7.1 says.
bool is_request_line(std::string_view line) noexcept {
    size_t i = 0;
    while (i < line.size() && is_token_char(line[i])) ++i;
    if (i == 0 || i >= line.size() || line[i] != ' ') return false;
    const size_t uri_start = i + 1;
    const size_t uri_end = line.find(' ', uri_start);
    if (uri_end == std::string_view::npos || uri_end == uri_start) return false;
    const std::string_view uri = line.substr(uri_start, uri_end - uri_start);
    if (uri.find(':') == std::string_view::npos) return false;  // needs a scheme
    for (char c : uri)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
    return line.substr(uri_end + 1) == kSipVersion;
}

}  // namespace

PrecheckResult precheck_datagram(std::string_view data, const PrecheckLimits& limits) noexcept {
    PrecheckResult result;
    bool blank = true;
    for (char c : data) {
        if (c != '\r' && c != '\n' && c != ' ') {
            blank = false;
            break;
        }
    }
    if (blank) {
        result.reason = PrecheckReason::KeepAlive;
        return result;
    }
    if (data.size() < limits.min_size) {
        result.reason = PrecheckReason::TooShort;
        return result;
    }
    if (data.size() > limits.max_size) {
        result.reason = PrecheckReason::TooLong;
        return result;
    }
    if (data.find('\0') != std::string_view::npos) {
        result.reason = PrecheckReason::ContainsNul;
        return result;
    }

    // Line lengths across the header part; the body (SDP) is capped too.
    size_t line_start = 0;
    bool header_end = false;
    std::string_view first_line;
    for (size_t i = 0; i < data.size(); ++i) {
        if (data[i] != '\n') continue;
        size_t end = i;
        if (end > line_start && data[end - 1] == '\r') --end;
        const std::string_view line = data.substr(line_start, end - line_start);
        if (line.size() > limits.max_line) {
            result.reason = PrecheckReason::LineTooLong;
            return result;
        }
        if (line_start == 0) first_line = line;
        if (line.empty() && line_start != 0) header_end = true;
        line_start = i + 1;
    }
    if (data.size() - line_start > limits.max_line) {
        result.reason = PrecheckReason::LineTooLong;
        return result;
    }
    if (line_start == 0) {  // not even one complete line
        result.reason = PrecheckReason::BadStartLine;
        return result;
    }
    if (is_status_line(first_line)) {
        result.kind = StartLineKind::Response;
    } else if (is_request_line(first_line)) {
        result.kind = StartLineKind::Request;
    } else {
        result.reason = PrecheckReason::BadStartLine;
        return result;
    }
    if (!header_end) {
        result.reason = PrecheckReason::NoHeaderEnd;
        return result;
    }
    return result;
}

const char* precheck_reason_name(PrecheckReason reason) noexcept {
    switch (reason) {
        case PrecheckReason::Ok:
            return "ok";
        case PrecheckReason::KeepAlive:
            return "keep-alive";
        case PrecheckReason::TooShort:
            return "too short";
        case PrecheckReason::TooLong:
            return "too long";
        case PrecheckReason::ContainsNul:
            return "contains NUL";
        case PrecheckReason::LineTooLong:
            return "line too long";
        case PrecheckReason::NoHeaderEnd:
            return "no end of headers";
        case PrecheckReason::BadStartLine:
            return "bad start line";
    }
    return "?";
}

}  // namespace sipmasq
