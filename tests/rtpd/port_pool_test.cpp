// PortPool: pairs, random choice, quarantine on a controlled clock,
// exhaustion and try_reserve (binding pairs: socket_park_test.cpp).
#include "port_pool.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace sipmasq {
namespace {

TEST(PortPool, HandsOutEvenPortsInRangeAsPairs) {
    PortPool pool(40000, 40019, 10, 1);
    EXPECT_EQ(pool.pair_count(), 10u);
    std::set<uint16_t> seen;
    for (int i = 0; i < 10; ++i) {
        auto p = pool.acquire(0);
        ASSERT_TRUE(p.has_value());
        EXPECT_EQ(*p % 2, 0);
        EXPECT_GE(*p, 40000);
        EXPECT_LE(*p + 1, 40019);
        EXPECT_TRUE(seen.insert(*p).second) << "pair handed out twice: " << *p;
    }
    EXPECT_FALSE(pool.acquire(0).has_value());
    auto st = pool.stats(0);
    EXPECT_EQ(st.free, 0u);
    EXPECT_EQ(st.used, 10u);
}

TEST(PortPool, OddLowAndOddPairAtTheTopAreHandled) {
    PortPool pool(40001, 40006, 0, 1);  // pairs 40002, 40004; 40006 has no 40007
    EXPECT_EQ(pool.pair_count(), 2u);
    EXPECT_FALSE(pool.try_reserve(40006, 0));
    EXPECT_FALSE(pool.try_reserve(40003, 0));  // odd: not a pair start
    EXPECT_TRUE(pool.try_reserve(40004, 0));
}

TEST(PortPool, ChoiceIsNotSequential) {
    PortPool pool(30000, 39999, 10, 12345);
    std::vector<uint16_t> got;
    for (int i = 0; i < 50; ++i) got.push_back(*pool.acquire(0));
    int sequential = 0;
    for (size_t i = 1; i < got.size(); ++i)
        if (got[i] == got[i - 1] + 2 || got[i] + 2 == got[i - 1]) ++sequential;
    EXPECT_LT(sequential, 3);
    // Not all in the low end of the range either.
    int high = 0;
    for (auto p : got)
        if (p >= 35000) ++high;
    EXPECT_GT(high, 10);
    EXPECT_LT(high, 40);
    // Two seeds give different sequences.
    PortPool other(30000, 39999, 10, 54321);
    int same = 0;
    for (int i = 0; i < 50; ++i)
        if (*other.acquire(0) == got[static_cast<size_t>(i)]) ++same;
    EXPECT_LT(same, 5);
}

TEST(PortPool, ReleasedPairsRestInQuarantineOnTheGivenClock) {
    PortPool pool(40000, 40003, 10, 7);  // two pairs
    uint16_t a = *pool.acquire(1000);
    uint16_t b = *pool.acquire(1000);
    EXPECT_FALSE(pool.acquire(1000).has_value());
    pool.release(a, 2000);
    auto st = pool.stats(2000);
    EXPECT_EQ(st.quarantined, 1u);
    EXPECT_EQ(st.used, 1u);
    EXPECT_EQ(st.free, 0u);
    EXPECT_FALSE(pool.acquire(11999).has_value()) << "came back before the quarantine ended";
    EXPECT_FALSE(pool.try_reserve(a, 11999)) << "a quarantined pair cannot be reserved";
    pool.release(b, 5000);
    auto back = pool.acquire(12000);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, a);  // FIFO: a's quarantine ended first
    EXPECT_FALSE(pool.acquire(14999).has_value());
    EXPECT_EQ(*pool.acquire(15000), b);
    st = pool.stats(15000);
    EXPECT_EQ(st.used, 2u);
    EXPECT_EQ(st.quarantined, 0u);
}

// Strict source mode: with no pair free, the one that has rested longest is
// handed out rather than a call refused; a pair another process holds is
// never among them, and nothing in use is ever handed out twice.
TEST(PortPool, WhenNoneIsFreeTheLongestRestedReleasedPairIsReused) {
    PortPool pool(40000, 40007, 10, 7, true);  // four pairs
    std::vector<uint16_t> held;
    while (auto p = pool.acquire(1000)) {
        held.push_back(*p);
        if (held.size() > 4) break;
    }
    ASSERT_EQ(held.size(), 4u) << "in use is never handed out again";
    pool.set_aside(held[0], 1000);  // bind() found it held elsewhere
    pool.release(held[1], 2000);
    pool.release(held[2], 3000);
    auto again = pool.acquire(3500);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*again, held[1]) << "the released pair that rested longest";
    EXPECT_EQ(*pool.acquire(3500), held[2]);
    EXPECT_FALSE(pool.acquire(3500).has_value()) << "only the set-aside pair rests, and waits";
    auto st = pool.stats(3500);
    EXPECT_EQ(st.reused_early_total, 2u);
    EXPECT_EQ(st.used, 3u);
    EXPECT_EQ(st.quarantined, 1u);
    // Its quarantine over, the set-aside pair is free again as usual.
    EXPECT_EQ(*pool.acquire(11000), held[0]);
    // Without reuse (latch mode) a full pool still refuses.
    PortPool latch(40000, 40001, 10, 7);
    const uint16_t only = *latch.acquire(0);
    latch.release(only, 0);
    EXPECT_FALSE(latch.acquire(1).has_value());
}

TEST(PortPool, ReleaseOfAPairNotInUseIsIgnored) {
    PortPool pool(40000, 40003, 10, 7);
    pool.release(40000, 0);
    pool.release(12, 0);
    auto st = pool.stats(0);
    EXPECT_EQ(st.free, 2u);
    EXPECT_EQ(st.quarantined, 0u);
}

TEST(PortPool, TryReserveTakesExactlyThatPair) {
    PortPool pool(40000, 40009, 10, 7);
    EXPECT_TRUE(pool.try_reserve(40006, 0));
    EXPECT_FALSE(pool.try_reserve(40006, 0)) << "already used";
    EXPECT_FALSE(pool.try_reserve(39998, 0));
    EXPECT_FALSE(pool.try_reserve(40010, 0));
    for (int i = 0; i < 4; ++i) EXPECT_NE(*pool.acquire(0), 40006);
    EXPECT_FALSE(pool.acquire(0).has_value());
    pool.give_back(40006);
    EXPECT_EQ(*pool.acquire(0), 40006);  // give_back skips quarantine
}

TEST(PortPool, QuarantineRingWrapsAround) {
    PortPool pool(40000, 40005, 1, 3);  // three pairs
    int64_t t = 0;
    for (int round = 0; round < 20; ++round) {
        std::vector<uint16_t> held;
        while (auto p = pool.acquire(t)) held.push_back(*p);
        ASSERT_EQ(held.size(), 3u) << "round " << round;
        for (auto p : held) pool.release(p, t);
        t += 1000;
    }
    EXPECT_EQ(pool.stats(t).free, 3u);
}

}  // namespace
}  // namespace sipmasq
