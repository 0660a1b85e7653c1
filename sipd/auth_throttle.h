// Slows down password guessing: after `max_failures` failed digest answers
// within `window` seconds for one key (a source address, or a user), further
// attempts for that key are refused for `block` seconds without the password
// being checked. The table is bounded: the least recently failed key is
// forgotten first, so a flood of distinct keys keeps memory flat while the
// guesser that is at work right now stays in it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sipmasq {

class AuthThrottle {
  public:
    struct Limits {
        uint32_t max_failures = 5;
        int64_t window = 60;  // seconds
        int64_t block = 60;   // seconds
        size_t max_keys = 4096;
    };

    AuthThrottle() : AuthThrottle(Limits{}) {}
    explicit AuthThrottle(const Limits& limits);

    // True while `key` is blocked at `now` (seconds).
    [[nodiscard]] bool blocked(std::string_view key, int64_t now) const;
    // Counts a failure; the one that reaches max_failures starts the block.
    void failure(std::string_view key, int64_t now);

    [[nodiscard]] size_t size() const noexcept { return lru_.size(); }

  private:
    struct Entry {
        std::string key;
        int64_t window_start = 0;
        uint32_t failures = 0;
        int64_t blocked_until = 0;
    };
    using Lru = std::list<Entry>;  // most recent failure first

    Limits limits_;
    Lru lru_;
    std::unordered_map<std::string_view, Lru::iterator> index_;  // views of Entry::key
};

}  // namespace sipmasq
