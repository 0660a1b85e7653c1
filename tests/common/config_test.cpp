// sipmasq.conf: every key applied and refused with its line number, the
// file format, the checks that need the whole file, and the helpers.
#include "config.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "interfaces.h"

namespace sipmasq {
namespace {

namespace fs = std::filesystem;

const char* const kPath = "test.conf";

// A valid configuration anywhere: loopback on both sides (127/8 is all on
// lo) and /usr as the jail (root-owned, mode 0755 on every system; "/" is
// refused), the registration file in a directory below it.
std::map<std::string, std::string> base_keys() {
    return {{"if_inbound", "127.0.0.1"},
            {"if_outbound", "127.0.0.2"},
            {"user", "nobody"},
            {"chrootjail", "/usr"},
            {"registration_file", "/usr/share/sipmasq/registrations"}};
}

// `first` on line 1, then `extra` lines, then the base keys not already given.
std::string config_text(const std::string& first, const std::vector<std::string>& extra = {}) {
    std::string text = first + "\n";
    std::set<std::string> given;
    const auto key_of = [](const std::string& line) {
        const auto eq = line.find('=');
        std::string k = line.substr(0, eq);
        while (!k.empty() && k.back() == ' ') k.pop_back();
        while (!k.empty() && k.front() == ' ') k.erase(0, 1);
        return k;
    };
    given.insert(key_of(first));
    for (const auto& line : extra) {
        text += line + "\n";
        given.insert(key_of(line));
    }
    for (const auto& [k, v] : base_keys()) {
        if (given.count(k) == 0) text += k + " = " + v + "\n";
    }
    return text;
}

std::string dump(const ConfigResult& r) {
    std::string out;
    for (const auto& e : r.errors) out += "error: " + e.to_string() + "\n";
    for (const auto& w : r.warnings) out += "warning: " + w.to_string() + "\n";
    return out;
}

bool has_message(const std::vector<ConfigError>& list, int line, const std::string& part) {
    for (const auto& e : list) {
        if (e.line == line && e.to_string().find(part) != std::string::npos) return true;
    }
    return false;
}

TEST(Config, BaseIsValid) {
    const auto r = parse_config_text(config_text("# nothing"), kPath);
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_TRUE(r.warnings.empty());
    EXPECT_EQ(r.config.path, kPath);
    ASSERT_EQ(r.config.inbound_addrs.size(), 1u);
    EXPECT_EQ(r.config.inbound_addrs[0].host_string(), "127.0.0.1");
    EXPECT_EQ(r.config.outbound_addrs[0].host_string(), "127.0.0.2");
    // Defaults of config.h (documented in sipmasq.conf(5)).
    EXPECT_EQ(r.config.sip_listen_port, 5060);
    EXPECT_EQ(r.config.rtp_port_low, 30000);
    EXPECT_EQ(r.config.rtp_port_high, 39999);
    EXPECT_EQ(r.config.rtp_timeout, 300u);
    EXPECT_EQ(r.config.rtp_dscp, 46);
    EXPECT_TRUE(r.config.daemonize);
    EXPECT_EQ(r.config.log_level, LogLevel::Info);
}

// One row per supported key: a valid value and what it sets, and an invalid one.
struct KeyCase {
    std::string key;
    std::string good;
    std::function<void(const Config&)> check;
    std::string bad;
    std::vector<std::string> extra = {};  // lines a value needs (e.g. realm needs pwfile)
};

std::vector<KeyCase> key_cases() {
    return {
        {"if_inbound", "lo",
         [](const Config& c) {
             ASSERT_FALSE(c.inbound_addrs.empty());
             EXPECT_EQ(c.if_inbound, "lo");
             EXPECT_EQ(c.inbound_addrs[0].host_string(), "127.0.0.1");
         },
         "nosuchif0"},
        {"if_outbound", "127.0.0.3",
         [](const Config& c) {
             ASSERT_EQ(c.outbound_addrs.size(), 1u);
             EXPECT_EQ(c.outbound_addrs[0].host_string(), "127.0.0.3");
         },
         "224.0.0.1"},
        {"host_outbound", "sip.example.com",
         [](const Config& c) { EXPECT_EQ(c.host_outbound, "sip.example.com"); }, "bad_name!"},
        {"dns_server", "192.0.2.53", [](const Config& c) { EXPECT_EQ(c.dns_server, "192.0.2.53"); },
         "dns.example.com"},
        {"sip_listen_port", "5070", [](const Config& c) { EXPECT_EQ(c.sip_listen_port, 5070); },
         "0"},
        {"hosts_allow_reg", "192.0.2.0/24, 10.1.2.3/8",
         [](const Config& c) {
             EXPECT_EQ(c.hosts_allow_reg.to_string(), "192.0.2.0/24,10.0.0.0/8");
         },
         "192.0.2.0/33"},
        {"hosts_allow_sip", "203.0.113.0/24 2001:db8::/32",
         [](const Config& c) {
             EXPECT_EQ(c.hosts_allow_sip.to_string(), "203.0.113.0/24,2001:db8::/32");
         },
         "203.0.113.0/24,nonsense"},
        {"hosts_deny_sip", "198.51.100.0/24",
         [](const Config& c) { EXPECT_EQ(c.hosts_deny_sip.to_string(), "198.51.100.0/24"); },
         "198.51.100.0/-1"},
        {"rtp_port_low", "20000", [](const Config& c) { EXPECT_EQ(c.rtp_port_low, 20000); }, "abc"},
        {"rtp_port_high", "30009", [](const Config& c) { EXPECT_EQ(c.rtp_port_high, 30009); },
         "70000"},
        {"rtp_workers", "3", [](const Config& c) { EXPECT_EQ(c.rtp_workers, 3u); }, "17"},
        {"rtp_timeout", "120", [](const Config& c) { EXPECT_EQ(c.rtp_timeout, 120u); }, "0"},
        {"rtp_no_bidir_timeout", "30",
         [](const Config& c) { EXPECT_EQ(c.rtp_no_bidir_timeout, 30u); }, "-5"},
        {"rtp_max_duration", "7200", [](const Config& c) { EXPECT_EQ(c.rtp_max_duration, 7200u); },
         "99999999999"},
        {"rtp_quarantine", "2", [](const Config& c) { EXPECT_EQ(c.rtp_quarantine, 2u); }, "1.5"},
        {"rtp_source_mode", "latch",
         [](const Config& c) { EXPECT_EQ(c.rtp_source_mode, SourceMode::Latch); }, "loose"},
        {"rtp_latch_window", "500", [](const Config& c) { EXPECT_EQ(c.rtp_latch_window_ms, 500u); },
         "0"},
        {"rtp_dscp", "0", [](const Config& c) { EXPECT_EQ(c.rtp_dscp, 0); }, "64"},
        {"user", "nobody",
         [](const Config& c) {
             const passwd* pw = getpwnam("nobody");
             ASSERT_NE(pw, nullptr);
             EXPECT_EQ(c.uid, pw->pw_uid);
             EXPECT_EQ(c.gid, pw->pw_gid);
         },
         "no_such_user_sipmasq"},
        {"rtp_user", "daemon",
         [](const Config& c) {
             const passwd* pw = getpwnam("daemon");
             ASSERT_NE(pw, nullptr);
             EXPECT_EQ(c.rtp_user, "daemon");
             EXPECT_EQ(c.rtp_uid, pw->pw_uid);
             EXPECT_EQ(c.rtp_gid, pw->pw_gid);
             EXPECT_NE(c.rtp_uid, c.uid);  // sipd stays `user`
         },
         "no_such_user_sipmasq"},
        {"chrootjail", "/usr/", [](const Config& c) { EXPECT_EQ(c.chrootjail, "/usr/"); },
         "relative/jail"},
        {"restart_backoff_max", "5", [](const Config& c) { EXPECT_EQ(c.restart_backoff_max, 5u); },
         "0"},
        {"registration_file", "/usr/lib/sipmasq/regs",
         [](const Config& c) { EXPECT_EQ(c.registration_file, "/usr/lib/sipmasq/regs"); }, "regs"},
        {"pid_file", "/tmp/x.pid", [](const Config& c) { EXPECT_EQ(c.pid_file, "/tmp/x.pid"); },
         "x.pid"},
        {"control_socket", "/tmp/ctl",
         [](const Config& c) { EXPECT_EQ(c.control_socket, "/tmp/ctl"); },
         "/" + std::string(120, 'a')},
        {"max_calls", "100", [](const Config& c) { EXPECT_EQ(c.max_calls, 100u); }, "-1"},
        {"max_setup_calls_per_source", "3",
         [](const Config& c) { EXPECT_EQ(c.max_setup_calls_per_source, 3u); }, "0"},
        {"rtp_setup_share", "25", [](const Config& c) { EXPECT_EQ(c.rtp_setup_share, 25u); },
         "101"},
        {"max_media_streams", "2", [](const Config& c) { EXPECT_EQ(c.max_media_streams, 2u); },
         "65"},
        {"sip_max_transactions", "100",
         [](const Config& c) { EXPECT_EQ(c.sip_max_transactions, 100u); }, "15"},
        {"sip_max_transactions_per_source", "10",
         [](const Config& c) { EXPECT_EQ(c.sip_max_transactions_per_source, 10u); }, "x"},
        {"tcp_timeout", "30", [](const Config& c) { EXPECT_EQ(c.tcp_timeout, 30u); }, "9"},
        {"tcp_connect_timeout", "2000",
         [](const Config& c) { EXPECT_EQ(c.tcp_connect_timeout, 2000u); }, "49"},
        {"tcp_keepalive", "0", [](const Config& c) { EXPECT_EQ(c.tcp_keepalive, 0u); }, "3601"},
        {"sip_tcp_max_connections", "10",
         [](const Config& c) { EXPECT_EQ(c.sip_tcp_max_connections, 10u); }, "0"},
        {"sip_tcp_max_connections_per_source", "2",
         [](const Config& c) { EXPECT_EQ(c.sip_tcp_max_connections_per_source, 2u); }, "-2"},
        {"sip_tcp_max_message", "4096",
         [](const Config& c) { EXPECT_EQ(c.sip_tcp_max_message, 4096u); }, "1023"},
        {"daemonize", "0", [](const Config& c) { EXPECT_FALSE(c.daemonize); }, "maybe"},
        {"syslog_facility", "local3",
         [](const Config& c) {
             EXPECT_EQ(c.syslog_facility, "local3");
             EXPECT_EQ(c.syslog_facility_value, LOG_LOCAL3);
         },
         "local8"},
        {"debug_level", "debug", [](const Config& c) { EXPECT_EQ(c.log_level, LogLevel::Debug); },
         "verbose"},
        {"silence_log", "3", [](const Config& c) { EXPECT_EQ(c.silence_log, 3); }, "5"},
        {"proxy_auth_realm",
         "My Realm",
         [](const Config& c) { EXPECT_EQ(c.proxy_auth_realm, "My Realm"); },
         "bad\"realm",
         {"proxy_auth_pwfile = /etc/sipmasq/passwd"}},
        {"proxy_auth_pwfile", "/etc/sipmasq/passwd",
         [](const Config& c) { EXPECT_EQ(c.proxy_auth_pwfile, "/etc/sipmasq/passwd"); }, "passwd"},
        {"default_expires", "600", [](const Config& c) { EXPECT_EQ(c.default_expires, 600u); },
         "0"},
        {"max_expires", "7200", [](const Config& c) { EXPECT_EQ(c.max_expires, 7200u); }, "x"},
        {"local_domains", "example.com, example.org",
         [](const Config& c) {
             EXPECT_EQ(c.local_domains, (std::vector<std::string>{"example.com", "example.org"}));
         },
         "bad..domain"},
        {"outbound_proxy_host", "proxy.example.net",
         [](const Config& c) { EXPECT_EQ(c.outbound_proxy_host, "proxy.example.net"); },
         "192.0.2.1:5060"},
        {"outbound_proxy_port", "5080",
         [](const Config& c) { EXPECT_EQ(c.outbound_proxy_port, 5080); }, "65536"},
        {"outbound_domain_name",
         "example.com,example.net",
         [](const Config& c) {
             ASSERT_EQ(c.outbound_domains.size(), 1u);
             EXPECT_EQ(c.outbound_domains[0].names,
                       (std::vector<std::string>{"example.com", "example.net"}));
             EXPECT_EQ(c.outbound_domains[0].host, "proxy.example.com");
         },
         "-bad.com",
         {"outbound_domain_host = proxy.example.com"}},
        {"outbound_domain_host",
         "192.0.2.9",
         [](const Config& c) {
             ASSERT_EQ(c.outbound_domains.size(), 1u);
             EXPECT_EQ(c.outbound_domains[0].host, "192.0.2.9");
             EXPECT_EQ(c.outbound_domains[0].port, 5060);
         },
         "[::1]:5060",
         {"outbound_domain_name = example.com"}},
        {"outbound_domain_port",
         "5061",
         [](const Config& c) {
             ASSERT_EQ(c.outbound_domains.size(), 1u);
             EXPECT_EQ(c.outbound_domains[0].port, 5061);
         },
         "port",
         {"outbound_domain_name = example.com", "outbound_domain_host = 192.0.2.9"}},
        {"proxy_auth_passwd", "s3cret pass",
         [](const Config& c) { EXPECT_EQ(c.proxy_auth_passwd, "s3cret pass"); },
         std::string(257, 'p')},
        {"autosave_registrations", "300",
         [](const Config& c) { EXPECT_EQ(c.autosave_registrations, 300u); }, "-1"},
        {"use_rport", "3", [](const Config& c) { EXPECT_EQ(c.use_rport, 3); }, "4"},
        {"sip_dscp", "26", [](const Config& c) { EXPECT_EQ(c.sip_dscp, 26); }, "64"},
        {"ua_string", "sipmasq phone",
         [](const Config& c) { EXPECT_EQ(c.ua_string, "sipmasq phone"); }, std::string(257, 'u')},
        {"strip_header", "User-Agent, Subject",
         [](const Config& c) {
             EXPECT_EQ(c.strip_header, (std::vector<std::string>{"User-Agent", "Subject"}));
         },
         "Via"},
        {"replace_header", "Server: gateway",
         [](const Config& c) {
             ASSERT_EQ(c.replace_header.size(), 1u);
             EXPECT_EQ(c.replace_header[0].name, "Server");
             EXPECT_EQ(c.replace_header[0].value, "gateway");
         },
         "m: sip:x@example.com"},
        {"codec_allow", "PCMA, 0 telephone-event",
         [](const Config& c) {
             EXPECT_EQ(c.codec_allow, (std::vector<std::string>{"PCMA", "0", "telephone-event"}));
         },
         "128"},
        {"codec_deny", "G729 18",
         [](const Config& c) {
             EXPECT_EQ(c.codec_deny, (std::vector<std::string>{"G729", "18"}));
         },
         "G7/29"},
        {"default_target", "sip:reception@sip.example.net",
         [](const Config& c) { EXPECT_EQ(c.default_target, "sip:reception@sip.example.net"); },
         "reception@sip.example.net"},
        {"did_range", "sip:trunk@voip.example.com +4930123400-+4930123499",
         [](const Config& c) {
             ASSERT_EQ(c.did_range.size(), 1u);
             EXPECT_EQ(c.did_range[0].account, "trunk@voip.example.com");
             EXPECT_EQ(c.did_range[0].first, "+4930123400");
             EXPECT_EQ(c.did_range[0].last, "+4930123499");
         },
         "trunk@voip.example.com 4930123499-4930123400"},
    };
}

// Trust comes from the arrival interface: one interface for both sides is
// refused with the reason; two loopback addresses (a test set-up) are not.
TEST(Config, OneArmedSetUpIsRefused) {
    for (const char* spec : {"127.0.0.1", "lo"}) {
        const auto r = parse_config_text(config_text(std::string("if_inbound = ") + spec,
                                                     {std::string("if_outbound = ") + spec}),
                                         kPath);
        EXPECT_FALSE(r.ok()) << spec;
        EXPECT_TRUE(has_message(r.errors, 2, "a one-armed set-up cannot be trusted")) << dump(r);
    }
    EXPECT_TRUE(parse_config_text(config_text("# two loopback addresses"), kPath).ok());
}

TEST(Config, EverySupportedKeyHasACase) {
    std::set<std::string> covered;
    for (const auto& kc : key_cases()) covered.insert(kc.key);
    for (const auto& info : config_key_table()) {
        if (info.supported) {
            EXPECT_EQ(covered.count(info.name), 1u) << info.name;
        }
    }
}

TEST(Config, EveryKeyAppliesAValidValue) {
    for (const auto& kc : key_cases()) {
        SCOPED_TRACE(kc.key);
        const auto r = parse_config_text(config_text(kc.key + " = " + kc.good, kc.extra), kPath);
        ASSERT_TRUE(r.ok()) << dump(r);
        kc.check(r.config);
    }
}

TEST(Config, EveryKeyRefusesAnInvalidValueOnItsLine) {
    for (const auto& kc : key_cases()) {
        SCOPED_TRACE(kc.key);
        // Two comment lines first, so the key is on line 3.
        const std::string text = "# a\n\n" + config_text(kc.key + " = " + kc.bad, kc.extra);
        const auto r = parse_config_text(text, kPath);
        ASSERT_FALSE(r.ok());
        EXPECT_TRUE(has_message(r.errors, 3, std::string(kPath) + ":3: " + kc.key)) << dump(r);
    }
}

TEST(Config, CommentsBlankLinesAndWhitespace) {
    const std::string text =
        "# a comment\n"
        "\n"
        "   \t\n"
        "   # indented comment\n"
        "\tsip_listen_port\t=\t5070   # trailing comment\n"
        "rtp_timeout=45\r\n"
        "proxy_auth_realm =  pa#ss word  \n"
        "proxy_auth_pwfile = /etc/pw\n" +
        config_text("# end");
    const auto r = parse_config_text(text, kPath);
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.config.sip_listen_port, 5070);
    EXPECT_EQ(r.config.rtp_timeout, 45u);
    EXPECT_EQ(r.config.proxy_auth_realm, "pa#ss word");
}

TEST(Config, UnknownKeyIsAnErrorWithLine) {
    const auto r = parse_config_text("# x\n" + config_text("frobnicate = 1"), kPath);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(has_message(r.errors, 2, "test.conf:2: unknown key 'frobnicate'")) << dump(r);

    const auto typo = parse_config_text(config_text("rtp_timout = 5"), kPath);
    EXPECT_TRUE(has_message(typo.errors, 1, "did you mean 'rtp_timeout'?")) << dump(typo);
}

TEST(Config, UnsupportedSiproxdKeyIsAWarningWithLine) {
    const auto r = parse_config_text(
        "\n\nrtp_proxy_enable = 1\nplugin_shortdial_akey = *00\n" + config_text("# rest"), kPath);
    ASSERT_TRUE(r.ok()) << dump(r);
    ASSERT_EQ(r.warnings.size(), 2u);
    EXPECT_EQ(r.warnings[0].to_string(),
              "test.conf:3: key 'rtp_proxy_enable' is a siproxd key that sipmasq does not "
              "support yet; ignored");
    EXPECT_EQ(r.warnings[1].line, 4);
    EXPECT_NE(r.warnings[1].message.find("plugin_shortdial_akey"), std::string::npos);

    // Every siproxd-only key of the table is accepted this way.
    for (const auto& info : config_key_table()) {
        if (info.supported) continue;
        const auto one = parse_config_text(config_text(std::string(info.name) + " = 1"), kPath);
        EXPECT_TRUE(one.ok()) << info.name << dump(one);
        EXPECT_EQ(one.warnings.size(), 1u) << info.name;
    }
}

TEST(Config, DuplicateKeyIsAnError) {
    const auto r = parse_config_text(config_text("rtp_timeout = 10", {"rtp_timeout = 20"}), kPath);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(has_message(r.errors, 2, "key 'rtp_timeout' is already set on line 1")) << dump(r);
    EXPECT_EQ(r.config.rtp_timeout, 10u);
}

TEST(Config, ListKeysMayRepeat) {
    const auto r = parse_config_text(
        config_text("hosts_allow_reg = 192.0.2.0/24",
                    {"hosts_allow_reg = 198.51.100.0/24", "outbound_domain_name = a.example",
                     "outbound_domain_name = b.example", "outbound_domain_host = p.example"}),
        kPath);
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.config.hosts_allow_reg.to_string(), "192.0.2.0/24,198.51.100.0/24");
    // One host for several name lines serves them all (sipmasq's older form).
    ASSERT_EQ(r.config.outbound_domains.size(), 1u);
    EXPECT_EQ(r.config.outbound_domains[0].names,
              (std::vector<std::string>{"a.example", "b.example"}));
    EXPECT_EQ(r.config.outbound_domains[0].host, "p.example");
}

// siproxd's form: triples, the Nth name line with the Nth host and port.
TEST(Config, OutboundDomainTriplesPairInOrder) {
    const auto r = parse_config_text(
        config_text("outbound_domain_name = a.example",
                    {"outbound_domain_host = pa.example", "outbound_domain_port = 5061",
                     "outbound_domain_name = b.example, c.example",
                     "outbound_domain_host = 192.0.2.7", "outbound_domain_port = 5062"}),
        kPath);
    ASSERT_TRUE(r.ok()) << dump(r);
    ASSERT_EQ(r.config.outbound_domains.size(), 2u);
    EXPECT_EQ(r.config.outbound_domains[0].names, (std::vector<std::string>{"a.example"}));
    EXPECT_EQ(r.config.outbound_domains[0].host, "pa.example");
    EXPECT_EQ(r.config.outbound_domains[0].port, 5061);
    EXPECT_EQ(r.config.outbound_domains[1].names,
              (std::vector<std::string>{"b.example", "c.example"}));
    EXPECT_EQ(r.config.outbound_domains[1].host, "192.0.2.7");
    EXPECT_EQ(r.config.outbound_domains[1].port, 5062);

    // Without ports every host is on 5060.
    const auto no_ports = parse_config_text(
        config_text("outbound_domain_name = a.example",
                    {"outbound_domain_host = pa.example", "outbound_domain_name = b.example",
                     "outbound_domain_host = pb.example"}),
        kPath);
    ASSERT_TRUE(no_ports.ok()) << dump(no_ports);
    ASSERT_EQ(no_ports.config.outbound_domains.size(), 2u);
    EXPECT_EQ(no_ports.config.outbound_domains[1].host, "pb.example");
    EXPECT_EQ(no_ports.config.outbound_domains[1].port, 5060);

    // Two names, two hosts, one port: which host it belongs to is unclear.
    const auto odd = parse_config_text(
        config_text("outbound_domain_name = a.example",
                    {"outbound_domain_host = pa.example", "outbound_domain_port = 5061",
                     "outbound_domain_name = b.example", "outbound_domain_host = pb.example"}),
        kPath);
    EXPECT_TRUE(has_message(odd.errors, 1, "give one host (and port) per name")) << dump(odd);
}

// A provider that needs TCP: ;transport=tcp after the host, as in a SIP
// URI, for the outbound proxy and for each outbound domain host.
TEST(Config, AProviderHostMayNameItsTransport) {
    const auto r = parse_config_text(
        config_text(
            "outbound_proxy_host = proxy.example.net;transport=TCP",
            {"outbound_domain_name = a.example", "outbound_domain_host = pa.example",
             "outbound_domain_name = b.example", "outbound_domain_host = 192.0.2.7;transport=tcp"}),
        kPath);
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.config.outbound_proxy_host, "proxy.example.net");
    EXPECT_TRUE(r.config.outbound_proxy_tcp);
    ASSERT_EQ(r.config.outbound_domains.size(), 2u);
    EXPECT_FALSE(r.config.outbound_domains[0].tcp);
    EXPECT_EQ(r.config.outbound_domains[1].host, "192.0.2.7");
    EXPECT_TRUE(r.config.outbound_domains[1].tcp);

    const auto udp = parse_config_text(
        config_text("outbound_proxy_host = proxy.example.net;transport=udp", {}), kPath);
    ASSERT_TRUE(udp.ok()) << dump(udp);
    EXPECT_FALSE(udp.config.outbound_proxy_tcp);

    for (const char* bad : {"proxy.example.net;transport=tls", "proxy.example.net;lr",
                            "proxy.example.net;", ";transport=tcp"}) {
        const auto e =
            parse_config_text(config_text(std::string("outbound_proxy_host = ") + bad, {}), kPath);
        EXPECT_FALSE(e.ok()) << bad;
    }
    const auto e = parse_config_text(config_text("outbound_domain_name = a.example",
                                                 {"outbound_domain_host = pa;transport=sctp"}),
                                     kPath);
    EXPECT_TRUE(has_message(e.errors, 2, "only ;transport=udp or ;transport=tcp")) << dump(e);
}

TEST(Config, SharedPasswordAndTheFileTogether) {
    const auto shared = parse_config_text(
        config_text("proxy_auth_realm = r", {"proxy_auth_passwd = secret"}), kPath);
    ASSERT_TRUE(shared.ok()) << dump(shared);
    EXPECT_TRUE(shared.warnings.empty()) << dump(shared);
    // Never printed.
    EXPECT_EQ(format_config(shared.config).find("secret"), std::string::npos);
    EXPECT_NE(format_config(shared.config).find("proxy_auth_passwd = ********"), std::string::npos);
    auto changed = shared.config;
    changed.proxy_auth_passwd = "other";
    const auto diff = config_diff(shared.config, changed);
    ASSERT_EQ(diff.size(), 1u);
    EXPECT_EQ(diff[0].find("secret"), std::string::npos);
    EXPECT_EQ(diff[0].find("other"), std::string::npos);
    EXPECT_NE(diff[0].find("proxy_auth_passwd"), std::string::npos);

    const auto both = parse_config_text(
        config_text("proxy_auth_realm = r",
                    {"proxy_auth_pwfile = /etc/pw", "proxy_auth_passwd = secret"}),
        kPath);
    ASSERT_TRUE(both.ok()) << dump(both);
    EXPECT_TRUE(has_message(both.warnings, 3, "proxy_auth_passwd is not used")) << dump(both);
}

TEST(Config, HeadersSipmasqNeedsCannotBeStripped) {
    for (const char* name : {"Via", "v", "Call-ID", "i", "CSeq", "Contact", "m", "Record-Route",
                             "Content-Length", "l", "Proxy-Authorization"}) {
        SCOPED_TRACE(name);
        const auto strip =
            parse_config_text(config_text(std::string("strip_header = ") + name), kPath);
        EXPECT_TRUE(has_message(strip.errors, 1, "sipmasq needs")) << dump(strip);
        const auto repl =
            parse_config_text(config_text(std::string("replace_header = ") + name + ": x"), kPath);
        EXPECT_TRUE(has_message(repl.errors, 1, "sipmasq needs")) << dump(repl);
    }
}

TEST(Config, MalformedLines) {
    struct Case {
        std::string line;
        std::string message;
    };
    for (const Case& c : std::vector<Case>{
             {"sip_listen_port 5060", "expected 'key = value', found no '='"},
             {"rtp_timeout =", "key 'rtp_timeout' has an empty value"},
             {"rtp_timeout =    # only a comment", "key 'rtp_timeout' has an empty value"},
             {"= 5", "missing key before '='"},
             {"rtp timeout = 5", "'rtp timeout' is not a key name"},
             {"rtp_timeout = 5\x01", "control character"},
             {"rtp_timeout = " + std::string(5000, '1'), "line longer than"},
         }) {
        SCOPED_TRACE(c.line);
        const auto r = parse_config_text("#\n" + config_text(c.line), kPath);
        ASSERT_FALSE(r.ok());
        EXPECT_TRUE(has_message(r.errors, 2, "test.conf:2: " + c.message)) << dump(r);
    }
}

TEST(Config, RequiredInterfaces) {
    const auto r = parse_config_text(
        "user = nobody\nchrootjail = /usr\nregistration_file = /usr/share/sipmasq/r\n", kPath);
    ASSERT_EQ(r.errors.size(), 2u) << dump(r);
    EXPECT_EQ(r.errors[0].to_string(), "test.conf: if_inbound is required");
    EXPECT_EQ(r.errors[1].to_string(), "test.conf: if_outbound is required");

    // A bad value is reported once, not again as "required".
    const auto bad = parse_config_text(config_text("if_inbound = nosuchif0"), kPath);
    ASSERT_EQ(bad.errors.size(), 1u) << dump(bad);
    EXPECT_EQ(bad.errors[0].to_string(), "test.conf:1: if_inbound: no interface named 'nosuchif0'");
}

TEST(Config, LinkLocalAddressesAreNeverBound) {
    for (const char* spec : {"fe80::1", "169.254.1.1"}) {
        const auto r = parse_config_text(config_text(std::string("if_outbound = ") + spec), kPath);
        EXPECT_TRUE(has_message(r.errors, 1, "is link-local")) << dump(r);
    }
}

// An interface without an address yet (down, DHCP or PPPoE pending) is
// accepted with a warning: sipmasq waits for one. A new network namespace
// has exactly that: `lo`, down, no address.
TEST(Config, AnInterfaceWithoutAnAddressIsWaitedFor) {
    ConfigResult r;
    bool isolated = false;
    std::thread([&] {
        if (::unshare(CLONE_NEWNET) != 0) return;
        isolated = true;
        r = parse_config_text(config_text("if_outbound = lo"), kPath);
    }).join();
    if (!isolated) GTEST_SKIP() << "cannot make a network namespace: " << std::strerror(errno);
    EXPECT_TRUE(r.ok()) << dump(r);
    EXPECT_TRUE(r.config.outbound_addrs.empty());
    EXPECT_TRUE(has_message(r.warnings, 1, "interface lo has no usable address yet")) << dump(r);
}

TEST(Config, RtpRange) {
    const auto odd = parse_config_text(config_text("rtp_port_low = 30001"), kPath);
    EXPECT_TRUE(has_message(odd.errors, 1, "is odd")) << dump(odd);

    const auto inverted =
        parse_config_text(config_text("rtp_port_low = 40000", {"rtp_port_high = 30000"}), kPath);
    EXPECT_TRUE(has_message(inverted.errors, 1, "must be below rtp_port_high")) << dump(inverted);

    const auto one_pair =
        parse_config_text(config_text("rtp_port_low = 30000", {"rtp_port_high = 30002"}), kPath);
    EXPECT_TRUE(has_message(one_pair.errors, 1, "fewer than 2 port pairs")) << dump(one_pair);

    const auto two_pairs =
        parse_config_text(config_text("rtp_port_low = 30000", {"rtp_port_high = 30003"}), kPath);
    EXPECT_TRUE(two_pairs.ok()) << dump(two_pairs);

    // Only rtp_port_high given: the error is on its line.
    const auto high_only = parse_config_text("\n" + config_text("rtp_port_high = 29000"), kPath);
    EXPECT_TRUE(has_message(high_only.errors, 2, "must be below")) << dump(high_only);
}

TEST(Config, RtpWorkersNeedTwoPairsEach) {
    // 30000..30011 holds 6 pairs: 3 workers fit, 4 do not.
    const auto three = parse_config_text(
        config_text("rtp_workers = 3", {"rtp_port_low = 30000", "rtp_port_high = 30011"}), kPath);
    EXPECT_TRUE(three.ok()) << dump(three);
    const auto four = parse_config_text(
        config_text("rtp_workers = 4", {"rtp_port_low = 30000", "rtp_port_high = 30011"}), kPath);
    EXPECT_TRUE(has_message(four.errors, 1,
                            "rtp_workers 4 needs at least 8 port pairs; the RTP range "
                            "30000..30011 holds 6"))
        << dump(four);
    // 0 (one per core) never fails for a small range: it takes fewer workers.
    const auto automatic = parse_config_text(
        config_text("rtp_workers = 0", {"rtp_port_low = 30000", "rtp_port_high = 30003"}), kPath);
    EXPECT_TRUE(automatic.ok()) << dump(automatic);
}

TEST(Config, CrossKeyChecks) {
    const auto expires =
        parse_config_text(config_text("default_expires = 9000", {"max_expires = 600"}), kPath);
    EXPECT_TRUE(has_message(expires.errors, 1, "larger than max_expires")) << dump(expires);

    const auto realm = parse_config_text(config_text("proxy_auth_realm = r"), kPath);
    EXPECT_TRUE(has_message(realm.errors, 1, "needs proxy_auth_pwfile or proxy_auth_passwd"))
        << dump(realm);

    const auto domain = parse_config_text(config_text("outbound_domain_name = a.example"), kPath);
    EXPECT_TRUE(has_message(domain.errors, 1, "needs outbound_domain_host")) << dump(domain);

    const auto host = parse_config_text(config_text("outbound_domain_host = p.example"), kPath);
    EXPECT_TRUE(has_message(host.errors, 1, "needs outbound_domain_name")) << dump(host);
}

TEST(Config, UserRootAndUnknownUserRefused) {
    const auto root = parse_config_text(config_text("user = root"), kPath);
    EXPECT_TRUE(has_message(root.errors, 1, "user 'root' has uid 0")) << dump(root);
    const auto none = parse_config_text(config_text("user = no_such_user_sipmasq"), kPath);
    EXPECT_TRUE(has_message(none.errors, 1, "user 'no_such_user_sipmasq' does not exist"))
        << dump(none);
    // rtp_user: the same two refusals, with its own name.
    const auto rtp_root = parse_config_text(config_text("rtp_user = root"), kPath);
    EXPECT_TRUE(has_message(rtp_root.errors, 1, "rtp_user 'root' has uid 0")) << dump(rtp_root);
    const auto rtp_none = parse_config_text(config_text("rtp_user = no_such_user_sipmasq"), kPath);
    EXPECT_TRUE(has_message(rtp_none.errors, 1, "rtp_user 'no_such_user_sipmasq' does not exist"))
        << dump(rtp_none);
    // Unset, rtpd runs as `user`.
    const auto same = parse_config_text(config_text("# nothing"), kPath);
    ASSERT_TRUE(same.ok()) << dump(same);
    EXPECT_EQ(same.config.rtp_uid, same.config.uid);
    EXPECT_EQ(same.config.rtp_gid, same.config.gid);
}

// A temporary directory removed at the end of the test.
class TempDir {
  public:
    TempDir() {
        char tmpl[] = "/tmp/sipmasq-config-test-XXXXXX";
        const char* made = mkdtemp(tmpl);
        path_ = made != nullptr ? made : "";
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }

  private:
    std::string path_;
};

TEST(Config, JailChecks) {
    TempDir tmp;
    ASSERT_FALSE(tmp.path().empty());

    const auto missing =
        parse_config_text(config_text("chrootjail = " + tmp.path() + "/missing"), kPath);
    EXPECT_TRUE(has_message(missing.errors, 1, "No such file or directory")) << dump(missing);

    const std::string file = tmp.path() + "/file";
    std::ofstream(file) << "x";
    const auto not_dir = parse_config_text(config_text("chrootjail = " + file), kPath);
    EXPECT_TRUE(has_message(not_dir.errors, 1, "is not a directory")) << dump(not_dir);

    const std::string open = tmp.path() + "/open";
    ASSERT_EQ(mkdir(open.c_str(), 0755), 0);
    ASSERT_EQ(chmod(open.c_str(), 0777), 0);
    const auto writable = parse_config_text(
        config_text("chrootjail = " + open, {"registration_file = " + open + "/r"}), kPath);
    EXPECT_TRUE(has_message(writable.errors, 1, "writable by group or others (mode 0777)"))
        << dump(writable);
}

TEST(Config, JailOwnedByNonRootRefused) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to create root- and nobody-owned directories";
    TempDir tmp;
    const passwd* pw = getpwnam("nobody");
    ASSERT_NE(pw, nullptr);
    const std::string jail = tmp.path() + "/jail";
    ASSERT_EQ(mkdir(jail.c_str(), 0755), 0);
    ASSERT_EQ(chmod(jail.c_str(), 0755), 0);
    const auto text =
        config_text("chrootjail = " + jail, {"registration_file = " + jail + "/state/r"});

    const auto good = parse_config_text(text, kPath);  // root-owned 0755: accepted
    EXPECT_TRUE(good.ok()) << dump(good);

    ASSERT_EQ(chown(jail.c_str(), pw->pw_uid, pw->pw_gid), 0);
    const auto r = parse_config_text(text, kPath);
    EXPECT_TRUE(
        has_message(r.errors, 1, "is owned by uid " + std::to_string(pw->pw_uid) + ", not by root"))
        << dump(r);
}

TEST(Config, TheWholeFileSystemIsNoJail) {
    for (const char* root : {"/", "//"}) {
        const auto r = parse_config_text(config_text(std::string("chrootjail = ") + root), kPath);
        EXPECT_TRUE(has_message(r.errors, 1, std::string("chrootjail / is no jail")))
            << root << "\n"
            << dump(r);
    }
}

TEST(Config, TheRegistrationFileLiesInsideTheJail) {
    // Outside the jail, sipd would hold a directory the chroot should hide.
    const auto outside = parse_config_text(config_text("registration_file = /var/tmp/regs"), kPath);
    EXPECT_TRUE(has_message(outside.errors, 1,
                            "test.conf:1: registration_file /var/tmp/regs is outside chrootjail "
                            "/usr; put it in a directory inside the jail"))
        << dump(outside);
    // A prefix that is not a directory of the jail is outside too.
    const auto prefix =
        parse_config_text(config_text("registration_file = /usrx/state/regs"), kPath);
    EXPECT_TRUE(has_message(prefix.errors, 1, "is outside chrootjail")) << dump(prefix);
    // .. could climb out of the jail.
    const auto climb =
        parse_config_text(config_text("registration_file = /usr/../etc/state/regs"), kPath);
    EXPECT_TRUE(has_message(climb.errors, 1, "must be a plain path")) << dump(climb);
    // The jail's own directory is root's and not writable: a directory below.
    const auto top = parse_config_text(config_text("registration_file = /usr/regs"), kPath);
    EXPECT_TRUE(has_message(top.errors, 1, "lies in the jail's top directory")) << dump(top);
    // The default file with another jail: the error points at chrootjail.
    const auto moved = parse_config_text(
        "if_inbound = 127.0.0.1\nif_outbound = 127.0.0.2\nchrootjail = /usr\n", kPath);
    EXPECT_TRUE(has_message(moved.errors, 3,
                            "registration_file /var/lib/sipmasq/state/registrations is outside "
                            "chrootjail /usr"))
        << dump(moved);
    const auto good = parse_config_text(config_text("registration_file = /usr/a/b/regs"), kPath);
    EXPECT_TRUE(good.ok()) << dump(good);
}

TEST(Config, JailRelativePath) {
    Config c;
    c.chrootjail = "/var/lib/sipmasq/";
    EXPECT_EQ(jail_relative_path(c, "/var/lib/sipmasq/state/registrations"),
              "/state/registrations");
    EXPECT_EQ(jail_relative_path(c, "/var/lib/sipmasqX/r"), "");
    EXPECT_EQ(jail_relative_path(c, "/etc/r"), "");
    EXPECT_EQ(jail_relative_path(c, "/var/lib/sipmasq"), "");
    c.chrootjail = "/";
    EXPECT_EQ(jail_relative_path(c, "/etc/r"), "/etc/r");
}

TEST(Interfaces, LoopbackResolves) {
    std::string error;
    const auto addrs = resolve_interface("lo", &error);
    ASSERT_FALSE(addrs.empty()) << error;
    EXPECT_EQ(addrs[0].host_string(), "127.0.0.1");
    EXPECT_EQ(addrs[0].port(), 0);
    bool lo6 = false;  // ::1 exists unless IPv6 is disabled
    std::ifstream inet6("/proc/net/if_inet6");
    for (std::string line; std::getline(inet6, line);) {
        if (line.rfind("00000000000000000000000000000001", 0) == 0) lo6 = true;
    }
    bool found6 = false;
    for (const auto& a : addrs) found6 = found6 || a.host_string() == "::1";
    EXPECT_EQ(found6, lo6);
    EXPECT_TRUE(interface_exists("lo"));
}

TEST(Interfaces, NetworksOfAnAddressComeFromItsInterfacesNetmask) {
    // 127.0.0.1 is on lo with a /8: sipd's inside network for it.
    const auto nets = networks_of({*SockAddr::parse("127.0.0.1")});
    ASSERT_EQ(nets.size(), 1u);
    EXPECT_EQ(nets[0].to_string(), "127.0.0.0/8");
    EXPECT_TRUE(nets[0].contains(*SockAddr::parse("127.1.2.3")));
    // An address on no interface lies in no network of ours.
    EXPECT_TRUE(networks_of({*SockAddr::parse("198.51.100.77")}).empty());
}

TEST(Interfaces, ErrorsAndNumericAddresses) {
    std::string error;
    EXPECT_TRUE(resolve_interface("nosuchif0", &error).empty());
    EXPECT_EQ(error, "no interface named 'nosuchif0'");
    EXPECT_FALSE(interface_exists("nosuchif0"));
    EXPECT_TRUE(resolve_interface("averyveryverylongname0", &error).empty());
    EXPECT_NE(error.find("neither a numeric address nor an interface name"), std::string::npos);
    EXPECT_TRUE(resolve_interface("192.0.2.1:5060", &error).empty());
    EXPECT_NE(error.find("has a port"), std::string::npos);
    EXPECT_TRUE(resolve_interface("0.0.0.0", &error).empty());
    EXPECT_TRUE(resolve_interface("255.255.255.255", &error).empty());
    const auto v6 = resolve_interface("2001:db8::1", &error);
    ASSERT_EQ(v6.size(), 1u);
    EXPECT_EQ(v6[0].host_string(), "2001:db8::1");
}

TEST(Config, LoadFile) {
    TempDir tmp;
    const std::string path = tmp.path() + "/sipmasq.conf";
    std::ofstream(path) << config_text("rtp_timeout = 77");
    const auto r = load_config_file(path);
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.config.rtp_timeout, 77u);
    EXPECT_EQ(r.config.path, path);

    std::ofstream(path, std::ios::app) << "bogus_key = 1\n";
    const auto bad = load_config_file(path);
    ASSERT_EQ(bad.errors.size(), 1u);
    EXPECT_EQ(bad.errors[0].to_string(), path + ":7: unknown key 'bogus_key'");
}

TEST(Config, MissingFileNamesTheFile) {
    const auto r = load_config_file("/nonexistent/sipmasq.conf");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(),
              "/nonexistent/sipmasq.conf: cannot read configuration file: No such file or "
              "directory");
}

TEST(Config, UnreadableFileNamesTheFile) {
    TempDir tmp;
    const auto dir = load_config_file(tmp.path());  // a directory: read fails
    ASSERT_FALSE(dir.ok());
    EXPECT_EQ(dir.errors[0].file, tmp.path());
    EXPECT_EQ(dir.errors[0].to_string().rfind(tmp.path() + ": ", 0), 0u) << dump(dir);
}

TEST(Config, FileWithoutReadPermissionNamesTheFile) {
    TempDir tmp;
    const std::string path = tmp.path() + "/locked.conf";
    std::ofstream(path) << config_text("#");
    ASSERT_EQ(chmod(path.c_str(), 0), 0);
    // Root reads a mode 0000 file anyway: as root, an ordinary user (a
    // forked child) tries it.
    const bool root = geteuid() == 0;
    const pid_t pid = root ? fork() : 0;
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (root && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(9);
        const auto r = load_config_file(path);
        const bool named =
            r.errors.size() == 1 &&
            r.errors[0].to_string().find(path + ": cannot read configuration file: Permission") !=
                std::string::npos;
        if (root) _exit(named ? 0 : 1);
        EXPECT_TRUE(named) << dump(r);
        return;
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

TEST(Config, DebugLevelAcceptsSiproxdMasks) {
    for (const auto& [value, level] :
         std::vector<std::pair<std::string, LogLevel>>{{"0x00000000", LogLevel::Info},
                                                       {"0", LogLevel::Info},
                                                       {"0x00000204", LogLevel::Debug},
                                                       {"-1", LogLevel::Debug},
                                                       {"warning", LogLevel::Warning},
                                                       {"7", LogLevel::Debug},
                                                       {"3", LogLevel::Error}}) {
        const auto r = parse_config_text(config_text("debug_level = " + value), kPath);
        ASSERT_TRUE(r.ok()) << value << dump(r);
        EXPECT_EQ(r.config.log_level, level) << value;
    }
    EXPECT_FALSE(parse_config_text(config_text("debug_level = 0xzz"), kPath).ok());
}

TEST(Config, EffectiveSyslogLevel) {
    Config c;
    EXPECT_EQ(effective_syslog_level(c), LOG_INFO);  // silence_log 1, debug_level info
    c.log_level = LogLevel::Debug;
    EXPECT_EQ(effective_syslog_level(c), LOG_INFO);  // silence_log still caps it
    c.silence_log = 0;
    EXPECT_EQ(effective_syslog_level(c), LOG_DEBUG);
    c.silence_log = 3;
    EXPECT_EQ(effective_syslog_level(c), LOG_ERR);
    c.silence_log = 4;
    EXPECT_EQ(effective_syslog_level(c), -1);
    EXPECT_EQ(syslog_facility_from_string("daemon"), LOG_DAEMON);
    EXPECT_EQ(syslog_facility_from_string("local7"), LOG_LOCAL7);
    EXPECT_EQ(syslog_facility_from_string("kern"), -1);
}

TEST(Config, FormatConfigPrintsEverySupportedKeyAndRoundTrips) {
    const auto r = parse_config_text(
        config_text("if_inbound = lo", {"rtp_timeout = 99", "hosts_allow_reg = 192.0.2.0/24",
                                        "rtp_source_mode = latch", "daemonize = 0"}),
        kPath);
    ASSERT_TRUE(r.ok()) << dump(r);
    const std::string text = format_config(r.config);
    for (const auto& info : config_key_table()) {
        const bool printed = text.find("\n" + std::string(info.name) + " =") != std::string::npos ||
                             text.rfind(std::string(info.name) + " =", 0) == 0;
        EXPECT_EQ(printed, info.supported) << info.name;
    }
    EXPECT_NE(text.find("rtp_timeout = 99\n"), std::string::npos) << text;
    EXPECT_NE(text.find("# if_inbound addresses: 127.0.0.1"), std::string::npos) << text;
    EXPECT_NE(text.find("daemonize = 0\n"), std::string::npos) << text;

    // Feeding the printed lines (without the empty ones) back gives the same configuration.
    std::string again;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line.back() == '=') continue;
        again += line + "\n";
    }
    const auto r2 = parse_config_text(again, kPath);
    ASSERT_TRUE(r2.ok()) << dump(r2) << again;
    EXPECT_TRUE(config_diff(r.config, r2.config).empty());
}

TEST(Config, DiffSaysWhatReloadsAndWhatNeedsARestart) {
    const auto a = parse_config_text(config_text("# a"), kPath);
    const auto b = parse_config_text(
        config_text("rtp_timeout = 120", {"sip_listen_port = 5070", "host_outbound = x.example"}),
        kPath);
    ASSERT_TRUE(a.ok() && b.ok()) << dump(a) << dump(b);
    const auto diff = config_diff(a.config, b.config);
    EXPECT_EQ(diff, (std::vector<std::string>{
                        "host_outbound: \"\" -> x.example (reloaded)",
                        "sip_listen_port: 5060 -> 5070 (needs restart)",
                        "rtp_timeout: 300 -> 120 (reloaded)",
                    }));
    EXPECT_TRUE(config_diff(a.config, a.config).empty());
}

TEST(ConfigKeys, TableIsConsistent) {
    std::set<std::string> names;
    for (const auto& info : config_key_table()) {
        EXPECT_TRUE(names.insert(info.name).second) << "duplicate " << info.name;
        EXPECT_NE(std::string(info.description), "") << info.name;
        EXPECT_EQ(find_config_key(info.name), &info);
    }
    EXPECT_EQ(find_config_key("nonsense"), nullptr);
    EXPECT_TRUE(is_siproxd_plugin_key("plugin_shortdial_akey"));
    EXPECT_FALSE(is_siproxd_plugin_key("plugin_"));
    EXPECT_FALSE(is_siproxd_plugin_key("plugins"));
}

}  // namespace
}  // namespace sipmasq
