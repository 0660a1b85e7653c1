// Phones made of plain UDP sockets on loopback, for tests that drive the
// real daemon without SIPp.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace sipmasq::test {

// A UDP socket bound to addr (port chosen by the kernel), for playing a phone.
struct UdpPeer {
    UdpPeer(const UdpPeer&) = delete;
    UdpPeer& operator=(const UdpPeer&) = delete;
    int fd = -1;
    uint16_t port = 0;
    explicit UdpPeer(const char* addr) {
        fd = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        ::inet_pton(AF_INET, addr, &sin.sin_addr);
        ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
        socklen_t len = sizeof sin;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
        port = ntohs(sin.sin_port);
        // Short waits, so receive() can keep to its own deadline.
        timeval tv{0, 100000};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~UdpPeer() {
        if (fd >= 0) ::close(fd);
    }
    bool send_to(const char* addr, uint16_t to_port, const std::string& text) const {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(to_port);
        ::inet_pton(AF_INET, addr, &to.sin_addr);
        return ::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&to),
                        sizeof to) == static_cast<ssize_t>(text.size());
    }
    // The next datagram whose first line starts with `start` within
    // `timeout` (others are skipped); "" when none came.
    std::string receive(const std::string& start,
                        std::chrono::milliseconds timeout = std::chrono::seconds(3)) const {
        char buf[65536];
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) continue;
            std::string text(buf, static_cast<size_t>(n));
            if (text.rfind(start, 0) == 0) return text;
        }
        return "";
    }
    // Throws away whatever is waiting.
    void drain() const {
        char buf[65536];
        while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
        }
    }
};

inline std::string with_length(std::string head, const std::string& body) {
    head += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return head;
}

}  // namespace sipmasq::test
