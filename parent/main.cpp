// sipmasq: the privileged parent. It reads the configuration, opens what
// the children need, starts and supervises them. See sipmasq(8).
#include <fcntl.h>
#include <getopt.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "address_watch.h"
#include "build_config.h"
#include "config.h"
#include "daemonize.h"
#include "fs_util.h"
#include "log.h"
#include "pid_file.h"
#include "sip_sockets.h"
#include "supervisor.h"

namespace {

using namespace sipmasq;

constexpr const char* kDefaultConfig = SIPMASQ_SYSCONFDIR "/sipmasq.conf";

void usage(FILE* out) {
    (void)std::fprintf(out,
                       "usage: sipmasq [-fht] [-c file] [-d level] [-p pidfile] [--version]\n"
                       "  -c file     configuration file (default %s)\n"
                       "  -f          stay in the foreground and log to stderr\n"
                       "  -t          check the configuration and exit\n"
                       "  -d level    log level: error, warning, notice, info, debug\n"
                       "  -p pidfile  pid file (overrides pid_file)\n"
                       "  -h          this help\n"
                       "  --version   print the version\n",
                       kDefaultConfig);
}

struct Options {
    std::string config_path = kDefaultConfig;
    std::string log_level;
    std::string pid_file;
    bool foreground = false;
    bool check_only = false;
};

Options parse_options(int argc, char** argv) {
    Options opts;
    static const option kLong[] = {{"version", no_argument, nullptr, 'V'},
                                   {"help", no_argument, nullptr, 'h'},
                                   {nullptr, 0, nullptr, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "c:d:fhp:t", kLong, nullptr)) != -1) {
        switch (c) {
            case 'c':
                opts.config_path = optarg;
                break;
            case 'd':
                opts.log_level = optarg;
                break;
            case 'f':
                opts.foreground = true;
                break;
            case 'p':
                opts.pid_file = optarg;
                break;
            case 't':
                opts.check_only = true;
                break;
            case 'h':
                usage(stdout);
                std::exit(EXIT_SUCCESS);
            case 'V':
                std::printf("sipmasq %s\n", SIPMASQ_VERSION);
                std::exit(EXIT_SUCCESS);
            default:
                usage(stderr);
                std::exit(2);
        }
    }
    if (optind != argc) {
        usage(stderr);
        std::exit(2);
    }
    return opts;
}

// The relay needs four sockets per forward; the ceiling is raised while we
// may, and the children inherit it.
void raise_descriptor_ceiling(const Config& config) {
    const rlim_t pairs = (static_cast<rlim_t>(config.rtp_port_high) - config.rtp_port_low + 1) / 2;
    const rlim_t wanted = pairs * 4 + 256;
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    if (lim.rlim_cur >= wanted) return;
    rlimit next{wanted, lim.rlim_max > wanted ? lim.rlim_max : wanted};
    if (setrlimit(RLIMIT_NOFILE, &next) != 0) {
        next.rlim_cur = lim.rlim_max;
        next.rlim_max = lim.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &next);
        log_warning("descriptor ceiling is %llu, below the %llu the RTP port range may need",
                    static_cast<unsigned long long>(lim.rlim_max),
                    static_cast<unsigned long long>(wanted));
    }
}

// The registration file's directory, inside the jail (the configuration
// check makes sure); sipd gets it as a descriptor and writes relative to it.
// Only a directory created here is given to the unprivileged user: one an
// administrator made keeps its owner, whatever it is.
UniqueFd open_state_dir(const Config& config, std::string& error) {
    if (config.registration_file.empty()) return UniqueFd();
    const std::string dir = parent_directory(config.registration_file);
    std::vector<std::string> created;
    if (!make_directories(dir, 0750, error, &created)) return UniqueFd();
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
        error = "cannot open " + dir + ": " + std::strerror(errno);
        return fd;
    }
    // What the descriptor really is (a symbolic link on the way resolved):
    // sipd must hold no directory outside its chroot.
    char jail[PATH_MAX], where[PATH_MAX];
    const std::string link = "/proc/self/fd/" + std::to_string(fd.get());
    const ssize_t n = ::readlink(link.c_str(), where, sizeof where - 1);
    if (::realpath(config.chrootjail.c_str(), jail) == nullptr || n <= 0) {
        error = "cannot resolve " + dir + " or " + config.chrootjail + ": " + std::strerror(errno);
        return UniqueFd();
    }
    where[n] = '\0';
    const std::string jail_prefix = std::string(jail) + "/";
    if (std::string(where).rfind(jail_prefix, 0) != 0) {
        error = "registration_file: " + dir + " is " + where + ", outside chrootjail " + jail;
        return UniqueFd();
    }
    if (!created.empty() && created.back() == dir) {
        if (::fchown(fd.get(), config.uid, config.gid) != 0 || ::fchmod(fd.get(), 0750) != 0) {
            error = "cannot give " + dir + " to " + config.user + ": " + std::strerror(errno);
            return UniqueFd();
        }
        log_info("created %s for %s", dir.c_str(), config.user.c_str());
        return fd;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) == 0 && !(st.st_uid == config.uid && (st.st_mode & S_IWUSR)) &&
        !(st.st_gid == config.gid && (st.st_mode & S_IWGRP))) {
        log_warning(
            "%s exists and is not writable by %s; sipmasq changes the owner only of a "
            "directory it created, so registrations will not be saved until it is "
            "(chown %s %s)",
            dir.c_str(), config.user.c_str(), config.user.c_str(), dir.c_str());
    }
    return fd;
}

// if_inbound / if_outbound given as interface names are watched: the
// addresses SIP uses now are what the kernel says is usable (a tentative
// IPv6 address is not yet, a link-local one never), and the watch follows
// them from then on. A side given as an address is not watched.
std::unique_ptr<AddressWatch> watch_interfaces(Config& config, std::string& error) {
    const auto name_of = [](const std::string& spec) {
        return spec.empty() || SockAddr::parse(spec) ? std::string() : spec;
    };
    auto watch = AddressWatch::open(name_of(config.if_inbound), name_of(config.if_outbound), error);
    if (!watch) return nullptr;
    for (Side side : {Side::Inside, Side::Outside}) {
        if (!watch->watches(side)) continue;
        auto& addrs = side == Side::Inside ? config.inbound_addrs : config.outbound_addrs;
        addrs = watch->usable(side);
        if (addrs.empty())
            log_warning(
                "%s interface %s has no usable address yet (down, waiting for DHCP or PPPoE, "
                "or an IPv6 address still tentative): %s",
                side_name(side), watch->name(side).c_str(),
                side == Side::Outside ? "starting anyway; calls out wait until one comes"
                                      : "phones are served once one comes");
    }
    return watch;
}

std::string absolute_path(const std::string& path) {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) != nullptr) return resolved;
    return path;
}

}  // namespace

int main(int argc, char** argv) {
    log_set_ident("sipmasq");
    Options opts = parse_options(argc, argv);
    if (!opts.log_level.empty()) {
        LogLevel level{};
        if (!log_level_from_string(opts.log_level, level)) {
            (void)std::fprintf(stderr, "sipmasq: unknown log level '%s'\n", opts.log_level.c_str());
            return 2;
        }
        log_set_max_level(level);
    }

    ConfigResult result = load_config_file(opts.config_path);
    for (const auto& warning : result.warnings)
        (void)std::fprintf(stderr, "%s: warning: %s\n", "sipmasq", warning.to_string().c_str());
    for (const auto& error : result.errors)
        (void)std::fprintf(stderr, "%s: %s\n", "sipmasq", error.to_string().c_str());
    if (opts.check_only) {
        if (!result.ok()) {
            (void)std::fprintf(stderr, "configuration has %zu error(s)\n", result.errors.size());
            return EXIT_FAILURE;
        }
        if (log_enabled(LogLevel::Debug))
            (void)std::fputs(format_config(result.config).c_str(), stdout);
        std::printf("configuration OK\n");
        return EXIT_SUCCESS;
    }
    if (!result.ok()) return EXIT_FAILURE;
    Config config = std::move(result.config);
    if (!opts.pid_file.empty()) config.pid_file = opts.pid_file;

    if (::geteuid() != 0) {
        (void)std::fprintf(stderr,
                           "sipmasq: must be started as root (it drops to '%s' in its children)\n",
                           config.user.c_str());
        return EXIT_FAILURE;
    }

    const bool foreground = opts.foreground || !config.daemonize;
    // -d wins over debug_level; the children get the same level either way.
    if (opts.log_level.empty()) {
        // In syslog, siproxd's silence_log may quieten debug_level further;
        // errors are always logged.
        const int level = foreground ? static_cast<int>(config.log_level)
                                     : std::max(effective_syslog_level(config),
                                                static_cast<int>(LogLevel::Error));
        log_set_max_level(static_cast<LogLevel>(level));
        opts.log_level = log_level_name(static_cast<LogLevel>(level));
    }
    if (!foreground) {
        openlog("sipmasq", LOG_PID | LOG_NDELAY, config.syslog_facility_value);
        log_set_sink(log_sink_syslog);
    } else if (std::getenv("JOURNAL_STREAM") != nullptr) {
        log_set_sink(log_sink_journal);
    }

    std::string error;
    std::unique_ptr<AddressWatch> watch = watch_interfaces(config, error);
    if (!watch) {
        log_error("%s", error.c_str());
        return EXIT_FAILURE;
    }
    std::vector<SipSocket> sip_sockets;
    if (!open_sip_sockets(config, sip_sockets, error)) {
        log_error("%s", error.c_str());
        return EXIT_FAILURE;
    }
    UniqueFd state_dir = open_state_dir(config, error);
    if (!state_dir && !config.registration_file.empty()) {
        log_error("%s", error.c_str());
        return EXIT_FAILURE;
    }
    raise_descriptor_ceiling(config);

    if (!foreground && !daemonize()) {
        log_error("cannot become a daemon: %s", std::strerror(errno));
        return EXIT_FAILURE;
    }
    PidFile pid_file;
    if (!pid_file.write(config.pid_file, ::getpid(), error)) {
        log_error("%s", error.c_str());
        return EXIT_FAILURE;
    }

    log_notice("sipmasq %s starting (config %s)", SIPMASQ_VERSION, opts.config_path.c_str());
    SupervisorOptions sup_opts;
    sup_opts.config_path = absolute_path(opts.config_path);
    sup_opts.log_level = opts.log_level;
    Supervisor supervisor(std::move(config), std::move(sup_opts), std::move(sip_sockets),
                          std::move(state_dir));
    supervisor.watch_addresses(std::move(watch));
    const int rc = supervisor.run();
    log_notice("sipmasq stopped%s", rc == 0 ? "" : " after a failure");
    return rc;
}
