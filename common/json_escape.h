// Text inside a JSON string: the control tool's -j output of all three
// processes goes through this one function.
#pragma once

#include <string>
#include <string_view>

namespace sipmasq {

// Escapes '"', '\' and control characters (as \u00XX); bytes >= 0x80 pass
// as they are.
[[nodiscard]] std::string json_escape(std::string_view text);

}  // namespace sipmasq
