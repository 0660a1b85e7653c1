// SDP of offers and answers: what each media stream asks for, and the
// rewrite of c=, o=, the m= port and a=rtcp to the relay's address.
#pragma once

#include <osipparser2/osip_parser.h>
#include <osipparser2/sdp_message.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "address.h"
#include "osip_ptr.h"

namespace sipmasq {

struct SdpMedia {
    int index = 0;                      // position among the m= lines
    std::string media;                  // "audio", "video", ...
    SockAddr addr;                      // connection address (media or session c=) and m= port
    bool disabled = false;              // m= port 0: no forward
    bool hold = false;                  // a=sendonly / a=inactive, or c= 0.0.0.0 / ::
    std::optional<uint16_t> rtcp_port;  // from a=rtcp (RFC 3605)
    bool rtcp_mux = false;              // a=rtcp-mux (RFC 5761)
};

struct SdpInfo {
    std::vector<SdpMedia> media;
};

enum class SdpStatus : uint8_t {
    Ok,
    Unparseable,
    NoMedia,
    NoConnection,    // a stream with neither media nor session c=
    BadAddress,      // not a numeric IPv4/IPv6 address
    RefusedAddress,  // broadcast, multicast, unspecified (not hold), or ours
    BadPort,
    NoRelay,  // rewrite: an active stream without a relay target
};

[[nodiscard]] const char* sdp_status_name(SdpStatus status) noexcept;

// What the SDP asks for, checked against `own` (sipmasq's addresses).
[[nodiscard]] SdpStatus sdp_inspect(const sdp_message_t* sdp, const std::vector<SockAddr>& own,
                                    SdpInfo& out);

// The relay's side of one stream: address with the RTP port, and RTCP port.
struct RelayTarget {
    SockAddr rtp;
    uint16_t rtcp_port = 0;
    bool strip_rtcp_mux = false;  // an answer's a=rtcp-mux the leg's offer lacked
};

// Rewrites c= (session and media level), o=, each active m= port and a=rtcp
// to `relay[index]`, and drops a=rtcp-mux where the target says so. A disabled stream (port 0) is
// left alone and needs no entry; every other stream must have one (else NoRelay and the SDP is left
// unchanged: it never points nowhere). A hold c= 0.0.0.0 stays as it is.
[[nodiscard]] SdpStatus sdp_rewrite(sdp_message_t* sdp,
                                    const std::vector<std::optional<RelayTarget>>& relay);

// The message's SDP body (Content-Type application/sdp, or none given with
// a body that parses). nullptr when there is none.
[[nodiscard]] SdpMessagePtr sdp_of_message(const osip_message_t* msg);

// Replaces the message body with `body` (and Content-Length with its size).
[[nodiscard]] bool replace_message_body(osip_message_t* msg, std::string_view body);

}  // namespace sipmasq
