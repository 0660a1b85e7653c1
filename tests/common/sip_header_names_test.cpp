// Header names: compact forms both ways, and the headers sipmasq keeps.
#include "sip_header_names.h"

#include <gtest/gtest.h>

namespace sipmasq {
namespace {

TEST(SipHeaderNames, CompactFormsBothWays) {
    EXPECT_EQ(canonical_header_name("m"), "contact");
    EXPECT_EQ(canonical_header_name("S"), "subject");
    EXPECT_EQ(canonical_header_name("User-Agent"), "user-agent");
    EXPECT_EQ(canonical_header_name("q"), "q");  // no such compact form
    EXPECT_EQ(compact_header_form("Subject"), 's');
    EXPECT_EQ(compact_header_form("ALLOW-EVENTS"), 'u');
    EXPECT_EQ(compact_header_form("User-Agent"), '\0');
}

TEST(SipHeaderNames, ProtectedByEitherName) {
    EXPECT_TRUE(header_is_protected("Via"));
    EXPECT_TRUE(header_is_protected("v"));
    EXPECT_TRUE(header_is_protected("CALL-ID"));
    EXPECT_TRUE(header_is_protected("l"));
    EXPECT_FALSE(header_is_protected("User-Agent"));
    EXPECT_FALSE(header_is_protected("s"));
}

TEST(SipHeaderNames, TokenCharactersOnly) {
    EXPECT_TRUE(valid_header_name("X-Foo.Bar_1"));
    EXPECT_FALSE(valid_header_name(""));
    EXPECT_FALSE(valid_header_name("Bad Name"));
    EXPECT_FALSE(valid_header_name("a:b"));
}

}  // namespace
}  // namespace sipmasq
