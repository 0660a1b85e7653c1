#include "relay_report.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>

#include "json_escape.h"

namespace sipmasq {

namespace {

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    const int n = std::vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    if (n < 0) return {};
    return std::string(buf, std::min(static_cast<size_t>(n), sizeof buf - 1));
}

uint64_t drops_of(const DirectionStats& s) {
    uint64_t n = 0;
    for (uint64_t d : s.drops) n += d;
    return n;
}

int64_t idle_seconds(const ForwardInfo& f, int64_t now_ms) {
    int64_t last = f.created_ms;
    for (const auto& s : f.stats) last = std::max(last, s.last_ms);
    return std::max<int64_t>(0, (now_ms - last) / 1000);
}

std::string direction_json(const DirectionStats& s) {
    std::string out =
        fmt("{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"drops\":{", s.packets, s.bytes);
    for (size_t r = 0; r < kDropReasons; ++r)
        out += fmt("%s\"%s\":%" PRIu64, r == 0 ? "" : ",",
                   drop_reason_name(static_cast<DropReason>(r)), s.drops[r]);
    out += "}}";
    return out;
}

std::string q(const std::string& s) {
    return "\"" + json_escape(s) + "\"";
}

}  // namespace

std::string format_streams(const std::vector<ForwardInfo>& forwards, const TagLookup& tag_of,
                           int64_t now_ms, uint32_t worker, bool json) {
    std::vector<const ForwardInfo*> sorted;
    sorted.reserve(forwards.size());
    for (const auto& f : forwards) sorted.push_back(&f);
    std::sort(sorted.begin(), sorted.end(),
              [](const ForwardInfo* a, const ForwardInfo* b) { return a->id < b->id; });
    std::string out;
    if (json) {
        out = "{\"streams\":[";
        bool first = true;
        for (const ForwardInfo* f : sorted) {
            out += first ? "" : ",";
            first = false;
            out += fmt("{\"worker\":%u,\"id\":%u,\"call\":", worker, f->id) + q(tag_of(f->id)) +
                   ",\"inside_local\":" + q(f->inside_local.to_string()) +
                   ",\"outside_local\":" + q(f->outside_local.to_string()) +
                   ",\"inside_peer\":" + q(f->inside_peer.to_string()) +
                   ",\"outside_peer\":" + q(f->outside_peer.to_string()) +
                   fmt(",\"on_hold\":%s,\"latch\":%s,\"idle_s\":%" PRId64 ",\"in_to_out\":",
                       f->on_hold ? "true" : "false", f->latch ? "true" : "false",
                       idle_seconds(*f, now_ms)) +
                   direction_json(f->stats[0]) + ",\"out_to_in\":" + direction_json(f->stats[1]) +
                   "}";
        }
        out += fmt("],\"count\":%zu}\n", sorted.size());
        return out;
    }
    out = fmt("%-6s %-8s %-24s %-22s %-22s %-24s %-24s %10s %12s %7s %10s %12s %7s %6s\n", "worker",
              "id", "call", "inside relay", "outside relay", "inside peer", "outside peer",
              "in>out pkt", "bytes", "drops", "out>in pkt", "bytes", "drops", "idle");
    for (const ForwardInfo* f : sorted) {
        std::string tag = tag_of(f->id);
        if (tag.size() > 24) tag = tag.substr(0, 23) + "~";
        const auto& a = f->stats[0];
        const auto& b = f->stats[1];
        out +=
            fmt("%-6u %-8u %-24s %-22s %-22s %-24s %-24s %10" PRIu64 " %12" PRIu64 " %7" PRIu64
                " %10" PRIu64 " %12" PRIu64 " %7" PRIu64 " %5" PRId64 "s%s\n",
                worker, f->id, tag.empty() ? "-" : tag.c_str(), f->inside_local.to_string().c_str(),
                f->outside_local.to_string().c_str(), f->inside_peer.to_string().c_str(),
                f->outside_peer.to_string().c_str(), a.packets, a.bytes, drops_of(a), b.packets,
                b.bytes, drops_of(b), idle_seconds(*f, now_ms), f->on_hold ? " hold" : "");
    }
    out += fmt("%zu streams\n", sorted.size());
    return out;
}

std::string format_stats(const RelayStats& s, const RtpWorker& worker, bool json) {
    std::string out;
    if (json) {
        out = fmt("{\"worker\":%u,\"workers\":%u,\"ports\":\"%s\",", worker.index, worker.count,
                  worker.ports.to_string().c_str());
        out += fmt("\"forwards\":%u,\"started\":%" PRIu64 ",\"stopped\":%" PRIu64
                   ",\"failed\":%" PRIu64 ",\"timeouts\":{",
                   s.forwards, s.started_total, s.stopped_total, s.failed_total);
        for (size_t r = 0; r < kTimeoutReasons; ++r)
            out += fmt("%s", r == 0 ? "" : ",") +
                   q(timeout_reason_name(static_cast<TimeoutReason>(r))) +
                   fmt(":%" PRIu64, s.timeouts[r]);
        out += "},\"in_to_out\":" + direction_json(s.totals[0]) +
               ",\"out_to_in\":" + direction_json(s.totals[1]) + ",\"pools\":[";
        for (size_t i = 0; i < s.pools.size(); ++i) {
            const auto& p = s.pools[i];
            out += (i == 0 ? "{\"address\":" : ",{\"address\":") +
                   q(p.local.with_port(0).to_string()) +
                   fmt(",\"pairs\":%u,\"free\":%u,\"used\":%u,\"quarantined\":%u,"
                       "\"reused_early\":%llu}",
                       p.stats.total_pairs, p.stats.free, p.stats.used, p.stats.quarantined,
                       static_cast<unsigned long long>(p.stats.reused_early_total));
        }
        const SocketParkStats& k = s.sockets;
        out += fmt("],\"sockets\":{\"open\":%u,\"parked\":%u,\"budget\":%u,\"opened\":%" PRIu64
                   ",\"reused\":%" PRIu64 ",\"closed_for_room\":%" PRIu64
                   ",\"late_dropped\":%" PRIu64 "}}\n",
                   k.open, k.parked, k.budget, k.opened_total, k.reused_total,
                   k.closed_for_room_total, k.late_dropped_total);
        return out;
    }
    out = fmt("worker %u of %u, ports %s\n", worker.index, worker.count,
              worker.ports.to_string().c_str());
    out += fmt("forwards %u (started %" PRIu64 ", stopped %" PRIu64 ", failed %" PRIu64 ")\n",
               s.forwards, s.started_total, s.stopped_total, s.failed_total);
    out += "timeouts:";
    for (size_t r = 0; r < kTimeoutReasons; ++r)
        out +=
            fmt(" %s %" PRIu64, timeout_reason_name(static_cast<TimeoutReason>(r)), s.timeouts[r]);
    out += "\n";
    const char* names[] = {"inside->outside", "outside->inside"};
    for (size_t d = 0; d < kDirections; ++d) {
        out += fmt("%s: packets %" PRIu64 " bytes %" PRIu64 " drops", names[d], s.totals[d].packets,
                   s.totals[d].bytes);
        for (size_t r = 0; r < kDropReasons; ++r)
            out += fmt(" %s %" PRIu64, drop_reason_name(static_cast<DropReason>(r)),
                       s.totals[d].drops[r]);
        out += "\n";
    }
    for (const auto& p : s.pools)
        out += fmt("pool %s: pairs %u free %u used %u quarantined %u reused early %" PRIu64 "\n",
                   p.local.with_port(0).to_string().c_str(), p.stats.total_pairs, p.stats.free,
                   p.stats.used, p.stats.quarantined, p.stats.reused_early_total);
    // Sockets stay open across forwards (parked); what the budget let them.
    const SocketParkStats& k = s.sockets;
    out += fmt("sockets: open %u parked %u budget %u; opened %" PRIu64 " reused %" PRIu64
               " closed for room %" PRIu64 " late datagrams dropped %" PRIu64 "\n",
               k.open, k.parked, k.budget, k.opened_total, k.reused_total, k.closed_for_room_total,
               k.late_dropped_total);
    return out;
}

}  // namespace sipmasq
