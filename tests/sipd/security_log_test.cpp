// SecurityLog: a budget of security lines per source address, a global cap,
// and a bounded table of sources.
#include "security_log.h"

#include <gtest/gtest.h>

#include <string>

namespace sipmasq {
namespace {

SockAddr addr(const std::string& text) {
    auto a = SockAddr::parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(SockAddr());
}

// The n-th of many distinct IPv4 sources.
SockAddr nth_source(uint32_t n) {
    const uint32_t ip = 0x0a000000u + n;  // 10.0.0.0/8
    return addr(std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xff) + "." +
                std::to_string((ip >> 8) & 0xff) + "." + std::to_string(ip & 0xff) + ":5060");
}

// Lines of `source` allowed out of `tries` at the same instant.
int allowed(SecurityLog& log, const SockAddr& source, int64_t now, int tries) {
    int n = 0;
    uint64_t suppressed = 0;
    for (int i = 0; i < tries; ++i) n += log.allow(source, now, suppressed) ? 1 : 0;
    return n;
}

TEST(SecurityLogTest, OneSourceGetsItsBurstThenWaits) {
    SecurityLog log;  // 5 lines per 10 s per source
    const SockAddr a = addr("198.51.100.7:5060");
    EXPECT_EQ(allowed(log, a, 1000, 20), 5);
    uint64_t suppressed = 99;
    EXPECT_FALSE(log.allow(a, 1000 + 1999, suppressed));
    // 10 s / 5 lines: one token back every 2 s.
    EXPECT_TRUE(log.allow(a, 1000 + 2000 + 1999, suppressed));
    EXPECT_EQ(suppressed, 15u + 1u) << "the dropped lines are reported with the next one";
    EXPECT_FALSE(log.allow(a, 1000 + 2000 + 1999, suppressed));
}

TEST(SecurityLogTest, ALongQuietSpellRefillsTheBurstAndNoMore) {
    SecurityLog log;
    const SockAddr a = addr("198.51.100.7:5060");
    EXPECT_EQ(allowed(log, a, 0, 5), 5);
    EXPECT_EQ(allowed(log, a, 3'600'000, 50), 5);
}

TEST(SecurityLogTest, ANoisySourceDoesNotSilenceAnother) {
    SecurityLog log;
    const SockAddr noisy = addr("203.0.113.66:5060");
    const SockAddr quiet = addr("198.51.100.7:5070");
    uint64_t suppressed = 0;
    int noisy_allowed = 0;
    for (int i = 0; i < 1000; ++i) noisy_allowed += log.allow(noisy, 5000 + i, suppressed) ? 1 : 0;
    EXPECT_EQ(noisy_allowed, 5);
    for (int i = 0; i < 5; ++i) {
        suppressed = 99;
        EXPECT_TRUE(log.allow(quiet, 6000 + i, suppressed)) << "line " << i;
        EXPECT_EQ(suppressed, 0u) << "the noisy source's drops are not the quiet one's";
    }
    EXPECT_EQ(log.suppressed_total(), 995u);
}

TEST(SecurityLogTest, TheBudgetIsPerAddressNotPerPort) {
    SecurityLog log;
    int n = 0;
    uint64_t suppressed = 0;
    for (int port = 1024; port < 1044; ++port)
        n += log.allow(addr("203.0.113.66:" + std::to_string(port)), 0, suppressed) ? 1 : 0;
    EXPECT_EQ(n, 5);
    // The IPv4-mapped form of the same address is the same source.
    EXPECT_FALSE(log.allow(addr("[::ffff:203.0.113.66]:5060"), 0, suppressed));
    // An IPv6 source has its own budget.
    EXPECT_EQ(allowed(log, addr("[2001:db8::1]:5060"), 0, 9), 5);
    EXPECT_EQ(allowed(log, addr("[2001:db8::2]:5060"), 0, 9), 5);
}

TEST(SecurityLogTest, TheGlobalCapHoldsAcrossSourcesAndKeepsTheirCounts) {
    SecurityLog::Limits limits;
    limits.global_burst = 12;  // per 10 s
    SecurityLog log(limits);
    int total = 0;
    for (uint32_t i = 0; i < 100; ++i) total += allowed(log, nth_source(i), 0, 1);
    EXPECT_EQ(total, 12);
    // Source 50 was held back by the cap, not by its own budget: its line
    // is reported when the cap allows again (one global token per 10/12 s).
    uint64_t suppressed = 0;
    EXPECT_TRUE(log.allow(nth_source(50), 834, suppressed));
    EXPECT_EQ(suppressed, 1u);
}

TEST(SecurityLogTest, DistinctSourcesKeepTheTableAtItsCap) {
    SecurityLog log;  // 1024 sources
    uint64_t suppressed = 0;
    for (uint32_t i = 0; i < 100'000; ++i) {
        (void)log.allow(nth_source(i), i, suppressed);
        ASSERT_LE(log.sources(), 1024u) << "after " << i + 1 << " sources";
    }
    EXPECT_EQ(log.sources(), 1024u);
}

TEST(SecurityLogTest, TheLeastRecentlyUsedSourceIsEvicted) {
    SecurityLog::Limits limits;
    limits.max_sources = 3;
    limits.global_burst = 1000;
    SecurityLog log(limits);
    const SockAddr a = nth_source(1), b = nth_source(2), c = nth_source(3), d = nth_source(4);
    EXPECT_EQ(allowed(log, a, 0, 10), 5);
    EXPECT_EQ(allowed(log, b, 0, 10), 5);
    EXPECT_EQ(allowed(log, c, 0, 10), 5);
    EXPECT_EQ(allowed(log, a, 0, 1), 0);  // a is now the most recent
    EXPECT_EQ(allowed(log, d, 0, 1), 1);  // evicts b, the least recent
    EXPECT_EQ(log.sources(), 3u);
    EXPECT_EQ(allowed(log, a, 0, 1), 0) << "a kept its spent budget";
    EXPECT_EQ(allowed(log, c, 0, 1), 0) << "c kept its spent budget";
    // b comes back as a new source (evicting d), with a fresh budget.
    uint64_t suppressed = 99;
    EXPECT_TRUE(log.allow(b, 0, suppressed));
    EXPECT_EQ(suppressed, 0u);
}

}  // namespace
}  // namespace sipmasq
