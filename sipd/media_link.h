// What the SIP side asks of the RTP relay, as an interface so the proxy is
// tested with a fake and runs with the rtpd channel (rtpd_link.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "address.h"

namespace sipmasq {

struct MediaStart {
    uint32_t id = 0;        // forward id, never 0
    SockAddr inside_local;  // the relay's addresses (port ignored)
    SockAddr outside_local;
    SockAddr inside_peer;  // invalid = not known yet
    SockAddr outside_peer;
    uint16_t inside_port = 0;  // requested RTP ports, 0 = allocate
    uint16_t outside_port = 0;
    uint16_t inside_rtcp_port = 0;  // the peers' a=rtcp ports, 0 = RTP + 1
    uint16_t outside_rtcp_port = 0;
    bool inside_mux = false;  // rtcp-mux in force on that leg (RFC 5761)
    bool outside_mux = false;
    bool hold = false;
    std::string tag;      // the Call-ID, for rtpd's logs
    uint32_t worker = 0;  // the rtpd worker that holds the call's forwards (place())
};

struct MediaResult {
    bool ok = false;
    SockAddr inside_local;  // with the RTP ports bound
    SockAddr outside_local;
    std::string error;
};

class MediaLink {
  public:
    using Done = std::function<void(const MediaResult&)>;
    virtual ~MediaLink() = default;
    // False when no relay can be asked now (then a call gets 503).
    [[nodiscard]] virtual bool available() const = 0;
    // The worker a new call's forwards go to (MediaStart::worker); a relay
    // of one process has only worker 0.
    [[nodiscard]] virtual uint32_t place() { return 0; }
    // `done` runs exactly once, possibly later (FWD_STARTED / FWD_FAILED) or
    // with ok=false when the relay goes away first.
    virtual void start(const MediaStart& request, Done done) = 0;
    virtual void stop(uint32_t id) = 0;
};

}  // namespace sipmasq
