// The seccomp allow-lists: one table of rules per process, a shared base
// (seccomp_base.h) followed by the process's own rules (sipd/ and rtpd/ own
// theirs), loaded here with libseccomp for the native architecture only.
// Anything not in the table kills the process (enforce), or names itself and
// exits (trap), or is only audit-logged (log); `off` loads nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace sipmasq {

enum class SandboxMode { Enforce, Trap, Log, Off };

// The mode chosen at build time (meson -Dsandbox=enforce|trap|log|off).
[[nodiscard]] SandboxMode build_sandbox_mode() noexcept;
[[nodiscard]] const char* sandbox_mode_name(SandboxMode mode) noexcept;

// One test of a system call argument: (low 32 bits of arg & mask) == value.
// Every argument we filter is an int or a flag word; comparing the low 32
// bits also makes a sign-extended int (AT_FDCWD) compare as it should.
struct ArgCheck {
    unsigned arg = 0;  // 0..5
    uint32_t mask = 0;
    uint32_t value = 0;
    // The value is the process's own pid, taken when the filter is loaded
    // (a constexpr table cannot know it).
    bool self_pid = false;
};

inline constexpr std::size_t kMaxArgChecks = 3;

// A table entry. Several entries for one name are alternatives (OR); the
// checks of one entry must all hold (AND). A call no entry matches gets the
// mode's default action.
struct SyscallRule {
    const char* name = nullptr;  // as libseccomp spells it; unknown here: skipped
    const char* why = nullptr;   // why this process needs the call
    std::array<ArgCheck, kMaxArgChecks> checks{};
    std::size_t check_count = 0;
    // 0: allow. Otherwise the call fails with this errno instead, for calls
    // that libc tries on its own and copes without (never kills).
    int fail_errno = 0;
};

[[nodiscard]] constexpr ArgCheck arg_eq(unsigned arg, long long value) noexcept {
    return ArgCheck{arg, 0xffffffffU, static_cast<uint32_t>(value)};
}
// (arg & mask) == value: e.g. a socket type whatever SOCK_NONBLOCK says.
[[nodiscard]] constexpr ArgCheck arg_masked_eq(unsigned arg, long long mask,
                                               long long value) noexcept {
    return ArgCheck{arg, static_cast<uint32_t>(mask), static_cast<uint32_t>(value & mask)};
}
// No bit of `bits` set (e.g. no PROT_EXEC).
[[nodiscard]] constexpr ArgCheck arg_without(unsigned arg, long long bits) noexcept {
    return ArgCheck{arg, static_cast<uint32_t>(bits), 0};
}

// No bit outside `allowed` set: a positive mask (e.g. only PROT_READ |
// PROT_WRITE), so a flag added to the kernel later is refused too.
[[nodiscard]] constexpr ArgCheck arg_only(unsigned arg, long long allowed) noexcept {
    return ArgCheck{arg, ~static_cast<uint32_t>(allowed), 0};
}
// The argument is this process's pid (as loaded): e.g. tgkill on itself only.
[[nodiscard]] constexpr ArgCheck arg_self_pid(unsigned arg) noexcept {
    return ArgCheck{arg, 0xffffffffU, 0, true};
}

[[nodiscard]] constexpr SyscallRule allow(const char* name, const char* why) noexcept {
    return SyscallRule{name, why, {}, 0, 0};
}
template <typename... Checks>
[[nodiscard]] constexpr SyscallRule allow_if(const char* name, const char* why,
                                             Checks... checks) noexcept {
    static_assert(sizeof...(Checks) >= 1 && sizeof...(Checks) <= kMaxArgChecks);
    return SyscallRule{name, why, {checks...}, sizeof...(Checks), 0};
}
template <typename... Checks>
[[nodiscard]] constexpr SyscallRule fail_if(int err, const char* name, const char* why,
                                            Checks... checks) noexcept {
    static_assert(sizeof...(Checks) <= kMaxArgChecks);
    return SyscallRule{name, why, {checks...}, sizeof...(Checks), err};
}

// A process's table: `base` (common/seccomp_base.h) followed by `own`, the
// rules of that process alone, joined when it is compiled.
template <std::size_t BaseCount, std::size_t OwnCount>
[[nodiscard]] constexpr std::array<SyscallRule, BaseCount + OwnCount> join_rules(
    const SyscallRule (&base)[BaseCount], const SyscallRule (&own)[OwnCount]) noexcept {
    std::array<SyscallRule, BaseCount + OwnCount> rules{};
    for (std::size_t i = 0; i < BaseCount; ++i) rules[i] = base[i];
    for (std::size_t i = 0; i < OwnCount; ++i) rules[BaseCount + i] = own[i];
    return rules;
}

// Exit status after a libseccomp failure (the filter could not be built or
// loaded): fatal, like any failed sandbox step.
inline constexpr int kSeccompFailedExit = 72;
// Exit status after a trapped call in trap mode (128 + SIGSYS, as a shell
// shows a SIGSYS death).
inline constexpr int kSeccompTrapExit = 159;

// Called from the SIGSYS handler in trap mode with the line it also writes
// to stderr ("seccomp: denied system call NAME (NR)", no newline), so the
// child runtime can forward it to the parent. Must be async-signal-safe and
// must itself only use allowed calls.
using SeccompTrapReporter = void (*)(const char* line, std::size_t len) noexcept;
void set_seccomp_trap_reporter(SeccompTrapReporter reporter) noexcept;

// Loads `rules` as the process's filter (irreversible; also sets
// no_new_privs). A name unknown on this architecture is skipped (debug log);
// any other failure logs and _exit(kSeccompFailedExit). Off: logs a warning
// and loads nothing.
void load_seccomp(std::span<const SyscallRule> rules, SandboxMode mode) noexcept;

}  // namespace sipmasq
