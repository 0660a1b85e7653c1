// strip_header, replace_header and ua_string (siproxd's plugin_stripheader
// and ua_string): headers of a forwarded message removed or rewritten by
// their parsed name, compact forms included, on libosip2's parsed message.
#pragma once

#include <osipparser2/osip_parser.h>

#include <string>
#include <vector>

#include "config.h"
#include "sip_types.h"

namespace sipmasq {

struct HeaderFixes {
    std::vector<std::string> strip;
    std::vector<HeaderValue> replace;
    std::string ua_string;
    [[nodiscard]] bool empty() const noexcept {
        return strip.empty() && replace.empty() && ua_string.empty();
    }
};

// Removes every header named `name` (either form); how many went.
size_t strip_header(osip_message_t* msg, std::string_view name);

// Applies the fixes to a message about to leave toward `departure`:
// strip_header and replace_header both ways; ua_string on what goes
// outside (requests get it, responses have theirs replaced).
void apply_header_fixes(osip_message_t* msg, const HeaderFixes& fixes, Side departure);

}  // namespace sipmasq
