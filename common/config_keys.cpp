// Every key of siproxd's configuration file and sipmasq's own, in one table:
// how the parser reads each value and how `sipmasq -t` shows it, its
// default, whether a reload applies it, and the line the README and
// sipmasq.conf(5) document (tests check that both list exactly these keys).
// A key exists only here, so it cannot be parsed and left undocumented, or
// documented and left unparsed.
#include <algorithm>
#include <charconv>
#include <climits>
#include <iterator>
#include <span>
#include <string_view>

#include "config.h"
#include "config_values.h"
#include "rtp_workers.h"

namespace sipmasq {
namespace {

using namespace config_values;  // the readers and writers the rows are made of

constexpr ReloadPolicy kReload = ReloadPolicy::Reloadable;
constexpr ReloadPolicy kRestart = ReloadPolicy::NeedsRestart;
// Whether a key may be given on several lines (its values add up).
constexpr bool kOnce = false;
constexpr bool kList = true;

constexpr ConfigKeyInfo kConfigKeys[] = {
    // Interfaces and addresses.
    {"if_inbound", "", kRestart, true,
     "interface name or address of the private (inbound) side; required", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_interface(v, c.if_inbound, c.inbound_addrs, e);
     },
     [](const Config& c) { return c.if_inbound; }},
    {"if_outbound", "", kRestart, true,
     "interface name or address of the public (outbound) side; required", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_interface(v, c.if_outbound, c.outbound_addrs, e);
     },
     [](const Config& c) { return c.if_outbound; }},
    {"host_outbound", "", kReload, true,
     "public address or name advertised outside when sipmasq runs behind a NAT router", kOnce,
     [](Config& c, std::string_view v, std::string& e) { return set_host(v, c.host_outbound, e); },
     [](const Config& c) { return c.host_outbound; }},
    {"sip_listen_port", "5060", kRestart, true, "UDP and TCP port for SIP on both sides", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_port(v, c.sip_listen_port, e);
     },
     [](const Config& c) { return std::to_string(c.sip_listen_port); }},
    {"dns_server", "", kRestart, true,
     "numeric address of the DNS server for next hops that are names (empty: resolv.conf)", kOnce,
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
    // Access control.
    {"hosts_allow_reg", "", kReload, true,
     "networks allowed to REGISTER (empty: everyone); implies hosts_allow_sip", kList,
     [](Config& c, std::string_view v, std::string& e) { return add_acl(v, c.hosts_allow_reg, e); },
     [](const Config& c) { return c.hosts_allow_reg.to_string(); }},
    {"hosts_allow_sip", "", kReload, true, "networks allowed to send SIP (empty: everyone)", kList,
     [](Config& c, std::string_view v, std::string& e) { return add_acl(v, c.hosts_allow_sip, e); },
     [](const Config& c) { return c.hosts_allow_sip.to_string(); }},
    {"hosts_deny_sip", "", kReload, true, "networks refused SIP; wins over the allow lists", kList,
     [](Config& c, std::string_view v, std::string& e) { return add_acl(v, c.hosts_deny_sip, e); },
     [](const Config& c) { return c.hosts_deny_sip.to_string(); }},
    // Relay.
    {"rtp_port_low", "30000", kRestart, true, "first UDP port of the relay range (even)", kOnce,
     [](Config& c, std::string_view v, std::string& e) { return set_port(v, c.rtp_port_low, e); },
     [](const Config& c) { return std::to_string(c.rtp_port_low); }},
    {"rtp_port_high", "39999", kRestart, true, "last UDP port of the relay range", kOnce,
     [](Config& c, std::string_view v, std::string& e) { return set_port(v, c.rtp_port_high, e); },
     [](const Config& c) { return std::to_string(c.rtp_port_high); }},
    {"rtp_timeout", "300", kReload, true, "seconds without traffic before a stream stops", kOnce,
     [](Config& c, std::string_view v, std::string& e) { return set_seconds(v, c.rtp_timeout, e); },
     [](const Config& c) { return std::to_string(c.rtp_timeout); }},
    {"rtp_no_bidir_timeout", "60", kReload, true,
     "seconds a stream may stay one-sided before it stops", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_seconds(v, c.rtp_no_bidir_timeout, e);
     },
     [](const Config& c) { return std::to_string(c.rtp_no_bidir_timeout); }},
    {"rtp_max_duration", "14400", kReload, true, "absolute limit of a stream, seconds", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_seconds(v, c.rtp_max_duration, e);
     },
     [](const Config& c) { return std::to_string(c.rtp_max_duration); }},
    {"rtp_quarantine", "10", kReload, true, "seconds a released port pair rests before reuse",
     kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_seconds(v, c.rtp_quarantine, e);
     },
     [](const Config& c) { return std::to_string(c.rtp_quarantine); }},
    {"rtp_source_mode", "strict", kReload, true,
     "strict: accept media only from the signalled address; latch: learn the first source", kOnce,
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
    {"rtp_latch_window", "3000", kReload, true,
     "milliseconds after start during which latch mode may learn the source", kOnce,
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
    {"rtp_dscp", "46", kReload, true, "DSCP (0..63) set on relayed RTP packets", kOnce,
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
    {"rtp_workers", "0", kRestart, true,
     "rtpd processes, each with its own slice of the relay range (0: one per online core, at "
     "most 16)",
     kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_count(v, 0, kMaxRtpWorkers, c.rtp_workers, e);
     },
     [](const Config& c) { return std::to_string(c.rtp_workers); }},
    // Limits: what the network can make sipd hold (providers get 16 times the
    // per-source budgets).
    {"max_calls", "0", kReload, true,
     "calls with media at once (0: as many as the relay range holds)", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_count(v, 0, 1000000, c.max_calls, e);
     },
     [](const Config& c) { return std::to_string(c.max_calls); }},
    {"max_setup_calls_per_source", "8", kReload, true,
     "unanswered INVITEs one source address may have at once (an IPv6 /64 counts as one)", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_count(v, 1, 100000, c.max_setup_calls_per_source, e);
     },
     [](const Config& c) { return std::to_string(c.max_setup_calls_per_source); }},
    {"rtp_setup_share", "50", kReload, true,
     "percent of the relay range that unanswered calls may hold", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_count(v, 1, 100, c.rtp_setup_share, e);
     },
     [](const Config& c) { return std::to_string(c.rtp_setup_share); }},
    {"max_media_streams", "4", kReload, true,
     "active media streams one SDP may ask for; more get 488", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_count(v, 1, 64, c.max_media_streams, e);
     },
     [](const Config& c) { return std::to_string(c.max_media_streams); }},
    {"sip_max_transactions", "4096", kReload, true,
     "SIP transactions in progress at once; requests beyond are dropped", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_count(v, 16, 1000000, c.sip_max_transactions, e);
     },
     [](const Config& c) { return std::to_string(c.sip_max_transactions); }},
    {"sip_max_transactions_per_source", "64", kReload, true,
     "SIP transactions in progress per source address (an IPv6 /64 counts as one)", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_count(v, 1, 100000, c.sip_max_transactions_per_source, e);
     },
     [](const Config& c) { return std::to_string(c.sip_max_transactions_per_source); }},
    // SIP over TCP: siproxd's three keys with siproxd's meaning, and the limits.
    {"tcp_timeout", "600", kReload, true,
     "seconds a SIP TCP connection may stay without traffic before it is closed", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_count(v, 10, 86400, c.tcp_timeout, e);
     },
     [](const Config& c) { return std::to_string(c.tcp_timeout); }},
    {"tcp_connect_timeout", "500", kReload, true,
     "milliseconds an outgoing SIP TCP connection may take to open", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_count(v, 50, 60000, c.tcp_connect_timeout, e);
     },
     [](const Config& c) { return std::to_string(c.tcp_connect_timeout); }},
    {"tcp_keepalive", "20", kReload, true,
     "seconds between CRLF keep-alives on TCP connections sipmasq opened (0: none)", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_count(v, 0, 3600, c.tcp_keepalive, e);
     },
     [](const Config& c) { return std::to_string(c.tcp_keepalive); }},
    {"sip_tcp_max_connections", "256", kReload, true, "SIP TCP connections at once, in all", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_count(v, 1, 100000, c.sip_tcp_max_connections, e);
     },
     [](const Config& c) { return std::to_string(c.sip_tcp_max_connections); }},
    {"sip_tcp_max_connections_per_source", "8", kReload, true,
     "SIP TCP connections per peer address (an IPv6 /64 counts as one)", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_count(v, 1, 100000, c.sip_tcp_max_connections_per_source, e);
     },
     [](const Config& c) { return std::to_string(c.sip_tcp_max_connections_per_source); }},
    {"sip_tcp_max_message", "65535", kReload, true,
     "largest SIP message accepted on a TCP connection, bytes; larger closes it", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_count(v, 1024, 1048576, c.sip_tcp_max_message, e);
     },
     [](const Config& c) { return std::to_string(c.sip_tcp_max_message); }},
    // Privileges.
    {"user", "nobody", kRestart, true, "unprivileged user the children run as (not root)", kOnce,
     [](Config& c, std::string_view v, std::string&) {
         c.user = std::string(v);  // checked with getpwnam once the file is read
         return true;
     },
     [](const Config& c) { return c.user; }},
    {"rtp_user", "", kRestart, true,
     "unprivileged user rtpd runs as instead (empty: the same as user; not root)", kOnce,
     [](Config& c, std::string_view v, std::string&) {
         c.rtp_user = std::string(v);  // checked with getpwnam once the file is read
         return true;
     },
     [](const Config& c) { return c.rtp_user; }},
    {"chrootjail", "/var/lib/sipmasq", kRestart, true,
     "directory the children chroot into; root-owned, not group/other writable, not /", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_absolute_path(v, c.chrootjail, e);
     },
     [](const Config& c) { return c.chrootjail; }},
    {"restart_backoff_max", "30", kRestart, true,
     "longest wait in seconds before a child that keeps dying is started again", kOnce,
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
    // Files and logging.
    {"registration_file", "/var/lib/sipmasq/state/registrations", kRestart, true,
     "where registrations are saved across restarts; in a directory inside chrootjail", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_absolute_path(v, c.registration_file, e);
     },
     [](const Config& c) { return c.registration_file; }},
    {"pid_file", "/run/sipmasq/sipmasq.pid", kRestart, true, "pid file of the parent", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_absolute_path(v, c.pid_file, e);
     },
     [](const Config& c) { return c.pid_file; }},
    {"control_socket", "/run/sipmasq/control", kRestart, true,
     "Unix socket sipmasqctl talks to (mode 0600)", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         if (v.size() >= 108) {  // sizeof(sockaddr_un::sun_path)
             e = "the path is longer than a Unix socket address allows (107 bytes)";
             return false;
         }
         return set_absolute_path(v, c.control_socket, e);
     },
     [](const Config& c) { return c.control_socket; }},
    {"daemonize", "1", kRestart, true, "1: detach and log to syslog; 0: stay in foreground", kOnce,
     [](Config& c, std::string_view v, std::string& e) { return set_bool(v, c.daemonize, e); },
     [](const Config& c) { return std::string(c.daemonize ? "1" : "0"); }},
    {"syslog_facility", "daemon", kRestart, true, "syslog facility", kOnce,
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
    {"debug_level", "info", kReload, true,
     "most verbose level logged: error, warning, notice, info, debug", kOnce,
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
    {"silence_log", "1", kReload, true,
     "siproxd's syslog floor: 0 debug, 1 info, 2 warning, 3 error, 4 nothing", kOnce,
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
    // Registrar and proxy.
    {"proxy_auth_realm", "", kReload, true, "digest realm; when set, REGISTER must authenticate",
     kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         if (v.find('"') != std::string_view::npos || v.find('\\') != std::string_view::npos) {
             e = "a realm may not contain '\"' or '\\'";
             return false;
         }
         c.proxy_auth_realm = std::string(v);
         return true;
     },
     [](const Config& c) { return c.proxy_auth_realm; }},
    {"proxy_auth_pwfile", "", kRestart, true, "file of user passwords for digest auth", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_absolute_path(v, c.proxy_auth_pwfile, e);
     },
     [](const Config& c) { return c.proxy_auth_pwfile; }},
    {"default_expires", "3600", kReload, true,
     "registration lifetime when the REGISTER gives none, seconds", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_seconds(v, c.default_expires, e);
     },
     [](const Config& c) { return std::to_string(c.default_expires); }},
    {"max_expires", "86400", kReload, true, "longest registration accepted, seconds", kOnce,
     [](Config& c, std::string_view v, std::string& e) { return set_seconds(v, c.max_expires, e); },
     [](const Config& c) { return std::to_string(c.max_expires); }},
    {"local_domains", "", kReload, true,
     "domains sipmasq is registrar for (empty: outbound proxy only)", kList,
     [](Config& c, std::string_view v, std::string& e) {
         return add_domains(v, c.local_domains, e);
     },
     [](const Config& c) { return join(c.local_domains); }},
    {"outbound_proxy_host", "", kReload, true,
     "send all outgoing SIP to this proxy; ;transport=tcp after the host: over TCP", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_hop(v, c.outbound_proxy_host, c.outbound_proxy_tcp, e);
     },
     [](const Config& c) { return hop_text(c.outbound_proxy_host, c.outbound_proxy_tcp); }},
    {"outbound_proxy_port", "5060", kReload, true, "port of outbound_proxy_host", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_port(v, c.outbound_proxy_port, e);
     },
     [](const Config& c) { return std::to_string(c.outbound_proxy_port); }},
    {"outbound_domain_name", "", kReload, true,
     "domains whose requests go to outbound_domain_host; repeatable, the Nth line with the "
     "Nth host and port",
     kList,
     [](Config& c, std::string_view v, std::string& e) {
         std::vector<std::string> names;
         if (!add_domains(v, names, e)) return false;
         c.outbound_domain_name.push_back(std::move(names));
         return true;
     },
     [](const Config& c) { return join_lines(c.outbound_domain_name); }},
    {"outbound_domain_host", "", kReload, true,
     "proxy for the outbound_domain_name of the same position (one host: for every name); "
     ";transport=tcp after the host: over TCP",
     kList,
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
             hops.push_back(hop_text(c.outbound_domain_host[i],
                                     i < c.outbound_domain_tcp.size() && c.outbound_domain_tcp[i]));
         return join(hops);
     }},
    {"outbound_domain_port", "5060", kReload, true,
     "port of the outbound_domain_host of the same position", kList,
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
    {"proxy_auth_passwd", "", kRestart, true,
     "one digest password for every user (siproxd's); proxy_auth_pwfile wins when both are "
     "set",
     kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         if (v.size() > 256) {
             e = "a password of more than 256 characters";
             return false;
         }
         c.proxy_auth_passwd = std::string(v);
         return true;
     },
     // Never printed by sipmasq -t or a reload's report.
     [](const Config& c) { return std::string(c.proxy_auth_passwd.empty() ? "" : "********"); }},
    {"autosave_registrations", "0", kReload, true,
     "siproxd's save interval; accepted, no effect: sipmasq saves on every change", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         return set_count(v, 0, kMaxSeconds, c.autosave_registrations, e);
     },
     [](const Config& c) { return std::to_string(c.autosave_registrations); }},
    {"use_rport", "0", kReload, true,
     "siproxd's rport switch; accepted, no effect: answers always go to the source (RFC 3581)",
     kOnce,
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
    // Provider fixes: siproxd's plugins as keys.
    {"sip_dscp", "0", kRestart, true, "DSCP (0..63) set on SIP packets sipmasq sends", kOnce,
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
    {"ua_string", "", kReload, true,
     "User-Agent of every request and response sipmasq forwards to the outside", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         if (v.size() > 256) {
             e = "a User-Agent of more than 256 characters";
             return false;
         }
         c.ua_string = std::string(v);
         return true;
     },
     [](const Config& c) { return c.ua_string; }},
    {"strip_header", "", kReload, true,
     "headers removed from forwarded messages, by name (compact form too); repeatable", kList,
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
    {"replace_header", "", kReload, true,
     "'Name: value': the header's value in forwarded messages that carry it; repeatable", kList,
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
    {"codec_allow", "", kReload, true,
     "codecs (names or payload types) SDP may keep; others are removed (empty: all)", kList,
     [](Config& c, std::string_view v, std::string& e) { return add_codecs(v, c.codec_allow, e); },
     [](const Config& c) { return join(c.codec_allow); }},
    {"codec_deny", "", kReload, true, "codecs (names or payload types) removed from SDP", kList,
     [](Config& c, std::string_view v, std::string& e) { return add_codecs(v, c.codec_deny, e); },
     [](const Config& c) { return join(c.codec_deny); }},
    {"default_target", "", kReload, true,
     "sip: URI of an inside AOR or host taking outside INVITEs for unregistered users", kOnce,
     [](Config& c, std::string_view v, std::string& e) {
         // Checked as a URI (and as inside) by sipd, with libosip2.
         const bool sip = v.size() > 4 && (v.substr(0, 4) == "sip:" || v.substr(0, 4) == "SIP:");
         if (!sip || v.find_first_of(" <>\"") != std::string_view::npos) {
             e = quoted(v) + " is not a sip: URI";
             return false;
         }
         c.default_target = std::string(v);
         return true;
     },
     [](const Config& c) { return c.default_target; }},
    {"did_range", "", kReload, true,
     "'user@domain first-last': calls to these numbers go to that account's registration", kList,
     [](Config& c, std::string_view v, std::string& e) { return add_did_range(v, c.did_range, e); },
     [](const Config& c) {
         std::string out;
         for (const auto& r : c.did_range)
             out += (out.empty() ? "" : "; ") + r.account + " " + r.first +
                    (r.first == r.last ? "" : "-" + r.last);
         return out;
     }},

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

// Checked when sipmasq is built: a supported key is read and shown by its
// row, a siproxd-only key by neither, and no name has two rows.
constexpr bool rows_are_whole() {
    for (const ConfigKeyInfo& key : kConfigKeys) {
        const bool has_functions = key.apply != nullptr && key.show != nullptr;
        const bool has_none = key.apply == nullptr && key.show == nullptr && !key.repeatable;
        if (key.supported ? !has_functions : !has_none) return false;
    }
    return true;
}
constexpr bool names_are_unique() {
    const std::size_t count = std::size(kConfigKeys);
    for (std::size_t i = 0; i < count; ++i) {
        for (std::size_t j = i + 1; j < count; ++j) {
            if (std::string_view(kConfigKeys[i].name) == kConfigKeys[j].name) return false;
        }
    }
    return true;
}
static_assert(rows_are_whole(), "a supported key needs apply and show, a siproxd-only key neither");
static_assert(names_are_unique(), "a key has two rows");

}  // namespace

std::span<const ConfigKeyInfo> config_key_table() noexcept {
    return kConfigKeys;
}

const ConfigKeyInfo* find_config_key(std::string_view name) noexcept {
    const std::span<const ConfigKeyInfo> table = config_key_table();
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
