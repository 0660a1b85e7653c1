// Responses sipmasq itself sends (400, 403, 404, 482, 483, 503, and the
// registrar's 200), built from the request per RFC 3261 §8.2.6.
#pragma once

#include <string_view>

#include "osip_ptr.h"

namespace sipmasq {

// Copies Via (all), From, To (adding a tag unless present), Call-ID and
// CSeq; Content-Length: 0. nullptr when the request lacks what a response
// needs (then it can only be dropped). `to_tag` is used when To has none.
[[nodiscard]] OsipMessagePtr build_response(const osip_message_t* req, int status,
                                            std::string_view to_tag = "smq");

}  // namespace sipmasq
