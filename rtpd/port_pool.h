// The UDP port pairs of one local relay address: even RTP port plus the odd
// RTCP port above it, always taken and given back together. A pair is picked
// at random from the free list (never sequentially, so ports are not
// guessable), and a released pair rests in quarantine before reuse so a late
// packet of an old call never reaches a new one. When every pair is in use
// or resting, a pool that may reuse quarantined pairs (strict source mode:
// a new forward accepts only its own signalled peers, so an old call's late
// packets are dropped anyway) hands out the pair that has rested longest
// rather than refusing the call.
//
// Time is passed in (now_ms, monotonic): the pool never reads a clock, so
// tests drive quarantine exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace sipmasq {

struct PortPoolStats {
    uint32_t total_pairs = 0;
    uint32_t free = 0;
    uint32_t used = 0;
    uint32_t quarantined = 0;         // includes pairs set aside as held elsewhere
    uint64_t set_aside_total = 0;     // pairs found bound by another process
    uint64_t reused_early_total = 0;  // quarantined pairs handed out before their time
};

class PortPool {
  public:
    // Pairs over [low, high]; an odd `low` is rounded up, a pair whose RTCP
    // port would pass `high` is left out.
    PortPool(uint16_t low, uint16_t high, uint32_t quarantine_s, uint64_t seed,
             bool reuse_quarantined = false);

    // A random free pair's RTP (even) port; with none free, the released pair
    // that has rested longest when quarantined pairs may be reused; else
    // nullopt.
    [[nodiscard]] std::optional<uint16_t> acquire(int64_t now_ms);
    // Takes exactly this pair (restart re-creation). False when it is out of
    // range, odd, in use, or quarantined.
    [[nodiscard]] bool try_reserve(uint16_t rtp_port, int64_t now_ms);
    // A used pair whose forward ended: quarantined until now + quarantine.
    void release(uint16_t rtp_port, int64_t now_ms);
    // A used pair that bind() found held by another process: rests in
    // quarantine like a released one, then is tried again.
    void set_aside(uint16_t rtp_port, int64_t now_ms);
    // A used pair that was never exposed (bind failed for our own reason,
    // e.g. EMFILE): straight back to the free list.
    void give_back(uint16_t rtp_port);

    [[nodiscard]] PortPoolStats stats(int64_t now_ms);
    [[nodiscard]] bool in_range(uint16_t port) const noexcept;
    [[nodiscard]] uint16_t low() const noexcept { return low_; }
    [[nodiscard]] uint32_t pair_count() const noexcept { return pair_count_; }

  private:
    enum class State : uint8_t { Free, Used, Quarantined };
    struct Parked {
        uint32_t pair;
        int64_t until_ms;
        bool held_elsewhere;  // set aside: another process may hold it still
    };

    void expire(int64_t now_ms);
    void push_free(uint32_t pair);
    void remove_free(uint32_t pair);
    void park(uint32_t pair, int64_t now_ms, bool held_elsewhere);
    [[nodiscard]] std::optional<uint32_t> take_oldest_released();
    [[nodiscard]] std::optional<uint32_t> pair_of(uint16_t rtp_port) const noexcept;
    [[nodiscard]] uint16_t port_of(uint32_t pair) const noexcept {
        return static_cast<uint16_t>(low_ + 2 * pair);
    }

    uint16_t low_ = 0;
    uint32_t pair_count_ = 0;
    int64_t quarantine_ms_ = 0;
    std::vector<State> state_;
    std::vector<uint32_t> free_;      // unordered; random pick + swap-remove
    std::vector<uint32_t> free_pos_;  // pair -> index in free_
    // FIFO ring of quarantined pairs: each pair is in it at most once, so a
    // ring of pair_count_ entries never overflows and never allocates.
    std::vector<Parked> ring_;
    uint32_t ring_head_ = 0;
    uint32_t ring_size_ = 0;
    uint32_t used_ = 0;
    uint64_t set_aside_total_ = 0;
    uint64_t reused_early_total_ = 0;
    bool reuse_quarantined_ = false;
    std::mt19937_64 rng_;
};

}  // namespace sipmasq
