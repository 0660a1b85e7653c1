// sipmasq's own addresses change under a running proxy (an outside address
// that comes, goes or moves: DHCP, PPPoE, `ip addr`; host_outbound looked
// up again). What it advertises follows at once, since every Via, Record-
// Route, masqueraded Contact and SDP is written from the settings; a call
// whose signalling or media used the old address cannot go on and ends here.
#include "log.h"
#include "sip_proxy.h"

namespace sipmasq {

namespace {

const char* or_none(const std::string& host) noexcept {
    return host.empty() ? "none" : host.c_str();
}

std::string host_of(const SockAddr& a) {
    return a.valid() ? a.host_string() : "";
}

// Both unset, or both the same host.
bool same_address(const SockAddr& a, const SockAddr& b) noexcept {
    if (!a.valid() || !b.valid()) return a.valid() == b.valid();
    return a.same_host(b);
}

}  // namespace

void SipProxy::change_addresses(const SipProxySettings& next) {
    const bool inside_moved = !same_address(next.inside_local, settings_.inside_local);
    const bool outside_moved = !same_address(next.outside_local, settings_.outside_local) ||
                               !same_address(next.outside_advertised, settings_.outside_advertised);
    const SockAddr old_inside = settings_.inside_local;
    const SockAddr old_outside = settings_.outside_local;
    settings_.inside_local = next.inside_local;
    settings_.outside_local = next.outside_local;
    settings_.outside_advertised = next.outside_advertised;
    settings_.inside_local_other_family = next.inside_local_other_family;
    settings_.outside_local_other_family = next.outside_local_other_family;
    settings_.policy.us = next.policy.us;
    settings_.policy.public_host = next.policy.public_host;
    settings_.peers = next.peers;
    if (settings_.peers.inside_networks.empty()) {
        // As the constructor does: the inside networks and these addresses.
        std::vector<SockAddr> adv, in, out;
        if (settings_.outside_advertised.valid()) adv.push_back(settings_.outside_advertised);
        if (settings_.inside_local.valid()) in.push_back(settings_.inside_local);
        if (settings_.outside_local.valid()) out.push_back(settings_.outside_local);
        settings_.peers = make_peer_policy(settings_.policy.inside_networks, in, out, adv);
    }
    if (!inside_moved && !outside_moved) return;
    log_notice("addresses now: inside %s, outside %s (advertised outside: %s)",
               or_none(host_of(settings_.inside_local)), or_none(host_of(settings_.outside_local)),
               or_none(settings_.policy.us.outside.host));
    // A call that crossed to the outside was signalled and relayed through
    // the old outside address (Via, Record-Route, Contact, c=): the peer
    // can reach it there no more. A call adopted from rtpd after a restart
    // (no tags known) is counted as one that crossed.
    std::vector<std::string> ending;
    for (const auto& [id, call] : calls_) {
        const bool adopted = call.from_tag.empty();
        const bool crossed =
            adopted || (call.outside_hop.valid() && !settings_.peers.is_inside(call.outside_hop));
        if (inside_moved || (outside_moved && crossed)) ending.push_back(id);
    }
    for (const std::string& id : ending) {
        log_notice("call %s: ends: the %s address it used (%s) is gone", id.c_str(),
                   inside_moved ? "inside" : "outside",
                   or_none(host_of(inside_moved ? old_inside : old_outside)));
        end_call(id, "local address gone");
    }
    // Registrations relayed to a provider keep the Contact they were sent
    // with until the phone refreshes them: that refresh is masqueraded with
    // the new address (see sipmasq.conf(5), "Addresses that change").
    if (outside_moved && table_.size() > 0)
        log_notice(
            "%zu registrations were made through the old outside address %s; each is sent "
            "with the new one when its phone refreshes it",
            table_.size(), or_none(host_of(old_outside)));
}

}  // namespace sipmasq
