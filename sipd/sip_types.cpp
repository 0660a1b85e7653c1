#include "sip_types.h"

#include <charconv>
#include <cstdio>

namespace sipmasq {

std::string HostPort::to_string() const {
    std::string out;
    if (host.find(':') != std::string::npos && (host.empty() || host.front() != '['))
        out = "[" + host + "]";
    else
        out = host;
    out += ":" + std::to_string(port);
    return out;
}

bool HostPort::operator==(const HostPort& other) const noexcept {
    return port == other.port && iequals(host, other.host);
}

uint16_t parse_sip_port(std::string_view text, uint16_t dflt) noexcept {
    if (text.empty()) return dflt;
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535)
        return 0;
    return static_cast<uint16_t>(value);
}

std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string ascii_upper(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        char y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

uint64_t stable_hash64(std::string_view data, uint64_t seed) noexcept {
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (unsigned char c : data) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    // Final avalanche so short inputs differing in one byte spread out.
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

std::string hex64(uint64_t value) {
    char buf[17];
    (void)std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(value));
    return std::string(buf, 16);
}

}  // namespace sipmasq
