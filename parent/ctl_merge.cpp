#include "ctl_merge.h"

#include <charconv>
#include <string_view>

namespace sipmasq {

namespace {

std::string_view without_newline(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    return text;
}

std::string worker_name(const std::vector<WorkerReply>& replies, uint32_t worker) {
    return replies.size() == 1 ? "rtpd" : "rtpd" + std::to_string(worker);
}

// The stream objects of {"streams":[...],"count":N}, or nullopt-like false.
bool json_streams(std::string_view text, std::string_view& objects, uint64_t& count) {
    constexpr std::string_view kHead = "{\"streams\":[";
    constexpr std::string_view kTail = "],\"count\":";
    text = without_newline(text);
    if (text.substr(0, kHead.size()) != kHead || text.empty() || text.back() != '}') return false;
    const size_t tail = text.rfind(kTail);
    if (tail == std::string_view::npos || tail < kHead.size()) return false;
    objects = text.substr(kHead.size(), tail - kHead.size());
    const std::string_view number =
        text.substr(tail + kTail.size(), text.size() - 1 - tail - kTail.size());
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), count);
    return ec == std::errc() && end == number.data() + number.size();
}

// The stream lines of a table: without its header and its "N streams" line.
bool table_streams(std::string_view text, std::string_view& header, std::string_view& rows,
                   uint64_t& count) {
    text = without_newline(text);
    const size_t first = text.find('\n');
    if (first == std::string_view::npos) return false;
    header = text.substr(0, first);
    const size_t last = text.rfind('\n');
    const std::string_view trailer = text.substr(last + 1);
    const auto [end, ec] = std::from_chars(trailer.data(), trailer.data() + trailer.size(), count);
    if (ec != std::errc() || std::string_view(end, trailer.data() + trailer.size() - end) !=
                                 std::string_view(" streams"))
        return false;
    rows = last > first ? text.substr(first + 1, last - first) : std::string_view();
    return true;
}

}  // namespace

std::string merge_streams(const std::vector<WorkerReply>& replies, bool json) {
    uint64_t total = 0;
    std::string down;
    if (json) {
        std::string objects;
        for (const WorkerReply& r : replies) {
            std::string_view part;
            uint64_t count = 0;
            if (!r.up || !json_streams(r.text, part, count)) {
                down += (down.empty() ? "" : ",") + std::to_string(r.worker);
                continue;
            }
            if (!part.empty()) objects += (objects.empty() ? "" : ",") + std::string(part);
            total += count;
        }
        return "{\"streams\":[" + objects + "],\"count\":" + std::to_string(total) +
               ",\"workers\":" + std::to_string(replies.size()) + ",\"down\":[" + down + "]}\n";
    }
    std::string header, rows;
    for (const WorkerReply& r : replies) {
        std::string_view head, part;
        uint64_t count = 0;
        if (!r.up || !table_streams(r.text, head, part, count)) {
            down += worker_name(replies, r.worker) + " is not running\n";
            continue;
        }
        if (header.empty()) header = std::string(head) + "\n";
        rows += part;
        total += count;
    }
    return header + rows + std::to_string(total) + " streams\n" + down;
}

std::string merge_relay_stats(const std::vector<WorkerReply>& replies, bool json) {
    std::string out = json ? "[" : "";
    for (size_t i = 0; i < replies.size(); ++i) {
        const WorkerReply& r = replies[i];
        if (json) {
            out += i == 0 ? "" : ",";
            out += r.up ? std::string(without_newline(r.text)) : "null";
        } else {
            out += (i == 0 ? "[" : "\n[") + worker_name(replies, r.worker) + "]\n";
            out += r.up ? r.text : "not running\n";
        }
    }
    return json ? out + "]" : out;
}

}  // namespace sipmasq
