// What the SipProxy tests and the SIP fuzz target share: a relay that
// answers START_FWD at once, and the FAQ's addresses (inside 192.0.2.1,
// outside 203.0.113.1).
#pragma once

#include <cstdint>
#include <vector>

#include "address.h"
#include "media_link.h"
#include "sip_proxy.h"

namespace sipmasq::test {

// Answers at once with the ports asked for, else 30000 inside and 30002
// outside; `up` false: rtpd is away; `fail`: rtpd has no ports.
class FakeMedia : public MediaLink {
  public:
    bool up = true;
    bool fail = false;
    std::vector<MediaStart> starts;
    std::vector<uint32_t> stops;

    [[nodiscard]] bool available() const override { return up; }
    void start(const MediaStart& r, Done done) override {
        starts.push_back(r);
        MediaResult res;
        res.ok = !fail;
        res.error = fail ? "no ports" : "";
        res.inside_local = r.inside_local;
        res.inside_local.set_port(r.inside_port != 0 ? r.inside_port : 30000);
        res.outside_local = r.outside_local;
        res.outside_local.set_port(r.outside_port != 0 ? r.outside_port : 30002);
        done(res);
    }
    void stop(uint32_t id) override { stops.push_back(id); }
};

inline SockAddr addr(const char* text) {
    return *SockAddr::parse(text);
}

inline SipProxySettings faq_proxy_settings() {
    SipProxySettings s;
    s.policy.us.inside = {"192.0.2.1", 5060};
    s.policy.us.outside = {"203.0.113.1", 5060};
    s.policy.public_host = "203.0.113.1";
    s.policy.inside_networks = {*Cidr::parse("192.0.2.0/24")};
    s.inside_local = addr("192.0.2.1:5060");
    s.outside_local = addr("203.0.113.1:5060");
    s.outside_advertised = addr("203.0.113.1");
    return s;
}

}  // namespace sipmasq::test
