// Where a request goes, decided from where it arrived (the socket, never
// what it says) and what it asks for. Data in, decision out: no I/O, so the
// open-relay rules are unit-tested. Call after pop_own_routes().
#pragma once

#include <osipparser2/osip_parser.h>

#include <cstdint>
#include <string>
#include <vector>

#include "address.h"
#include "contact_masq.h"
#include "provider_targets.h"
#include "proxy_rewrite.h"
#include "registration_table.h"
#include "sip_types.h"

namespace sipmasq {

// One outbound_domain triple: requests for `names` go to `hop`.
struct OutboundDomainRoute {
    std::vector<std::string> names;
    HostPort hop;
    Transport transport = Transport::Udp;  // the host was configured ;transport=tcp
};

struct RoutingPolicy {
    ProxyAddresses us;
    std::string public_host;                 // host of registrar-mode AORs
    std::vector<std::string> local_domains;  // domains we are registrar for
    Acl hosts_allow_reg;
    Acl hosts_allow_sip;
    Acl hosts_deny_sip;
    HostPort outbound_proxy;  // host "" = none
    Transport outbound_proxy_transport = Transport::Udp;
    std::vector<OutboundDomainRoute> outbound_domains;  // the first that names the host
    std::vector<Cidr> inside_networks;                  // next hops that are inside
    ProviderTargets provider_targets;                   // default_target, did_range
};

// An INVITE for an AOR with several live contacts rings them all (RFC 3261
// §16.6); an AOR has at most this many (registrar.h).
inline constexpr size_t kMaxForkTargets = 10;

// One contact of a forked request, as the fields of RouteDecision say it.
struct ForkTarget {
    HostPort next_hop;
    Transport transport = Transport::Udp;
    SockAddr flow;
    std::string new_request_uri;
};

enum class RouteAction : uint8_t {
    Forward,   // to next_hop via out_side
    Respond,   // answer with `status` (never for ACK: that is Drop)
    Drop,      // silently (ACL, ACK that cannot be routed)
    Register,  // we are the registrar: answer the REGISTER ourselves
};

struct RouteDecision {
    RouteAction action = RouteAction::Drop;
    int status = 0;
    const char* reason = "";  // for the log line
    Side out_side = Side::Outside;
    // TCP when the URI that names the next hop says transport=tcp (a
    // Route, the Request-URI, or a phone's Contact), or the configured
    // provider it goes to needs TCP (outbound_proxy_host ...;transport=tcp).
    Transport transport = Transport::Udp;
    HostPort next_hop;
    // To a phone: where its registration (or dialog) came from; while a
    // TCP connection from there is open, the request goes over it (TCP,
    // even when the Contact does not say transport=tcp) instead of next_hop.
    SockAddr flow;
    std::string new_request_uri;    // "" = keep; else the phone's true contact
    bool relayed_register = false;  // a REGISTER going to a third-party registrar
    // Two or more: fork to each (the first is the target above); else one target.
    std::vector<ForkTarget> forks;
};

// hosts_deny_sip first, then hosts_allow_sip when it is set.
[[nodiscard]] bool sip_source_allowed(const RoutingPolicy& policy, const SockAddr& source) noexcept;

[[nodiscard]] RouteDecision route_request(const RoutingPolicy& policy, const osip_message_t* req,
                                          Side arrival, const SockAddr& source,
                                          const RegistrationTable& table, const ContactMap& map,
                                          int64_t now);

}  // namespace sipmasq
