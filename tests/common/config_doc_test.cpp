// sipmasq.conf(5) and the example files agree with the parser: the man page
// is clean under `mandoc -Tlint`, documents exactly the keys of
// config_key_table() with the right reload policy, and etc/*.conf parse.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "build_config.h"
#include "config.h"

namespace sipmasq {
namespace {

std::string source_root() {
    const char* root = std::getenv("SIPMASQ_SOURCE_ROOT");
    return root != nullptr ? root : SIPMASQ_SOURCE_ROOT;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

struct PipeCloser {
    void operator()(FILE* f) const noexcept { pclose(f); }
};

// Runs a shell command, returns its stdout+stderr; `ok` false if it could not start.
std::string run(const std::string& command, bool& ok) {
    std::unique_ptr<FILE, PipeCloser> pipe(popen((command + " 2>&1").c_str(), "r"));
    ok = pipe != nullptr;
    std::string out;
    if (!pipe) return out;
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, pipe.get())) > 0) out.append(buf, n);
    return out;
}

// The text of each ".It Cm key" item, up to the next .It or .El.
std::map<std::string, std::string> documented_keys(const std::string& man) {
    std::map<std::string, std::string> keys;
    std::istringstream lines(man);
    std::string current;
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(".It ", 0) == 0 || line.rfind(".El", 0) == 0) current.clear();
        if (line.rfind(".It Cm ", 0) == 0) {
            std::istringstream words(line.substr(7));
            words >> current;
            EXPECT_EQ(keys.count(current), 0u) << "documented twice: " << current;
            keys[current];
            continue;
        }
        if (!current.empty()) keys[current] += line + "\n";
    }
    return keys;
}

TEST(ConfigDoc, ManPageDocumentsExactlyTheKeyTable) {
    const std::string man = read_file(source_root() + "/man/sipmasq.conf.5");
    ASSERT_FALSE(man.empty()) << "man/sipmasq.conf.5 not found under " << source_root();
    const auto documented = documented_keys(man);

    std::set<std::string> table;
    for (const auto& info : config_key_table()) table.insert(info.name);
    std::set<std::string> in_man;
    for (const auto& [key, text] : documented) in_man.insert(key);
    EXPECT_EQ(in_man, table);

    for (const auto& info : config_key_table()) {
        const auto it = documented.find(info.name);
        if (it == documented.end() || !info.supported) continue;
        const std::string& text = it->second;
        EXPECT_NE(text.find("Default"), std::string::npos) << info.name << " has no default";
        const char* policy = info.reload == ReloadPolicy::Reloadable ? "SIGHUP: reloads."
                                                                     : "SIGHUP: needs a restart.";
        EXPECT_NE(text.find(policy), std::string::npos) << info.name << " should say " << policy;
    }
}

TEST(ConfigDoc, ManPageIsLintClean) {
    bool started = false;
    const std::string version = run("mandoc -V", started);
    if (!started || version.find("mandoc") == std::string::npos) {
        GTEST_SKIP() << "mandoc is not installed (Debian package mandoc)";
    }
    bool ok = false;
    const std::string out = run("mandoc -Tlint '" + source_root() + "/man/sipmasq.conf.5'", ok);
    ASSERT_TRUE(ok);
    // mandoc looks up .Xr targets in the installed manuals only: sipmasq's own
    // pages are not there before `meson install`, and a missing mandoc.db is
    // the machine's state, not the page's. Anything else is a finding.
    const std::set<std::string> own = {"sipmasq 8", "sipmasq.conf 5", "sipmasqctl 8",
                                       "sipmasq-sipd 8", "sipmasq-rtpd 8"};
    std::string findings;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        if (line.find("outdated mandoc.db") != std::string::npos) continue;
        const auto pos = line.find("referenced manual not found: Xr ");
        if (pos != std::string::npos) {
            std::string ref = line.substr(pos + 32);
            ref = ref.substr(0, ref.find(" (")).substr(0, ref.find('\n'));
            if (own.count(ref) != 0) continue;
        }
        findings += line + "\n";
    }
    EXPECT_EQ(findings, "");
}

// Errors that depend on this machine (interfaces, the jail directory) rather
// than on the file.
bool environmental(const ConfigError& e) {
    return e.message.find("no interface named") != std::string::npos ||
           e.message.rfind("chrootjail ", 0) == 0;
}

TEST(ConfigDoc, ExampleConfigurationParses) {
    const std::string path = source_root() + "/etc/sipmasq.conf";
    const auto r = load_config_file(path);
    std::string unexpected;
    for (const auto& e : r.errors) {
        if (!environmental(e)) unexpected += e.to_string() + "\n";
    }
    for (const auto& w : r.warnings) unexpected += w.to_string() + "\n";
    EXPECT_EQ(unexpected, "");
    EXPECT_EQ(r.config.hosts_allow_reg.to_string(), "192.0.2.0/24");
    EXPECT_EQ(r.config.rtp_port_low, 30000);
    EXPECT_EQ(r.config.rtp_port_high, 30999);

    // Every setting is explained by a comment right above it.
    std::istringstream lines(read_file(path));
    std::string previous;
    int line_no = 0;
    for (std::string line; std::getline(lines, line);) {
        ++line_no;
        if (!line.empty() && line[0] != '#') {
            EXPECT_FALSE(previous.empty()) << path << ":" << line_no << " has no comment above";
            if (!previous.empty()) {
                EXPECT_EQ(previous[0], '#') << path << ":" << line_no;
            }
        }
        if (line.empty() || line[0] == '#') previous = line;
    }
}

TEST(ConfigDoc, LocalConfigurationWorksHere) {
    const auto r = load_config_file(source_root() + "/etc/sipmasq-local.conf");
    EXPECT_TRUE(r.warnings.empty());
    ASSERT_EQ(r.config.inbound_addrs.size(), 1u);
    EXPECT_EQ(r.config.inbound_addrs[0].host_string(), "127.0.0.1");
    EXPECT_EQ(r.config.outbound_addrs[0].host_string(), "127.0.0.2");
    EXPECT_FALSE(r.config.daemonize);
    struct stat st {};
    const bool jail_ready = stat("/var/lib/sipmasq", &st) == 0 && S_ISDIR(st.st_mode) &&
                            st.st_uid == 0 && (st.st_mode & 022) == 0;
    std::string unexpected;
    for (const auto& e : r.errors) {
        if (jail_ready || e.message.rfind("chrootjail ", 0) != 0)
            unexpected += e.to_string() + "\n";
    }
    EXPECT_EQ(unexpected, "");
    if (!jail_ready) {
        GTEST_SKIP() << "/var/lib/sipmasq is not a root-owned 0755 directory here; checked "
                        "everything but the jail";
    }
}

}  // namespace
}  // namespace sipmasq
