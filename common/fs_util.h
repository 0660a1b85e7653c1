// Small file-system helpers the parent and tools share.
#pragma once

#include <sys/types.h>

#include <string>

namespace sipmasq {

// mkdir -p with `mode` for the directories it creates.
[[nodiscard]] bool make_directories(const std::string& path, mode_t mode, std::string& error);

// The directory part of an absolute path ("/a/b/c" -> "/a/b", "/c" -> "/").
[[nodiscard]] std::string parent_directory(const std::string& path);

}  // namespace sipmasq
