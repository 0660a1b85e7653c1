// libFuzzer target for the configuration parser. The file is root's, but
// `sipmasq -t` is run on files copied from elsewhere (an old siproxd.conf, a
// forum post), every process parses it before dropping privileges, and a
// reload parses it in a running daemon: no input may crash it. Beyond not
// crashing, every error must name a line of the input (or none), and a
// file that parses clean must print (format_config) as a file that parses
// clean to the same configuration (once the "key =" lines of unset keys,
// which the parser refuses as empty values, are left out).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config.h"

namespace {

size_t count_lines(std::string_view text) {
    size_t lines = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        ++lines;
        const size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    return lines;
}

// format_config's text without the lines of unset keys ("key =").
std::string without_unset(std::string_view printed) {
    std::string out;
    size_t pos = 0;
    while (pos < printed.size()) {
        size_t nl = printed.find('\n', pos);
        if (nl == std::string_view::npos) nl = printed.size();
        const std::string_view line = printed.substr(pos, nl - pos);
        if (line.size() < 2 || line.substr(line.size() - 2) != " =") out.append(line).append("\n");
        pos = nl + 1;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sipmasq;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const ConfigResult result = parse_config_text(text, "fuzz.conf");
    const size_t lines = count_lines(text);
    for (const auto* list : {&result.errors, &result.warnings})
        for (const ConfigError& e : *list)
            if (e.line < 0 || static_cast<size_t>(e.line) > lines || e.message.empty())
                __builtin_trap();
    // Every key's value can be shown, valid or not (sipmasq -t prints them).
    for (const ConfigKeyInfo& key : config_key_table())
        (void)config_value_string(result.config, key.name);
    const std::string printed = format_config(result.config);
    if (!result.ok()) return 0;

    const ConfigResult again = parse_config_text(without_unset(printed), "fuzz.conf");
    if (!again.ok() || format_config(again.config) != printed ||
        !config_diff(result.config, again.config).empty())
        __builtin_trap();
    return 0;
}
