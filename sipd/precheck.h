// Cheap checks on a datagram before libosip2 sees it: bounds, NULs, line
// length and the shape of the start line. Rejects junk without allocating.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sipmasq {

enum class PrecheckReason : uint8_t {
    Ok,
    KeepAlive,  // only CR/LF/SP (RFC 5626 keep-alive): drop silently
    TooShort,
    TooLong,
    ContainsNul,
    LineTooLong,
    NoHeaderEnd,  // no empty line ending the headers
    BadStartLine,
};

enum class StartLineKind : uint8_t { None, Request, Response };

struct PrecheckLimits {
    size_t min_size = 32;     // smaller cannot hold the mandatory headers
    size_t max_size = 16384;  // well above any real UDP SIP message
    size_t max_line = 2048;   // one header line, folded lines counted apart
};

struct PrecheckResult {
    PrecheckReason reason = PrecheckReason::Ok;
    StartLineKind kind = StartLineKind::None;
    [[nodiscard]] bool ok() const noexcept { return reason == PrecheckReason::Ok; }
};

[[nodiscard]] PrecheckResult precheck_datagram(std::string_view data,
                                               const PrecheckLimits& limits = {}) noexcept;

// "too long", "bad start line", ... for log lines.
[[nodiscard]] const char* precheck_reason_name(PrecheckReason reason) noexcept;

}  // namespace sipmasq
