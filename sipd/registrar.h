// REGISTER handling in both modes of the FAQ: sipmasq as the registrar
// (answered here, RFC 3261 §10.3) and sipmasq as an outbound proxy (the
// binding is provisional until the third-party registrar's 2xx says how
// long it lives). Data in, table changes and a response out: no I/O.
#pragma once

#include <osipparser2/osip_parser.h>

#include <cstdint>
#include <string>
#include <vector>

#include "message_fields.h"  // call_id_of
#include "osip_ptr.h"
#include "registration_table.h"
#include "request_routing.h"

namespace sipmasq {

struct RegistrarSettings {
    uint32_t default_expires = 3600;
    uint32_t max_expires = 86400;
    // How long a relayed REGISTER's binding waits for the registrar's 2xx.
    uint32_t provisional_seconds = 32;
    // Hard caps: a REGISTER that would exceed them is refused (403 for one
    // AOR's contacts, 503 for the table) and changes nothing.
    size_t max_contacts_per_aor = 10;
    size_t max_registrations = 10000;
};

struct RegisterOutcome {
    OsipMessagePtr response;  // what to answer (200 with the bindings, or an error)
    std::vector<RegistrationTable::Event> events;
    const char* error = "";  // why a non-200 was answered
};

// The public AOR of a URI: every name of ours stands for the one public host.
[[nodiscard]] std::string aor_of_uri(const RoutingPolicy& policy, const osip_uri_t* uri);

// Registrar mode: updates `table` from the REGISTER and builds the answer.
[[nodiscard]] RegisterOutcome handle_register(const osip_message_t* req, const SockAddr& source,
                                              const RoutingPolicy& policy,
                                              const RegistrarSettings& settings,
                                              RegistrationTable& table, int64_t now);

// Outbound-proxy mode, on the REGISTER before its Contacts are masqueraded:
// a provisional binding per Contact (a live confirmed one is left alone
// until the registrar answers).
std::vector<RegistrationTable::Event> note_relayed_register(const osip_message_t* req,
                                                            const SockAddr& source,
                                                            const RoutingPolicy& policy,
                                                            const RegistrarSettings& settings,
                                                            RegistrationTable& table, int64_t now);

// Outbound-proxy mode, on the registrar's final response (Contacts still
// masqueraded): a 2xx confirms the listed bindings for what the registrar
// granted and removes those of this Call-ID it no longer lists.
std::vector<RegistrationTable::Event> apply_registrar_response(const osip_message_t* resp,
                                                               const RoutingPolicy& policy,
                                                               RegistrationTable& table,
                                                               int64_t now);

}  // namespace sipmasq
