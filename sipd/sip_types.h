// Small value types shared by the sipd engine modules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "side.h"

namespace sipmasq {

// The transport a message arrived on or leaves by (RFC 3261 §18); TLS is
// not supported. Over TCP the peer address names one connection.
enum class Transport : uint8_t { Udp, Tcp };

[[nodiscard]] inline const char* transport_name(Transport t) noexcept {
    return t == Transport::Tcp ? "TCP" : "UDP";
}

// A SIP host (name or numeric address) and port as written in a URI or Via.
struct HostPort {
    std::string host;
    uint16_t port = 5060;

    [[nodiscard]] bool empty() const noexcept { return host.empty(); }
    // "host:port", with brackets around an IPv6 literal.
    [[nodiscard]] std::string to_string() const;
    [[nodiscard]] bool operator==(const HostPort& other) const noexcept;
};

// A port field of a URI or Via: "" means `dflt`; garbage means 0.
[[nodiscard]] uint16_t parse_sip_port(std::string_view text, uint16_t dflt = 5060) noexcept;

// Lower-case ASCII copy (host names and AORs compare case-insensitively).
[[nodiscard]] std::string ascii_lower(std::string_view text);
[[nodiscard]] std::string ascii_upper(std::string_view text);
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

// FNV-1a 64: stable across builds and restarts, unlike std::hash, so ids
// derived from it survive a sipd restart.
[[nodiscard]] uint64_t stable_hash64(std::string_view data, uint64_t seed = 0) noexcept;
[[nodiscard]] std::string hex64(uint64_t value);

}  // namespace sipmasq
