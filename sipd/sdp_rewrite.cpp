#include "sdp_rewrite.h"

#include <strings.h>

#include <charconv>
#include <cstring>

namespace sipmasq {

namespace {

bool parse_port(std::string_view text, uint16_t& out) noexcept {
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v > 65535)
        return false;
    out = static_cast<uint16_t>(v);
    return true;
}

bool has_direction(const osip_list_t* attrs, bool& hold) {
    const int n = osip_list_size(attrs);
    bool found = false;
    for (int i = 0; i < n; ++i) {
        auto* a = static_cast<const sdp_attribute_t*>(osip_list_get(attrs, i));
        if (a == nullptr || a->a_att_field == nullptr) continue;
        const std::string_view f = a->a_att_field;
        if (f == "sendonly" || f == "inactive") {
            hold = true;
            found = true;
        } else if (f == "sendrecv" || f == "recvonly") {
            hold = false;
            found = true;
        }
    }
    return found;
}

bool iequals_ip6(const sdp_connection_t* c) noexcept {
    return c->c_addrtype != nullptr && strcasecmp(c->c_addrtype, "IP6") == 0;
}

void free_body(void* body) noexcept {
    osip_body_free(static_cast<osip_body_t*>(body));
}

const sdp_connection_t* media_connection(const sdp_media_t* m) {
    return static_cast<const sdp_connection_t*>(osip_list_get(&m->c_connections, 0));
}

void set_str(char*& field, std::string_view value) {
    osip_free(field);
    field = osip_dup(value);
}

void rewrite_connection(sdp_connection_t* c, const SockAddr& relay) {
    if (c == nullptr || c->c_addr == nullptr) return;
    auto cur = SockAddr::parse(c->c_addr);
    if (cur && cur->is_unspecified()) return;  // hold stays hold
    set_str(c->c_addrtype, relay.is_v6() ? "IP6" : "IP4");
    set_str(c->c_addr, relay.host_string());
    osip_free(c->c_addr_multicast_ttl);
    c->c_addr_multicast_ttl = nullptr;
    osip_free(c->c_addr_multicast_int);
    c->c_addr_multicast_int = nullptr;
}

}  // namespace

const char* sdp_status_name(SdpStatus status) noexcept {
    switch (status) {
        case SdpStatus::Ok:
            return "ok";
        case SdpStatus::Unparseable:
            return "unparseable SDP";
        case SdpStatus::NoMedia:
            return "no media";
        case SdpStatus::NoConnection:
            return "no connection address";
        case SdpStatus::BadAddress:
            return "bad connection address";
        case SdpStatus::RefusedAddress:
            return "refused connection address";
        case SdpStatus::BadPort:
            return "bad media port";
        case SdpStatus::NoRelay:
            return "no relay for a stream";
    }
    return "?";
}

SdpStatus sdp_inspect(const sdp_message_t* sdp, const std::vector<SockAddr>& own, SdpInfo& out) {
    out.media.clear();
    if (sdp == nullptr) return SdpStatus::Unparseable;
    bool session_hold = false;
    has_direction(&sdp->a_attributes, session_hold);
    const int n = osip_list_size(&sdp->m_medias);
    if (n <= 0) return SdpStatus::NoMedia;
    for (int i = 0; i < n; ++i) {
        auto* m = static_cast<const sdp_media_t*>(osip_list_get(&sdp->m_medias, i));
        if (m == nullptr) return SdpStatus::Unparseable;
        SdpMedia info;
        info.index = i;
        info.media = osip_sv(m->m_media);
        uint16_t port = 0;
        if (!parse_port(osip_sv(m->m_port), port)) return SdpStatus::BadPort;
        info.disabled = port == 0;
        const sdp_connection_t* c = media_connection(m);
        if (c == nullptr) c = sdp->c_connection;
        if (c == nullptr || c->c_addr == nullptr) {
            if (info.disabled) {
                out.media.push_back(std::move(info));
                continue;
            }
            return SdpStatus::NoConnection;
        }
        auto addr = SockAddr::parse(c->c_addr);
        if (!addr || addr->family() != (iequals_ip6(c) ? AF_INET6 : AF_INET))
            return SdpStatus::BadAddress;
        addr->set_port(port);
        info.addr = *addr;
        bool hold = session_hold;
        has_direction(&m->a_attributes, hold);
        if (addr->is_unspecified()) hold = true;
        info.hold = hold;
        if (!info.disabled) {
            if (addr->is_broadcast() || addr->is_multicast()) return SdpStatus::RefusedAddress;
            if (addr->is_unspecified() && !hold) return SdpStatus::RefusedAddress;
            for (const SockAddr& mine : own)
                if (mine.same_host(*addr)) return SdpStatus::RefusedAddress;
        }
        const int na = osip_list_size(&m->a_attributes);
        for (int k = 0; k < na; ++k) {
            auto* a = static_cast<const sdp_attribute_t*>(osip_list_get(&m->a_attributes, k));
            if (a == nullptr || a->a_att_field == nullptr) continue;
            if (strcmp(a->a_att_field, "rtcp-mux") == 0) info.rtcp_mux = true;
            if (strcmp(a->a_att_field, "rtcp") != 0) continue;
            // The port only: RTCP goes to the host the RTP peer is on, never
            // to another address the attribute names.
            std::string_view v = osip_sv(a->a_att_value);
            const size_t sp = v.find(' ');
            uint16_t rtcp = 0;
            if (!parse_port(v.substr(0, sp), rtcp) || rtcp == 0) return SdpStatus::BadPort;
            info.rtcp_port = rtcp;
        }
        out.media.push_back(std::move(info));
    }
    return SdpStatus::Ok;
}

SdpStatus sdp_rewrite(sdp_message_t* sdp, const std::vector<std::optional<RelayTarget>>& relay) {
    if (sdp == nullptr) return SdpStatus::Unparseable;
    const int n = osip_list_size(&sdp->m_medias);
    if (n <= 0) return SdpStatus::NoMedia;
    const RelayTarget* first = nullptr;
    // Check first, so a refusal leaves the SDP untouched.
    for (int i = 0; i < n; ++i) {
        auto* m = static_cast<sdp_media_t*>(osip_list_get(&sdp->m_medias, i));
        uint16_t port = 0;
        if (m == nullptr || !parse_port(osip_sv(m->m_port), port)) return SdpStatus::BadPort;
        if (port == 0) continue;
        const size_t idx = static_cast<size_t>(i);
        if (idx >= relay.size() || !relay[idx] || !relay[idx]->rtp.valid() ||
            relay[idx]->rtp.port() == 0)
            return SdpStatus::NoRelay;
        if (first == nullptr) first = &*relay[idx];
    }
    if (first == nullptr) return SdpStatus::Ok;  // every stream disabled: nothing to relay

    for (int i = 0; i < n; ++i) {
        auto* m = static_cast<sdp_media_t*>(osip_list_get(&sdp->m_medias, i));
        uint16_t port = 0;
        (void)parse_port(osip_sv(m->m_port), port);
        if (port == 0) continue;
        const RelayTarget& r = *relay[static_cast<size_t>(i)];
        set_str(m->m_port, std::to_string(r.rtp.port()));
        const int nc = osip_list_size(&m->c_connections);
        for (int k = 0; k < nc; ++k)
            rewrite_connection(static_cast<sdp_connection_t*>(osip_list_get(&m->c_connections, k)),
                               r.rtp);
        for (int k = 0; k < osip_list_size(&m->a_attributes);) {
            auto* a = static_cast<sdp_attribute_t*>(osip_list_get(&m->a_attributes, k));
            if (a != nullptr && a->a_att_field != nullptr && r.strip_rtcp_mux &&
                strcmp(a->a_att_field, "rtcp-mux") == 0) {
                osip_list_remove(&m->a_attributes, k);
                sdp_attribute_free(a);
                continue;
            }
            ++k;
            if (a == nullptr || a->a_att_field == nullptr || strcmp(a->a_att_field, "rtcp") != 0)
                continue;
            const std::string_view v = osip_sv(a->a_att_value);
            std::string value = std::to_string(r.rtcp_port);
            if (v.find(' ') != std::string_view::npos)
                value +=
                    std::string(" IN ") + (r.rtp.is_v6() ? "IP6 " : "IP4 ") + r.rtp.host_string();
            set_str(a->a_att_value, value);
        }
    }
    rewrite_connection(sdp->c_connection, first->rtp);
    if (sdp->o_addr != nullptr) {
        set_str(sdp->o_addrtype, first->rtp.is_v6() ? "IP6" : "IP4");
        set_str(sdp->o_addr, first->rtp.host_string());
    }
    return SdpStatus::Ok;
}

SdpMessagePtr sdp_of_message(const osip_message_t* msg) {
    if (msg == nullptr) return nullptr;
    if (msg->content_type != nullptr) {
        if (msg->content_type->type == nullptr || msg->content_type->subtype == nullptr ||
            strcasecmp(msg->content_type->type, "application") != 0 ||
            strcasecmp(msg->content_type->subtype, "sdp") != 0)
            return nullptr;
    }
    auto* body = static_cast<const osip_body_t*>(osip_list_get(&msg->bodies, 0));
    if (body == nullptr || body->body == nullptr || body->length == 0) return nullptr;
    return parse_sdp(std::string_view(body->body, body->length));
}

bool replace_message_body(osip_message_t* msg, std::string_view body) {
    osip_list_special_free(&msg->bodies, &free_body);
    osip_list_init(&msg->bodies);
    if (!body.empty() && osip_message_set_body(msg, body.data(), body.size()) != 0) return false;
    if (msg->content_length != nullptr) {
        osip_content_length_free(msg->content_length);
        msg->content_length = nullptr;
    }
    return osip_message_set_content_length(msg, std::to_string(body.size()).c_str()) == 0;
}

}  // namespace sipmasq
