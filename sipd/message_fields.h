// What the proxy reads from a parsed message, in one place: tags, CSeq
// method, the top Via's branch, and the bounded key of a call.
#pragma once

#include <osipparser2/osip_parser.h>

#include <string>
#include <string_view>

#include "address.h"

namespace sipmasq {

// The parameter `name` (case-insensitive) of a Via, URI or From/To list;
// nullptr when there is none.
[[nodiscard]] const osip_generic_param_t* find_generic_param(const osip_list_t* params,
                                                             const char* name) noexcept;

// "number@host" of the Call-ID header; "" when there is none.
[[nodiscard]] std::string call_id_of(const osip_message_t* msg);

// A call's key in the call table and its tag in rtpd: the Call-ID, or for
// one longer than rtpd's tag its first characters and a hash of the whole,
// so that a restarted sipd finds its calls again in what rtpd lists.
[[nodiscard]] std::string call_key(std::string call_id);
[[nodiscard]] std::string uri_text(const osip_from_t* f);
[[nodiscard]] std::string tag_of(const osip_from_t* f);
[[nodiscard]] bool has_to_tag(const osip_message_t* msg);
[[nodiscard]] std::string cseq_method(const osip_message_t* msg);
[[nodiscard]] std::string branch_of_top_via(const osip_message_t* msg);
// "-" for an invalid address, else "ip:port".
[[nodiscard]] std::string addr_text(const SockAddr& a);

}  // namespace sipmasq
