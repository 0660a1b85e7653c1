#include "refer_to_masq.h"

#include <string>

#include "osip_ptr.h"

namespace sipmasq {

namespace {

// Refer-To, or its compact form "r" (RFC 3515 §7.2).
osip_header_t* refer_to_header(const osip_message_t* req) {
    for (const char* name : {"refer-to", "r"}) {
        osip_header_t* h = nullptr;
        if (osip_message_header_get_byname(req, name, 0, &h) >= 0 && h != nullptr &&
            h->hvalue != nullptr)
            return h;
    }
    return nullptr;
}

bool is_sip_uri(const osip_uri_t* uri) {
    return uri != nullptr && uri->host != nullptr && uri->host[0] != '\0' &&
           (iequals(osip_sv(uri->scheme), "sip") || iequals(osip_sv(uri->scheme), "sips"));
}

// The URI without its headers: what a request to that target would carry
// as its Request-URI.
std::string without_headers(const osip_uri_t* uri) {
    osip_uri_t* raw = nullptr;
    if (osip_uri_clone(uri, &raw) != 0 || raw == nullptr) return {};
    OsipUriPtr copy(raw);
    osip_uri_header_freelist(&copy->url_headers);  // leaves the list empty, reusable
    return uri_to_string(copy.get());
}

// The target's headers (Replaces, ...) and method parameter carried over
// from the URI being replaced.
bool carry_over(const osip_uri_t* from, osip_uri_t* to) {
    const int n = osip_list_size(&from->url_headers);
    for (int i = 0; i < n; ++i) {
        const auto* h = static_cast<const osip_uri_header_t*>(osip_list_get(&from->url_headers, i));
        if (h == nullptr || h->gname == nullptr) continue;
        if (osip_uri_uheader_add(to, osip_dup(osip_sv(h->gname)), osip_dup(osip_sv(h->gvalue))) !=
            0)
            return false;
    }
    osip_uri_param_t* method = nullptr;
    osip_uri_param_t* already = nullptr;
    if (osip_uri_param_get_byname(const_cast<osip_list_t*>(&from->url_params),
                                  const_cast<char*>("method"), &method) == 0 &&
        method != nullptr &&
        osip_uri_param_get_byname(&to->url_params, const_cast<char*>("method"), &already) != 0)
        return osip_uri_uparam_add(to, osip_dup("method"), osip_dup(osip_sv(method->gvalue))) == 0;
    return true;
}

// The header's value becomes the (changed) target.
ReferToChange write_back(osip_header_t* h, const osip_contact_t* target) {
    const std::string text = contact_to_string(target);
    char* value = text.empty() ? nullptr : osip_dup(text);
    if (value == nullptr) return ReferToChange::Failed;
    osip_free(h->hvalue);
    h->hvalue = value;
    return ReferToChange::Rewritten;
}

// Puts `uri` (owned on success) into the header in place of the old URL.
ReferToChange replace_target(osip_header_t* h, osip_contact_t* target, OsipUriPtr uri) {
    if (uri == nullptr || !carry_over(target->url, uri.get())) return ReferToChange::Failed;
    osip_uri_free(target->url);
    target->url = uri.release();
    return write_back(h, target);
}

}  // namespace

ReferToChange masquerade_refer_to(osip_message_t* req, const ProxyAddresses& us,
                                  const HostPort& outside, const PeerPolicy& peers, ContactMap& map,
                                  const RegistrationTable& table, int64_t now) {
    osip_header_t* h = refer_to_header(req);
    if (h == nullptr) return ReferToChange::None;
    OsipContactPtr target = parse_contact(osip_sv(h->hvalue));
    if (target == nullptr || !is_sip_uri(target->url)) return ReferToChange::None;
    osip_uri_t* url = target->url;
    const std::string_view host = osip_sv(url->host);
    if (iequals(host, outside.host) || masq_token(url)) return ReferToChange::None;
    if (us.is_own_host(host)) {
        // An AOR of ours by the inside address: the same user, as the
        // outside reaches it.
        char* outside_host = osip_dup(outside.host);
        char* outside_port =
            outside.port == 5060 ? nullptr : osip_dup(std::to_string(outside.port));
        if (outside_host == nullptr || (outside.port != 5060 && outside_port == nullptr)) {
            osip_free(outside_host);
            osip_free(outside_port);
            return ReferToChange::Failed;
        }
        osip_free(url->host);
        url->host = outside_host;
        osip_free(url->port);
        url->port = outside_port;
        return write_back(h, target.get());
    }
    std::optional<SockAddr> at = SockAddr::parse(host);
    if (!at || !peers.is_inside(*at)) return ReferToChange::None;
    const uint16_t port = parse_sip_port(osip_sv(url->port));
    if (port == 0) return ReferToChange::None;
    at->set_port(port);
    const std::string true_uri = without_headers(url);
    if (true_uri.empty()) return ReferToChange::Failed;
    std::string token = contact_token(true_uri);
    // A registered contact is reached through its binding; a dialog
    // contact already known keeps where it is reached; anything else is
    // reached at the address it names.
    if (table.find_by_token(token, now) == nullptr) {
        if (map.find(token) != nullptr)
            map.touch(token, now);
        else
            token = map.remember(true_uri, *at, now);
    }
    return replace_target(h, target.get(),
                          parse_uri(make_masq_uri(osip_sv(url->username), outside, token)));
}

ReferToChange restore_refer_to(osip_message_t* req, const HostPort& outside, const ContactMap& map,
                               const RegistrationTable& table, int64_t now) {
    osip_header_t* h = refer_to_header(req);
    if (h == nullptr) return ReferToChange::None;
    OsipContactPtr target = parse_contact(osip_sv(h->hvalue));
    if (target == nullptr || !is_sip_uri(target->url)) return ReferToChange::None;
    const osip_uri_t* url = target->url;
    if (!iequals(osip_sv(url->host), outside.host) ||
        parse_sip_port(osip_sv(url->port)) != outside.port)
        return ReferToChange::None;
    const auto token = masq_token(url);
    if (!token) return ReferToChange::None;
    const auto true_uri = resolve_token(*token, map, table, now);
    if (!true_uri) return ReferToChange::None;
    return replace_target(h, target.get(), parse_uri(*true_uri));
}

}  // namespace sipmasq
