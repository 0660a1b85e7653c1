#include "sip_response.h"

#include <strings.h>

#include <string>

namespace sipmasq {

OsipMessagePtr build_response(const osip_message_t* req, int status, std::string_view to_tag) {
    if (req == nullptr || !MSG_IS_REQUEST(req) || req->from == nullptr || req->to == nullptr ||
        req->call_id == nullptr || req->cseq == nullptr || osip_list_size(&req->vias) < 1)
        return nullptr;
    osip_message_t* raw = nullptr;
    if (osip_message_init(&raw) != 0) return nullptr;
    OsipMessagePtr resp(raw);
    osip_message_set_version(resp.get(), osip_strdup("SIP/2.0"));
    osip_message_set_status_code(resp.get(), status);
    const char* reason = osip_message_get_reason(status);
    osip_message_set_reason_phrase(resp.get(), osip_strdup(reason != nullptr ? reason : "Unknown"));

    const int nvias = osip_list_size(&req->vias);
    for (int i = 0; i < nvias; ++i) {
        auto* via = static_cast<const osip_via_t*>(osip_list_get(&req->vias, i));
        osip_via_t* copy = nullptr;
        if (osip_via_clone(via, &copy) != 0) return nullptr;
        osip_list_add(&resp->vias, copy, -1);
    }
    if (osip_from_clone(req->from, &resp->from) != 0) return nullptr;
    if (osip_to_clone(req->to, &resp->to) != 0) return nullptr;
    bool has_tag = false;
    const int nparams = osip_list_size(&resp->to->gen_params);
    for (int i = 0; i < nparams; ++i) {
        auto* p = static_cast<const osip_generic_param_t*>(osip_list_get(&resp->to->gen_params, i));
        if (p != nullptr && p->gname != nullptr && strcasecmp(p->gname, "tag") == 0) has_tag = true;
    }
    if (status > 100 && !has_tag) osip_to_set_tag(resp->to, osip_dup(to_tag));
    if (osip_call_id_clone(req->call_id, &resp->call_id) != 0) return nullptr;
    if (osip_cseq_clone(req->cseq, &resp->cseq) != 0) return nullptr;
    osip_message_set_content_length(resp.get(), "0");
    return resp;
}

}  // namespace sipmasq
