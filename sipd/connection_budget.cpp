#include "connection_budget.h"

namespace sipmasq {

ConnectionBudget::Admission ConnectionBudget::take(const SockAddr& peer) {
    if (total_ >= limits_.max_total) return Admission::Full;
    size_t& n = per_source_[budget_key(peer)];
    if (n >= limits_.max_per_source) return Admission::SourceBudget;
    ++n;
    ++total_;
    return Admission::Ok;
}

void ConnectionBudget::give_back(const SockAddr& peer) {
    const auto it = per_source_.find(budget_key(peer));
    if (it == per_source_.end() || it->second == 0) return;
    if (--it->second == 0) per_source_.erase(it);
    --total_;
}

size_t ConnectionBudget::of(const SockAddr& peer) const {
    const auto it = per_source_.find(budget_key(peer));
    return it == per_source_.end() ? 0 : it->second;
}

}  // namespace sipmasq
