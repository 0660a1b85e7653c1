#include "pid_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "c_ptr.h"
#include "fs_util.h"
#include "unique_fd.h"

namespace sipmasq {

bool PidFile::write(const std::string& path, pid_t pid, std::string& error) {
    if (path.empty()) return true;
    const auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0 &&
        !make_directories(path.substr(0, slash), 0755, error))
        return false;

    if (const FilePtr old(std::fopen(path.c_str(), "re")); old != nullptr) {
        long other = 0;
        const bool parsed = std::fscanf(old.get(), "%ld", &other) == 1;
        if (parsed && other > 0 && other != pid && ::kill(static_cast<pid_t>(other), 0) == 0) {
            error = "pid file " + path + " names a running process " + std::to_string(other) +
                    "; is sipmasq already running?";
            return false;
        }
    }

    const std::string tmp = path + ".tmp";
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd) {
        error = "cannot create " + tmp + ": " + std::strerror(errno);
        return false;
    }
    const std::string text = std::to_string(pid) + "\n";
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
        ::fsync(fd.get()) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        error = "cannot write " + path + ": " + std::strerror(errno);
        ::unlink(tmp.c_str());
        return false;
    }
    path_ = path;
    return true;
}

void PidFile::remove() noexcept {
    if (path_.empty()) return;
    ::unlink(path_.c_str());
    path_.clear();
}

}  // namespace sipmasq
