// The requests a client transaction builds itself rather than forwards:
// the CANCEL of an INVITE (RFC 3261 §9.1) and the ACK of a non-2xx final
// response (§17.1.1.3). Both carry only the INVITE's top Via (ours), so
// they stay hop by hop.
#pragma once

#include "osip_ptr.h"

namespace sipmasq {

// From the INVITE as sent: same Request-URI, Call-ID, From, To, CSeq
// number and Route set; nullptr when it cannot be built.
[[nodiscard]] OsipMessagePtr build_cancel(const osip_message_t* invite);
// As build_cancel, with the To of the response (its tag).
[[nodiscard]] OsipMessagePtr build_ack(const osip_message_t* invite, const osip_message_t* resp);

}  // namespace sipmasq
