// default_target and did_range (siproxd's plugin_defaulttarget and
// plugin_siptrunk): where an outside INVITE goes when no registration
// matches its Request-URI user. Data only; provider_routing.h decides.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"

namespace sipmasq {

struct ProviderTargets {
    std::string default_target;  // sip: URI; "" = none (404 as before)
    std::vector<DidRange> did_ranges;
    [[nodiscard]] bool empty() const noexcept {
        return default_target.empty() && did_ranges.empty();
    }
};

// The account of the first range holding `number` (digits, with '+' as
// the range writes it); nullopt when none does.
[[nodiscard]] std::optional<std::string> did_account(const std::vector<DidRange>& ranges,
                                                     std::string_view number);

}  // namespace sipmasq
