// The TCP connection limits: in total and per source (IPv6 per /64).
#include "connection_budget.h"

#include <gtest/gtest.h>

using namespace sipmasq;

namespace {
SockAddr addr(const char* text) {
    return *SockAddr::parse(text);
}
}  // namespace

TEST(ConnectionBudget, PerSourceLimitCountsAddressesNotPorts) {
    ConnectionBudget b({/*max_total=*/10, /*max_per_source=*/2});
    EXPECT_EQ(b.take(addr("192.0.2.10:1000")), ConnectionBudget::Admission::Ok);
    EXPECT_EQ(b.take(addr("192.0.2.10:1001")), ConnectionBudget::Admission::Ok);
    EXPECT_EQ(b.take(addr("192.0.2.10:1002")), ConnectionBudget::Admission::SourceBudget);
    EXPECT_EQ(b.take(addr("192.0.2.11:1000")), ConnectionBudget::Admission::Ok);
    EXPECT_EQ(b.total(), 3u);
    b.give_back(addr("192.0.2.10:1000"));
    EXPECT_EQ(b.of(addr("192.0.2.10:9")), 1u);
    EXPECT_EQ(b.take(addr("192.0.2.10:1003")), ConnectionBudget::Admission::Ok);
}

TEST(ConnectionBudget, TotalLimit) {
    ConnectionBudget b({3, 3});
    EXPECT_EQ(b.take(addr("203.0.113.1:1")), ConnectionBudget::Admission::Ok);
    EXPECT_EQ(b.take(addr("203.0.113.2:1")), ConnectionBudget::Admission::Ok);
    EXPECT_EQ(b.take(addr("203.0.113.3:1")), ConnectionBudget::Admission::Ok);
    EXPECT_EQ(b.take(addr("203.0.113.4:1")), ConnectionBudget::Admission::Full);
    b.give_back(addr("203.0.113.2:1"));
    EXPECT_EQ(b.take(addr("203.0.113.4:1")), ConnectionBudget::Admission::Ok);
    EXPECT_EQ(b.total(), 3u);
}

TEST(ConnectionBudget, Ipv6SourcesCountPerSlash64) {
    ConnectionBudget b({10, 1});
    EXPECT_EQ(b.take(addr("[2001:db8:1:2::1]:5060")), ConnectionBudget::Admission::Ok);
    EXPECT_EQ(b.take(addr("[2001:db8:1:2::ffff]:5060")), ConnectionBudget::Admission::SourceBudget);
    EXPECT_EQ(b.take(addr("[2001:db8:1:3::1]:5060")), ConnectionBudget::Admission::Ok);
}

TEST(ConnectionBudget, GivingBackWhatWasNeverTakenChangesNothing) {
    ConnectionBudget b({3, 2});
    b.give_back(addr("192.0.2.10:1"));
    EXPECT_EQ(b.total(), 0u);
    EXPECT_EQ(b.take(addr("192.0.2.10:1")), ConnectionBudget::Admission::Ok);
    EXPECT_EQ(b.take(addr("192.0.2.10:2")), ConnectionBudget::Admission::Ok);
    EXPECT_EQ(b.take(addr("192.0.2.10:3")), ConnectionBudget::Admission::SourceBudget);
}
