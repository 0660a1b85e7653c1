// The parser and validator of sipmasq.conf: siproxd's `key = value` lines,
// each error tied to its file and line.
#include "config.h"

#include <pwd.h>
#include <sys/stat.h>
#include <syslog.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "interfaces.h"
#include "sip_header_names.h"

namespace sipmasq {
namespace {

constexpr size_t kMaxLineLength = 4096;
constexpr size_t kMaxFileSize = size_t{1024} * 1024;
constexpr uint32_t kMaxSeconds = 31536000;  // a year: keeps ms arithmetic in range
constexpr uint32_t kMaxLatchWindowMs = 60000;
constexpr uint32_t kMaxRestartBackoff = 3600;  // a child is never left down longer

// ---- small helpers --------------------------------------------------------

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

// A next hop: a host (set_host) and optionally the transport it needs, as
// in a SIP URI ("proxy.example.com;transport=tcp"), as Kamailio users
// write an outbound proxy.
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
    if (resolved.empty()) {
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

// A dialled number: an optional '+' and 1..20 digits.
bool valid_number(std::string_view n) noexcept {
    if (!n.empty() && n.front() == '+') n.remove_prefix(1);
    return !n.empty() && n.size() <= 20 &&
           std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; });
}

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

// ---- the supported keys ---------------------------------------------------

using ApplyFn = bool (*)(Config&, std::string_view, std::string&);
using ShowFn = std::string (*)(const Config&);

struct KeyHandler {
    const char* name;
    bool repeatable;  // a list that may be spread over several lines
    ApplyFn apply;
    ShowFn show;
};

const std::vector<KeyHandler>& handlers() {
    static const std::vector<KeyHandler> table = {
        {"if_inbound", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_interface(v, c.if_inbound, c.inbound_addrs, e);
         },
         [](const Config& c) { return c.if_inbound; }},
        {"if_outbound", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_interface(v, c.if_outbound, c.outbound_addrs, e);
         },
         [](const Config& c) { return c.if_outbound; }},
        {"host_outbound", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_host(v, c.host_outbound, e);
         },
         [](const Config& c) { return c.host_outbound; }},
        {"dns_server", false,
         [](Config& c, std::string_view v, std::string& e) {
             const auto addr = SockAddr::parse(v);
             if (!v.empty() && (!addr || addr->port() != 0)) {
                 e = quoted(v) + " is not a numeric address without a port";
                 return false;
             }
             c.dns_server = std::string(v);
             return true;
         },
         [](const Config& c) { return c.dns_server; }},
        {"sip_listen_port", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_port(v, c.sip_listen_port, e);
         },
         [](const Config& c) { return std::to_string(c.sip_listen_port); }},
        {"hosts_allow_reg", true,
         [](Config& c, std::string_view v, std::string& e) {
             return add_acl(v, c.hosts_allow_reg, e);
         },
         [](const Config& c) { return c.hosts_allow_reg.to_string(); }},
        {"hosts_allow_sip", true,
         [](Config& c, std::string_view v, std::string& e) {
             return add_acl(v, c.hosts_allow_sip, e);
         },
         [](const Config& c) { return c.hosts_allow_sip.to_string(); }},
        {"hosts_deny_sip", true,
         [](Config& c, std::string_view v, std::string& e) {
             return add_acl(v, c.hosts_deny_sip, e);
         },
         [](const Config& c) { return c.hosts_deny_sip.to_string(); }},
        {"rtp_port_low", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_port(v, c.rtp_port_low, e);
         },
         [](const Config& c) { return std::to_string(c.rtp_port_low); }},
        {"rtp_port_high", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_port(v, c.rtp_port_high, e);
         },
         [](const Config& c) { return std::to_string(c.rtp_port_high); }},
        {"rtp_timeout", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_seconds(v, c.rtp_timeout, e);
         },
         [](const Config& c) { return std::to_string(c.rtp_timeout); }},
        {"rtp_no_bidir_timeout", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_seconds(v, c.rtp_no_bidir_timeout, e);
         },
         [](const Config& c) { return std::to_string(c.rtp_no_bidir_timeout); }},
        {"rtp_max_duration", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_seconds(v, c.rtp_max_duration, e);
         },
         [](const Config& c) { return std::to_string(c.rtp_max_duration); }},
        {"rtp_quarantine", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_seconds(v, c.rtp_quarantine, e);
         },
         [](const Config& c) { return std::to_string(c.rtp_quarantine); }},
        {"rtp_source_mode", false,
         [](Config& c, std::string_view v, std::string& e) {
             if (v == "strict") {
                 c.rtp_source_mode = SourceMode::Strict;
             } else if (v == "latch") {
                 c.rtp_source_mode = SourceMode::Latch;
             } else {
                 e = quoted(v) + " is not 'strict' or 'latch'";
                 return false;
             }
             return true;
         },
         [](const Config& c) {
             return std::string(c.rtp_source_mode == SourceMode::Latch ? "latch" : "strict");
         }},
        {"rtp_latch_window", false,
         [](Config& c, std::string_view v, std::string& e) {
             uint64_t n = 0;
             if (!parse_number(v, 1, kMaxLatchWindowMs, n)) {
                 e = quoted(v) + " is not a number of milliseconds (1.." +
                     std::to_string(kMaxLatchWindowMs) + ")";
                 return false;
             }
             c.rtp_latch_window_ms = static_cast<uint32_t>(n);
             return true;
         },
         [](const Config& c) { return std::to_string(c.rtp_latch_window_ms); }},
        {"rtp_dscp", false,
         [](Config& c, std::string_view v, std::string& e) {
             uint64_t n = 0;
             if (!parse_number(v, 0, 63, n)) {
                 e = quoted(v) + " is not a DSCP value (0..63)";
                 return false;
             }
             c.rtp_dscp = static_cast<uint8_t>(n);
             return true;
         },
         [](const Config& c) { return std::to_string(c.rtp_dscp); }},
        {"max_calls", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_count(v, 0, 1000000, c.max_calls, e);
         },
         [](const Config& c) { return std::to_string(c.max_calls); }},
        {"max_setup_calls_per_source", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_count(v, 1, 100000, c.max_setup_calls_per_source, e);
         },
         [](const Config& c) { return std::to_string(c.max_setup_calls_per_source); }},
        {"rtp_setup_share", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_count(v, 1, 100, c.rtp_setup_share, e);
         },
         [](const Config& c) { return std::to_string(c.rtp_setup_share); }},
        {"max_media_streams", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_count(v, 1, 64, c.max_media_streams, e);
         },
         [](const Config& c) { return std::to_string(c.max_media_streams); }},
        {"sip_max_transactions", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_count(v, 16, 1000000, c.sip_max_transactions, e);
         },
         [](const Config& c) { return std::to_string(c.sip_max_transactions); }},
        {"sip_max_transactions_per_source", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_count(v, 1, 100000, c.sip_max_transactions_per_source, e);
         },
         [](const Config& c) { return std::to_string(c.sip_max_transactions_per_source); }},
        {"tcp_timeout", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_count(v, 10, 86400, c.tcp_timeout, e);
         },
         [](const Config& c) { return std::to_string(c.tcp_timeout); }},
        {"tcp_connect_timeout", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_count(v, 50, 60000, c.tcp_connect_timeout, e);
         },
         [](const Config& c) { return std::to_string(c.tcp_connect_timeout); }},
        {"tcp_keepalive", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_count(v, 0, 3600, c.tcp_keepalive, e);
         },
         [](const Config& c) { return std::to_string(c.tcp_keepalive); }},
        {"sip_tcp_max_connections", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_count(v, 1, 100000, c.sip_tcp_max_connections, e);
         },
         [](const Config& c) { return std::to_string(c.sip_tcp_max_connections); }},
        {"sip_tcp_max_connections_per_source", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_count(v, 1, 100000, c.sip_tcp_max_connections_per_source, e);
         },
         [](const Config& c) { return std::to_string(c.sip_tcp_max_connections_per_source); }},
        {"sip_tcp_max_message", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_count(v, 1024, 1048576, c.sip_tcp_max_message, e);
         },
         [](const Config& c) { return std::to_string(c.sip_tcp_max_message); }},
        {"user", false,
         [](Config& c, std::string_view v, std::string&) {
             c.user = std::string(v);  // checked with getpwnam once the file is read
             return true;
         },
         [](const Config& c) { return c.user; }},
        {"rtp_user", false,
         [](Config& c, std::string_view v, std::string&) {
             c.rtp_user = std::string(v);  // checked with getpwnam once the file is read
             return true;
         },
         [](const Config& c) { return c.rtp_user; }},
        {"chrootjail", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_absolute_path(v, c.chrootjail, e);
         },
         [](const Config& c) { return c.chrootjail; }},
        {"restart_backoff_max", false,
         [](Config& c, std::string_view v, std::string& e) {
             uint64_t n = 0;
             if (!parse_number(v, 1, kMaxRestartBackoff, n)) {
                 e = quoted(v) + " is not a number of seconds (1.." +
                     std::to_string(kMaxRestartBackoff) + ")";
                 return false;
             }
             c.restart_backoff_max = static_cast<uint32_t>(n);
             return true;
         },
         [](const Config& c) { return std::to_string(c.restart_backoff_max); }},
        {"registration_file", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_absolute_path(v, c.registration_file, e);
         },
         [](const Config& c) { return c.registration_file; }},
        {"pid_file", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_absolute_path(v, c.pid_file, e);
         },
         [](const Config& c) { return c.pid_file; }},
        {"control_socket", false,
         [](Config& c, std::string_view v, std::string& e) {
             if (v.size() >= 108) {  // sizeof(sockaddr_un::sun_path)
                 e = "the path is longer than a Unix socket address allows (107 bytes)";
                 return false;
             }
             return set_absolute_path(v, c.control_socket, e);
         },
         [](const Config& c) { return c.control_socket; }},
        {"daemonize", false,
         [](Config& c, std::string_view v, std::string& e) { return set_bool(v, c.daemonize, e); },
         [](const Config& c) { return std::string(c.daemonize ? "1" : "0"); }},
        {"syslog_facility", false,
         [](Config& c, std::string_view v, std::string& e) {
             const int value = syslog_facility_from_string(v);
             if (value < 0) {
                 e = quoted(v) + " is not a syslog facility (daemon, local0..local7, user, ...)";
                 return false;
             }
             c.syslog_facility = std::string(v);
             c.syslog_facility_value = value;
             return true;
         },
         [](const Config& c) { return c.syslog_facility; }},
        {"debug_level", false,
         [](Config& c, std::string_view v, std::string& e) {
             if (log_level_from_string(v, c.log_level)) return true;
             // siproxd's debug class bit masks: 0 is quiet, any class is debug.
             uint64_t mask = 0;
             const bool hex = v.size() > 2 && v.size() <= 10 && v[0] == '0' &&
                              (v[1] == 'x' || v[1] == 'X') &&
                              std::from_chars(v.data() + 2, v.data() + v.size(), mask, 16).ptr ==
                                  v.data() + v.size();
             if (hex || parse_number(v, 0, UINT32_MAX, mask) || v == "-1") {
                 c.log_level = (mask == 0 && v != "-1") ? LogLevel::Info : LogLevel::Debug;
                 return true;
             }
             e = quoted(v) +
                 " is not a log level (error, warning, notice, info, debug) or a siproxd "
                 "debug mask";
             return false;
         },
         [](const Config& c) { return std::string(log_level_name(c.log_level)); }},
        {"silence_log", false,
         [](Config& c, std::string_view v, std::string& e) {
             uint64_t n = 0;
             if (!parse_number(v, 0, 4, n)) {
                 e = quoted(v) + " is not a silence level (0..4)";
                 return false;
             }
             c.silence_log = static_cast<uint8_t>(n);
             return true;
         },
         [](const Config& c) { return std::to_string(c.silence_log); }},
        {"proxy_auth_realm", false,
         [](Config& c, std::string_view v, std::string& e) {
             if (v.find('"') != std::string_view::npos || v.find('\\') != std::string_view::npos) {
                 e = "a realm may not contain '\"' or '\\'";
                 return false;
             }
             c.proxy_auth_realm = std::string(v);
             return true;
         },
         [](const Config& c) { return c.proxy_auth_realm; }},
        {"proxy_auth_pwfile", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_absolute_path(v, c.proxy_auth_pwfile, e);
         },
         [](const Config& c) { return c.proxy_auth_pwfile; }},
        {"default_expires", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_seconds(v, c.default_expires, e);
         },
         [](const Config& c) { return std::to_string(c.default_expires); }},
        {"max_expires", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_seconds(v, c.max_expires, e);
         },
         [](const Config& c) { return std::to_string(c.max_expires); }},
        {"local_domains", true,
         [](Config& c, std::string_view v, std::string& e) {
             return add_domains(v, c.local_domains, e);
         },
         [](const Config& c) { return join(c.local_domains); }},
        {"outbound_proxy_host", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_hop(v, c.outbound_proxy_host, c.outbound_proxy_tcp, e);
         },
         [](const Config& c) { return hop_text(c.outbound_proxy_host, c.outbound_proxy_tcp); }},
        {"outbound_proxy_port", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_port(v, c.outbound_proxy_port, e);
         },
         [](const Config& c) { return std::to_string(c.outbound_proxy_port); }},
        {"outbound_domain_name", true,
         [](Config& c, std::string_view v, std::string& e) {
             std::vector<std::string> names;
             if (!add_domains(v, names, e)) return false;
             c.outbound_domain_name.push_back(std::move(names));
             return true;
         },
         [](const Config& c) { return join_lines(c.outbound_domain_name); }},
        {"outbound_domain_host", true,
         [](Config& c, std::string_view v, std::string& e) {
             std::string host;
             bool tcp = false;
             if (!set_hop(v, host, tcp, e)) return false;
             c.outbound_domain_host.push_back(std::move(host));
             c.outbound_domain_tcp.push_back(tcp);
             return true;
         },
         [](const Config& c) {
             std::vector<std::string> hops;
             for (size_t i = 0; i < c.outbound_domain_host.size(); ++i)
                 hops.push_back(
                     hop_text(c.outbound_domain_host[i],
                              i < c.outbound_domain_tcp.size() && c.outbound_domain_tcp[i]));
             return join(hops);
         }},
        {"outbound_domain_port", true,
         [](Config& c, std::string_view v, std::string& e) {
             uint16_t port = 0;
             if (!set_port(v, port, e)) return false;
             c.outbound_domain_port.push_back(port);
             return true;
         },
         [](const Config& c) {
             if (c.outbound_domain_port.empty()) return std::string();  // 5060 for each host
             std::vector<std::string> ports;
             for (uint16_t p : c.outbound_domain_port) ports.push_back(std::to_string(p));
             return join(ports);
         }},
        {"proxy_auth_passwd", false,
         [](Config& c, std::string_view v, std::string& e) {
             if (v.size() > 256) {
                 e = "a password of more than 256 characters";
                 return false;
             }
             c.proxy_auth_passwd = std::string(v);
             return true;
         },
         // Never printed by sipmasq -t or a reload's report.
         [](const Config& c) {
             return std::string(c.proxy_auth_passwd.empty() ? "" : "********");
         }},
        {"autosave_registrations", false,
         [](Config& c, std::string_view v, std::string& e) {
             return set_count(v, 0, kMaxSeconds, c.autosave_registrations, e);
         },
         [](const Config& c) { return std::to_string(c.autosave_registrations); }},
        {"use_rport", false,
         [](Config& c, std::string_view v, std::string& e) {
             uint64_t n = 0;
             if (!parse_number(v, 0, 3, n)) {
                 e = quoted(v) + " is not siproxd's rport mode (0..3)";
                 return false;
             }
             c.use_rport = static_cast<uint8_t>(n);
             return true;
         },
         [](const Config& c) { return std::to_string(c.use_rport); }},
        {"sip_dscp", false,
         [](Config& c, std::string_view v, std::string& e) {
             uint64_t n = 0;
             if (!parse_number(v, 0, 63, n)) {
                 e = quoted(v) + " is not a DSCP value (0..63)";
                 return false;
             }
             c.sip_dscp = static_cast<uint8_t>(n);
             return true;
         },
         [](const Config& c) { return std::to_string(c.sip_dscp); }},
        {"ua_string", false,
         [](Config& c, std::string_view v, std::string& e) {
             if (v.size() > 256) {
                 e = "a User-Agent of more than 256 characters";
                 return false;
             }
             c.ua_string = std::string(v);
             return true;
         },
         [](const Config& c) { return c.ua_string; }},
        {"strip_header", true,
         [](Config& c, std::string_view v, std::string& e) {
             const auto names = split_list(v);
             if (names.empty()) {
                 e = "the list is empty";
                 return false;
             }
             for (const std::string& n : names)
                 if (!check_header_name(n, e)) return false;
             c.strip_header.insert(c.strip_header.end(), names.begin(), names.end());
             return true;
         },
         [](const Config& c) { return join(c.strip_header); }},
        {"replace_header", true,
         [](Config& c, std::string_view v, std::string& e) {
             const size_t colon = v.find(':');
             const std::string_view name = trim(v.substr(0, colon));
             const std::string_view value =
                 colon == std::string_view::npos ? std::string_view() : trim(v.substr(colon + 1));
             if (value.empty()) {
                 e = quoted(v) + " is not 'Header-Name: value'";
                 return false;
             }
             if (!check_header_name(name, e)) return false;
             c.replace_header.push_back({std::string(name), std::string(value)});
             return true;
         },
         [](const Config& c) {
             std::string out;
             for (const auto& h : c.replace_header)
                 out += (out.empty() ? "" : "; ") + h.name + ": " + h.value;
             return out;
         }},
        {"codec_allow", true,
         [](Config& c, std::string_view v, std::string& e) {
             return add_codecs(v, c.codec_allow, e);
         },
         [](const Config& c) { return join(c.codec_allow); }},
        {"codec_deny", true,
         [](Config& c, std::string_view v, std::string& e) {
             return add_codecs(v, c.codec_deny, e);
         },
         [](const Config& c) { return join(c.codec_deny); }},
        {"default_target", false,
         [](Config& c, std::string_view v, std::string& e) {
             // Checked as a URI (and as inside) by sipd, with libosip2.
             const bool sip =
                 v.size() > 4 && (v.substr(0, 4) == "sip:" || v.substr(0, 4) == "SIP:");
             if (!sip || v.find_first_of(" <>\"") != std::string_view::npos) {
                 e = quoted(v) + " is not a sip: URI";
                 return false;
             }
             c.default_target = std::string(v);
             return true;
         },
         [](const Config& c) { return c.default_target; }},
        {"did_range", true,
         [](Config& c, std::string_view v, std::string& e) {
             return add_did_range(v, c.did_range, e);
         },
         [](const Config& c) {
             std::string out;
             for (const auto& r : c.did_range)
                 out += (out.empty() ? "" : "; ") + r.account + " " + r.first +
                        (r.first == r.last ? "" : "-" + r.last);
             return out;
         }},
    };
    return table;
}

const KeyHandler* find_handler(std::string_view name) noexcept {
    for (const auto& h : handlers()) {
        if (name == h.name) return &h;
    }
    return nullptr;
}

// For "did you mean": edit distance between two short key names.
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string suggestion(std::string_view key) {
    const ConfigKeyInfo* best = nullptr;
    size_t best_distance = 3;  // only close misspellings
    for (const auto& info : config_key_table()) {
        // The lengths alone bound the distance from below: a long unknown
        // key (up to a whole line) is not compared letter by letter with
        // every key name, which made a file of them slow (found by fuzzing).
        const size_t name_size = std::string_view(info.name).size();
        const size_t gap = key.size() > name_size ? key.size() - name_size : name_size - key.size();
        if (gap >= best_distance) continue;
        const size_t d = edit_distance(key, info.name);
        if (d < best_distance) {
            best_distance = d;
            best = &info;
        }
    }
    return best != nullptr ? std::string("; did you mean '") + best->name + "'?" : "";
}

// ---- checks that need the whole file --------------------------------------

class Validator {
  public:
    Validator(ConfigResult& result, const std::map<std::string, int, std::less<>>& lines)
        : result_(result), lines_(lines) {}

    void run() {
        Config& c = result_.config;
        for (const char* key : {"if_inbound", "if_outbound"}) {
            if (lines_.count(key) == 0) error(key, std::string(key) + " is required");
        }
        check_rtp_range(c);
        check_two_arms(c);
        if (c.default_expires > c.max_expires) {
            error(lines_.count("default_expires") != 0 ? "default_expires" : "max_expires",
                  "default_expires (" + std::to_string(c.default_expires) +
                      ") is larger than max_expires (" + std::to_string(c.max_expires) + ")");
        }
        if (!c.proxy_auth_realm.empty() && c.proxy_auth_pwfile.empty() &&
            c.proxy_auth_passwd.empty()) {
            error("proxy_auth_realm",
                  "proxy_auth_realm needs proxy_auth_pwfile or proxy_auth_passwd");
        }
        if (!c.proxy_auth_pwfile.empty() && !c.proxy_auth_passwd.empty()) {
            warning("proxy_auth_passwd",
                    "proxy_auth_passwd is not used: proxy_auth_pwfile is set and holds the "
                    "passwords");
        }
        pair_outbound_domains(c);
        check_user(c);
        check_jail(c);
        check_registration_file(c);
    }

  private:
    // Trust comes from the interface a packet arrives through, so the two
    // sides must be two interfaces. Loopback is the one exception: a test
    // or developer set-up whose peers are local processes anyway.
    void check_two_arms(const Config& c) {
        if (c.if_inbound.empty() || c.if_outbound.empty()) return;
        const bool same_spec = c.if_inbound == c.if_outbound;
        const InterfaceRef in = interface_of(c.if_inbound);
        const InterfaceRef out = interface_of(c.if_outbound);
        const bool same_device = in.index != 0 && in.index == out.index;
        bool loopback = !c.inbound_addrs.empty() && !c.outbound_addrs.empty();
        for (const auto* list : {&c.inbound_addrs, &c.outbound_addrs})
            for (const SockAddr& a : *list) loopback = loopback && a.is_loopback();
        if (same_spec || (same_device && !loopback))
            error("if_outbound",
                  "if_inbound and if_outbound are the same interface (" +
                      (in.name.empty() ? c.if_inbound : in.name) +
                      "): sipmasq tells inside from outside by the interface a packet arrives "
                      "through, so a one-armed set-up cannot be trusted; give each side its own "
                      "interface (a VLAN interface is one)");
    }

    // siproxd pairs the Nth outbound_domain_name with the Nth host and port;
    // one host (and at most one port) for several names serves them all.
    void pair_outbound_domains(Config& c) {
        const size_t names = c.outbound_domain_name.size();
        const size_t hosts = c.outbound_domain_host.size();
        const size_t ports = c.outbound_domain_port.size();
        c.outbound_domains.clear();
        if (names == 0 && hosts == 0) {
            if (ports != 0)
                error("outbound_domain_port", "outbound_domain_port needs outbound_domain_name");
            return;
        }
        if (hosts == 0) {
            error("outbound_domain_name", "outbound_domain_name needs outbound_domain_host");
            return;
        }
        if (names == 0) {
            error("outbound_domain_host", "outbound_domain_host needs outbound_domain_name");
            return;
        }
        if (hosts == 1 && ports <= 1) {
            OutboundDomain d;
            for (const auto& line : c.outbound_domain_name)
                d.names.insert(d.names.end(), line.begin(), line.end());
            d.host = c.outbound_domain_host.front();
            d.tcp = !c.outbound_domain_tcp.empty() && c.outbound_domain_tcp.front();
            if (ports == 1) d.port = c.outbound_domain_port.front();
            c.outbound_domains.push_back(std::move(d));
            return;
        }
        if (hosts != names || (ports != 0 && ports != names)) {
            error("outbound_domain_name",
                  std::to_string(names) + " outbound_domain_name lines, " + std::to_string(hosts) +
                      " outbound_domain_host and " + std::to_string(ports) +
                      " outbound_domain_port: give one host (and port) per name, in order");
            return;
        }
        for (size_t i = 0; i < names; ++i)
            c.outbound_domains.push_back(
                {c.outbound_domain_name[i], c.outbound_domain_host[i],
                 ports == 0 ? uint16_t{5060} : c.outbound_domain_port[i],
                 i < c.outbound_domain_tcp.size() && c.outbound_domain_tcp[i]});
    }

    void warning(std::string_view key, std::string message) {
        result_.warnings.push_back({result_.config.path, line_of(key), std::move(message)});
    }

    int line_of(std::string_view key) const {
        const auto it = lines_.find(key);
        return it == lines_.end() ? 0 : it->second;
    }

    void error(std::string_view key, std::string message) {
        result_.errors.push_back({result_.config.path, line_of(key), std::move(message)});
    }

    void check_rtp_range(const Config& c) {
        const char* key = lines_.count("rtp_port_low") != 0 ? "rtp_port_low" : "rtp_port_high";
        if (c.rtp_port_low % 2 != 0) {
            error("rtp_port_low", "rtp_port_low " + std::to_string(c.rtp_port_low) +
                                      " is odd; RTP takes the even port and RTCP the next");
        } else if (c.rtp_port_low >= c.rtp_port_high) {
            error(key, "rtp_port_low (" + std::to_string(c.rtp_port_low) +
                           ") must be below rtp_port_high (" + std::to_string(c.rtp_port_high) +
                           ")");
        } else if (c.rtp_port_high - c.rtp_port_low + 1 < 4) {
            error(key, "the RTP range " + std::to_string(c.rtp_port_low) + ".." +
                           std::to_string(c.rtp_port_high) + " holds fewer than 2 port pairs");
        }
    }

    void check_user(Config& c) {
        if (!resolve_user("user", c.user, c.uid, c.gid)) return;
        c.rtp_uid = c.uid;
        c.rtp_gid = c.gid;
        // A user of its own for the relay: a sipd turned by an attacker
        // cannot then signal, ptrace or read /proc of rtpd, nor the reverse.
        if (!c.rtp_user.empty()) resolve_user("rtp_user", c.rtp_user, c.rtp_uid, c.rtp_gid);
    }

    bool resolve_user(const char* key, const std::string& name, uid_t& uid, gid_t& gid) {
        errno = 0;
        const passwd* pw = getpwnam(name.c_str());
        if (pw == nullptr) {
            error(key, std::string(key) + " '" + name + "' does not exist");
            return false;
        }
        if (pw->pw_uid == 0 || pw->pw_gid == 0) {
            error(key, std::string(key) + " '" + name + "' has " +
                           (pw->pw_uid == 0 ? "uid" : "gid") +
                           " 0; the children must run as an unprivileged user");
            return false;
        }
        uid = pw->pw_uid;
        gid = pw->pw_gid;
        return true;
    }

    void check_jail(const Config& c) {
        const std::string& jail = c.chrootjail;
        const char* key = "chrootjail";
        if (jail.find_first_not_of('/') == std::string::npos) {
            error(key,
                  "chrootjail / is no jail: the children would see the whole file system; "
                  "give them an empty directory such as /var/lib/sipmasq");
            return;
        }
        struct stat st {};
        if (stat(jail.c_str(), &st) != 0) {
            const int saved = errno;
            error(key, "chrootjail " + jail + ": " + std::strerror(saved));
            return;
        }
        if (!S_ISDIR(st.st_mode)) {
            error(key, "chrootjail " + jail + " is not a directory");
            return;
        }
        if (st.st_uid != 0) {
            error(key, "chrootjail " + jail + " is owned by uid " + std::to_string(st.st_uid) +
                           ", not by root");
        }
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
            error(key, "chrootjail " + jail + " is writable by group or others (mode " +
                           mode_string(st.st_mode) + "); chmod go-w it");
        }
    }

    // sipd gets the registration file's directory as a descriptor; inside
    // the jail, that descriptor reaches nothing the chroot hides. The jail
    // itself is root-owned and not writable, so the file lives in a
    // directory below it (the parent creates that one for `user`).
    void check_registration_file(const Config& c) {
        const std::string& file = c.registration_file;
        if (file.empty()) return;
        const char* key =
            lines_.count("registration_file") != 0 ? "registration_file" : "chrootjail";
        if (file.find("/./") != std::string::npos || file.find("/../") != std::string::npos ||
            file.ends_with("/.") || file.ends_with("/..") || file.find("//") != std::string::npos) {
            error(key, "registration_file " + file + " must be a plain path (no ., .. or //)");
            return;
        }
        const std::string inside = jail_relative_path(c, file);
        if (inside.empty() || c.chrootjail.find_first_not_of('/') == std::string::npos) {
            error(key, "registration_file " + file + " is outside chrootjail " + c.chrootjail +
                           "; put it in a directory inside the jail, e.g. " + c.chrootjail +
                           "/state/registrations");
            return;
        }
        if (inside.rfind('/') == 0) {
            error(key, "registration_file " + file + " lies in the jail's top directory, which " +
                           "the children cannot write; put it in a directory below, e.g. " +
                           c.chrootjail + "/state" + inside);
        }
    }

    static std::string mode_string(mode_t mode) {
        char buf[8];
        (void)std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
        return buf;
    }

    ConfigResult& result_;
    const std::map<std::string, int, std::less<>>& lines_;
};

// Strips a comment that follows the value ("value # why"); a '#' inside a
// value with no blank before it ("pa#ss") stays.
std::string_view strip_trailing_comment(std::string_view value) noexcept {
    for (size_t i = 1; i < value.size(); ++i) {
        if (value[i] == '#' && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
            return value.substr(0, i);
        }
    }
    return value;
}

// siproxd plugin keys whose meaning a sipmasq key has: read as that key.
std::string_view siproxd_alias(std::string_view key) noexcept {
    if (key == "plugin_defaulttarget_target") return "default_target";
    return key;
}

bool valid_key_name(std::string_view key) noexcept {
    return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
}

}  // namespace

std::string ConfigError::to_string() const {
    const std::string where = file.empty() ? std::string("(config)") : file;
    if (line <= 0) return where + ": " + message;
    return where + ":" + std::to_string(line) + ": " + message;
}

std::string jail_relative_path(const Config& config, const std::string& path) {
    std::string jail = config.chrootjail;
    while (jail.size() > 1 && jail.back() == '/') jail.pop_back();
    if (jail == "/") return path;
    if (path.size() <= jail.size() + 1 || path.compare(0, jail.size(), jail) != 0 ||
        path[jail.size()] != '/') {
        return "";
    }
    return path.substr(jail.size());
}

ConfigResult parse_config_text(std::string_view text, const std::string& path) {
    ConfigResult result;
    result.config.path = path;
    const auto add = [&path](std::vector<ConfigError>& to, int line, std::string message) {
        to.push_back({path, line, std::move(message)});
    };

    std::map<std::string, int, std::less<>> lines;  // key -> line it was set on
    int line_no = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        ++line_no;
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view raw = text.substr(pos, end - pos);
        pos = end + 1;

        if (raw.size() > kMaxLineLength) {
            add(result.errors, line_no,
                "line longer than " + std::to_string(kMaxLineLength) + " characters");
            continue;
        }
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') continue;
        if (std::any_of(line.begin(), line.end(), [](char c) {
                const auto u = static_cast<unsigned char>(c);
                return (u < 0x20 && c != '\t') || u == 0x7f;
            })) {
            add(result.errors, line_no, "control character in line");
            continue;
        }
        const size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            add(result.errors, line_no,
                "expected 'key = value', found no '=' in '" + std::string(line) + "'");
            continue;
        }
        std::string_view key = trim(line.substr(0, eq));
        const std::string_view value = trim(strip_trailing_comment(line.substr(eq + 1)));
        if (key.empty()) {
            add(result.errors, line_no, "missing key before '='");
            continue;
        }
        if (!valid_key_name(key)) {
            add(result.errors, line_no, "'" + std::string(key) + "' is not a key name");
            continue;
        }
        key = siproxd_alias(key);
        const ConfigKeyInfo* info = find_config_key(key);
        if (info == nullptr && !is_siproxd_plugin_key(key)) {
            add(result.errors, line_no, "unknown key '" + std::string(key) + "'" + suggestion(key));
            continue;
        }
        if (info == nullptr || !info->supported) {
            add(result.warnings, line_no,
                "key '" + std::string(key) +
                    "' is a siproxd key that sipmasq does not support yet; ignored");
            continue;
        }
        const KeyHandler* handler = find_handler(key);
        if (handler == nullptr) {  // the table and the handlers disagree: a bug
            add(result.errors, line_no,
                "internal error: no handler for '" + std::string(key) + "'");
            continue;
        }
        if (value.empty()) {
            add(result.errors, line_no, "key '" + std::string(key) + "' has an empty value");
            continue;
        }
        const auto seen = lines.find(key);
        if (seen != lines.end() && !handler->repeatable) {
            add(result.errors, line_no,
                "key '" + std::string(key) + "' is already set on line " +
                    std::to_string(seen->second));
            continue;
        }
        // Recorded even when the value is bad, so "is required" is not added on top.
        lines.emplace(std::string(key), line_no);
        std::string why;
        if (!handler->apply(result.config, value, why)) {
            add(result.errors, line_no, std::string(key) + ": " + why);
        }
    }

    Validator(result, lines).run();
    // In file order; errors tied to no line (missing keys, defaults) last.
    std::stable_sort(result.errors.begin(), result.errors.end(),
                     [](const ConfigError& a, const ConfigError& b) {
                         const auto rank = [](int l) { return l <= 0 ? INT32_MAX : l; };
                         return rank(a.line) < rank(b.line);
                     });
    return result;
}

ConfigResult load_config_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int saved = errno;
        ConfigResult result;
        result.config.path = path;
        result.errors.push_back(
            {path, 0, "cannot read configuration file: " + std::string(std::strerror(saved))});
        return result;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        ConfigResult result;
        result.config.path = path;
        result.errors.push_back({path, 0, "error while reading the configuration file"});
        return result;
    }
    std::string content = text.str();
    if (content.size() > kMaxFileSize) {
        ConfigResult result;
        result.config.path = path;
        result.errors.push_back({path, 0, "configuration file larger than 1 MiB"});
        return result;
    }
    return parse_config_text(content, path);
}

std::string config_value_string(const Config& config, std::string_view key) {
    const KeyHandler* handler = find_handler(key);
    return handler != nullptr ? handler->show(config) : std::string();
}

std::string format_config(const Config& config) {
    std::string out;
    for (const auto& info : config_key_table()) {
        if (!info.supported) continue;
        const std::string value = config_value_string(config, info.name);
        out += std::string(info.name) + " =" + (value.empty() ? "" : " " + value) + "\n";
        if (info.name == std::string_view("if_inbound") && !config.inbound_addrs.empty()) {
            out += "# if_inbound addresses: " + join_addrs(config.inbound_addrs) + "\n";
        }
        if (info.name == std::string_view("if_outbound") && !config.outbound_addrs.empty()) {
            out += "# if_outbound addresses: " + join_addrs(config.outbound_addrs) + "\n";
        }
        if (info.name == std::string_view("rtp_user") && config.rtp_uid != 0) {
            out += "# rtp_user uid " + std::to_string(config.rtp_uid) + ", gid " +
                   std::to_string(config.rtp_gid) + "\n";
        }
        if (info.name == std::string_view("user") && config.uid != 0) {
            out += "# user uid " + std::to_string(config.uid) + ", gid " +
                   std::to_string(config.gid) + "\n";
        }
    }
    return out;
}

std::vector<std::string> config_diff(const Config& before, const Config& after) {
    std::vector<std::string> out;
    const auto show = [](const std::string& v) { return v.empty() ? std::string("\"\"") : v; };
    for (const auto& info : config_key_table()) {
        if (!info.supported) continue;
        std::string old_value = config_value_string(before, info.name);
        std::string new_value = config_value_string(after, info.name);
        // An interface keeps its name but may have gained or lost addresses.
        if (info.name == std::string_view("if_inbound")) {
            old_value += " (" + join_addrs(before.inbound_addrs) + ")";
            new_value += " (" + join_addrs(after.inbound_addrs) + ")";
        } else if (info.name == std::string_view("if_outbound")) {
            old_value += " (" + join_addrs(before.outbound_addrs) + ")";
            new_value += " (" + join_addrs(after.outbound_addrs) + ")";
        }
        // The password is shown masked: a change shows as a change all the same.
        if (info.name == std::string_view("proxy_auth_passwd") &&
            before.proxy_auth_passwd != after.proxy_auth_passwd && old_value == new_value)
            new_value += " (changed)";
        if (old_value == new_value) continue;
        out.push_back(
            std::string(info.name) + ": " + show(old_value) + " -> " + show(new_value) +
            (info.reload == ReloadPolicy::Reloadable ? " (reloaded)" : " (needs restart)"));
    }
    return out;
}

int syslog_facility_from_string(std::string_view name) noexcept {
    static constexpr struct {
        const char* name;
        int value;
    } kFacilities[] = {
        {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"daemon", LOG_DAEMON},
        {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},     {"local2", LOG_LOCAL2},
        {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},     {"local5", LOG_LOCAL5},
        {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},     {"user", LOG_USER},
    };
    for (const auto& f : kFacilities) {
        if (name == f.name) return f.value;
    }
    return -1;
}

int effective_syslog_level(const Config& config) noexcept {
    static constexpr int kFloor[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR, -1};
    const int floor = kFloor[std::min<size_t>(config.silence_log, 4)];
    return std::min(floor, static_cast<int>(config.log_level));
}

}  // namespace sipmasq
