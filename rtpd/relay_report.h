// The answers of rtpd to sipmasqctl: "streams" (one row per forward) and
// "stats" (pools, counters, timeouts and drops), as a table or as one JSON
// value. Pure functions of what the relay reports, so they are testable.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "relay.h"

namespace sipmasq {

using TagLookup = std::function<const std::string&(uint32_t id)>;

[[nodiscard]] std::string format_streams(const std::vector<ForwardInfo>& forwards,
                                         const TagLookup& tag_of, int64_t now_ms, bool json);
[[nodiscard]] std::string format_stats(const RelayStats& stats, bool json);

}  // namespace sipmasq
