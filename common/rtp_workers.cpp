#include "rtp_workers.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "config.h"

namespace sipmasq {

std::string PortSlice::to_string() const {
    return std::to_string(low) + "-" + std::to_string(high);
}

std::optional<PortSlice> PortSlice::parse(std::string_view text) {
    const size_t dash = text.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    auto number = [](std::string_view s, uint16_t& out) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
        if (ec != std::errc() || end != s.data() + s.size() || s.empty() || value > 65535)
            return false;
        out = static_cast<uint16_t>(value);
        return true;
    };
    PortSlice slice;
    if (!number(text.substr(0, dash), slice.low) || !number(text.substr(dash + 1), slice.high))
        return std::nullopt;
    if (slice.low % 2 != 0 || slice.high % 2 != 1 || slice.high <= slice.low) return std::nullopt;
    return slice;
}

uint32_t port_pairs(uint16_t low, uint16_t high) noexcept {
    return high > low ? (static_cast<uint32_t>(high) - low + 1u) / 2u : 0u;
}

uint32_t rtp_worker_count(uint32_t configured, uint32_t cores, uint16_t low,
                          uint16_t high) noexcept {
    if (configured != 0) return configured;
    const uint32_t by_range = std::max<uint32_t>(1, port_pairs(low, high) / kMinPairsPerWorker);
    return std::clamp<uint32_t>(std::min(cores, by_range), 1, kMaxRtpWorkers);
}

uint32_t rtp_worker_count(const Config& config) {
    const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
    const uint32_t cores = online > 0 ? static_cast<uint32_t>(online) : 1u;
    return rtp_worker_count(config.rtp_workers, cores, config.rtp_port_low, config.rtp_port_high);
}

size_t relay_streams(const Config& config) {
    const size_t pairs = port_pairs(config.rtp_port_low, config.rtp_port_high);
    bool shared = false;
    for (const SockAddr& in : config.inbound_addrs)
        for (const SockAddr& out : config.outbound_addrs) shared = shared || in.same_host(out);
    return std::max<size_t>(1, shared ? pairs / 2 : pairs);
}

std::vector<PortSlice> split_port_range(uint16_t low, uint16_t high, uint32_t workers) {
    const uint32_t pairs = port_pairs(low, high);
    if (workers == 0 || pairs / workers < kMinPairsPerWorker) return {};
    std::vector<PortSlice> slices;
    slices.reserve(workers);
    uint32_t first = 0;  // the first pair of the next slice
    for (uint32_t i = 0; i < workers; ++i) {
        const uint32_t count = pairs / workers + (i < pairs % workers ? 1u : 0u);
        const uint32_t slice_low = low + 2u * first;
        slices.push_back(
            {static_cast<uint16_t>(slice_low), static_cast<uint16_t>(slice_low + 2u * count - 1u)});
        first += count;
    }
    return slices;
}

}  // namespace sipmasq
