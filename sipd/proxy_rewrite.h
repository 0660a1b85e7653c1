// What a proxy does to a message per RFC 3261 §16 and RFC 3581: Via with a
// z9hG4bK branch, received/rport, Max-Forwards, loop detection, loose
// routing, Record-Route and the Via check of responses. Each step is a
// function on an osip_message_t so the process can order them and tests can
// check them one by one.
#pragma once

#include <osipparser2/osip_parser.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "address.h"
#include "sip_types.h"

namespace sipmasq {

// Our branches start with the magic cookie and this mark, so our own Vias
// are recognised by host, port and branch together.
inline constexpr std::string_view kOwnBranchPrefix = "z9hG4bKsmq";

// Who sipmasq is on each side.
struct ProxyAddresses {
    HostPort inside;   // inside address : sip_listen_port
    HostPort outside;  // what the outside sees: host_outbound or the outside address
    // A dual-stack side's address in the other family than inside/outside
    // (host "" when the side has one family only).
    HostPort inside_other_family;
    HostPort outside_other_family;
    // Every other host (address, name, local domain) that means us, compared
    // case-insensitively (addresses as addresses); the hosts above count already.
    std::vector<std::string> aliases;

    [[nodiscard]] const HostPort& on(Side side) const noexcept {
        return side == Side::Inside ? inside : outside;
    }
    // Our address on `side` as the next hop `peer` there reaches us: in
    // its family when the side has one (RFC 5118 dual stack), else on(side).
    [[nodiscard]] const HostPort& on(Side side, const SockAddr& peer) const noexcept;
    // host is one of ours (any port).
    [[nodiscard]] bool is_own_host(std::string_view host) const noexcept;
    // addr is one of our addresses (any port): no text round trip.
    [[nodiscard]] bool is_own_address(const SockAddr& addr) const noexcept;
    // host is ours and port (as written; "" = 5060) is our listen port.
    [[nodiscard]] bool is_own(std::string_view host, std::string_view port) const noexcept;

    // Our hosts as addresses, parsed once per text (every message asks
    // several times whether a Via, Route or next hop is us). Keyed by the
    // text itself, so a field that changes is parsed anew, never stale.
    struct ParsedHost {
        std::string text;
        std::optional<SockAddr> addr;
    };
    mutable std::vector<ParsedHost> parsed_hosts_;
    [[nodiscard]] const std::optional<SockAddr>& parsed(const std::string& host) const;
};

// The branch of the Via sipmasq adds: a hash of what identifies the
// transaction (first Via not ours, Call-ID, CSeq number, Request-URI, tags),
// so a retransmission, its CANCEL and the ACK of a non-2xx get the same
// branch, and a request that spirals back with a new Request-URI does not.
[[nodiscard]] std::string compute_branch(const osip_message_t* req, const ProxyAddresses& us);

[[nodiscard]] bool is_own_via(const osip_via_t* via, const ProxyAddresses& us) noexcept;

// RFC 3261 §16.3 step 4: one of our Vias already carries this branch.
[[nodiscard]] bool detect_loop(const osip_message_t* req, std::string_view branch,
                               const ProxyAddresses& us) noexcept;

// 0, or 483 when Max-Forwards is 0 (the request must then be answered, not
// forwarded). Decrements it, or adds "Max-Forwards: 70" when absent. A
// malformed value counts as 400.
[[nodiscard]] int check_and_decrement_max_forwards(osip_message_t* req) noexcept;

// RFC 3261 §18.2.1 and RFC 3581 on the top Via of a received request:
// received= when the source differs from sent-by (or rport is present),
// rport=<source port> when the client asked for it.
void stamp_received_rport(osip_message_t* req, const SockAddr& source) noexcept;

// Prepends our Via (SIP/2.0/UDP or SIP/2.0/TCP host:port;branch=...;rport),
// written for the leg the request leaves by. 0 or -1.
[[nodiscard]] int add_own_via(osip_message_t* req, const HostPort& me, std::string_view branch,
                              Transport transport = Transport::Udp);

// One leg of a request through sipmasq: the side, the transport and the
// peer there (whose address family picks ours; invalid: the side's first).
struct Leg {
    Side side = Side::Inside;
    Transport transport = Transport::Udp;
    SockAddr peer;
};

// Record-Route <sip:host:port;lr> (with ;transport=tcp on a TCP leg) with
// our address on the leg the request leaves by; when it crosses sides,
// transports or address families, also the one for the leg it came in on
// (double record-routing), so each leg's route set names our address
// there the way that leg reaches us.
[[nodiscard]] int add_record_route(osip_message_t* req, const ProxyAddresses& us, Leg arrival,
                                   Leg departure);
[[nodiscard]] inline int add_record_route(osip_message_t* req, const ProxyAddresses& us,
                                          Side arrival, Side departure) {
    return add_record_route(req, us, Leg{arrival, Transport::Udp, {}},
                            Leg{departure, Transport::Udp, {}});
}

// RFC 3261 §16.4: a Request-URI that is one of our Record-Route URIs (from a
// strict router) is replaced by the last Route, and every Route naming us on
// top is removed. Returns how many Routes were removed.
int pop_own_routes(osip_message_t* req, const ProxyAddresses& us);

// The next hop of a request: the top Route (loose routing) or else the
// Request-URI (maddr ignored). nullopt when there is no usable host.
[[nodiscard]] std::optional<HostPort> request_next_hop(const osip_message_t* req);

// A response: false when the top Via is not ours (drop it); else removes it.
[[nodiscard]] bool pop_own_via(osip_message_t* resp, const ProxyAddresses& us) noexcept;

// Where a response goes: the (new) top Via's received/rport, else sent-by.
[[nodiscard]] std::optional<HostPort> response_next_hop(const osip_message_t* resp);
[[nodiscard]] std::optional<HostPort> via_destination(const osip_via_t* via);

}  // namespace sipmasq
