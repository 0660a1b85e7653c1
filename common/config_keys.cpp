// Every key of siproxd's configuration file and sipmasq's own, in one table:
// the parser, `sipmasq -t`, the README and sipmasq.conf(5) all follow it
// (a test checks that the man page documents exactly these keys).
#include <algorithm>

#include "config.h"

namespace sipmasq {
namespace {

constexpr ReloadPolicy kReload = ReloadPolicy::Reloadable;
constexpr ReloadPolicy kRestart = ReloadPolicy::NeedsRestart;

std::vector<ConfigKeyInfo> make_table() {
    return {
        // Interfaces and addresses.
        {"if_inbound", "", kRestart, true,
         "interface name or address of the private (inbound) side; required"},
        {"if_outbound", "", kRestart, true,
         "interface name or address of the public (outbound) side; required"},
        {"host_outbound", "", kReload, true,
         "public address or name advertised outside when sipmasq runs behind a NAT router"},
        {"sip_listen_port", "5060", kRestart, true, "UDP and TCP port for SIP on both sides"},
        {"dns_server", "", kRestart, true,
         "numeric address of the DNS server for next hops that are names (empty: resolv.conf)"},
        // Access control.
        {"hosts_allow_reg", "", kReload, true,
         "networks allowed to REGISTER (empty: everyone); implies hosts_allow_sip"},
        {"hosts_allow_sip", "", kReload, true, "networks allowed to send SIP (empty: everyone)"},
        {"hosts_deny_sip", "", kReload, true, "networks refused SIP; wins over the allow lists"},
        // Relay.
        {"rtp_port_low", "30000", kRestart, true, "first UDP port of the relay range (even)"},
        {"rtp_port_high", "39999", kRestart, true, "last UDP port of the relay range"},
        {"rtp_timeout", "300", kReload, true, "seconds without traffic before a stream stops"},
        {"rtp_no_bidir_timeout", "60", kReload, true,
         "seconds a stream may stay one-sided before it stops"},
        {"rtp_max_duration", "14400", kReload, true, "absolute limit of a stream, seconds"},
        {"rtp_quarantine", "10", kReload, true, "seconds a released port pair rests before reuse"},
        {"rtp_source_mode", "strict", kReload, true,
         "strict: accept media only from the signalled address; latch: learn the first source"},
        {"rtp_latch_window", "3000", kReload, true,
         "milliseconds after start during which latch mode may learn the source"},
        {"rtp_dscp", "46", kReload, true, "DSCP (0..63) set on relayed RTP packets"},
        // Limits: what the network can make sipd hold (providers get 16 times the
        // per-source budgets).
        {"max_calls", "0", kReload, true,
         "calls with media at once (0: one per four ports of the relay range)"},
        {"max_setup_calls_per_source", "8", kReload, true,
         "unanswered INVITEs one source address may have at once (an IPv6 /64 counts as one)"},
        {"rtp_setup_share", "50", kReload, true,
         "percent of the relay range that unanswered calls may hold"},
        {"max_media_streams", "4", kReload, true,
         "active media streams one SDP may ask for; more get 488"},
        {"sip_max_transactions", "4096", kReload, true,
         "SIP transactions in progress at once; requests beyond are dropped"},
        {"sip_max_transactions_per_source", "64", kReload, true,
         "SIP transactions in progress per source address (an IPv6 /64 counts as one)"},
        // SIP over TCP: siproxd's three keys with siproxd's meaning, and the limits.
        {"tcp_timeout", "600", kReload, true,
         "seconds a SIP TCP connection may stay without traffic before it is closed"},
        {"tcp_connect_timeout", "500", kReload, true,
         "milliseconds an outgoing SIP TCP connection may take to open"},
        {"tcp_keepalive", "20", kReload, true,
         "seconds between CRLF keep-alives on TCP connections sipmasq opened (0: none)"},
        {"sip_tcp_max_connections", "256", kReload, true, "SIP TCP connections at once, in all"},
        {"sip_tcp_max_connections_per_source", "8", kReload, true,
         "SIP TCP connections per peer address (an IPv6 /64 counts as one)"},
        {"sip_tcp_max_message", "65535", kReload, true,
         "largest SIP message accepted on a TCP connection, bytes; larger closes it"},
        // Privileges.
        {"user", "nobody", kRestart, true, "unprivileged user the children run as (not root)"},
        {"rtp_user", "", kRestart, true,
         "unprivileged user rtpd runs as instead (empty: the same as user; not root)"},
        {"chrootjail", "/var/lib/sipmasq", kRestart, true,
         "directory the children chroot into; root-owned, not group/other writable, not /"},
        {"restart_backoff_max", "30", kRestart, true,
         "longest wait in seconds before a child that keeps dying is started again"},
        // Files and logging.
        {"registration_file", "/var/lib/sipmasq/state/registrations", kRestart, true,
         "where registrations are saved across restarts; in a directory inside chrootjail"},
        {"pid_file", "/run/sipmasq/sipmasq.pid", kRestart, true, "pid file of the parent"},
        {"control_socket", "/run/sipmasq/control", kRestart, true,
         "Unix socket sipmasqctl talks to (mode 0600)"},
        {"daemonize", "1", kRestart, true, "1: detach and log to syslog; 0: stay in foreground"},
        {"syslog_facility", "daemon", kRestart, true, "syslog facility"},
        {"debug_level", "info", kReload, true,
         "most verbose level logged: error, warning, notice, info, debug"},
        {"silence_log", "1", kReload, true,
         "siproxd's syslog floor: 0 debug, 1 info, 2 warning, 3 error, 4 nothing"},
        // Registrar and proxy.
        {"proxy_auth_realm", "", kReload, true,
         "digest realm; when set, REGISTER must authenticate"},
        {"proxy_auth_pwfile", "", kRestart, true, "file of user passwords for digest auth"},
        {"default_expires", "3600", kReload, true,
         "registration lifetime when the REGISTER gives none, seconds"},
        {"max_expires", "86400", kReload, true, "longest registration accepted, seconds"},
        {"local_domains", "", kReload, true,
         "domains sipmasq is registrar for (empty: outbound proxy only)"},
        {"outbound_proxy_host", "", kReload, true,
         "send all outgoing SIP to this proxy; ;transport=tcp after the host: over TCP"},
        {"outbound_proxy_port", "5060", kReload, true, "port of outbound_proxy_host"},
        {"outbound_domain_name", "", kReload, true,
         "domains whose requests go to outbound_domain_host; repeatable, the Nth line with the "
         "Nth host and port"},
        {"outbound_domain_host", "", kReload, true,
         "proxy for the outbound_domain_name of the same position (one host: for every name); "
         ";transport=tcp after the host: over TCP"},
        {"outbound_domain_port", "5060", kReload, true,
         "port of the outbound_domain_host of the same position"},
        {"proxy_auth_passwd", "", kRestart, true,
         "one digest password for every user (siproxd's); proxy_auth_pwfile wins when both are "
         "set"},
        {"autosave_registrations", "0", kReload, true,
         "siproxd's save interval; accepted, no effect: sipmasq saves on every change"},
        {"use_rport", "0", kReload, true,
         "siproxd's rport switch; accepted, no effect: answers always go to the source (RFC 3581)"},
        // Provider fixes: siproxd's plugins as keys.
        {"sip_dscp", "0", kRestart, true, "DSCP (0..63) set on SIP packets sipmasq sends"},
        {"ua_string", "", kReload, true,
         "User-Agent of every request and response sipmasq forwards to the outside"},
        {"strip_header", "", kReload, true,
         "headers removed from forwarded messages, by name (compact form too); repeatable"},
        {"replace_header", "", kReload, true,
         "'Name: value': the header's value in forwarded messages that carry it; repeatable"},
        {"codec_allow", "", kReload, true,
         "codecs (names or payload types) SDP may keep; others are removed (empty: all)"},
        {"codec_deny", "", kReload, true, "codecs (names or payload types) removed from SDP"},
        {"default_target", "", kReload, true,
         "sip: URI of an inside AOR or host taking outside INVITEs for unregistered users"},
        {"did_range", "", kReload, true,
         "'user@domain first-last': calls to these numbers go to that account's registration"},

        // siproxd keys sipmasq accepts but does not implement (yet).
        {"debug_port", "", kReload, false, "siproxd: TCP port streaming debug output"},
        {"rtp_proxy_enable", "", kReload, false,
         "siproxd: switch the RTP relay off (sipmasq always relays)"},
        {"rtp_input_dejitter", "", kReload, false, "siproxd: input dejitter buffer"},
        {"rtp_output_dejitter", "", kReload, false, "siproxd: output dejitter buffer"},
        {"mask_host", "", kReload, false, "siproxd: host part to mask in registrations"},
        {"masked_host", "", kReload, false, "siproxd: replacement for mask_host"},
        {"log_calls", "", kReload, false, "siproxd: log call establishment"},
        {"obscure_loops", "", kReload, false, "siproxd: obscure loop detection branch"},
        {"plugindir", "", kReload, false, "siproxd: plugin directory"},
        {"load_plugin", "", kReload, false, "siproxd: plugin to load"},
        {"thread_stack_size", "", kReload, false, "siproxd: stack size of its threads"},
    };
}

}  // namespace

const std::vector<ConfigKeyInfo>& config_key_table() {
    static const std::vector<ConfigKeyInfo> table = make_table();
    return table;
}

const ConfigKeyInfo* find_config_key(std::string_view name) noexcept {
    const auto& table = config_key_table();
    const auto it = std::find_if(table.begin(), table.end(),
                                 [name](const ConfigKeyInfo& k) { return name == k.name; });
    return it == table.end() ? nullptr : &*it;
}

bool is_siproxd_plugin_key(std::string_view name) noexcept {
    constexpr std::string_view prefix = "plugin_";
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
}

}  // namespace sipmasq
