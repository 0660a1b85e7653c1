// The README's table of configuration keys and the parser's table are the
// same set, so the README never documents a key the code does not know.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "config.h"

namespace sipmasq {
namespace {

std::string readme() {
    const char* root = std::getenv("SIPMASQ_SOURCE_ROOT");
    std::ifstream in(std::string(root != nullptr ? root : "..") + "/README.md");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(ReadmeKeys, TableMatchesTheParser) {
    const std::string text = readme();
    const auto section = text.find("## Configuration keys");
    ASSERT_NE(section, std::string::npos) << "README.md has no 'Configuration keys' section";
    std::set<std::string> documented;
    std::istringstream lines(text.substr(section));
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind("| `", 0) != 0) continue;
        const auto end = line.find('`', 3);
        documented.insert(line.substr(3, end - 3));
    }
    std::set<std::string> supported, unsupported;
    for (const auto& key : config_key_table())
        (key.supported ? supported : unsupported).insert(key.name);
    EXPECT_EQ(documented, supported);
    for (const auto& key : unsupported)
        EXPECT_NE(text.find("`" + key + "`", section), std::string::npos) << key << " not listed";
}

}  // namespace
}  // namespace sipmasq
