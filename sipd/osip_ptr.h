// Owners for libosip2 objects, and the parse/serialise helpers every other
// sipd module uses, so no osip object or buffer is ever freed by hand.
#pragma once

#include <osipparser2/osip_parser.h>
#include <osipparser2/sdp_message.h>

#include <memory>
#include <string>
#include <string_view>

namespace sipmasq {

struct OsipMessageDeleter {
    void operator()(osip_message_t* m) const noexcept { osip_message_free(m); }
};
struct SdpMessageDeleter {
    void operator()(sdp_message_t* m) const noexcept { sdp_message_free(m); }
};
struct OsipUriDeleter {
    void operator()(osip_uri_t* u) const noexcept { osip_uri_free(u); }
};
// Contact, Route, Record-Route, From and To are all osip_from_t underneath.
struct OsipFromDeleter {
    void operator()(osip_from_t* f) const noexcept { osip_from_free(f); }
};
struct OsipViaDeleter {
    void operator()(osip_via_t* v) const noexcept { osip_via_free(v); }
};
struct OsipBufferDeleter {
    void operator()(char* p) const noexcept { osip_free(p); }
};

using OsipMessagePtr = std::unique_ptr<osip_message_t, OsipMessageDeleter>;
using SdpMessagePtr = std::unique_ptr<sdp_message_t, SdpMessageDeleter>;
using OsipUriPtr = std::unique_ptr<osip_uri_t, OsipUriDeleter>;
using OsipContactPtr = std::unique_ptr<osip_contact_t, OsipFromDeleter>;
using OsipRoutePtr = std::unique_ptr<osip_route_t, OsipFromDeleter>;
using OsipRecordRoutePtr = std::unique_ptr<osip_record_route_t, OsipFromDeleter>;
using OsipViaPtr = std::unique_ptr<osip_via_t, OsipViaDeleter>;
using OsipBufferPtr = std::unique_ptr<char, OsipBufferDeleter>;

// libosip2's parser tables; call once per process before any parse (later
// calls do nothing).
void sip_parser_init() noexcept;

// nullptr when libosip2 refuses the bytes.
[[nodiscard]] OsipMessagePtr parse_sip_message(std::string_view bytes) noexcept;
[[nodiscard]] SdpMessagePtr parse_sdp(std::string_view text) noexcept;
[[nodiscard]] OsipUriPtr parse_uri(std::string_view text) noexcept;
[[nodiscard]] OsipContactPtr parse_contact(std::string_view text) noexcept;
[[nodiscard]] OsipViaPtr parse_via(std::string_view text) noexcept;

// "" on failure. The message is re-serialised from its structure (libosip2
// would otherwise return the original bytes of an untouched parse).
[[nodiscard]] std::string sip_message_to_string(osip_message_t* msg) noexcept;
[[nodiscard]] std::string sdp_to_string(sdp_message_t* sdp) noexcept;
[[nodiscard]] std::string uri_to_string(const osip_uri_t* uri) noexcept;
[[nodiscard]] std::string contact_to_string(const osip_contact_t* contact) noexcept;
[[nodiscard]] std::string via_to_string(const osip_via_t* via) noexcept;

// A string libosip2 may later osip_free (it owns what the setters take).
[[nodiscard]] char* osip_dup(std::string_view text) noexcept;

// A NUL-safe view of an osip string field ("" for nullptr).
[[nodiscard]] inline std::string_view osip_sv(const char* s) noexcept {
    return s != nullptr ? std::string_view(s) : std::string_view();
}

}  // namespace sipmasq
