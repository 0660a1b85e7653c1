#include "message_fields.h"

#include <strings.h>

#include "message.h"
#include "osip_ptr.h"
#include "sip_types.h"

namespace sipmasq {

const osip_generic_param_t* find_generic_param(const osip_list_t* params,
                                               const char* name) noexcept {
    const int n = osip_list_size(params);
    for (int i = 0; i < n; ++i) {
        auto* p = static_cast<const osip_generic_param_t*>(osip_list_get(params, i));
        if (p != nullptr && p->gname != nullptr && strcasecmp(p->gname, name) == 0) return p;
    }
    return nullptr;
}

std::string call_id_of(const osip_message_t* msg) {
    if (msg->call_id == nullptr) return {};
    std::string id(osip_sv(msg->call_id->number));
    if (msg->call_id->host != nullptr) id += "@" + std::string(msg->call_id->host);
    return id;
}

std::string call_key(std::string call_id) {
    constexpr size_t kMax = proto::kTagSize - 1;
    if (call_id.size() <= kMax) return call_id;
    const std::string hash = hex64(stable_hash64(call_id));
    return call_id.substr(0, kMax - hash.size() - 1) + "~" + hash;
}

std::string uri_text(const osip_from_t* f) {
    if (f == nullptr || f->url == nullptr) return "-";
    return uri_to_string(f->url);
}

std::string tag_of(const osip_from_t* f) {
    osip_generic_param_t* tag = nullptr;
    if (f == nullptr || osip_from_get_tag(const_cast<osip_from_t*>(f), &tag) != 0 ||
        tag == nullptr || tag->gvalue == nullptr)
        return {};
    return tag->gvalue;
}

bool has_to_tag(const osip_message_t* msg) {
    osip_generic_param_t* tag = nullptr;
    return msg->to != nullptr && osip_to_get_tag(msg->to, &tag) == 0 && tag != nullptr;
}

std::string cseq_method(const osip_message_t* msg) {
    return msg->cseq != nullptr ? std::string(osip_sv(msg->cseq->method)) : std::string();
}

std::string branch_of_top_via(const osip_message_t* msg) {
    auto* via = static_cast<osip_via_t*>(osip_list_get(&msg->vias, 0));
    osip_generic_param_t* b = nullptr;
    if (via == nullptr || osip_via_param_get_byname(via, const_cast<char*>("branch"), &b) != 0 ||
        b == nullptr || b->gvalue == nullptr)
        return {};
    return b->gvalue;
}

std::string addr_text(const SockAddr& a) {
    return a.valid() ? a.to_string() : std::string("-");
}

}  // namespace sipmasq
