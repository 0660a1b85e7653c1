// One answer to sipmasqctl from the answers of several rtpd workers: the
// streams of every worker in one table (one header, a worker column that
// each rtpd writes itself, one count) or one JSON list, and the relay's
// statistics per worker. Only text the parent's own children wrote.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sipmasq {

struct WorkerReply {
    uint32_t worker = 0;
    bool up = false;   // false: the worker was not running, text is empty
    std::string text;  // its whole CTL_REPLY
};

// rtpd's `streams` table is a header line, one line per stream and a last
// line "N streams"; its JSON is {"streams":[...],"count":N}. A worker that
// is down is named on a line of its own (JSON: in "down").
[[nodiscard]] std::string merge_streams(const std::vector<WorkerReply>& replies, bool json);

// rtpd's `stats`: JSON a list with one object per worker (null for one that
// is down), text a section "[rtpdN]" per worker ("[rtpd]" for a single one).
[[nodiscard]] std::string merge_relay_stats(const std::vector<WorkerReply>& replies, bool json);

}  // namespace sipmasq
