#include "daemonize.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

namespace sipmasq {

bool daemonize() noexcept {
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid > 0) _exit(EXIT_SUCCESS);
    if (::setsid() < 0) return false;
    pid = ::fork();
    if (pid < 0) return false;
    if (pid > 0) _exit(EXIT_SUCCESS);
    if (::chdir("/") != 0) return false;
    const int devnull = ::open("/dev/null", O_RDWR);
    if (devnull < 0) return false;
    for (int fd = 0; fd <= 2; ++fd) ::dup2(devnull, fd);
    if (devnull > 2) ::close(devnull);
    return true;
}

}  // namespace sipmasq
