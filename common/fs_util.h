// Small file-system helpers the parent and tools share.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sipmasq {

// mkdir -p with `mode` for the directories it creates; `created` (if given)
// gets each directory this call made, outermost first, so a caller changes
// the ownership of those alone and never of one an administrator made.
[[nodiscard]] bool make_directories(const std::string& path, mode_t mode, std::string& error,
                                    std::vector<std::string>* created = nullptr);

// The directory part of an absolute path ("/a/b/c" -> "/a/b", "/c" -> "/").
[[nodiscard]] std::string parent_directory(const std::string& path);

}  // namespace sipmasq
