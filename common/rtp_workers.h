// How the relay is split across its rtpd worker processes: how many there
// are (rtp_workers, 0 = one per online core) and which contiguous slice of
// rtp_port_low..rtp_port_high each one owns, so the workers' port pools
// never overlap and each worker needs only its own share of descriptors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipmasq {

struct Config;

// More rtpd processes than this buy nothing on any machine sipmasq serves
// and would only multiply the channels sipd keeps.
inline constexpr uint32_t kMaxRtpWorkers = 16;
// A worker's pool, like the whole relay's, holds at least this many pairs.
inline constexpr uint32_t kMinPairsPerWorker = 2;

// A worker's ports: low is even (RTP), high is odd (the last RTCP port).
struct PortSlice {
    uint16_t low = 0;
    uint16_t high = 0;
    [[nodiscard]] uint32_t pairs() const noexcept {
        return high >= low ? (static_cast<uint32_t>(high) - low + 1u) / 2u : 0u;
    }
    [[nodiscard]] std::string to_string() const;
    // "LOW-HIGH" as to_string() writes it; nullopt unless low is even, high
    // odd and above low.
    [[nodiscard]] static std::optional<PortSlice> parse(std::string_view text);
    friend bool operator==(const PortSlice&, const PortSlice&) = default;
};

// One rtpd worker: its index (0-based), how many there are, its ports.
struct RtpWorker {
    uint32_t index = 0;
    uint32_t count = 1;
    PortSlice ports;
};

// Port pairs (even RTP, odd RTCP) wholly inside low..high; low is even.
[[nodiscard]] uint32_t port_pairs(uint16_t low, uint16_t high) noexcept;

// The number of workers the configuration asks for: rtp_workers, or for 0
// one per online core (at most kMaxRtpWorkers, and no more than the range
// gives kMinPairsPerWorker pairs each). Never 0.
[[nodiscard]] uint32_t rtp_worker_count(const Config& config);
// The same with the core count given (for tests).
[[nodiscard]] uint32_t rtp_worker_count(uint32_t configured, uint32_t cores, uint16_t low,
                                        uint16_t high) noexcept;

// Media streams the relay range holds at once (the default of max_calls,
// and the share of it unanswered calls may take). A stream takes a port
// pair on each side: where the inside and outside addresses differ each
// has the whole range (one pair a stream of it), where they share an
// address its pairs serve both sides (half as many streams). Never 0.
[[nodiscard]] size_t relay_streams(const Config& config);

// low..high (low even) in `workers` contiguous slices of whole pairs, as
// even as can be (the first ones take one pair more when it does not
// divide); empty when a slice would hold fewer than kMinPairsPerWorker.
[[nodiscard]] std::vector<PortSlice> split_port_range(uint16_t low, uint16_t high,
                                                      uint32_t workers);

}  // namespace sipmasq
