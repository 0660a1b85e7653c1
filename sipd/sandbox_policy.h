// The seccomp allow-list of sipmasq-sipd: the children's base table
// (common/seccomp_base.h) followed by its own commented rules (in
// sandbox_policy.cpp), loaded with load_seccomp() once privileges are gone.
#pragma once

#include <span>

#include "seccomp_filter.h"

namespace sipmasq {

[[nodiscard]] std::span<const SyscallRule> sipd_syscall_rules() noexcept;

}  // namespace sipmasq
