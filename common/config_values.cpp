// Readers of configuration values (numbers, ports, paths, hosts, lists,
// ACLs, codecs, header names) and the writers that show them again: what
// the key table (config_keys.cpp) builds its rows from. Each reader fills
// its field or says in `err` why the value is wrong.
#include "config_values.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "interfaces.h"
#include "sip_header_names.h"

namespace sipmasq::config_values {

std::string_view trim(std::string_view s) noexcept {
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

bool parse_number(std::string_view text, uint64_t min, uint64_t max, uint64_t& out) noexcept {
    if (text.empty() || text.size() > 12) return false;
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return false;
    }
    uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max) return false;
    out = v;
    return true;
}

std::string quoted(std::string_view v) {
    return "'" + std::string(v) + "'";
}

namespace {

bool set_u16(std::string_view v, uint64_t min, uint64_t max, uint16_t& field, std::string& err,
             const char* what) {
    uint64_t n = 0;
    if (!parse_number(v, min, max, n)) {
        err = quoted(v) + " is not " + what + " (" + std::to_string(min) + ".." +
              std::to_string(max) + ")";
        return false;
    }
    field = static_cast<uint16_t>(n);
    return true;
}

}  // namespace

bool set_port(std::string_view v, uint16_t& field, std::string& err) {
    return set_u16(v, 1, 65535, field, err, "a port number");
}

bool set_seconds(std::string_view v, uint32_t& field, std::string& err) {
    uint64_t n = 0;
    if (!parse_number(v, 1, kMaxSeconds, n)) {
        err = quoted(v) + " is not a number of seconds (1.." + std::to_string(kMaxSeconds) + ")";
        return false;
    }
    field = static_cast<uint32_t>(n);
    return true;
}

bool set_count(std::string_view v, uint64_t min, uint64_t max, uint32_t& field, std::string& err) {
    uint64_t n = 0;
    if (!parse_number(v, min, max, n)) {
        err = quoted(v) + " is not a number (" + std::to_string(min) + ".." + std::to_string(max) +
              ")";
        return false;
    }
    field = static_cast<uint32_t>(n);
    return true;
}

bool set_bool(std::string_view v, bool& field, std::string& err) {
    if (v == "1" || v == "yes" || v == "true" || v == "on") {
        field = true;
    } else if (v == "0" || v == "no" || v == "false" || v == "off") {
        field = false;
    } else {
        err = quoted(v) + " is not a boolean (0 or 1)";
        return false;
    }
    return true;
}

bool set_absolute_path(std::string_view v, std::string& field, std::string& err) {
    if (v.front() != '/') {
        err = quoted(v) + " is not an absolute path";
        return false;
    }
    field = std::string(v);
    return true;
}

// A DNS name: labels of letters, digits and hyphens, not starting or ending
// with a hyphen; at most 253 characters.
bool valid_hostname(std::string_view name) noexcept {
    if (name.empty() || name.size() > 253) return false;
    if (name.back() == '.') name.remove_suffix(1);
    size_t pos = 0;
    while (pos <= name.size()) {
        size_t end = name.find('.', pos);
        if (end == std::string_view::npos) end = name.size();
        const std::string_view label = name.substr(pos, end - pos);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
            return false;
        }
        for (const char c : label) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-';
            if (!ok) return false;
        }
        pos = end + 1;
    }
    return true;
}

// An address or a name (resolved later, by sipd, when it is needed).
bool set_host(std::string_view v, std::string& field, std::string& err) {
    const auto addr = SockAddr::parse(v);
    if (addr && addr->port() == 0) {
        field = std::string(v);
        return true;
    }
    if (addr || !valid_hostname(v)) {
        err = quoted(v) + " is not a host name or an address (without port)";
        return false;
    }
    field = std::string(v);
    return true;
}

// As Kamailio users write an outbound proxy that needs TCP.
bool set_hop(std::string_view v, std::string& host, bool& tcp, std::string& err) {
    const size_t semi = v.find(';');
    if (!set_host(v.substr(0, semi), host, err)) return false;
    tcp = false;
    if (semi == std::string_view::npos) return true;
    std::string param(v.substr(semi + 1));
    for (char& c : param) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (param == "transport=tcp" || param == "transport=udp") {
        tcp = param == "transport=tcp";
        return true;
    }
    err = quoted(v) + ": only ;transport=udp or ;transport=tcp may follow the host";
    return false;
}

std::string hop_text(const std::string& host, bool tcp) {
    return tcp ? host + ";transport=tcp" : host;
}

// Comma and/or whitespace separated list of domain names, appended.
bool add_domains(std::string_view v, std::vector<std::string>& field, std::string& err) {
    std::vector<std::string> items;
    size_t pos = 0;
    while (pos < v.size()) {
        size_t end = v.find_first_of(", \t", pos);
        if (end == std::string_view::npos) end = v.size();
        const std::string_view item = v.substr(pos, end - pos);
        pos = end + 1;
        if (item.empty()) continue;
        if (!valid_hostname(item) && !SockAddr::parse(item)) {
            err = quoted(item) + " is not a domain name";
            return false;
        }
        items.emplace_back(item);
    }
    if (items.empty()) {
        err = "the list is empty";
        return false;
    }
    field.insert(field.end(), items.begin(), items.end());
    return true;
}

// Appends to an ACL, so that a list may be spread over several lines.
bool add_acl(std::string_view v, Acl& field, std::string& err) {
    std::string acl_error;
    auto more = Acl::parse(v, &acl_error);
    if (!more) {
        err = acl_error;
        return false;
    }
    if (more->empty()) {
        err = "the list is empty";
        return false;
    }
    auto merged = Acl::parse(field.to_string() + "," + more->to_string(), &acl_error);
    if (!merged) {
        err = acl_error;
        return false;
    }
    field = *merged;
    return true;
}

bool set_interface(std::string_view v, std::string& name, std::vector<SockAddr>& addrs,
                   std::string& err) {
    std::string why;
    auto resolved = resolve_interface(v, &why);
    // An interface without an address yet (down, DHCP or PPPoE pending, an
    // IPv6 address still tentative) is fine: the parent watches it and
    // serves that side once an address comes (config.cpp warns).
    if (resolved.empty() && !(interface_exists(v) && !SockAddr::parse(v))) {
        err = why;
        return false;
    }
    name = std::string(v);
    addrs = std::move(resolved);
    return true;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) {
        if (!out.empty()) out += ",";
        out += s;
    }
    return out;
}

std::string join_addrs(const std::vector<SockAddr>& addrs) {
    std::string out;
    for (const auto& a : addrs) {
        if (!out.empty()) out += ", ";
        out += a.host_string();
    }
    return out;
}

// Splits a list on commas and blanks.
std::vector<std::string> split_list(std::string_view v) {
    std::vector<std::string> items;
    size_t pos = 0;
    while (pos < v.size()) {
        size_t end = v.find_first_of(", \t", pos);
        if (end == std::string_view::npos) end = v.size();
        if (end > pos) items.emplace_back(v.substr(pos, end - pos));
        pos = end + 1;
    }
    return items;
}

// strip_header / replace_header: a header name, never one sipmasq needs.
bool check_header_name(std::string_view name, std::string& err) {
    if (!valid_header_name(name)) {
        err = quoted(name) + " is not a header name";
        return false;
    }
    if (header_is_protected(name)) {
        err = quoted(name) + " is a header sipmasq needs to route and masquerade; it stays";
        return false;
    }
    return true;
}

// codec_allow / codec_deny: encoding names (PCMU, G729, telephone-event)
// or RTP payload type numbers (0..127), appended.
bool add_codecs(std::string_view v, std::vector<std::string>& field, std::string& err) {
    const auto items = split_list(v);
    if (items.empty()) {
        err = "the list is empty";
        return false;
    }
    for (const std::string& item : items) {
        const bool number =
            std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; });
        uint64_t pt = 0;
        const bool name =
            !number && item.size() <= 32 && std::all_of(item.begin(), item.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_';
            });
        if (!(number && parse_number(item, 0, 127, pt)) && !name) {
            err = quoted(item) + " is not a codec name or a payload type (0..127)";
            return false;
        }
    }
    field.insert(field.end(), items.begin(), items.end());
    return true;
}

namespace {

// A dialled number: an optional '+' and 1..20 digits.
bool valid_number(std::string_view n) noexcept {
    if (!n.empty() && n.front() == '+') n.remove_prefix(1);
    return !n.empty() && n.size() <= 20 &&
           std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

// did_range = ACCOUNT FIRST[-LAST]
bool add_did_range(std::string_view v, std::vector<DidRange>& field, std::string& err) {
    const auto items = split_list(v);
    if (items.size() != 2) {
        err = quoted(v) + " is not 'user@domain first[-last]'";
        return false;
    }
    std::string account = items[0];
    if (account.size() > 4 &&
        (account.compare(0, 4, "sip:") == 0 || account.compare(0, 4, "SIP:") == 0))
        account.erase(0, 4);
    const size_t at = account.find('@');
    if (at == 0 || at == std::string::npos || at + 1 == account.size() ||
        !valid_hostname(std::string_view(account).substr(at + 1))) {
        err = quoted(items[0]) + " is not an account user@domain";
        return false;
    }
    const std::string& range = items[1];
    const size_t dash = range.find('-');
    DidRange r{account, range.substr(0, dash),
               dash == std::string::npos ? range : range.substr(dash + 1)};
    if (!valid_number(r.first) || !valid_number(r.last) || r.first.size() != r.last.size() ||
        (r.first.front() == '+') != (r.last.front() == '+') || r.first > r.last) {
        err = quoted(range) +
              " is not a number range first-last (digits, the same number of them, first <= last)";
        return false;
    }
    field.push_back(std::move(r));
    return true;
}

std::string join_lines(const std::vector<std::vector<std::string>>& lines) {
    std::string out;
    for (const auto& l : lines) {
        if (!out.empty()) out += "; ";
        out += join(l);
    }
    return out;
}

}  // namespace sipmasq::config_values
