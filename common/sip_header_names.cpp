#include "sip_header_names.h"

#include <algorithm>
#include <cctype>

namespace sipmasq {
namespace {

struct Compact {
    char form;
    const char* name;
};

// IANA's SIP header registry: every header that has a compact form.
constexpr Compact kCompact[] = {
    {'a', "accept-contact"},
    {'b', "referred-by"},
    {'c', "content-type"},
    {'d', "request-disposition"},
    {'e', "content-encoding"},
    {'f', "from"},
    {'i', "call-id"},
    {'j', "reject-contact"},
    {'k', "supported"},
    {'l', "content-length"},
    {'m', "contact"},
    {'n', "identity-info"},
    {'o', "event"},
    {'r', "refer-to"},
    {'s', "subject"},
    {'t', "to"},
    {'u', "allow-events"},
    {'v', "via"},
    {'x', "session-expires"},
    {'y', "identity"},
};

constexpr const char* kProtected[] = {
    "via",
    "from",
    "to",
    "call-id",
    "cseq",
    "contact",
    "route",
    "record-route",
    "max-forwards",
    "content-length",
    "content-type",
    "content-encoding",
    "authorization",
    "proxy-authorization",
    "www-authenticate",
    "proxy-authenticate",
    "authentication-info",
    "proxy-authentication-info",
};

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

}  // namespace

std::string canonical_header_name(std::string_view name) {
    std::string n = lower(name);
    if (n.size() == 1)
        for (const Compact& c : kCompact)
            if (c.form == n[0]) return c.name;
    return n;
}

char compact_header_form(std::string_view name) noexcept {
    for (const Compact& c : kCompact) {
        const std::string_view full = c.name;
        if (full.size() != name.size()) continue;
        bool same = true;
        for (size_t i = 0; i < full.size() && same; ++i)
            same = std::tolower(static_cast<unsigned char>(name[i])) == full[i];
        if (same) return c.form;
    }
    return '\0';
}

bool header_is_protected(std::string_view name) {
    const std::string n = canonical_header_name(name);
    return std::any_of(std::begin(kProtected), std::end(kProtected),
                       [&n](const char* p) { return n == p; });
}

bool valid_header_name(std::string_view name) noexcept {
    constexpr std::string_view kTokenMarks = "-.!%*_+`'~";
    return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
               kTokenMarks.find(c) != std::string_view::npos;
    });
}

}  // namespace sipmasq
