#include "request_routing.h"

#include <algorithm>
#include <cstring>

#include "osip_ptr.h"
#include "provider_routing.h"

namespace sipmasq {

namespace {

// No answer to an ACK, nor to a request that did not parse (req null).
RouteDecision respond(const osip_message_t* req, int status, const char* reason) {
    RouteDecision d;
    d.action = req == nullptr || MSG_IS_ACK(req) ? RouteAction::Drop : RouteAction::Respond;
    d.status = status;
    d.reason = reason;
    return d;
}

// A host with a colon is an IPv6 address: RFC 5118 §4.2 (no brackets, so
// libosip2 read part of it as the port), a zone (fe80::1%25eth0: not in
// RFC 3261's grammar) or garbage in brackets is no host at all.
bool usable_host(std::string_view host) {
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host.empty()) return false;
    if (host.find(':') == std::string_view::npos) return true;
    const auto a = SockAddr::parse(host);
    return a && a->is_v6() && a->port() == 0;
}

bool host_in(const std::vector<std::string>& names, std::string_view host) {
    for (const auto& n : names)
        if (iequals(n, host)) return true;
    return false;
}

bool is_inside_host(const RoutingPolicy& p, std::string_view host) {
    auto addr = SockAddr::parse(host);
    if (!addr) return false;
    for (const Cidr& c : p.inside_networks)
        if (c.contains(*addr)) return true;
    return false;
}

// Ours for registrations: an address or name of sipmasq, or a local domain.
bool is_registrar_host(const RoutingPolicy& p, std::string_view host) {
    return p.us.is_own_host(host) || host_in(p.local_domains, host) ||
           (!p.public_host.empty() && iequals(p.public_host, host));
}

std::string aor_for(const RoutingPolicy& p, const osip_uri_t* uri) {
    std::string_view host = osip_sv(uri->host);
    // Every name of ours means the one public host the AORs were stored with.
    if (p.us.is_own_host(host) && !p.public_host.empty()) host = p.public_host;
    return normalise_aor(osip_sv(uri->username), host);
}

std::optional<HostPort> host_port_of(std::string_view uri_text) {
    OsipUriPtr uri = parse_uri(uri_text);
    if (uri == nullptr || uri->host == nullptr) return std::nullopt;
    HostPort hp{uri->host, parse_sip_port(osip_sv(uri->port))};
    if (hp.port == 0) return std::nullopt;
    return hp;
}

// transport=tcp among a URI's parameters (RFC 3261 §19.1.1).
Transport transport_of(const osip_uri_t* uri) {
    if (uri == nullptr) return Transport::Udp;
    osip_uri_param_t* param = nullptr;
    if (osip_uri_uparam_get_byname(const_cast<osip_uri_t*>(uri), const_cast<char*>("transport"),
                                   &param) == 0 &&
        param != nullptr && iequals(osip_sv(param->gvalue), "tcp"))
        return Transport::Tcp;
    return Transport::Udp;
}

// To a phone inside: its true Contact (RFC 3261), which may name another
// port than the one it registered from; but a phone behind a further NAT
// (its Contact is another host than the source of its registration, or not
// in an inside network) is reached at that source, as Kamailio's
// fix_nated_contact does.
RouteDecision to_inside(const RoutingPolicy& p, const osip_message_t* req,
                        const std::string& contact, const SockAddr* source) {
    RouteDecision d;
    auto hp = host_port_of(contact);
    if (!hp) return respond(req, 404, "unusable contact");
    d.action = RouteAction::Forward;
    d.out_side = Side::Inside;
    d.new_request_uri = contact;
    d.next_hop = *hp;
    d.reason = "to inside phone";
    OsipUriPtr contact_uri = parse_uri(contact);
    d.transport = transport_of(contact_uri.get());
    // A phone is reached over the TCP connection it registered (or called)
    // from while that is open, whatever its Contact says (RFC 5626 §5.3,
    // as Kamailio does); else over what its Contact says.
    if (source != nullptr && source->valid()) d.flow = *source;
    if (source != nullptr && source->valid()) {
        const auto at = SockAddr::parse(hp->host);
        if (!at || !at->same_host(*source) || !is_inside_host(p, hp->host)) {
            d.next_hop = {source->host_string(), source->port()};
            d.reason = "to inside phone behind a NAT";
        }
    }
    return d;
}

// A Request-URI naming us: a masqueraded contact or a registered AOR.
RouteDecision to_local_user(const RoutingPolicy& p, const osip_message_t* req,
                            const RegistrationTable& table, const ContactMap& map, int64_t now) {
    const osip_uri_t* uri = req->req_uri;
    if (auto token = masq_token(uri)) {
        if (const ContactMap::Entry* e = map.find(*token))
            return to_inside(p, req, e->contact, &e->source);
        if (const Binding* b = table.find_by_token(*token, now))
            return to_inside(p, req, b->contact, &b->source);
        return respond(req, 404, "unknown masqueraded contact");
    }
    if (uri->username == nullptr) return respond(req, 404, "no user in Request-URI");
    const auto live = table.lookup(aor_for(p, uri), now);
    if (live.empty()) return respond(req, 404, "no registration");
    RouteDecision d = to_inside(p, req, live.front()->contact, &live.front()->source);
    // An INVITE rings every live contact in parallel, newest first; other
    // requests go to the newest alone.
    if (d.action != RouteAction::Forward || !MSG_IS_INVITE(req) || live.size() < 2) return d;
    for (const Binding* b : live) {
        if (d.forks.size() >= kMaxForkTargets) break;
        const RouteDecision one = to_inside(p, req, b->contact, &b->source);
        if (one.action != RouteAction::Forward) continue;
        d.forks.push_back({one.next_hop, one.transport, one.flow, one.new_request_uri});
    }
    if (d.forks.size() < 2) d.forks.clear();
    return d;
}

// Out to a configured provider (over the transport configured for it) or
// to the Request-URI's host (over the one the URI says).
RouteDecision outward(const RoutingPolicy& p, const osip_message_t* req, std::string_view host,
                      uint16_t port) {
    RouteDecision d;
    d.action = RouteAction::Forward;
    d.out_side = Side::Outside;
    d.reason = "to outside";
    const auto domain = std::find_if(
        p.outbound_domains.begin(), p.outbound_domains.end(),
        [host](const OutboundDomainRoute& r) { return !r.hop.empty() && host_in(r.names, host); });
    if (domain != p.outbound_domains.end()) {
        d.next_hop = domain->hop;
        d.transport = domain->transport;
        d.reason = "to outbound domain host";
    } else if (!p.outbound_proxy.empty()) {
        d.next_hop = p.outbound_proxy;
        d.transport = p.outbound_proxy_transport;
        d.reason = "to outbound proxy";
    } else {
        d.next_hop = {std::string(host), port};
        d.transport = transport_of(req->req_uri);
    }
    if (d.next_hop.port == 0) return respond(req, 400, "bad port");
    if (p.us.is_own_host(d.next_hop.host)) return respond(req, 482, "next hop is us");
    return d;
}

}  // namespace

bool sip_source_allowed(const RoutingPolicy& policy, const SockAddr& source) noexcept {
    if (policy.hosts_deny_sip.matches(source)) return false;
    if (!policy.hosts_allow_sip.empty() && !policy.hosts_allow_sip.matches(source)) return false;
    return true;
}

RouteDecision route_request(const RoutingPolicy& p, const osip_message_t* req, Side arrival,
                            const SockAddr& source, const RegistrationTable& table,
                            const ContactMap& map, int64_t now) {
    if (!sip_source_allowed(p, source)) {
        RouteDecision d;
        d.reason = "hosts_allow_sip/hosts_deny_sip";
        return d;
    }
    if (req == nullptr || req->req_uri == nullptr || req->req_uri->host == nullptr)
        return respond(req, 400, "no Request-URI host");
    const osip_uri_t* uri = req->req_uri;
    const std::string_view host = osip_sv(uri->host);
    const uint16_t port = parse_sip_port(osip_sv(uri->port));
    if (port == 0) return respond(req, 400, "bad Request-URI port");
    if (!usable_host(host)) return respond(req, 400, "bad Request-URI host");

    if (MSG_IS_REGISTER(req)) {
        if (arrival == Side::Outside) return respond(req, 403, "REGISTER from outside");
        if (!p.hosts_allow_reg.empty() && !p.hosts_allow_reg.matches(source))
            return respond(req, 403, "hosts_allow_reg");
        if (is_registrar_host(p, host)) {
            RouteDecision d;
            d.action = RouteAction::Register;
            d.reason = "registrar";
            return d;
        }
        RouteDecision d = outward(p, req, host, port);
        d.relayed_register = d.action == RouteAction::Forward;
        return d;
    }

    const auto* top_route = static_cast<const osip_route_t*>(osip_list_get(&req->routes, 0));
    if (arrival == Side::Outside) {
        // Never relay out again: only an inside phone may be the target.
        if (top_route != nullptr) return respond(req, 403, "Route beyond sipmasq from outside");
        if (!is_registrar_host(p, host)) return respond(req, 403, "not for us (no relaying)");
        RouteDecision d = to_local_user(p, req, table, map, now);
        // No registration: did_range or default_target may take it (provider_routing.cpp).
        if (d.action == RouteAction::Respond && d.status == 404)
            if (auto target = route_unregistered(p, req, table, now)) return *target;
        return d;
    }

    // From inside.
    if (top_route != nullptr && top_route->url != nullptr && top_route->url->host != nullptr) {
        RouteDecision d;
        d.action = RouteAction::Forward;
        d.next_hop = {top_route->url->host, parse_sip_port(osip_sv(top_route->url->port))};
        d.transport = transport_of(top_route->url);
        if (d.next_hop.port == 0) return respond(req, 400, "bad Route port");
        if (!usable_host(d.next_hop.host)) return respond(req, 400, "bad Route host");
        d.out_side = is_inside_host(p, d.next_hop.host) ? Side::Inside : Side::Outside;
        d.reason = "loose route";
        return d;
    }
    if (is_registrar_host(p, host)) return to_local_user(p, req, table, map, now);
    if (is_inside_host(p, host)) {
        RouteDecision d;
        d.action = RouteAction::Forward;
        d.out_side = Side::Inside;
        d.next_hop = {std::string(host), port};
        d.transport = transport_of(uri);
        d.reason = "inside to inside";
        return d;
    }
    return outward(p, req, host, port);
}

}  // namespace sipmasq
