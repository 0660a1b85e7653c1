// A UDP endpoint (IPv4 or IPv6 address and port) small enough to live in
// every relay socket record and be compared per packet without a call.
// Header-only on purpose: the hot path inlines the comparison.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace sipmasq {

struct Endpoint {
    // Large enough for what an AF_INET or AF_INET6 socket reports as source.
    union Storage {
        sockaddr sa;
        sockaddr_in v4;
        sockaddr_in6 v6;
    } u;

    Endpoint() noexcept { std::memset(&u, 0, sizeof u); }

    // Family 0 (unspecified) means "not known yet".
    [[nodiscard]] static Endpoint from_sockaddr(const sockaddr* sa, socklen_t len) noexcept {
        Endpoint e;
        if (sa == nullptr) return e;
        if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in)))
            std::memcpy(&e.u.v4, sa, sizeof(sockaddr_in));
        else if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6)))
            std::memcpy(&e.u.v6, sa, sizeof(sockaddr_in6));
        return e;
    }

    // Numeric address only ("192.0.2.1", "2001:db8::1"); no name lookup.
    [[nodiscard]] static std::optional<Endpoint> parse(const char* host, uint16_t port) noexcept {
        Endpoint e;
        if (inet_pton(AF_INET, host, &e.u.v4.sin_addr) == 1) {
            e.u.v4.sin_family = AF_INET;
        } else if (inet_pton(AF_INET6, host, &e.u.v6.sin6_addr) == 1) {
            e.u.v6.sin6_family = AF_INET6;
        } else {
            return std::nullopt;
        }
        e.set_port(port);
        return e;
    }

    [[nodiscard]] int family() const noexcept { return u.sa.sa_family; }
    [[nodiscard]] bool known() const noexcept {
        return family() == AF_INET || family() == AF_INET6;
    }
    [[nodiscard]] uint16_t port() const noexcept {
        return ntohs(family() == AF_INET6 ? u.v6.sin6_port : u.v4.sin_port);
    }
    void set_port(uint16_t port) noexcept {
        if (family() == AF_INET6)
            u.v6.sin6_port = htons(port);
        else
            u.v4.sin_port = htons(port);
    }
    [[nodiscard]] Endpoint with_port(uint16_t port) const noexcept {
        Endpoint e = *this;
        e.set_port(port);
        return e;
    }
    [[nodiscard]] socklen_t len() const noexcept {
        if (family() == AF_INET) return sizeof(sockaddr_in);
        if (family() == AF_INET6) return sizeof(sockaddr_in6);
        return 0;
    }
    [[nodiscard]] const sockaddr* sa() const noexcept { return &u.sa; }

    [[nodiscard]] bool same_host(const Endpoint& o) const noexcept {
        if (family() != o.family()) return false;
        if (family() == AF_INET) return u.v4.sin_addr.s_addr == o.u.v4.sin_addr.s_addr;
        if (family() == AF_INET6)
            return std::memcmp(&u.v6.sin6_addr, &o.u.v6.sin6_addr, sizeof(in6_addr)) == 0;
        return true;  // both unknown
    }
    // Same family, address and port (IPv6 flow label and scope ignored).
    [[nodiscard]] bool operator==(const Endpoint& o) const noexcept {
        if (family() != o.family()) return false;
        if (family() == AF_INET)
            return u.v4.sin_port == o.u.v4.sin_port &&
                   u.v4.sin_addr.s_addr == o.u.v4.sin_addr.s_addr;
        if (family() == AF_INET6)
            return u.v6.sin6_port == o.u.v6.sin6_port &&
                   std::memcmp(&u.v6.sin6_addr, &o.u.v6.sin6_addr, sizeof(in6_addr)) == 0;
        return true;
    }

    // "192.0.2.1:5004", "[2001:db8::1]:5004", or "-" when unknown.
    [[nodiscard]] std::string to_string() const {
        char buf[INET6_ADDRSTRLEN] = "";
        if (family() == AF_INET) {
            inet_ntop(AF_INET, &u.v4.sin_addr, buf, sizeof buf);
            return std::string(buf) + ":" + std::to_string(port());
        }
        if (family() == AF_INET6) {
            inet_ntop(AF_INET6, &u.v6.sin6_addr, buf, sizeof buf);
            return "[" + std::string(buf) + "]:" + std::to_string(port());
        }
        return "-";
    }
};

}  // namespace sipmasq
