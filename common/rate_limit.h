// Lets an anomaly be logged at most a few times per interval, and says how
// many were suppressed, so a flood cannot fill the disk through the log.
#pragma once

#include <cstdint>

namespace sipmasq {

class RateLimit {
  public:
    constexpr RateLimit(uint32_t burst, int64_t interval_ms) noexcept
        : burst_(burst), interval_ms_(interval_ms) {}

    // True when this event may be logged; `suppressed` then holds how many
    // were dropped since the last one that was.
    [[nodiscard]] bool allow(int64_t now_ms, uint64_t& suppressed) noexcept {
        if (now_ms - window_start_ms_ >= interval_ms_) {
            window_start_ms_ = now_ms;
            used_ = 0;
        }
        if (used_ < burst_) {
            ++used_;
            suppressed = suppressed_;
            suppressed_ = 0;
            return true;
        }
        ++suppressed_;
        return false;
    }

  private:
    uint32_t burst_;
    int64_t interval_ms_;
    int64_t window_start_ms_ = INT64_MIN / 2;
    uint32_t used_ = 0;
    uint64_t suppressed_ = 0;
};

}  // namespace sipmasq
