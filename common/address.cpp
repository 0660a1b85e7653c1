#include "address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace sipmasq {
namespace {

constexpr size_t kMaxAddressText = INET6_ADDRSTRLEN + 8;

// inet_pton wants a NUL-terminated string; copy through a bounded buffer.
bool pton(int family, std::string_view text, void* out) noexcept {
    char buf[kMaxAddressText];
    if (text.empty() || text.size() >= sizeof buf) return false;
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    return inet_pton(family, buf, out) == 1;
}

// Digits only (no sign, no spaces), 0..max.
bool parse_uint(std::string_view text, unsigned max, unsigned& out) noexcept {
    if (text.empty() || text.size() > 10) return false;
    for (const char c : text) {
        if (c < '0' || c > '9') return false;
    }
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || value > max) return false;
    out = value;
    return true;
}

bool parse_port(std::string_view text, uint16_t& out) noexcept {
    unsigned value = 0;
    if (!parse_uint(text, 65535, value)) return false;
    out = static_cast<uint16_t>(value);
    return true;
}

// An address without port, either family; no brackets.
std::optional<SockAddr> parse_bare(std::string_view text) noexcept {
    in_addr v4{};
    if (pton(AF_INET, text, &v4)) return SockAddr::from_bytes(AF_INET, &v4, 0);
    in6_addr v6{};
    if (pton(AF_INET6, text, &v6)) return SockAddr::from_bytes(AF_INET6, &v6, 0);
    return std::nullopt;
}

constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// The IPv4 bytes of an AF_INET address or of an IPv4-mapped IPv6 one
// (what a dual-stack socket reports for an IPv4 peer); nullptr otherwise.
const uint8_t* v4_bytes(const SockAddr& a) noexcept {
    if (a.is_v4()) return a.addr_bytes();
    if (a.is_v6() && std::memcmp(a.addr_bytes(), kV4MappedPrefix, sizeof kV4MappedPrefix) == 0) {
        return a.addr_bytes() + sizeof kV4MappedPrefix;
    }
    return nullptr;
}

bool prefix_equal(const uint8_t* a, const uint8_t* b, unsigned bits) noexcept {
    const unsigned whole = bits / 8;
    if (std::memcmp(a, b, whole) != 0) return false;
    const unsigned rest = bits % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

void mask_bytes(uint8_t* bytes, size_t size, unsigned bits) noexcept {
    for (size_t i = 0; i < size; ++i) {
        const unsigned start = static_cast<unsigned>(i) * 8;
        if (bits >= start + 8) continue;
        if (bits <= start) {
            bytes[i] = 0;
        } else {
            bytes[i] &= static_cast<uint8_t>(0xff << (8 - (bits - start)));
        }
    }
}

// "255.255.255.0" as a prefix length; only contiguous masks.
bool netmask_to_prefix(std::string_view text, unsigned& out) noexcept {
    in_addr mask{};
    if (!pton(AF_INET, text, &mask)) return false;
    const uint32_t m = ntohl(mask.s_addr);
    const uint32_t inverted = ~m;
    if ((inverted & (inverted + 1)) != 0) return false;  // not of the form 1..10..0
    out = static_cast<unsigned>(__builtin_popcount(m));
    return true;
}

}  // namespace

SockAddr::SockAddr() noexcept {
    std::memset(&storage_, 0, sizeof storage_);
}

SockAddr::SockAddr(const sockaddr* sa, socklen_t len) noexcept : SockAddr() {
    if (sa == nullptr) return;
    if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
        std::memcpy(&storage_, sa, sizeof(sockaddr_in));
    } else if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
        std::memcpy(&storage_, sa, sizeof(sockaddr_in6));
    }
}

std::optional<SockAddr> SockAddr::parse(std::string_view text) noexcept {
    if (text.empty()) return std::nullopt;
    if (text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        in6_addr v6{};
        if (!pton(AF_INET6, text.substr(1, close - 1), &v6)) return std::nullopt;
        uint16_t port = 0;
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':' || !parse_port(rest.substr(1), port)) return std::nullopt;
        }
        return from_bytes(AF_INET6, &v6, port);
    }
    const size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
        // Exactly one colon: IPv4 with port (an IPv6 address has at least two).
        in_addr v4{};
        uint16_t port = 0;
        if (!pton(AF_INET, text.substr(0, colon), &v4) ||
            !parse_port(text.substr(colon + 1), port)) {
            return std::nullopt;
        }
        return from_bytes(AF_INET, &v4, port);
    }
    return parse_bare(text);
}

SockAddr SockAddr::from_bytes(int family, const void* addr, uint16_t port) noexcept {
    SockAddr out;
    if (family == AF_INET) {
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        std::memcpy(&sin.sin_addr, addr, sizeof sin.sin_addr);
        std::memcpy(&out.storage_, &sin, sizeof sin);
    } else if (family == AF_INET6) {
        sockaddr_in6 sin6{};
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(port);
        std::memcpy(&sin6.sin6_addr, addr, sizeof sin6.sin6_addr);
        std::memcpy(&out.storage_, &sin6, sizeof sin6);
    }
    return out;
}

uint16_t SockAddr::port() const noexcept {
    if (is_v4()) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    if (is_v6()) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    return 0;
}

void SockAddr::set_port(uint16_t port) noexcept {
    if (is_v4()) reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
    if (is_v6()) reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
}

socklen_t SockAddr::len() const noexcept {
    if (is_v4()) return sizeof(sockaddr_in);
    if (is_v6()) return sizeof(sockaddr_in6);
    return 0;
}

const uint8_t* SockAddr::addr_bytes() const noexcept {
    if (is_v4()) {
        return reinterpret_cast<const uint8_t*>(
            &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr);
    }
    if (is_v6()) {
        return reinterpret_cast<const uint8_t*>(
            &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr);
    }
    return nullptr;
}

size_t SockAddr::addr_size() const noexcept {
    if (is_v4()) return 4;
    if (is_v6()) return 16;
    return 0;
}

bool SockAddr::is_unspecified() const noexcept {
    if (!valid()) return false;
    const uint8_t* b = addr_bytes();
    for (size_t i = 0; i < addr_size(); ++i) {
        if (b[i] != 0) return false;
    }
    return true;
}

bool SockAddr::is_multicast() const noexcept {
    if (const uint8_t* v4 = v4_bytes(*this)) return (v4[0] & 0xf0) == 0xe0;  // 224.0.0.0/4
    return is_v6() && addr_bytes()[0] == 0xff;                               // ff00::/8
}

bool SockAddr::is_broadcast() const noexcept {
    const uint8_t* v4 = v4_bytes(*this);
    return v4 != nullptr && v4[0] == 0xff && v4[1] == 0xff && v4[2] == 0xff && v4[3] == 0xff;
}

bool SockAddr::is_loopback() const noexcept {
    if (const uint8_t* v4 = v4_bytes(*this)) return v4[0] == 127;  // 127.0.0.0/8
    if (!is_v6()) return false;
    static constexpr uint8_t kLoop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::memcmp(addr_bytes(), kLoop6, sizeof kLoop6) == 0;
}

bool SockAddr::is_link_local() const noexcept {
    if (const uint8_t* v4 = v4_bytes(*this)) return v4[0] == 169 && v4[1] == 254;
    if (!is_v6()) return false;
    const uint8_t* b = addr_bytes();
    return b[0] == 0xfe && (b[1] & 0xc0) == 0x80;  // fe80::/10
}

std::string SockAddr::host_string() const {
    if (!valid()) return "(invalid)";
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(family(), addr_bytes(), buf, sizeof buf) == nullptr) return "(invalid)";
    return buf;
}

std::string SockAddr::to_string() const {
    if (!valid()) return "(invalid)";
    const std::string port_text = std::to_string(port());
    if (is_v6()) return "[" + host_string() + "]:" + port_text;
    return host_string() + ":" + port_text;
}

bool SockAddr::operator==(const SockAddr& other) const noexcept {
    if (!same_host(other) || port() != other.port()) return false;
    if (is_v6()) {
        return reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_scope_id ==
               reinterpret_cast<const sockaddr_in6*>(&other.storage_)->sin6_scope_id;
    }
    return true;
}

bool SockAddr::same_host(const SockAddr& other) const noexcept {
    if (!valid() || family() != other.family()) return false;
    return std::memcmp(addr_bytes(), other.addr_bytes(), addr_size()) == 0;
}

std::optional<Cidr> Cidr::parse(std::string_view text) noexcept {
    const size_t slash = text.find('/');
    const std::string_view host = text.substr(0, slash);
    auto network = parse_bare(host);
    if (!network) return std::nullopt;
    const unsigned max_len = network->is_v4() ? 32 : 128;
    unsigned len = max_len;
    if (slash != std::string_view::npos) {
        const std::string_view prefix = text.substr(slash + 1);
        const bool ok = parse_uint(prefix, max_len, len) ||
                        (network->is_v4() && netmask_to_prefix(prefix, len));
        if (!ok || prefix.size() > 15) return std::nullopt;
    }
    // Host bits set ("192.0.2.7/24") are accepted, as siproxd did, and cleared.
    uint8_t bytes[16];
    std::memcpy(bytes, network->addr_bytes(), network->addr_size());
    mask_bytes(bytes, network->addr_size(), len);
    Cidr out;
    out.network = SockAddr::from_bytes(network->family(), bytes, 0);
    out.prefix_len = static_cast<uint8_t>(len);
    return out;
}

bool Cidr::contains(const SockAddr& addr) const noexcept {
    if (!network.valid() || !addr.valid()) return false;
    if (network.is_v4()) {
        const uint8_t* v4 = v4_bytes(addr);
        return v4 != nullptr && prefix_equal(network.addr_bytes(), v4, prefix_len);
    }
    return addr.is_v6() && prefix_equal(network.addr_bytes(), addr.addr_bytes(), prefix_len);
}

std::string Cidr::to_string() const {
    return network.host_string() + "/" + std::to_string(prefix_len);
}

std::optional<Acl> Acl::parse(std::string_view text, std::string* error) {
    Acl acl;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t end = text.find_first_of(", \t", pos);
        const std::string_view item =
            text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        pos = end == std::string_view::npos ? text.size() : end + 1;
        if (item.empty()) continue;
        auto cidr = Cidr::parse(item);
        if (!cidr) {
            if (error != nullptr) {
                *error = "'" + std::string(item) +
                         "' is not an address or network (expected e.g. 192.0.2.0/24 or "
                         "2001:db8::/32)";
            }
            return std::nullopt;
        }
        acl.entries_.push_back(*cidr);
    }
    return acl;
}

bool Acl::matches(const SockAddr& addr) const noexcept {
    for (const Cidr& c : entries_) {
        if (c.contains(addr)) return true;
    }
    return false;
}

std::string Acl::to_string() const {
    std::string out;
    for (const Cidr& c : entries_) {
        if (!out.empty()) out += ",";
        out += c.to_string();
    }
    return out;
}

std::string budget_key(const SockAddr& source) {
    if (!source.is_v6()) return source.host_string();
    return "v6/64:" + std::string(reinterpret_cast<const char*>(source.addr_bytes()), 8);
}

}  // namespace sipmasq
