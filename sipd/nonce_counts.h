// The nonce counts (nc) of digest answers already accepted, so that a
// captured Authorization cannot be replayed (RFC 2617 §3.2.2, RFC 7616
// §3.4): an answer is accepted only with an nc greater than the last one
// accepted for its nonce. Nonces sort in the order they were issued (they
// begin with their timestamp and serial, fixed-width hex), so the table is
// a sorted map whose first entry is always the oldest: expired nonces are
// dropped from the front, and when the table is full the oldest entry goes
// and everything issued up to it is forgotten (answered stale) rather than
// accepted again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace sipmasq {

class NonceCounts {
  public:
    enum class Use : uint8_t {
        Accepted,   // first use of this nonce, or a greater nc: remembered
        Replayed,   // nc not greater than the last accepted one
        Forgotten,  // pushed out of a full table: never accepted again
    };

    // `lifetime`: seconds a nonce is valid; `max_nonces`: the table's bound.
    NonceCounts(int64_t lifetime, size_t max_nonces) noexcept
        : lifetime_(lifetime), max_nonces_(max_nonces == 0 ? 1 : max_nonces) {}

    // `nonce` is one of ours, still fresh (the caller checked its signature
    // and age), issued at `issued`; `now` in the same seconds.
    [[nodiscard]] Use use(const std::string& nonce, int64_t issued, uint32_t nc, int64_t now);

    [[nodiscard]] size_t size() const noexcept { return counts_.size(); }

  private:
    struct Entry {
        uint32_t nc = 0;
        int64_t issued = 0;
    };

    int64_t lifetime_;
    size_t max_nonces_;
    std::map<std::string, Entry> counts_;  // by nonce: oldest issued first
    std::string forgotten_up_to_;          // nonces <= this were evicted unexpired
};

}  // namespace sipmasq
