// sipmasqctl: asks a running sipmasq what it is doing. See sipmasqctl(8).
#include <getopt.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "build_config.h"
#include "ctl_protocol.h"
#include "terminal_escape.h"
#include "unique_fd.h"

namespace {

constexpr const char* kDefaultSocket = "/run/sipmasq/control";
constexpr int kTimeoutMs = 10000;

void usage(FILE* out) {
    (void)std::fprintf(out,
                       "usage: sipmasqctl [-j] [-s socket] command\n"
                       "commands: status, registrations, calls, streams, stats, reload\n"
                       "  -j         answer in JSON\n"
                       "  -s socket  control socket (default %s)\n",
                       kDefaultSocket);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace sipmasq;
    std::string socket_path = kDefaultSocket;
    bool json = false;
    static const option kLong[] = {{"version", no_argument, nullptr, 'V'},
                                   {"help", no_argument, nullptr, 'h'},
                                   {nullptr, 0, nullptr, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "hjs:", kLong, nullptr)) != -1) {
        switch (c) {
            case 'j':
                json = true;
                break;
            case 's':
                socket_path = optarg;
                break;
            case 'h':
                usage(stdout);
                return EXIT_SUCCESS;
            case 'V':
                std::printf("sipmasqctl %s\n", SIPMASQ_VERSION);
                return EXIT_SUCCESS;
            default:
                usage(stderr);
                return 2;
        }
    }
    if (optind + 1 != argc || !ctl_command_from_name(argv[optind])) {
        usage(stderr);
        return 2;
    }
    const std::string request = std::string(argv[optind]) + (json ? " json" : "") + "\n";

    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof sun.sun_path) {
        (void)std::fprintf(stderr, "sipmasqctl: socket path too long\n");
        return 2;
    }
    std::memcpy(sun.sun_path, socket_path.c_str(), socket_path.size() + 1);
    sipmasq::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
        (void)std::fprintf(stderr, "sipmasqctl: cannot connect to %s: %s%s\n", socket_path.c_str(),
                           std::strerror(errno),
                           errno == EACCES ? " (only root may control sipmasq)"
                           : errno == ENOENT || errno == ECONNREFUSED ? " (is sipmasq running?)"
                                                                      : "");
        return EXIT_FAILURE;
    }
    if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
        (void)std::fprintf(stderr, "sipmasqctl: cannot send the request: %s\n",
                           std::strerror(errno));
        return EXIT_FAILURE;
    }
    std::string reply;
    char buf[8192];
    for (;;) {
        pollfd pfd{fd.get(), POLLIN, 0};
        const int ready = ::poll(&pfd, 1, kTimeoutMs);
        if (ready == 0) {
            (void)std::fprintf(stderr, "sipmasqctl: no answer within %d s\n", kTimeoutMs / 1000);
            return EXIT_FAILURE;
        }
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            (void)std::fprintf(stderr, "sipmasqctl: read failed: %s\n", std::strerror(errno));
            return EXIT_FAILURE;
        }
        if (n == 0) break;
        reply.append(buf, static_cast<size_t>(n));
    }
    if (reply.rfind("OK\n", 0) == 0) {
        // The tables carry what phones and strangers sent (AORs, contacts,
        // From, To, Call-IDs); JSON is escaped by its producer and is for
        // programs, so it is passed on as it is.
        const std::string_view body = std::string_view(reply).substr(3);
        const std::string shown = json ? std::string(body) : escape_for_terminal(body);
        (void)std::fwrite(shown.data(), 1, shown.size(), stdout);
        return EXIT_SUCCESS;
    }
    if (reply.rfind("ERR ", 0) == 0) {
        (void)std::fprintf(stderr, "sipmasqctl: %s",
                           escape_for_terminal(std::string_view(reply).substr(4)).c_str());
        return EXIT_FAILURE;
    }
    (void)std::fprintf(stderr, "sipmasqctl: unexpected answer from sipmasq\n");
    return EXIT_FAILURE;
}
