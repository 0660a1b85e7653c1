#include "provider_targets.h"

#include <algorithm>

namespace sipmasq {

std::optional<std::string> did_account(const std::vector<DidRange>& ranges,
                                       std::string_view number) {
    const bool digits =
        !number.empty() && std::all_of(number.begin() + (number.front() == '+' ? 1 : 0),
                                       number.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) return std::nullopt;
    for (const DidRange& r : ranges) {
        // Same length and sign: then text order is number order.
        if (number.size() == r.first.size() && number.front() == r.first.front() &&
            number >= r.first && number <= r.last)
            return r.account;
    }
    return std::nullopt;
}

}  // namespace sipmasq
