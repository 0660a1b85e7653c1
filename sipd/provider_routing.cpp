#include "provider_routing.h"

#include <cstring>

#include "contact_masq.h"
#include "osip_ptr.h"

namespace sipmasq {
namespace {

RouteDecision not_found(const char* reason) {
    RouteDecision d;
    d.action = RouteAction::Respond;
    d.status = 404;
    d.reason = reason;
    return d;
}

bool names_us(const RoutingPolicy& p, std::string_view host) {
    if (p.us.is_own_host(host) || (!p.public_host.empty() && iequals(p.public_host, host)))
        return true;
    for (const auto& d : p.local_domains)
        if (iequals(d, host)) return true;
    return false;
}

bool inside_address(const RoutingPolicy& p, std::string_view host) {
    const auto addr = SockAddr::parse(host);
    if (!addr) return false;
    for (const Cidr& c : p.inside_networks)
        if (c.contains(*addr)) return true;
    return false;
}

// One live binding, sent where its REGISTER came from.
RouteDecision to_one_binding(const Binding* b, const char* reason) {
    OsipUriPtr contact = parse_uri(b->contact);
    if (contact == nullptr || contact->host == nullptr) return not_found("unusable contact");
    RouteDecision d;
    d.action = RouteAction::Forward;
    d.out_side = Side::Inside;
    d.new_request_uri = b->contact;
    d.next_hop = {contact->host, parse_sip_port(osip_sv(contact->port))};
    if (b->source.valid()) d.next_hop = {b->source.host_string(), b->source.port()};
    if (d.next_hop.port == 0) return not_found("unusable contact");
    d.reason = reason;
    return d;
}

// The AOR's newest live binding; the INVITE (the only request routed
// here) rings every one of them (RFC 3261 §16.6).
RouteDecision to_binding(const RegistrationTable& table, const std::string& aor, int64_t now,
                         const char* reason) {
    const auto live = table.lookup(aor, now);
    if (live.empty()) return not_found("target has no registration");
    RouteDecision d = to_one_binding(live.front(), reason);
    if (d.action != RouteAction::Forward || live.size() < 2) return d;
    for (const Binding* b : live) {
        if (d.forks.size() >= kMaxForkTargets) break;
        const RouteDecision one = to_one_binding(b, reason);
        if (one.action == RouteAction::Forward)
            d.forks.push_back({one.next_hop, one.transport, one.flow, one.new_request_uri});
    }
    if (d.forks.size() < 2) d.forks.clear();
    return d;
}

}  // namespace

std::optional<RouteDecision> route_unregistered(const RoutingPolicy& p, const osip_message_t* req,
                                                const RegistrationTable& table, int64_t now) {
    const ProviderTargets& t = p.provider_targets;
    if (t.empty() || req == nullptr || !MSG_IS_INVITE(req) || req->req_uri == nullptr) return {};
    if (masq_token(req->req_uri)) return {};  // a dialog's contact, not a user
    // did_range: the dialled number belongs to an account; the To header
    // (the number the provider called) goes on unchanged.
    if (auto account = did_account(t.did_ranges, osip_sv(req->req_uri->username))) {
        const size_t at = account->find('@');
        return to_binding(table, normalise_aor(account->substr(0, at), account->substr(at + 1)),
                          now, "did_range account");
    }
    if (t.default_target.empty()) return {};
    OsipUriPtr target = parse_uri(t.default_target);
    if (target == nullptr || target->host == nullptr) return not_found("default_target unusable");
    const std::string_view host = osip_sv(target->host);
    if (names_us(p, host)) {
        // An AOR of ours: whatever phone registered it.
        const std::string_view aor_host = p.us.is_own_host(host) && !p.public_host.empty()
                                              ? std::string_view(p.public_host)
                                              : host;
        return to_binding(table, normalise_aor(osip_sv(target->username), aor_host), now,
                          "default_target");
    }
    if (!inside_address(p, host)) return not_found("default_target is not inside");
    // A phone or PBX inside that does not register.
    RouteDecision d;
    d.action = RouteAction::Forward;
    d.out_side = Side::Inside;
    d.new_request_uri = t.default_target;
    d.next_hop = {std::string(host), parse_sip_port(osip_sv(target->port))};
    if (d.next_hop.port == 0) return not_found("default_target unusable");
    d.reason = "default_target";
    return d;
}

}  // namespace sipmasq
