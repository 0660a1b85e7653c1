#include "seccomp_filter.h"

#include <seccomp.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "build_config.h"
#include "c_ptr.h"
#include "log.h"

namespace sipmasq {
namespace {

struct FilterDeleter {
    void operator()(void* ctx) const noexcept { seccomp_release(ctx); }
};
using FilterPtr = std::unique_ptr<void, FilterDeleter>;

// Names of the native system calls, resolved before the filter is loaded so
// that the SIGSYS handler only reads memory (no malloc, no libseccomp).
constexpr int kNamedSyscalls = 1024;
constexpr std::size_t kNameSize = 32;
char g_syscall_names[kNamedSyscalls][kNameSize];

std::atomic<SeccompTrapReporter> g_trap_reporter{nullptr};
static_assert(std::atomic<SeccompTrapReporter>::is_always_lock_free);

[[noreturn]] void fail(const char* step, int rc) noexcept {
    log_error("seccomp: %s failed: %s", step, std::strerror(rc < 0 ? -rc : rc));
    _exit(kSeccompFailedExit);
}

void resolve_syscall_names() noexcept {
    const uint32_t arch = seccomp_arch_native();
    for (int nr = 0; nr < kNamedSyscalls; ++nr) {
        const CMallocPtr<char> name(seccomp_syscall_resolve_num_arch(arch, nr));
        if (name == nullptr) continue;
        std::strncpy(g_syscall_names[nr], name.get(), kNameSize - 1);
    }
}

// Async-signal-safe appenders for the trap line.
void append(char* buf, std::size_t size, std::size_t& len, const char* text) noexcept {
    while (*text != '\0' && len + 1 < size) buf[len++] = *text++;
}

void append_number(char* buf, std::size_t size, std::size_t& len, long value) noexcept {
    char digits[24];
    std::size_t n = 0;
    const bool negative = value < 0;
    unsigned long magnitude =
        negative ? 0UL - static_cast<unsigned long>(value) : static_cast<unsigned long>(value);
    do {
        digits[n++] = static_cast<char>('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0 && n < sizeof digits);
    if (negative && len + 1 < size) buf[len++] = '-';
    while (n > 0 && len + 1 < size) buf[len++] = digits[--n];
}

void on_sigsys(int /*sig*/, siginfo_t* info, void* /*context*/) noexcept {
    const int nr = info->si_syscall;
    char line[128];
    std::size_t len = 0;
    append(line, sizeof line, len, "seccomp: denied system call ");
    const bool named = nr >= 0 && nr < kNamedSyscalls && g_syscall_names[nr][0] != '\0';
    append(line, sizeof line, len, named ? g_syscall_names[nr] : "unknown");
    append(line, sizeof line, len, " (");
    append_number(line, sizeof line, len, nr);
    append(line, sizeof line, len, ")");
    const std::size_t text_len = len;
    line[len++] = '\n';
    [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, line, len);
    if (const SeccompTrapReporter reporter = g_trap_reporter.load()) reporter(line, text_len);
    _exit(kSeccompTrapExit);
}

void install_trap_handler() noexcept {
    resolve_syscall_names();
    struct sigaction action {};
    action.sa_sigaction = on_sigsys;
    action.sa_flags = SA_SIGINFO;
    sigfillset(&action.sa_mask);
    if (::sigaction(SIGSYS, &action, nullptr) != 0) fail("sigaction(SIGSYS)", errno);
    sigset_t sys;
    sigemptyset(&sys);
    sigaddset(&sys, SIGSYS);
    if (::sigprocmask(SIG_UNBLOCK, &sys, nullptr) != 0) fail("sigprocmask", errno);
}

uint32_t default_action(SandboxMode mode) noexcept {
    switch (mode) {
        case SandboxMode::Enforce:
            return SCMP_ACT_KILL_PROCESS;
        case SandboxMode::Trap:
            return SCMP_ACT_TRAP;
        case SandboxMode::Log:
            return SCMP_ACT_LOG;
        case SandboxMode::Off:
            break;
    }
    return SCMP_ACT_KILL_PROCESS;
}

void add_rule(void* ctx, const SyscallRule& rule) noexcept {
    const int nr = seccomp_syscall_resolve_name(rule.name);
    // Unknown, or a pseudo number for a call this architecture lacks.
    if (nr == __NR_SCMP_ERROR || nr < 0) {
        log_debug("seccomp: skipping %s: no such system call on this architecture", rule.name);
        return;
    }
    if (rule.check_count > kMaxArgChecks) fail(rule.name, -EINVAL);
    scmp_arg_cmp cmps[kMaxArgChecks] = {};
    for (std::size_t i = 0; i < rule.check_count; ++i) {
        const ArgCheck& check = rule.checks[i];
        const uint32_t value = check.self_pid ? static_cast<uint32_t>(::getpid()) : check.value;
        cmps[i] = scmp_arg_cmp{check.arg, SCMP_CMP_MASKED_EQ, check.mask, value};
    }
    const uint32_t action = rule.fail_errno != 0
                                ? SCMP_ACT_ERRNO(static_cast<uint32_t>(rule.fail_errno))
                                : SCMP_ACT_ALLOW;
    const int rc =
        seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(rule.check_count), cmps);
    if (rc < 0) {
        log_error("seccomp: cannot add the rule for %s: %s", rule.name, std::strerror(-rc));
        _exit(kSeccompFailedExit);
    }
}

}  // namespace

SandboxMode build_sandbox_mode() noexcept {
    switch (SIPMASQ_SANDBOX_MODE) {
        case 1:
            return SandboxMode::Trap;
        case 2:
            return SandboxMode::Log;
        case 3:
            return SandboxMode::Off;
        default:
            return SandboxMode::Enforce;
    }
}

const char* sandbox_mode_name(SandboxMode mode) noexcept {
    switch (mode) {
        case SandboxMode::Enforce:
            return "enforce";
        case SandboxMode::Trap:
            return "trap";
        case SandboxMode::Log:
            return "log";
        case SandboxMode::Off:
            return "off";
    }
    return "?";
}

void set_seccomp_trap_reporter(SeccompTrapReporter reporter) noexcept {
    g_trap_reporter.store(reporter);
}

void load_seccomp(std::span<const SyscallRule> rules, SandboxMode mode) noexcept {
    if (mode == SandboxMode::Off) {
        log_warning("seccomp: sandbox mode is off: no system call filter loaded");
        return;
    }
    if (mode == SandboxMode::Trap) install_trap_handler();

    FilterPtr ctx(seccomp_init(default_action(mode)));
    if (!ctx) fail("seccomp_init", -ENOMEM);
    // A call made through another ABI (32-bit int 0x80, x32) is not what the
    // table describes: kill the whole process, not just the thread.
    int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc < 0) fail("seccomp_attr_set(ACT_BADARCH)", rc);
    rc = seccomp_arch_exist(ctx.get(), SCMP_ARCH_NATIVE);
    if (rc < 0) fail("seccomp_arch_exist(native)", rc);
    for (const SyscallRule& rule : rules) add_rule(ctx.get(), rule);

    // Logged before the load: after it, even the log sink's calls are filtered.
    log_info("seccomp: loading %zu rules, mode %s", rules.size(), sandbox_mode_name(mode));
    rc = seccomp_load(ctx.get());
    if (rc < 0) fail("seccomp_load", rc);
}

}  // namespace sipmasq
