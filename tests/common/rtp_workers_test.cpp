// The rtpd workers: how many, and the slices of the relay range they own.
#include "rtp_workers.h"

#include <gtest/gtest.h>

#include "config.h"

namespace sipmasq {
namespace {

// Every slice: even low, odd high, adjacent to the one before, the whole
// range covered pair by pair; sizes differ by at most one pair.
void expect_partition(const std::vector<PortSlice>& slices, uint16_t low, uint16_t high) {
    ASSERT_FALSE(slices.empty());
    uint32_t next = low, smallest = 65535, largest = 0;
    for (const PortSlice& s : slices) {
        EXPECT_EQ(s.low, next);
        EXPECT_EQ(s.low % 2, 0);
        EXPECT_EQ(s.high % 2, 1);
        EXPECT_GE(s.pairs(), kMinPairsPerWorker);
        smallest = std::min(smallest, s.pairs());
        largest = std::max(largest, s.pairs());
        next = s.high + 1u;
    }
    EXPECT_LE(largest - smallest, 1u);
    EXPECT_EQ(next, low + 2u * port_pairs(low, high));
}

TEST(RtpWorkers, DefaultRangeSplitsEvenly) {
    const auto two = split_port_range(30000, 39999, 2);
    ASSERT_EQ(two.size(), 2u);
    EXPECT_EQ(two[0], (PortSlice{30000, 34999}));
    EXPECT_EQ(two[1], (PortSlice{35000, 39999}));
    expect_partition(two, 30000, 39999);
    const auto one = split_port_range(30000, 39999, 1);
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0], (PortSlice{30000, 39999}));
}

TEST(RtpWorkers, OddRangesGiveTheRemainderToTheFirstSlices) {
    // 7 pairs and a lone last port (30014, whose RTCP would be outside).
    const auto three = split_port_range(30000, 30014, 3);
    ASSERT_EQ(three.size(), 3u);
    EXPECT_EQ(three[0], (PortSlice{30000, 30005}));  // 3 pairs
    EXPECT_EQ(three[1], (PortSlice{30006, 30009}));  // 2
    EXPECT_EQ(three[2], (PortSlice{30010, 30013}));  // 2
    expect_partition(three, 30000, 30014);
    for (uint32_t workers = 1; workers <= kMaxRtpWorkers; ++workers)
        expect_partition(split_port_range(20000, 41999, workers), 20000, 41999);
    expect_partition(split_port_range(40000, 40039, 2), 40000, 40039);
}

TEST(RtpWorkers, ARangeTooSmallForTheWorkersGivesNoSlices) {
    EXPECT_TRUE(split_port_range(30000, 30011, 4).empty());  // 6 pairs, 8 needed
    EXPECT_EQ(split_port_range(30000, 30011, 3).size(), 3u);
    EXPECT_TRUE(split_port_range(30000, 30003, 0).empty());
}

TEST(RtpWorkers, CountFollowsTheCoresWithinTheRange) {
    EXPECT_EQ(rtp_worker_count(3, 8, 30000, 39999), 3u);    // as configured
    EXPECT_EQ(rtp_worker_count(0, 2, 30000, 39999), 2u);    // one per core
    EXPECT_EQ(rtp_worker_count(0, 64, 30000, 39999), 16u);  // at most 16
    EXPECT_EQ(rtp_worker_count(0, 8, 30000, 30007), 2u);    // 4 pairs: 2 workers
    EXPECT_EQ(rtp_worker_count(0, 8, 30000, 30003), 1u);
    EXPECT_EQ(rtp_worker_count(0, 0, 30000, 39999), 1u);
}

// The default of max_calls: a stream takes a pair on each side, so two
// addresses each have the whole range, one shared address half of it.
TEST(RtpWorkers, RelayStreamsCountEachSidesPool) {
    Config c;
    c.rtp_port_low = 30000;
    c.rtp_port_high = 39999;  // 5,000 pairs
    c.inbound_addrs = {*SockAddr::parse("192.0.2.1")};
    c.outbound_addrs = {*SockAddr::parse("203.0.113.1")};
    EXPECT_EQ(relay_streams(c), 5000u);
    c.outbound_addrs.push_back(*SockAddr::parse("192.0.2.1"));  // one address on both sides
    EXPECT_EQ(relay_streams(c), 2500u);
    c.inbound_addrs.clear();  // no inside address yet: nothing shared
    EXPECT_EQ(relay_streams(c), 5000u);
    c.rtp_port_high = 30001;  // one pair
    c.inbound_addrs = c.outbound_addrs;
    EXPECT_EQ(relay_streams(c), 1u);
}

TEST(RtpWorkers, SliceTextRoundTrips) {
    EXPECT_EQ((PortSlice{35000, 39999}).to_string(), "35000-39999");
    EXPECT_EQ(PortSlice::parse("35000-39999"), (PortSlice{35000, 39999}));
    for (const char* bad : {"35001-39999", "35000-39998", "39998-35001", "35000", "-", "a-b",
                            "35000-70001", "35000-39999x", ""})
        EXPECT_FALSE(PortSlice::parse(bad).has_value()) << bad;
}

}  // namespace
}  // namespace sipmasq
