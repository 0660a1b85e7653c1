#include "osip_ptr.h"

#include <cstdarg>
#include <cstring>
#include <string>

namespace sipmasq {

namespace {
void discard_osip_trace(const char* /*file*/, int /*line*/, osip_trace_level_t /*level*/,
                        const char* /*format*/, va_list /*args*/) {}
}  // namespace

void sip_parser_init() noexcept {
    static bool done = false;
    if (!done) {
        parser_init();
        // Uninitialised, libosip2 traces every malformed datagram to stdout
        // (our log, unlimited): a flood of garbage would become a flood of
        // lines. Its trace goes nowhere; sipd logs what it refuses itself,
        // rate-limited.
        osip_trace_initialize_func(TRACE_LEVEL0, discard_osip_trace);
        for (int level = TRACE_LEVEL0; level < END_TRACE_LEVEL; ++level)
            osip_trace_disable_level(static_cast<osip_trace_level_t>(level));
        done = true;
    }
}

OsipMessagePtr parse_sip_message(std::string_view bytes) noexcept {
    sip_parser_init();
    osip_message_t* raw = nullptr;
    if (osip_message_init(&raw) != 0 || raw == nullptr) return nullptr;
    OsipMessagePtr msg(raw);
    if (osip_message_parse(msg.get(), bytes.data(), bytes.size()) != 0) return nullptr;
    // A start line libosip2 accepted but left half empty is useless to us.
    if (MSG_IS_REQUEST(msg.get()) && (msg->sip_method == nullptr || msg->req_uri == nullptr))
        return nullptr;
    return msg;
}

namespace {
// libosip2's sub-parsers want a NUL-terminated string.
std::string terminated(std::string_view text) {
    return std::string(text);
}
}  // namespace

SdpMessagePtr parse_sdp(std::string_view text) noexcept {
    sdp_message_t* raw = nullptr;
    if (sdp_message_init(&raw) != 0 || raw == nullptr) return nullptr;
    SdpMessagePtr sdp(raw);
    if (text.find('\0') != std::string_view::npos) return nullptr;
    // libosip2 5.3 reads past the end of an SDP whose lines end in a bare
    // CR (found by fuzz_sip). SDP lines end in CRLF, or LF alone: a CR not
    // followed by LF is refused, and the buffer gets spare NULs besides.
    for (size_t cr = text.find('\r'); cr != std::string_view::npos; cr = text.find('\r', cr + 1))
        if (cr + 1 >= text.size() || text[cr + 1] != '\n') return nullptr;
    std::string buf = terminated(text);
    buf.append(8, '\0');
    if (sdp_message_parse(sdp.get(), buf.c_str()) != 0) return nullptr;
    return sdp;
}

OsipUriPtr parse_uri(std::string_view text) noexcept {
    osip_uri_t* raw = nullptr;
    if (osip_uri_init(&raw) != 0 || raw == nullptr) return nullptr;
    OsipUriPtr uri(raw);
    if (text.find('\0') != std::string_view::npos) return nullptr;
    const std::string buf = terminated(text);
    if (osip_uri_parse(uri.get(), buf.c_str()) != 0) return nullptr;
    return uri;
}

OsipContactPtr parse_contact(std::string_view text) noexcept {
    osip_contact_t* raw = nullptr;
    if (osip_contact_init(&raw) != 0 || raw == nullptr) return nullptr;
    OsipContactPtr contact(raw);
    if (text.find('\0') != std::string_view::npos) return nullptr;
    const std::string buf = terminated(text);
    if (osip_contact_parse(contact.get(), buf.c_str()) != 0) return nullptr;
    return contact;
}

OsipViaPtr parse_via(std::string_view text) noexcept {
    osip_via_t* raw = nullptr;
    if (osip_via_init(&raw) != 0 || raw == nullptr) return nullptr;
    OsipViaPtr via(raw);
    if (text.find('\0') != std::string_view::npos) return nullptr;
    const std::string buf = terminated(text);
    if (osip_via_parse(via.get(), buf.c_str()) != 0) return nullptr;
    return via;
}

namespace {
std::string take(char* raw, size_t len) {
    OsipBufferPtr owned(raw);
    if (owned == nullptr) return {};
    return std::string(owned.get(), len);
}
std::string take(char* raw) {
    OsipBufferPtr owned(raw);
    if (owned == nullptr) return {};
    return std::string(owned.get());
}
}  // namespace

std::string sip_message_to_string(osip_message_t* msg) noexcept {
    if (msg == nullptr) return {};
    osip_message_force_update(msg);
    char* out = nullptr;
    size_t len = 0;
    if (osip_message_to_str(msg, &out, &len) != 0) {
        OsipBufferPtr drop(out);
        return {};
    }
    return take(out, len);
}

std::string sdp_to_string(sdp_message_t* sdp) noexcept {
    if (sdp == nullptr) return {};
    char* out = nullptr;
    if (sdp_message_to_str(sdp, &out) != 0) {
        OsipBufferPtr drop(out);
        return {};
    }
    return take(out);
}

std::string uri_to_string(const osip_uri_t* uri) noexcept {
    if (uri == nullptr) return {};
    char* out = nullptr;
    if (osip_uri_to_str(uri, &out) != 0) {
        OsipBufferPtr drop(out);
        return {};
    }
    return take(out);
}

std::string contact_to_string(const osip_contact_t* contact) noexcept {
    if (contact == nullptr) return {};
    char* out = nullptr;
    if (osip_contact_to_str(contact, &out) != 0) {
        OsipBufferPtr drop(out);
        return {};
    }
    return take(out);
}

std::string via_to_string(const osip_via_t* via) noexcept {
    if (via == nullptr) return {};
    char* out = nullptr;
    if (osip_via_to_str(via, &out) != 0) {
        OsipBufferPtr drop(out);
        return {};
    }
    return take(out);
}

char* osip_dup(std::string_view text) noexcept {
    const std::string s(text);
    return osip_strdup(s.c_str());
}

}  // namespace sipmasq
