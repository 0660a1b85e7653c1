#include "fs_util.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace sipmasq {

bool make_directories(const std::string& path, mode_t mode, std::string& error,
                      std::vector<std::string>* created) {
    if (path.empty()) return true;
    std::string partial;
    size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        partial = path.substr(0, pos);
        if (partial.empty()) continue;
        struct stat st {};
        if (::stat(partial.c_str(), &st) == 0) {
            if (!S_ISDIR(st.st_mode)) {
                error = partial + " exists and is not a directory";
                return false;
            }
            continue;
        }
        if (::mkdir(partial.c_str(), mode) != 0) {
            if (errno == EEXIST) continue;  // made by someone else meanwhile: not ours
            error = "cannot create directory " + partial + ": " + std::strerror(errno);
            return false;
        }
        if (created != nullptr) created->push_back(partial);
    }
    return true;
}

std::string parent_directory(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

}  // namespace sipmasq
