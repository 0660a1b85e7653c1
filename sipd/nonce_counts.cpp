#include "nonce_counts.h"

namespace sipmasq {

NonceCounts::Use NonceCounts::use(const std::string& nonce, int64_t issued, uint32_t nc,
                                  int64_t now) {
    while (!counts_.empty() && now - counts_.begin()->second.issued > lifetime_)
        counts_.erase(counts_.begin());
    if (const auto it = counts_.find(nonce); it != counts_.end()) {
        if (nc <= it->second.nc) return Use::Replayed;
        it->second.nc = nc;
        return Use::Accepted;
    }
    // Not in the table: either never used, or evicted while still valid.
    if (!forgotten_up_to_.empty() && nonce <= forgotten_up_to_) return Use::Forgotten;
    if (counts_.size() >= max_nonces_) {
        // The oldest goes, and with it every nonce issued up to it.
        const auto oldest = counts_.begin();
        if (nonce < oldest->first) return Use::Forgotten;
        forgotten_up_to_ = oldest->first;
        counts_.erase(oldest);
    }
    counts_.emplace(nonce, Entry{nc, issued});
    return Use::Accepted;
}

}  // namespace sipmasq
