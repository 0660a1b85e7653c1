// The transport layer's receive side: one SIP UDP socket (opened by the
// parent with IP_PKTINFO / IPV6_RECVPKTINFO set) and the side each datagram
// comes from. The side is the interface the datagram arrived through, not
// the address it was sent to: Linux delivers a datagram for the inside
// address that came in through the outside interface, and that one is from
// outside. A datagram through any other interface is dropped and logged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "address.h"
#include "rate_limit.h"
#include "side.h"
#include "side_interfaces.h"
#include "unique_fd.h"

namespace sipmasq {

struct SipDatagram {
    size_t size = 0;  // bytes in the caller's buffer
    SockAddr from;
    Side side = Side::Outside;
};

enum class SipReceive : uint8_t {
    Datagram,  // `out` holds one datagram and its side
    Empty,     // nothing waiting (EAGAIN)
    Dropped,   // read, but from no side's interface (logged, rate-limited)
    Error,     // recvmsg failed; errno is saved in error()
};

class SipSideSocket {
  public:
    // `fd` bound to `local`, the address of a `socket_side` socket.
    SipSideSocket(UniqueFd fd, Side socket_side, const SockAddr& local,
                  const SideInterfaces& interfaces) noexcept;

    // Reads one datagram into `buf`.
    [[nodiscard]] SipReceive receive(std::span<char> buf, SipDatagram& out);

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    // The side of the socket: where its answers go out (send by side).
    [[nodiscard]] Side side() const noexcept { return side_; }
    [[nodiscard]] const SockAddr& local() const noexcept { return local_; }
    [[nodiscard]] int error() const noexcept { return error_; }
    // A side's interface came back as a new one (a PPPoE link).
    void set_interfaces(const SideInterfaces& interfaces) noexcept { interfaces_ = interfaces; }

  private:
    UniqueFd fd_;
    Side side_;
    SockAddr local_;
    SideInterfaces interfaces_;
    int error_ = 0;
    RateLimit wrong_log_{5, 10000};
};

}  // namespace sipmasq
