#include "header_fixes.h"

#include <cstring>

#include "osip_ptr.h"
#include "sip_header_names.h"

namespace sipmasq {
namespace {

using FreeFn = void (*)(void*);

// The headers libosip2 parses into lists of their own (the rest are in
// msg->headers); the ones sipmasq needs are refused by the configuration.
struct ParsedList {
    const char* name;
    osip_list_t osip_message_t::*list;
    FreeFn free;
};

const ParsedList kParsedLists[] = {
    {"allow", &osip_message_t::allows,
     [](void* p) { osip_content_length_free(static_cast<osip_content_length_t*>(p)); }},
    {"accept", &osip_message_t::accepts,
     [](void* p) { osip_content_type_free(static_cast<osip_content_type_t*>(p)); }},
    {"accept-encoding", &osip_message_t::accept_encodings,
     [](void* p) { osip_accept_encoding_free(static_cast<osip_accept_encoding_t*>(p)); }},
    {"accept-language", &osip_message_t::accept_languages,
     [](void* p) { osip_accept_encoding_free(static_cast<osip_accept_encoding_t*>(p)); }},
    {"alert-info", &osip_message_t::alert_infos,
     [](void* p) { osip_call_info_free(static_cast<osip_call_info_t*>(p)); }},
    {"call-info", &osip_message_t::call_infos,
     [](void* p) { osip_call_info_free(static_cast<osip_call_info_t*>(p)); }},
    {"error-info", &osip_message_t::error_infos,
     [](void* p) { osip_call_info_free(static_cast<osip_call_info_t*>(p)); }},
};

bool present(osip_message_t* msg, const std::string& canonical) {
    for (const ParsedList& l : kParsedLists)
        if (canonical == l.name) return osip_list_size(&(msg->*l.list)) > 0;
    for (int i = 0; i < osip_list_size(&msg->headers); ++i) {
        const auto* h = static_cast<const osip_header_t*>(osip_list_get(&msg->headers, i));
        if (h != nullptr && canonical_header_name(osip_sv(h->hname)) == canonical) return true;
    }
    return false;
}

// Replaces every instance by one with `value`, parsed by libosip2 as if it
// had arrived (so a structured header lands in its own list).
void set_header(osip_message_t* msg, std::string_view name, const std::string& value) {
    (void)strip_header(msg, name);
    const std::string n(name);
    (void)osip_message_set_header(msg, n.c_str(), value.c_str());
}

}  // namespace

size_t strip_header(osip_message_t* msg, std::string_view name) {
    const std::string canonical = canonical_header_name(name);
    if (msg == nullptr || header_is_protected(canonical)) return 0;
    size_t removed = 0;
    for (const ParsedList& l : kParsedLists) {
        if (canonical != l.name) continue;
        removed += static_cast<size_t>(osip_list_size(&(msg->*l.list)));
        osip_list_special_free(&(msg->*l.list), l.free);
    }
    for (int i = osip_list_size(&msg->headers) - 1; i >= 0; --i) {
        auto* h = static_cast<osip_header_t*>(osip_list_get(&msg->headers, i));
        if (h == nullptr || canonical_header_name(osip_sv(h->hname)) != canonical) continue;
        osip_list_remove(&msg->headers, i);
        osip_header_free(h);
        ++removed;
    }
    return removed;
}

void apply_header_fixes(osip_message_t* msg, const HeaderFixes& fixes, Side departure) {
    if (msg == nullptr || fixes.empty()) return;
    for (const std::string& name : fixes.strip) (void)strip_header(msg, name);
    for (const HeaderValue& h : fixes.replace)
        if (present(msg, canonical_header_name(h.name))) set_header(msg, h.name, h.value);
    if (!fixes.ua_string.empty() && departure == Side::Outside &&
        (MSG_IS_REQUEST(msg) || present(msg, "user-agent")))
        set_header(msg, "User-Agent", fixes.ua_string);
}

}  // namespace sipmasq
