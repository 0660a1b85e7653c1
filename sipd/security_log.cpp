#include "security_log.h"

#include <algorithm>
#include <cstring>

namespace sipmasq {

namespace {

constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

SecurityLog::SecurityLog(const Limits& limits) : limits_(limits) {
    limits_.max_sources = std::max<size_t>(limits_.max_sources, 1);
    limits_.per_source_interval_ms = std::max<int64_t>(limits_.per_source_interval_ms, 1);
    limits_.global_interval_ms = std::max<int64_t>(limits_.global_interval_ms, 1);
    global_.units = static_cast<int64_t>(limits_.global_burst) * limits_.global_interval_ms;
    global_.last_ms = INT64_MIN;  // set by the first refill
    index_.reserve(limits_.max_sources);
}

size_t SecurityLog::KeyHash::operator()(const Key& k) const noexcept {
    // FNV-1a: the table is bounded, so a crafted collision chain costs at
    // most max_sources comparisons.
    uint64_t h = 1469598103934665603ULL ^ k.family;
    for (uint8_t b : k.bytes) h = (h ^ b) * 1099511628211ULL;
    return static_cast<size_t>(h);
}

SecurityLog::Key SecurityLog::key_of(const SockAddr& a) noexcept {
    Key k;
    const uint8_t* bytes = a.addr_bytes();
    const size_t n = a.addr_size();
    if (bytes == nullptr || n == 0) return k;  // invalid sources share one entry
    if (n == 16 && std::memcmp(bytes, kV4MappedPrefix, sizeof kV4MappedPrefix) == 0) {
        k.family = AF_INET;
        std::memcpy(k.bytes.data(), bytes + 12, 4);
        return k;
    }
    k.family = static_cast<uint8_t>(a.family());
    std::memcpy(k.bytes.data(), bytes, std::min(n, k.bytes.size()));
    return k;
}

void SecurityLog::refill(Bucket& b, uint32_t burst, int64_t interval_ms, int64_t now_ms) noexcept {
    const int64_t full = static_cast<int64_t>(burst) * interval_ms;
    if (b.last_ms == INT64_MIN) {
        b.last_ms = now_ms;
        return;
    }
    if (now_ms <= b.last_ms) return;  // the clock is monotonic; nothing earned
    // Clamped first: a long quiet spell fills the bucket and no more.
    const int64_t elapsed = std::min(now_ms - b.last_ms, interval_ms);
    b.units = std::min(full, b.units + elapsed * static_cast<int64_t>(burst));
    b.last_ms = now_ms;
}

SecurityLog::Source& SecurityLog::find_or_add(const Key& key, int64_t now_ms) {
    if (const auto it = index_.find(key); it != index_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second);  // now the most recent
        return *it->second;
    }
    if (lru_.size() >= limits_.max_sources) {
        // The least recently used node becomes the new source: no allocation.
        index_.erase(lru_.back().key);
        lru_.splice(lru_.begin(), lru_, std::prev(lru_.end()));
    } else {
        lru_.emplace_front();
    }
    Source& s = lru_.front();
    s.key = key;
    s.bucket.units =
        static_cast<int64_t>(limits_.per_source_burst) * limits_.per_source_interval_ms;
    s.bucket.last_ms = now_ms;
    s.suppressed = 0;
    index_.emplace(key, lru_.begin());
    return s;
}

bool SecurityLog::allow(const SockAddr& source, int64_t now_ms, uint64_t& suppressed) {
    Source& s = find_or_add(key_of(source), now_ms);
    refill(s.bucket, limits_.per_source_burst, limits_.per_source_interval_ms, now_ms);
    refill(global_, limits_.global_burst, limits_.global_interval_ms, now_ms);
    // A line spends a token of both buckets, or of neither: a source held
    // back by the global cap keeps its own budget for later.
    if (s.bucket.units < limits_.per_source_interval_ms ||
        global_.units < limits_.global_interval_ms) {
        ++s.suppressed;
        ++suppressed_total_;
        return false;
    }
    s.bucket.units -= limits_.per_source_interval_ms;
    global_.units -= limits_.global_interval_ms;
    suppressed = s.suppressed;
    s.suppressed = 0;
    return true;
}

}  // namespace sipmasq
