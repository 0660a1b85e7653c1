// Owners for what a C library hands over to the caller: memory it
// malloc()ed for us to free() (evbuffer_readln,
// seccomp_syscall_resolve_num_arch) and stdio streams.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace sipmasq {

struct FreeDeleter {
    // The one place that frees memory a C library allocated for us.
    void operator()(void* p) const noexcept {
        std::free(p);  // NOLINT(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)
    }
};
template <typename T>
using CMallocPtr = std::unique_ptr<T, FreeDeleter>;

struct FileCloser {
    // Streams we only read: a failed close loses nothing.
    void operator()(std::FILE* f) const noexcept {
        (void)std::fclose(f);  // NOLINT(cppcoreguidelines-owning-memory)
    }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

}  // namespace sipmasq
