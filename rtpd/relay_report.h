// The answers of rtpd to sipmasqctl: "streams" (one row per forward) and
// "stats" (pools, counters, timeouts and drops), as a table or as one JSON
// value. Pure functions of what the relay reports, so they are testable.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "relay.h"
#include "rtp_workers.h"

namespace sipmasq {

using TagLookup = std::function<const std::string&(uint32_t id)>;

// Each row names the worker (the parent merges the workers' tables; see
// parent/ctl_merge.h for the shape it expects).
[[nodiscard]] std::string format_streams(const std::vector<ForwardInfo>& forwards,
                                         const TagLookup& tag_of, int64_t now_ms, uint32_t worker,
                                         bool json);
[[nodiscard]] std::string format_stats(const RelayStats& stats, const RtpWorker& worker, bool json);

}  // namespace sipmasq
