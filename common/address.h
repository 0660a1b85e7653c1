// Socket addresses (IPv4 and IPv6) and CIDR access lists.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipmasq {

class SockAddr {
  public:
    SockAddr() noexcept;
    SockAddr(const sockaddr* sa, socklen_t len) noexcept;

    // A numeric address, with or without port: "192.0.2.1", "192.0.2.1:5060",
    // "2001:db8::1", "[2001:db8::1]:5060". No name lookup.
    [[nodiscard]] static std::optional<SockAddr> parse(std::string_view text) noexcept;
    // Address bytes as in in_addr / in6_addr (network order).
    [[nodiscard]] static SockAddr from_bytes(int family, const void* addr, uint16_t port) noexcept;

    [[nodiscard]] int family() const noexcept { return storage_.ss_family; }
    [[nodiscard]] bool is_v4() const noexcept { return family() == AF_INET; }
    [[nodiscard]] bool is_v6() const noexcept { return family() == AF_INET6; }
    [[nodiscard]] bool valid() const noexcept {
        return family() == AF_INET || family() == AF_INET6;
    }
    [[nodiscard]] uint16_t port() const noexcept;  // host order
    void set_port(uint16_t port) noexcept;

    [[nodiscard]] const sockaddr* sa() const noexcept {
        return reinterpret_cast<const sockaddr*>(&storage_);
    }
    [[nodiscard]] sockaddr* sa() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
    [[nodiscard]] socklen_t len() const noexcept;
    [[nodiscard]] static constexpr socklen_t capacity() noexcept {
        return sizeof(sockaddr_storage);
    }

    // Pointer to the 4 or 16 address bytes, and their count.
    [[nodiscard]] const uint8_t* addr_bytes() const noexcept;
    [[nodiscard]] size_t addr_size() const noexcept;

    [[nodiscard]] bool is_unspecified() const noexcept;  // 0.0.0.0 or ::
    [[nodiscard]] bool is_multicast() const noexcept;
    [[nodiscard]] bool is_broadcast() const noexcept;  // 255.255.255.255
    [[nodiscard]] bool is_loopback() const noexcept;
    // fe80::/10 or 169.254.0.0/16: never advertised, never bound for SIP.
    [[nodiscard]] bool is_link_local() const noexcept;

    // "192.0.2.1" / "2001:db8::1" (no port).
    [[nodiscard]] std::string host_string() const;
    // "192.0.2.1:5060" / "[2001:db8::1]:5060".
    [[nodiscard]] std::string to_string() const;

    // Same family, address and port.
    [[nodiscard]] bool operator==(const SockAddr& other) const noexcept;
    [[nodiscard]] bool same_host(const SockAddr& other) const noexcept;

  private:
    sockaddr_storage storage_;
};

// The key per-source budgets count by: the address, or for IPv6 its /64
// (the block one host usually has, so rotating addresses within it gains
// nothing).
[[nodiscard]] std::string budget_key(const SockAddr& source);

// One "192.0.2.0/24" or "2001:db8::/32" or a bare address (a /32 or /128).
struct Cidr {
    SockAddr network;
    uint8_t prefix_len = 0;

    [[nodiscard]] static std::optional<Cidr> parse(std::string_view text) noexcept;
    [[nodiscard]] bool contains(const SockAddr& addr) const noexcept;
    [[nodiscard]] std::string to_string() const;
};

// A comma-separated list of CIDRs, as siproxd's hosts_allow_reg takes.
class Acl {
  public:
    // Empty list: `matches` is false for every address.
    [[nodiscard]] static std::optional<Acl> parse(std::string_view text, std::string* error);
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
    [[nodiscard]] bool matches(const SockAddr& addr) const noexcept;
    [[nodiscard]] const std::vector<Cidr>& entries() const noexcept { return entries_; }
    [[nodiscard]] std::string to_string() const;

  private:
    std::vector<Cidr> entries_;
};

}  // namespace sipmasq
