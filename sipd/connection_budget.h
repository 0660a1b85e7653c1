// How many TCP connections sipd holds: in total and per source address
// (an IPv6 /64 counts as one, as for transactions). Bookkeeping only, so
// the limits are unit-tested without sockets; the transport asks before it
// keeps a connection and tells when one is gone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "address.h"

namespace sipmasq {

struct ConnectionLimits {
    size_t max_total = 256;
    size_t max_per_source = 8;
};

class ConnectionBudget {
  public:
    enum class Admission : uint8_t { Ok, Full, SourceBudget };

    explicit ConnectionBudget(ConnectionLimits limits) noexcept : limits_(limits) {}

    // Takes a place for a connection with `peer` when the limits allow it.
    [[nodiscard]] Admission take(const SockAddr& peer);
    // Gives back the place a connection with `peer` held.
    void give_back(const SockAddr& peer);

    [[nodiscard]] size_t total() const noexcept { return total_; }
    [[nodiscard]] size_t of(const SockAddr& peer) const;
    [[nodiscard]] const ConnectionLimits& limits() const noexcept { return limits_; }

  private:
    ConnectionLimits limits_;
    size_t total_ = 0;
    std::unordered_map<std::string, size_t> per_source_;  // entries only while non-zero
};

}  // namespace sipmasq
