#include "terminal_escape.h"

#include <cstdint>

namespace sipmasq {

namespace {

void append_hex(std::string& out, unsigned char c) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
}

// Length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF) and its code
// point; 0 when it is not one.
size_t utf8_sequence(std::string_view s, uint32_t& code_point) {
    const auto b0 = static_cast<unsigned char>(s[0]);
    size_t len = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        len = 2, cp = b0 & 0x1f, min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        len = 3, cp = b0 & 0x0f, min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (s.size() < len) return 0;
    for (size_t i = 1; i < len; ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        if ((b & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    code_point = cp;
    return len;
}

// C1 controls, and the marks and overrides that reorder a line's text.
bool harmful_code_point(uint32_t cp) {
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x061c;
}

}  // namespace

std::string escape_for_terminal(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f && c != '\\')) {
            out += static_cast<char>(c);
            ++i;
        } else if (c == '\\') {
            out += "\\\\";
            ++i;
        } else if (c < 0x80) {  // C0 controls, DEL
            append_hex(out, c);
            ++i;
        } else {
            uint32_t cp = 0;
            const size_t len = utf8_sequence(text.substr(i), cp);
            if (len == 0) {  // invalid: this byte alone, then resynchronise
                append_hex(out, c);
                ++i;
                continue;
            }
            if (harmful_code_point(cp)) {
                for (size_t k = 0; k < len; ++k)
                    append_hex(out, static_cast<unsigned char>(text[i + k]));
            } else {
                out.append(text.substr(i, len));
            }
            i += len;
        }
    }
    return out;
}

}  // namespace sipmasq
