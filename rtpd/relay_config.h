// What the relay engine needs from the configuration, as a plain struct the
// process fills from sipmasq::Config (so the engine is testable alone).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config.h"  // SourceMode
#include "peer_policy.h"

namespace sipmasq {

struct RelayConfig {
    // Port range of every local relay address; pairs (even RTP, odd RTCP)
    // lie wholly inside it.
    uint16_t port_low = 30000;
    uint16_t port_high = 39999;

    // Timeouts in seconds; 0 disables that timeout.
    uint32_t rtp_timeout_s = 300;      // no accepted packet either way
    uint32_t no_bidir_timeout_s = 60;  // never saw packets from both sides
    uint32_t max_duration_s = 14400;   // absolute, applies on hold too
    uint32_t quarantine_s = 10;        // a released pair rests this long

    SourceMode source_mode = SourceMode::Strict;
    uint32_t latch_window_ms = 3000;

    uint8_t dscp = 46;  // EF; IP_TOS = dscp << 2, IPV6_TCLASS likewise

    uint32_t max_forwards = 10000;
    // Descriptors the relay's sockets may hold, live and parked (a stopped
    // forward's sockets stay open for the next forward on the pair; past
    // this the oldest parked ones are closed). 0: no limit of its own, only
    // the kernel's EMFILE.
    uint32_t max_sockets = 0;
    uint32_t sweep_interval_ms = 1000;    // period of the timeout sweep
    int rcvbuf_bytes = 256 * 1024;        // SO_RCVBUF of each relay socket
    uint32_t bind_attempts = 16;          // random pairs tried before "exhausted"
    uint32_t max_batches_per_wakeup = 4;  // recvmmsg batches drained per event
    uint64_t seed = 0;                    // port choice PRNG; 0 = getrandom()

    // Interfaces the inside and the outside relay sockets are bound to
    // (SO_BINDTODEVICE); empty: not bound (both sides on one device).
    std::string inside_device;
    std::string outside_device;
    // Which peers START_FWD may name on each side, checked here again so a
    // compromised sipd cannot make the relay send to arbitrary hosts.
    // nullopt: no check (engine tests with loopback peers).
    std::optional<PeerPolicy> peers;
};

}  // namespace sipmasq
