#include "registrar.h"

#include <charconv>
#include <unordered_map>

#include "contact_masq.h"
#include "sip_response.h"

namespace sipmasq {

namespace {

// -1: garbage; otherwise seconds.
int64_t parse_seconds(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < 0) return -1;
    return v;
}

// The contact's expires parameter, else the Expires header, else `dflt`.
int64_t expires_of(const osip_message_t* msg, osip_contact_t* contact, int64_t dflt) {
    osip_generic_param_t* p = nullptr;
    if (contact != nullptr &&
        osip_contact_param_get_byname(contact, const_cast<char*>("expires"), &p) == 0 &&
        p != nullptr && p->gvalue != nullptr)
        return parse_seconds(p->gvalue);
    osip_header_t* h = nullptr;
    if (osip_message_header_get_byname(msg, "expires", 0, &h) >= 0 && h != nullptr &&
        h->hvalue != nullptr)
        return parse_seconds(h->hvalue);
    return dflt;
}

uint32_t cseq_of(const osip_message_t* msg) {
    if (msg->cseq == nullptr) return 0;
    const int64_t v = parse_seconds(osip_sv(msg->cseq->number));
    return v < 0 || v > UINT32_MAX ? 0 : static_cast<uint32_t>(v);
}

osip_contact_t* contact_at(const osip_message_t* msg, int i) {
    return static_cast<osip_contact_t*>(osip_list_get(&msg->contacts, i));
}

bool is_star(const osip_contact_t* c) {
    return c != nullptr && c->url == nullptr;
}

RegisterOutcome fail(const osip_message_t* req, int status, const char* why) {
    RegisterOutcome out;
    out.response = build_response(req, status);
    out.error = why;
    return out;
}

}  // namespace

std::string aor_of_uri(const RoutingPolicy& policy, const osip_uri_t* uri) {
    if (uri == nullptr || uri->username == nullptr || uri->host == nullptr) return {};
    std::string_view host = osip_sv(uri->host);
    if (policy.us.is_own_host(host) && !policy.public_host.empty()) host = policy.public_host;
    return normalise_aor(osip_sv(uri->username), host);
}

RegisterOutcome handle_register(const osip_message_t* req, const SockAddr& source,
                                const RoutingPolicy& policy, const RegistrarSettings& settings,
                                RegistrationTable& table, int64_t now) {
    if (req->to == nullptr) return fail(req, 400, "no To");
    const std::string aor = aor_of_uri(policy, req->to->url);
    if (aor.empty()) return fail(req, 400, "no user in To");
    const std::string call_id = call_id_of(req);
    const uint32_t cseq = cseq_of(req);
    const int n = osip_list_size(&req->contacts);

    struct Change {
        std::string contact;
        int64_t expires;
        std::string user;
    };
    std::vector<Change> changes;
    bool star = false;
    for (int i = 0; i < n; ++i) {
        osip_contact_t* c = contact_at(req, i);
        if (c == nullptr) continue;
        if (is_star(c)) {
            star = true;
            continue;
        }
        int64_t exp = expires_of(req, c, settings.default_expires);
        if (exp < 0) return fail(req, 400, "bad expires");
        if (exp > settings.max_expires) exp = settings.max_expires;
        std::string uri = uri_to_string(c->url);
        if (uri.empty()) return fail(req, 400, "bad Contact");
        changes.push_back({std::move(uri), exp, std::string(osip_sv(c->url->username))});
    }
    RegisterOutcome out;
    if (star) {
        if (n != 1 || expires_of(req, nullptr, -1) != 0)
            return fail(req, 400, "Contact: * needs Expires: 0 and no other Contact");
        for (const Binding* b : table.bindings_of(aor))
            if (b->call_id == call_id && b->cseq >= cseq)
                return fail(req, 500, "CSeq out of order");
        for (Binding& b : table.remove_all(aor))
            out.events.push_back({RegistrationTable::Change::Removed, std::move(b)});
    }
    // RFC 3261 §10.3 step 7: the same Call-ID with an older CSeq aborts it all.
    for (const Change& ch : changes) {
        const Binding* old = table.find(aor, ch.contact);
        if (old != nullptr && old->call_id == call_id && old->cseq >= cseq)
            return fail(req, 500, "CSeq out of order");
    }
    // The caps, checked before anything changes.
    size_t adding = 0;
    for (const Change& ch : changes)
        if (ch.expires != 0 && table.find(aor, ch.contact) == nullptr) ++adding;
    if (adding > 0) {
        const size_t kept = star ? 0 : table.bindings_of(aor).size();
        if (kept + adding > settings.max_contacts_per_aor)
            return fail(req, 403, "too many contacts for this AOR");
        if (table.size() + adding > settings.max_registrations)
            return fail(req, 503, "registration table full");
    }
    for (Change& ch : changes) {
        if (ch.expires == 0) {
            if (auto gone = table.remove(aor, ch.contact))
                out.events.push_back({RegistrationTable::Change::Removed, std::move(*gone)});
            continue;
        }
        Binding b;
        b.aor = aor;
        b.contact = ch.contact;
        b.source = source;
        b.token = contact_token(ch.contact);
        b.masq_contact = make_masq_uri(ch.user, policy.us.outside, b.token);
        b.expires_at = now + ch.expires;
        b.mode = BindingMode::Registrar;
        b.call_id = call_id;
        b.cseq = cseq;
        out.events.push_back(table.upsert(std::move(b)));
    }
    out.response = build_response(req, 200);
    if (out.response == nullptr) return out;
    for (const Binding* b : table.bindings_of(aor)) {
        const int64_t left = b->expires_at > now ? b->expires_at - now : 0;
        const std::string value = "<" + b->contact + ">;expires=" + std::to_string(left);
        osip_message_set_contact(out.response.get(), value.c_str());
    }
    return out;
}

std::vector<RegistrationTable::Event> note_relayed_register(const osip_message_t* req,
                                                            const SockAddr& source,
                                                            const RoutingPolicy& policy,
                                                            const RegistrarSettings& settings,
                                                            RegistrationTable& table, int64_t now) {
    std::vector<RegistrationTable::Event> events;
    if (req->to == nullptr) return events;
    const std::string aor = aor_of_uri(policy, req->to->url);
    if (aor.empty()) return events;
    const int n = osip_list_size(&req->contacts);
    for (int i = 0; i < n; ++i) {
        osip_contact_t* c = contact_at(req, i);
        if (c == nullptr || is_star(c)) continue;
        if (expires_of(req, c, settings.default_expires) <= 0) continue;  // the 2xx decides
        const std::string uri = uri_to_string(c->url);
        if (uri.empty()) continue;
        const Binding* old = table.find(aor, uri);
        if (old != nullptr && !old->provisional && old->live(now)) continue;
        // Past the caps the REGISTER still goes to the registrar, but no
        // binding is kept for it here.
        if (old == nullptr && (table.bindings_of(aor).size() >= settings.max_contacts_per_aor ||
                               table.size() >= settings.max_registrations))
            continue;
        Binding b;
        b.aor = aor;
        b.contact = uri;
        b.source = source;
        b.token = contact_token(uri);
        b.masq_contact = make_masq_uri(osip_sv(c->url->username), policy.us.outside, b.token);
        b.expires_at = now + settings.provisional_seconds;
        b.mode = BindingMode::OutboundProxy;
        b.provisional = true;
        b.call_id = call_id_of(req);
        b.cseq = cseq_of(req);
        events.push_back(table.upsert(std::move(b)));
    }
    return events;
}

std::vector<RegistrationTable::Event> apply_registrar_response(const osip_message_t* resp,
                                                               const RoutingPolicy& policy,
                                                               RegistrationTable& table,
                                                               int64_t now) {
    std::vector<RegistrationTable::Event> events;
    if (resp->status_code < 200 || resp->status_code >= 300 || resp->to == nullptr) return events;
    const std::string aor = aor_of_uri(policy, resp->to->url);
    if (aor.empty()) return events;
    std::unordered_map<std::string, int64_t> granted;  // token -> seconds
    const int n = osip_list_size(&resp->contacts);
    for (int i = 0; i < n; ++i) {
        osip_contact_t* c = contact_at(resp, i);
        if (c == nullptr || is_star(c)) continue;
        if (auto token = masq_token(c->url)) granted[*token] = expires_of(resp, c, 3600);
    }
    const std::string call_id = call_id_of(resp);
    std::vector<Binding> mine;
    for (const Binding* b : table.bindings_of(aor))
        if (b->mode == BindingMode::OutboundProxy) mine.push_back(*b);
    for (Binding& b : mine) {
        auto it = granted.find(b.token);
        if (it != granted.end() && it->second > 0) {
            const bool was_provisional = b.provisional;
            if (table.confirm(aor, b.contact, now + it->second)) {
                b.provisional = false;
                b.expires_at = now + it->second;
                events.push_back({was_provisional ? RegistrationTable::Change::Confirmed
                                                  : RegistrationTable::Change::Refreshed,
                                  std::move(b)});
            }
        } else if (it != granted.end() || b.call_id == call_id) {
            if (auto gone = table.remove(aor, b.contact))
                events.push_back({RegistrationTable::Change::Removed, std::move(*gone)});
        }
    }
    return events;
}

}  // namespace sipmasq
