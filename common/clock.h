// Monotonic milliseconds, for timeouts and rate limits.
#pragma once

#include <time.h>

#include <cstdint>

namespace sipmasq {

[[nodiscard]] inline int64_t monotonic_ms() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace sipmasq
