// The SIP sockets the parent opens (it may bind port 5060) and hands to
// sipd; the parent itself never reads from them.
#pragma once

#include <string>
#include <vector>

#include "config.h"
#include "supervisor.h"

namespace sipmasq {

// One UDP socket per inside and per outside address, on sip_listen_port.
[[nodiscard]] bool open_sip_sockets(const Config& config, std::vector<SipSocket>& out,
                                    std::string& error);

}  // namespace sipmasq
