#include "proxy_rewrite.h"

#include <charconv>
#include <cstring>

#include "message_fields.h"
#include "osip_ptr.h"

namespace sipmasq {

namespace {

const osip_generic_param_t* find_param(const osip_list_t* params, const char* name) noexcept {
    return find_generic_param(params, name);
}

osip_generic_param_t* find_param(osip_list_t* params, const char* name) noexcept {
    return const_cast<osip_generic_param_t*>(
        find_param(static_cast<const osip_list_t*>(params), name));
}

void set_param(osip_list_t* params, const char* name, std::string_view value) {
    osip_generic_param_t* p = find_param(params, name);
    if (p != nullptr) {
        osip_free(p->gvalue);
        p->gvalue = osip_dup(value);
        return;
    }
    osip_generic_param_add(params, osip_dup(name), osip_dup(value));
}

std::string_view via_branch(const osip_via_t* via) noexcept {
    const osip_generic_param_t* p = find_param(&via->via_params, "branch");
    return p != nullptr ? osip_sv(p->gvalue) : std::string_view();
}

std::string_view from_tag(const osip_from_t* from) noexcept {
    if (from == nullptr) return {};
    const osip_generic_param_t* p = find_param(&from->gen_params, "tag");
    return p != nullptr ? osip_sv(p->gvalue) : std::string_view();
}

osip_header_t* find_header(const osip_message_t* msg, const char* name) noexcept {
    osip_header_t* h = nullptr;
    if (osip_message_header_get_byname(msg, name, 0, &h) < 0) return nullptr;
    return h;
}

bool uri_has_param(const osip_uri_t* uri, const char* name) noexcept {
    return find_param(&uri->url_params, name) != nullptr;
}

}  // namespace

namespace {

// The family of a numeric host, AF_UNSPEC for a name.
int host_family(std::string_view host) noexcept {
    const auto a = SockAddr::parse(host);
    return a ? a->family() : AF_UNSPEC;
}

// Equal as text, or as addresses: an IPv6 address has many spellings
// (2001:db8::1, 2001:DB8:0:0::1; RFC 5118 §4.3), all of them ours.
bool same_host_text(std::string_view a, const std::string& b, const std::optional<SockAddr>& a_addr,
                    const ProxyAddresses& us) {
    if (b.empty()) return false;
    if (iequals(a, b)) return true;
    if (!a_addr) return false;
    const std::optional<SockAddr>& b_addr = us.parsed(b);
    return b_addr && b_addr->same_host(*a_addr);
}

}  // namespace

const HostPort& ProxyAddresses::on(Side side, const SockAddr& peer) const noexcept {
    const HostPort& first = on(side);
    const HostPort& other = side == Side::Inside ? inside_other_family : outside_other_family;
    if (other.empty() || !peer.valid() || host_family(first.host) == peer.family()) return first;
    return host_family(other.host) == peer.family() ? other : first;
}

bool ProxyAddresses::is_own_host(std::string_view host) const noexcept {
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host.empty()) return false;
    const std::optional<SockAddr> addr = SockAddr::parse(host);
    for (const HostPort* hp : {&inside, &outside, &inside_other_family, &outside_other_family})
        if (same_host_text(host, hp->host, addr, *this)) return true;
    for (const auto& alias : aliases)
        if (same_host_text(host, alias, addr, *this)) return true;
    return false;
}

bool ProxyAddresses::is_own_address(const SockAddr& addr) const noexcept {
    if (!addr.valid()) return false;
    for (const HostPort* hp : {&inside, &outside, &inside_other_family, &outside_other_family})
        if (const auto& mine = parsed(hp->host); mine && mine->same_host(addr)) return true;
    for (const auto& alias : aliases)
        if (const auto& mine = parsed(alias); mine && mine->same_host(addr)) return true;
    return false;
}

const std::optional<SockAddr>& ProxyAddresses::parsed(const std::string& host) const {
    for (const ParsedHost& p : parsed_hosts_)
        if (p.text == host) return p.addr;
    // Bounded: our hosts are a handful; a change of address adds one.
    if (parsed_hosts_.size() >= 32) parsed_hosts_.clear();
    std::string_view bare = host;
    if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']')
        bare = bare.substr(1, bare.size() - 2);
    parsed_hosts_.push_back({host, SockAddr::parse(bare)});
    return parsed_hosts_.back().addr;
}

bool ProxyAddresses::is_own(std::string_view host, std::string_view port) const noexcept {
    if (!is_own_host(host)) return false;
    const uint16_t p = parse_sip_port(port);
    return p == inside.port || p == outside.port ||
           (!inside_other_family.empty() && p == inside_other_family.port) ||
           (!outside_other_family.empty() && p == outside_other_family.port);
}

std::string compute_branch(const osip_message_t* req, const ProxyAddresses& us) {
    std::string key;
    const int n = osip_list_size(&req->vias);
    for (int i = 0; i < n; ++i) {
        auto* via = static_cast<const osip_via_t*>(osip_list_get(&req->vias, i));
        if (via == nullptr || is_own_via(via, us)) continue;
        const std::string_view branch = via_branch(via);
        if (branch.substr(0, 7) == "z9hG4bK")
            key.append(branch);
        else
            key += via_to_string(via);  // an RFC 2543 client: its whole Via
        break;
    }
    key += '\n';
    key += call_id_of(req);
    key += '\n';
    if (req->cseq != nullptr) key.append(osip_sv(req->cseq->number));
    key += '\n';
    key += uri_to_string(req->req_uri);
    key += '\n';
    key.append(from_tag(req->from));
    key += '\n';
    key.append(from_tag(req->to));
    std::string branch(kOwnBranchPrefix);
    branch += hex64(stable_hash64(key, 1));
    branch += hex64(stable_hash64(key, 2)).substr(0, 8);
    return branch;
}

bool is_own_via(const osip_via_t* via, const ProxyAddresses& us) noexcept {
    if (via == nullptr) return false;
    if (via_branch(via).substr(0, kOwnBranchPrefix.size()) != kOwnBranchPrefix) return false;
    return us.is_own(osip_sv(via->host), osip_sv(via->port));
}

bool detect_loop(const osip_message_t* req, std::string_view branch,
                 const ProxyAddresses& us) noexcept {
    const int n = osip_list_size(&req->vias);
    for (int i = 0; i < n; ++i) {
        auto* via = static_cast<const osip_via_t*>(osip_list_get(&req->vias, i));
        if (is_own_via(via, us) && via_branch(via) == branch) return true;
    }
    return false;
}

int check_and_decrement_max_forwards(osip_message_t* req) noexcept {
    osip_header_t* h = find_header(req, "max-forwards");
    if (h == nullptr) {
        osip_message_set_header(req, "Max-Forwards", "70");
        return 0;
    }
    std::string_view text = osip_sv(h->hvalue);
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 255)
        return 400;
    if (value == 0) return 483;
    osip_free(h->hvalue);
    h->hvalue = osip_dup(std::to_string(value - 1));
    return 0;
}

void stamp_received_rport(osip_message_t* req, const SockAddr& source) noexcept {
    auto* via = static_cast<osip_via_t*>(osip_list_get(&req->vias, 0));
    if (via == nullptr || !source.valid()) return;
    const std::string src_host = source.host_string();
    osip_generic_param_t* rport = find_param(&via->via_params, "rport");
    std::string_view sent_by = osip_sv(via->host);
    if (sent_by.size() > 2 && sent_by.front() == '[')
        sent_by = sent_by.substr(1, sent_by.size() - 2);
    // received= says where the packet came from, never what a client wrote.
    if (rport != nullptr || !iequals(sent_by, src_host) ||
        find_param(&via->via_params, "received") != nullptr)
        set_param(&via->via_params, "received", src_host);
    if (rport != nullptr) {
        osip_free(rport->gvalue);
        rport->gvalue = osip_dup(std::to_string(source.port()));
    }
}

int add_own_via(osip_message_t* req, const HostPort& me, std::string_view branch,
                Transport transport) {
    std::string host = me.host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    const std::string text = std::string("SIP/2.0/") + transport_name(transport) + " " + host +
                             ":" + std::to_string(me.port) + ";branch=" + std::string(branch) +
                             ";rport";
    OsipViaPtr via = parse_via(text);
    if (via == nullptr) return -1;
    if (osip_list_add(&req->vias, via.get(), 0) < 0) return -1;
    (void)via.release();  // the message owns it now
    return 0;
}

int add_record_route(osip_message_t* req, const ProxyAddresses& us, Leg arrival, Leg departure) {
    auto prepend = [req, &us](Leg leg) -> int {
        const HostPort& hp = us.on(leg.side, leg.peer);
        std::string host = hp.host;
        if (host.find(':') != std::string::npos) host = "[" + host + "]";
        const std::string text = "<sip:" + host + ":" + std::to_string(hp.port) +
                                 (leg.transport == Transport::Tcp ? ";transport=tcp" : "") + ";lr>";
        osip_record_route_t* raw = nullptr;
        if (osip_record_route_init(&raw) != 0) return -1;
        OsipRecordRoutePtr rr(raw);
        if (osip_record_route_parse(rr.get(), text.c_str()) != 0) return -1;
        if (osip_list_add(&req->record_routes, rr.get(), 0) < 0) return -1;
        (void)rr.release();
        return 0;
    };
    // The arrival side's entry goes in first so that it ends up below.
    if ((arrival.side != departure.side || arrival.transport != departure.transport ||
         &us.on(arrival.side, arrival.peer) != &us.on(departure.side, departure.peer)) &&
        prepend(arrival) != 0)
        return -1;
    return prepend(departure);
}

int pop_own_routes(osip_message_t* req, const ProxyAddresses& us) {
    int removed = 0;
    // A strict router put our Record-Route URI into the Request-URI.
    osip_uri_t* ruri = req->req_uri;
    const int nroutes = osip_list_size(&req->routes);
    if (ruri != nullptr && ruri->username == nullptr && nroutes > 0 && uri_has_param(ruri, "lr") &&
        us.is_own(osip_sv(ruri->host), osip_sv(ruri->port))) {
        auto* last = static_cast<osip_route_t*>(osip_list_get(&req->routes, nroutes - 1));
        if (last != nullptr && last->url != nullptr) {
            osip_uri_t* copy = nullptr;
            if (osip_uri_clone(last->url, &copy) == 0) {
                osip_uri_free(req->req_uri);
                req->req_uri = copy;
                osip_list_remove(&req->routes, nroutes - 1);
                osip_route_free(last);
                ++removed;
            }
        }
    }
    while (osip_list_size(&req->routes) > 0) {
        auto* top = static_cast<osip_route_t*>(osip_list_get(&req->routes, 0));
        if (top == nullptr || top->url == nullptr ||
            !us.is_own(osip_sv(top->url->host), osip_sv(top->url->port)))
            break;
        osip_list_remove(&req->routes, 0);
        osip_route_free(top);
        ++removed;
    }
    return removed;
}

std::optional<HostPort> request_next_hop(const osip_message_t* req) {
    const osip_uri_t* uri = nullptr;
    auto* top = static_cast<const osip_route_t*>(osip_list_get(&req->routes, 0));
    if (top != nullptr)
        uri = top->url;
    else
        uri = req->req_uri;
    if (uri == nullptr || uri->host == nullptr || uri->host[0] == '\0') return std::nullopt;
    HostPort hp;
    hp.host = uri->host;
    hp.port = parse_sip_port(osip_sv(uri->port));
    if (hp.port == 0) return std::nullopt;
    return hp;
}

bool pop_own_via(osip_message_t* resp, const ProxyAddresses& us) noexcept {
    auto* top = static_cast<osip_via_t*>(osip_list_get(&resp->vias, 0));
    if (top == nullptr || !is_own_via(top, us)) return false;
    osip_list_remove(&resp->vias, 0);
    osip_via_free(top);
    return true;
}

std::optional<HostPort> via_destination(const osip_via_t* via) {
    if (via == nullptr || via->host == nullptr) return std::nullopt;
    HostPort hp;
    const osip_generic_param_t* received = find_param(&via->via_params, "received");
    if (received != nullptr && received->gvalue != nullptr && received->gvalue[0] != '\0')
        hp.host = received->gvalue;
    else
        hp.host = via->host;
    if (hp.host.size() > 2 && hp.host.front() == '[' && hp.host.back() == ']')
        hp.host = hp.host.substr(1, hp.host.size() - 2);
    const osip_generic_param_t* rport = find_param(&via->via_params, "rport");
    if (rport != nullptr && rport->gvalue != nullptr && rport->gvalue[0] != '\0')
        hp.port = parse_sip_port(rport->gvalue);
    else
        hp.port = parse_sip_port(osip_sv(via->port));
    if (hp.port == 0 || hp.host.empty()) return std::nullopt;
    return hp;
}

std::optional<HostPort> response_next_hop(const osip_message_t* resp) {
    return via_destination(static_cast<const osip_via_t*>(osip_list_get(&resp->vias, 0)));
}

}  // namespace sipmasq
