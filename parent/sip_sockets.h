// The SIP sockets the parent opens (it may bind port 5060) and hands to
// sipd; the parent itself never reads from them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config.h"
#include "side.h"
#include "supervisor.h"

namespace sipmasq {

// sip_dscp on a socket: IP_TOS or IPV6_TCLASS; -1 with errno on failure.
[[nodiscard]] int set_dscp(int fd, bool v6, uint8_t dscp) noexcept;

// One UDP socket and one TCP listener per inside and per outside address,
// on sip_listen_port. Where the two sides are two interfaces, each listener
// is bound to its side's interface (SO_BINDTODEVICE): a connection to the
// inside address through the outside interface is never accepted as one
// from inside (TCP has no IP_PKTINFO to tell sipd the arrival interface).
[[nodiscard]] bool open_sip_sockets(const Config& config, std::vector<SipSocket>& out,
                                    std::string& error);

// The UDP socket and TCP listener of one address that came on a watched
// interface (all or nothing).
[[nodiscard]] bool open_sip_sockets_for(const Config& config, Side side, const SockAddr& addr,
                                        std::vector<SipSocket>& out, std::string& error);

}  // namespace sipmasq
