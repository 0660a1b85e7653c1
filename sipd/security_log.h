// Decides whether a security line about a source address may be logged now.
// Each source address (the port does not count) has its own token bucket, so
// one noisy source cannot use up the lines another source's events need; a
// global bucket caps what all sources together write, so a flood of spoofed
// sources cannot fill the disk. The table of sources is bounded (least
// recently used evicted, its node reused), so a flood of distinct sources
// keeps memory flat. Drop-in for RateLimit in SipProxy::refused():
//
//     uint64_t suppressed = 0;
//     if (!security_log_.allow(source, monotonic_ms(), suppressed)) return;
//     // ...then " (N similar suppressed)" when suppressed > 0.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>

#include "address.h"

namespace sipmasq {

class SecurityLog {
  public:
    struct Limits {
        uint32_t per_source_burst = 5;  // lines per source per interval
        int64_t per_source_interval_ms = 10000;
        uint32_t global_burst = 60;  // lines of all sources together per interval
        int64_t global_interval_ms = 10000;
        size_t max_sources = 1024;
    };

    SecurityLog() : SecurityLog(Limits{}) {}
    explicit SecurityLog(const Limits& limits);

    // True when a line about `source` may be logged; `suppressed` then holds
    // how many lines about this source were dropped since its last one (0
    // when it is new to the table or was evicted from it).
    [[nodiscard]] bool allow(const SockAddr& source, int64_t now_ms, uint64_t& suppressed);

    // Sources in the table (never more than max_sources).
    [[nodiscard]] size_t sources() const noexcept { return lru_.size(); }
    // Lines dropped since construction, every source together (for stats).
    [[nodiscard]] uint64_t suppressed_total() const noexcept { return suppressed_total_; }

  private:
    // Tokens scaled by the interval, so refilling stays in integers:
    // `burst` tokens per `interval_ms` is `burst` scaled units per ms, and a
    // line costs `interval_ms` units.
    struct Bucket {
        int64_t units = 0;
        int64_t last_ms = 0;
    };
    // Address family and bytes; an IPv4-mapped IPv6 address is its IPv4 one.
    struct Key {
        std::array<uint8_t, 16> bytes{};
        uint8_t family = 0;
        bool operator==(const Key&) const noexcept = default;
    };
    struct KeyHash {
        size_t operator()(const Key& k) const noexcept;
    };
    struct Source {
        Key key;
        Bucket bucket;
        uint64_t suppressed = 0;
    };
    using Lru = std::list<Source>;  // most recently used first

    [[nodiscard]] static Key key_of(const SockAddr& a) noexcept;
    // Adds what `now_ms` earned since the last refill, up to a full bucket.
    static void refill(Bucket& b, uint32_t burst, int64_t interval_ms, int64_t now_ms) noexcept;
    [[nodiscard]] Source& find_or_add(const Key& key, int64_t now_ms);

    Limits limits_;
    Bucket global_;
    Lru lru_;
    std::unordered_map<Key, Lru::iterator, KeyHash> index_;
    uint64_t suppressed_total_ = 0;
};

}  // namespace sipmasq
