// Readers of configuration values and the writers that show them again,
// shared by the rows of the key table (config_keys.cpp) and the parser
// (config.cpp). A reader fills its field, or leaves it and says in `err`
// why the value is wrong (the parser puts the file and line in front).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "address.h"
#include "config.h"

namespace sipmasq::config_values {

inline constexpr uint32_t kMaxSeconds = 31536000;  // a year: keeps ms arithmetic in range
inline constexpr uint32_t kMaxLatchWindowMs = 60000;
inline constexpr uint32_t kMaxRestartBackoff = 3600;  // a child is never left down longer

// Blanks (space, tab, CR) off both ends.
[[nodiscard]] std::string_view trim(std::string_view s) noexcept;
// Only digits, at most 12, within min..max.
[[nodiscard]] bool parse_number(std::string_view text, uint64_t min, uint64_t max,
                                uint64_t& out) noexcept;
// 'v', for error messages.
[[nodiscard]] std::string quoted(std::string_view v);

bool set_port(std::string_view v, uint16_t& field, std::string& err);
bool set_seconds(std::string_view v, uint32_t& field, std::string& err);
bool set_count(std::string_view v, uint64_t min, uint64_t max, uint32_t& field, std::string& err);
bool set_bool(std::string_view v, bool& field, std::string& err);
bool set_absolute_path(std::string_view v, std::string& field, std::string& err);
// A DNS name: labels of letters, digits and hyphens; at most 253 characters.
[[nodiscard]] bool valid_hostname(std::string_view name) noexcept;
// An address (without port) or a host name.
bool set_host(std::string_view v, std::string& field, std::string& err);
// A next hop: set_host, optionally followed by ";transport=tcp" (or udp)
// as in a SIP URI, for a provider that needs TCP; and its writer.
bool set_hop(std::string_view v, std::string& host, bool& tcp, std::string& err);
[[nodiscard]] std::string hop_text(const std::string& host, bool tcp);
// Appenders: a list may be spread over several lines.
bool add_domains(std::string_view v, std::vector<std::string>& field, std::string& err);
bool add_acl(std::string_view v, Acl& field, std::string& err);
bool add_codecs(std::string_view v, std::vector<std::string>& field, std::string& err);
bool add_did_range(std::string_view v, std::vector<DidRange>& field, std::string& err);
// An interface name or address, resolved to every address on it.
bool set_interface(std::string_view v, std::string& name, std::vector<SockAddr>& addrs,
                   std::string& err);
// strip_header / replace_header: a header name, never one sipmasq needs.
bool check_header_name(std::string_view name, std::string& err);
// Splits on commas and blanks.
[[nodiscard]] std::vector<std::string> split_list(std::string_view v);

// Writers, as `sipmasq -t` shows the values.
[[nodiscard]] std::string join(const std::vector<std::string>& items);
[[nodiscard]] std::string join_lines(const std::vector<std::vector<std::string>>& lines);
[[nodiscard]] std::string join_addrs(const std::vector<SockAddr>& addrs);

}  // namespace sipmasq::config_values
