#include "client_requests.h"

namespace sipmasq {

namespace {

OsipMessagePtr hop_request(const osip_message_t* invite, const char* method, const osip_to_t* to) {
    if (invite == nullptr || invite->req_uri == nullptr || invite->from == nullptr ||
        to == nullptr || invite->call_id == nullptr || invite->cseq == nullptr ||
        osip_list_size(&invite->vias) < 1)
        return nullptr;
    osip_message_t* raw = nullptr;
    if (osip_message_init(&raw) != 0) return nullptr;
    OsipMessagePtr req(raw);
    osip_message_set_method(req.get(), osip_dup(method));
    osip_message_set_version(req.get(), osip_dup("SIP/2.0"));
    osip_uri_t* uri = nullptr;
    if (osip_uri_clone(invite->req_uri, &uri) != 0) return nullptr;
    osip_message_set_uri(req.get(), uri);
    osip_via_t* via = nullptr;
    if (osip_via_clone(static_cast<const osip_via_t*>(osip_list_get(&invite->vias, 0)), &via) != 0)
        return nullptr;
    osip_list_add(&req->vias, via, -1);
    const int nroutes = osip_list_size(&invite->routes);
    for (int i = 0; i < nroutes; ++i) {
        osip_route_t* route = nullptr;
        if (osip_route_clone(static_cast<const osip_route_t*>(osip_list_get(&invite->routes, i)),
                             &route) != 0)
            return nullptr;
        osip_list_add(&req->routes, route, -1);
    }
    if (osip_from_clone(invite->from, &req->from) != 0) return nullptr;
    if (osip_to_clone(to, &req->to) != 0) return nullptr;
    if (osip_call_id_clone(invite->call_id, &req->call_id) != 0) return nullptr;
    if (osip_cseq_init(&req->cseq) != 0) return nullptr;
    osip_cseq_set_number(req->cseq, osip_dup(osip_sv(invite->cseq->number)));
    osip_cseq_set_method(req->cseq, osip_dup(method));
    osip_message_set_header(req.get(), "Max-Forwards", "70");
    osip_message_set_content_length(req.get(), "0");
    return req;
}

}  // namespace

OsipMessagePtr build_cancel(const osip_message_t* invite) {
    if (invite == nullptr) return nullptr;
    return hop_request(invite, "CANCEL", invite->to);
}

OsipMessagePtr build_ack(const osip_message_t* invite, const osip_message_t* resp) {
    if (invite == nullptr || resp == nullptr) return nullptr;
    return hop_request(invite, "ACK", resp->to);
}

}  // namespace sipmasq
