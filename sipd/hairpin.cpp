// Hairpinned calls, the part of SipProxy that lets an SDP from outside name
// one of sipmasq's own relay ports. A provider that does not anchor media
// and routes a call of one inside phone back to another (a local call
// through the provider) hands the second call the SDP sipmasq wrote for the
// first: sipmasq's outside address and the outside port of the first call's
// forward. That port becomes the second forward's outside peer, so rtpd
// relays between its own two forwards through the loopback. Relayed rather
// than short-circuited: each call keeps its own forwards, peers, hold,
// re-INVITEs and timeouts, as two calls the provider may change or end
// apart, and rtpd's hot path stays free of links between forwards; the cost
// is one more pass through rtpd for the hairpinned calls alone.
#include "sip_proxy.h"

namespace sipmasq {

bool SipProxy::names_own_outside(const SockAddr& addr) const {
    return addr.same_host(settings_.outside_local) ||
           (settings_.outside_advertised.valid() && addr.same_host(settings_.outside_advertised));
}

std::optional<SockAddr> SipProxy::hairpin_relay(const SockAddr& named, const std::string& call_id,
                                                std::optional<uint32_t>* worker) const {
    if (!names_own_outside(named) || named.port() == 0) return std::nullopt;
    // A scan, only for an SDP that names our own address; never the call's
    // own forwards (a relay to itself).
    for (const auto& [id, call] : calls_) {
        if (id == call_id) continue;
        for (const CallStream& s : call.streams)
            if (s.id != 0 && s.outside_port == named.port()) {
                // rtpd sends to the address its sockets are bound to (behind
                // a NAT router the advertised one is not ours to reach).
                SockAddr relay = settings_.outside_local;
                relay.set_port(named.port());
                // rtpd accepts another forward as a peer only when it holds
                // it itself: the hairpinned call goes to the same worker.
                if (worker != nullptr) *worker = call.media_worker;
                return relay;
            }
    }
    return std::nullopt;
}

}  // namespace sipmasq
