// An outside INVITE for a user of ours with no registration: a did_range's
// account or the default_target take it instead of a 404. Never relays out
// again: the target is a registered phone or a host in an inside network.
#pragma once

#include <osipparser2/osip_parser.h>

#include <cstdint>
#include <optional>

#include "registration_table.h"
#include "request_routing.h"

namespace sipmasq {

// nullopt: nothing configured applies (the 404 stands). A decision: the
// route to the target, or a 404 saying why the target cannot take it.
[[nodiscard]] std::optional<RouteDecision> route_unregistered(const RoutingPolicy& policy,
                                                              const osip_message_t* req,
                                                              const RegistrationTable& table,
                                                              int64_t now);

}  // namespace sipmasq
