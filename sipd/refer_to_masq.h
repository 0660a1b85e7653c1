// Refer-To (RFC 3515 §2.1) names where a REFER sends its recipient. When
// that is an inside phone it crosses sipmasq like a Contact: masqueraded on
// the way out, restored on the way in. The URI's headers (an embedded
// Replaces, RFC 3891) travel as they are: sipmasq never rewrites Call-IDs or
// tags, so a Replaces still names the call it named.
#pragma once

#include <osipparser2/osip_parser.h>

#include <cstdint>

#include "address.h"
#include "contact_masq.h"
#include "peer_policy.h"
#include "proxy_rewrite.h"
#include "registration_table.h"

namespace sipmasq {

enum class ReferToChange : uint8_t {
    None,       // no Refer-To, or one that names nothing of ours
    Rewritten,  // masqueraded or restored
    Failed,     // one that had to be rewritten could not be
};

// Going out. A Refer-To naming sipmasq's inside address (an AOR of ours)
// leaves naming the same user at the outside address; one naming a host in
// an inside network leaves as a masqueraded contact: the phone's binding
// token when that URI is a registered contact, else a dialog contact that
// outside requests reach at the host and port the URI names. `outside` is
// our outside address as the next hop reaches it (us.on(Side::Outside, hop)).
[[nodiscard]] ReferToChange masquerade_refer_to(osip_message_t* req, const ProxyAddresses& us,
                                                const HostPort& outside, const PeerPolicy& peers,
                                                ContactMap& map, const RegistrationTable& table,
                                                int64_t now);

// Coming in: a Refer-To naming one of our masqueraded contacts names the
// true contact again (an unknown token is left: the INVITE it leads to gets
// sipmasq's 404).
[[nodiscard]] ReferToChange restore_refer_to(osip_message_t* req, const HostPort& outside,
                                             const ContactMap& map, const RegistrationTable& table,
                                             int64_t now);

}  // namespace sipmasq
