// Text that came from the network, made safe to print on the admin's
// terminal: sipmasqctl's tables show AORs, contacts, From and To as phones
// and strangers sent them, and an escape sequence in one of them must not
// clear, recolour or retitle the terminal, nor hide a line.
#pragma once

#include <string>
#include <string_view>

namespace sipmasq {

// Line feeds and tabs stay, and so does valid UTF-8 of printable characters.
// Every other control byte (C0, DEL), every byte of a C1 control (U+0080 to
// U+009F, which some terminals take as ESC [) or of a bidirectional override
// (which reorders what the admin reads), and every byte of invalid UTF-8 is
// shown as \xNN; a backslash is shown as \\, so the output is unambiguous.
[[nodiscard]] std::string escape_for_terminal(std::string_view text);

}  // namespace sipmasq
