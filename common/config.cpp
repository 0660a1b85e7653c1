// The parser and validator of sipmasq.conf: siproxd's `key = value` lines,
// each error tied to its file and line. What each key is and how its value
// is read comes from its row in the key table (config_keys.cpp).
#include "config.h"

#include <pwd.h>
#include <sys/stat.h>
#include <syslog.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "config_values.h"
#include "interfaces.h"
#include "rtp_workers.h"

namespace sipmasq {
namespace {

using config_values::join_addrs;
using config_values::trim;

constexpr size_t kMaxLineLength = 4096;
constexpr size_t kMaxFileSize = size_t{1024} * 1024;

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
        check_waiting_sides(c);
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
    // A side named by an interface that has no usable address yet: not an
    // error (sipmasq starts and serves it once one comes), but said.
    void check_waiting_sides(const Config& c) {
        if (!c.if_inbound.empty() && c.inbound_addrs.empty())
            warning("if_inbound", "interface " + c.if_inbound +
                                      " has no usable address yet: sipmasq waits for one "
                                      "before it serves the phones");
        if (!c.if_outbound.empty() && c.outbound_addrs.empty())
            warning("if_outbound", "interface " + c.if_outbound +
                                       " has no usable address yet: sipmasq starts and serves "
                                       "the outside once one comes");
    }

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
        } else if (c.rtp_workers != 0 &&
                   split_port_range(c.rtp_port_low, c.rtp_port_high, c.rtp_workers).empty()) {
            // Each worker owns a slice of the range; an explicit count the
            // range cannot serve is an error, not a silent smaller count.
            error("rtp_workers",
                  "rtp_workers " + std::to_string(c.rtp_workers) + " needs at least " +
                      std::to_string(c.rtp_workers * kMinPairsPerWorker) +
                      " port pairs; the RTP range " + std::to_string(c.rtp_port_low) + ".." +
                      std::to_string(c.rtp_port_high) + " holds " +
                      std::to_string(port_pairs(c.rtp_port_low, c.rtp_port_high)));
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
        if (value.empty()) {
            add(result.errors, line_no, "key '" + std::string(key) + "' has an empty value");
            continue;
        }
        const auto seen = lines.find(key);
        if (seen != lines.end() && !info->repeatable) {
            add(result.errors, line_no,
                "key '" + std::string(key) + "' is already set on line " +
                    std::to_string(seen->second));
            continue;
        }
        // Recorded even when the value is bad, so "is required" is not added on top.
        lines.emplace(std::string(key), line_no);
        std::string why;
        if (!info->apply(result.config, value, why)) {
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
    const ConfigKeyInfo* info = find_config_key(key);
    return info != nullptr && info->show != nullptr ? info->show(config) : std::string();
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
