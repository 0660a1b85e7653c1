#include "response_context.h"

namespace sipmasq {

bool better_final_answer(int candidate, int best) noexcept {
    if (best == 0) return true;
    if (best >= 600) return false;
    if (candidate >= 600) return true;
    return candidate / 100 < best / 100;
}

int upstream_status(int status) noexcept {
    return status == 503 ? 500 : status;
}

bool merge_challenges(osip_message_t* into, const osip_message_t* from) {
    if (into == nullptr || from == nullptr) return false;
    const int www = osip_list_size(&from->www_authenticates);
    for (int i = 0; i < www; ++i) {
        const auto* h =
            static_cast<const osip_www_authenticate_t*>(osip_list_get(&from->www_authenticates, i));
        osip_www_authenticate_t* copy = nullptr;
        if (osip_www_authenticate_clone(h, &copy) != 0 || copy == nullptr) return false;
        osip_list_add(&into->www_authenticates, copy, -1);
    }
    const int proxy = osip_list_size(&from->proxy_authenticates);
    for (int i = 0; i < proxy; ++i) {
        const auto* h = static_cast<const osip_proxy_authenticate_t*>(
            osip_list_get(&from->proxy_authenticates, i));
        osip_proxy_authenticate_t* copy = nullptr;
        if (osip_proxy_authenticate_clone(h, &copy) != 0 || copy == nullptr) return false;
        osip_list_add(&into->proxy_authenticates, copy, -1);
    }
    return true;
}

}  // namespace sipmasq
