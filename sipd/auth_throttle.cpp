#include "auth_throttle.h"

#include <iterator>

namespace sipmasq {

AuthThrottle::AuthThrottle(const Limits& limits) : limits_(limits) {
    if (limits_.max_keys == 0) limits_.max_keys = 1;
    if (limits_.max_failures == 0) limits_.max_failures = 1;
}

bool AuthThrottle::blocked(std::string_view key, int64_t now) const {
    const auto it = index_.find(key);
    return it != index_.end() && now < it->second->blocked_until;
}

void AuthThrottle::failure(std::string_view key, int64_t now) {
    auto it = index_.find(key);
    if (it == index_.end()) {
        if (lru_.size() >= limits_.max_keys) {
            // The least recently failed key gives its node to the new one.
            index_.erase(lru_.back().key);
            lru_.splice(lru_.begin(), lru_, std::prev(lru_.end()));
            lru_.front() = Entry{};
        } else {
            lru_.emplace_front();
        }
        Entry& e = lru_.front();
        e.key.assign(key);
        e.window_start = now;
        it = index_.emplace(std::string_view(e.key), lru_.begin()).first;
    } else {
        lru_.splice(lru_.begin(), lru_, it->second);
    }
    Entry& e = *it->second;
    if (now < e.blocked_until) return;  // refused unchecked: nothing to count
    if (now - e.window_start >= limits_.window) {
        e.window_start = now;
        e.failures = 0;
    }
    if (++e.failures >= limits_.max_failures) {
        e.blocked_until = now + limits_.block;
        e.failures = 0;  // a new count starts once the block is over
        e.window_start = e.blocked_until;
    }
}

}  // namespace sipmasq
