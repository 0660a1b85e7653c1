// codec_allow / codec_deny (siproxd's plugin_codecfilter): formats removed
// from the m= lines of an SDP crossing sipmasq, with their a=rtpmap,
// a=fmtp and a=rtcp-fb lines, on libosip2's parsed SDP.
#pragma once

#include <osipparser2/sdp_message.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sipmasq {

struct CodecFilter {
    std::vector<std::string> allow;  // empty: every format not denied
    std::vector<std::string> deny;   // encoding names or payload type numbers
    [[nodiscard]] bool empty() const noexcept { return allow.empty() && deny.empty(); }
};

struct CodecFilterResult {
    size_t removed = 0;      // formats taken out
    size_t disabled = 0;     // streams that had every format filtered: now port 0
    size_t active_left = 0;  // streams with a port other than 0 afterwards
};

// The encoding name of a format: its a=rtpmap name, or RFC 3551's name of
// a static payload type, or the format token itself.
[[nodiscard]] std::string codec_name(const sdp_media_t* media, std::string_view format);

// Filters every stream in place. A stream that would be left with no
// format is disabled instead (port 0, its formats kept, as RFC 3264 wants
// of a rejected stream) and no media is relayed for it.
CodecFilterResult filter_codecs(sdp_message_t* sdp, const CodecFilter& filter);

}  // namespace sipmasq
