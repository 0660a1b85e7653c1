#include "port_pool.h"

namespace sipmasq {

namespace {
constexpr uint32_t kNotFree = UINT32_MAX;
}

PortPool::PortPool(uint16_t low, uint16_t high, uint32_t quarantine_s, uint64_t seed,
                   bool reuse_quarantined)
    : quarantine_ms_(static_cast<int64_t>(quarantine_s) * 1000),
      reuse_quarantined_(reuse_quarantined),
      rng_(seed) {
    uint32_t lo = low + (low & 1u);
    low_ = static_cast<uint16_t>(lo);
    pair_count_ = (high >= lo && lo <= 65534) ? (static_cast<uint32_t>(high) - lo + 1) / 2 : 0;
    state_.assign(pair_count_, State::Free);
    free_pos_.assign(pair_count_, kNotFree);
    free_.reserve(pair_count_);
    ring_.resize(pair_count_);
    for (uint32_t p = 0; p < pair_count_; ++p) push_free(p);
}

bool PortPool::in_range(uint16_t port) const noexcept {
    return port >= low_ && static_cast<uint32_t>(port - low_) / 2 < pair_count_;
}

std::optional<uint32_t> PortPool::pair_of(uint16_t rtp_port) const noexcept {
    if (!in_range(rtp_port) || ((rtp_port - low_) & 1) != 0) return std::nullopt;
    return static_cast<uint32_t>(rtp_port - low_) / 2;
}

void PortPool::push_free(uint32_t pair) {
    state_[pair] = State::Free;
    free_pos_[pair] = static_cast<uint32_t>(free_.size());
    free_.push_back(pair);  // capacity reserved: never reallocates
}

void PortPool::remove_free(uint32_t pair) {
    uint32_t pos = free_pos_[pair];
    uint32_t last = free_.back();
    free_[pos] = last;
    free_pos_[last] = pos;
    free_.pop_back();
    free_pos_[pair] = kNotFree;
    state_[pair] = State::Used;
    ++used_;
}

void PortPool::expire(int64_t now_ms) {
    while (ring_size_ > 0 && ring_[ring_head_].until_ms <= now_ms) {
        push_free(ring_[ring_head_].pair);
        ring_head_ = (ring_head_ + 1) % pair_count_;
        --ring_size_;
    }
}

void PortPool::park(uint32_t pair, int64_t now_ms, bool held_elsewhere) {
    state_[pair] = State::Quarantined;
    --used_;
    uint32_t tail = (ring_head_ + ring_size_) % pair_count_;
    ring_[tail] = Parked{pair, now_ms + quarantine_ms_, held_elsewhere};
    ++ring_size_;
}

// The oldest released pair among the first few in the ring (a pair set
// aside because another process holds it is skipped: it would fail again).
// Swapped to the head and popped, so the ring stays a ring; what it passes
// over only waits a little longer.
std::optional<uint32_t> PortPool::take_oldest_released() {
    constexpr uint32_t kLookAhead = 16;
    for (uint32_t i = 0; i < ring_size_ && i < kLookAhead; ++i) {
        const uint32_t at = (ring_head_ + i) % pair_count_;
        if (ring_[at].held_elsewhere) continue;
        std::swap(ring_[at], ring_[ring_head_]);
        const uint32_t pair = ring_[ring_head_].pair;
        ring_head_ = (ring_head_ + 1) % pair_count_;
        --ring_size_;
        state_[pair] = State::Used;
        ++used_;
        ++reused_early_total_;
        return pair;
    }
    return std::nullopt;
}

std::optional<uint16_t> PortPool::acquire(int64_t now_ms) {
    expire(now_ms);
    if (free_.empty()) {
        if (!reuse_quarantined_) return std::nullopt;
        const auto pair = take_oldest_released();
        if (!pair) return std::nullopt;
        return port_of(*pair);
    }
    std::uniform_int_distribution<size_t> pick(0, free_.size() - 1);
    uint32_t pair = free_[pick(rng_)];
    remove_free(pair);
    return port_of(pair);
}

bool PortPool::try_reserve(uint16_t rtp_port, int64_t now_ms) {
    expire(now_ms);
    auto pair = pair_of(rtp_port);
    if (!pair || state_[*pair] != State::Free) return false;
    remove_free(*pair);
    return true;
}

void PortPool::release(uint16_t rtp_port, int64_t now_ms) {
    auto pair = pair_of(rtp_port);
    if (!pair || state_[*pair] != State::Used) return;
    park(*pair, now_ms, false);
}

void PortPool::set_aside(uint16_t rtp_port, int64_t now_ms) {
    auto pair = pair_of(rtp_port);
    if (!pair || state_[*pair] != State::Used) return;
    ++set_aside_total_;
    park(*pair, now_ms, true);
}

void PortPool::give_back(uint16_t rtp_port) {
    auto pair = pair_of(rtp_port);
    if (!pair || state_[*pair] != State::Used) return;
    --used_;
    push_free(*pair);
}

PortPoolStats PortPool::stats(int64_t now_ms) {
    expire(now_ms);
    PortPoolStats s;
    s.total_pairs = pair_count_;
    s.free = static_cast<uint32_t>(free_.size());
    s.used = used_;
    s.quarantined = ring_size_;
    s.set_aside_total = set_aside_total_;
    s.reused_early_total = reused_early_total_;
    return s;
}

}  // namespace sipmasq
