// A siproxd.conf in the shape of siproxd's documented example file, read
// by sipmasq unchanged: it parses, what sipmasq implements is applied, and
// exactly the keys sipmasq does not implement draw a warning (with their
// line). Only what must name this machine differs from siproxd's example:
// the interfaces (loopback here) and the jail with its registration file
// (sipmasq wants a root-owned jail and the file in a directory below it).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "config.h"

namespace sipmasq {
namespace {

const char* const kSiproxdConf =
    R"(######################################################################
# siproxd.conf - siproxd configuration file
######################################################################
#
# The interface names of INBOUND and OUTBOUND interface.
#
if_inbound  = 127.0.0.1
if_outbound = 127.0.0.2

# Uncomment and set this only if you are running siproxd "behind" your
# NAT firewall (your firewall is doing port forwarding).
host_outbound = 203.0.113.1

# Access control: who may register, who may send SIP.
hosts_allow_reg = 192.168.1.0/24
hosts_allow_sip = 192.168.1.0/24,123.45.0.0/16
hosts_deny_sip  = 10.0.0.0/8,11.0.0.0/8

# Port to listen for incoming SIP messages.
sip_listen_port = 5060

# Shall we daemonize?
daemonize = 1

# Silence syslog: 0 everything, 1 INFO and up, 2 WARN and up, 3 ERROR only
silence_log = 3

# Secure enviroment settings: run as user, chroot into.
user = nobody
chrootjail = /usr

# The registration file and its periodic saving.
registration_file = /usr/share/siproxd/siproxd_registrations
autosave_registrations = 300

# PID file
pid_file = /var/run/siproxd/siproxd.pid

# The RTP proxy.
rtp_proxy_enable = 1
rtp_port_low  = 7070
rtp_port_high = 7089
rtp_timeout = 300
rtp_dscp = 46
sip_dscp = 0
rtp_input_dejitter  = 0
rtp_output_dejitter = 0

# SIP over TCP.
tcp_timeout = 600
tcp_connect_timeout = 500
tcp_keepalive = 20

# Default expiration timeout of registrations.
default_expires = 600

# Proxy authentication.
proxy_auth_realm = Authentication_Realm
proxy_auth_pwfile = /etc/siproxd_passwd.cfg

# Debugging: a bit mask of debug classes, and a TCP port for debug output.
debug_level = 0x00000000
debug_port = 0

# Mask a host in registrations.
mask_host = 10.0.1.99
masked_host = public.domain.org

# Outbound proxy for everything, and per-domain outbound proxies.
outbound_proxy_host = my.outboundproxy.org
outbound_proxy_port = 5060
outbound_domain_name = freenet.de
outbound_domain_host = sip.freenet.de
outbound_domain_port = 5060
outbound_domain_name = sipgate.de
outbound_domain_host = sipgate.de
outbound_domain_port = 5060

# Replace the User-Agent, rport handling, loop detection.
ua_string = Siproxd-UA
use_rport = 0
obscure_loops = 0

# Plugins.
plugindir = /usr/lib/siproxd/
load_plugin = plugin_demo.la
load_plugin = plugin_defaulttarget.la
load_plugin = plugin_fix_bogus_via.la
plugin_demo_string = This is a string passed to the demo plugin
plugin_shortdial_akey = *00
plugin_shortdial_entry = 0041xxxxxxxxx
plugin_logcall_log = 1
plugin_defaulttarget_log = 1
plugin_defaulttarget_target = sip:internal@192.168.1.20:5060
plugin_fix_bogus_via_networks = 10.0.0.0/8,172.16.0.0/12,192.168.0.0/16
plugin_stun_server = stun.example.net
plugin_stun_port = 3478
plugin_stun_period = 300
)";

TEST(SiproxdConf, ReadAsItIsAndOnlyWhatIsMissingWarns) {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("siproxd_conf_test." + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "siproxd.conf").string();
    std::ofstream(path) << kSiproxdConf;
    const ConfigResult r = load_config_file(path);
    std::filesystem::remove_all(dir);

    std::string errors;
    for (const auto& e : r.errors) errors += e.to_string() + "\n";
    ASSERT_TRUE(r.ok()) << errors;

    // The keys sipmasq does not implement, and nothing else.
    std::multiset<std::string> warned;
    for (const auto& w : r.warnings) {
        const auto open = w.message.find('\'');
        ASSERT_NE(open, std::string::npos) << w.to_string();
        ASSERT_NE(w.message.find("sipmasq does not support yet; ignored"), std::string::npos)
            << w.to_string();
        ASSERT_GT(w.line, 0);
        warned.insert(w.message.substr(open + 1, w.message.find('\'', open + 1) - open - 1));
    }
    const std::multiset<std::string> expected = {
        "rtp_proxy_enable",
        "rtp_input_dejitter",
        "rtp_output_dejitter",
        "debug_port",
        "mask_host",
        "masked_host",
        "obscure_loops",
        "plugindir",
        "load_plugin",
        "load_plugin",
        "load_plugin",
        "plugin_demo_string",
        "plugin_shortdial_akey",
        "plugin_shortdial_entry",
        "plugin_logcall_log",
        "plugin_defaulttarget_log",
        "plugin_fix_bogus_via_networks",
        "plugin_stun_server",
        "plugin_stun_port",
        "plugin_stun_period",
    };
    EXPECT_EQ(warned, expected);

    // What sipmasq implements took effect.
    const Config& c = r.config;
    EXPECT_EQ(c.host_outbound, "203.0.113.1");
    EXPECT_EQ(c.hosts_allow_reg.to_string(), "192.168.1.0/24");
    EXPECT_EQ(c.hosts_deny_sip.to_string(), "10.0.0.0/8,11.0.0.0/8");
    EXPECT_EQ(c.silence_log, 3);
    EXPECT_EQ(c.autosave_registrations, 300u);
    EXPECT_EQ(c.rtp_port_low, 7070);
    EXPECT_EQ(c.rtp_port_high, 7089);
    EXPECT_EQ(c.rtp_dscp, 46);
    EXPECT_EQ(c.sip_dscp, 0);
    EXPECT_EQ(c.default_expires, 600u);
    EXPECT_EQ(c.proxy_auth_realm, "Authentication_Realm");
    EXPECT_EQ(c.proxy_auth_pwfile, "/etc/siproxd_passwd.cfg");
    EXPECT_EQ(c.log_level, LogLevel::Info);  // mask 0: no debug classes
    EXPECT_EQ(c.outbound_proxy_host, "my.outboundproxy.org");
    ASSERT_EQ(c.outbound_domains.size(), 2u);
    EXPECT_EQ(c.outbound_domains[0].names, std::vector<std::string>{"freenet.de"});
    EXPECT_EQ(c.outbound_domains[0].host, "sip.freenet.de");
    EXPECT_EQ(c.outbound_domains[1].names, std::vector<std::string>{"sipgate.de"});
    EXPECT_EQ(c.outbound_domains[1].host, "sipgate.de");
    EXPECT_EQ(c.ua_string, "Siproxd-UA");
    EXPECT_EQ(c.use_rport, 0);
    // siproxd's default target plugin key is read as default_target.
    EXPECT_EQ(c.default_target, "sip:internal@192.168.1.20:5060");
}

// siproxd's other way to authenticate: one password for every user.
TEST(SiproxdConf, SharedPasswordInsteadOfAFile) {
    const ConfigResult r = parse_config_text(
        "if_inbound = 127.0.0.1\nif_outbound = 127.0.0.2\nchrootjail = /usr\n"
        "registration_file = /usr/share/siproxd/regs\n"
        "proxy_auth_realm = Authentication_Realm\nproxy_auth_passwd = secret\n",
        "siproxd.conf");
    std::string errors;
    for (const auto& e : r.errors) errors += e.to_string() + "\n";
    ASSERT_TRUE(r.ok()) << errors;
    EXPECT_TRUE(r.warnings.empty());
    EXPECT_EQ(r.config.proxy_auth_passwd, "secret");
    EXPECT_TRUE(r.config.proxy_auth_pwfile.empty());
}

}  // namespace
}  // namespace sipmasq
