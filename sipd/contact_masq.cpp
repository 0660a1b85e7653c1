#include "contact_masq.h"

#include <cstring>

#include "osip_ptr.h"

namespace sipmasq {

namespace {

// Text or address equality: an IPv6 host has many spellings (RFC 5118).
bool names_outside(const osip_uri_t* uri, const HostPort& outside) {
    if (uri == nullptr || uri->host == nullptr) return false;
    if (parse_sip_port(osip_sv(uri->port)) != outside.port) return false;
    if (iequals(uri->host, outside.host)) return true;
    const auto a = SockAddr::parse(uri->host);
    const auto b = SockAddr::parse(outside.host);
    return a && b && a->same_host(*b);
}

std::optional<std::string> token_for(const osip_uri_t* uri, const HostPort& outside) {
    if (!names_outside(uri, outside)) return std::nullopt;
    return masq_token(uri);
}

// Swaps the URL of a contact for a freshly parsed one.
bool replace_url(osip_contact_t* contact, std::string_view text) {
    OsipUriPtr uri = parse_uri(text);
    if (uri == nullptr) return false;
    osip_uri_free(contact->url);
    contact->url = uri.release();
    return true;
}

}  // namespace

std::string ContactMap::remember(std::string_view contact, const SockAddr& source, int64_t now) {
    std::string token = contact_token(contact);
    if (map_.size() >= capacity_ && map_.find(token) == map_.end()) {
        // Full: the contact unused longest goes (a scan, only when full).
        auto oldest = map_.begin();
        for (auto it = map_.begin(); it != map_.end(); ++it)
            if (it->second.last_used < oldest->second.last_used) oldest = it;
        if (oldest != map_.end()) map_.erase(oldest);
    }
    Entry& e = map_[token];
    e.contact = std::string(contact);
    e.source = source;
    e.last_used = now;
    return token;
}

const ContactMap::Entry* ContactMap::find(std::string_view token) const {
    auto it = map_.find(std::string(token));
    return it != map_.end() ? &it->second : nullptr;
}

void ContactMap::touch(std::string_view token, int64_t now) {
    auto it = map_.find(std::string(token));
    if (it != map_.end()) it->second.last_used = now;
}

size_t ContactMap::expire(int64_t cutoff) {
    size_t n = 0;
    for (auto it = map_.begin(); it != map_.end();) {
        if (it->second.last_used < cutoff) {
            it = map_.erase(it);
            ++n;
        } else {
            ++it;
        }
    }
    return n;
}

std::string make_masq_uri(std::string_view user, const HostPort& outside, std::string_view token) {
    std::string host = outside.host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    std::string out = "sip:";
    if (!user.empty()) {
        out.append(user);
        out += '@';
    }
    out += host + ":" + std::to_string(outside.port) + ";" + kMasqParam + "=" + std::string(token);
    return out;
}

std::optional<std::string> masq_token(const osip_uri_t* uri) {
    if (uri == nullptr) return std::nullopt;
    osip_uri_param_t* p = nullptr;
    if (osip_uri_param_get_byname(const_cast<osip_list_t*>(&uri->url_params),
                                  const_cast<char*>(kMasqParam), &p) != 0 ||
        p == nullptr || p->gvalue == nullptr || p->gvalue[0] == '\0')
        return std::nullopt;
    return std::string(p->gvalue);
}

std::optional<std::string> resolve_token(std::string_view token, const ContactMap& map,
                                         const RegistrationTable& table, int64_t now) {
    if (const ContactMap::Entry* e = map.find(token)) return e->contact;
    if (const Binding* b = table.find_by_token(token, now)) return b->contact;
    return std::nullopt;
}

int masquerade_contacts(osip_message_t* msg, const HostPort& outside, ContactMap& map,
                        const SockAddr& source, int64_t now) {
    int replaced = 0;
    const int n = osip_list_size(&msg->contacts);
    for (int i = 0; i < n; ++i) {
        auto* contact = static_cast<osip_contact_t*>(osip_list_get(&msg->contacts, i));
        if (contact == nullptr || contact->url == nullptr) continue;  // "Contact: *"
        if (token_for(contact->url, outside)) continue;               // already ours
        const std::string true_uri = uri_to_string(contact->url);
        if (true_uri.empty()) return -1;
        const std::string token = map.remember(true_uri, source, now);
        if (!replace_url(contact, make_masq_uri(osip_sv(contact->url->username), outside, token)))
            return -1;
        ++replaced;
    }
    return replaced;
}

int restore_contacts(osip_message_t* msg, const HostPort& outside, const ContactMap& map,
                     const RegistrationTable& table, int64_t now) {
    int restored = 0;
    const int n = osip_list_size(&msg->contacts);
    for (int i = 0; i < n; ++i) {
        auto* contact = static_cast<osip_contact_t*>(osip_list_get(&msg->contacts, i));
        if (contact == nullptr || contact->url == nullptr) continue;
        const auto token = token_for(contact->url, outside);
        if (!token) continue;
        const auto true_uri = resolve_token(*token, map, table, now);
        if (true_uri && replace_url(contact, *true_uri)) ++restored;
    }
    return restored;
}

bool restore_request_uri(osip_message_t* req, const HostPort& outside, const ContactMap& map,
                         const RegistrationTable& table, int64_t now) {
    const auto token = token_for(req->req_uri, outside);
    if (!token) return false;
    const auto true_uri = resolve_token(*token, map, table, now);
    if (!true_uri) return false;
    OsipUriPtr uri = parse_uri(*true_uri);
    if (uri == nullptr) return false;
    osip_uri_free(req->req_uri);
    req->req_uri = uri.release();
    return true;
}

}  // namespace sipmasq
