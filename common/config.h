// The configuration: siproxd's `key = value` file, parsed and validated.
// Every process parses the same file with this code before it drops its
// privileges; only the parent reports errors to the user.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "address.h"
#include "log.h"

namespace sipmasq {

enum class ReloadPolicy : uint8_t { Reloadable, NeedsRestart };

struct Config;

// One row of the key table (config_keys.cpp), the only list of keys: the
// parser reads a key's value with its row, and `sipmasq -t`, reload's
// report, the README table and the man page consistency tests all follow
// the same rows.
struct ConfigKeyInfo {
    // Reads a value into the configuration, or says in `err` why it is wrong.
    using ApplyFn = bool (*)(Config& config, std::string_view value, std::string& err);
    // The value as `sipmasq -t` prints it ("" = unset).
    using ShowFn = std::string (*)(const Config& config);

    const char* name;
    const char* default_value;  // as written in the file; "" = unset
    ReloadPolicy reload;
    bool supported;  // false: a siproxd key accepted with a warning
    const char* description;
    // Supported keys only; a siproxd-only key has neither function.
    bool repeatable = false;  // a list that may be spread over several lines
    ApplyFn apply = nullptr;
    ShowFn show = nullptr;
};

[[nodiscard]] std::span<const ConfigKeyInfo> config_key_table() noexcept;
// The row for a key, or nullptr if siproxd and sipmasq both do not know it.
[[nodiscard]] const ConfigKeyInfo* find_config_key(std::string_view name) noexcept;
// siproxd's plugins read keys named plugin_<plugin>_<option>; sipmasq has no
// plugins, so any such key is accepted with the "not supported" warning.
[[nodiscard]] bool is_siproxd_plugin_key(std::string_view name) noexcept;

enum class SourceMode : uint8_t { Strict, Latch };

// One of siproxd's outbound_domain_name/_host/_port triples.
struct OutboundDomain {
    std::vector<std::string> names;
    std::string host;
    uint16_t port = 5060;
    bool tcp = false;  // the host was given with ;transport=tcp
};

// replace_header: a header's value, set where the header is present.
struct HeaderValue {
    std::string name;
    std::string value;
};

// did_range: dialled numbers first..last (same number of digits) belong
// to the account whose registration takes their calls.
struct DidRange {
    std::string account;  // user@domain, as registered
    std::string first;
    std::string last;
};

struct Config {
    std::string path;  // the file it came from; "" for built-in defaults

    // Interfaces: as written (a name such as "eth0" or an address) and
    // resolved to every address on it (port 0).
    std::string if_inbound;
    std::string if_outbound;
    std::vector<SockAddr> inbound_addrs;
    std::vector<SockAddr> outbound_addrs;
    std::string host_outbound;  // address or name advertised outside; "" = outbound address

    uint16_t sip_listen_port = 5060;
    std::string dns_server;  // numeric; "" = the system's resolv.conf
    Acl hosts_allow_reg;
    Acl hosts_allow_sip;
    Acl hosts_deny_sip;

    // Relay.
    uint16_t rtp_port_low = 30000;
    uint16_t rtp_port_high = 39999;
    uint32_t rtp_timeout = 300;          // seconds without traffic
    uint32_t rtp_no_bidir_timeout = 60;  // seconds started but never both ways
    uint32_t rtp_max_duration = 14400;   // seconds, absolute
    uint32_t rtp_quarantine = 10;        // seconds a released port pair rests
    SourceMode rtp_source_mode = SourceMode::Strict;
    uint32_t rtp_latch_window_ms = 3000;
    uint8_t rtp_dscp = 46;     // EF
    uint32_t rtp_workers = 0;  // rtpd processes; 0 = one per online core (rtp_workers.h)

    // Limits on what the network can make sipd hold (sipmasq.conf(5)).
    uint32_t max_calls = 0;  // 0: as many as the relay range has streams
    uint32_t max_setup_calls_per_source = 8;
    uint32_t rtp_setup_share = 50;  // percent of the range unanswered calls may hold
    uint32_t max_media_streams = 4;
    uint32_t sip_max_transactions = 4096;
    uint32_t sip_max_transactions_per_source = 64;

    // SIP over TCP (siproxd's keys and meanings, and sipmasq's limits).
    uint32_t tcp_timeout = 600;          // seconds a connection may stay idle
    uint32_t tcp_connect_timeout = 500;  // milliseconds an outgoing connect may take
    uint32_t tcp_keepalive = 20;         // seconds between keep-alives on our connections, 0 off
    uint32_t sip_tcp_max_connections = 256;
    uint32_t sip_tcp_max_connections_per_source = 8;
    uint32_t sip_tcp_max_message = 65535;  // bytes of one message on a connection

    // Privileges.
    std::string user = "nobody";
    uid_t uid = 0;  // resolved from `user`: sipd's, and rtpd's unless rtp_user is set
    gid_t gid = 0;
    std::string rtp_user;  // "" = the same as `user`
    uid_t rtp_uid = 0;     // resolved from rtp_user (or `user`)
    gid_t rtp_gid = 0;
    std::string chrootjail = "/var/lib/sipmasq";
    uint32_t restart_backoff_max = 30;  // seconds: longest wait before restarting a child

    // Files.
    std::string registration_file = "/var/lib/sipmasq/state/registrations";
    std::string pid_file = "/run/sipmasq/sipmasq.pid";
    std::string control_socket = "/run/sipmasq/control";
    bool daemonize = true;
    std::string syslog_facility = "daemon";
    int syslog_facility_value = 3 << 3;   // LOG_DAEMON, resolved from syslog_facility
    LogLevel log_level = LogLevel::Info;  // debug_level: most verbose level logged
    uint8_t silence_log = 1;              // siproxd's 0..4: syslog floor, see the man page

    // Registrar and proxy.
    std::string proxy_auth_realm;
    std::string proxy_auth_pwfile;
    uint32_t default_expires = 3600;
    uint32_t max_expires = 86400;
    std::string outbound_proxy_host;
    uint16_t outbound_proxy_port = 5060;
    bool outbound_proxy_tcp = false;  // outbound_proxy_host ...;transport=tcp
    // The outbound_domain_* lines as written, one entry per line; the
    // validator pairs them into outbound_domains (siproxd pairs by order).
    std::vector<std::vector<std::string>> outbound_domain_name;
    std::vector<std::string> outbound_domain_host;
    std::vector<bool> outbound_domain_tcp;  // per outbound_domain_host line
    std::vector<uint16_t> outbound_domain_port;
    std::vector<OutboundDomain> outbound_domains;
    std::vector<std::string> local_domains;  // domains sipmasq is registrar for
    std::string proxy_auth_passwd;           // one password for every user
    uint32_t autosave_registrations = 0;     // siproxd's; accepted, no effect
    uint8_t use_rport = 0;                   // siproxd's; accepted, no effect

    // Provider fixes (siproxd's plugins as keys; sipmasq.conf(5)).
    uint8_t sip_dscp = 0;
    std::string ua_string;
    std::vector<std::string> strip_header;
    std::vector<HeaderValue> replace_header;
    std::vector<std::string> codec_allow;  // "" = every codec not denied
    std::vector<std::string> codec_deny;
    std::string default_target;  // sip: URI of an inside AOR or inside host
    std::vector<DidRange> did_range;
};

struct ConfigError {
    std::string file;
    int line = 0;  // 0: not tied to a line
    std::string message;

    [[nodiscard]] std::string to_string() const;  // "file:line: message"
};

struct ConfigResult {
    Config config;
    std::vector<ConfigError> errors;
    std::vector<ConfigError> warnings;
    [[nodiscard]] bool ok() const noexcept { return errors.empty(); }
};

// Parses text as if read from `path` (for tests and reload).
[[nodiscard]] ConfigResult parse_config_text(std::string_view text, const std::string& path);
// Reads and parses a file; a missing or unreadable file is an error.
[[nodiscard]] ConfigResult load_config_file(const std::string& path);

// The effective configuration, one "key = value" line per supported key in
// the key table's order (resolved interface addresses follow as comments).
[[nodiscard]] std::string format_config(const Config& config);
// The value of one supported key as format_config prints it; "" if unknown.
[[nodiscard]] std::string config_value_string(const Config& config, std::string_view key);

// Where a host path lies inside the jail ("/var/lib/sipmasq/state/x" with
// chrootjail /var/lib/sipmasq gives "/state/x"); "" if it is outside.
[[nodiscard]] std::string jail_relative_path(const Config& config, const std::string& path);

// "daemon", "local0".."local7", "user", ... to LOG_DAEMON etc.; -1 if unknown.
[[nodiscard]] int syslog_facility_from_string(std::string_view name) noexcept;
// The level at or below which lines reach syslog: the stricter of
// debug_level and silence_log (silence_log 4 = nothing: returns -1).
[[nodiscard]] int effective_syslog_level(const Config& config) noexcept;

// What differs between two configurations, one line per key, with whether
// the key takes effect on reload or needs a restart.
[[nodiscard]] std::vector<std::string> config_diff(const Config& before, const Config& after);

}  // namespace sipmasq
