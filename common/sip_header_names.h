// SIP header names as the configuration and sipd compare them: the compact
// forms (RFC 3261 §7.3.3 and the extensions' registry) and the headers
// sipmasq itself needs, which no configuration key may strip or replace.
#pragma once

#include <string>
#include <string_view>

namespace sipmasq {

// The full name, lower case, of a header name or its compact form
// ("m" -> "contact", "User-Agent" -> "user-agent").
[[nodiscard]] std::string canonical_header_name(std::string_view name);
// The compact form of a full name ("subject" -> 's'), or '\0' if it has none.
[[nodiscard]] char compact_header_form(std::string_view name) noexcept;
// Headers the proxy reads or writes (Via, From, To, Call-ID, CSeq, Contact,
// Route, Record-Route, Max-Forwards, Content-*, the authentication ones).
[[nodiscard]] bool header_is_protected(std::string_view name);
// RFC 3261 token characters only, and not empty.
[[nodiscard]] bool valid_header_name(std::string_view name) noexcept;

}  // namespace sipmasq
