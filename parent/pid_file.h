// The pid file: written once the daemon is ready to supervise, removed on
// an orderly stop. A live process named in an existing file is refused.
#pragma once

#include <sys/types.h>

#include <string>

namespace sipmasq {

class PidFile {
  public:
    PidFile() = default;
    ~PidFile() { remove(); }
    PidFile(const PidFile&) = delete;
    PidFile& operator=(const PidFile&) = delete;

    // Creates the directory if needed (0755), refuses when another live
    // process holds the file, and writes our pid atomically.
    [[nodiscard]] bool write(const std::string& path, pid_t pid, std::string& error);
    void remove() noexcept;

  private:
    std::string path_;
};

}  // namespace sipmasq
