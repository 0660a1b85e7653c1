#include "codec_filter.h"

#include <algorithm>

#include "osip_ptr.h"
#include "sip_types.h"

namespace sipmasq {
namespace {

struct StaticType {
    int pt;
    const char* name;
};

// RFC 3551 tables 4 and 5: payload types that need no a=rtpmap.
constexpr StaticType kStatic[] = {
    {0, "PCMU"},  {3, "GSM"},   {4, "G723"},  {5, "DVI4"},  {6, "DVI4"},   {7, "LPC"},
    {8, "PCMA"},  {9, "G722"},  {10, "L16"},  {11, "L16"},  {12, "QCELP"}, {13, "CN"},
    {14, "MPA"},  {15, "G728"}, {16, "DVI4"}, {17, "DVI4"}, {18, "G729"},  {25, "CelB"},
    {26, "JPEG"}, {28, "nv"},   {31, "H261"}, {32, "MPV"},  {33, "MP2T"},  {34, "H263"},
};

// "96 opus/48000/2" -> ("96", "opus")
std::string_view first_token(std::string_view v) {
    const size_t end = v.find_first_of(" \t");
    return v.substr(0, end);
}

bool attribute_of_format(const sdp_attribute_t* a, std::string_view format) {
    const std::string_view field = osip_sv(a->a_att_field);
    if (!iequals(field, "rtpmap") && !iequals(field, "fmtp") && !iequals(field, "rtcp-fb"))
        return false;
    return first_token(osip_sv(a->a_att_value)) == format;
}

bool matches(const std::vector<std::string>& list, std::string_view format, std::string_view name) {
    return std::any_of(list.begin(), list.end(), [&](const std::string& entry) {
        return entry == format || iequals(entry, name);
    });
}

}  // namespace

std::string codec_name(const sdp_media_t* media, std::string_view format) {
    for (int i = 0; i < osip_list_size(&media->a_attributes); ++i) {
        const auto* a = static_cast<const sdp_attribute_t*>(osip_list_get(&media->a_attributes, i));
        if (a == nullptr || !iequals(osip_sv(a->a_att_field), "rtpmap")) continue;
        const std::string_view value = osip_sv(a->a_att_value);
        if (first_token(value) != format) continue;
        std::string_view rest = value.substr(std::min(value.size(), format.size()));
        while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t'))
            rest.remove_prefix(1);
        return std::string(rest.substr(0, rest.find('/')));
    }
    for (const StaticType& s : kStatic)
        if (format == std::to_string(s.pt)) return s.name;
    return std::string(format);
}

CodecFilterResult filter_codecs(sdp_message_t* sdp, const CodecFilter& filter) {
    CodecFilterResult result;
    if (sdp == nullptr) return result;
    for (int m = 0; m < osip_list_size(&sdp->m_medias); ++m) {
        auto* media = static_cast<sdp_media_t*>(osip_list_get(&sdp->m_medias, m));
        if (media == nullptr) continue;
        const bool active = osip_sv(media->m_port) != "0";
        if (!active || filter.empty()) {
            result.active_left += active ? 1 : 0;
            continue;
        }
        std::vector<int> doomed;  // positions in m_payloads
        const int formats = osip_list_size(&media->m_payloads);
        for (int i = 0; i < formats; ++i) {
            const std::string_view format =
                osip_sv(static_cast<const char*>(osip_list_get(&media->m_payloads, i)));
            const std::string name = codec_name(media, format);
            const bool denied = matches(filter.deny, format, name) ||
                                (!filter.allow.empty() && !matches(filter.allow, format, name));
            if (denied) doomed.push_back(i);
        }
        if (doomed.empty()) {
            ++result.active_left;
            continue;
        }
        if (static_cast<int>(doomed.size()) == formats) {
            // Nothing acceptable: rejected as RFC 3264 §6 does (port 0).
            osip_free(media->m_port);
            media->m_port = osip_dup("0");
            ++result.disabled;
            continue;
        }
        // From the back, so the positions stay valid.
        for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) {
            char* format = static_cast<char*>(osip_list_get(&media->m_payloads, *it));
            const std::string token(osip_sv(format));
            osip_list_remove(&media->m_payloads, *it);
            osip_free(format);
            ++result.removed;
            for (int a = osip_list_size(&media->a_attributes) - 1; a >= 0; --a) {
                auto* attr = static_cast<sdp_attribute_t*>(osip_list_get(&media->a_attributes, a));
                if (attr == nullptr || !attribute_of_format(attr, token)) continue;
                osip_list_remove(&media->a_attributes, a);
                sdp_attribute_free(attr);
            }
        }
        ++result.active_left;
    }
    return result;
}

}  // namespace sipmasq
